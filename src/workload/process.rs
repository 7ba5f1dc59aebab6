//! Arrival processes of synthetic functions.
//!
//! A [`Process`] keeps its own clock and yields its arrival times one by
//! one, in increasing order, drawing from the stream it is handed. Each is
//! configured by an [`ArrivalsCfg`] from the scenario (`arrivals = { kind =
//! "...", ... }`):
//!
//! | kind | rate (long run) | inter-arrival CV |
//! |---|---|---|
//! | `poisson` | `rate` | 1 |
//! | `periodic` | 1 / `period` | `jitter` / (`period` sqrt 6) |
//! | `renewal` | 1 / mean of `gap` | that of `gap` |
//! | `mmpp` | sum pi_i r_i | from the phase-type moments (>= 1) |
//! | `diurnal` | `rate` | about sqrt(2 / sqrt(1 - a^2) - 1) when rate x period >> 1 |
//! | `piecewise` | from the file | |
//!
//! **Rate scaling.** [`Process::new`] takes a `rate_scale` s that multiplies
//! the rate while keeping the shape (a population gives each function its
//! share this way). For `periodic` and `renewal` time is compressed: period,
//! jitter and phase, and every gap, are divided by s, so the coefficient of
//! variation is unchanged. For `mmpp`, `diurnal` and `piecewise` the rates
//! are multiplied by s and the time structure (sojourns, period and peak,
//! the file's breakpoints) is kept.
//!
//! **Clocks.** Poisson, periodic and renewal processes keep an integer
//! nanosecond clock (each gap is rounded to whole nanoseconds before it is
//! added). MMPP, diurnal and piecewise processes keep their clock in f64
//! seconds, exact to the nanosecond for the first 104 days (2^53 ns), and
//! round it when they yield; rounding never reorders arrivals.

use std::sync::Arc;

use super::ArrivalsCfg;
use crate::dist::Sampler;
use crate::engine::RngStream;
use crate::error::{Error, Result};
use crate::time::{SimDuration, SimTime};

use super::trace::{TraceInput, fields, parse_f64};
use super::{Context, TraceFile};

/// A running arrival process.
#[derive(Clone, Debug)]
pub enum Process {
    /// Poisson arrivals: independent exponential gaps with this mean, in
    /// seconds. The memoryless baseline of every queueing model and of the
    /// keep-alive oracle P(cold) = exp(-l T).
    Poisson { mean_gap_s: f64, now: SimTime },
    /// Timer triggers ([`Periodic`]).
    Periodic(Periodic),
    /// I.i.d. gaps from a duration distribution ([`Renewal`]).
    Renewal(Renewal),
    /// Bursts: a two-state Markov-modulated Poisson process ([`Mmpp`]).
    Mmpp(Mmpp),
    /// A sinusoidal daily rate, by thinning ([`Diurnal`]).
    Diurnal(Diurnal),
    /// A piecewise-constant rate from a CSV file ([`Piecewise`]).
    Piecewise(Piecewise),
}

/// Timer-triggered arrivals: arrival k (k = 0, 1, ...) at
/// `phase + k * period + U_k * jitter`, with U_k independent and uniform in
/// [0, 1). Since `jitter < period`, arrivals stay in order, the count in
/// [0, phase + n period) is exactly n, and the gap after arrival k is
/// `period + jitter (U_{k+1} - U_k)`: mean `period`, coefficient of
/// variation `jitter / (period sqrt 6)`.
///
/// Used for timer triggers (cron-like schedules), a common trigger in the
/// Azure Functions 2019 trace, whose functions are invoked at regular
/// intervals (Shahrad et al., "Serverless in the Wild", USENIX ATC 2020,
/// Section 3); `jitter` models scheduler delay and clock skew. With
/// constant execution S and a fixed keep-alive T, every call is cold iff
/// `period - S > T` (design.md's oracle).
#[derive(Clone, Debug)]
pub struct Periodic {
    period_ns: u64,
    jitter_ns: u64,
    phase_ns: u64,
    /// Index of the next arrival.
    k: u64,
}

