//! The backorder notice: when an order enters a backorder status, purchasing gets an e-mail listing what
//! the order still needs. Sent by a job, so a mail server outage delays the notice but never loses it.

use super::handler::job_payload;
use serde::Deserialize;

use super::handler::{BoxFuture, JobContext, JobError, JobHandler};
use crate::config::EmailConfig;
use crate::connectors::email::{MailError, Mailer};
use crate::store::{Job, orders};

pub struct BackorderEmail {
    mailer: Result<Mailer, String>,
    recipients: Vec<String>,
}

#[derive(Deserialize)]
struct Payload {
    order_id: i64,
}

impl BackorderEmail {
    pub fn new(cfg: &EmailConfig) -> Self {
        BackorderEmail {
            mailer: Mailer::new(cfg).map_err(|e| e.to_string()),
            recipients: cfg.purchasing.clone(),
        }
    }

    async fn send(&self, job: &Job, ctx: &JobContext) -> Result<(), JobError> {
        let payload: Payload = job_payload(job)?;
        let mailer = self
            .mailer
            .as_ref()
            .map_err(|e| JobError::permanent(e.clone()))?;
        let (subject, body) = ctx
            .with_store(move |store| {
                let conn = store.conn();
                let order = orders::get(conn, payload.order_id)
                    .map_err(|e| JobError::retry(e.to_string()))?
                    .ok_or_else(|| {
                        JobError::permanent(format!(
                            "order id {} no longer exists",
                            payload.order_id
                        ))
                    })?;
                let lines =
                    orders::lines(conn, order.id).map_err(|e| JobError::retry(e.to_string()))?;
                Ok(compose(&order.number, order.customer.as_deref(), &lines))
            })
            .await?;
        mailer
            .send(&self.recipients, &subject, body)
            .await
            .map_err(|e| match e {
                MailError::Unavailable(_) => JobError::retry(e.to_string()),
                _ => JobError::permanent(e.to_string()),
            })
    }
}

impl JobHandler for BackorderEmail {
    fn run<'a>(&'a self, job: &'a Job, ctx: &'a JobContext) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.send(job, ctx))
    }
}

/// Subject and plain-text body of the notice.
pub fn compose(
    number: &str,
    customer: Option<&str>,
    lines: &[orders::OrderLine],
) -> (String, String) {
    let subject = format!("Backorder: order {number} needs purchasing");
    let mut body = format!(
        "Order {number}{} is on backorder.\nThese items need to be purchased:\n\n",
        customer.map(|c| format!(" for {c}")).unwrap_or_default()
    );
    body.push_str(&format!(
        "{:<24} {:>8} {:>8} {:>8}\n",
        "SKU", "ordered", "shipped", "needed"
    ));
    for l in lines {
        body.push_str(&format!(
            "{:<24} {:>8} {:>8} {:>8}\n",
            l.sku,
            l.quantity,
            l.quantity_shipped,
            (l.quantity - l.quantity_shipped).max(0)
        ));
    }
    body.push_str(
        "\nSent by syncdesk. Move the order back to Processing once the stock has arrived.\n",
    );
    (subject, body)
}
