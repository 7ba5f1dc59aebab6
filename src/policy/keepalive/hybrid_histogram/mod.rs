//! Hybrid histogram keep-alive and pre-warming: Shahrad et al., "Serverless
//! in the Wild: Characterizing and Optimizing the Serverless Workload at a
//! Large Cloud Provider" (USENIX ATC'20, Section 4).
//!
//! # What it learns
//!
//! Per application, the *idle time* (IT): the time from the end of an
//! execution after which the app had nothing left to do ([`KeepAlive::on_idle`])
//! to the app's next arrival ([`KeepAlive::on_arrival`]). Only the first
//! arrival after an idle moment closes an IT, and a later end of execution
//! restarts it, so an app with overlapping executions records the gap from
//! its latest end to its next arrival. Pre-warmed instances do not disturb
//! the measurement: the IT still runs from the end of the execution to the
//! arrival.
//!
//! ITs go into a range-limited histogram of `bin`-wide bins (1 minute) over
//! `range` (4 hours); an IT of `range` or more is counted as out of bounds
//! (OOB) instead. Memory per app: one `u32` per bin, allocated at the app's
//! first in-range IT.
//!
//! # What it decides when an instance goes idle
//!
//! Checked in this order, on all ITs seen so far (in range and OOB):
//!
//! 1. **Too few ITs** (fewer than `min_samples`): keep the instance
//!    `fallback_ttl` (default: `range`). The paper keeps apps loaded for the
//!    whole range when it cannot predict; being conservative costs memory,
//!    not cold starts.
//! 2. **Too many OOB ITs** (more than `oob_threshold` of all ITs): the
//!    histogram does not capture most ITs, and the paper forecasts the next
//!    IT with ARIMA. Here the forecast is an exponentially weighted moving
//!    average (EWMA) of the OOB ITs, `f <- w * it + (1 - w) * f` with weight
//!    `forecast_weight`. The instance is unloaded, pre-warmed at
//!    `f * (1 - forecast_margin)` and kept for `2 * forecast_margin * f`, so
//!    that it is loaded from 85% to 115% of the forecast with the default
//!    margin (the paper's ARIMA margin of 15%, also DSLab FaaS's default).
//!    Why not ARIMA: simple exponential smoothing *is* the optimal forecast
//!    of an ARIMA(0,1,1) process, the simplest model of a slowly drifting
//!    level; fitting ARIMA orders and coefficients per app needs many
//!    observations (an app whose ITs exceed 4 hours has at most 6 a day), a
//!    numerical optimiser that can fail to converge, and floating-point
//!    search paths that are hard to keep deterministic; an EWMA needs one
//!    number per app and is exact to reproduce.
//! 3. **Not representative**: the coefficient of variation (CV, population
//!    standard deviation over mean) of the bin counts is below
//!    `cv_threshold` (2): keep `fallback_ttl`. The paper's rule: a
//!    histogram whose counts are concentrated in a few bins shows a pattern
//!    (high CV), one whose counts are spread over many bins does not (a
//!    flat histogram has CV 0). With `n` bins, ITs spread evenly over `k`
//!    bins give CV = sqrt(n / k - 1): with 240 one-minute bins, a pattern
//!    needs the ITs to fall in at most 48 bins' worth of evenly spread
//!    minutes; all ITs in one bin give CV = sqrt(239) = 15.5. With no
//!    in-range IT at all the CV is undefined and the histogram is not
//!    representative. A single IT already has CV 15.5, which is why
//!    `min_samples` is needed besides the CV.
//! 4. **Histogram**: the *pre-warm window* is the `head_percentile` (5th)
//!    of the in-range ITs rounded down to its bin's lower edge, minus
//!    `margin` (10%) of it; the *keep-alive window* is the
//!    `tail_percentile` (99th) rounded up to its bin's upper edge, plus
//!    `margin` of it. Both are measured from the end of the execution. If
//!    the pre-warm window is zero (the head is in the first bin), the
//!    instance is kept for the keep-alive window. Otherwise it is unloaded
//!    now, and a fresh instance is pre-warmed when the pre-warm window ends
//!    and kept until the keep-alive window ends, that is for
//!    `keep-alive window - pre-warm window` after the pre-warm: it covers
//!    the ITs between the two percentiles. (Keeping it for the whole
//!    keep-alive window after the pre-warm would cover ITs up to head +
//!    tail, beyond the percentile the window was chosen from.)
//!
//! The percentile of a histogram is the first bin at which the cumulative
//! count reaches `p / 100` of the in-range ITs (the OOB ITs, by then at most
//! `oob_threshold` of them, are left out: the histogram knows nothing about
//! where they lie). Windows are rounded to the nearest nanosecond.
//!
//! Example (defaults): ITs all of 19 min 59.99 s (a timer every 20 minutes
//! running 10 ms) fall in bin 19; pre-warm window 19 min x 0.9 = 17.1 min,
//! keep-alive window 20 min x 1.1 = 22 min, so the instance is unloaded
//! after each execution, pre-warmed 17.1 minutes later and kept 4.9 minutes.
//!
//! # Parameters (`[keepalive] kind = "hybrid"`)
//!
//! * `range` (duration, default `"4h"`): the histogram's span; longer ITs
//!   are out of bounds. The paper's 4 hours covers most apps' ITs in the
//!   Azure 2019 trace.
//! * `bin` (duration, default `"1m"`): bin width; `range` must be a whole
//!   number of bins (at most 100,000).
//! * `head_percentile` (number 0-100, default 5): percentile of ITs that
//!   sets the pre-warm window.
//! * `tail_percentile` (number 0-100, default 99): percentile of ITs that
//!   sets the keep-alive window; at least `head_percentile`.
//! * `margin` (fraction in [0, 1), default 0.1): taken off the pre-warm
//!   window and added to the keep-alive window.
//! * `cv_threshold` (number >= 0, default 2): minimum CV of the bin counts
//!   for the histogram to be used.
//! * `min_samples` (integer >= 1, default 10): ITs needed before anything is
//!   learnt. Our choice (the paper names no number): below about 20 ITs the
//!   5th and 99th percentiles are the smallest and largest IT seen, so with
//!   fewer than 10 one stray IT decides a window; 10 ITs are learnt within
//!   the first 10 periods of a timer.
//! * `oob_threshold` (fraction in [0, 1], default 0.5): above this share of
//!   OOB ITs the forecast is used ("the histogram does not capture most
//!   ITs"; DSLab FaaS's default).
//! * `fallback_ttl` (duration, default: `range`): keep-alive when the
//!   histogram cannot be used.
//! * `forecast_margin` (fraction in [0, 1), default 0.15): margin of the OOB
//!   forecast.
//! * `forecast_weight` (fraction in (0, 1], default 0.5): EWMA weight of the
//!   newest OOB IT; 0.5 halves an IT's weight with each newer one, so the
//!   forecast follows a change within a few of these rare ITs.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::cfg::{Check, Validate};
use crate::model::AppId;
use crate::platform::decisions::{IdleInstance, KeepAlive, KeepDecision};
use crate::policy::Build;
use crate::time::{SimDuration, SimTime};