/// A renewal process: independent, identically distributed gaps from a
/// duration distribution (any [`crate::dist::Dist`]: gamma, lognormal,
/// Weibull, empirical, ...), the first arrival one gap after time 0 (an
/// ordinary renewal process). Rate 1 / (mean gap); the inter-arrival
/// coefficient of variation is the gap's: 1/sqrt(k) for gamma of shape k,
/// sqrt(exp(sigma^2) - 1) for lognormal, sqrt(Γ(1 + 2/k) / Γ(1 + 1/k)^2 - 1)
/// for Weibull of shape k.
///
/// Inter-arrival times of FaaS functions range from nearly periodic (CV
/// near 0, timers) to far burstier than Poisson (CV well above 1)
/// (Shahrad et al., ATC 2020, Section 3); heavy-tailed renewal gaps
/// (Weibull of shape < 1, lognormal) reproduce a given CV without modelling
/// its cause.
#[derive(Clone, Debug)]
pub struct Renewal {
    gap: Sampler,
    /// Rate multiplier: each gap is divided by it.
    scale: f64,
    now: SimTime,
}

/// A two-state Markov-modulated Poisson process (MMPP(2)): a hidden state
/// i in {0, 1} lasts an exponential time of mean `mean_sojourn[i]`, then
/// switches; while in state i, arrivals are Poisson at `rates[i]` (one of
/// the two may be 0: an on-off source). Started in the stationary
/// distribution, `pi_i = mean_sojourn[i] / (mean_sojourn[0] +
/// mean_sojourn[1])`, so the rate is the same, `sum pi_i rates[i]`, at every
/// time from 0 on (not only in the long run) and short runs are unbiased.
///
/// The classic model of bursty traffic (Fischer and Meier-Hellstern, "The
/// Markov-modulated Poisson process (MMPP) cookbook", Performance
/// Evaluation 18, 1993); used for the bursty, hard-to-predict invocation
/// patterns of FaaS functions (Shahrad et al., ATC 2020).
#[derive(Clone, Debug)]
pub struct Mmpp {
    /// Arrivals per second in each state (scaled).
    rates: [f64; 2],
    /// Mean sojourn in each state, seconds.
    sojourn: [f64; 2],
    /// Current state; 2 before the first draw.
    state: u8,
    /// Time left in the current state, seconds (exponential, so drawing
    /// it afresh at any time would be equally exact).
    left: f64,
    /// Clock, seconds.
    t: f64,
}

/// A non-homogeneous Poisson process with a sinusoidal rate
/// `rate(t) = rate * (1 + amplitude * cos(2 pi (t - peak) / period))`,
/// highest at `peak` (mod `period`), lowest half a period later. Generated
/// by thinning (Lewis and Shedler, "Simulation of nonhomogeneous Poisson
/// processes by thinning", Naval Research Logistics Quarterly 26, 1979):
/// candidates at the constant rate `rate (1 + amplitude)`, each kept with
/// probability `rate(t) / (rate (1 + amplitude))`. The mean rate over whole
/// periods is `rate`.
///
/// Models the diurnal pattern of FaaS load: invocations per hour in the
/// Azure Functions 2019 trace rise and fall with the time of day (Shahrad
/// et al., ATC 2020, Section 3).
#[derive(Clone, Debug)]
pub struct Diurnal {
    /// Mean rate, per second (scaled).
    rate: f64,
    amplitude: f64,
    period_s: f64,
    peak_s: f64,
    t: f64,
}

/// A non-homogeneous Poisson process whose rate is piecewise constant, read
/// from a CSV file with the header `time_s,rate_per_s`: row i sets the rate
/// from `time_s[i]` until the next row's time; the first row is at 0 and
/// times increase strictly; the last rate holds until the end of the run,
/// and if it is 0 the process ends there. Generated by inverting the
/// integrated rate: draw E ~ Exp(1) and walk the segments until the rate
/// integrated from the previous arrival reaches E.
///
/// Replays a measured or planned load curve (an hourly profile from a
/// trace, a ramp, a flash crowd) with Poisson noise around it.
#[derive(Clone, Debug)]
pub struct Piecewise {
    table: Arc<RateTable>,
    /// Rate multiplier.
    scale: f64,
    /// Clock, seconds.
    t: f64,
    /// Segment of the clock.
    seg: usize,
    /// The rate is zero from here on.
    done: bool,
}

/// The rows of a piecewise rate file.
#[derive(Debug)]
pub struct RateTable {
    /// Start of each segment, seconds (the first is 0).
    pub times: Vec<f64>,
    /// Arrivals per second in each segment.
    pub rates: Vec<f64>,
    /// The file, hashed, for the manifest.
    pub file: TraceFile,
}

