//! Who may do what: the four operator roles and the one table of which role may take which action.
//! Pure, so the table is checked here once; `app` asks it at the top of every command that changes state.

use serde::Deserialize;

/// An operator's role, from `[roles]` (or `viewer` for a `--readonly` console).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Looks, changes nothing.
    Viewer,
    /// Orders on the floor: statuses, shipments, cancels.
    Warehouse,
    /// The sync: conflicts, jobs, passes.
    Ops,
    /// Everything.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Warehouse, Role::Ops, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Warehouse => "warehouse",
            Role::Ops => "ops",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may take `action`: the one table.
    pub fn may(self, action: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Viewer => false,
            Role::Warehouse => matches!(
                action,
                AddOrders | ChangeStatuses | RecordShipments | CancelOrders | AcknowledgeAlerts
            ),
            Role::Ops => matches!(
                action,
                ResolveConflicts
                    | ManageJobs
                    | RunSyncs
                    | AlignSkus
                    | AcknowledgeAlerts
                    | RaiseAlerts
            ),
            Role::Admin => true,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every kind of change an operator can ask `app` for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    AddOrders,
    ChangeStatuses,
    RecordShipments,
    CancelOrders,
    /// Stock and price conflicts, and a channel link's conflict (settle).
    ResolveConflicts,
    /// Retry or discard jobs.
    ManageJobs,
    RunSyncs,
    /// Import the POS ↔ store SKU alignment.
    AlignSkus,
    AcknowledgeAlerts,
    RaiseAlerts,
}

impl Permission {
    /// The action in words, as a refusal says it: "viewer may not change statuses".
    pub fn words(self) -> &'static str {
        match self {
            Permission::AddOrders => "add orders",
            Permission::ChangeStatuses => "change statuses",
            Permission::RecordShipments => "record shipments",
            Permission::CancelOrders => "cancel orders",
            Permission::ResolveConflicts => "resolve conflicts",
            Permission::ManageJobs => "retry or discard jobs",
            Permission::RunSyncs => "run syncs",
            Permission::AlignSkus => "import the SKU alignment",
            Permission::AcknowledgeAlerts => "acknowledge alerts",
            Permission::RaiseAlerts => "raise alerts",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_may_everything_viewer_nothing_and_the_floor_and_ops_split_the_rest() {
        use Permission::*;
        let all = [
            AddOrders,
            ChangeStatuses,
            RecordShipments,
            CancelOrders,
            ResolveConflicts,
            ManageJobs,
            RunSyncs,
            AlignSkus,
            AcknowledgeAlerts,
            RaiseAlerts,
        ];
        assert!(all.iter().all(|&p| Role::Admin.may(p)));
        assert!(all.iter().all(|&p| !Role::Viewer.may(p)));
        for p in [ChangeStatuses, RecordShipments, CancelOrders] {
            assert!(Role::Warehouse.may(p) && !Role::Ops.may(p), "{p:?}");
        }
        for p in [ResolveConflicts, ManageJobs, RunSyncs] {
            assert!(Role::Ops.may(p) && !Role::Warehouse.may(p), "{p:?}");
        }
    }
}
