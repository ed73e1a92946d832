//! Everything a key can ask the console to do. Keymaps in the config name these (snake_case), so the
//! enum is the contract between `[console.keys]` and the console.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // Moving around.
    Quit,
    Help,
    NextTab,
    PrevTab,
    TabOrders,
    TabFulfilments,
    TabConflicts,
    TabErrors,
    TabDashboard,
    TabInventory,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    PrevGroup,
    NextGroup,
    Open,
    Back,
    Filter,
    /// Sort the panel by its next column.
    SortNext,
    /// Reverse the panel's sort.
    SortReverse,
    /// Orders: the archive (every final order) with the same filter, or back to the active orders.
    ShowArchived,
    Command,
    Freeze,
    ToggleMouse,
    Refresh,
    /// Dashboard: the selected alert in full (Enter opens what it is about).
    Details,
    // Acting (none of these exist in a read-only console).
    Mark,
    ChangeStatus,
    Fulfil,
    CancelOrder,
    RetryJob,
    DiscardJob,
    Acknowledge,
    AcknowledgeAll,
    /// Errors (and Dashboard): the order or SKU the selected job (alert) is about, on its panel.
    OpenTarget,
    // Dialogs.
    Submit,
    NextField,
    PrevField,
    Yes,
    No,
}

impl Action {
    /// What the help screen says the action does.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "quit",
            Action::Help => "this help",
            Action::NextTab => "next panel",
            Action::PrevTab => "previous panel",
            Action::TabOrders => "Orders panel",
            Action::TabFulfilments => "Fulfilments panel",
            Action::TabConflicts => "Conflicts panel",
            Action::TabErrors => "Errors panel",
            Action::TabDashboard => "Dashboard panel",
            Action::TabInventory => "Inventory panel",
            Action::Up => "move up",
            Action::Down => "move down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::PrevGroup => "previous status",
            Action::NextGroup => "next status",
            Action::Open => "zoom, resolve, trace, alert target",
            Action::Back => "back / close / clear the filter",
            Action::Filter => "filter this panel",
            Action::SortNext => "sort by the next column",
            Action::SortReverse => "reverse the sort",
            Action::ShowArchived => "Orders: archive ↔ active orders",
            Action::Command => "command line (:status, :sync, :q …)",
            Action::Freeze => "freeze / resume refresh",
            Action::ToggleMouse => "mouse on / off",
            Action::Refresh => "re-read now",
            Action::Details => "Dashboard: the alert in full",
            Action::Mark => "mark row for a bulk change",
            Action::ChangeStatus => "change status",
            Action::Fulfil => "fulfil (ship) the order",
            Action::CancelOrder => "cancel the order",
            Action::RetryJob => "retry the job",
            Action::DiscardJob => "discard the job",
            Action::Acknowledge => "acknowledge the alert",
            Action::AcknowledgeAll => "acknowledge all open alerts",
            Action::OpenTarget => "Errors, Dashboard: the job's or alert's order or SKU",
            Action::Submit => "confirm the dialog",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::Yes => "yes",
            Action::No => "no",
        }
    }

    /// Whether the action changes anything (hidden and refused in a read-only console).
    /// What the operator's role must allow for this key to do anything (`app` enforces it; the console
    /// only leaves out hints that would end in a refusal).
    pub fn permission(self) -> Option<crate::domain::Permission> {
        use crate::domain::Permission as P;
        match self {
            Action::Mark | Action::ChangeStatus => Some(P::ChangeStatuses),
            Action::Fulfil => Some(P::RecordShipments),
            Action::CancelOrder => Some(P::CancelOrders),
            Action::RetryJob | Action::DiscardJob => Some(P::ManageJobs),
            Action::Acknowledge | Action::AcknowledgeAll => Some(P::AcknowledgeAlerts),
            _ => None,
        }
    }

    pub fn is_command(self) -> bool {
        matches!(
            self,
            Action::Mark
                | Action::ChangeStatus
                | Action::Fulfil
                | Action::CancelOrder
                | Action::RetryJob
                | Action::DiscardJob
                | Action::Acknowledge
                | Action::AcknowledgeAll
        )
    }
}
