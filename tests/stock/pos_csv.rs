//! The file-only POS: its stock export is read line by line with bad lines named and skipped, and online
//! sales reach it as reductions files written atomically, each order line once — across repeated runs, a
//! crash between recording and writing, and a cancellation (put back once).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use syncdesk::app::{Actor, App};
use syncdesk::config::Config;
use syncdesk::domain::alignment::{Alignment, AlignmentLine};
use syncdesk::engine::{default_handlers, default_schedules};
use syncdesk::integrations::pos_csv::client::{
    PosCsvConfig, PosCsvError, Reduction, fingerprint, read_stock, write_reductions,
};
use syncdesk::integrations::pos_csv::flows::{self as pos_csv_flows, run_write_reductions};
use syncdesk::integrations::pos_csv::stock_source::ExportStock;
use syncdesk::stock::PosSource;
use syncdesk::store::inventory;
use syncdesk::store::pos_reductions::{self, LineKind};

use crate::flow_rig::FlowRig;

fn export(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("stock.csv");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_lines_are_named_and_skipped_and_valid_lines_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(
        dir.path(),
        "sku,quantity,retail_price\n\
         BIG-BUD-1L,12,19.99\n\
         ,3,1.00\n\
         FF-OCEAN-1.5,7.5,24.50\n\
         GH-FLORA,4,cheap\n\
         \n\
         CAL-MAG,5.000,\n\
         BIG-BUD-1L,1,19.99\n\
         NOQTY,,2\n",
    );
    let stock = read_stock(&path, &PosCsvConfig::default()).unwrap();
    let skus: Vec<(&str, i64)> = stock
        .levels
        .iter()
        .map(|l| (l.sku.as_str(), l.qty))
        .collect();
    assert_eq!(skus, [("BIG-BUD-1L", 12), ("CAL-MAG", 5)]);
    assert_eq!(stock.levels[0].price, Some("19.99".parse().unwrap()));
    assert_eq!(stock.levels[1].price, None);
    // The same levels and prices as a stock pass reads them from this POS source.
    let source = ExportStock(PosCsvConfig {
        export_path: path.clone(),
        ..PosCsvConfig::default()
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let levels = runtime.block_on(source.levels()).unwrap();
    assert_eq!(levels[0].item_no, "BIG-BUD-1L");
    assert_eq!(levels[0].qty_avail.to_string(), "12");
    let prices = runtime.block_on(source.prices()).unwrap();
    assert_eq!(
        prices
            .iter()
            .map(|(sku, p)| (sku.as_str(), p.map(|p| p.to_string())))
            .collect::<Vec<_>>(),
        [("BIG-BUD-1L", Some("19.99".to_string()))]
    );
    let errors: Vec<String> = stock.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "line 3, column sku: empty",
            "line 4, column quantity: '7.5' is not a whole number",
            "line 5, column retail_price: 'cheap' is not a price",
            "line 8, column sku: 'BIG-BUD-1L' already appeared on line 2",
            "line 9, column quantity: '' is not a whole number",
        ]
    );
}

