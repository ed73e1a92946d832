//! Sorted, filtered pages of the console's lists, and where one row sits in them. A list is a scope (FROM and
//! WHERE with named parameters), a sort expression and a unique key as the tie-break; a page is read by
//! offset along that order from whichever end is nearer (an index on the sort expression makes that a walk
//! over the rows skipped, never a sort of the whole table), and a row's rank lets the console keep the
//! cursor on the same row when the list around it changes (a filter cleared, rows added by someone else).

use rusqlite::types::{ToSql, Value};
use rusqlite::{Connection, OptionalExtension};

use super::Result;

/// One list as SQL fragments. `scope` is everything after FROM and always ends in a WHERE clause (`WHERE 1`
/// for none), `sort` an expression over it that is never NULL (rank compares row values), `key` the unique
/// row id (e.g. `a.id`).
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a> {
    pub scope: &'a str,
    pub sort: &'a str,
    pub key: &'a str,
    pub descending: bool,
}

/// Named parameters the scope uses (`:status`, `:phrase`…).
pub type Params<'a> = [(&'a str, &'a dyn ToSql)];

/// A panel's query as SQL: its scope (`table alias WHERE …`), sort expression, tie-breaking key, direction and
/// the values its scope binds.
pub struct Spec {
    pub scope: String,
    pub sort: &'static str,
    pub key: &'static str,
    pub descending: bool,
    pub params: Vec<(&'static str, Value)>,
}

/// A panel's query: it says its [`Spec`]; counting, paging and ranking are then the same for every panel.
pub trait Listed {
    fn spec(&self) -> Spec;

    /// Calls `f` with the listing and its bound parameters.
    fn with_listing<T>(&self, f: impl FnOnce(Listing<'_>, &Params<'_>) -> Result<T>) -> Result<T> {
        let spec = self.spec();
        let params: Vec<(&str, &dyn ToSql)> = spec
            .params
            .iter()
            .map(|(name, value)| (*name, value as &dyn ToSql))
            .collect();
        f(
            Listing {
                scope: &spec.scope,
                sort: spec.sort,
                key: spec.key,
                descending: spec.descending,
            },
            &params,
        )
    }

    /// How many rows the query holds.
    fn count(&self, conn: &Connection) -> Result<i64> {
        self.with_listing(|l, p| l.count(conn, p))
    }

    /// The keys of rows `offset..offset + limit` (`total` lets the far half be read from the end).
    fn page(
        &self,
        conn: &Connection,
        limit: i64,
        offset: i64,
        total: Option<i64>,
    ) -> Result<Vec<i64>> {
        self.with_listing(|l, p| l.page(conn, p, limit, offset, total))
    }

    /// The query's size and the keys of rows `offset..offset + limit`. A short list (a filter that matches
    /// little) is read once, in order, and answers both: counting it, then paging it, scanned twice.
    fn count_and_page(
        &self,
        conn: &Connection,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<i64>)> {
        const SHORT: i64 = 1_000;
        let head = self.page(conn, SHORT + 1, 0, None)?;
        if head.len() as i64 <= SHORT {
            let total = head.len() as i64;
            let page = head
                .into_iter()
                .skip(offset.max(0) as usize)
                .take(limit.max(0) as usize)
                .collect();
            return Ok((total, page));
        }
        let total = self.count(conn)?;
        Ok((total, self.page(conn, limit, offset, Some(total))?))
    }