impl Process {
    /// A process from its scenario configuration; `rate_scale` multiplies
    /// its rate (1 for a function's own process; a population gives each
    /// function its share). A `piecewise` file is read here.
    pub fn new(cfg: &ArrivalsCfg, rate_scale: f64, ctx: &Context) -> Result<Process> {
        Process::new_at(cfg, rate_scale, ctx, "arrivals")
    }

    /// [`Process::new`], with `key` naming the scenario key of `cfg` in
    /// errors (such as `workload.arrivals`).
    pub fn new_at(cfg: &ArrivalsCfg, rate_scale: f64, ctx: &Context, key: &str) -> Result<Process> {
        if !(rate_scale.is_finite() && rate_scale > 0.0) {
            return Err(Error::input(
                key,
                format!("rate scale must be a finite number > 0, found {rate_scale}"),
            ));
        }
        let base = match cfg {
            ArrivalsCfg::Poisson { rate } => Process::Poisson {
                mean_gap_s: 1.0 / rate.per_sec(),
                now: SimTime::ZERO,
            },
            ArrivalsCfg::Periodic {
                period,
                jitter,
                phase,
            } => Process::Periodic(Periodic {
                period_ns: period.as_nanos().max(1),
                jitter_ns: jitter.as_nanos().min(period.as_nanos().saturating_sub(1)),
                phase_ns: phase.as_nanos(),
                k: 0,
            }),
            ArrivalsCfg::Renewal { gap } => Process::Renewal(Renewal {
                gap: gap
                    .sampler()
                    .map_err(|m| Error::input(format!("{key}.gap"), m))?,
                scale: 1.0,
                now: SimTime::ZERO,
            }),
            ArrivalsCfg::Mmpp {
                rates,
                mean_sojourn,
            } => {
                if rates.len() != 2 || mean_sojourn.len() != 2 {
                    return Err(Error::input(
                        key,
                        "mmpp needs two rates and two mean sojourns",
                    ));
                }
                Process::Mmpp(Mmpp {
                    rates: [rates[0].per_sec(), rates[1].per_sec()],
                    sojourn: [mean_sojourn[0].as_secs_f64(), mean_sojourn[1].as_secs_f64()],
                    state: 2,
                    left: 0.0,
                    t: 0.0,
                })
            }
            ArrivalsCfg::Diurnal {
                rate,
                amplitude,
                period,
                peak,
            } => Process::Diurnal(Diurnal {
                rate: rate.per_sec(),
                amplitude: *amplitude,
                period_s: period.as_secs_f64(),
                peak_s: peak.as_secs_f64(),
                t: 0.0,
            }),
            ArrivalsCfg::Piecewise { file } => Process::Piecewise(Piecewise {
                table: Arc::new(RateTable::read(ctx, file, &format!("{key}.file"))?),
                scale: 1.0,
                t: 0.0,
                seg: 0,
                done: false,
            }),
        };
        Ok(base.scaled(rate_scale))
    }

    /// This process, not yet started, with its rate multiplied by `s` (> 0)
    /// as described in the module documentation. Cheap: a piecewise rate
    /// table is shared, not copied or read again.
    pub fn scaled(&self, s: f64) -> Process {
        let mut p = self.clone();
        if s == 1.0 {
            return p;
        }
        let div = |ns: u64| (ns as f64 / s).round().min(u64::MAX as f64) as u64;
        match &mut p {
            Process::Poisson { mean_gap_s, .. } => *mean_gap_s /= s,
            Process::Periodic(q) => {
                q.period_ns = div(q.period_ns).max(1);
                q.jitter_ns = div(q.jitter_ns).min(q.period_ns - 1);
                q.phase_ns = div(q.phase_ns);
            }
            Process::Renewal(q) => q.scale *= s,
            Process::Mmpp(q) => {
                q.rates[0] *= s;
                q.rates[1] *= s;
            }
            Process::Diurnal(q) => q.rate *= s,
            Process::Piecewise(q) => q.scale *= s,
        }
        p
    }

