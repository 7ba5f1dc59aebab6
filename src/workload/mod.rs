//! Workloads: where invocations come from, as pull iterators sorted by
//! arrival time.
//!
//! A workload is never materialised. [`open`] reads what it must up front
//! (the list of functions and apps, and per-minute counts of one trace day at
//! a time) and returns a [`Workload`]: a [`FunctionTable`] that fixes the
//! functions and apps of the run, and an [`Arrivals`] iterator that yields
//! [`Invocation`]s in arrival order with memory bounded by the number of
//! functions and by one window of the trace, never by the number of
//! invocations.
//!
//! Kinds (the scenario's `[workload] kind`):
//! * `functions`: the scenario's `[[functions]]`, each with its own arrival
//!   process ([`synthetic`]);
//! * `population`: N synthetic functions with Zipf popularity ([`population`]);
//! * `azure2019`, `azure2021`, `huawei`, `csv`: trace replay ([`azure2019`],
//!   [`azure2021`], [`huawei`], [`generic_csv`]).
//!
//! Every random draw of a workload (gaps, spreading inside a minute,
//! execution times, sampled memory sizes) comes from a stream keyed by the
//! function's or app's name, so a function's draws do not change when other
//! functions are added, removed or sampled differently.

pub mod arrivals;
pub mod azure2019;
pub mod azure2021;
pub mod generic_csv;
pub mod huawei;
pub mod population;
pub mod process;
pub mod synthetic;
pub mod trace;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use arrivals::ArrivalsCfg;

use crate::cfg::{Check, Validate};
use crate::dist::Dist;
use crate::engine::Streams;
use crate::error::{Error, Result};
use crate::model::{FunctionTable, Invocation};
use crate::time::{SimDuration, SimTime};

/// The `[workload]` table: where invocations come from, tagged by `kind`
/// (default `functions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "kebab-case")]
pub enum WorkloadCfg {
    /// The scenario's `[[apps]]` and `[[functions]]`, each function with its
    /// own arrival process.
    Functions(FunctionsCfg),
    /// N synthetic functions with Zipf popularity.
    Population(population::Config),
    /// Azure Functions 2019 trace replay.
    Azure2019(azure2019::Config),
    /// Azure Functions 2021 invocation trace replay.
    Azure2021(azure2021::Config),
    /// Huawei Cloud 2025 per-minute request trace replay.
    Huawei(huawei::Config),
    /// A generic CSV of invocations.
    Csv(generic_csv::Config),
}

crate::cfg::tagged!(WorkloadCfg, "kind", "workload", default = "functions");

impl Default for WorkloadCfg {
    fn default() -> Self {
        WorkloadCfg::Functions(FunctionsCfg {})
    }
}

/// `[workload] kind = "functions"`: no keys; its functions are the
/// `[[functions]]` tables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionsCfg {}

impl WorkloadCfg {
    /// The scenario's own `[[functions]]` are the workload.
    pub fn is_functions(&self) -> bool {
        matches!(self, WorkloadCfg::Functions(_))
    }
}

impl Validate for WorkloadCfg {
    fn validate(&self, c: &mut Check) {
        let r = match self {
            WorkloadCfg::Functions(_) => Ok(()),
            WorkloadCfg::Population(x) => x.validate(),
            WorkloadCfg::Azure2019(x) => x.validate(),
            WorkloadCfg::Azure2021(x) => x.validate(),
            WorkloadCfg::Huawei(x) => x.validate(),
            WorkloadCfg::Csv(x) => x.validate(),
        };
        if let Err((key, msg)) = r {
            c.err(&key, msg);
        }
    }
}

/// What a workload knows of the run it feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunBounds {
    /// Arrivals are generated in `[0, duration)`.
    pub duration: SimDuration,
    /// An app that needs more than a host's memory cannot run.
    pub host_memory_mb: u64,
}

/// A function of a `functions` workload: its execution times and arrivals
/// (its name and app are in the table).
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticFn {
    pub exec: Dist,
    pub arrivals: ArrivalsCfg,
}

/// Everything [`open`] needs: the workload's table, and for a `functions`
/// workload its functions' table (resolved from the scenario's apps and
/// functions) and processes.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadSpec {
    pub cfg: WorkloadCfg,
    pub bounds: RunBounds,
    /// For `functions` only (empty otherwise): the table, and per function
    /// (in table order) its execution and arrivals.
    pub table: FunctionTable,
    pub functions: Vec<SyntheticFn>,
}

/// A trace file a run read, for the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TraceFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What a workload did with its input, reported in summary.csv and the
/// manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WorkloadStats {
    /// Malformed rows skipped under `--skip-bad-rows`.
    pub skipped_rows: u64,
    /// Functions left out by a documented rule (no duration or memory data,
    /// larger than a host) and the invocations they would have had.
    pub dropped_functions: u64,
    pub dropped_invocations: u64,
    /// Files read, with their SHA-256.
    pub files: Vec<TraceFile>,
}

