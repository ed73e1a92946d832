//! Availability and prices, read in keyset pages (`ITEM_NO > last … OFFSET 0 ROWS FETCH NEXT n ROWS ONLY`)
//! so no single response holds the whole catalogue and rows changing mid-read cannot shift a page boundary.

use chrono::NaiveDateTime;
use tiberius::Query;

use super::connection::{CounterpointClient, Result, with_connection};
use super::error::CounterpointError;
use super::rows;
use super::types::{ItemPrice, Page, StockLevel};

impl CounterpointClient {
    /// Every item's availability (`full`, or no `since`), or only items with an IM_INV row at a configured
    /// location maintained after `since`; each is QTY_AVAIL summed over all configured locations.
    pub async fn inventory(
        &self,
        full: bool,
        since: Option<NaiveDateTime>,
    ) -> Result<Vec<StockLevel>> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.inventory_page(full, since, &after).await?;
            out.extend(page.rows);
            match page.next_after {
                Some(next) => after = next,
                None => return Ok(out),
            }
        }
    }

    /// One page of `inventory`, starting after ITEM_NO `after` ('' for the first page).
    pub async fn inventory_page(
        &self,
        full: bool,
        since: Option<NaiveDateTime>,
        after: &str,
    ) -> Result<Page<StockLevel>> {
        let since = if full { None } else { since };
        let sql = match since {
            Some(_) => &self.sql.inventory_since,
            None => &self.sql.inventory_full,
        };
        let page_size = self.config.page_size;
        let rows = with_connection!(self, "inventory", |conn| async {
            let mut query = Query::new(sql.as_str());
            query.bind(after);
            query.bind(i64::from(page_size));
            if let Some(since) = since {
                query.bind(since);
            }
            for location in &self.config.locations {
                query.bind(location.as_str());
            }
            query
                .query(conn)
                .await
                .map_err(CounterpointError::from_driver)?
                .into_first_result()
                .await
                .map_err(CounterpointError::from_driver)
        })?;
        let levels = rows
            .iter()
            .map(|row| {
                Ok(StockLevel {
                    item_no: rows::required_text(row, "ITEM_NO")?,
                    qty_avail: rows::decimal(row, "QTY_AVAIL")?.unwrap_or_default(),
                    lst_maint_dt: rows::datetime(row, "LST_MAINT_DT")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(page(levels, page_size, |l| &l.item_no))
    }

    /// Prices for the configured price location: IM_PRC's REG_PRC and PRC_1 where the item has an IM_PRC row
    /// there, IM_ITEM's otherwise. With `since`, only items whose IM_PRC or IM_ITEM row changed after it.
    pub async fn prices(&self, since: Option<NaiveDateTime>) -> Result<Vec<ItemPrice>> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.prices_page(since, &after).await?;
            out.extend(page.rows);
            match page.next_after {
                Some(next) => after = next,
                None => return Ok(out),
            }
        }
    }

    /// One page of `prices`, starting after ITEM_NO `after` ('' for the first page).
    pub async fn prices_page(
        &self,
        since: Option<NaiveDateTime>,
        after: &str,
    ) -> Result<Page<ItemPrice>> {
        let sql = match since {
            Some(_) => &self.sql.prices_since,
            None => &self.sql.prices_full,
        };
        let page_size = self.config.page_size;
        let rows = with_connection!(self, "prices", |conn| async {
            let mut query = Query::new(sql.as_str());
            query.bind(after);
            query.bind(i64::from(page_size));
            query.bind(self.config.price_location.as_str());
            if let Some(since) = since {
                query.bind(since);
            }
            query
                .query(conn)
                .await
                .map_err(CounterpointError::from_driver)?
                .into_first_result()
                .await
                .map_err(CounterpointError::from_driver)
        })?;
        let prices = rows
            .iter()
            .map(|row| {
                let from_price_table = rows::text(row, "PRC_ITEM_NO")?.is_some();
                let item_maint = rows::datetime(row, "ITEM_MAINT_DT")?;
                let (reg_prc, prc_1, lst_maint_dt) = if from_price_table {
                    let price_maint = rows::datetime(row, "PRC_MAINT_DT")?;
                    (
                        rows::decimal(row, "PRC_REG_PRC")?,
                        rows::decimal(row, "PRC_PRC_1")?,
                        price_maint.max(item_maint),
                    )
                } else {
                    (
                        rows::decimal(row, "ITEM_REG_PRC")?,
                        rows::decimal(row, "ITEM_PRC_1")?,
                        item_maint,
                    )
                };
                Ok(ItemPrice {
                    item_no: rows::required_text(row, "ITEM_NO")?,
                    reg_prc,
                    prc_1,
                    from_price_table,
                    lst_maint_dt,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(page(prices, page_size, |p| &p.item_no))
    }
}

/// A full page may have a successor; a short one is the last.
fn page<T>(rows: Vec<T>, page_size: u32, key: impl Fn(&T) -> &String) -> Page<T> {
    let next_after = if rows.len() >= page_size as usize {
        rows.last().map(|r| key(r).clone())
    } else {
        None
    };
    Page { rows, next_after }
}
