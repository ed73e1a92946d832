//! The demo's running commentary: one line per notable thing, time-stamped. Headless it goes to stdout;
//! under the console it goes to the log, because nothing may write over the console's screen.

use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Stdout,
    Log,
}

#[derive(Debug, Clone)]
pub struct Feed {
    sink: Sink,
}

impl Feed {
    pub fn printing() -> Self {
        Feed { sink: Sink::Stdout }
    }

    pub fn logging() -> Self {
        Feed { sink: Sink::Log }
    }

    /// Reports one notable thing.
    pub fn say(&self, what: impl AsRef<str>) {
        let what = what.as_ref();
        match self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{} {what}", chrono::Local::now().format("%H:%M:%S"));
                let _ = out.flush();
            }
            Sink::Log => tracing::info!(target: "syncdesk::demo", "{what}"),
        }
    }
}
