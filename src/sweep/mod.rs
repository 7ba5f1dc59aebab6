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
//! OUT/manifest.json  OUT/scenario.toml
//! OUT/summary.csv OUT/functions.csv OUT/latency.csv       (a single run)
//! OUT/sweep.csv  OUT/runs/p<point>-r<replicate>/{summary,functions,latency}.csv
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::executor::calibrate::LoadedProfile;
use crate::report::manifest::{self, Manifest, ProfileRecord};
use crate::report::progress::Bar;
use crate::report::{self, Cell, Row, Staging};
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
    pub events: u64,
    pub workload: WorkloadStats,
}

/// What `execute` wrote.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub jobs: Vec<JobResult>,
    /// The swept values of each job's point.
    pub labels: Vec<Vec<(String, String)>>,
}

fn run_job(
    p: &SweepPoint,
    replicate: u64,
    ctx: &Context,
    scenario: &str,
    bar: Option<&Bar>,
) -> Result<JobResult> {
    let s = &p.scenario;
    let r = match bar {
        Some(b) => sim::run_with(s, replicate, ctx, &mut |pr| b.sim(pr), None),
        None => sim::run_with(s, replicate, ctx, &mut |_| {}, None),
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
        summary,
        events: r.events,
        workload: r.workload,
    })
}

/// Runs every point and replicate of `sf` and writes the results folder.
pub fn execute(sf: &ScenarioFile, opts: &RunOptions) -> Result<Outcome> {
    let staging = Staging::new(&opts.out, opts.force)?;
    // Read once here to fail early and to record its hash; each run reads
    // it again (a few hundred bytes).
    let profile = LoadedProfile::for_scenario(&sf.base, &sf.base_dir)?;
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let ctx = Context {
        base_dir: sf.base_dir.clone(),
        skip_bad_rows: opts.skip_bad_rows,
    };
    let t0 = Instant::now();
    let jobs: Vec<(usize, u64)> = (0..sf.points.len())
        .flat_map(|p| (0..sf.replicates as u64).map(move |r| (p, r)))
        .collect();
    let results: Vec<JobResult> = if !sf.is_sweep() {
        let bar = Bar::new(
            1000,
            opts.quiet,
            "{elapsed_precise} [{bar:40}] {percent}% {msg}",
        );
        let r = run_job(&sf.points[0], 0, &ctx, &sf.origin, Some(&bar));
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
                let j = run_job(&sf.points[p], r, &ctx, &sf.origin, None)?;
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
        let pw = (sf.points.len().max(2) - 1).to_string().len();
        let rw = ((sf.replicates as usize).max(2) - 1).to_string().len();
        for j in &results {
            let dir = format!("runs/p{:0pw$}-r{:0rw$}", j.point, j.replicate);
            staging.write(&format!("{dir}/summary.csv"), &j.summary_csv)?;
            staging.write(&format!("{dir}/functions.csv"), &j.functions_csv)?;
            staging.write(&format!("{dir}/latency.csv"), &j.latency_csv)?;
        }
        let rows: Vec<Row> = results.iter().map(|j| j.summary.clone()).collect();
        staging.write("sweep.csv", &report::csv_bytes_with(&rows, &labels))?;
    } else {
        let j = &results[0];
        staging.write("summary.csv", &j.summary_csv)?;
        staging.write("functions.csv", &j.functions_csv)?;
        staging.write("latency.csv", &j.latency_csv)?;
    }
    staging.write("scenario.toml", sf.text.as_bytes())?;
    let m = Manifest {
        coldsim_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: manifest::git_commit().to_string(),
        command: opts.command.clone(),
        scenario_file: sf.origin.clone(),
        scenario_name: sf.base.name.clone(),
        scenario_sha256: manifest::sha256_hex(sf.text.as_bytes()),
        seed: sf.base.seed,
        sweep_points: sf.points.len(),
        replicates: sf.replicates,
        runs: results.len(),
        host: manifest::host_name(),
        threads: rayon::current_num_threads(),
        started_at_utc: manifest::rfc3339_utc(started),
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
        scenario_text: sf.text.clone(),
    };
    staging.write("manifest.json", &m.to_json())?;
    let dir = staging.commit()?;
    Ok(Outcome {
        dir,
        manifest: m,
        jobs: results,
        labels,
    })
}
