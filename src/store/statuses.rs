//! The status table: seeded from config on every open, read back as the [`Workflow`] every command uses.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::{Result, StoreError};
use crate::domain::{Status, StatusKind, Workflow};

/// Makes the table match the configured workflow. A status still used by orders cannot disappear.
pub fn seed(conn: &Connection, workflow: &Workflow) -> Result<()> {
    let ids: Vec<i64> = workflow.statuses().iter().map(|s| s.id).collect();
    let mut in_use = conn.prepare(
        "SELECT s.id, s.name FROM statuses s
         WHERE EXISTS (SELECT 1 FROM orders WHERE status_id = s.id)
            OR EXISTS (SELECT 1 FROM status_history WHERE to_status_id = s.id OR from_status_id = s.id)",
    )?;
    let used: Vec<(i64, String)> = in_use
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if let Some((id, name)) = used.iter().find(|(id, _)| !ids.contains(id)) {
        return Err(StoreError::Corrupt(format!(
            "status {id} '{name}' is still used by orders or their history but is missing from the config; \
             keep its id in [[statuses.status]] (you may rename it)"
        )));
    }
    conn.execute("DELETE FROM status_transitions", [])?;
    // Names are unique: park renamed rows out of the way first so swapping two names cannot collide.
    conn.execute("UPDATE statuses SET name = '~' || id", [])?;
    for (position, s) in workflow.statuses().iter().enumerate() {
        conn.execute(
            "INSERT INTO statuses (id, name, kind, pickable, position) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 pickable = excluded.pickable, position = excluded.position",
            params![s.id, s.name, s.kind.as_str(), s.pickable, position as i64],
        )?;
    }
    let placeholders = ids.iter().map(|_| "?").collect::<Vec<_>>().join(",");
    conn.execute(
        &format!("DELETE FROM statuses WHERE id NOT IN ({placeholders})"),
        rusqlite::params_from_iter(ids.iter()),
    )?;
    for s in workflow.statuses() {
        for (position, to) in workflow.allowed_targets(s.id).iter().enumerate() {
            conn.execute(
                "INSERT INTO status_transitions (from_id, to_id, position) VALUES (?1, ?2, ?3)",
                params![s.id, to, position as i64],
            )?;
        }
    }
    Ok(())
}

/// The workflow as stored.
pub fn load(conn: &Connection) -> Result<Workflow> {
    let mut stmt =
        conn.prepare("SELECT id, name, kind, pickable FROM statuses ORDER BY position, id")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    let mut statuses = Vec::new();
    for row in rows {
        let (id, name, kind, pickable) = row?;
        let kind = StatusKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("status {id} has kind '{kind}'")))?;
        statuses.push(Status {
            id,
            name,
            kind,
            pickable,
        });
    }
    let mut transitions: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut stmt =
        conn.prepare("SELECT from_id, to_id FROM status_transitions ORDER BY from_id, position")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (from, to) = row?;
        transitions.entry(from).or_default().push(to);
    }
    Ok(Workflow::new(statuses, transitions))
}

/// How many active (not archived) orders sit in each status (kept by triggers in `order_counts`, so this
/// is a handful of rows however many orders there are).
pub fn active_counts(conn: &Connection) -> Result<BTreeMap<i64, i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT status_id, n FROM order_counts WHERE archived = 0 AND n > 0")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