    /// The next arrival time, or None when the process has no more.
    #[inline]
    pub fn next(&mut self, rng: &mut RngStream) -> Option<SimTime> {
        match self {
            Process::Poisson { mean_gap_s, now } => {
                *now += SimDuration::from_secs_f64(rng.exp(*mean_gap_s));
                Some(*now)
            }
            Process::Periodic(p) => p.next(rng),
            Process::Renewal(p) => {
                p.now += SimDuration::from_secs_f64(p.gap.sample_secs(rng) / p.scale);
                Some(p.now)
            }
            Process::Mmpp(p) => p.next(rng),
            Process::Diurnal(p) => p.next(rng),
            Process::Piecewise(p) => p.next(rng),
        }
    }

    /// The long-run mean rate, arrivals per second. For `piecewise`, the
    /// rate of the last row, which holds until the end (see
    /// [`Process::mean_rate_until`] for the mean over a run).
    pub fn mean_rate(&self) -> f64 {
        match self {
            Process::Poisson { mean_gap_s, .. } => 1.0 / mean_gap_s,
            Process::Periodic(p) => 1e9 / p.period_ns as f64,
            Process::Renewal(p) => p.scale / p.gap.mean_secs(),
            Process::Mmpp(p) => p.mean_rate(),
            Process::Diurnal(p) => p.rate,
            Process::Piecewise(p) => p.scale * p.table.rates.last().copied().unwrap_or(0.0),
        }
    }

    /// The expected number of arrivals in `[0, horizon)` divided by its
    /// length, for a process that has not started: exact for `poisson`,
    /// `periodic`, `mmpp` (stationary start), `diurnal` and `piecewise`;
    /// the long-run rate for `renewal` (whose renewal function has no
    /// closed form; it differs by O(1 / horizon)).
    pub fn mean_rate_until(&self, horizon: SimTime) -> f64 {
        let h = horizon.as_secs_f64();
        if h <= 0.0 {
            return self.mean_rate();
        }
        match self {
            Process::Periodic(p) => p.expected_count(horizon.as_nanos()) / h,
            Process::Diurnal(p) => {
                let w = std::f64::consts::TAU / p.period_s;
                let osc = (w * (h - p.peak_s)).sin() - (w * -p.peak_s).sin();
                p.rate * (1.0 + p.amplitude * osc / (w * h))
            }
            Process::Piecewise(p) => p.scale * p.table.integral(h) / h,
            _ => self.mean_rate(),
        }
    }

    /// The rate file a `piecewise` process read, for the manifest.
    pub fn trace_file(&self) -> Option<&TraceFile> {
        match self {
            Process::Piecewise(p) => Some(&p.table.file),
            _ => None,
        }
    }
}

#[inline]
fn secs_to_time(t: f64) -> SimTime {
    SimTime(SimDuration::from_secs_f64(t).as_nanos())
}

impl Periodic {
    #[inline]
    fn next(&mut self, rng: &mut RngStream) -> Option<SimTime> {
        let base = self
            .phase_ns
            .saturating_add(self.k.saturating_mul(self.period_ns));
        let jitter = if self.jitter_ns == 0 {
            0
        } else {
            ((rng.uniform() * self.jitter_ns as f64) as u64).min(self.jitter_ns - 1)
        };
        self.k += 1;
        Some(SimTime(base.saturating_add(jitter)))
    }

    /// Expected arrivals in [0, h ns): every k with k P < h - phase arrives
    /// before h for sure except possibly the last, which does with
    /// probability min(1, (h - phase - k P) / jitter).
    fn expected_count(&self, h: u64) -> f64 {
        if h <= self.phase_ns {
            return 0.0;
        }
        let x = h - self.phase_ns;
        let p = self.period_ns;
        // The largest k with k p < x.
        let last = (x - 1) / p;
        let tail = (x - last * p) as f64;
        let partial = if self.jitter_ns == 0 {
            1.0
        } else {
            (tail / self.jitter_ns as f64).min(1.0)
        };
        last as f64 + partial
    }
}

impl Mmpp {
    fn mean_rate(&self) -> f64 {
        let [m0, m1] = self.sojourn;
        (self.rates[0] * m0 + self.rates[1] * m1) / (m0 + m1)
    }