#[test]
fn bom_crlf_quoted_fields_other_delimiter_and_header_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(
        dir.path(),
        "\u{feff}\"Item Number\";On Hand;Retail Price\r\n\
         \"A;1\";3;\"1.50\"\r\n\
         \"SAY \"\"HI\"\"\";-2;\r\n\
         \"OPEN;9;1\r\n",
    );
    let cfg = PosCsvConfig {
        sku_column: "item_number".into(),
        quantity_column: "ON_HAND".into(),
        price_column: "retail price".into(),
        delimiter: ';',
        ..PosCsvConfig::default()
    };
    let stock = read_stock(&path, &cfg).unwrap();
    assert_eq!(stock.levels.len(), 2, "{:?}", stock.errors);
    assert_eq!(stock.levels[0].sku, "A;1");
    assert_eq!(stock.levels[0].price, Some("1.50".parse().unwrap()));
    assert_eq!(stock.levels[1].sku, "SAY \"HI\"");
    assert_eq!(stock.levels[1].qty, -2);
    assert_eq!(
        stock
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>(),
        ["line 4, column -: unterminated quote (a field cannot span lines)"]
    );

    // The default layout with a BOM and CRLF; a decimal comma is named, not guessed.
    let path = export(
        dir.path(),
        "\u{feff}sku,QUANTITY,Retail_Price\r\nA,3,1.50\r\nB,1,\"1,50\"\r\n",
    );
    let stock = read_stock(&path, &PosCsvConfig::default()).unwrap();
    assert_eq!(stock.levels.len(), 1);
    assert_eq!(stock.levels[0].sku, "A");
    assert_eq!(
        stock.errors[0].to_string(),
        "line 3, column retail_price: '1,50' is not a price"
    );
}

#[test]
fn missing_column_missing_file_and_empty_file_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = PosCsvConfig::default();
    let path = export(dir.path(), "sku,qty\nA,1\n");
    let err = read_stock(&path, &cfg).unwrap_err();
    assert!(matches!(err, PosCsvError::MissingColumn { .. }));
    let msg = err.to_string();
    assert!(msg.contains("stock.csv"), "{msg}");
    assert!(msg.contains("no 'quantity' column"), "{msg}");
    assert!(msg.contains("found: sku, qty"), "{msg}");

    let missing = dir.path().join("nope.csv");
    let msg = read_stock(&missing, &cfg).unwrap_err().to_string();
    assert!(
        msg.contains("nope.csv") && msg.contains("does not exist"),
        "{msg}"
    );

    let path = export(dir.path(), "\u{feff}\n\n");
    let msg = read_stock(&path, &cfg).unwrap_err().to_string();
    assert!(msg.contains("stock.csv") && msg.contains("empty"), "{msg}");

    // No price column is fine: prices are unknown.
    let path = export(dir.path(), "SKU,Quantity\nA,1\n");
    let stock = read_stock(&path, &cfg).unwrap();
    assert_eq!(stock.levels[0].price, None);
}

#[test]
fn an_unchanged_export_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let path = export(dir.path(), "sku,quantity\nA,1\n");
    let first = read_stock(&path, &PosCsvConfig::default()).unwrap();
    assert_eq!(fingerprint(&path).unwrap(), first.fingerprint);
    assert_eq!(first.modified, first.fingerprint.modified);
    // The POS rewrites the file with the same size: the modification time still tells.
    fs::write(&path, "sku,quantity\nA,2\n").unwrap();
    let later = SystemTime::now() + Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    let now = fingerprint(&path).unwrap();
    assert_ne!(now, first.fingerprint);
    assert_eq!(now.size, first.fingerprint.size);
    assert_eq!(
        read_stock(&path, &PosCsvConfig::default()).unwrap().levels[0].qty,
        2
    );
}

#[test]
fn a_100k_line_export_parses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut out = std::io::BufWriter::new(fs::File::create(&path).unwrap());
    writeln!(out, "sku,quantity,retail_price").unwrap();
    for i in 0..100_000 {
        writeln!(out, "SKU-{i:06},{},{}.99", i % 50, i % 100).unwrap();
    }
    writeln!(out, "BROKEN,x,1").unwrap();
    drop(out);
    let stock = read_stock(&path, &PosCsvConfig::default()).unwrap();
    assert_eq!(stock.levels.len(), 100_000);
    assert_eq!(stock.errors.len(), 1);
    assert_eq!(stock.errors[0].line, 100_002);
    assert_eq!(stock.levels[99_999].sku, "SKU-099999");
}

