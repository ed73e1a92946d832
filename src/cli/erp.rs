//! `orders unsynced`: orders linked on one side only between syncdesk and the ERP.

use super::{CliResult, output};
use crate::app::App;

/// Ours that should be in the ERP and are not linked there (refused, failed, never sent), and the ERP's
/// sales orders linked to no syncdesk order (read live).
pub fn unsynced(app: &mut App, json: bool) -> CliResult {
    let found = super::sync::runtime()?.block_on(app.orders_unsynced())?;
    if json {
        return output::json(&found);
    }
    let (ours, theirs) = (found.not_in_erp(), &found.not_in_syncdesk);
    output::outln!("Not in {} ({}):", found.erp_title(), ours.len())?;
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
    )?;
    output::outln!("Not in syncdesk ({}):", theirs.len())?;
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
    )?;
    Ok(())
}
