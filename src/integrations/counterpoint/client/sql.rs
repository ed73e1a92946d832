//! Every statement the connector sends, built once from the validated configuration. Only identifiers from
//! the configuration are spliced in (checked by `config::is_identifier`); every value is a `@Pn` parameter.

use super::config::{CounterpointConfig, FulfilmentSignal};

/// Rows per multi-row INSERT: 4 parameters each keeps a request far below SQL Server's 2,100 parameters.
pub(super) const LINES_PER_INSERT: usize = 250;
/// Keys per `IN (…)` list, for the same limit.
pub(super) const KEYS_PER_QUERY: usize = 1000;

/// `@Pfirst, …, @P(first+count-1)`.
pub(super) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("@P{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A text parameter as varchar: tiberius sends strings as nvarchar, and comparing a varchar key column with
/// nvarchar converts the column under SQL collations, turning index seeks into scans.
pub(super) fn varchar(param: &str) -> String {
    format!("CAST({param} AS VARCHAR(8000))")
}

/// `varchar(@Pfirst), …`.
pub(super) fn varchar_placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| varchar(&format!("@P{n}")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone)]
pub(super) struct Statements {
    pub begin: String,
    pub staged_row_locked: String,
    pub insert_staged: String,
    /// Needs `insert_staged_lines_values(n)` appended.
    pub insert_staged_lines_head: String,
    pub commit: String,
    pub rollback: String,
    /// Needs `(… IN list)` via `staging_status(n)`.
    staging: String,
    pub open_changes: String,
    pub posted_changes: String,
    doc_header: String,
    history_header: String,
    /// Inventory: `(full, incremental)` variants; locations are `@P4…` (full) / `@P4…` (incremental).
    pub inventory_full: String,
    pub inventory_since: String,
    pub prices_full: String,
    pub prices_since: String,
    /// `SELECT TOP (0) <every column used> FROM <table>` for each table: names a missing table (208) or
    /// column (207) without reading data.
    pub schema_probe: String,
}

impl Statements {
    pub fn new(c: &CounterpointConfig) -> Self {
        let t = &c.tables;
        let staging = t.staging.clone();
        let (open_changes, posted_changes) = document_changes(c);
        Statements {
            schema_probe: schema_probe(c),
            // XACT_ABORT: any run-time error rolls the whole transaction back on the server.
            begin: "SET XACT_ABORT ON; BEGIN TRANSACTION".into(),
            // UPDLOCK + HOLDLOCK keep the key range locked until COMMIT, so two stagers of the same order
            // queue up behind each other instead of both seeing "not there".
            staged_row_locked: format!(
                "SELECT WEB_ORDER_ID, STATUS, DOC_ID FROM {staging} WITH (UPDLOCK, HOLDLOCK) WHERE WEB_ORDER_ID = {id}",
                id = varchar("@P1")
            ),
            insert_staged: format!(
                "INSERT INTO {staging} (WEB_ORDER_ID, CUST_NO, SHIP_VIA_COD, CUST_PO_NO) VALUES (@P1, @P2, @P3, @P4)"
            ),
            insert_staged_lines_head: format!(
                "INSERT INTO {lines} (WEB_ORDER_ID, LIN_SEQ_NO, ITEM_NO, QTY, PRC) VALUES ",
                lines = t.staging_lines
            ),
            commit: "COMMIT TRANSACTION".into(),
            rollback: "ROLLBACK TRANSACTION".into(),
            staging,
            open_changes,
            posted_changes,
            doc_header: t.doc_header.clone(),
            history_header: t.history_header.clone(),
            inventory_full: inventory(c, false),
            inventory_since: inventory(c, true),
            prices_full: prices(c, false),
            prices_since: prices(c, true),
        }
    }

    /// `(@P1, @P2, @P3, @P4, @P5), …` for `lines` rows: @P1 is the web order id, then four per line.
    pub fn insert_staged_lines(&self, lines: usize) -> String {
        let rows: Vec<String> = (0..lines)
            .map(|i| {
                let p = 2 + i * 4;
                format!("(@P1, @P{}, @P{}, @P{}, @P{})", p, p + 1, p + 2, p + 3)
            })
            .collect();
        format!("{}{}", self.insert_staged_lines_head, rows.join(", "))
    }

    pub fn staging_status(&self, keys: usize) -> String {
        format!(
            "SELECT WEB_ORDER_ID, STATUS, DOC_ID, ERROR_MSG FROM {} WHERE WEB_ORDER_ID IN ({})",
            self.staging,
            varchar_placeholders(1, keys)
        )
    }

