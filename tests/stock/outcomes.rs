//! What a stock or price pass job leaves on its row when it finishes (`jobs.outcome`): the counts
//! `syncdesk sync run` prints last, in the same words — what the console's `:sync` toast then shows.

use syncdesk::app::SyncPass;
use syncdesk::engine::JobHandler;
use syncdesk::engine::passes::PassOptions;
use syncdesk::engine::price_flows::PricePassJob;
use syncdesk::engine::stock_flows::{PassMode, StockPassJob};
use syncdesk::store::{Job, NewJob, jobs};

use crate::stock_rig::Rig;

/// A job of `kind` claimed as the engine claims it (a row in the store, running).
fn claimed(rig: &Rig, kind: &str) -> Job {
    rig.store()
        .write(|tx| -> syncdesk::store::Result<Job> {
            let job = NewJob {
                kind: kind.into(),
                key: None,
                payload: "{}".into(),
                run_at: 0,
                max_attempts: 1,
            };
            jobs::enqueue(tx, &job, 0)?;
            Ok(jobs::claim(tx, kind, 1, "engine-test", 60_000, 1)?.remove(0))
        })
        .unwrap()
}

/// The last line `sync run <pass>` prints now (run twice first, so the job that follows meets the
/// same state and must count the same).
async fn printed(rig: &Rig, pass: SyncPass) -> String {
    let app = rig.app();
    app.run_pass(pass, PassOptions::default()).await.unwrap();
    let report = app.run_pass(pass, PassOptions::default()).await.unwrap();
    report.summary().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_and_price_pass_jobs_record_the_counts_sync_run_prints() {
    let rig = Rig::start(20, 20, 10).await;

    let expected = printed(&rig, SyncPass::Full).await;
    assert!(expected.contains(" examined"), "{expected}");
    let job = claimed(&rig, "stock.full_pass");
    assert_eq!(job.outcome, None);
    let handler = StockPassJob::new(&rig.config, PassMode::Full);
    handler.run(&job, &rig.ctx()).await.unwrap();
    let outcome = jobs::outcome(rig.store().conn(), job.id).unwrap();
    assert_eq!(outcome.as_deref(), Some(expected.as_str()));

    let expected = printed(&rig, SyncPass::Prices).await;
    let job = claimed(&rig, "stock.price_pass");
    PricePassJob::new(&rig.config)
        .run(&job, &rig.ctx())
        .await
        .unwrap();
    let got = rig.app().job(job.id).unwrap().outcome;
    assert_eq!(got.as_deref(), Some(expected.as_str()));

    // Claimed again (run again by an engine), a job reports that run or nothing.
    rig.store()
        .write(|tx| -> syncdesk::store::Result<()> {
            jobs::requeue(tx, job.id, 2)?;
            jobs::claim(tx, "stock.price_pass", 1, "engine-test", 60_000, 3)?;
            Ok(())
        })
        .unwrap();
    assert_eq!(rig.app().job(job.id).unwrap().outcome, None);
}
