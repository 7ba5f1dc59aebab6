//! Synthetic workloads: each function's own arrival process, merged in time
//! order.
//!
//! Each function keeps its next arrival, and a small heap over the functions
//! yields the earliest one, so memory grows with the number of functions,
//! not with the number of invocations. Each function draws its gaps and its
//! execution times from two streams of its own, keyed by its name. Ties
//! between functions at the same nanosecond go to the function listed
//! first.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::ArrivalsCfg;
use crate::dist::{Dist, Sampler};
use crate::engine::{RngStream, Streams};
use crate::error::{Error, Result};
use crate::time::SimTime;

use super::process::Process;
use super::{Context, TraceFile, WorkloadStats};
use crate::model::{FnId, Invocation};

/// One function's arrivals and execution times.
pub struct FnSource {
    process: Process,
    gaps: RngStream,
    execs: RngStream,
    exec: Sampler,
}

impl FnSource {
    /// The source of a function `name` with its own process and execution
    /// time distribution; `key` names its `arrivals` table in errors.
    pub fn new(
        name: &str,
        key: &str,
        arrivals: &ArrivalsCfg,
        exec: &Dist,
        ctx: &Context,
        streams: &Streams,
    ) -> Result<FnSource> {
        let process = Process::new_at(arrivals, 1.0, ctx, key)?;
        let exec = exec
            .sampler()
            .map_err(|m| Error::input(format!("function {name}: exec"), m))?;
        Ok(FnSource::from_parts(name, process, exec, streams))
    }

    /// A source from a ready process and sampler.
    pub fn from_parts(name: &str, process: Process, exec: Sampler, streams: &Streams) -> FnSource {
        FnSource {
            process,
            gaps: streams.named("arrivals", name),
            execs: streams.named("exec", name),
            exec,
        }
    }

    #[inline]
    fn next_time(&mut self) -> Option<SimTime> {
        self.process.next(&mut self.gaps)
    }
}

/// The merged arrivals of many functions, up to a horizon.
pub struct Merge {
    sources: Vec<FnSource>,
    /// (next arrival, function index) of every function still arriving.
    heap: BinaryHeap<Reverse<(SimTime, u32)>>,
    horizon: SimTime,
    next_id: u64,
    /// Rate files read by the processes, for the manifest.
    files: Vec<TraceFile>,
}

impl Merge {
    /// The files the processes read (piecewise rate files).
    pub fn stats(&self) -> WorkloadStats {
        WorkloadStats {
            files: self.files.clone(),
            ..WorkloadStats::default()
        }
    }
}

impl Merge {
    /// Merges `sources`; source `i` is function `i` of the run.
    pub fn new(mut sources: Vec<FnSource>, horizon: SimTime) -> Merge {
        let files = sources
            .iter()
            .filter_map(|s| s.process.trace_file().cloned())
            .collect();
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, src) in sources.iter_mut().enumerate() {
            if let Some(t) = src.next_time()
                && t < horizon
            {
                heap.push(Reverse((t, i as u32)));
            }
        }
        Merge {
            sources,
            heap,
            horizon,
            next_id: 0,
            files,
        }
    }
}

impl Iterator for Merge {
    type Item = Invocation;

    #[inline]
    fn next(&mut self) -> Option<Invocation> {
        let mut top = self.heap.peek_mut()?;
        let Reverse((t, f)) = *top;
        let src = &mut self.sources[f as usize];
        let exec = src.exec.sample(&mut src.execs);
        match src.next_time() {
            Some(next) if next < self.horizon => *top = Reverse((next, f)),
            _ => {
                std::collections::binary_heap::PeekMut::pop(top);
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        Some(Invocation {
            id,
            function: FnId(f),
            arrival: t,
            exec,
            attempt: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Streams;
    use crate::model::AppId;
    use crate::model::{AppInfo, FnInfo, FunctionTable};
    use crate::time::{Rate, SimDuration};
    use crate::workload::{RunBounds, SyntheticFn, WorkloadCfg, WorkloadSpec, open};

    #[test]
    fn merged_stream_is_sorted_and_rates_match() {
        let exec = Dist::Constant {
            value: SimDuration::from_millis(1),
        };
        let f = |name: &str, app| FnInfo {
            name: name.into(),
            app,
            max_concurrency: None,
        };
        let app = |name: &str| AppInfo {
            name: name.into(),
            memory_mb: 128,
            init: exec.clone(),
            min_instances: 0,
            state_mb: 0,
            snapshot_mb: None,
            concurrency: 1,
        };
        let spec = WorkloadSpec {
            cfg: WorkloadCfg::default(),
            bounds: RunBounds {
                duration: SimDuration::from_secs(10_000),
                host_memory_mb: 1024,
            },
            table: FunctionTable {
                functions: vec![f("a", AppId(0)), f("b", AppId(1))],
                apps: vec![app("a"), app("b")],
            },
            functions: ["2/s", "30/min"]
                .iter()
                .map(|r| SyntheticFn {
                    exec: exec.clone(),
                    arrivals: ArrivalsCfg::Poisson {
                        rate: Rate::parse(r).unwrap(),
                    },
                })
                .collect(),
        };
        let w = open(&spec, &Context::default(), &Streams::new(3, 0)).unwrap();
        let mut last = SimTime::ZERO;
        let mut counts = [0u64; 2];
        for (i, inv) in w.arrivals.enumerate() {
            assert!(inv.arrival >= last);
            assert!(inv.arrival < SimTime(10_000_000_000_000));
            assert_eq!(inv.id, i as u64);
            last = inv.arrival;
            counts[inv.function.index()] += 1;
        }
        // 20000 and 5000 expected; 5 standard deviations.
        assert!(
            (counts[0] as f64 - 20000.0).abs() < 5.0 * 20000f64.sqrt(),
            "{counts:?}"
        );
        assert!(
            (counts[1] as f64 - 5000.0).abs() < 5.0 * 5000f64.sqrt(),
            "{counts:?}"
        );
    }
}
