//! Enforcing roles: the operator's role is fixed when the App takes the actor on (from `[roles]`, unless the
//! face pinned one: `--readonly` is `viewer`), and every command that changes state asks `require` first,
//! before its transaction, so a refused command writes nothing. Queries are open to every role.

use super::{Actor, App, AppError, Result};
use crate::config::Config;
use crate::domain::{Permission, Role};

/// The actor with its role settled: a pinned role stays; an operator's comes from `[roles]`; the engine and
/// the systems act for the shop (admin).
pub(super) fn with_role(actor: Actor, config: &Config) -> Actor {
    let role = match actor.role {
        Some(role) => role,
        None if actor.source == "operator" => config.roles.role_of(&actor.name),
        None => Role::Admin,
    };
    Actor {
        role: Some(role),
        ..actor
    }
}

impl App {
    /// The acting operator's role.
    pub fn role(&self) -> Role {
        self.actor.role.unwrap_or(Role::Admin)
    }

    /// Whether the operator may take `action`, asked before a dialog opens so nobody fills one in for a
    /// refusal; the command itself still checks (`require`).
    pub fn may(&self, action: Permission) -> Result<()> {
        self.require(action)
    }

    /// Refuses `action` unless the actor's role may take it: "viewer may not change statuses (acting as ana)".
    pub(super) fn require(&self, action: Permission) -> Result<()> {
        let role = self.role();
        if role.may(action) {
            return Ok(());
        }
        let who = match self.actor.name.trim() {
            "" => String::new(),
            name => format!(" (acting as {name})"),
        };
        Err(AppError::Rejected(format!(
            "{role} may not {}{who}",
            action.words()
        )))
    }
}