/// Most bins a histogram may have (memory: 4 bytes per bin and app).
pub const MAX_BINS: u64 = 100_000;

/// The `[keepalive] kind = "hybrid"` table. See the module doc.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "Config::default_range")]
    pub range: SimDuration,
    #[serde(default = "Config::default_bin")]
    pub bin: SimDuration,
    #[serde(default = "Config::default_head")]
    pub head_percentile: f64,
    #[serde(default = "Config::default_tail")]
    pub tail_percentile: f64,
    #[serde(default = "Config::default_margin")]
    pub margin: f64,
    #[serde(default = "Config::default_cv")]
    pub cv_threshold: f64,
    #[serde(default = "Config::default_min_samples")]
    pub min_samples: u32,
    #[serde(default = "Config::default_oob")]
    pub oob_threshold: f64,
    /// None: `range`. Left unset rather than filled in, so that it
    /// follows `range` when a sweep varies it (`coldsim check` omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_ttl: Option<SimDuration>,
    #[serde(default = "Config::default_forecast_margin")]
    pub forecast_margin: f64,
    #[serde(default = "Config::default_forecast_weight")]
    pub forecast_weight: f64,
}

impl Config {
    /// 4 hours (Shahrad et al.).
    fn default_range() -> SimDuration {
        SimDuration::from_secs(4 * 3600)
    }
    /// 1 minute (Shahrad et al.).
    fn default_bin() -> SimDuration {
        SimDuration::from_secs(60)
    }
    fn default_head() -> f64 {
        5.0
    }
    fn default_tail() -> f64 {
        99.0
    }
    fn default_margin() -> f64 {
        0.1
    }
    fn default_cv() -> f64 {
        2.0
    }
    fn default_min_samples() -> u32 {
        10
    }
    fn default_oob() -> f64 {
        0.5
    }
    fn default_forecast_margin() -> f64 {
        0.15
    }
    fn default_forecast_weight() -> f64 {
        0.5
    }

