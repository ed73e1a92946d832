//! Roles from the command line (#15 point 7): `--user` names the operator, `[roles]` in the config file
//! gives the role, and `app` refuses what the role may not do — exit code 2, the role named, nothing changed.

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;

use crate::cli_support::run;

#[test]
fn a_user_mapped_to_viewer_cannot_change_a_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = syncdesk::config::TEMPLATE.replace("viewer = []", "viewer = [\"ops\"]");
    assert_ne!(
        config,
        syncdesk::config::TEMPLATE,
        "the template lists viewers"
    );
    std::fs::write(dir.path().join("config.toml"), config).expect("config");
    let mut app = App::open(
        &dir.path().join("s.db"),
        Config::default(),
        Actor::operator("setup"),
    )
    .expect("open app");
    app.add_order("R-1", None, "manual", &[("SKU-A".into(), 1)])
        .expect("add R-1");
    drop(app);

    let (code, _, err) = run(dir.path(), &["orders", "set-status", "R-1", "processing"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("viewer may not change statuses (acting as ops)"),
        "{err}"
    );
    let (code, out, err) = run(dir.path(), &["orders", "show", "R-1", "--json"]);
    assert_eq!(code, 0, "a viewer still reads: {err}");
    assert!(out.contains("Pending"), "the status is unchanged: {out}");
}
