//! `coldsim compare SCENARIO`: the same scenario on the real executor and
//! in the simulator, side by side; and `coldsim calibrate`, which measures
//! a profile with the real executor and writes it ([`calibrate()`]).
//!
//! Both runs take the same arrivals (the scenario's workload with replicate
//! 0's random streams: same times, functions and execution times) and the
//! same platform core and policies ([`RunSpec::build_platform`]). The real run
//! ([`driver::run`]) performs the core's actions with worker processes in
//! wall-clock time; the simulated one prices starts with a calibration
//! profile measured on the machine (see `sim::costs`): the one given
//! with `--profile`, else the scenario's `calibration` key, else one
//! measured here first as `coldsim calibrate --quick` does, at the quick
//! sizes and the scenario's own state sizes ([`profile_sizes`]), and
//! written to the results folder.
//!
//! What is compared ([`rows`]): invocations that arrived, completed, were
//! rejected or failed for good, retries, starts by kind, cold and warm
//! invocations, evictions (keep-alive and pressure), snapshots taken, peak
//! instances alive, and the 50th, 90th and 99th percentiles of the start delay of
//! each start kind and of the end-to-end latency of each kind of
//! invocation (cold after a full init, cold after a local restore, warm)
//! and of all. Remote restores have no real counterpart (the driver refuses
//! scenarios that can produce them), so only their counts appear. The
//! relative error of each is `(sim - real) / real`; 0 when both are 0 and
//! undefined (an empty cell, `n/a` in the table) when only the real value
//! is 0.
//!
//! The results folder (written through [`Staging`]):
//!
//! ```text
//! DIR/compare.csv     metric,real,sim,rel_error: one row per metric above
//! DIR/summary.csv     two rows, `side` = real and sim, with summary.csv's columns
//! DIR/manifest.json   versions, scenario and profile (path, sha256), driver counts, wall times
//! DIR/scenario.toml   the scenario text as read
//! DIR/profile.toml    the calibration profile used
//! ```

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;

use crate::calibration::{CalibrationProfile, LoadedProfile, Machine};
use crate::error::Result;
use crate::executor::calibrate;
use crate::executor::driver::{self, DriverOptions, DriverStats, RealRun, Work};
use crate::metrics::{Metrics, Span};
use crate::report::manifest::{self, Manifest, ProfileRecord};
use crate::report::staging::AtomicFile;
use crate::report::{self, Kind, Staging};
use crate::run::{RunResult, RunSpec};
use crate::scenario;
use crate::sim;
use crate::workload::Context;

/// How to compare.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    pub scenario: PathBuf,
    /// The calibration profile (else the scenario's, else measured).
    pub profile: Option<PathBuf>,
    /// The results folder; default `results/<name>-compare`.
    pub out: Option<PathBuf>,
    pub force: bool,
    pub work: Work,
    pub worker_bin: PathBuf,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// Where the profile came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileSource {
    /// `--profile`.
    Option,
    /// The scenario's `calibration` key.
    Scenario,
    /// Measured by this compare (`calibrate --quick`).
    Measured,
}

/// One compared metric.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    pub metric: String,
    pub real: f64,
    pub sim: f64,
    /// A count (printed as an integer) or milliseconds.
    pub count: bool,
}

impl MetricRow {
    /// `(sim - real) / real`; 0 when both are 0; None when only `real` is.
    pub fn rel_error(&self) -> Option<f64> {
        if self.real == 0.0 {
            return (self.sim == 0.0).then_some(0.0);
        }
        Some((self.sim - self.real) / self.real)
    }
}

/// What `compare` produced.
#[derive(Debug)]
pub struct CompareOutcome {
    pub dir: PathBuf,
    pub rows: Vec<MetricRow>,
    pub real: RealRun,
    pub sim: RunResult,
    pub profile_source: ProfileSource,
    pub profile_path: String,
}

