//! Operator resolution of stock conflicts end to end: the built binary (`conflicts resolve|detect`) against
//! both simulators on loopback, the resolution written to the store by the real engine.

use crate::cli_support;
use cli_support::run;
use std::time::Duration;

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::engine::stock_flows::PassMode;
use syncdesk::engine::{Engine, EngineHandle, default_handlers};
use syncdesk::store::inventory as stock_rows;
use syncdesk::store::{JobState, Store};

use crate::stock_rig;
use stock_rig::Rig;

/// The shared rig, plus the config written to a file so the built binary (`cli`) sees the same systems.
async fn start(aligned: usize) -> Rig {
    let rig = Rig::start(60, 80, aligned).await;
    let (w, c) = (&rig.config.woocommerce, &rig.config.counterpoint.connection);
    let text = format!(
        "[woocommerce]\nenabled = true\nurl = \"{}\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"\nauth = \"oauth\"\n\
         [counterpoint]\nenabled = true\n[counterpoint.connection]\nhost = \"{}\"\nport = {}\nuser = \"{}\"\n\
         password = \"{}\"\ndatabase = \"{}\"\nencryption = \"off\"\n[stock]\nenabled = true\n",
        w.url,
        w.consumer_key.expose(),
        w.consumer_secret.expose(),
        c.host,
        c.port,
        c.user,
        c.password.expose(),
        c.database
    );
    let config_path = rig.dir.path().join("config.toml");
    std::fs::write(&config_path, text).unwrap();
    assert_eq!(
        Config::load(&config_path, true)
            .unwrap()
            .counterpoint
            .connection,
        rig.config.counterpoint.connection
    );
    rig
}

impl Rig {
    /// The binary on this rig's database and config, as operator `ops`.
    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        run(self.dir.path(), args)
    }

    fn app(&self) -> App {
        App::open(&self.db, self.config.clone(), Actor::operator("test")).unwrap()
    }

    fn engine(&self) -> EngineHandle {
        // No schedules: only the jobs the test enqueues run.
        Engine::new(
            &self.db,
            self.config.clone(),
            default_handlers(&self.config),
        )
        .spawn()
        .unwrap()
    }

    /// A first pass to agree, then an edit in the store no sale explains on pair `i`: an open manual conflict.
    async fn manual_conflict(&self, i: usize) -> i64 {
        let first = self.pass(PassMode::Full, false).await;
        assert!(first.failed.is_empty(), "{:?}", first.failed);
        self.woo
            .set_stock(self.pairs[i].2, self.store_stock(i) + 50)
            .unwrap();
        let second = self.pass(PassMode::Full, false).await;
        assert!(
            second
                .conflicts
                .iter()
                .any(|c| c.sku == self.pairs[i].0 && c.message.starts_with("unexplained_change")),
            "{:?}",
            second.conflicts
        );
        self.store_stock(i)
    }
}