    #[inline]
    fn next(&mut self, rng: &mut RngStream) -> Option<SimTime> {
        if self.rates[0] <= 0.0 && self.rates[1] <= 0.0 {
            return None;
        }
        if self.state > 1 {
            let pi0 = self.sojourn[0] / (self.sojourn[0] + self.sojourn[1]);
            self.state = if rng.uniform() < pi0 { 0 } else { 1 };
            self.left = rng.exp(self.sojourn[self.state as usize]);
        }
        loop {
            let i = self.state as usize;
            let r = self.rates[i];
            if r > 0.0 {
                let gap = rng.exp(1.0 / r);
                if gap < self.left {
                    self.left -= gap;
                    self.t += gap;
                    return Some(secs_to_time(self.t));
                }
            }
            // The state ends before the next arrival: by memorylessness,
            // the arrival drawn above is forgotten and drawn afresh.
            self.t += self.left;
            self.state ^= 1;
            self.left = rng.exp(self.sojourn[self.state as usize]);
        }
    }
}

impl Diurnal {
    #[inline]
    fn next(&mut self, rng: &mut RngStream) -> Option<SimTime> {
        let peak_rate = self.rate * (1.0 + self.amplitude);
        let mean_gap = 1.0 / peak_rate;
        loop {
            self.t += rng.exp(mean_gap);
            let phase = (self.t - self.peak_s).rem_euclid(self.period_s) / self.period_s;
            let keep = (1.0 + self.amplitude * (std::f64::consts::TAU * phase).cos())
                / (1.0 + self.amplitude);
            if rng.uniform() < keep {
                return Some(secs_to_time(self.t));
            }
        }
    }
}

impl Piecewise {
    #[inline]
    fn next(&mut self, rng: &mut RngStream) -> Option<SimTime> {
        if self.done {
            return None;
        }
        let tab = &self.table;
        let mut e = rng.exp(1.0);
        loop {
            let r = tab.rates[self.seg] * self.scale;
            let end = tab.times.get(self.seg + 1).copied();
            if r > 0.0 {
                let dt = e / r;
                match end {
                    Some(end) if self.t + dt >= end => e = (e - r * (end - self.t)).max(0.0),
                    _ => {
                        self.t += dt;
                        return Some(secs_to_time(self.t));
                    }
                }
            }
            match end {
                Some(end) => {
                    self.t = end;
                    self.seg += 1;
                }
                None => {
                    // A zero rate from here on: no more arrivals.
                    self.done = true;
                    return None;
                }
            }
        }
    }
}

impl RateTable {
    /// Reads a `time_s,rate_per_s` file; `key` names the scenario key that
    /// gave its path. Every malformed row is an error naming file, line and
    /// column (a rate file is configuration, so `--skip-bad-rows` does not
    /// apply to it).
    pub fn read(ctx: &Context, path: &str, key: &str) -> Result<RateTable> {
        const HEADER: &str = "time_s,rate_per_s";
        let mut input = TraceInput::open(ctx, path, key)?;
        let mut line = String::new();
        if !input.next_line(&mut line)? {
            return Err(input.error(
                1,
                format!("the file is empty; expected the header {HEADER}"),
            ));
        }
        let header: Vec<&str> = line
            .trim_start_matches('\u{feff}')
            .split(',')
            .map(str::trim)
            .collect();
        if header != ["time_s", "rate_per_s"] {
            return Err(input.error(1, format!("expected the header {HEADER}, found \"{line}\"")));
        }
        let (mut times, mut rates) = (Vec::new(), Vec::new());
        while input.next_line(&mut line)? {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<(usize, &str)> = fields(&line).collect();
            if cols.len() != 2 {
                let col = cols.get(2).map_or(line.chars().count() + 1, |c| c.0);
                return Err(input.error(
                    col,
                    format!(
                        "expected 2 fields (time_s,rate_per_s), found {}",
                        cols.len()
                    ),
                ));
            }
            let (tc, tf) = cols[0];
            let t = parse_f64(tf).filter(|t| *t >= 0.0).ok_or_else(|| {
                input.error(
                    tc,
                    format!("expected a time in seconds (a number >= 0), found \"{tf}\""),
                )
            })?;
            match times.last() {
                None if t != 0.0 => {
                    return Err(
                        input.error(tc, format!("the first row must be at time 0, found {t}"))
                    );
                }
                Some(&prev) if t <= prev => {
                    return Err(input.error(
                        tc,
                        format!("times must increase strictly; {t} follows {prev}"),
                    ));
                }
                _ => {}
            }
            let (rc, rf) = cols[1];
            let r = parse_f64(rf).filter(|r| *r >= 0.0).ok_or_else(|| {
                input.error(
                    rc,
                    format!("expected a rate per second (a number >= 0), found \"{rf}\""),
                )
            })?;
            times.push(t);
            rates.push(r);
        }
        if times.is_empty() {
            return Err(input.error(
                1,
                "no rows after the header; expected at least one (0,RATE)",
            ));
        }
        let file = input.finish()?;
        Ok(RateTable { times, rates, file })
    }

