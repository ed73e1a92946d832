//! `[statuses]`: the order workflow — each status, its kind, whether an operator may pick it, and its moves.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::domain::{Status, StatusKind, Workflow};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusDef {
    pub id: i64,
    pub name: String,
    pub kind: StatusKind,
    #[serde(default = "crate::config::yes")]
    pub pickable: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusesConfig {
    pub status: Vec<StatusDef>,
    /// Status name → the statuses an operator may move to from it.
    pub transitions: BTreeMap<String, Vec<String>>,
}

impl Default for StatusesConfig {
    fn default() -> Self {
        let def = |id, name: &str, kind, pickable| StatusDef {
            id,
            name: name.into(),
            kind,
            pickable,
        };
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Self {
            status: vec![
                def(1, "Pending", StatusKind::Open, true),
                def(2, "Processing", StatusKind::Open, true),
                def(3, "Ready to Ship", StatusKind::Open, true),
                def(4, "Shipped", StatusKind::Shipped, true),
                def(5, "Completed", StatusKind::Completed, false),
                def(6, "Cancelled", StatusKind::Cancelled, true),
                def(7, "Backorder", StatusKind::Backorder, true),
            ],
            transitions: BTreeMap::from([
                (
                    "Pending".into(),
                    names(&["Processing", "Backorder", "Cancelled"]),
                ),
                (
                    "Processing".into(),
                    names(&["Ready to Ship", "Backorder", "Cancelled"]),
                ),
                (
                    "Backorder".into(),
                    names(&["Processing", "Ready to Ship", "Cancelled"]),
                ),
                ("Ready to Ship".into(), names(&["Shipped", "Cancelled"])),
            ]),
        }
    }
}

impl StatusesConfig {
    /// Checks the table and builds the workflow; errors name the offending field.
    pub fn to_workflow(&self) -> Result<Workflow, String> {
        if self.status.is_empty() {
            return Err("statuses.status: at least one status is required".into());
        }
        let mut statuses: Vec<Status> = Vec::new();
        for (i, def) in self.status.iter().enumerate() {
            let name = def.name.trim();
            if name.is_empty() {
                return Err(format!("statuses.status[{i}].name: must not be empty"));
            }
            if statuses.iter().any(|s| s.id == def.id) {
                return Err(format!("statuses.status[{i}].id: {} is used twice", def.id));
            }
            if statuses.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
                return Err(format!("statuses.status[{i}].name: '{name}' is used twice"));
            }
            if def.kind == StatusKind::Completed && def.pickable {
                return Err(format!(
                    "statuses.status[{i}].pickable: '{name}' is a completed status; orders complete through shipments, so it cannot be pickable"
                ));
            }
            statuses.push(Status {
                id: def.id,
                name: name.to_string(),
                kind: def.kind,
                pickable: def.pickable,
            });
        }
        for kind in [StatusKind::Completed, StatusKind::Cancelled] {
            if !statuses.iter().any(|s| s.kind == kind) {
                return Err(format!(
                    "statuses.status: one status must have kind = \"{}\"",
                    kind.as_str()
                ));
            }
        }
        let probe = Workflow::new(statuses.clone(), BTreeMap::new());
        let mut transitions = BTreeMap::new();
        for (from, tos) in &self.transitions {
            let from_s = probe
                .by_name(from)
                .map_err(|_| format!("statuses.transitions.\"{from}\": unknown status"))?;
            if from_s.kind.is_final() {
                return Err(format!(
                    "statuses.transitions.\"{from}\": {} is final; no moves may leave it",
                    from_s.name
                ));
            }
            let mut ids = Vec::new();
            for to in tos {
                let to_s = probe.by_name(to).map_err(|_| {
                    format!("statuses.transitions.\"{from}\": unknown status '{to}'")
                })?;
                ids.push(to_s.id);
            }
            transitions.insert(from_s.id, ids);
        }
        Ok(Workflow::new(statuses, transitions))
    }
}
