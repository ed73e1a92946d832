//! Metakocka as a stock pass's POS side: `warehouse_stock`'s free amount in the configured warehouse. It has
//! no change watermark, so an incremental pass names the product codes to re-read (its stock webhook hints
//! which). Web orders linked to its sales orders are counted once: reserved (or shipped) units are already
//! missing from the reading.

use rusqlite::Connection;
use rust_decimal::Decimal;

use super::client::{MetakockaClient, StockRow};
use super::outbound::PENDING_PREFIX;
use crate::config::Config;
use crate::domain::StatusKind;
use crate::domain::time::Millis;
use crate::engine::{BoxFuture, JobContext, JobError, job_error};
use crate::stock::{
    ItemPrices, MemoRows, OrderAccounting, PassMode, PosLevel, PosQuery, PosReading, PosSource,
    SourceMemo,
};
use crate::store::StoreError;
use crate::store::inventory::{self as stock_rows, LinkedWebOrder};

/// Product codes per `warehouse_stock` request of an incremental read.
const CODES_PER_READ: usize = 200;

pub struct MetakockaStock {
    pub client: MetakockaClient,
    /// The warehouse web orders reserve from (`metakocka.warehouse`).
    pub warehouse: String,
}

/// Builds the source from `[metakocka]` (the registry's stock-source entry).
pub fn build(config: &Config) -> Result<Box<dyn PosSource>, String> {
    super::flows::client(&config.metakocka)
        .map(|client| {
            Box::new(MetakockaStock {
                client,
                warehouse: config.metakocka.warehouse.trim().to_string(),
            }) as Box<dyn PosSource>
        })
        .map_err(|e| e.to_string())
}

impl PosSource for MetakockaStock {
    fn system(&self) -> &'static str {
        super::SYSTEM
    }

    fn label(&self) -> &'static str {
        super::INTEGRATION.title
    }

    fn memo_rows(&self) -> MemoRows {
        MemoRows {
            load: load_memo,
            remember: remember_mark,
        }
    }

    fn reads_by_item(&self) -> bool {
        true
    }

    fn read<'a>(
        &'a self,
        ctx: &'a JobContext,
        query: PosQuery<'a>,
    ) -> BoxFuture<'a, Result<PosReading, JobError>> {
        Box::pin(self.read_pass(ctx, query))
    }

    fn levels(&self) -> BoxFuture<'_, Result<Vec<PosLevel>, String>> {
        Box::pin(async move {
            let rows = self
                .client
                .warehouse_stock(std::slice::from_ref(&self.warehouse), &[])
                .await
                .map_err(|e| e.to_string())?;
            Ok(self.levels_of(&rows))
        })
    }

    fn prices(&self) -> BoxFuture<'_, Result<ItemPrices, String>> {
        Box::pin(async {
            Err("Metakocka's stock carries no prices: prices stay in the store".into())
        })
    }
}

impl MetakockaStock {
    async fn read_pass(
        &self,
        ctx: &JobContext,
        query: PosQuery<'_>,
    ) -> Result<PosReading, JobError> {
        let warehouses = std::slice::from_ref(&self.warehouse);
        let mut rows = Vec::new();
        match query.mode {
            PassMode::Full => {
                rows = self
                    .client
                    .warehouse_stock(warehouses, &[])
                    .await
                    .map_err(job_error)?
            }
            PassMode::Incremental => {
                for codes in query.wanted.chunks(CODES_PER_READ) {
                    let read = self.client.warehouse_stock(warehouses, codes).await;
                    rows.extend(read.map_err(job_error)?);
                }
            }
        }
        let reservations = rows
            .iter()
            .any(|r| r.free_amount.is_some() || r.reserved_amount.is_some());
        let orders = if rows.is_empty() {
            // Nothing read: what the orders did to the stock is counted with the next reading.
            OrderAccounting::default()
        } else {
            accounted_orders(ctx, &query.memo.linked, reservations)
        };
        Ok(PosReading {
            levels: self.levels_of(&rows),
            orders,
            ..Default::default()
        })
    }

    fn levels_of(&self, rows: &[StockRow]) -> Vec<PosLevel> {
        rows.iter()
            .filter(|r| r.warehouse_id == self.warehouse)
            .map(level)
            .collect()
    }
}

/// A stock row as a POS level: its product code (`code`, or `count_code` on older rows) and what it can
/// still sell.
fn level(row: &StockRow) -> PosLevel {
    let code = if row.code.is_empty() {
        &row.count_code
    } else {
        &row.code
    };
    PosLevel {
        item_no: code.clone(),
        qty_avail: Decimal::from_f64_retain(sellable(row)).unwrap_or_default(),
    }
}

/// What Metakocka can still sell: the free amount (on hand less what open sales orders reserve). On-hand
/// would offer the store units already promised to other orders (B2B, Metakocka-entered) and oversell;
/// without reservations the company reports only `amount`, which is then the sellable stock.
fn sellable(row: &StockRow) -> f64 {
    row.free_amount
        .unwrap_or_else(|| row.amount - row.reserved_amount.unwrap_or(0.0))
}

/// Splits the web orders linked to Metakocka sales orders into those whose units the reading already lacks
/// (absorbed: counted back once by the merge, as the store counted the sale) and those cancelled before any
/// pass counted them (passed over), and counted ones whose cancellation Metakocka has applied (released).
/// With reservations a sales order lowers the free amount as soon as it exists; without, only its shipment
/// lowers the amount. Orders in no group wait for a later pass.
fn accounted_orders(
    ctx: &JobContext,
    orders: &[LinkedWebOrder],
    reservations: bool,
) -> OrderAccounting {
    let workflow = ctx.config.statuses.to_workflow().ok();
    let remote_kind = |code: &str| {
        let name = ctx.config.metakocka.inbound(code)?;
        workflow.as_ref()?.by_name(name).ok().map(|s| s.kind)
    };
    let mut accounting = OrderAccounting::default();
    for o in orders {
        let remote = o.remote_status.as_deref().and_then(remote_kind);
        if o.counted {
            // Listed again only once cancelled here; its units are back in the reading when Metakocka
            // released the reservation (without reservations only a shipment was counted: nothing returns).
            if reservations && remote == Some(StatusKind::Cancelled) {
                accounting.released.push((o.order_id, o.lines.clone()));
            }
            continue;
        }
        let cancelled = StatusKind::parse(&o.status_kind) == Some(StatusKind::Cancelled)
            || remote == Some(StatusKind::Cancelled);
        let shipped = matches!(remote, Some(StatusKind::Shipped | StatusKind::Completed));
        if cancelled {
            // The sale came back in the store and the reservation is (or will be) released: net nothing.
            accounting.passed_over.push(o.order_id);
        } else if reservations || shipped {
            accounting.absorbed.push(o.order_id);
        }
    }
    accounting
}

/// Read before Metakocka's stock: an order linked after this read is counted on the next pass.
fn load_memo(conn: &Connection, channel: &str) -> Result<SourceMemo, StoreError> {
    Ok(SourceMemo {
        linked: stock_rows::linked_web_orders(conn, super::SYSTEM, channel, PENDING_PREFIX)?,
        ..Default::default()
    })
}

fn remember_mark(_tx: &Connection, _mark: &str, _now: Millis) -> Result<(), StoreError> {
    Ok(())
}
