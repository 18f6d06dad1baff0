//! Progress reporting for long work (observe, apply), so the CLI can draw progress bars and a server can stream
//! status, without the engine knowing how it is shown.

/// Receives progress events. Implementations must be cheap: they are called once per step.
pub trait Progress: Send + Sync {
    /// A phase with `total` units of work begins (`total` 0 = unknown).
    fn begin(&self, phase: &str, total: u64);
    /// `done` more units of the current phase are finished.
    fn advance(&self, done: u64);
    /// The current phase is over.
    fn finish(&self);
    /// What the phase is waiting for now ("the mailbox of … is not provisioned yet"), for displays that show it.
    fn status(&self, _message: &str) {}
}

/// Shows nothing.
#[derive(Debug, Default)]
pub struct SilentProgress;

impl Progress for SilentProgress {
    fn begin(&self, _phase: &str, _total: u64) {}
    fn advance(&self, _done: u64) {}
    fn finish(&self) {}
}
