//! The ERP subcommands as a user runs them: the built binary against the Metakocka simulator on loopback
//! (`orders unsynced [--json]`, `sync run erp [--order N]`, `check`), asserting output, exit codes and
//! what each side holds.

use crate::cli_support;
use cli_support::run;

use syncdesk_sim::metakocka::{MetakockaSim, MetakockaSimConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_unsynced_lists_both_sides_and_sync_run_erp_pulls_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let sim_cfg = MetakockaSimConfig::default();
    let sim = MetakockaSim::start(sim_cfg.clone()).await.unwrap();
    sim.set_stock("1600000001", "SKU-A", 10.0);
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[metakocka]\nenabled = true\nbase_url = \"{}\"\ncompany_id = \"{}\"\nsecret_key = \"{}\"\nwarehouse = \"1600000001\"\nchannels = [\"manual\"]\nmax_attempts = 1\n",
            sim.base_url(),
            sim_cfg.company_id,
            sim_cfg.secret_key
        ),
    )
    .unwrap();

    let (code, out, err) = run(dir.path(), &["check"]);
    assert!(out.contains("ok    metakocka:"), "{out}{err}");
    assert!(out.contains("read warehouse 1600000001"), "{out}");
    let _ = code; // smtp has no sink here; only the metakocka line matters

    // Ours: entered Processing (the job has not run: no engine here) → not in Metakocka yet.
    let (code, _, err) = run(
        dir.path(),
        &["orders", "add", "--number", "1001", "--line", "SKU-A=2"],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(dir.path(), &["orders", "set-status", "1001", "Processing"]);
    assert_eq!(code, 0, "{err}");
    // A Pending order never reached the status that sends it: not listed.
    run(
        dir.path(),
        &["orders", "add", "--number", "1002", "--line", "SKU-A=1"],
    );
    // Theirs: entered in Metakocka.
    let mk_id = sim
        .add_sales_order("MK-77", "Ana Kovač", &[("SKU-A", 1.0)])
        .unwrap();

    let (code, out, err) = run(dir.path(), &["orders", "unsynced"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Not in Metakocka (1):"), "{out}");
    assert!(
        out.contains("1001") && out.contains("not sent yet"),
        "{out}"
    );
    assert!(!out.contains("1002"), "{out}");
    assert!(out.contains("Not in syncdesk (1):"), "{out}");
    assert!(out.contains(&mk_id) && out.contains("MK-77"), "{out}");

    let (code, out, err) = run(dir.path(), &["sync", "run", "erp", "--order", "MK-77"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "did create MK-77 (Metakocka {mk_id}) as Processing"
        )),
        "{out}"
    );

    let (code, out, err) = run(dir.path(), &["orders", "unsynced", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["not_in_metakocka"].as_array().unwrap().len(), 1);
    assert_eq!(v["not_in_metakocka"][0]["number"], "1001");
    assert_eq!(v["not_in_syncdesk"].as_array().unwrap().len(), 0, "{out}");

    let (code, out, _) = run(dir.path(), &["orders", "show", "MK-77", "--json"]);
    assert_eq!(code, 0);
    let order: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(order["channel"], "metakocka");
    assert_eq!(order["customer"], "Ana Kovač");

    // A sales order that does not exist is a rejected input, named.
    let (code, _, err) = run(dir.path(), &["sync", "run", "erp", "--order", "NOPE-1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no sales order NOPE-1"), "{err}");
    let (code, _, err) = run(dir.path(), &["sync", "run", "orders", "--order", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("--order"), "{err}");
    sim.shutdown().await;
}
