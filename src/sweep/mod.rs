//! Running a scenario file: one run, or every point and replicate of a
//! sweep in parallel with rayon, into one results folder.
//!
//! A sweep's runs are independent and each is deterministic, and results are
//! collected in (point, replicate) order, so sweep.csv is byte-identical for
//! any `RAYON_NUM_THREADS`. Replicate `r` of every point uses the random
//! streams of `(seed, component, r)`.
//!
//! Layout of a results folder:
//!
//! ```text
//! OUT/manifest.json  OUT/scenario.toml  OUT/.coldsim (the marker: see report::staging)
//! OUT/summary.csv OUT/functions.csv OUT/latency.csv       (a single run)
//! OUT/sweep.csv  OUT/runs/p<point>-r<replicate>/{summary,functions,latency}.csv
//! OUT/timeseries.csv (each run's, with `[report] interval`)
//! ```
//!
//! A sweep can be split into shards that run apart (on the nodes of a
//! cluster) and are merged afterwards: see [`Shard`] and [`merge`].

pub mod merge;
pub mod table;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::calibration::LoadedProfile;
use crate::error::{Error, Result};
use crate::report::manifest::{self, ProfileRecord};
use crate::report::progress::Bar;
use crate::report::{self, Cell, Kind, Row, Staging};
use crate::run::RunSpec;
use crate::scenario::sweep::value_text;
use crate::scenario::{ScenarioFile, SweepPoint};
use crate::sim;
use crate::workload::{Context, WorkloadStats};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub force: bool,
    pub quiet: bool,
    /// The command line, for the manifest.
    pub command: Vec<String>,
    /// Skip malformed trace rows (counted) instead of failing.
    pub skip_bad_rows: bool,
    /// Run only this slice of a sweep's runs.
    pub shard: Option<Shard>,
}

