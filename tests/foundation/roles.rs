//! Roles enforced through `app` (#15 point 7): for each role one action it may take and one it may not; the
//! refusal names the role and the action, and the store is left exactly as it was (every table, every row).

use syncdesk::app::{Actor, App, AppError, SyncPass};
use syncdesk::config::Config;
use syncdesk::domain::Role;
use tempfile::TempDir;

/// A shop whose `[roles]` lists vic (viewer), wendy (warehouse), olga (ops); anyone else is the default
/// admin. The web store is on (so a sync can be asked for; nothing is sent from here), R-1 is Pending.
fn shop() -> (TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.roles.viewer = vec!["vic".into()];
    config.roles.warehouse = vec!["Wendy".into()];
    config.roles.ops = vec!["olga".into()];
    config.woocommerce.enabled = true;
    let mut app = App::open(
        &dir.path().join("s.db"),
        config.clone(),
        Actor::operator("root"),
    )
    .expect("open app");
    app.add_order("R-1", Some("Ada"), "manual", &[("SKU-A".into(), 2)])
        .expect("add R-1");
    (dir, config)
}

fn open_as(dir: &TempDir, config: &Config, actor: Actor) -> App {
    App::open(&dir.path().join("s.db"), config.clone(), actor).expect("open app")
}

/// Every row of every table, as text: what "the store is unchanged" compares.
fn everything(app: &mut App) -> Vec<String> {
    let conn = app.store().conn();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let n = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        while let Some(row) = q.next().unwrap() {
            let values: Vec<rusqlite::types::Value> = (0..n).map(|i| row.get(i).unwrap()).collect();
            rows.push(format!("{table}: {values:?}"));
        }
    }
    rows
}

/// Runs `forbidden` and asserts it is refused with `expected` in its message and writes nothing.
fn refused<T: std::fmt::Debug>(
    app: &mut App,
    expected: &str,
    forbidden: impl FnOnce(&mut App) -> Result<T, AppError>,
) {
    let before = everything(app);
    match forbidden(app) {
        Err(AppError::Rejected(message)) => {
            assert!(
                message.contains(expected),
                "refusal '{message}' should say '{expected}'"
            )
        }
        other => panic!("expected a refusal saying '{expected}', got {other:?}"),
    }
    assert_eq!(
        everything(app),
        before,
        "a refused command changed the store"
    );
}

#[test]
fn a_viewer_reads_and_may_change_nothing() {
    let (dir, config) = shop();
    let mut app = open_as(&dir, &config, Actor::operator("vic"));
    assert_eq!(app.role(), Role::Viewer);
    assert_eq!(app.order("R-1").unwrap().number, "R-1");
    refused(
        &mut app,
        "viewer may not change statuses (acting as vic)",
        |a| a.change_status("R-1", "Processing", None, None),
    );
    refused(&mut app, "viewer may not cancel orders", |a| {
        a.cancel("R-1", "customer asked", None)
    });
}

#[test]
fn readonly_pins_the_viewer_role_whatever_roles_say() {
    let (dir, config) = shop();
    let mut app = open_as(
        &dir,
        &config,
        Actor::operator("root").with_role(Role::Viewer),
    );
    assert_eq!(app.role(), Role::Viewer);
    refused(&mut app, "viewer may not run syncs", |a| {
        a.run_sync_now(SyncPass::Orders)
    });
}

#[test]
fn warehouse_moves_orders_and_may_not_run_syncs_or_resolve_conflicts() {
    let (dir, config) = shop();
    let mut app = open_as(&dir, &config, Actor::operator("wendy"));
    assert_eq!(app.role(), Role::Warehouse);
    let change = app.change_status("R-1", "Processing", None, None).unwrap();
    assert_eq!(app.order("R-1").unwrap().status, "Processing", "{change:?}");
    refused(&mut app, "warehouse may not run syncs", |a| {
        a.run_sync_now(SyncPass::Orders)
    });
    refused(&mut app, "warehouse may not resolve conflicts", |a| {
        a.resolve_any_conflict(
            "SKU-A",
            syncdesk::app::Resolution::Winner(syncdesk::app::Winner::Pos),
        )
    });
}

#[test]
fn ops_runs_syncs_and_may_not_change_statuses() {
    let (dir, config) = shop();
    let mut app = open_as(&dir, &config, Actor::operator("olga"));
    assert_eq!(app.role(), Role::Ops);
    let asked = app.run_sync_now(SyncPass::Orders).unwrap();
    assert_eq!(app.job(asked.job_id).unwrap().id, asked.job_id);
    refused(
        &mut app,
        "ops may not change statuses (acting as olga)",
        |a| a.change_status("R-1", "Processing", None, None),
    );
}

#[test]
fn admin_and_names_not_listed_may_do_both() {
    let (dir, config) = shop();
    let mut app = open_as(&dir, &config, Actor::operator("someone new"));
    assert_eq!(app.role(), Role::Admin, "the default role");
    app.change_status("R-1", "Processing", None, None).unwrap();
    app.run_sync_now(SyncPass::Orders).unwrap();
    assert_eq!(app.order("R-1").unwrap().status, "Processing");
}

#[test]
fn bad_roles_are_refused_naming_the_field() {
    let twice = "[roles]\nwarehouse = [\"ana\"]\nops = [\"Ana\"]\n";
    let e = Config::parse(twice).unwrap_err();
    assert!(
        e.starts_with("roles.ops[0]") && e.contains("roles.warehouse"),
        "{e}"
    );
    let unknown = "[roles]\ndefault = \"boss\"\n";
    let e = Config::parse(unknown).unwrap_err();
    assert!(e.contains("roles.default"), "{e}");
    let e = Config::parse("[roles]\ncashier = [\"x\"]\n").unwrap_err();
    assert!(e.contains("cashier"), "{e}");
}
