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

pub mod azure2019;
pub mod azure2021;
pub mod generic_csv;
pub mod huawei;
pub mod population;
pub mod process;
pub mod synthetic;
pub mod trace;

use std::path::PathBuf;

use serde::Serialize;

use crate::engine::{Streams, Timed};
use crate::error::{Error, Result};
use crate::scenario::{Dist, Scenario, WorkloadCfg};
use crate::time::{SimDuration, SimTime};

/// One request for a function. `exec` is how long it will run once on an
/// instance (drawn when the workload generates it, or read from a trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Sequence number in arrival order, from 0.
    pub id: u64,
    /// Index of the function in the run's [`FunctionTable`].
    pub function: u32,
    /// When it first arrived: retries keep it, so latency counts from here.
    pub arrival: SimTime,
    pub exec: SimDuration,
    /// 0 for the first attempt, n for the n-th retry (fits in padding).
    pub attempt: u32,
}

impl Timed for Invocation {
    #[inline]
    fn time(&self) -> SimTime {
        self.arrival
    }
}

/// A function of the run.
#[derive(Clone, Debug, PartialEq)]
pub struct FnInfo {
    pub name: String,
    /// Index into [`FunctionTable::apps`].
    pub app: u32,
    /// Its concurrency limit (reserved concurrency): invocations of it
    /// given an instance or waiting for one at once; None = no limit.
    pub max_concurrency: Option<u32>,
}

/// An application of the run: the unit that is loaded, scaled and kept
/// alive; memory and init time belong to it.
#[derive(Clone, Debug, PartialEq)]
pub struct AppInfo {
    pub name: String,
    pub memory_mb: u64,
    /// The fixed part of a full initialisation (runtime start, code load);
    /// loading `state_mb` adds `state_mb / state.load_bandwidth`.
    pub init: Dist,
    /// State loaded at initialisation (model weights, indexes, pools).
    pub state_mb: u64,
    /// Size of its snapshot; None = its memory size (a full memory image).
    pub snapshot_mb: Option<u64>,
    /// Invocations one instance serves at once.
    pub concurrency: u32,
}

impl AppInfo {
    /// The size of the app's snapshot in MB.
    pub fn snapshot_mb(&self) -> u64 {
        self.snapshot_mb.unwrap_or(self.memory_mb)
    }
}

/// The functions and apps of a run, fixed before it starts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FunctionTable {
    pub functions: Vec<FnInfo>,
    pub apps: Vec<AppInfo>,
}

impl FunctionTable {
    /// The table of a `functions` workload: declared apps first, then one
    /// implicit app per function that names none (named after it).
    pub fn from_scenario(s: &Scenario) -> FunctionTable {
        let m = s.app_model();
        FunctionTable {
            functions: s
                .functions
                .iter()
                .zip(&m.fn_app)
                .map(|(f, &app)| FnInfo {
                    name: f.name.clone(),
                    app,
                    max_concurrency: f.max_concurrency,
                })
                .collect(),
            apps: m
                .apps
                .into_iter()
                .map(|a| AppInfo {
                    name: a.name,
                    memory_mb: a.memory_mb,
                    init: a.init,
                    state_mb: a.state_mb,
                    snapshot_mb: a.snapshot_mb,
                    concurrency: a.concurrency,
                })
                .collect(),
        }
    }
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

/// Opens the workload of a validated scenario for one replicate.
pub fn open(s: &Scenario, ctx: &Context, streams: &Streams) -> Result<Workload> {
    let horizon = SimTime(s.duration.as_nanos());
    let (table, arrivals) = match &s.workload {
        WorkloadCfg::Functions => {
            let table = FunctionTable::from_scenario(s);
            let procs = s
                .functions
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let key = format!("functions[{i}].arrivals");
                    synthetic::FnSource::new(&f.name, &key, &f.arrivals, &f.exec, ctx, streams)
                })
                .collect::<Result<Vec<_>>>()?;
            (
                table,
                Arrivals::Synthetic(synthetic::Merge::new(procs, horizon)),
            )
        }
        WorkloadCfg::Population(cfg) => {
            let (table, procs) = population::build(cfg, s, ctx, streams)?;
            (
                table,
                Arrivals::Synthetic(synthetic::Merge::new(procs, horizon)),
            )
        }
        WorkloadCfg::Azure2019(cfg) => {
            let (t, r) = azure2019::open(cfg, s, ctx, streams)?;
            (t, Arrivals::Azure2019(Box::new(r)))
        }
        WorkloadCfg::Azure2021(cfg) => {
            let (t, r) = azure2021::open(cfg, s, ctx, streams)?;
            (t, Arrivals::Azure2021(Box::new(r)))
        }
        WorkloadCfg::Huawei(cfg) => {
            let (t, r) = huawei::open(cfg, s, ctx, streams)?;
            (t, Arrivals::Huawei(Box::new(r)))
        }
        WorkloadCfg::Csv(cfg) => {
            let (t, r) = generic_csv::open(cfg, s, ctx, streams)?;
            (t, Arrivals::Csv(Box::new(r)))
        }
    };
    let host_mb = s.hosts.memory_mb.0;
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
