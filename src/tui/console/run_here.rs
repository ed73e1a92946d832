//! `:sync X` when no engine runs this database: a queued job would wait for one forever, so the console
//! offers to run the pass itself — on a thread of its own (the screen keeps drawing), through `app`, the
//! same entry `syncdesk sync run` uses — and reports its counts or its error when it ends.

use std::sync::mpsc::{self, Receiver, TryRecvError};

use super::Console;
use crate::app::{PassHere, SyncPass};
use crate::engine::passes::{PassError, PassReport};
use crate::tui::state::{Modal, Pending, PendingSync};

/// A pass running in this process, and where its report arrives.
pub(super) struct PassThread {
    pass: SyncPass,
    report: Receiver<Result<PassReport, PassError>>,
}

impl PassThread {
    /// Runs `run` on a new thread with a tokio runtime of its own (the console's loop has none).
    fn spawn(run: PassHere) -> std::io::Result<PassThread> {
        let pass = run.pass;
        let (tx, report) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("sync-{}", pass.name()))
            .spawn(move || {
                let result = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(run.run()),
                    Err(e) => Err(PassError {
                        message: format!("cannot start the pass: {e}"),
                        rejected: false,
                    }),
                };
                // The console may have quit meanwhile: nobody left to tell.
                let _ = tx.send(result);
            })?;
        Ok(PassThread { pass, report })
    }

    /// The report, once the pass has ended.
    fn poll(&self) -> Option<Result<PassReport, PassError>> {
        match self.report.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(PassError {
                message: "the pass stopped without a report".into(),
                rejected: false,
            })),
        }
    }
}

impl Console {
    /// Whether an engine runs this database's jobs now: the one in this process, or any that holds the
    /// lease (measured on the console's clock, as the Dashboard shows it).
    pub(super) fn engine_alive(&mut self) -> bool {
        if self.ui.engine.as_ref().is_some_and(|e| e.holds_lease) {
            return true;
        }
        let now = self.clock.now();
        match self.app.engine_running(now) {
            Ok(running) => running,
            Err(e) => {
                // Unsure: queue as before rather than run a pass twice.
                self.error(format!("cannot read the engine lease: {e}"));
                true
            }
        }
    }

    pub(super) fn running_here(&self, pass: SyncPass) -> bool {
        self.here.iter().any(|t| t.pass == pass)
    }

    /// Says no engine is running and offers to run `pass` here (no leaves it queued for an engine).
    pub(super) fn ask_run_here(&mut self, pass: SyncPass) {
        let (yes, no) = (
            self.keymap.confirm.short(crate::tui::action::Action::Yes),
            self.keymap.confirm.short(crate::tui::action::Action::No),
        );
        self.ui.modal = Some(Modal::Confirm {
            message: format!(
                "No engine is running for this database. Run sync {} here now? {yes} / {no} \
                 ({no} leaves it queued for the engine)",
                pass.name()
            ),
            then: Pending::RunHere(pass),
        });
    }

    /// Starts `pass` in this process; the header shows it running until its report arrives.
    pub(super) fn run_here(&mut self, pass: SyncPass) {
        let started = self
            .app
            .pass_here(pass)
            .map_err(|e| e.to_string())
            .and_then(|run| PassThread::spawn(run).map_err(|e| e.to_string()));
        match started {
            Ok(thread) => {
                self.here.push(thread);
                self.ui.syncs.push(PendingSync {
                    name: pass.name().to_string(),
                    job_id: None,
                    state: "running here".into(),
                });
                self.info(format!("sync {}: running here", pass.name()));
            }
            Err(e) => self.error(format!("sync {}: {e}", pass.name())),
        }
    }

    /// Quits, asking first while a pass runs here: quitting stops it part-way (what it wrote stays
    /// recorded, as after any interrupted pass; the next pass finishes the work).
    pub(super) fn request_quit(&mut self) {
        let running: Vec<&str> = self.here.iter().map(|t| t.pass.name()).collect();
        if running.is_empty() {
            self.quit = true;
            return;
        }
        self.ui.modal = Some(Modal::Confirm {
            message: format!(
                "sync {} is still running here. Quit and stop it part-way?",
                running.join(", ")
            ),
            then: Pending::Quit,
        });
    }

    /// Collects the reports of passes running here that have ended: their counts, or why they failed.
    pub(super) fn follow_passes_here(&mut self) {
        let mut ended = Vec::new();
        self.here.retain(|t| match t.poll() {
            Some(result) => {
                ended.push((t.pass, result));
                false
            }
            None => true,
        });
        for (pass, result) in ended {
            let name = pass.name();
            self.ui
                .syncs
                .retain(|s| !(s.job_id.is_none() && s.name == name));
            match result {
                Ok(report) => {
                    // The toast has room for the counts; the log keeps every line `sync run` prints.
                    for line in &report.lines {
                        tracing::info!(pass = name, "{line}");
                    }
                    let counts = report.summary().unwrap_or("nothing to report").to_string();
                    match &report.failed {
                        Some(why) => self.error(format!("sync {name} ran here: {why} — {counts}")),
                        None => self.ok(format!("sync {name} finished here: {counts}")),
                    }
                }
                Err(e) => self.error(format!("sync {name} failed here: {}", e.message)),
            }
            self.reload();
        }
    }
}
