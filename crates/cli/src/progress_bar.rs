//! Progress bars on standard error for long work (observing the tenant, applying a plan), drawn with indicatif;
//! hidden automatically when standard error is not a terminal. With `TENURE_PROGRESS=lines` progress is written
//! as plain lines instead (`progress apply 17/300`), for scripts and for the crash tests that kill a run at a
//! chosen point.

use indicatif::{ProgressBar, ProgressStyle};
use parking_lot::Mutex;

/// An [`engine::Progress`] that draws one bar per phase.
#[derive(Debug)]
pub struct TerminalProgress {
    bar: Mutex<Option<ProgressBar>>,
    /// Plain progress lines instead of bars: (phase, done, total).
    lines: Option<Mutex<(String, u64, u64)>>,
}

impl Default for TerminalProgress {
    fn default() -> Self {
        let lines = std::env::var("TENURE_PROGRESS").is_ok_and(|mode| mode == "lines");
        Self { bar: Mutex::new(None), lines: lines.then(|| Mutex::new((String::new(), 0, 0))) }
    }
}

impl engine::Progress for TerminalProgress {
    fn begin(&self, phase: &str, total: u64) {
        if let Some(lines) = &self.lines {
            *lines.lock() = (phase.to_string(), 0, total);
            return;
        }
        let bar = if total == 0 {
            let bar = ProgressBar::new_spinner();
            bar.set_message(format!("{phase}…"));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            let bar = ProgressBar::new(total);
            let style =
                ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} steps ({per_sec}, eta {eta}) {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(phase.to_string());
            bar
        };
        if let Some(previous) = self.bar.lock().replace(bar) {
            previous.finish_and_clear();
        }
    }

    fn advance(&self, done: u64) {
        if let Some(lines) = &self.lines {
            let mut lines = lines.lock();
            lines.1 += done;
            eprintln!("progress {} {}/{}", lines.0, lines.1, lines.2);
            return;
        }
        if let Some(bar) = &*self.bar.lock() {
            bar.inc(done);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().take() {
            bar.finish_and_clear();
        }
    }

    fn status(&self, message: &str) {
        if let Some(lines) = &self.lines {
            eprintln!("progress {} waiting: {message}", lines.lock().0);
            return;
        }
        if let Some(bar) = &*self.bar.lock() {
            bar.set_message(message.to_string());
        }
    }
}
