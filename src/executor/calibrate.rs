//! `coldsim calibrate [--quick] --out profile.toml`: measures what starts
//! cost on this machine, with real workers, and writes a profile a scenario
//! can use.
//!
//! # What is measured
//!
//! For each state size (0, 16, 64, 128, 256 and 512 MiB; `--quick`: 0, 16
//! and 64 MiB; `coldsim compare` adds its scenario's sizes), each a number
//! of times (9; `--quick`: 5), after one thrown-away start of each kind:
//!
//! * **cold**: `start(Cold)` to `Ready`: spawn, exec, connect, build the
//!   state;
//! * **fork**: `start(Fork)` from a ready template of that size to `Ready`:
//!   fork (page tables copied, pages shared), connect;
//! * **warm**: `invoke` of a no-op on an idle worker to the moment the
//!   worker begins the work (its own clock reading, which is the `Instant`
//!   clock): the warm start a driver pays on top of the execution.
//!
//! and, once, the **dispatch** round trip: `invoke` of a no-op on an idle
//! worker with no state to the `Done` event in the driver's hands (1,000
//! times; `--quick`: 200).
//!
//! For each start kind the medians are fitted by least squares to
//! `fixed_ms + per_mb_ms * state_mb`; both are clamped at 0 (a fit whose
//! intercept comes out slightly negative means "no measurable fixed part").
//! The spread of each point is given as the 10th and 90th percentiles and
//! the median absolute deviation (MAD).
//!
//! The profile it writes is described in [`crate::calibration`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{
    ExecError, ExecEvent, Executor, ExecutorConfig, InstanceId, JobId, Request, StartKind,
    WorkerSpec,
};
use crate::calibration::{CalibrationProfile, Dispatch, Machine, Point, SCHEMA, StartCost};
use crate::error::{Error, Result};

/// How to calibrate.
#[derive(Debug, Clone)]
pub struct CalibrateOptions {
    pub quick: bool,
    pub out: PathBuf,
    /// Replace `out` if it is a calibration profile.
    pub force: bool,
    pub worker_bin: PathBuf,
}

/// Percentile by nearest rank of sorted samples.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Median, p10, p90 and MAD of the samples.
fn spread(samples: &[f64]) -> (f64, f64, f64, f64) {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let med = percentile(&s, 0.5);
    let mut dev: Vec<f64> = s.iter().map(|x| (x - med).abs()).collect();
    dev.sort_by(f64::total_cmp);
    (
        med,
        percentile(&s, 0.1),
        percentile(&s, 0.9),
        percentile(&dev, 0.5),
    )
}

/// Least squares of `y = a + b x`; with one point, `a = y`, `b = 0`.
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    if points.is_empty() {
        return (0.0, 0.0);
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - b * mx, b)
}

/// `x` rounded to `digits` decimals (profiles print 0.1 us, not 1e-12 ms).
fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

fn point(state_mb: u32, samples_ms: &[f64]) -> Point {
    let (median_ms, p10_ms, p90_ms, mad_ms) = spread(samples_ms);
    let [median_ms, p10_ms, p90_ms, mad_ms] =
        [median_ms, p10_ms, p90_ms, mad_ms].map(|x| round(x, 4));
    Point {
        state_mb,
        samples: samples_ms.len() as u32,
        median_ms,
        p10_ms,
        p90_ms,
        mad_ms,
    }
}

fn start_cost(points: Vec<Point>) -> StartCost {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (f64::from(p.state_mb), p.median_ms))
        .collect();
    let (a, b) = fit(&xy);
    StartCost {
        fixed_ms: round(a.max(0.0), 4),
        per_mb_ms: round(b.max(0.0), 6),
        points,
    }
}

/// A driver for measurements one at a time.
struct Bench {
    ex: Executor,
    next_id: u64,
    next_job: u64,
}

fn unexpected(what: &str, ev: Option<ExecEvent>) -> Error {
    let msg = match ev {
        Some(ev) => format!("calibrate: {what}: unexpected {ev:?}"),
        None => format!("calibrate: {what}: no answer in 60 s"),
    };
    ExecError::Io {
        what: msg,
        err: std::io::ErrorKind::Other.into(),
    }
    .into()
}

impl Bench {
    fn id(&mut self) -> InstanceId {
        self.next_id += 1;
        InstanceId(self.next_id)
    }

