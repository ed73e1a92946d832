//! The closing summary of a demo run.

use super::{Narrated, Tally};
use crate::app::App;

/// The closing summary: what the traffic did and where the shop stands.
pub fn summary(
    app: &mut App,
    tally: &Tally,
    narrated: &Narrated,
    mails: usize,
) -> Result<String, crate::app::AppError> {
    let mut out = String::from("summary\n");
    out.push_str(&format!(
        "  traffic: {} web orders, {} in-store sales, {} documents taken in and {} shipped by Counterpoint, {} store outage{}\n",
        tally.web_orders,
        tally.store_sales,
        tally.documents,
        tally.shipped,
        tally.outages,
        if tally.outages == 1 { "" } else { "s" }
    ));
    let statuses: Vec<String> = crate::demo::seed::orders_by_status(app)?
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    out.push_str(&format!("  orders: {}\n", statuses.join(", ")));
    let marketplace = app
        .list_orders(None, true, None, i64::MAX, 0)?
        .iter()
        .chain(&app.list_orders(None, false, None, i64::MAX, 0)?)
        .filter(|o| o.channel == crate::integrations::cartona::outbound::SYSTEM)
        .count();
    out.push_str(&format!(
        "  cartona: {marketplace} marketplace orders imported ({} placed during the run); {} moved on by the \
         warehouse: {} pushed to Cartona, {} not pushed (delivered_by=marketplace), {} refused\n",
        tally.marketplace_orders,
        tally.warehouse_moves,
        narrated.cartona_pushed,
        narrated.cartona_blocked,
        narrated.cartona_failed,
    ));
    let jobs: Vec<String> = app
        .job_counts()?
        .into_iter()
        .map(|(state, n)| format!("{} {n}", state.as_str()))
        .collect();
    out.push_str(&format!("  jobs: {}\n", jobs.join(", ")));
    out.push_str(&format!(
        "  open stock conflicts: {}; e-mails sent: {mails}",
        app.stock_conflicts(false, 10_000)?.len()
    ));
    Ok(out)
}
