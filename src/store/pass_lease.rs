//! Pass leases: one row per kind of pass ("stock") naming who runs it now and until when. Two stock passes
//! planning from the same merge base would count the same sale twice, so every process (the engine's jobs,
//! a foreground `sync run`, the console) takes the lease first. The holder renews it while it works; a
//! holder that died loses it when it expires.

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassLease {
    pub name: String,
    pub holder: String,
    pub taken_at: Millis,
    pub expires_at: Millis,
}

/// Takes the lease `name` for `holder` until `now + ttl_ms`, or renews it if `holder` has it already;
/// false if someone else holds it and it has not expired. Call inside a write transaction.
pub fn take(conn: &Connection, name: &str, holder: &str, ttl_ms: i64, now: Millis) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO pass_leases (name, holder, taken_at, expires_at) VALUES (?1, ?2, ?4, ?3)
         ON CONFLICT (name) DO UPDATE SET
             taken_at = CASE WHEN pass_leases.holder = excluded.holder THEN pass_leases.taken_at
                             ELSE excluded.taken_at END,
             holder = excluded.holder, expires_at = excluded.expires_at
         WHERE pass_leases.holder = excluded.holder OR pass_leases.expires_at < ?4",
        params![name, holder, now + ttl_ms, now],
    )?;
    Ok(n == 1)
}

/// Gives the lease up; a no-op if `holder` no longer has it (it expired and someone else took it).
pub fn release(conn: &Connection, name: &str, holder: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM pass_leases WHERE name = ?1 AND holder = ?2",
        params![name, holder],
    )?;
    Ok(())
}

/// Who holds `name`, if anyone (an expired row is returned too: the caller compares `expires_at`).
pub fn current(conn: &Connection, name: &str) -> Result<Option<PassLease>> {
    Ok(conn
        .query_row(
            "SELECT name, holder, taken_at, expires_at FROM pass_leases WHERE name = ?1",
            [name],
            |r| {
                Ok(PassLease {
                    name: r.get(0)?,
                    holder: r.get(1)?,
                    taken_at: r.get(2)?,
                    expires_at: r.get(3)?,
                })
            },
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_held_lease_refuses_others_until_it_expires_or_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db"), std::time::Duration::from_secs(1)).unwrap();
        let conn = store.conn();
        assert!(take(conn, "stock", "a", 1_000, 0).unwrap());
        assert!(!take(conn, "stock", "b", 1_000, 500).unwrap(), "held by a");
        assert!(take(conn, "stock", "a", 1_000, 600).unwrap(), "a renews");
        assert_eq!(current(conn, "stock").unwrap().unwrap().taken_at, 0);
        assert!(!take(conn, "stock", "b", 1_000, 1_500).unwrap(), "renewed to 1600");
        assert!(take(conn, "stock", "b", 1_000, 1_601).unwrap(), "expired");
        release(conn, "stock", "a").unwrap();
        assert_eq!(current(conn, "stock").unwrap().unwrap().holder, "b", "a's release is a no-op");
        release(conn, "stock", "b").unwrap();
        assert!(take(conn, "stock", "c", 1_000, 1_700).unwrap());
        assert!(take(conn, "price", "a", 1_000, 1_700).unwrap(), "names are separate");
    }
}
