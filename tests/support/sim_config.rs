//! The `[woocommerce]` and `[cartona]` sections that reach a simulator, built from its public address and
//! credentials as a shop's own config would be: the simulators are external systems and know nothing of
//! syncdesk's config. Tests and benchmarks include it with `#[path]`; the Counterpoint connection is built the
//! same way in `stock_rig.rs`.
#![allow(dead_code)] // each test file uses the part it needs

use syncdesk::config::{CartonaSection, Secret, WooAuth, WooCommerceConfig};
use syncdesk_sim::cartona::CartonaSim;
use syncdesk_sim::woo::WooSim;

/// An enabled `[woocommerce]` section for this simulator: Basic auth when it treats requests as TLS, OAuth
/// 1.0a otherwise (as a real plain-http store requires).
pub fn woo_config(sim: &WooSim) -> WooCommerceConfig {
    WooCommerceConfig {
        enabled: true,
        url: sim.base_url(),
        consumer_key: Secret::new(sim.consumer_key()),
        consumer_secret: Secret::new(sim.consumer_secret()),
        auth: if sim.treat_as_https() {
            WooAuth::Basic
        } else {
            WooAuth::Oauth
        },
        ..Default::default()
    }
}

/// An enabled `[cartona]` section for this simulator: its host root, token, and the header it expects.
pub fn cartona_config(sim: &CartonaSim) -> CartonaSection {
    CartonaSection {
        enabled: true,
        base_url: sim.base_url(),
        token: Secret::new(sim.token()),
        auth_header: sim.auth_header().into(),
        auth_prefix: sim.auth_prefix().into(),
        ..Default::default()
    }
}
