//! The rig every flow test stands on: a scratch folder, a database in it and the config syncdesk's real App,
//! engine and connectors run with against simulators on loopback. Which simulators run, and how each is
//! configured, is the area's business: an area's rig holds its simulators next to a `FlowRig` and derefs to
//! it, so `rig.app()`, `rig.store()`, `rig.ctx()`, `rig.db` and `rig.config` read the same in every area.
#![allow(dead_code)] // each test module uses the part it needs

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::engine::{Engine, EngineHandle, JobContext, Schedule, default_handlers};
use syncdesk::store::Store;

pub struct FlowRig {
    pub dir: tempfile::TempDir,
    /// `dir/s.db`.
    pub db: PathBuf,
    pub config: Config,
}

impl FlowRig {
    /// The default config with an engine that polls every 20 ms and retries after 50 ms up to 1 s, so flows
    /// settle in test time.
    pub fn fast_engine() -> Config {
        let mut config = Config::default();
        config.jobs.poll_ms = 20;
        config.jobs.backoff_base_ms = 50;
        config.jobs.backoff_cap_secs = 1;
        config
    }

    /// A scratch folder and `s.db` in it, created (statuses seeded) with `config` as `tune` leaves it; `tune`
    /// gets the folder for the files the config names (certificates, export folders).
    pub fn new(mut config: Config, tune: impl FnOnce(&Path, &mut Config)) -> FlowRig {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        tune(dir.path(), &mut config);
        drop(App::open(&db, config.clone(), Actor::operator("test")).unwrap());
        FlowRig { dir, db, config }
    }

    /// The App as the operator the tests act as.
    pub fn app(&self) -> App {
        App::open(&self.db, self.config.clone(), Actor::operator("wendy")).unwrap()
    }

    pub fn store(&self) -> Store {
        Store::open(&self.db, Duration::from_secs(5)).unwrap()
    }

    /// What a job handler gets: its own connection to the store, and the config.
    pub fn ctx(&self) -> JobContext {
        JobContext {
            store: Arc::new(Mutex::new(self.store())),
            config: Arc::new(self.config.clone()),
        }
    }

    /// Pairs (POS SKU, store SKU) aligned with `match_type`, imported as the alignment CSV is.
    pub fn align<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>, match_type: &str) {
        let csv: String =
            std::iter::once("POS SKU,WooCommerce SKU,Match Type,Confidence\n".to_string())
                .chain(
                    pairs
                        .into_iter()
                        .map(|(pos, store)| format!("{pos},{store},{match_type},1\n")),
                )
                .collect();
        let mut app = App::open(&self.db, self.config.clone(), Actor::operator("test")).unwrap();
        assert!(app.import_alignment(&csv).unwrap().errors.is_empty());
    }

    /// The real engine on this database with the default handlers and `schedules`.
    pub fn spawn_engine(&self, schedules: Vec<Schedule>) -> EngineHandle {
        Engine::new(
            &self.db,
            self.config.clone(),
            default_handlers(&self.config),
        )
        .with_schedules(schedules)
        .spawn()
        .unwrap()
    }
}
