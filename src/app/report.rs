//! `syncdesk report`: the sync dashboard and the Restock metrics for a period, as a Markdown page.

use std::fmt::Write as _;

use serde::Serialize;

use super::{App, Result};
use crate::domain::time::{Millis, now_ms, to_rfc3339};
use crate::store::console::{WorkflowMetrics, workflow_metrics};
use crate::store::report::{SyncMetrics, sync_metrics};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub period: String,
    pub from: String,
    pub to: String,
    pub sync: SyncMetrics,
    pub workflow: WorkflowMetrics,
    /// Status id → name, for the per-status figures.
    pub status_names: Vec<(i64, String)>,
}

/// The sync-log fields a channel's status push is recorded under.
fn channel_status_fields() -> Vec<String> {
    crate::integrations::REGISTRY
        .iter()
        .filter(|i| i.channel.is_some())
        .map(|i| format!("{}.status", i.name))
        .collect()
}

impl App {
    pub fn report(&mut self, period_name: &str, period_ms: Millis) -> Result<Report> {
        let now = now_ms();
        let since = now - period_ms;
        let names = self
            .workflow()
            .statuses()
            .iter()
            .map(|s| (s.id, s.name.clone()))
            .collect();
        self.store.snapshot(|tx| {
            Ok(Report {
                period: period_name.to_string(),
                from: to_rfc3339(since),
                to: to_rfc3339(now),
                sync: sync_metrics(tx, since, &channel_status_fields())?,
                workflow: workflow_metrics(tx, since)?,
                status_names: names,
            })
        })
    }
}

fn pct(part: i64, whole: i64) -> String {
    if whole == 0 {
        "—".into()
    } else {
        format!("{:.1}%", 100.0 * part as f64 / whole as f64)
    }
}

fn duration(ms: Option<f64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) if ms < 60_000.0 => format!("{:.1} s", ms / 1000.0),
        Some(ms) if ms < 3_600_000.0 => format!("{:.1} min", ms / 60_000.0),
        Some(ms) => format!("{:.1} h", ms / 3_600_000.0),
    }
}

impl Report {
    /// The report as Markdown (targets from the shop's sync spec in brackets).
    pub fn markdown(&self) -> String {
        let (s, w) = (&self.sync, &self.workflow);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# syncdesk {} report\n\n{} — {}\n",
            self.period, self.from, self.to
        );
        let _ = writeln!(out, "## Sync\n\n| metric | value | target |\n|---|---|---|");
        let _ = writeln!(
            out,
            "| sync latency (shipment → store) | avg {}, max {} over {} pushes | < 5 min |",
            duration(s.fulfilment_latency_avg_ms),
            duration(s.fulfilment_latency_max_ms.map(|v| v as f64)),
            s.fulfilment_pushes
        );
        let coverage = s
            .pos_items
            .map(|n| pct(s.aligned, n))
            .unwrap_or_else(|| "— (no full stock pass yet)".into());
        let _ = writeln!(
            out,
            "| alignment coverage | {coverage} ({} aligned) | > 95% |",
            s.aligned
        );
        let _ = writeln!(
            out,
            "| conflicts | {} detected, {} open | < 5 / day |",
            s.conflicts_detected, s.conflicts_open
        );
        let _ = writeln!(
            out,
            "| sync success rate | {} ({} done, {} dead) | > 99% |",
            pct(s.jobs_done, s.jobs_done + s.jobs_dead),
            s.jobs_done,
            s.jobs_dead
        );
        let _ = writeln!(
            out,
            "| inventory accuracy | {} of {} pairs agree | > 98% |",
            pct(s.pairs_in_agreement, s.pairs_passed),
            s.pairs_passed
        );
        let _ = writeln!(out, "| stock changes written | {} | |", s.stock_changes);
        let _ = writeln!(
            out,
            "\n## Orders (Restock)\n\n| metric | value |\n|---|---|"
        );
        let _ = writeln!(out, "| orders created | {} |", w.orders);
        let _ = writeln!(
            out,
            "| average time Pending → Shipped | {} ({} orders) |",
            duration(w.avg_to_shipped_ms),
            w.shipped_orders
        );
        let _ = writeln!(
            out,
            "| backorder frequency | {} ({} orders) |",
            pct(w.backordered_orders, w.orders),
            w.backordered_orders
        );
        let _ = writeln!(
            out,
            "| completion rate | {} ({} completed, {} cancelled) |",
            pct(w.completed, w.completed + w.cancelled),
            w.completed,
            w.cancelled
        );
        let _ = writeln!(
            out,
            "\n### Changes per operator\n\n| operator | status changes |\n|---|---|"
        );
        for (who, n) in &w.changes_by_operator {
            let _ = writeln!(out, "| {who} | {n} |");
        }
        let _ = writeln!(
            out,
            "\n### Time spent in each status\n\n| status | average | stays |\n|---|---|---|"
        );
        for (id, ms, n) in &w.avg_time_in_status {
            let name = self
                .status_names
                .iter()
                .find(|(s, _)| s == id)
                .map(|(_, n)| n.as_str())
                .unwrap_or("?");
            let _ = writeln!(out, "| {name} | {} | {n} |", duration(Some(*ms)));
        }
        out
    }
}