/// How to read a workload's files.
#[derive(Clone, Debug)]
pub struct Context {
    /// Relative trace paths are resolved against this folder: the folder of
    /// the scenario file (the current folder for the built-in scenario).
    pub base_dir: PathBuf,
    /// Skip malformed rows (counted) instead of failing.
    pub skip_bad_rows: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            base_dir: PathBuf::from("."),
            skip_bad_rows: false,
        }
    }
}

/// The arrival stream of a run.
pub enum Arrivals {
    Synthetic(synthetic::Merge),
    Azure2019(Box<azure2019::Reader>),
    Azure2021(Box<azure2021::Reader>),
    Huawei(Box<huawei::Reader>),
    Csv(Box<generic_csv::Reader>),
}

/// What every trace reader provides besides its invocations.
pub trait TraceReader: Iterator<Item = Invocation> {
    /// Counts of what was skipped or dropped, and the files read.
    fn stats(&self) -> WorkloadStats;
    /// An error met while streaming (the iterator ends at it).
    fn take_error(&mut self) -> Option<Error>;
}

impl Iterator for Arrivals {
    type Item = Invocation;

    #[inline]
    fn next(&mut self) -> Option<Invocation> {
        match self {
            Arrivals::Synthetic(r) => r.next(),
            Arrivals::Azure2019(r) => r.next(),
            Arrivals::Azure2021(r) => r.next(),
            Arrivals::Huawei(r) => r.next(),
            Arrivals::Csv(r) => r.next(),
        }
    }
}

impl Arrivals {
    pub fn stats(&self) -> WorkloadStats {
        match self {
            Arrivals::Synthetic(r) => r.stats(),
            Arrivals::Azure2019(r) => r.stats(),
            Arrivals::Azure2021(r) => r.stats(),
            Arrivals::Huawei(r) => r.stats(),
            Arrivals::Csv(r) => r.stats(),
        }
    }

    pub fn take_error(&mut self) -> Option<Error> {
        match self {
            Arrivals::Synthetic(_) => None,
            Arrivals::Azure2019(r) => r.take_error(),
            Arrivals::Azure2021(r) => r.take_error(),
            Arrivals::Huawei(r) => r.take_error(),
            Arrivals::Csv(r) => r.take_error(),
        }
    }
}

/// A workload ready to run.
pub struct Workload {
    pub table: FunctionTable,
    pub arrivals: Arrivals,
}

/// Opens a workload for one replicate.
pub fn open(spec: &WorkloadSpec, ctx: &Context, streams: &Streams) -> Result<Workload> {
    let run = &spec.bounds;
    let horizon = SimTime(run.duration.as_nanos());
    let (table, arrivals) = match &spec.cfg {
        WorkloadCfg::Functions(_) => {
            let procs = spec
                .functions
                .iter()
                .zip(&spec.table.functions)
                .enumerate()
                .map(|(i, (f, info))| {
                    let key = format!("functions[{i}].arrivals");
                    synthetic::FnSource::new(&info.name, &key, &f.arrivals, &f.exec, ctx, streams)
                })
                .collect::<Result<Vec<_>>>()?;
            (
                spec.table.clone(),
                Arrivals::Synthetic(synthetic::Merge::new(procs, horizon)),
            )
        }
        WorkloadCfg::Population(cfg) => {
            let (table, procs) = population::build(cfg, run, ctx, streams)?;
            (
                table,
                Arrivals::Synthetic(synthetic::Merge::new(procs, horizon)),
            )
        }
        WorkloadCfg::Azure2019(cfg) => {
            let (t, r) = azure2019::open(cfg, run, ctx, streams)?;
            (t, Arrivals::Azure2019(Box::new(r)))
        }
        WorkloadCfg::Azure2021(cfg) => {
            let (t, r) = azure2021::open(cfg, run, ctx, streams)?;
            (t, Arrivals::Azure2021(Box::new(r)))
        }
        WorkloadCfg::Huawei(cfg) => {
            let (t, r) = huawei::open(cfg, run, ctx, streams)?;
            (t, Arrivals::Huawei(Box::new(r)))
        }
        WorkloadCfg::Csv(cfg) => {
            let (t, r) = generic_csv::open(cfg, run, ctx, streams)?;
            (t, Arrivals::Csv(Box::new(r)))
        }
    };
    let host_mb = run.host_memory_mb;
    if let Some(a) = table
        .apps
        .iter()
        .find(|a| a.memory_mb > host_mb || a.memory_mb == 0)
    {
        return Err(Error::input(
            "workload",
            format!(
                "app \"{}\" needs {} MB, but hosts have {host_mb} MB (hosts.memory_mb)",
                a.name, a.memory_mb
            ),
        ));
    }
    Ok(Workload { table, arrivals })
}
