//! The single-engine lease: one row naming which process runs jobs for this database, and until when.
//! The holder renews it on a heartbeat; anyone may take it once it has expired (the holder died).

use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use crate::domain::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineLease {
    pub holder: String,
    pub expires_at: Millis,
    pub heartbeat_at: Millis,
}

/// Takes or renews the lease for `holder`; false if another live engine holds it. Call inside a write
/// transaction so two contenders cannot both win.
pub fn acquire(conn: &Connection, holder: &str, ttl_ms: i64, now: Millis) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO engine_lease (id, holder, expires_at, heartbeat_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at,
             heartbeat_at = excluded.heartbeat_at
         WHERE engine_lease.holder = excluded.holder OR engine_lease.expires_at < ?3",
        params![holder, now + ttl_ms, now],
    )?;
    Ok(n == 1)
}

/// Gives the lease up at a clean shutdown so a standby engine need not wait for it to expire.
pub fn release(conn: &Connection, holder: &str) -> Result<()> {
    conn.execute("DELETE FROM engine_lease WHERE holder = ?1", [holder])?;
    Ok(())
}

pub fn current(conn: &Connection) -> Result<Option<EngineLease>> {
    Ok(conn
        .query_row(
            "SELECT holder, expires_at, heartbeat_at FROM engine_lease WHERE id = 1",
            [],
            |r| {
                Ok(EngineLease {
                    holder: r.get(0)?,
                    expires_at: r.get(1)?,
                    heartbeat_at: r.get(2)?,
                })
            },
        )
        .optional()?)
}
