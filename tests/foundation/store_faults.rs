//! The store's own failures, as an operator meets them: a damaged file is refused on open with what to do,
//! open errors name the file, a full disk is reported as a full disk (and classified as one to wait out),
//! and a database this process may not write is still readable.

use std::time::Duration;

use syncdesk::app::{Actor, App};
use syncdesk::store::{Store, StoreError, StoreOptions, Unavailable, jobs};

use crate::support::{Scratch, fast_config};

#[test]
fn a_damaged_database_is_refused_on_open_with_what_to_do() {
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    for i in 0..300 {
        app.add_order(
            &format!("R-{i}"),
            Some("Kavarna Luna"),
            "manual",
            &[("BEAN-1KG".into(), 2)],
        )
        .unwrap();
    }
    drop(app);
    // Checkpoint the WAL into the main file, then scribble over pages in the middle of it.
    {
        let store = scratch.store();
        store
            .conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let db = scratch.db();
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    assert!(bytes.len() > 20 * page, "{} bytes", bytes.len());
    for b in &mut bytes[10 * page + 100..14 * page] {
        *b = 0x5a;
    }
    std::fs::write(&db, bytes).unwrap();

    // The engine checks when it starts (the default), and refuses to run on it.
    let options = StoreOptions::for_engine(&fast_config().store);
    assert!(
        options.quick_check,
        "checked when the engine starts, by default"
    );
    let err = Store::open_with(&db, &options)
        .err()
        .expect("a damaged file is refused");
    assert!(matches!(err, StoreError::Damaged { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&db.display().to_string()),
        "names the file: {text}"
    );
    assert!(
        text.contains("damaged") && text.contains("backup"),
        "says what to do: {text}"
    );
    let engine = syncdesk::engine::Engine::new(
        &db,
        fast_config(),
        syncdesk::engine::HandlerRegistry::default(),
    );
    let refused = engine
        .spawn()
        .err()
        .expect("the engine does not start on it");
    assert!(refused.to_string().contains("damaged"), "{refused}");
    // With quick_check = "always", every command and the console refuse it the same way.
    let mut always = fast_config();
    always.store.quick_check = syncdesk::config::QuickCheck::Always;
    let refused = App::open(&db, always, Actor::operator("alice"))
        .err()
        .unwrap();
    assert!(refused.to_string().contains("damaged"), "{refused}");
}

#[test]
fn open_errors_name_the_file() {
    let scratch = Scratch::new();
    // A folder where the database file should be.
    let db = scratch.dir.path().join("data.db");
    std::fs::create_dir(&db).unwrap();
    let err = Store::open(&db, Duration::from_secs(1)).err().unwrap();
    let text = err.to_string();
    assert!(text.starts_with("cannot open the database "), "{text}");
    assert!(text.contains(&db.display().to_string()), "{text}");
}

#[test]
fn a_full_disk_is_reported_as_a_full_disk() {
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.store.max_size_mb = 1;
    drop(scratch.app_with("alice", config.clone()));
    let mut store =
        Store::open_with(&scratch.db(), &StoreOptions::from_config(&config.store)).unwrap();
    let filled = store.write(|tx| {
        tx.execute_batch("CREATE TABLE ballast (b BLOB)")?;
        for _ in 0..1000 {
            tx.execute("INSERT INTO ballast VALUES (zeroblob(8000))", [])?;
        }
        Ok::<_, StoreError>(())
    });
    let err = filled.expect_err("a 1 MiB database fills up");
    assert_eq!(err.unavailable(), Some(Unavailable::DiskFull), "{err:?}");
    assert!(err.to_string().starts_with("disk full:"), "{err}");
    // Remembered as an outage (for /health and the receivers) until a write works again.
    assert_eq!(
        store.note_error(&err).map(|o| o.condition),
        Some(Unavailable::DiskFull)
    );
    store.write(|tx| jobs::next_run_at(tx).map(|_| ())).unwrap();
    assert_eq!(store.outage(), None);

    // An operator command on the full database says so too.
    let mut app = scratch.app_with("alice", config.clone());
    app.add_order("R-1", None, "manual", &[("A".into(), 1)])
        .unwrap();
    let err = (0..200)
        .find_map(|i| {
            app.add_order(
                &format!("BIG-{i}"),
                Some(&"x".repeat(3000)),
                "manual",
                &[("A".into(), 1)],
            )
            .err()
        })
        .expect("the order table cannot grow either");
    assert!(err.to_string().contains("disk full"), "{err}");
}

#[test]
fn a_database_this_process_may_not_write_is_still_readable() {
    use std::os::unix::fs::PermissionsExt;
    let scratch = Scratch::new();
    let mut app = scratch.app("alice");
    app.add_order(
        "R-1",
        Some("Kavarna Luna"),
        "manual",
        &[("BEAN-1KG".into(), 2)],
    )
    .unwrap();
    drop(app);
    {
        let store = scratch.store();
        store
            .conn()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    let db = scratch.db();
    let dir = scratch.dir.path();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let privileged = std::fs::OpenOptions::new().write(true).open(&db).is_ok();
    let result = std::panic::catch_unwind(|| {
        let store = Store::open(&db, Duration::from_secs(1)).expect("opens for reading");
        let mut app =
            App::open(&db, fast_config(), Actor::operator("alice")).expect("the app opens");
        let order = app.order("R-1").expect("and reads");
        assert_eq!(order.customer.as_deref(), Some("Kavarna Luna"));
        if !privileged {
            assert!(store.is_read_only());
            let err = app
                .add_order("R-2", None, "manual", &[("A".into(), 1)])
                .unwrap_err();
            assert!(err.to_string().contains("read-only"), "{err}");
        }
    });
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    if privileged {
        eprintln!(
            "note: running with privileges that ignore file modes; only the read path was checked"
        );
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