    /// The rate integrated over [0, h] seconds: expected arrivals.
    pub fn integral(&self, h: f64) -> f64 {
        let mut sum = 0.0;
        for (i, (&t, &r)) in self.times.iter().zip(&self.rates).enumerate() {
            if t >= h {
                break;
            }
            let end = self.times.get(i + 1).map_or(h, |&e| e.min(h));
            sum += r * (end - t);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::time::Rate;

    fn ctx() -> Context {
        Context::default()
    }

    #[test]
    fn periodic_arrivals_are_ordered_and_jittered_within_bounds() {
        let cfg = ArrivalsCfg::Periodic {
            period: SimDuration::from_secs(10),
            jitter: SimDuration::from_secs(9),
            phase: SimDuration::from_secs(3),
        };
        let mut p = Process::new(&cfg, 1.0, &ctx()).unwrap();
        let mut rng = RngStream::from_seed_u64(1);
        let mut last = SimTime::ZERO;
        for k in 0..1000u64 {
            let t = p.next(&mut rng).unwrap();
            let base = 3_000_000_000 + k * 10_000_000_000;
            assert!(t.0 >= base && t.0 < base + 9_000_000_000, "{k}: {t:?}");
            assert!(t > last || k == 0);
            last = t;
        }
        // Scaled by 2: period 5 s, jitter 4.5 s, phase 1.5 s.
        let mut q = Process::new(&cfg, 2.0, &ctx()).unwrap();
        assert_eq!(q.mean_rate(), 0.2);
        let t0 = q.next(&mut rng).unwrap();
        assert!(t0.0 >= 1_500_000_000 && t0.0 < 6_000_000_000);
        // Exactly 100 arrivals in [0, phase + 100 periods).
        let p = Process::new(&cfg, 1.0, &ctx()).unwrap();
        let h = SimTime(1_003_000_000_000);
        assert!((p.mean_rate_until(h) * h.as_secs_f64() - 100.0).abs() < 1e-9);
    }

    #[test]
    fn mmpp_mean_rate_is_stationary_mix() {
        let cfg = ArrivalsCfg::Mmpp {
            rates: vec![Rate(10.0), Rate(0.0)],
            mean_sojourn: vec![SimDuration::from_secs(30), SimDuration::from_secs(90)],
        };
        let p = Process::new(&cfg, 3.0, &ctx()).unwrap();
        assert!((p.mean_rate() - 7.5).abs() < 1e-12);
        assert!((cfg.mean_rate() - 2.5).abs() < 1e-12);
    }

    #[test]
    fn diurnal_mean_over_whole_periods_is_rate() {
        let cfg = ArrivalsCfg::Diurnal {
            rate: Rate(4.0),
            amplitude: 0.7,
            period: SimDuration::from_secs(86_400),
            peak: SimDuration::from_secs(14 * 3600),
        };
        let p = Process::new(&cfg, 0.5, &ctx()).unwrap();
        let day = SimTime(86_400_000_000_000);
        assert!((p.mean_rate_until(SimTime(3 * day.0)) - 2.0).abs() < 1e-9);
        // The first hour is near the trough (peak at 14h).
        let hour = p.mean_rate_until(SimTime(3_600_000_000_000));
        assert!(hour < 2.0 * (1.0 - 0.7 * 0.8), "{hour}");
    }

    #[test]
    fn renewal_scales_gaps() {
        let cfg = ArrivalsCfg::Renewal {
            gap: Dist::Constant {
                value: SimDuration::from_secs(4),
            },
        };
        let mut p = Process::new(&cfg, 4.0, &ctx()).unwrap();
        let mut rng = RngStream::from_seed_u64(2);
        assert_eq!(p.next(&mut rng), Some(SimTime(1_000_000_000)));
        assert_eq!(p.next(&mut rng), Some(SimTime(2_000_000_000)));
        assert_eq!(p.mean_rate(), 1.0);
        assert!(Process::new(&cfg, 0.0, &ctx()).is_err());
        assert!(Process::new(&cfg, f64::NAN, &ctx()).is_err());
    }
}
