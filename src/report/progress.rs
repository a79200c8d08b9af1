//! Progress bars for long work: drawn on stderr only when it is a terminal, never when `CI`
//! is set (CI logs are not terminals, but some runners fake one), never in machine formats.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Below this many steps the work is over before a bar would be worth reading.
const MIN_STEPS: u64 = 64;

/// Whether progress may be drawn at all, given the output settings.
pub(crate) fn allowed(human_format: bool, quiet: bool) -> bool {
    human_format && !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// A progress bar that is a no-op when hidden; safe to share across rayon threads.
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    pub(crate) fn new(allowed: bool, steps: u64, label: &'static str) -> Progress {
        if !allowed || steps < MIN_STEPS {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{msg:>16} [{bar:30}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label);
        Progress(Some(bar))
    }

    pub(crate) fn inc(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    /// Clears the bar, so the report that follows starts on a clean line.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