    /// Open and posted ids among `keys` DOC_IDs (the same parameters serve both halves).
    pub fn documents_state(&self, keys: usize) -> String {
        let list = placeholders(1, keys);
        format!(
            "SELECT DOC_ID, 'O' AS STATE FROM {} WHERE DOC_ID IN ({list}) \
             UNION ALL SELECT DOC_ID, 'P' AS STATE FROM {} WHERE DOC_ID IN ({list})",
            self.doc_header, self.history_header
        )
    }
}

/// The fulfilment pass's two reads of changed documents: `(open, posted)`. One row per line (header
/// columns repeated): one request reads headers and lines of every changed document, so a pass costs the
/// same number of requests however many documents are open. @P1 is the watermark.
fn document_changes(c: &CounterpointConfig) -> (String, String) {
    let t = &c.tables;
    let staging = &t.staging;
    let join_staging = if c.staged_documents_only {
        "JOIN"
    } else {
        "LEFT JOIN"
    };
    let tracking = match &c.tracking_column {
        Some(column) => format!("h.{column}"),
        None => "CAST(NULL AS VARCHAR(30))".to_string(),
    };
    let shipped_date = "h.SHIP_DAT IS NOT NULL";
    let shipped_lines = format!(
        "EXISTS (SELECT 1 FROM {lines} x WHERE x.DOC_ID = h.DOC_ID AND x.QTY_SHIPPED > 0)",
        lines = t.doc_lines
    );
    let signal = match c.fulfilment_signal {
        FulfilmentSignal::ShipDate => shipped_date.to_string(),
        FulfilmentSignal::LineQuantities => shipped_lines,
        FulfilmentSignal::Either => format!("({shipped_date} OR {shipped_lines})"),
        FulfilmentSignal::Both => format!("({shipped_date} AND {shipped_lines})"),
    };
    let open_changes = format!(
        "SELECT h.DOC_ID, h.SHIP_DAT, h.SHIP_VIA_COD, {tracking} AS TRACKING, h.LST_MAINT_DT, s.WEB_ORDER_ID, \
         l.LIN_SEQ_NO, l.ITEM_NO, l.QTY_SOLD, l.QTY_SHIPPED \
         FROM {hdr} h {join_staging} {staging} s ON s.DOC_ID = h.DOC_ID \
         LEFT JOIN {lin} l ON l.DOC_ID = h.DOC_ID \
         WHERE h.LST_MAINT_DT > @P1 AND {signal} \
         ORDER BY h.DOC_ID, l.LIN_SEQ_NO",
        hdr = t.doc_header,
        lin = t.doc_lines,
    );
    let posted_changes = format!(
        "SELECT h.DOC_ID, h.SHIP_DAT, h.SHIP_VIA_COD, {tracking} AS TRACKING, h.{maint} AS LST_MAINT_DT, \
         s.WEB_ORDER_ID, l.LIN_SEQ_NO, l.ITEM_NO, l.QTY_SOLD, l.{hist_shipped} AS QTY_SHIPPED \
         FROM {hist} h {join_staging} {staging} s ON s.DOC_ID = h.DOC_ID \
         LEFT JOIN {lin} l ON l.DOC_ID = h.DOC_ID \
         WHERE h.{maint} > @P1 \
         ORDER BY h.DOC_ID, l.LIN_SEQ_NO",
        hist = t.history_header,
        lin = t.history_lines,
        maint = c.history_maint_column,
        hist_shipped = c
            .history_qty_shipped_column
            .as_deref()
            .unwrap_or("QTY_SOLD"),
    );
    (open_changes, posted_changes)
}

/// `" AND i.IS_ECOMM_ITEM = 'Y'"` when only e-commerce items are synced.
fn ecommerce_filter(c: &CounterpointConfig) -> &'static str {
    if c.ecommerce_only {
        " AND i.IS_ECOMM_ITEM = 'Y'"
    } else {
        ""
    }
}

/// A page of stock levels summed over the configured locations; `since`: only items changed after the
/// watermark. @P1 the last ITEM_NO of the previous page ('' first), @P2 the page size, @P3 the watermark
/// (incremental only), then the locations.
fn inventory(c: &CounterpointConfig, since: bool) -> String {
    let t = &c.tables;
    let first_loc = if since { 4 } else { 3 };
    format!(
        "SELECT i.ITEM_NO, CAST(ISNULL(SUM(v.QTY_AVAIL), 0) AS DECIMAL(18,4)) AS QTY_AVAIL, \
         MAX(v.LST_MAINT_DT) AS LST_MAINT_DT \
         FROM {items} i LEFT JOIN {inv} v ON v.ITEM_NO = i.ITEM_NO AND v.LOC_ID IN ({locs}) \
         WHERE i.ITEM_NO > {after}{ecomm} \
         GROUP BY i.ITEM_NO{having} \
         ORDER BY i.ITEM_NO OFFSET 0 ROWS FETCH NEXT @P2 ROWS ONLY",
        items = t.items,
        inv = t.inventory,
        after = varchar("@P1"),
        ecomm = ecommerce_filter(c),
        locs = varchar_placeholders(first_loc, c.locations.len()),
        having = if since {
            " HAVING MAX(v.LST_MAINT_DT) > @P3"
        } else {
            ""
        },
    )
}

