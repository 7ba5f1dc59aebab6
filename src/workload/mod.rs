//! Workloads: arrival processes, as pull iterators of invocations sorted by
//! arrival time.
//!
//! A workload is never materialised: each function keeps its own next
//! arrival, and a small heap over the functions yields the earliest one, so
//! memory grows with the number of functions, not with the number of
//! invocations. Each function draws its gaps and its execution times from two
//! streams of its own, keyed by its name: adding a function, or changing one
//! function's arrival process, leaves every other function's draws as they
//! were. Ties between functions at the same nanosecond go to the function
//! listed first.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::engine::{RngStream, Streams, Timed};
use crate::scenario::{ArrivalsCfg, Sampler, Scenario};
use crate::time::{SimDuration, SimTime};

/// One request for a function. `exec` is how long it will run once on an
/// instance (drawn when the workload generates it, or read from a trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Sequence number in arrival order, from 0.
    pub id: u64,
    /// Index of the function in the scenario.
    pub function: u32,
    pub arrival: SimTime,
    pub exec: SimDuration,
}

impl Timed for Invocation {
    #[inline]
    fn time(&self) -> SimTime {
        self.arrival
    }
}

enum Process {
    /// Exponential gaps with this mean, in seconds.
    Poisson { mean_gap_s: f64 },
}

struct FnGen {
    next: SimTime,
    gaps: RngStream,
    execs: RngStream,
    exec: Sampler,
    process: Process,
}

impl FnGen {
    #[inline]
    fn gap(&mut self) -> SimDuration {
        match self.process {
            Process::Poisson { mean_gap_s } => {
                SimDuration::from_secs_f64(self.gaps.exp(mean_gap_s))
            }
        }
    }
}

/// The synthetic workload of a scenario: every function's arrival process,
/// merged in time order, up to the scenario's duration.
pub struct Synthetic {
    gens: Vec<FnGen>,
    /// (next arrival, function index) of every function still arriving.
    heap: BinaryHeap<Reverse<(SimTime, u32)>>,
    horizon: SimTime,
    next_id: u64,
}

impl Synthetic {
    pub fn new(s: &Scenario, streams: &Streams) -> Result<Self, String> {
        let horizon = SimTime(s.duration.as_nanos());
        let mut gens = Vec::with_capacity(s.functions.len());
        let mut heap = BinaryHeap::with_capacity(s.functions.len());
        for (i, f) in s.functions.iter().enumerate() {
            let process = match &f.arrivals {
                ArrivalsCfg::Poisson { rate } => Process::Poisson {
                    mean_gap_s: 1.0 / rate.per_sec(),
                },
            };
            let mut g = FnGen {
                next: SimTime::ZERO,
                gaps: streams.named("arrivals", &f.name),
                execs: streams.named("exec", &f.name),
                exec: f.exec.sampler()?,
                process,
            };
            // The first arrival is one gap after time zero.
            g.next = SimTime::ZERO + g.gap();
            if g.next < horizon {
                heap.push(Reverse((g.next, i as u32)));
            }
            gens.push(g);
        }
        Ok(Synthetic {
            gens,
            heap,
            horizon,
            next_id: 0,
        })
    }
}

impl Iterator for Synthetic {
    type Item = Invocation;

    #[inline]
    fn next(&mut self) -> Option<Invocation> {
        let mut top = self.heap.peek_mut()?;
        let Reverse((t, f)) = *top;
        let g = &mut self.gens[f as usize];
        let exec = g.exec.sample(&mut g.execs);
        let next = t + g.gap();
        g.next = next;
        if next < self.horizon {
            *top = Reverse((next, f));
        } else {
            std::collections::binary_heap::PeekMut::pop(top);
        }
        let id = self.next_id;
        self.next_id += 1;
        Some(Invocation {
            id,
            function: f,
            arrival: t,
            exec,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse_str;

    #[test]
    fn merged_stream_is_sorted_and_rates_match() {
        let text = r#"
name = "w"
duration = "10000s"
[[functions]]
name = "a"
exec = { dist = "constant", value = "1ms" }
arrivals = { kind = "poisson", rate = "2/s" }
[[functions]]
name = "b"
exec = { dist = "constant", value = "1ms" }
arrivals = { kind = "poisson", rate = "30/min" }
"#;
        let sf = parse_str(text, "t").unwrap();
        let w = Synthetic::new(&sf.base, &Streams::new(3, 0)).unwrap();
        let mut last = SimTime::ZERO;
        let mut counts = [0u64; 2];
        for (i, inv) in w.enumerate() {
            assert!(inv.arrival >= last);
            assert!(inv.arrival < SimTime(10_000_000_000_000));
            assert_eq!(inv.id, i as u64);
            last = inv.arrival;
            counts[inv.function as usize] += 1;
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
