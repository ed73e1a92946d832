//! Metakocka as the back office, on the outbox side: which status changes must reach the ERP (as one job
//! per order, enqueued in the caller's transaction), and which orders should be there but are not linked.
//! The job itself (availability, reservation, updates) lives in `flows`.

use rusqlite::Connection;
use serde::Serialize;

use super::{SYNC_ORDER, SYSTEM};
use crate::app::{App, Result};
use crate::config::Config;
use crate::domain::LinkState;
use crate::engine::passes::PassError;
use crate::integrations::{Outbound, StatusEntered};
use crate::store::back_office::{self as rows, UnlinkedOrder};
use crate::store::{StoreError, links, orders};

/// A link's external id before Metakocka's id is known: our order number, which Metakocka stores as
/// `buyer_order` and can look the document up by.
pub const PENDING_PREFIX: &str = "buyer_order:";

/// True when the link does not name a Metakocka document yet.
pub fn is_pending(link: &links::Link) -> bool {
    link.external_id.starts_with(PENDING_PREFIX)
}

/// What `status` being entered means for Metakocka. Changes that came from Metakocka are not sent back;
/// an unmapped status sends nothing and says why on the link.
pub(super) fn on_status(
    conn: &Connection,
    config: &Config,
    event: &StatusEntered,
) -> Result<Outbound, StoreError> {
    let mk = &config.metakocka;
    if !mk.enabled || event.source == SYSTEM {
        return Ok(Outbound::Nothing);
    }
    let status = event.status;
    // A pending link in `sending` may already have a document (an unanswered put_document): treat it as there.
    let in_metakocka = event
        .own_link
        .filter(|l| !is_pending(l) || l.sync_state == LinkState::Sending);
    let wanted = match in_metakocka {
        Some(_) => match mk.outbound(&status.name) {
            Some(_) => true,
            None => {
                return Ok(Outbound::Skip {
                    state: LinkState::Unmapped,
                    reason: format!(
                        "status {} has no metakocka mapping (metakocka.status_out); nothing sent",
                        status.name
                    ),
                });
            }
        },
        None => {
            let channel = orders::get(conn, event.order_id)?
                .map(|o| o.channel)
                .unwrap_or_default();
            status.name.eq_ignore_ascii_case(&mk.create_on)
                && mk.channels.iter().any(|c| c.eq_ignore_ascii_case(&channel))
        }
    };
    Ok(match wanted {
        true => Outbound::Job {
            kind: SYNC_ORDER,
            key: Some(format!("order:{}", event.order_id)),
            payload: serde_json::json!({ "order_id": event.order_id }),
        },
        false => Outbound::Nothing,
    })
}

/// An order that should be in Metakocka and is not, as `orders unsynced` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnsyncedOrder {
    pub number: String,
    pub channel: String,
    pub status: String,
    /// Why it is not there: the link's message, or that it was never sent.
    pub reason: String,
}

impl App {
    /// Orders that entered `metakocka.create_on` from one of `metakocka.channels` but have no Metakocka
    /// sales order linked (refused, failed, still sending, or never sent).
    pub fn orders_missing_in_metakocka(&mut self) -> Result<Vec<UnsyncedOrder>> {
        let mk = &self.config().metakocka.clone();
        let create_on = self.workflow().by_name(&mk.create_on)?.id;
        let workflow = self.workflow().clone();
        let found: Vec<UnlinkedOrder> = rows::unlinked_orders(
            self.store().conn(),
            SYSTEM,
            &mk.channels,
            create_on,
            PENDING_PREFIX,
        )?;
        Ok(found
            .into_iter()
            .map(|o| UnsyncedOrder {
                status: workflow
                    .get(o.status_id)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                reason: match (o.sync_state.as_deref(), o.last_error) {
                    (Some(state), Some(error)) => format!("{state}: {error}"),
                    (Some(state), None) => state.to_string(),
                    (None, _) => "not sent yet".to_string(),
                },
                number: o.number,
                channel: o.channel,
            })
            .collect())
    }
}

/// Orders linked on one side only: ours that should be in Metakocka and are not, and Metakocka's sales
/// orders linked to no syncdesk order (read live).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsynced {
    pub not_in_metakocka: Vec<UnsyncedOrder>,
    pub not_in_syncdesk: Vec<super::flows::MissingDocument>,
}

impl Unsynced {
    /// Ours that should be in the ERP and are not.
    pub fn not_in_erp(&self) -> &[UnsyncedOrder] {
        &self.not_in_metakocka
    }

    /// How an operator calls the ERP, for headings.
    pub fn erp_title(&self) -> &'static str {
        super::INTEGRATION.title
    }
}

impl App {
    /// `orders unsynced`: both sides of what Metakocka and syncdesk do not share.
    pub async fn orders_unsynced(&mut self) -> Result<Unsynced, PassError> {
        let config = self.config().metakocka.clone();
        if !config.enabled {
            return Err(PassError::rejected(
                "metakocka is not enabled: set [metakocka] enabled = true, company_id, secret_key and warehouse",
            ));
        }
        let ours = self
            .orders_missing_in_metakocka()
            .map_err(|e| PassError::rejected(e.to_string()))?;
        let client = super::client(&config).map_err(PassError::rejected)?;
        let ctx = self.job_context().map_err(PassError::rejected)?;
        let theirs = super::flows::missing_in_syncdesk(&client, &ctx)
            .await
            .map_err(PassError::failed)?;
        Ok(Unsynced {
            not_in_metakocka: ours,
            not_in_syncdesk: theirs,
        })
    }
}
