//! Job kinds as a type: each kind is declared once, as a constant next to the code that runs it (an
//! integration's folder, the stock passes, alerts), and referred to by that constant everywhere else. The
//! store keeps the name; [`JobKind`] is how the code names it.

use std::fmt;

/// The name of a kind of job (`<system>.push_status`, `stock.full_pass`…): what the engine looks its handler up
/// by, what schedules and per-kind limits are keyed on, and what `jobs list` shows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobKind(&'static str);

impl JobKind {
    pub const fn new(name: &'static str) -> Self {
        JobKind(name)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Debug for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl AsRef<str> for JobKind {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<JobKind> for String {
    fn from(kind: JobKind) -> String {
        kind.0.to_string()
    }
}

impl PartialEq<str> for JobKind {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for JobKind {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<JobKind> for str {
    fn eq(&self, other: &JobKind) -> bool {
        self == other.0
    }
}

impl PartialEq<JobKind> for &str {
    fn eq(&self, other: &JobKind) -> bool {
        *self == other.0
    }
}

impl PartialEq<JobKind> for String {
    fn eq(&self, other: &JobKind) -> bool {
        self == other.0
    }
}
