//! The dashboard's history-wide numbers (throughput, Restock metrics, connector health) computed on a
//! thread with its own connection, so a long history never freezes the console: the console asks, and a
//! later tick picks the answer up.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

use crate::app::console::Dashboard;
use crate::app::{Actor, App};
use crate::config::Config;
use crate::domain::time::Millis;

pub struct MetricsWorker {
    requests: Sender<Millis>,
    results: Receiver<Result<Dashboard, String>>,
    busy: bool,
}

impl MetricsWorker {
    /// Starts the thread; it opens its own `App` on `db` and ends when the worker is dropped.
    pub fn spawn(db: &Path, config: Config, actor: Actor) -> MetricsWorker {
        let (requests, inbox) = mpsc::channel::<Millis>();
        let (outbox, results) = mpsc::channel();
        let db = db.to_path_buf();
        std::thread::Builder::new()
            .name("console-metrics".into())
            .spawn(move || {
                let mut app = match App::open(&db, config, actor) {
                    Ok(app) => app,
                    Err(e) => {
                        let _ = outbox.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok(now) = inbox.recv() {
                    let answer = app.dashboard(now).map_err(|e| e.to_string());
                    if outbox.send(answer).is_err() {
                        return;
                    }
                }
            })
            .map_or_else(
                |e| {
                    let (tx, rx) = mpsc::channel();
                    let _ = tx.send(Err(format!("cannot start the metrics thread: {e}")));
                    MetricsWorker {
                        requests: mpsc::channel().0,
                        results: rx,
                        busy: true,
                    }
                },
                |_| MetricsWorker {
                    requests,
                    results,
                    busy: false,
                },
            )
    }

    /// Asks for fresh numbers unless a request is already being worked on.
    pub fn request(&mut self, now: Millis) {
        if !self.busy && self.requests.send(now).is_ok() {
            self.busy = true;
        }
    }

    /// The answer, if one has arrived.
    pub fn poll(&mut self) -> Option<Result<Dashboard, String>> {
        match self.results.try_recv() {
            Ok(answer) => {
                self.busy = false;
                Some(answer)
            }
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                self.busy = true;
                None
            }
        }
    }
}
