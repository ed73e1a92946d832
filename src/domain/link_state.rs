//! How the sync of one link (a local record ↔ its record in another system) stands, as a type: every state
//! a flow sets or a face shows is one of these, never a loose string.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Both sides agree as far as syncdesk knows.
    Synced,
    /// A change is waiting to be sent.
    Pending,
    /// A send may have reached the other system without an answer: look before sending again.
    Sending,
    /// The last exchange failed; `last_error` says why.
    Error,
    /// The other system refused by one of its rules.
    Refused,
    /// A business rule holds the status back (e.g. the marketplace delivers the order itself).
    Blocked,
    /// The status has no mapping for that system: nothing was sent.
    Unmapped,
    /// The other system changed the order while syncdesk had its own change to send: an operator decides.
    Conflict,
    /// Never sent, and now it will not be (e.g. the order ended before a back office document was made).
    NotSent,
}

impl LinkState {
    pub const ALL: [LinkState; 9] = [
        LinkState::Synced,
        LinkState::Pending,
        LinkState::Sending,
        LinkState::Error,
        LinkState::Refused,
        LinkState::Blocked,
        LinkState::Unmapped,
        LinkState::Conflict,
        LinkState::NotSent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Synced => "synced",
            LinkState::Pending => "pending",
            LinkState::Sending => "sending",
            LinkState::Error => "error",
            LinkState::Refused => "refused",
            LinkState::Blocked => "blocked",
            LinkState::Unmapped => "unmapped",
            LinkState::Conflict => "conflict",
            LinkState::NotSent => "not_sent",
        }
    }

    pub fn parse(text: &str) -> Option<LinkState> {
        LinkState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl fmt::Display for LinkState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for LinkState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for LinkState {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_name() {
        for s in LinkState::ALL {
            assert_eq!(LinkState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(LinkState::parse("new"), None);
    }
}