    /// The keep-alive used when the histogram cannot be.
    pub fn fallback(&self) -> SimDuration {
        self.fallback_ttl.unwrap_or(self.range)
    }

    /// Checks the parameters; Err names the key (relative to the
    /// `[keepalive]` table) and what was expected.
    fn check(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if self.bin.is_zero() {
            return bad("bin", "must be greater than zero".into());
        }
        if self.range < self.bin {
            return bad(
                "range",
                format!(
                    "must be at least one bin (bin = {}), found {}",
                    self.bin, self.range
                ),
            );
        }
        if !self.range.as_nanos().is_multiple_of(self.bin.as_nanos()) {
            return bad(
                "range",
                format!(
                    "must be a whole number of bins (bin = {}), found {}",
                    self.bin, self.range
                ),
            );
        }
        let bins = self.range.as_nanos() / self.bin.as_nanos();
        if bins > MAX_BINS {
            return bad(
                "bin",
                format!(
                    "range / bin gives {bins} bins; at most {MAX_BINS} are allowed (use wider bins)"
                ),
            );
        }
        let pct = |k: &str, v: f64| -> Result<(), (String, String)> {
            if !(0.0..=100.0).contains(&v) {
                return bad(k, format!("expected a percentile from 0 to 100, found {v}"));
            }
            Ok(())
        };
        pct("head_percentile", self.head_percentile)?;
        pct("tail_percentile", self.tail_percentile)?;
        if self.tail_percentile < self.head_percentile {
            return bad(
                "tail_percentile",
                format!(
                    "must be at least head_percentile ({}), found {}",
                    self.head_percentile, self.tail_percentile
                ),
            );
        }
        let frac = |k: &str, v: f64| -> Result<(), (String, String)> {
            if !(0.0..1.0).contains(&v) {
                return bad(
                    k,
                    format!("expected a fraction from 0 up to (not including) 1, found {v}"),
                );
            }
            Ok(())
        };
        frac("margin", self.margin)?;
        frac("forecast_margin", self.forecast_margin)?;
        if !(self.cv_threshold.is_finite() && self.cv_threshold >= 0.0) {
            return bad(
                "cv_threshold",
                format!("expected a finite number >= 0, found {}", self.cv_threshold),
            );
        }
        if self.min_samples == 0 {
            return bad("min_samples", "expected at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.oob_threshold) {
            return bad(
                "oob_threshold",
                format!(
                    "expected a fraction from 0 to 1, found {}",
                    self.oob_threshold
                ),
            );
        }
        if !(self.forecast_weight > 0.0 && self.forecast_weight <= 1.0) {
            return bad(
                "forecast_weight",
                format!(
                    "expected a fraction above 0 and at most 1, found {}",
                    self.forecast_weight
                ),
            );
        }
        Ok(())
    }
}

impl Validate for Config {
    fn validate(&self, c: &mut Check) {
        if let Err((key, msg)) = self.check() {
            c.err(&key, msg);
        }
    }
}

impl Build<Ctx, dyn KeepAlive> for Config {
    fn build(&self, _: &Ctx) -> Box<dyn KeepAlive> {
        Box::new(HybridHistogram::new(self.clone()))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            range: Self::default_range(),
            bin: Self::default_bin(),
            head_percentile: Self::default_head(),
            tail_percentile: Self::default_tail(),
            margin: Self::default_margin(),
            cv_threshold: Self::default_cv(),
            min_samples: Self::default_min_samples(),
            oob_threshold: Self::default_oob(),
            fallback_ttl: None,
            forecast_margin: Self::default_forecast_margin(),
            forecast_weight: Self::default_forecast_weight(),
        }
    }
}

