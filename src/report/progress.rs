//! The progress bar on stderr: simulated time, invocations and events/s.
//!
//! It stays hidden for the first second (short runs print nothing), when
//! stderr is not a terminal, and with `--quiet`.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::run::Progress;

/// A progress bar that appears only for runs longer than about a second.
#[derive(Clone)]
pub struct Bar {
    bar: ProgressBar,
    start: Instant,
    enabled: bool,
}

impl Bar {
    /// A bar over `len` units (per mille of simulated time, or runs).
    pub fn new(len: u64, quiet: bool, template: &str) -> Bar {
        let enabled = !quiet && std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar {
            bar,
            start: Instant::now(),
            enabled,
        }
    }

    fn maybe_show(&self) {
        if self.enabled && self.bar.is_hidden() && self.start.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Updates from a single simulation's progress.
    pub fn sim(&self, p: Progress) {
        if !self.enabled {
            return;
        }
        self.maybe_show();
        let frac = if p.horizon.0 == 0 {
            0
        } else {
            (p.now.0.min(p.horizon.0) as u128 * 1000 / p.horizon.0 as u128) as u64
        };
        self.bar.set_position(frac);
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        self.bar.set_message(format!(
            "sim {:.0}s of {:.0}s, {} invocations, {:.2} M events/s",
            p.now.as_secs_f64(),
            p.horizon.as_secs_f64(),
            p.arrivals,
            p.events as f64 / secs / 1e6
        ));
    }

    /// One more run of a sweep finished.
    pub fn inc(&self, msg: String) {
        if !self.enabled {
            return;
        }
        self.maybe_show();
        self.bar.inc(1);
        self.bar.set_message(msg);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
