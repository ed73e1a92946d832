//! The backorder notice travels over real SMTP to a sink on loopback, and survives the mail server
//! being down: the job retries and the mail arrives, once, when the server is back.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use syncdesk::engine::{Engine, default_handlers};
use syncdesk::store::JobState;
use syncdesk_sim::smtp::SmtpSink;

use crate::support::{Scratch, fast_config, wait_for_job};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backorder_email_arrives_with_the_order_lines() {
    let sink = SmtpSink::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.email.smtp_port = sink.addr().port();
    config.email.purchasing = vec!["buyer@shop.test".into(), "boss@shop.test".into()];
    let mut app = scratch.app_with("alice", config.clone());
    app.add_order(
        "R-77",
        Some("Kavarna Luna"),
        "manual",
        &[("BEAN-1KG".into(), 4), ("FILTER-100".into(), 2)],
    )
    .unwrap();
    app.change_status("R-77", "backorder", Some("roaster out"), None)
        .unwrap();

    let engine = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();
    let mail = sink.wait_for(1, Duration::from_secs(10)).await;
    engine.shutdown().await.unwrap();

    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(m.to, ["buyer@shop.test", "boss@shop.test"]);
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("Backorder: order R-77 needs purchasing")
    );
    let body = m.body();
    assert!(body.contains("Kavarna Luna"), "{body}");
    let line = |sku: &str| {
        body.lines()
            .find(|l| l.starts_with(sku))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
    };
    assert_eq!(line("BEAN-1KG"), Some(vec!["BEAN-1KG", "4", "0", "4"]));
    assert_eq!(line("FILTER-100"), Some(vec!["FILTER-100", "2", "0", "2"]));
    let job = app.jobs(None, 1).unwrap().remove(0);
    assert_eq!(job.state, JobState::Done);
    sink.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_mail_server_down_the_job_retries_and_the_mail_arrives_once_it_is_back() {
    // Reserve a port, then free it: nothing listens there until we start the sink.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scratch = Scratch::new();
    let mut config = fast_config();
    config.email.smtp_port = port;
    config.email.timeout_secs = 2;
    config.jobs.backoff_base_ms = 100;
    let mut app = scratch.app_with("alice", config.clone());
    app.add_order("R-5", None, "manual", &[("A".into(), 1)])
        .unwrap();
    app.change_status("R-5", "backorder", None, None).unwrap();
    let id = app.jobs(None, 1).unwrap()[0].id;

    let engine = Engine::new(&scratch.db(), config.clone(), default_handlers(&config))
        .spawn()
        .unwrap();
    let job = wait_for_job(&scratch.db(), id, Duration::from_secs(15), |j| {
        j.attempts >= 2
    })
    .await;
    // With a 100 ms backoff the next attempt may already hold the job: running again counts as still trying.
    assert!(
        matches!(job.state, JobState::Retrying | JobState::Running),
        "still trying, not lost: {job:?}"
    );
    assert!(
        job.last_error
            .as_deref()
            .unwrap_or("")
            .contains("mail server unavailable"),
        "{job:?}"
    );

    let sink = SmtpSink::start(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    let job = wait_for_job(&scratch.db(), id, Duration::from_secs(15), |j| {
        j.state == JobState::Done
    })
    .await;
    assert_eq!(job.state, JobState::Done);
    tokio::time::sleep(Duration::from_millis(300)).await;
    engine.shutdown().await.unwrap();
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "delivered exactly once");
    assert!(mail[0].body().contains("A "));
    sink.shutdown().await;
}