/// One of `count` slices of a sweep's runs: `coldsim run --shard K/N`.
///
/// The runs (jobs) of a sweep are numbered from 0 in the order of
/// sweep.csv: point by point, replicates within a point. Shard `index`
/// (from 0, like `SLURM_ARRAY_TASK_ID` and Kubernetes'
/// `JOB_COMPLETION_INDEX`) holds the jobs `j` with `j % count == index`.
/// Dealing the jobs out round-robin rather than in blocks spreads a grid
/// whose runs grow more expensive along an axis evenly over the shards;
/// every job is in exactly one shard, and a shard may be empty when
/// `count` exceeds the number of jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `K/N`; the error says what was expected (the caller names
    /// the text, as clap does for `--shard`).
    pub fn parse(text: &str) -> std::result::Result<Shard, String> {
        let expected = "expected K/N with shard number K from 0 to N-1, such as 0/4";
        let (k, n) = text
            .split_once('/')
            .ok_or_else(|| format!("no '/'; {expected}"))?;
        let num = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                s.parse::<usize>().ok()
            }
        };
        let (Some(index), Some(count)) = (num(k), num(n)) else {
            return Err(format!("K and N must be whole numbers; {expected}"));
        };
        if count == 0 {
            return Err(format!("N must be at least 1; {expected}"));
        }
        if index >= count {
            return Err(format!(
                "there is no shard {index} of {count}, shards are numbered from 0 to {}; {expected}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether job number `job` (in sweep.csv order) belongs to this shard.
    pub fn holds(&self, job: usize) -> bool {
        job % self.count == self.index
    }

    /// The jobs of this shard among `total`, in order.
    pub fn jobs(&self, total: usize) -> impl Iterator<Item = usize> + use<> {
        (self.index..total).step_by(self.count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The folder of one run of a sweep, relative to the results folder:
/// `runs/p<point>-r<replicate>`, zero-padded to the widest number.
pub fn run_dir(points: usize, replicates: u32, point: usize, replicate: u64) -> String {
    let pw = (points.max(2) - 1).to_string().len();
    let rw = ((replicates as usize).max(2) - 1).to_string().len();
    format!("runs/p{point:0pw$}-r{replicate:0rw$}")
}

/// The result of one run of a sweep (or the only run).
#[derive(Clone, Debug)]
pub struct JobResult {
    pub point: usize,
    pub replicate: u64,
    pub summary: Row,
    pub summary_csv: Vec<u8>,
    pub functions_csv: Vec<u8>,
    pub latency_csv: Vec<u8>,
    /// timeseries.csv, when `[report] interval` is set.
    pub timeseries_csv: Option<Vec<u8>>,
    pub events: u64,
    pub workload: WorkloadStats,
}

/// The manifest of one `coldsim run` (one run or a sweep, or a shard).
pub type RunManifest = manifest::Manifest<RunBody>;

/// The fields of a run's manifest after the provenance.
#[derive(Clone, Debug, Serialize)]
pub struct RunBody {
    pub sweep_points: usize,
    pub replicates: u32,
    /// The runs in this folder: all of them, or those of its shard.
    pub runs: usize,
    /// Which slice of the sweep this folder holds (`coldsim run --shard`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    pub host: String,
    pub threads: usize,
    pub started_at_utc: String,
    pub wall_seconds: f64,
    pub events: u64,
    pub events_per_second: f64,
    pub invocations: u64,
    pub invocations_per_second: f64,
    /// Trace files read and rows skipped or functions dropped (first run).
    pub workload: crate::workload::WorkloadStats,
    /// The calibration profile that priced the starts (the scenario's
    /// `calibration` key); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<ProfileRecord>,
}

/// What `execute` wrote.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub dir: PathBuf,
    pub manifest: RunManifest,
    pub jobs: Vec<JobResult>,
    /// The swept values of each job's point.
    pub labels: Vec<Vec<(String, String)>>,
}

fn run_job(
    sf: &ScenarioFile,
    p: &SweepPoint,
    replicate: u64,
    ctx: &Context,
    profile: Option<&LoadedProfile>,
    bar: Option<&Bar>,
) -> Result<JobResult> {
    let s = &p.scenario;
    let scenario = &sf.origin;
    // The profile read once for the file serves every point that names
    // the same one.
    let spec = if s.calibration == sf.base.calibration {
        RunSpec::with_profile(s, profile.cloned())
    } else {
        RunSpec::new(s, &sf.base_dir)?
    };
    let r = match bar {
        Some(b) => sim::run_with(&spec, replicate, ctx, &mut |pr| b.sim(pr), None),
        None => sim::run_with(&spec, replicate, ctx, &mut |_| {}, None),
    }
    .map_err(|e| match e {
        // An error about a scenario key names the scenario file too.
        Error::Input { origin, msg }
            if origin.starts_with("workload") || origin.starts_with("app ") =>
        {
            Error::Input {
                origin: format!("{scenario}: {origin}"),
                msg,
            }
        }
        other => other,
    })?;
    let summary = report::summary_row(s, replicate, &r);
    Ok(JobResult {
        point: p.index,
        replicate,
        summary_csv: report::csv_bytes(std::slice::from_ref(&summary)),
        functions_csv: report::csv_bytes(&report::function_rows(&r)),
        latency_csv: report::csv_bytes(&report::latency_rows(&r)),
        timeseries_csv: report::timeseries_rows(&r).map(|rows| report::csv_bytes(&rows)),
        summary,
        events: r.events,
        workload: r.workload,
    })
}

/// Runs every point and replicate of `sf` and writes the results folder.
pub fn execute(sf: &ScenarioFile, opts: &RunOptions) -> Result<Outcome> {
    if let (Some(shard), false) = (opts.shard, sf.is_sweep()) {
        return Err(Error::Usage(format!(
            "{}: --shard {shard} splits the runs of a [sweep], and this scenario has no [sweep] (it is one run); run it without --shard",
            sf.origin
        )));
    }
    let kind = if sf.is_sweep() {
        Kind::Sweep
    } else {
        Kind::Run
    };
    let scenario_path = Path::new(&sf.origin);
    let staging = Staging::new(&opts.out, opts.force, kind, &[scenario_path])?;
    // Read once here, to fail early and to record its hash.
    let profile = LoadedProfile::for_key(sf.base.calibration.as_deref(), &sf.base_dir)?;
    let started = manifest::now_utc();
    let ctx = Context {
        base_dir: sf.base_dir.clone(),
        skip_bad_rows: opts.skip_bad_rows,
    };
    let t0 = Instant::now();
    let jobs: Vec<(usize, u64)> = (0..sf.points.len())
        .flat_map(|p| (0..sf.replicates as u64).map(move |r| (p, r)))
        .enumerate()
        .filter(|(j, _)| opts.shard.is_none_or(|s| s.holds(*j)))
        .map(|(_, job)| job)
        .collect();
    let results: Vec<JobResult> = if !sf.is_sweep() {
        let bar = Bar::new(
            1000,
            opts.quiet,
            "{elapsed_precise} [{bar:40}] {percent}% {msg}",
        );
        let r = run_job(sf, &sf.points[0], 0, &ctx, profile.as_ref(), Some(&bar));
        bar.finish();
        vec![r?]
    } else {
        let bar = Bar::new(
            jobs.len() as u64,
            opts.quiet,
            "{elapsed_precise} [{bar:40}] {pos}/{len} runs {msg}",
        );
        let events = AtomicU64::new(0);
        let out: Result<Vec<JobResult>> = jobs
            .par_iter()
            .map(|&(p, r)| {
                let j = run_job(sf, &sf.points[p], r, &ctx, profile.as_ref(), None)?;
                let total = events.fetch_add(j.events, Ordering::Relaxed) + j.events;
                let secs = t0.elapsed().as_secs_f64().max(1e-9);
                bar.inc(format!("{:.2} M events/s", total as f64 / secs / 1e6));
                Ok(j)
            })
            .collect();
        bar.finish();
        out?
    };
    let wall = t0.elapsed().as_secs_f64();
    let events: u64 = results.iter().map(|j| j.events).sum();
    let invocations: u64 = results
        .iter()
        .map(|j| match j.summary.iter().find(|(k, _)| *k == "arrivals") {
            Some((_, Cell::Int(n))) => *n,
            _ => 0,
        })
        .sum();
    let labels: Vec<Vec<(String, String)>> = results
        .iter()
        .map(|j| {
            let mut l = vec![("point".to_string(), j.point.to_string())];
            l.extend(
                sf.points[j.point]
                    .values
                    .iter()
                    .map(|(k, v)| (k.clone(), value_text(v))),
            );
            l
        })
        .collect();

    if sf.is_sweep() {
        for j in &results {
            let dir = run_dir(sf.points.len(), sf.replicates, j.point, j.replicate);
            staging.write(&format!("{dir}/summary.csv"), &j.summary_csv)?;
            staging.write(&format!("{dir}/functions.csv"), &j.functions_csv)?;
            staging.write(&format!("{dir}/latency.csv"), &j.latency_csv)?;
            if let Some(ts) = &j.timeseries_csv {
                staging.write(&format!("{dir}/timeseries.csv"), ts)?;
            }
        }
        let rows: Vec<Row> = results.iter().map(|j| j.summary.clone()).collect();
        staging.write("sweep.csv", &report::csv_bytes_with(&rows, &labels))?;
    } else {
        let j = &results[0];
        staging.write("summary.csv", &j.summary_csv)?;
        staging.write("functions.csv", &j.functions_csv)?;
        staging.write("latency.csv", &j.latency_csv)?;
        if let Some(ts) = &j.timeseries_csv {
            staging.write("timeseries.csv", ts)?;
        }
    }
    staging.write("scenario.toml", sf.text.as_bytes())?;
    let body = RunBody {
        sweep_points: sf.points.len(),
        replicates: sf.replicates,
        runs: results.len(),
        shard: opts.shard,
        host: manifest::host_name(),
        threads: rayon::current_num_threads(),
        started_at_utc: started,
        wall_seconds: wall,
        events,
        events_per_second: events as f64 / wall.max(1e-9),
        invocations,
        invocations_per_second: invocations as f64 / wall.max(1e-9),
        workload: results
            .first()
            .map(|j| j.workload.clone())
            .unwrap_or_default(),
        calibration: profile.as_ref().map(ProfileRecord::of),
    };
    let mut m = RunManifest::new(sf, &opts.command, body);
    staging.write_manifest(&mut m)?;
    let dir = staging.commit()?;
    Ok(Outcome {
        dir,
        manifest: m,
        jobs: results,
        labels,
    })
}