    /// Where row `key` sits in the list, `None` when the query leaves it out.
    fn rank(&self, conn: &Connection, key: i64) -> Result<Option<i64>> {
        self.with_listing(|l, p| l.rank(conn, p, key))
    }
}

impl Listing<'_> {
    fn order(&self, reversed: bool) -> &'static str {
        if self.descending != reversed {
            "DESC"
        } else {
            "ASC"
        }
    }

    /// How many rows the list holds.
    pub fn count(&self, conn: &Connection, params: &Params<'_>) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.scope);
        Ok(conn.prepare_cached(&sql)?.query_row(params, |r| r.get(0))?)
    }

    /// The keys of rows `offset..offset + limit` in list order. With `total` known, a page past the middle
    /// is read backwards from the end, so the last page costs what the first does.
    pub fn page(
        &self,
        conn: &Connection,
        params: &Params<'_>,
        limit: i64,
        offset: i64,
        total: Option<i64>,
    ) -> Result<Vec<i64>> {
        let offset = offset.max(0);
        let (reversed, limit, skip) = match total {
            Some(total) if offset > total / 2 => {
                let end = (offset + limit).min(total);
                (true, (end - offset).max(0), total - end)
            }
            _ => (false, limit, offset),
        };
        let sql = format!(
            "SELECT {key} FROM {scope} ORDER BY {sort} {dir}, {key} {dir} LIMIT :limit OFFSET :offset",
            key = self.key,
            scope = self.scope,
            sort = self.sort,
            dir = self.order(reversed),
        );
        let mut all: Vec<(&str, &dyn ToSql)> = params.to_vec();
        all.push((":limit", &limit));
        all.push((":offset", &skip));
        let mut keys: Vec<i64> = conn
            .prepare_cached(&sql)?
            .query_map(all.as_slice(), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if reversed {
            keys.reverse();
        }
        Ok(keys)
    }

    /// Where the row `key` sits in the list (0 = first), or `None` when the list does not hold it.
    pub fn rank(&self, conn: &Connection, params: &Params<'_>, key: i64) -> Result<Option<i64>> {
        let mut all: Vec<(&str, &dyn ToSql)> = params.to_vec();
        all.push((":key", &key));
        let value: Option<rusqlite::types::Value> = conn
            .prepare_cached(&format!(
                "SELECT {sort} FROM {scope} AND {key} = :key",
                sort = self.sort,
                scope = self.scope,
                key = self.key
            ))?
            .query_row(all.as_slice(), |r| r.get(0))
            .optional()?;
        let Some(value) = value else {
            return Ok(None);
        };
        let before = if self.descending { ">" } else { "<" };
        let sql = format!(
            "SELECT COUNT(*) FROM {scope} AND ({sort}, {key}) {before} (:value, :key)",
            scope = self.scope,
            sort = self.sort,
            key = self.key,
        );
        all.push((":value", &value));
        Ok(Some(
            conn.prepare_cached(&sql)?
                .query_row(all.as_slice(), |r| r.get(0))?,
        ))
    }
}

/// `%text%` for a case-insensitive substring match with LIKE (`ESCAPE '\'`), wildcards matched literally.
/// SQLite's LIKE already ignores ASCII case (and its `lower()` lowers only ASCII), so columns are matched as
/// they are: wrapping them in `lower()` doubled the cost of a scan for no difference.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The trigram index's query for `text` (one phrase, quotes doubled), when it is long enough for trigrams.
pub fn trigram_phrase(text: &str) -> Option<String> {
    let text = text.trim();
    (text.chars().count() >= 3).then(|| format!("\"{}\"", text.replace('"', "\"\"")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, keep INTEGER NOT NULL);
             INSERT INTO t (id, name, keep) VALUES (1, 'b', 1), (2, 'a', 1), (3, 'b', 0), (4, 'c', 1), (5, 'a', 1);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn pages_from_either_end_and_ranks_agree() {
        let conn = db();
        for descending in [false, true] {
            let l = Listing {
                scope: "t WHERE keep = :keep",
                sort: "name",
                key: "id",
                descending,
            };
            let p: &Params = &[(":keep", &1)];
            let total = l.count(&conn, p).unwrap();
            assert_eq!(total, 4);
            let all = l.page(&conn, p, 10, 0, None).unwrap();
            let expected = if descending {
                vec![4, 1, 5, 2]
            } else {
                vec![2, 5, 1, 4]
            };
            assert_eq!(all, expected);
            for offset in 0..5 {
                for limit in 1..4 {
                    let from_end = l.page(&conn, p, limit, offset, Some(total)).unwrap();
                    let from_top = l.page(&conn, p, limit, offset, None).unwrap();
                    assert_eq!(from_end, from_top, "offset {offset} limit {limit}");
                }
            }
            for (i, key) in all.iter().enumerate() {
                assert_eq!(l.rank(&conn, p, *key).unwrap(), Some(i as i64));
            }
            assert_eq!(l.rank(&conn, p, 3).unwrap(), None, "out of scope");
        }
    }

    /// Rows of `t` whose `keep` is 1, by name.
    struct Kept;

    impl Listed for Kept {
        fn spec(&self) -> Spec {
            Spec {
                scope: "t WHERE keep = 1".into(),
                sort: "name",
                key: "id",
                descending: false,
                params: Vec::new(),
            }
        }
    }

    #[test]
    fn count_and_page_agrees_with_count_then_page_for_short_and_long_lists() {
        for n in [7i64, 2_500] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, keep INTEGER NOT NULL);")
                .unwrap();
            for i in 0..n {
                conn.execute(
                    "INSERT INTO t (name, keep) VALUES (?1, ?2)",
                    (format!("n{:05}", (i * 7919) % n), (i % 3 != 0) as i64),
                )
                .unwrap();
            }
            let total = Kept.count(&conn).unwrap();
            for (limit, offset) in [(5, 0), (5, 3), (40, total - 2), (10, total + 5)] {
                let (t, page) = Kept.count_and_page(&conn, limit, offset).unwrap();
                assert_eq!(t, total, "n={n}");
                assert_eq!(
                    page,
                    Kept.page(&conn, limit, offset, Some(total)).unwrap(),
                    "n={n} {limit}@{offset}"
                );
            }
        }
    }
}