/// The compared metrics of a real and a simulated run (see the module doc).
pub fn rows(real: &RunResult, sim: &RunResult) -> Vec<MetricRow> {
    let mut v = Vec::new();
    let (r, s) = (&real.metrics, &sim.metrics);
    let count = |v: &mut Vec<MetricRow>, name: &str, f: &dyn Fn(&Metrics) -> u64| {
        v.push(MetricRow {
            metric: name.to_string(),
            real: f(r) as f64,
            sim: f(s) as f64,
            count: true,
        })
    };
    count(&mut v, "arrivals", &|m| m.counters.arrivals);
    count(&mut v, "completed", &|m| m.counters.completed);
    count(&mut v, "rejected", &|m| m.counters.rejected());
    count(&mut v, "failed", &|m| m.counters.failed);
    count(&mut v, "retries", &|m| m.counters.retries);
    count(&mut v, "starts_full", &|m| m.counters.starts_by_kind[0]);
    count(&mut v, "starts_local_restore", &|m| {
        m.counters.starts_by_kind[1]
    });
    count(&mut v, "starts_remote_restore", &|m| {
        m.counters.starts_by_kind[2]
    });
    count(&mut v, "cold_full", &|m| m.counters.cold_by_kind[0]);
    count(&mut v, "cold_local_restore", &|m| {
        m.counters.cold_by_kind[1]
    });
    count(&mut v, "cold_remote_restore", &|m| {
        m.counters.cold_by_kind[2]
    });
    count(&mut v, "warm_starts", &|m| m.counters.warm);
    count(&mut v, "snapshots_taken", &|m| m.counters.snapshots_taken);
    count(&mut v, "evicted_keepalive", &|m| {
        m.counters.evicted_keepalive
    });
    count(&mut v, "evicted_pressure", &|m| m.counters.evicted_pressure);
    count(&mut v, "peak_instances", &|m| m.peak_instances);
    let mut pct = |name: &str, f: &dyn Fn(&Metrics) -> &Span| {
        for p in [50.0, 90.0, 99.0] {
            v.push(MetricRow {
                metric: format!("{name}_p{p}_ms"),
                real: f(r).pct_ms(p),
                sim: f(s).pct_ms(p),
                count: false,
            });
        }
    };
    pct("start_full", &|m| &m.start_by_kind[0]);
    pct("start_local", &|m| &m.start_by_kind[1]);
    pct("latency_full", &|m| &m.latency_by_kind[0]);
    pct("latency_local", &|m| &m.latency_by_kind[1]);
    pct("latency_warm", &|m| &m.latency_warm);
    pct("latency", &|m| &m.overall.latency);
    v
}

fn fmt_value(x: f64, count: bool) -> String {
    if count {
        format!("{x:.0}")
    } else {
        format!("{x:.3}")
    }
}

/// The side-by-side table as printed.
pub fn render(rows: &[MetricRow]) -> String {
    let mut t = format!(
        "{:<26} {:>12} {:>12} {:>10}\n",
        "metric", "real", "sim", "rel.err"
    );
    for r in rows {
        let e = r
            .rel_error()
            .map_or_else(|| "n/a".to_string(), |e| format!("{:+.1}%", e * 100.0));
        t += &format!(
            "{:<26} {:>12} {:>12} {:>10}\n",
            r.metric,
            fmt_value(r.real, r.count),
            fmt_value(r.sim, r.count),
            e
        );
    }
    t
}