async fn eventually<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Resolves pair `i` through the CLI, lets the engine apply it and checks the outcome; returns the quantity.
/// `how` is the resolution as recorded, `said` as the CLI words it.
async fn resolve_and_apply(
    rig: &Rig,
    i: usize,
    args: &[&str],
    (how, said): (&str, &str),
    expected: i64,
) {
    let sku = rig.pairs[i].0.clone();
    let mut cmd = vec!["conflicts", "resolve", sku.as_str()];
    cmd.extend_from_slice(args);
    let (code, out, err) = rig.cli(&cmd);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(said) && out.contains(&expected.to_string()),
        "{out}"
    );

    let mut app = rig.app();
    let resolved: Vec<_> = app
        .stock_conflicts(true, 100)
        .unwrap()
        .into_iter()
        // (The first sync may have raised one a policy settled.)
        .filter(|c| c.sku == sku && c.resolved_by.as_deref() != Some("policy"))
        .collect();
    assert!(!resolved.is_empty());
    for c in &resolved {
        assert!(c.resolved_at.is_some(), "{c:?}");
        assert_eq!(c.resolved_by.as_deref(), Some("ops"));
        assert_eq!(c.resolution.as_deref(), Some(how));
        assert_eq!(c.quantity, Some(expected));
    }
    // Nothing written yet: the command only enqueued the job (the outbox).
    let queued = app.jobs(Some(JobState::Queued), 100).unwrap();
    assert!(
        queued.iter().any(|j| j.kind == "stock.apply_resolution"
            && j.key.as_deref() == Some(&*format!("stock:{sku}"))),
        "{queued:?}"
    );
    // A pass before the job runs leaves the SKU alone (no conflict raised again).
    let meanwhile = rig.pass(PassMode::Full, false).await;
    assert!(
        meanwhile.conflicts.iter().all(|c| c.sku != sku),
        "{:?}",
        meanwhile.conflicts
    );

    let engine = rig.engine();
    engine.wake();
    eventually("resolution applied", Duration::from_secs(15), || {
        app.jobs(Some(JobState::Done), 50)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "stock.apply_resolution")
    })
    .await;
    engine.shutdown().await.unwrap();
    assert_eq!(rig.store_stock(i), expected, "the store shows the decision");
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    let pair = stock_rows::find(store.conn(), &sku).unwrap().unwrap();
    assert_eq!(pair.sync_state, "synced");
    let base = pair.base.unwrap();
    assert_eq!((base.agreed, base.store_seen), (expected, expected));
    drop(store);

    let next = rig.pass(PassMode::Full, false).await;
    assert!(
        next.conflicts.iter().all(|c| c.sku != sku),
        "no conflict after resolving: {:?}",
        next.conflicts
    );
    assert!(
        next.changes.iter().all(|c| c.sku != sku),
        "{:?}",
        next.changes
    );
    assert_eq!(rig.store_stock(i), expected);
    assert!(
        rig.app()
            .stock_conflicts(false, 100)
            .unwrap()
            .iter()
            .all(|c| c.sku != sku)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_conflict_resolved_with_the_pos_as_winner_puts_the_pos_quantity_in_the_store() {
    let rig = start(5).await;
    let edited = rig.manual_conflict(1).await;
    let pos = rig.pos_levels().await[&rig.pairs[1].1];
    assert_ne!(edited, pos);
    let open = rig.app().stock_conflicts(false, 100).unwrap();
    let c = open.iter().find(|c| c.sku == rig.pairs[1].0).unwrap();
    assert_eq!(
        c.pos_value.as_deref(),
        Some(&*pos.to_string()),
        "the POS value is recorded"
    );
    resolve_and_apply(
        &rig,
        1,
        &["--winner", "pos"],
        ("pos_wins", "(POS wins)"),
        pos,
    )
    .await;
    let base = {
        let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
        stock_rows::find(store.conn(), &rig.pairs[1].0)
            .unwrap()
            .unwrap()
            .base
            .unwrap()
    };
    assert_eq!(base.pos_seen, pos);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counted_quantity_settles_the_conflict() {
    let rig = start(5).await;
    rig.manual_conflict(2).await;
    resolve_and_apply(
        &rig,
        2,
        &["--qty", "7"],
        ("quantity", "(counted quantity)"),
        7,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_without_an_open_conflict_or_with_bad_arguments_exits_2() {
    let rig = start(3).await;
    rig.pass(PassMode::Full, false).await;
    let sku = rig.pairs[0].0.clone();
    let (code, out, err) = rig.cli(&["conflicts", "resolve", &sku, "--winner", "pos"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains(&sku) && err.contains("no open stock conflict"),
        "{err}"
    );
    let (code, _, err) = rig.cli(&[
        "conflicts",
        "resolve",
        &sku,
        "--winner",
        "pos",
        "--qty",
        "3",
    ]);
    assert_eq!(code, 2, "both given: {err}");
    let (code, _, err) = rig.cli(&["conflicts", "resolve", &sku]);
    assert_eq!(code, 2, "neither given: {err}");
    rig.manual_conflict(0).await;
    let (code, _, err) = rig.cli(&["conflicts", "resolve", &sku, "--qty", "-4"]);
    assert_eq!(code, 2, "negative: {err}");
    assert!(err.contains("negative"), "{err}");
    assert!(
        rig.app()
            .stock_conflicts(false, 100)
            .unwrap()
            .iter()
            .any(|c| c.sku == sku),
        "a rejected resolution leaves the conflict open"
    );
    assert!(
        rig.app()
            .jobs(Some(JobState::Queued), 100)
            .unwrap()
            .iter()
            .all(|j| j.kind != "stock.apply_resolution"),
        "nothing enqueued for a rejected resolution"
    );

    // A side whose value is unknown cannot win: aligned, but the store has no such product.
    let spare = rig
        .cp
        .shop()
        .item_numbers()
        .unwrap()
        .into_iter()
        .find(|i| rig.pairs.iter().all(|p| &p.1 != i))
        .unwrap();
    rig.app()
        .import_alignment(&format!(
            "POS SKU,WooCommerce SKU\n{spare},NO-SUCH-PRODUCT\n"
        ))
        .unwrap();
    rig.pass(PassMode::Full, false).await;
    let (code, _, err) = rig.cli(&["conflicts", "resolve", "NO-SUCH-PRODUCT", "--winner", "woo"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("missing_alignment") && err.contains("store quantity"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detect_lists_and_writes_the_conflicts_a_pass_would_raise_and_changes_nothing() {
    let rig = start(5).await;
    rig.pass(PassMode::Full, false).await;
    rig.woo
        .set_stock(rig.pairs[3].2, rig.store_stock(3) + 50)
        .unwrap();
    let store_before: Vec<i64> = (0..5).map(|i| rig.store_stock(i)).collect();
    let pos_before = rig.pos_levels().await;
    let bases_before = {
        let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
        stock_rows::aligned(store.conn()).unwrap()
    };
    let file = rig.dir.path().join("conflicts.csv");
    let (code, out, err) = rig.cli(&["conflicts", "detect", "--csv", &file.to_string_lossy()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&rig.pairs[3].0) && out.contains("unexplained_change"),
        "{out}"
    );
    assert!(out.contains("dry run"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("sku,type,pos,store,base,proposed,detail")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{text}");
    let fields: Vec<&str> = rows[0].splitn(7, ',').collect();
    assert_eq!(fields[0], rig.pairs[3].0);
    assert_eq!(fields[1], "unexplained_change");
    assert_eq!(fields[2], pos_before[&rig.pairs[3].1].to_string());
    assert_eq!(fields[3], store_before[3].to_string());
    assert_eq!(
        fields[4],
        bases_before
            .iter()
            .find(|p| p.store_sku == rig.pairs[3].0)
            .unwrap()
            .base
            .unwrap()
            .agreed
            .to_string()
    );

    // Nothing changed on either side, nor in the database.
    assert_eq!(
        (0..5).map(|i| rig.store_stock(i)).collect::<Vec<_>>(),
        store_before
    );
    assert_eq!(rig.pos_levels().await, pos_before);
    assert!(rig.app().stock_conflicts(false, 100).unwrap().is_empty());
    let store = Store::open(&rig.db, Duration::from_secs(5)).unwrap();
    assert_eq!(stock_rows::aligned(store.conn()).unwrap(), bases_before);

    let (code, out, _) = rig.cli(&["conflicts", "detect", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resolution_the_store_refuses_with_403_is_not_retried_and_says_why() {
    let rig = start(5).await;
    rig.manual_conflict(3).await;
    let sku = rig.pairs[3].0.clone();
    let (code, out, err) = rig.cli(&["conflicts", "resolve", &sku, "--qty", "9"]);
    assert_eq!(code, 0, "{out}{err}");
    // The key syncdesk uses may not edit this product (woocommerce_rest_cannot_edit, 403).
    rig.woo.lock_product(rig.pairs[3].2, true);
    let engine = rig.engine();
    engine.wake();
    let mut app = rig.app();
    let dead = eventually("the resolution dead", Duration::from_secs(15), || {
        app.jobs(Some(JobState::Dead), 50)
            .unwrap()
            .into_iter()
            .find(|j| j.kind == "stock.apply_resolution")
    })
    .await;
    // Long enough for a retry with the rig's backoff to have happened, were there one.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    engine.shutdown().await.unwrap();
    assert_eq!(dead.attempts, 1, "a 403 is not tried again: {dead:?}");
    let detail = app.job_detail(dead.id).unwrap();
    assert_eq!(detail.job.attempts, 1, "{detail:#?}");
    assert_eq!(detail.history.len(), 1, "{detail:#?}");
    assert_eq!(detail.history[0].outcome, "permanent");
    assert!(
        detail
            .job
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("woocommerce_rest_cannot_edit"),
        "the real cause is the error: {detail:#?}"
    );
}