/// Which rule of the module doc made a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Too few ITs, or a histogram with no pattern: `fallback_ttl`.
    Fallback,
    /// The histogram's percentiles.
    Histogram,
    /// The forecast of out-of-bounds ITs.
    Forecast,
}

/// A decision and the windows behind it, measured from the end of the
/// execution (for [`Mode::Fallback`], `prewarm` is zero and `keep_alive`
/// the fallback TTL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    pub mode: Mode,
    pub prewarm: SimDuration,
    pub keep_alive: SimDuration,
}

impl Windows {
    fn decision(self) -> KeepDecision {
        if self.prewarm.is_zero() {
            if self.keep_alive.is_zero() {
                KeepDecision::Evict
            } else {
                KeepDecision::Keep(self.keep_alive)
            }
        } else {
            KeepDecision::Prewarm {
                after: self.prewarm,
                keep: SimDuration(self.keep_alive.0.saturating_sub(self.prewarm.0)),
            }
        }
    }
}

/// What the policy knows of one app.
#[derive(Clone, Debug, Default)]
struct AppState {
    /// Bin counts of in-range ITs (empty until the first one).
    counts: Vec<u32>,
    in_range: u64,
    /// Sum of the squared bin counts (for the CV).
    sum_sq: u128,
    oob: u64,
    /// EWMA of the OOB ITs, in nanoseconds.
    forecast_ns: f64,
    /// End of the latest execution not yet followed by an arrival.
    idle_since: Option<SimTime>,
    /// Windows from the ITs so far (None: recompute).
    cached: Option<Windows>,
}

/// The policy: per-app histograms. See the module doc.
#[derive(Clone, Debug)]
pub struct HybridHistogram {
    cfg: Config,
    bins: usize,
    apps: Vec<AppState>,
}

impl HybridHistogram {
    /// A policy with a validated configuration.
    pub fn new(cfg: Config) -> Self {
        let bins = (cfg.range.as_nanos() / cfg.bin.as_nanos().max(1)) as usize;
        HybridHistogram {
            cfg,
            bins,
            apps: Vec::new(),
        }
    }

    fn app(&mut self, app: AppId) -> &mut AppState {
        let i = app.index();
        if i >= self.apps.len() {
            self.apps.resize_with(i + 1, AppState::default);
        }
        &mut self.apps[i]
    }

    /// Records one idle time of `app` (what [`KeepAlive::on_arrival`] does
    /// after an idle moment).
    pub fn record(&mut self, app: AppId, it: SimDuration) {
        let bins = self.bins;
        let bin_ns = self.cfg.bin.as_nanos();
        let w = self.cfg.forecast_weight;
        let a = self.app(app);
        a.cached = None;
        let b = it.as_nanos() / bin_ns;
        if b < bins as u64 {
            if a.counts.is_empty() {
                a.counts = vec![0; bins];
            }
            let c = &mut a.counts[b as usize];
            // (c + 1)^2 - c^2 = 2c + 1
            a.sum_sq += 2 * *c as u128 + 1;
            *c = c.saturating_add(1);
            a.in_range += 1;
        } else {
            let x = it.as_nanos() as f64;
            a.forecast_ns = if a.oob == 0 {
                x
            } else {
                w * x + (1.0 - w) * a.forecast_ns
            };
            a.oob += 1;
        }
    }