#[test]
fn the_reductions_file_appears_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let reductions: Vec<Reduction> = (0..2000)
        .map(|i| Reduction {
            order_number: format!("W{i}"),
            line_no: 1,
            sku: if i == 0 {
                "A,\"B\"".into()
            } else {
                format!("S{i}")
            },
            qty: 1,
            reason: "woocommerce order".into(),
        })
        .collect();
    let target = dir.path().join("out.csv");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (target, done) = (target.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(text) = fs::read_to_string(&target) {
                    assert_eq!(text.lines().count(), 2001, "a partial file was visible");
                    seen += 1;
                }
            }
            seen
        })
    };
    for _ in 0..50 {
        let written = write_reductions(dir.path(), "out.csv", ',', &reductions).unwrap();
        assert_eq!(written.lines, 2000);
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["out.csv"], "no temporary file is left behind");
    let text = fs::read_to_string(&target).unwrap();
    assert!(
        text.starts_with("order_number,line_no,sku,quantity,reason\r\nW0,1,\"A,\"\"B\"\"\",1,")
    );
}

/// The flow rig (no simulator: the POS is files) with the folder the POS imports from, and the App kept open
/// as the operator who takes the orders.
struct Rig {
    flow: FlowRig,
    out: PathBuf,
    app: App,
}

impl std::ops::Deref for Rig {
    type Target = FlowRig;
    fn deref(&self) -> &FlowRig {
        &self.flow
    }
}

impl std::ops::DerefMut for Rig {
    fn deref_mut(&mut self) -> &mut FlowRig {
        &mut self.flow
    }
}

impl Rig {
    fn new() -> Rig {
        let flow = FlowRig::new(Config::default(), |dir, config| {
            let out = dir.join("pos-import");
            fs::create_dir(&out).unwrap();
            config.pos_csv.enabled = true;
            config.pos_csv.files.export_path = dir.join("stock.csv");
            config.pos_csv.files.reductions_dir = out;
        });
        let out = flow.config.pos_csv.files.reductions_dir.clone();
        let app = App::open(&flow.db, flow.config.clone(), Actor::operator("ann")).unwrap();
        Rig { flow, out, app }
    }

    fn order(&mut self, number: &str, channel: &str, lines: &[(&str, i64)]) {
        let lines: Vec<(String, i64)> = lines.iter().map(|(s, q)| (s.to_string(), *q)).collect();
        self.app.add_order(number, None, channel, &lines).unwrap();
    }

    fn status(&mut self, number: &str, status: &str) {
        self.app.change_status(number, status, None, None).unwrap();
    }

    fn run(&self) -> pos_csv_flows::ReductionRun {
        run_write_reductions(&mut self.store(), &self.config, 1).unwrap()
    }

