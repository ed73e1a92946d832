//! Where the Conflicts panel gets its rows. The stock-conflict table does not exist yet, so the only source
//! today says so; the stock sync will implement [`ConflictSource`] over its own table.

use crate::app::App;

/// One stock or price disagreement as the panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRow {
    pub kind: String,
    pub sku: String,
    pub pos_value: String,
    pub store_value: String,
    pub base: String,
    pub proposed: String,
    pub detected_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConflictsView {
    /// Nothing can conflict yet; the text says why.
    Unavailable(String),
    Rows(Vec<ConflictRow>),
}

pub trait ConflictSource {
    fn page(&mut self, app: &mut App, limit: i64, offset: i64) -> ConflictsView;
}

/// The source used until the stock sync exists.
pub struct NoStockSync;

impl ConflictSource for NoStockSync {
    fn page(&mut self, _app: &mut App, _limit: i64, _offset: i64) -> ConflictsView {
        ConflictsView::Unavailable(
            "No stock sync configured: conflicts appear here once stock sync between the POS and the store \
             runs (resolution by policy or by hand will be offered then)."
                .into(),
        )
    }
}
