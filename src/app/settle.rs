//! An operator settles a conflict between a channel and syncdesk: the channel changed an order (the shop
//! cancelled it in the store, say) after syncdesk last saw it, while syncdesk had its own status to send,
//! so nothing was sent. Either the channel's status is taken, or syncdesk's is pushed over it — a person
//! decides, never the engine.

use serde::Serialize;

use super::orders::{claim_version, enter_status};
use super::{Actor, App, AppError, Result};
use crate::domain::LinkState;
use crate::domain::Permission;
use crate::domain::time::now_ms;
use crate::store::sync_log::{self, Change};
use crate::store::{jobs, links, orders};

/// Which side's status stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// The channel's (store's) status comes into syncdesk.
    Store,
    /// syncdesk's status is pushed over the channel's.
    Syncdesk,
}

impl Keep {
    pub fn parse(text: &str) -> Option<Keep> {
        match text.trim().to_ascii_lowercase().as_str() {
            "store" | "channel" | "remote" => Some(Keep::Store),
            "syncdesk" | "ours" | "local" | "push" => Some(Keep::Syncdesk),
            // A channel's own name (or short name) means its side too.
            word if crate::integrations::names_a_channel(word) => Some(Keep::Store),
            _ => None,
        }
    }
}

/// What settling did, for the toast and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settled {
    pub order: String,
    pub system: String,
    pub kept: Keep,
    pub summary: String,
}

impl App {
    /// Settles the conflict on `reference`'s channel link. Refused when there is none.
    pub fn settle(&mut self, reference: &str, keep: Keep) -> Result<Settled> {
        self.require(Permission::ResolveConflicts)?;
        let config = self.config.clone();
        let workflow = self.workflow.clone();
        let operator = self.actor.clone();
        self.store.write(|tx| {
            let now = now_ms();
            let order = orders::find(tx, reference)?
                .ok_or_else(|| AppError::OrderNotFound(reference.to_string()))?;
            let link = links::for_local(tx, "order", order.id)?
                .into_iter()
                .find(|l| l.sync_state == LinkState::Conflict)
                .ok_or_else(|| {
                    AppError::Rejected(format!(
                        "order {} has no conflict with a channel to settle",
                        order.number
                    ))
                })?;
            let channel = super::effects::channel(&link.system).ok_or_else(|| {
                AppError::Rejected(format!(
                    "order {}: {} is not a channel syncdesk pushes to",
                    order.number, link.system
                ))
            })?;
            let remote = link.remote_status.clone().unwrap_or_default();
            let current = workflow.get(order.status_id).cloned().ok_or_else(|| {
                AppError::Rejected(format!("order {} has an unknown status", order.number))
            })?;
            let summary = match keep {
                Keep::Store => {
                    let name = (channel.inbound)(&config, &remote).ok_or_else(|| {
                        AppError::Rejected(format!(
                            "{0} status '{remote}' has no syncdesk mapping ({0}.status_in): map it, or keep syncdesk's",
                            link.system
                        ))
                    })?;
                    let to = workflow.by_name(&name)?.clone();
                    // The change comes from the channel (so it is not pushed back there), accepted by a person.
                    let actor = Actor {
                        name: operator.name.clone(),
                        source: link.system.clone(),
                        role: operator.role,
                    };
                    if to.id != current.id {
                        claim_version(tx, &order, &actor, now)?;
                        let note = format!(
                            "conflict settled by {}: kept {}'s '{remote}'",
                            operator.name, link.system
                        );
                        enter_status(tx, &workflow, &config, &actor, &order, &to, Some(&note), now)?;
                    }
                    links::set_state(tx, link.id, LinkState::Synced, None)?;
                    format!("{} is now {} as {} says ('{remote}')", order.number, to.name, link.system)
                }
                Keep::Syncdesk => {
                    links::set_state(tx, link.id, LinkState::Pending, None)?;
                    let job = (channel.force)(tx, &config, order.id, &link, now)?;
                    format!(
                        "{}'s {} goes to {} over its '{remote}' (job {job})",
                        order.number, current.name, link.system
                    )
                }
            };
            // The pushes that stopped at the conflict are settled too.
            let key = format!("order:{}", order.id);
            for id in jobs::dead_with_key(tx, channel.push_kind.as_str(), &key)? {
                if let Some(before) = jobs::get(tx, id)? {
                    let why = format!("conflict settled by {}", operator.name);
                    jobs::cancel(tx, id, &why, now)?;
                    if let Some(after) = jobs::get(tx, id)? {
                        super::jobs::audit(tx, &before, &after, &why, &operator.name, now)?;
                    }
                }
            }
            sync_log::record(
                tx,
                &Change {
                    source: "operator",
                    entity: "order",
                    entity_key: &order.number,
                    field: &format!("{}.status", link.system),
                    old_value: Some(&remote),
                    new_value: Some(&current.name),
                    reason: Some(&format!("conflict settled: {summary}")),
                    actor: Some(&operator.name),
                    ..Default::default()
                },
                now,
            )?;
            Ok(Settled {
                order: order.number,
                system: link.system,
                kept: keep,
                summary,
            })
        })
    }
}
