//! Every external system syncdesk talks to, one folder each (`integrations/<system>/`): its protocol client
//! (no store access), its job kinds with their handlers and schedules, its outbound rule, its `check`, its
//! webhook route and its stock source where it has them — listed by one [`Integration`] descriptor. The
//! [`REGISTRY`] lists the descriptors; the engine, `check`, the passes, the Dashboard, the webhook router
//! and the outbox iterate it and name no system themselves.
//!
//! Adding a system: a folder with a `mod.rs` holding its `INTEGRATION`, and one line in [`REGISTRY`] (plus
//! its config section in `config` and a migration if it keeps new facts). See docs/DESIGN.md.

pub mod cartona;
pub mod counterpoint;
mod descriptor;
pub mod email;
pub mod http;
pub mod metakocka;
pub mod pos_csv;
pub mod woocommerce;

pub use descriptor::{
    ChannelPush, CheckFn, CheckLine, CheckOptions, Integration, OnStatusFn, Outbound, Role,
    StatusEntered, Webhook, enqueue,
};

/// The one list of integrations, in the order `check` and the Dashboard show them.
pub const REGISTRY: &[&Integration] = &[
    &woocommerce::INTEGRATION,
    &counterpoint::INTEGRATION,
    &cartona::INTEGRATION,
    &metakocka::INTEGRATION,
    &pos_csv::INTEGRATION,
    &email::INTEGRATION,
];

/// The web store: the sales channel whose orders the back offices stage, reserve and count by default
/// (a section's `channels` when its config does not say).
pub const WEB_STORE: &Integration = &woocommerce::INTEGRATION;

/// The channels a back office takes orders from when its config does not list them: the web store's.
pub fn default_order_channels() -> Vec<String> {
    vec![WEB_STORE.name.to_string()]
}

/// The integration behind a link `system` or order channel.
pub fn by_name(name: &str) -> Option<&'static Integration> {
    REGISTRY.iter().copied().find(|i| i.name == name)
}

/// The integration an operator means by `word`, in any case: its name, its title, or the short name its
/// job kinds start with (`woo` of `woo.push_status`).
pub fn named(word: &str) -> Option<&'static Integration> {
    let word = word.trim().to_ascii_lowercase();
    REGISTRY.iter().copied().find(|i| {
        i.name == word
            || i.title.eq_ignore_ascii_case(&word)
            || i.job_kinds
                .iter()
                .any(|k| k.as_str().split('.').next() == Some(word.as_str()))
    })
}

/// Whether `word` names a sales channel (see [`named`]): the side a conflict's "store" choice means.
pub fn names_a_channel(word: &str) -> bool {
    named(word).is_some_and(|i| i.channel.is_some())
}

/// Whether `word` names the web store (see [`named`]): the store side of a stock conflict.
pub fn names_the_web_store(word: &str) -> bool {
    named(word).is_some_and(|i| std::ptr::eq(i, WEB_STORE))
}

/// The enabled integrations.
pub fn enabled(config: &crate::config::Config) -> impl Iterator<Item = &'static Integration> + '_ {
    REGISTRY.iter().copied().filter(|i| (i.enabled)(config))
}
