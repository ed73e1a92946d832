//! `sync run marketplace`: pull Cartona orders, then push due statuses; a dry run shows, order by order,
//! what would be sent and which rule decides.

use serde_json::json;

use super::flows::{self, PushItem};
use crate::engine::JobContext;
use crate::engine::passes::{PassError, PassOptions, PassReport, dry_note};

pub(super) async fn run(ctx: JobContext, options: PassOptions) -> Result<PassReport, PassError> {
    let config = &ctx.config.cartona;
    if !config.enabled {
        return Err(PassError::rejected(
            "cartona is not enabled: set [cartona] enabled = true, base_url and token",
        ));
    }
    let dry_run = options.dry_run;
    let client = flows::client(config).map_err(PassError::rejected)?;
    let pulled = flows::pull(&client, &ctx, dry_run)
        .await
        .map_err(PassError::failed)?;
    let pushed = flows::push_pass(&client, &ctx, None, dry_run)
        .await
        .map_err(PassError::failed)?;
    let failed = pushed.failed().count();
    let verb = if dry_run { "would" } else { "did" };
    let mut lines: Vec<String> = pulled
        .outcomes
        .iter()
        .filter_map(|o| o.describe("cartona "))
        .map(|line| format!("{verb} {line}"))
        .collect();
    lines.extend(pushed.items.iter().map(push_line));
    lines.push(format!(
        "{} order(s) pulled, {} push(es) looked at, {} bulk request(s), {failed} failed{}",
        pulled.outcomes.len(),
        pushed.items.len(),
        pushed.bulk_requests,
        dry_note(dry_run, "written or sent")
    ));
    Ok(PassReport {
        json: json!({
            "dry_run": dry_run,
            "pulled": pulled.outcomes,
            "acknowledged": pulled.acknowledged,
            "pushes": pushed.items,
        }),
        lines,
        failed: (failed > 0).then(|| format!("{failed} push(es) failed")),
        failed_in_json: true,
    })
}

/// `1234 (Shipped, shipped, delivered_by=supplier): would send assigned_to_salesman — allowed`
fn push_line(item: &PushItem) -> String {
    let p = &item.plan;
    let mut sent = p.to_send().unwrap_or_default().to_string();
    if let Some(otp) = &p.retailer_otp {
        sent.push_str(&format!(" retailer_otp={otp}"));
    }
    if let Some(reason) = &p.cancellation_reason {
        sent.push_str(&format!(" cancellation_reason={reason}"));
    }
    let what = match item.result.as_str() {
        "would_send" => format!("would send {sent}"),
        "applied" => format!("sent {sent}"),
        "already" => "nothing to send (Cartona already shows it)".to_string(),
        "failed" => format!("FAILED {sent}"),
        "blocked" | "unmapped" => "nothing sent".to_string(),
        other => other.to_string(),
    };
    let mut line = format!(
        "{} ({}, {}, delivered_by={}): {what} — {}",
        p.number,
        p.status,
        p.delivery.as_str(),
        p.delivered_by.as_str(),
        p.verdict.rule()
    );
    if let Some(m) = &item.message {
        line.push_str(&format!(": {m}"));
    }
    line
}