    /// Starts an instance and waits for its `Ready`; returns its id and the
    /// start latency.
    fn start(&mut self, kind: StartKind, spec: WorkerSpec) -> Result<(InstanceId, Duration)> {
        let id = self.id();
        let t0 = Instant::now();
        self.ex.start(id, kind, spec)?;
        let deadline = t0 + Duration::from_secs(60);
        match self.ex.next_event(deadline) {
            Some(ExecEvent::Ready { instance, at, .. }) if instance == id => {
                Ok((id, at.saturating_duration_since(t0)))
            }
            ev => Err(unexpected("start", ev)),
        }
    }

    fn kill(&mut self, id: InstanceId) -> Result<()> {
        self.ex.kill(id)?;
        match self.ex.next_event(Instant::now() + Duration::from_secs(60)) {
            Some(ExecEvent::Exited { instance, .. }) if instance == id => Ok(()),
            ev => Err(unexpected("kill", ev)),
        }
    }

    /// A no-op invocation; returns (invoke to work start, invoke to Done in
    /// hand).
    fn noop(&mut self, id: InstanceId) -> Result<(Duration, Duration)> {
        self.next_job += 1;
        let t0 = Instant::now();
        self.ex
            .invoke(id, JobId(self.next_job), Request::cpu(Duration::ZERO))?;
        match self.ex.next_event(t0 + Duration::from_secs(60)) {
            Some(ExecEvent::Done { started, .. }) => Ok((
                started.saturating_duration_since(t0),
                Instant::now().saturating_duration_since(t0),
            )),
            ev => Err(unexpected("invoke", ev)),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The state sizes measured, in MiB: `--quick` or not.
pub fn default_sizes(quick: bool) -> &'static [u32] {
    if quick {
        &[0, 16, 64]
    } else {
        &[0, 16, 64, 128, 256, 512]
    }
}

/// Runs every measurement; `progress` hears one line per point.
pub fn measure(
    quick: bool,
    worker_bin: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<CalibrationProfile> {
    measure_sizes(quick, default_sizes(quick), worker_bin, progress)
}

/// [`measure`] at the given state sizes (increasing, in MiB), with the
/// sample counts of `quick` or not. `coldsim compare` adds the sizes of
/// its scenario's apps to the quick ones, so that the simulator reads
/// their costs off measured points instead of extrapolating.
///
/// Before the first point, one cold start, one template and one fork of
/// the smallest size are made and thrown away: the first process spawns
/// of a run pay for loading the binary and warming the allocator, which
/// is not what a start costs once the machine is running.
pub fn measure_sizes(
    quick: bool,
    sizes: &[u32],
    worker_bin: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<CalibrationProfile> {
    let reps = if quick { 5 } else { 9 };
    let dispatch_reps = if quick { 200 } else { 1000 };
    let mut b = Bench {
        ex: Executor::new(ExecutorConfig {
            worker_bin: worker_bin.to_path_buf(),
        })?,
        next_id: 0,
        next_job: 0,
    };
    if let Some(&mb) = sizes.first() {
        let spec = WorkerSpec::new(mb, 0x5eed ^ u64::from(mb));
        let (id, _) = b.start(StartKind::Cold, spec)?;
        b.kill(id)?;
        let (template, _) = b.start(StartKind::Template, spec)?;
        let (id, _) = b.start(StartKind::Fork { template }, spec)?;
        b.kill(id)?;
        b.kill(template)?;
    }
    let (mut cold, mut fork, mut warm) = (Vec::new(), Vec::new(), Vec::new());
    for &mb in sizes {
        let spec = WorkerSpec::new(mb, 0x5eed ^ u64::from(mb));
        let mut c = Vec::new();
        for _ in 0..reps {
            let (id, d) = b.start(StartKind::Cold, spec)?;
            c.push(ms(d));
            b.kill(id)?;
        }
        let (template, _) = b.start(StartKind::Template, spec)?;
        let mut f = Vec::new();
        for _ in 0..reps {
            let (id, d) = b.start(StartKind::Fork { template }, spec)?;
            f.push(ms(d));
            b.kill(id)?;
        }
        b.kill(template)?;
        let (id, _) = b.start(StartKind::Cold, spec)?;
        let mut w = Vec::new();
        for _ in 0..reps * 3 {
            w.push(ms(b.noop(id)?.0));
        }
        b.kill(id)?;
        let (pc, pf, pw) = (point(mb, &c), point(mb, &f), point(mb, &w));
        progress(&format!(
            "{mb:>4} MiB: cold {:8.2} ms   fork {:7.2} ms   warm {:6.3} ms   (medians)",
            pc.median_ms, pf.median_ms, pw.median_ms
        ));
        cold.push(pc);
        fork.push(pf);
        warm.push(pw);
    }
    let (id, _) = b.start(StartKind::Cold, WorkerSpec::new(0, 1))?;
    let mut d = Vec::new();
    for _ in 0..dispatch_reps {
        d.push(b.noop(id)?.1.as_secs_f64() * 1e6);
    }
    b.kill(id)?;
    let (median_us, p10_us, p90_us, mad_us) = spread(&d);
    let [median_us, p10_us, p90_us, mad_us] =
        [median_us, p10_us, p90_us, mad_us].map(|x| round(x, 2));
    progress(&format!(
        "dispatch round trip: median {median_us:.1} us (p10 {p10_us:.1}, p90 {p90_us:.1})"
    ));
    Ok(CalibrationProfile {
        schema: SCHEMA,
        quick,
        machine: machine(),
        cold: start_cost(cold),
        fork: start_cost(fork),
        warm: start_cost(warm),
        dispatch: Dispatch {
            samples: d.len() as u32,
            median_us,
            p10_us,
            p90_us,
            mad_us,
        },
    })
}

fn machine() -> Machine {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    Machine {
        cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        cpu_model,
        kernel,
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        coldsim_version: env!("CARGO_PKG_VERSION").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CalibrationProfile {
        let pts = |k: f64| {
            vec![
                point(0, &[1.0 * k, 1.1 * k, 0.9 * k]),
                point(16, &[2.0 * k, 2.2 * k, 1.8 * k]),
            ]
        };
        CalibrationProfile {
            schema: SCHEMA,
            quick: true,
            machine: machine(),
            cold: start_cost(pts(10.0)),
            fork: start_cost(pts(1.0)),
            warm: start_cost(pts(0.01)),
            dispatch: Dispatch {
                samples: 3,
                median_us: 40.0,
                p10_us: 30.0,
                p90_us: 50.0,
                mad_us: 5.0,
            },
        }
    }

    #[test]
    fn fit_recovers_a_line() {
        let (a, b) = fit(&[(0.0, 2.0), (10.0, 7.0), (20.0, 12.0)]);
        assert!((a - 2.0).abs() < 1e-9 && (b - 0.5).abs() < 1e-9);
        assert_eq!(fit(&[(5.0, 3.0)]), (3.0, 0.0));
        let c = start_cost(vec![point(0, &[5.0]), point(10, &[1.0])]);
        assert_eq!(c.per_mb_ms, 0.0, "a negative slope is clamped");
    }

    #[test]
    fn spread_of_samples() {
        let (med, p10, p90, mad) = spread(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!((med, p10, p90, mad), (3.0, 1.0, 5.0, 1.0));
    }

    #[test]
    fn profile_round_trips_and_validates() {
        let p = sample();
        let text = p.to_toml();
        let back = CalibrationProfile::parse_str(&text, "p.toml").unwrap();
        assert_eq!(back, p);
        let bad = text.replace("schema = 1", "schema = 2");
        let e = CalibrationProfile::parse_str(&bad, "p.toml").unwrap_err();
        assert!(e.to_string().starts_with("p.toml: schema:"), "{e}");
        let bad = text.replacen("per_mb_ms = ", "per_mb_ms = -", 1);
        let e = CalibrationProfile::parse_str(&bad, "p.toml").unwrap_err();
        assert!(e.to_string().contains("cold.per_mb_ms"), "{e}");
        let bad = text.replacen("state_mb = 16", "state_mb = 0", 1);
        let e = CalibrationProfile::parse_str(&bad, "p.toml").unwrap_err();
        assert!(e.to_string().contains("cold.points[1].state_mb"), "{e}");
        let bad = text.replacen("median_us = 40.0", "median_us = \"fast\"", 1);
        let e = CalibrationProfile::parse_str(&bad, "p.toml").unwrap_err();
        assert!(e.to_string().contains("dispatch.median_us"), "{e}");
        assert!(e.to_string().starts_with("p.toml:"), "{e}");
    }
}
