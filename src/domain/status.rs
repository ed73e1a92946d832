//! The order status workflow (Restock-style): which statuses exist, what each one means, and which moves an
//! operator may make. Behaviour hangs off a status's *kind*, never its name or id, so shops can rename freely.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// Work in progress (Pending, Processing, Ready to Ship).
    Open,
    /// Waiting for purchasing; entering it e-mails purchasing.
    Backorder,
    /// Handed to the carrier; recorded shipments complete it.
    Shipped,
    /// Final: every line shipped. Never picked by an operator.
    Completed,
    /// Final: called off.
    Cancelled,
}

impl StatusKind {
    pub fn is_final(self) -> bool {
        matches!(self, StatusKind::Completed | StatusKind::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Open => "open",
            StatusKind::Backorder => "backorder",
            StatusKind::Shipped => "shipped",
            StatusKind::Completed => "completed",
            StatusKind::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => StatusKind::Open,
            "backorder" => StatusKind::Backorder,
            "shipped" => StatusKind::Shipped,
            "completed" => StatusKind::Completed,
            "cancelled" => StatusKind::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub id: i64,
    pub name: String,
    pub kind: StatusKind,
    /// Whether an operator may choose it; Completed is reached only through shipments.
    pub pickable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("unknown status '{0}'")]
    UnknownStatus(String),
    #[error("order is {0}, which is final: no further changes are allowed")]
    Final(String),
    #[error("order is already {0}")]
    Unchanged(String),
    #[error("{to} is set automatically when every line is shipped; it cannot be picked")]
    NotPickable { to: String },
    #[error("cannot move from {from} to {to}; allowed: {}", if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") })]
    Forbidden {
        from: String,
        to: String,
        allowed: Vec<String>,
    },
}

/// The statuses and the operator moves between them, as loaded from config into the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    statuses: Vec<Status>,
    transitions: BTreeMap<i64, Vec<i64>>,
}

impl Workflow {
    /// `transitions` maps a status id to the ids an operator may move to from it, in display order.
    pub fn new(statuses: Vec<Status>, transitions: BTreeMap<i64, Vec<i64>>) -> Self {
        Self {
            statuses,
            transitions,
        }
    }

    pub fn statuses(&self) -> &[Status] {
        &self.statuses
    }

    pub fn get(&self, id: i64) -> Option<&Status> {
        self.statuses.iter().find(|s| s.id == id)
    }

    /// Status names match case-insensitively and ignore surrounding blanks, `-` and `_` vs space
    /// (`ready-to-ship` finds "Ready to Ship").
    pub fn by_name(&self, name: &str) -> Result<&Status, TransitionError> {
        let wanted = normalise(name);
        self.statuses
            .iter()
            .find(|s| normalise(&s.name) == wanted)
            .ok_or_else(|| TransitionError::UnknownStatus(name.trim().to_string()))
    }

    /// The first status of a kind, e.g. where auto-completion or a cancel lands.
    pub fn first_of_kind(&self, kind: StatusKind) -> Option<&Status> {
        self.statuses.iter().find(|s| s.kind == kind)
    }

    /// The statuses an operator may pick from `from`, in configured order.
    pub fn allowed_from(&self, from: i64) -> Vec<&Status> {
        if self.get(from).is_none_or(|s| s.kind.is_final()) {
            return Vec::new();
        }
        self.transitions
            .get(&from)
            .into_iter()
            .flatten()
            .filter_map(|id| self.get(*id))
            .filter(|s| s.pickable)
            .collect()
    }

    /// The configured targets from `from`, pickable or not (what the store persists).
    pub fn allowed_targets(&self, from: i64) -> &[i64] {
        self.transitions
            .get(&from)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Whether an operator may move an order from `from` to `to`.
    pub fn check_operator_move(&self, from: i64, to: i64) -> Result<(), TransitionError> {
        let from_s = self
            .get(from)
            .ok_or_else(|| TransitionError::UnknownStatus(from.to_string()))?;
        let to_s = self
            .get(to)
            .ok_or_else(|| TransitionError::UnknownStatus(to.to_string()))?;
        if from_s.kind.is_final() {
            return Err(TransitionError::Final(from_s.name.clone()));
        }
        if from == to {
            return Err(TransitionError::Unchanged(from_s.name.clone()));
        }
        if !to_s.pickable {
            return Err(TransitionError::NotPickable {
                to: to_s.name.clone(),
            });
        }
        if self.allowed_from(from).iter().any(|s| s.id == to) {
            Ok(())
        } else {
            Err(TransitionError::Forbidden {
                from: from_s.name.clone(),
                to: to_s.name.clone(),
                allowed: self
                    .allowed_from(from)
                    .iter()
                    .map(|s| s.name.clone())
                    .collect(),
            })
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c == '-' || c == '_' {
                ' '
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Config;

    pub(crate) fn restock() -> Workflow {
        Config::default()
            .statuses
            .to_workflow()
            .expect("default workflow is valid")
    }

    fn id(w: &Workflow, name: &str) -> i64 {
        w.by_name(name).unwrap().id
    }

    #[test]
    fn default_moves_match_the_seed() {
        let w = restock();
        let allowed = |from: &str| -> Vec<String> {
            w.allowed_from(id(&w, from))
                .iter()
                .map(|s| s.name.clone())
                .collect()
        };
        assert_eq!(allowed("Pending"), ["Processing", "Backorder", "Cancelled"]);
        assert_eq!(
            allowed("Processing"),
            ["Ready to Ship", "Backorder", "Cancelled"]
        );
        assert_eq!(
            allowed("Backorder"),
            ["Processing", "Ready to Ship", "Cancelled"]
        );
        assert_eq!(allowed("Ready to Ship"), ["Shipped", "Cancelled"]);
        assert!(allowed("Completed").is_empty());
        assert!(allowed("Cancelled").is_empty());
    }

    #[test]
    fn completed_is_never_offered_nor_accepted() {
        let w = restock();
        let completed = id(&w, "Completed");
        for s in w.statuses() {
            assert!(w.allowed_from(s.id).iter().all(|t| t.id != completed));
            if !s.kind.is_final() {
                assert!(matches!(
                    w.check_operator_move(s.id, completed),
                    Err(TransitionError::NotPickable { .. })
                ));
            }
        }
    }

    #[test]
    fn forbidden_move_names_the_allowed_ones() {
        let w = restock();
        let err = w
            .check_operator_move(id(&w, "Pending"), id(&w, "Shipped"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot move from Pending to Shipped; allowed: Processing, Backorder, Cancelled"
        );
    }

    #[test]
    fn final_statuses_refuse_every_move() {
        let w = restock();
        for fin in ["Completed", "Cancelled"] {
            for s in w.statuses() {
                assert!(matches!(
                    w.check_operator_move(id(&w, fin), s.id),
                    Err(TransitionError::Final(_))
                ));
            }
        }
    }

    #[test]
    fn names_match_loosely() {
        let w = restock();
        assert_eq!(w.by_name("ready-to-ship").unwrap().name, "Ready to Ship");
        assert_eq!(w.by_name("  BACKORDER ").unwrap().name, "Backorder");
        assert!(matches!(
            w.by_name("Lost"),
            Err(TransitionError::UnknownStatus(_))
        ));
    }
}
