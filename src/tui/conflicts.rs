//! Where the Conflicts panel gets its rows: open stock conflicts from the store, or an explanation when stock
//! sync is not configured. Behind a trait so a test (or another conflict kind) can supply its own rows.

use crate::app::App;
use crate::domain::inventory::ConflictKind;
use crate::store::inventory::StockConflict;
use crate::store::panels::ConflictQuery;

/// One stock or price disagreement as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    pub id: i64,
    pub kind: String,
    pub sku: String,
    /// The product's name, where the database has one.
    pub name: Option<String>,
    pub pos_value: String,
    pub store_value: String,
    pub base: String,
    /// What merging both sides' changes gives ("—" when it cannot be computed).
    pub merged: String,
    pub proposed: String,
    pub detail: String,
    pub detected_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictsView {
    /// Nothing can conflict (or the rows cannot be read); the text says why.
    Unavailable(String),
    /// A page of rows and how many the query holds.
    Rows(Vec<ConflictRow>, i64),
}

pub trait ConflictSource {
    fn page(
        &mut self,
        app: &mut App,
        query: &ConflictQuery,
        limit: i64,
        offset: i64,
    ) -> ConflictsView;
}

/// Open conflicts from the stock sync's table.
pub struct StockConflicts;

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "—".into())
}

fn number(v: Option<i64>) -> String {
    v.map_or_else(|| "—".into(), |n| n.to_string())
}

impl ConflictRow {
    /// A price_drift: settled by a price (POS or store), never by a quantity.
    pub fn is_price(&self) -> bool {
        self.kind == ConflictKind::PriceDrift.as_str()
    }
}

impl From<StockConflict> for ConflictRow {
    fn from(c: StockConflict) -> Self {
        ConflictRow {
            id: c.id,
            name: None,
            proposed: c.proposal().unwrap_or_else(|| "manual".into()),
            kind: c.kind,
            sku: c.sku,
            pos_value: text(&c.pos_value),
            store_value: text(&c.store_value),
            base: number(c.base),
            merged: number(c.merged),
            detail: c.detail,
            detected_at: c.detected_at,
        }
    }
}

impl ConflictSource for StockConflicts {
    fn page(
        &mut self,
        app: &mut App,
        query: &ConflictQuery,
        limit: i64,
        offset: i64,
    ) -> ConflictsView {
        match app.conflicts_panel(query, limit, offset) {
            Ok(page)
                if page.total == 0 && query.filter.is_none() && !app.config().stock.enabled =>
            {
                ConflictsView::Unavailable(
                    "No stock sync configured ([stock] enabled = false): conflicts appear here once stock sync \
                     between the POS and the store runs."
                        .into(),
                )
            }
            Ok(page) => ConflictsView::Rows(
                page.rows
                    .into_iter()
                    .map(|(c, name)| ConflictRow {
                        name,
                        ..ConflictRow::from(c)
                    })
                    .collect(),
                page.total,
            ),
            Err(e) => ConflictsView::Unavailable(format!("cannot read conflicts: {e}")),
        }
    }
}