    /// Every file the POS would import (not the hidden temporary ones), sorted, with its content.
    fn files(&self) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = fs::read_dir(&self.out)
            .map(|d| {
                d.map(|e| e.unwrap())
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            fs::read_to_string(e.path()).unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }
}

const HEADER: &str = "order_number,line_no,sku,quantity,reason\r\n";

#[test]
fn each_paid_web_order_line_is_written_once_across_runs() {
    let mut rig = Rig::new();
    inventory::upsert_alignment(
        rig.store().conn(),
        &[AlignmentLine {
            line: 2,
            pair: Alignment {
                pos_sku: "POS-A".into(),
                store_sku: "WEB-A".into(),
                match_type: "exact".into(),
                confidence: 1.0,
            },
        }],
        1,
    )
    .unwrap();
    rig.order("W1001", "woocommerce", &[("WEB-A", 2), ("WEB-B", 1)]);
    rig.order("W1002", "woocommerce", &[("WEB-B", 3)]);
    rig.order("S1", "phone", &[("WEB-A", 9)]);
    rig.status("W1001", "Processing");
    rig.status("S1", "Processing");
    // W1002 is still Pending (unpaid): nothing for it yet.
    let first = rig.run();
    assert_eq!(first.new_batch, Some(1));
    assert_eq!(
        rig.files(),
        [(
            "syncdesk-reductions-00000001.csv".to_string(),
            format!(
                "{HEADER}W1001,1,POS-A,2,woocommerce order W1001\r\n\
                 W1001,2,WEB-B,1,woocommerce order W1001\r\n"
            )
        )]
    );

    // Nothing new: no new file, the old one untouched.
    let again = rig.run();
    assert_eq!(again.new_batch, None);
    assert!(again.written.is_empty());
    assert_eq!(rig.files().len(), 1);

    // W1002 is paid; W1001 moves on (Ready to Ship is also a sale status) without being written again.
    rig.status("W1002", "Processing");
    rig.status("W1001", "Ready to Ship");
    rig.run();
    rig.run();
    let files = rig.files();
    assert_eq!(files.len(), 2);
    assert_eq!(
        files[1],
        (
            "syncdesk-reductions-00000002.csv".to_string(),
            format!("{HEADER}W1002,1,WEB-B,3,woocommerce order W1002\r\n")
        )
    );
    assert_eq!(
        pos_reductions::count_lines(rig.store().conn(), LineKind::Sale).unwrap(),
        3
    );
}

#[test]
fn a_batch_recorded_before_a_crash_is_written_once_with_the_same_content() {
    let mut rig = Rig::new();
    rig.order("W1", "woocommerce", &[("A", 1), ("B", 2)]);
    rig.status("W1", "Processing");
    let first = rig.run();
    let name = "syncdesk-reductions-00000001.csv";
    let content = fs::read_to_string(rig.out.join(name)).unwrap();
    assert_eq!(first.written, [rig.out.join(name)]);

    // Simulate the crash: the batch is committed as recorded but its file never reached the folder.
    let store = rig.store();
    store
        .conn()
        .execute(
            "UPDATE pos_reduction_batches SET state = 'recorded', written_at = NULL",
            [],
        )
        .unwrap();
    fs::remove_file(rig.out.join(name)).unwrap();

    let recovered = rig.run();
    assert_eq!(recovered.new_batch, None, "no line is recorded twice");
    assert_eq!(recovered.written, [rig.out.join(name)]);
    assert_eq!(rig.files(), [(name.to_string(), content.clone())]);

    // Once written, it is not written again.
    let after = rig.run();
    assert!(after.written.is_empty() && after.already_present.is_empty());
    assert_eq!(rig.files(), [(name.to_string(), content)]);
}

#[test]
fn a_crash_after_the_rename_keeps_the_file_as_is() {
    let mut rig = Rig::new();
    rig.order("W1", "woocommerce", &[("A", 1)]);
    rig.status("W1", "Processing");
    rig.run();
    let name = "syncdesk-reductions-00000001.csv";
    rig.store()
        .conn()
        .execute("UPDATE pos_reduction_batches SET state = 'recorded'", [])
        .unwrap();
    let run = rig.run();
    assert!(run.written.is_empty());
    assert_eq!(run.already_present, [rig.out.join(name)]);
}

#[test]
fn a_file_the_pos_has_taken_is_not_written_again() {
    let mut rig = Rig::new();
    rig.order("W1", "woocommerce", &[("A", 1)]);
    rig.status("W1", "Processing");
    rig.run();
    // The import folder is unreachable (an unmounted share): nothing is concluded about its files.
    let away = rig.out.with_extension("away");
    fs::rename(&rig.out, &away).unwrap();
    assert!(rig.run().taken.is_empty());
    // Nor is a file written into a folder that is not there.
    rig.order("W2", "woocommerce", &[("B", 1)]);
    rig.status("W2", "Processing");
    let err = run_write_reductions(&mut rig.store(), &rig.config, 1).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!rig.out.exists());
    fs::rename(&away, &rig.out).unwrap();
    // The POS imports the file and removes it from its folder.
    fs::remove_file(rig.out.join("syncdesk-reductions-00000001.csv")).unwrap();
    let run = rig.run();
    assert_eq!(run.taken, [1]);
    // W2's batch, recorded while the folder was away, is written now.
    assert_eq!(
        run.written,
        [rig.out.join("syncdesk-reductions-00000002.csv")]
    );
    fs::remove_file(&run.written[0]).unwrap();
    assert_eq!(rig.run().taken, [2]);
    assert!(rig.files().is_empty());
    assert!(rig.run().taken.is_empty());
    // What the POS took in counts once, as absorbed web sales, for the pass whose export can show it.
    let store = rig.store();
    let absorbed = pos_reductions::taken_between(store.conn(), 0, 1).unwrap();
    assert_eq!(
        absorbed.into_iter().collect::<Vec<_>>(),
        [("A".to_string(), 1), ("B".to_string(), 1)]
    );
    assert!(
        pos_reductions::taken_between(store.conn(), 1, 9)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_cancelled_order_puts_its_written_lines_back_once() {
    let mut rig = Rig::new();
    rig.order("W1", "woocommerce", &[("A", 2), ("B", 1)]);
    rig.order("W2", "woocommerce", &[("C", 1)]);
    rig.status("W1", "Processing");
    rig.run();
    rig.app
        .cancel("W1", "customer changed their mind", None)
        .unwrap();
    // W2 paid then cancelled between two runs: the POS never heard of it, so nothing to put back.
    rig.status("W2", "Processing");
    rig.app.cancel("W2", "fraud", None).unwrap();
    let run = rig.run();
    assert_eq!(run.new_batch, Some(2));
    rig.run();
    rig.run();
    let files = rig.files();
    assert_eq!(files.len(), 2);
    assert_eq!(
        files[1].1,
        format!(
            "{HEADER}W1,1,A,-2,woocommerce order W1 cancelled\r\n\
             W1,2,B,-1,woocommerce order W1 cancelled\r\n"
        )
    );
    let conn = rig.store();
    assert_eq!(
        pos_reductions::count_lines(conn.conn(), LineKind::Return).unwrap(),
        2
    );
}

#[test]
fn the_flow_is_scheduled_only_when_enabled_and_bad_settings_are_named() {
    let mut config = Config::default();
    assert!(
        !default_handlers(&config)
            .kinds()
            .any(|k| k == pos_csv_flows::WRITE_REDUCTIONS)
    );
    config.pos_csv.enabled = true;
    assert!(
        default_handlers(&config)
            .kinds()
            .any(|k| k == pos_csv_flows::WRITE_REDUCTIONS)
    );
    assert!(
        default_schedules(&config)
            .iter()
            .any(|s| format!("{s:?}").contains(pos_csv_flows::WRITE_REDUCTIONS.as_str()))
    );
    let err = Config::parse("[pos_csv]\nenabled = true\n").unwrap_err();
    assert!(err.contains("pos_csv.files.export_path"), "{err}");
    let err = Config::parse("[pos_csv.files]\nfile_pattern = \"x.csv\"\n").unwrap_err();
    assert!(err.contains("{batch}"), "{err}");
    let err = Config::parse("[pos_csv]\nsale_statuses = [\"Paid\"]\n").unwrap_err();
    assert!(err.contains("unknown status 'Paid'"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_writes_the_file_on_its_schedule() {
    let mut rig = Rig::new();
    rig.config.pos_csv.write_every_secs = 1;
    rig.config.jobs.poll_ms = 20;
    rig.order("W1", "woocommerce", &[("A", 4)]);
    rig.status("W1", "Processing");
    let engine =
        syncdesk::engine::Engine::new(&rig.db, rig.config.clone(), default_handlers(&rig.config))
            .with_schedules(default_schedules(&rig.config))
            .spawn()
            .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rig.files().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    engine.abort();
    assert_eq!(
        rig.files(),
        [(
            "syncdesk-reductions-00000001.csv".to_string(),
            format!("{HEADER}W1,1,A,4,woocommerce order W1\r\n")
        )]
    );
}
