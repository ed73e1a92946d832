//! The ERP (Metakocka) from the command line: `sync run erp [--order N]` pulls sales orders entered in
//! Metakocka, `orders unsynced` lists orders linked on one side only, and `check` proves the connection.

use super::{CliResult, Context, Failure, output};
use crate::app::App;
use crate::config::Config;
use crate::integrations::metakocka::flows as metakocka_flows;

fn enabled(config: &Config) -> Result<(), Failure> {
    if config.metakocka.enabled {
        Ok(())
    } else {
        Err(Failure::rejected(
            "metakocka is not enabled: set [metakocka] enabled = true, company_id, secret_key and warehouse",
        ))
    }
}

/// `sync run erp`: one pull now (every sales order, or only `order`: an mk_id, number or buyer_order).
pub fn pull(context: &Context, order: Option<&str>, dry_run: bool, json: bool) -> CliResult {
    let config = context.config()?;
    enabled(&config)?;
    let client =
        metakocka_flows::client(&config.metakocka).map_err(|e| Failure::rejected(e.to_string()))?;
    let ctx = super::sync::foreground(context, config)?;
    let outcomes = super::sync::runtime()?
        .block_on(metakocka_flows::pull(&client, &ctx, order, dry_run))
        .map_err(|e| {
            if e.is_retryable() {
                Failure::failed(e.message)
            } else {
                Failure::rejected(e.message)
            }
        })?;
    super::sync::print_imports(&outcomes, dry_run, json, "Metakocka ", "sales order(s)")
}

/// `orders unsynced`: ours that should be in Metakocka and are not linked there (refused, failed, never
/// sent), and Metakocka's sales orders linked to no syncdesk order (read live).
pub fn unsynced(context: &Context, app: &mut App, json: bool) -> CliResult {
    let config = app.config().clone();
    enabled(&config)?;
    let ours = app.orders_missing_in_metakocka()?;
    let client =
        metakocka_flows::client(&config.metakocka).map_err(|e| Failure::rejected(e.to_string()))?;
    let ctx = super::sync::foreground(context, config)?;
    let theirs = super::sync::runtime()?
        .block_on(metakocka_flows::missing_in_syncdesk(&client, &ctx))
        .map_err(|e| Failure::failed(e.message))?;
    if json {
        return output::json(
            &serde_json::json!({ "not_in_metakocka": ours, "not_in_syncdesk": theirs }),
        );
    }
    println!("Not in Metakocka ({}):", ours.len());
    output::table(
        &["NUMBER", "CHANNEL", "STATUS", "WHY"],
        ours.iter()
            .map(|o| {
                vec![
                    o.number.clone(),
                    o.channel.clone(),
                    o.status.clone(),
                    o.reason.clone(),
                ]
            })
            .collect(),
    );
    println!("Not in syncdesk ({}):", theirs.len());
    output::table(
        &["MK_ID", "NUMBER", "CUSTOMER", "STATUS", "WHY"],
        theirs
            .iter()
            .map(|d| {
                vec![
                    d.mk_id.clone(),
                    d.number.clone(),
                    d.customer.clone(),
                    d.status_code.clone(),
                    d.reason.clone(),
                ]
            })
            .collect(),
    );
    Ok(())
}