/// A page of prices (the location's price row and the item's own); `since`: only changed after the
/// watermark. @P1 last ITEM_NO, @P2 page size, @P3 price location, @P4 watermark (incremental only).
fn prices(c: &CounterpointConfig, since: bool) -> String {
    let t = &c.tables;
    format!(
        "SELECT i.ITEM_NO, p.ITEM_NO AS PRC_ITEM_NO, \
         CAST(p.REG_PRC AS DECIMAL(19,4)) AS PRC_REG_PRC, CAST(p.PRC_1 AS DECIMAL(19,4)) AS PRC_PRC_1, \
         p.LST_MAINT_DT AS PRC_MAINT_DT, \
         CAST(i.REG_PRC AS DECIMAL(19,4)) AS ITEM_REG_PRC, CAST(i.PRC_1 AS DECIMAL(19,4)) AS ITEM_PRC_1, \
         i.LST_MAINT_DT AS ITEM_MAINT_DT \
         FROM {items} i LEFT JOIN {prc} p ON p.ITEM_NO = i.ITEM_NO AND p.LOC_ID = {loc} \
         WHERE i.ITEM_NO > {after}{ecomm}{since} \
         ORDER BY i.ITEM_NO OFFSET 0 ROWS FETCH NEXT @P2 ROWS ONLY",
        items = t.items,
        prc = t.prices,
        after = varchar("@P1"),
        ecomm = ecommerce_filter(c),
        loc = varchar("@P3"),
        since = if since {
            " AND (p.LST_MAINT_DT > @P4 OR i.LST_MAINT_DT > @P4)"
        } else {
            ""
        },
    )
}

/// `SELECT TOP (0) <every column used> FROM <table>` for each table: names a missing table (208) or column
/// (207) without reading data.
fn schema_probe(c: &CounterpointConfig) -> String {
    let t = &c.tables;
    let tracking_col = c.tracking_column.iter().map(|col| format!(", {col}"));
    let tracking_cols: String = tracking_col.collect();
    let probes = [
        (
            &t.staging,
            "WEB_ORDER_ID, CUST_NO, SHIP_VIA_COD, CUST_PO_NO, STATUS, DOC_ID, ERROR_MSG"
                .to_string(),
        ),
        (
            &t.staging_lines,
            "WEB_ORDER_ID, LIN_SEQ_NO, ITEM_NO, QTY, PRC".to_string(),
        ),
        (
            &t.doc_header,
            format!("DOC_ID, SHIP_DAT, SHIP_VIA_COD, LST_MAINT_DT{tracking_cols}"),
        ),
        (
            &t.doc_lines,
            "DOC_ID, LIN_SEQ_NO, ITEM_NO, QTY_SOLD, QTY_SHIPPED".to_string(),
        ),
        (
            &t.history_header,
            format!(
                "DOC_ID, SHIP_DAT, SHIP_VIA_COD, {}{tracking_cols}",
                c.history_maint_column
            ),
        ),
        (
            &t.history_lines,
            format!(
                "DOC_ID, LIN_SEQ_NO, ITEM_NO, QTY_SOLD, {}",
                c.history_qty_shipped_column
                    .as_deref()
                    .unwrap_or("QTY_SOLD")
            ),
        ),
        (
            &t.inventory,
            "ITEM_NO, LOC_ID, QTY_AVAIL, LST_MAINT_DT".to_string(),
        ),
        (
            &t.items,
            "ITEM_NO, REG_PRC, PRC_1, IS_ECOMM_ITEM, LST_MAINT_DT".to_string(),
        ),
        (
            &t.prices,
            "ITEM_NO, LOC_ID, REG_PRC, PRC_1, LST_MAINT_DT".to_string(),
        ),
    ];
    probes
        .iter()
        .map(|(table, columns)| format!("SELECT TOP (0) {columns} FROM {table};"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_line_rows() {
        assert_eq!(placeholders(3, 2), "@P3, @P4");
        let s = Statements::new(&CounterpointConfig::default());
        assert!(
            s.insert_staged_lines(2)
                .ends_with("VALUES (@P1, @P2, @P3, @P4, @P5), (@P1, @P6, @P7, @P8, @P9)")
        );
        assert!(
            s.inventory_since
                .contains("IN (CAST(@P4 AS VARCHAR(8000)), CAST(@P5 AS VARCHAR(8000)))")
        );
        assert!(
            s.inventory_full
                .contains("IN (CAST(@P3 AS VARCHAR(8000)), CAST(@P4 AS VARCHAR(8000)))")
        );
    }
}
