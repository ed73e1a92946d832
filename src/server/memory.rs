//! Gives memory back to the system after a burst of webhook bodies. glibc's allocator keeps freed heap
//! pages for reuse, so a burst of large bodies would leave the process at its peak size for good (546 MB
//! after 300 slow 1 MB bodies). Once a burst has passed — many body bytes buffered since the last look, few
//! in flight now — `malloc_trim` hands the free pages back. Elsewhere (other allocators) this does nothing.

use std::sync::Arc;
use std::time::Duration;

use super::BodyLimits;

/// How often the receiver looks whether a burst has passed.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// Body bytes buffered since the last trim that make one worth it.
const BURST_BYTES: usize = 4 << 20;
/// At most this much still in flight: the burst is over.
const QUIET_BYTES: usize = 1 << 20;

pub(super) async fn give_back_after_bursts(limits: Arc<BodyLimits>) {
    let mut since_trim = 0usize;
    let mut tick = tokio::time::interval(LOOK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        since_trim = since_trim.saturating_add(limits.take_buffered());
        if since_trim >= BURST_BYTES && limits.in_flight() <= QUIET_BYTES {
            since_trim = 0;
            let _ = tokio::task::spawn_blocking(trim).await;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim has no preconditions; it only returns free pages of glibc's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