/// compare.csv: metric, real, sim, rel_error (empty when undefined).
pub fn csv(rows: &[MetricRow]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(["metric", "real", "sim", "rel_error"]);
    for r in rows {
        let _ = w.write_record([
            r.metric.clone(),
            format!("{:.6}", r.real),
            format!("{:.6}", r.sim),
            r.rel_error().map_or(String::new(), |e| format!("{e:.6}")),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

/// The fields of a compare's manifest.json after the provenance.
#[derive(Debug, Serialize)]
struct CompareBody {
    replicate: u64,
    profile: ProfileRecord,
    profile_source: ProfileSource,
    profile_measured_on: Machine,
    work: &'static str,
    host: String,
    cores: usize,
    started_at_utc: String,
    real_wall_seconds: f64,
    sim_wall_seconds: f64,
    driver: DriverRecord,
}

#[derive(Debug, Serialize)]
struct DriverRecord {
    cold_spawns: u64,
    templates: u64,
    forks: u64,
    fallbacks: u64,
    failed_invocations: u64,
    crashed_instances: u64,
    arrival_lateness_mean_ms: f64,
    arrival_lateness_max_ms: f64,
}

impl DriverRecord {
    fn of(s: &DriverStats) -> DriverRecord {
        DriverRecord {
            cold_spawns: s.cold_spawns,
            templates: s.templates,
            forks: s.forks,
            fallbacks: s.fallbacks,
            failed_invocations: s.failed_invocations,
            crashed_instances: s.crashed_instances,
            arrival_lateness_mean_ms: s.lateness_mean_ns as f64 / 1e6,
            arrival_lateness_max_ms: s.lateness_max_ns as f64 / 1e6,
        }
    }
}

/// The state sizes a profile for `s` should measure: the quick ones plus
/// those of its apps (a `functions` workload; others have only the quick
/// ones), increasing and without repeats.
pub fn profile_sizes(s: &scenario::Scenario) -> Vec<u32> {
    let mut v: Vec<u32> = calibrate::default_sizes(true).to_vec();
    if s.workload.is_functions() {
        v.extend(
            s.function_table()
                .apps
                .iter()
                .map(|a| a.state_mb.min(driver::MAX_STATE_MB) as u32),
        );
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// Runs `coldsim compare`: loads and checks the scenario, finds or measures
/// the profile, runs the real executor then the simulator, and writes the
/// results folder. `progress` hears what is going on (one line at a time).
pub fn run(opts: &CompareOptions, progress: &mut dyn FnMut(&str)) -> Result<CompareOutcome> {
    let sf = scenario::load(&opts.scenario)?;
    let s = &sf.base;
    driver::check_supported(s, &sf.origin)?;
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(format!("{}-compare", s.name)));
    let mut inputs = vec![opts.scenario.as_path()];
    inputs.extend(opts.profile.as_deref());
    let staging = Staging::new(&out, opts.force, Kind::Compare, &inputs)?;
    let ctx = Context {
        base_dir: sf.base_dir.clone(),
        skip_bad_rows: false,
    };
    let started = manifest::now_utc();

    let (profile, text, record, source) = match &opts.profile {
        Some(p) => {
            let l = LoadedProfile::load(p)?;
            let text = std::fs::read_to_string(p).unwrap_or_default();
            (
                l.profile.clone(),
                text,
                ProfileRecord::of(&l),
                ProfileSource::Option,
            )
        }
        None => match LoadedProfile::for_key(s.calibration.as_deref(), &sf.base_dir)? {
            Some(l) => {
                let text = std::fs::read_to_string(&l.path).unwrap_or_default();
                let r = ProfileRecord::of(&l);
                (l.profile, text, r, ProfileSource::Scenario)
            }
            None => {
                progress(
                    "no calibration profile (no --profile, no `calibration` key): measuring one with `calibrate --quick` first",
                );
                let p =
                    calibrate::measure_sizes(true, &profile_sizes(s), &opts.worker_bin, progress)?;
                let text = p.to_toml();
                let record = ProfileRecord {
                    path: out.join("profile.toml").display().to_string(),
                    sha256: manifest::sha256_hex(text.as_bytes()),
                };
                (p, text, record, ProfileSource::Measured)
            }
        },
    };
    progress(&format!(
        "real executor: {} of wall time (scenario {}), then the simulator with profile {}",
        s.duration, sf.origin, record.path
    ));
    // The profile prices the simulated side; the spec itself is the same.
    let spec = RunSpec::with_profile(s, None);
    let real = driver::run(
        &spec,
        &sf.origin,
        &ctx,
        &DriverOptions {
            worker_bin: opts.worker_bin.clone(),
            replicate: 0,
            work: opts.work,
            inject: Vec::new(),
        },
        progress,
    )?;
    let t = Instant::now();
    let simulated = sim::run_calibrated(&spec, 0, &ctx, &profile)?;
    let sim_wall = t.elapsed().as_secs_f64();
    let rows = rows(&real.result, &simulated);

    staging.write("compare.csv", &csv(&rows))?;
    let summaries = [
        report::summary_row(s, 0, &real.result),
        report::summary_row(s, 0, &simulated),
    ];
    let sides = [
        vec![("side".to_string(), "real".to_string())],
        vec![("side".to_string(), "sim".to_string())],
    ];
    staging.write("summary.csv", &report::csv_bytes_with(&summaries, &sides))?;
    staging.write("scenario.toml", sf.text.as_bytes())?;
    staging.write("profile.toml", text.as_bytes())?;
    let body = CompareBody {
        replicate: 0,
        profile: record.clone(),
        profile_source: source.clone(),
        profile_measured_on: profile.machine.clone(),
        work: match opts.work {
            Work::Cpu => "cpu",
            Work::Io => "io",
        },
        host: manifest::host_name(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        started_at_utc: started,
        real_wall_seconds: real.wall.as_secs_f64(),
        sim_wall_seconds: sim_wall,
        driver: DriverRecord::of(&real.stats),
    };
    staging.write_manifest(&mut Manifest::new(&sf, &opts.command, body))?;
    let dir = staging.commit()?;
    Ok(CompareOutcome {
        dir,
        rows,
        real,
        sim: simulated,
        profile_source: source,
        profile_path: record.path,
    })
}

/// `coldsim calibrate`: checks the output path (an existing file is
/// replaced only with `force`, and only if it is a calibration profile),
/// measures, and writes the profile atomically (a temporary file beside
/// it, fsynced and renamed: see [`crate::report::staging::AtomicFile`]);
/// returns it.
pub fn calibrate(
    opts: &calibrate::CalibrateOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<CalibrationProfile> {
    let out = AtomicFile::create(&opts.out, opts.force, is_profile, "--out")?;
    let profile = calibrate::measure(opts.quick, &opts.worker_bin, progress)?;
    out.commit(profile.to_toml().as_bytes())?;
    Ok(profile)
}

/// Whether a file's bytes are a calibration profile coldsim wrote (what
/// `calibrate --force` may replace).
fn is_profile(bytes: &[u8]) -> bool {
    bytes.starts_with(b"# coldsim calibration profile")
}