    /// The coefficient of variation of `app`'s bin counts (None with no
    /// in-range IT).
    pub fn cv(&self, app: AppId) -> Option<f64> {
        let a = self.apps.get(app.index())?;
        if a.in_range == 0 {
            return None;
        }
        // CV = sd / mean with mean = n / B and sd^2 = sum_sq / B - mean^2,
        // so CV = sqrt(B * sum_sq - n^2) / n (exact integers under the root).
        let n = a.in_range as u128;
        let var = (self.bins as u128 * a.sum_sq).saturating_sub(n * n);
        Some((var as f64).sqrt() / n as f64)
    }

    /// The windows for `app` from the ITs seen so far.
    pub fn windows(&mut self, app: AppId) -> Windows {
        if let Some(w) = self.app(app).cached {
            return w;
        }
        let w = self.compute(app);
        self.app(app).cached = Some(w);
        w
    }

    fn compute(&mut self, app: AppId) -> Windows {
        let cv = self.cv(app);
        let cfg = &self.cfg;
        let fallback = Windows {
            mode: Mode::Fallback,
            prewarm: SimDuration::ZERO,
            keep_alive: cfg.fallback(),
        };
        let Some(a) = self.apps.get(app.index()) else {
            return fallback;
        };
        let total = a.in_range + a.oob;
        if total < cfg.min_samples as u64 {
            return fallback;
        }
        if a.oob as f64 > cfg.oob_threshold * total as f64 {
            let f = a.forecast_ns;
            let m = cfg.forecast_margin;
            return Windows {
                mode: Mode::Forecast,
                prewarm: round_ns(f * (1.0 - m)),
                keep_alive: round_ns(f * (1.0 + m)),
            };
        }
        match cv {
            Some(cv) if cv >= cfg.cv_threshold => {}
            _ => return fallback,
        }
        let n = a.in_range as f64;
        let head_target = cfg.head_percentile / 100.0 * n;
        let tail_target = cfg.tail_percentile / 100.0 * n;
        let (mut head, mut tail) = (None, None);
        let mut cum = 0u64;
        for (i, &c) in a.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            cum += c as u64;
            if head.is_none() && cum as f64 >= head_target {
                head = Some(i);
            }
            if cum as f64 >= tail_target {
                tail = Some(i);
                break;
            }
        }
        // Both are found: the last non-empty bin reaches 100%.
        let last = a.counts.iter().rposition(|&c| c > 0).unwrap_or(0);
        let head = head.unwrap_or(last);
        let tail = tail.unwrap_or(last);
        let bin = cfg.bin.as_nanos() as f64;
        let m = cfg.margin;
        Windows {
            mode: Mode::Histogram,
            prewarm: round_ns(head as f64 * bin * (1.0 - m)),
            keep_alive: round_ns((tail + 1) as f64 * bin * (1.0 + m)),
        }
    }
}

/// A float number of nanoseconds rounded to the nearest one.
fn round_ns(ns: f64) -> SimDuration {
    SimDuration::from_secs_f64(ns / 1e9)
}

impl KeepAlive for HybridHistogram {
    fn learns_from_arrivals(&self) -> bool {
        true
    }

    fn on_arrival(&mut self, app: AppId, now: SimTime) {
        if let Some(since) = self.app(app).idle_since.take() {
            self.record(app, now.since(since));
        }
    }

    fn on_idle(&mut self, app: AppId, now: SimTime, _inst: IdleInstance) -> KeepDecision {
        self.app(app).idle_since = Some(now);
        self.windows(app).decision()
    }
}

#[cfg(test)]
mod tests;
