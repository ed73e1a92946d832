//! `syncdesk sync run marketplace` (pull Cartona orders, then push due statuses; a dry run shows, order by
//! order, what would be sent and which rule decides) and the Cartona line of `syncdesk check`.

use super::sync::{foreground, runtime};
use super::{CliResult, Context, Failure, output};
use crate::integrations::cartona::flows::{self as cartona_flows, PushItem};

pub fn run(context: &Context, dry_run: bool, json: bool) -> CliResult {
    let config = context.config()?;
    if !config.cartona.enabled {
        return Err(Failure::rejected(
            "cartona is not enabled: set [cartona] enabled = true, base_url and token",
        ));
    }
    let client =
        cartona_flows::client(&config.cartona).map_err(|e| Failure::rejected(e.to_string()))?;
    let ctx = foreground(context, config)?;
    let rt = runtime()?;
    let pulled = rt
        .block_on(cartona_flows::pull(&client, &ctx, dry_run))
        .map_err(|e| Failure::failed(e.message))?;
    let pushed = rt
        .block_on(cartona_flows::push_pass(&client, &ctx, None, dry_run))
        .map_err(|e| Failure::failed(e.message))?;
    let failed = pushed.failed().count();
    if json {
        output::json(&serde_json::json!({
            "dry_run": dry_run,
            "pulled": pulled.outcomes,
            "acknowledged": pulled.acknowledged,
            "pushes": pushed.items,
        }))?;
    } else {
        let verb = if dry_run { "would" } else { "did" };
        for o in &pulled.outcomes {
            let Some(line) = o.describe("cartona ") else {
                continue;
            };
            println!("{verb} {line}");
        }
        for item in &pushed.items {
            println!("{}", push_line(item));
        }
        println!(
            "{} order(s) pulled, {} push(es) looked at, {} bulk request(s), {failed} failed{}",
            pulled.outcomes.len(),
            pushed.items.len(),
            pushed.bulk_requests,
            if dry_run {
                " — dry run, nothing written or sent"
            } else {
                ""
            }
        );
    }
    if failed > 0 {
        return Err(Failure::failed(format!("{failed} push(es) failed")));
    }
    Ok(())
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
