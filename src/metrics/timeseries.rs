//! Time series of a run: `[report] interval = "1m"` makes each run write
//! timeseries.csv, one row per interval of simulated time.
//!
//! The series costs nothing when off and O(1) per event when on. The
//! metrics already integrate the platform's gauges exactly (integer
//! count-ns and MB-ns) between events; with a series on, [`Metrics`]
//! additionally stops at each interval boundary an event crosses and keeps
//! a [`Mark`]: a copy of the running integrals and counters at that
//! boundary. An interval's figures are the differences of two consecutive
//! marks, so time averages are exact (integral over the interval divided by
//! its length) and counts are exact. When off, the boundary is `u64::MAX`
//! and the only cost is one comparison that never succeeds.
//!
//! Boundaries lie at multiples of the interval below the scenario's
//! duration; the last interval ends at the duration and may be shorter.
//! Counts of what happens after the duration (invocations that arrived
//! before it and finish after it, and the starts they need) go to the last
//! interval, so that the column sums equal the run's totals.
//!
//! [`Metrics`]: super::Metrics

use crate::time::{SimDuration, SimTime};

/// The `[report]` table: extra outputs of each run.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportCfg {
    /// Write timeseries.csv with one row per `interval` of simulated time
    /// (instances, memory, queue, arrivals and starts; see
    /// this module). Off when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<SimDuration>,
}

impl ReportCfg {
    pub fn is_default(&self) -> bool {
        *self == ReportCfg::default()
    }
}

/// The running totals at one boundary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// The boundary, in ns from the start of the run.
    pub at: SimTime,
    /// Integrals (count-ns or MB-ns) from time 0 to `at`.
    pub idle: u128,
    pub busy: u128,
    pub starting: u128,
    pub memory_mb: u128,
    pub queued: u128,
    pub throttled: u128,
    /// Counters from time 0 to `at`.
    pub arrivals: u64,
    pub starts: u64,
    pub prewarms: u64,
    pub completed: u64,
    pub rejected: u64,
}

/// The marks of a run, in time order (the first is time 0, all zero).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeSeries {
    pub interval_ns: u64,
    pub marks: Vec<Mark>,
}

/// One interval: time averages and counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub start: SimTime,
    pub end: SimTime,
    pub idle: f64,
    pub busy: f64,
    pub starting: f64,
    pub memory_mb: f64,
    /// Invocations waiting for memory, and for a concurrency limit.
    pub queue_length: f64,
    pub throttled: f64,
    pub arrivals: u64,
    /// Instances started on demand (cold starts begun), pre-warms apart.
    pub cold_starts: u64,
    pub prewarms: u64,
    pub completed: u64,
    pub rejected: u64,
}

impl TimeSeries {
    pub fn new(interval_ns: u64) -> Self {
        TimeSeries {
            interval_ns: interval_ns.max(1),
            marks: vec![Mark::default()],
        }
    }

    /// The intervals between consecutive marks.
    pub fn intervals(&self) -> Vec<Interval> {
        self.marks
            .windows(2)
            .map(|w| {
                let (a, b) = (&w[0], &w[1]);
                let len = (b.at.0 - a.at.0).max(1) as f64;
                let avg = |x: u128, y: u128| (y - x) as f64 / len;
                let starts = b.starts - a.starts;
                let prewarms = b.prewarms - a.prewarms;
                Interval {
                    start: a.at,
                    end: b.at,
                    idle: avg(a.idle, b.idle),
                    busy: avg(a.busy, b.busy),
                    starting: avg(a.starting, b.starting),
                    memory_mb: avg(a.memory_mb, b.memory_mb),
                    queue_length: avg(a.queued, b.queued),
                    throttled: avg(a.throttled, b.throttled),
                    arrivals: b.arrivals - a.arrivals,
                    cold_starts: starts.saturating_sub(prewarms),
                    prewarms,
                    completed: b.completed - a.completed,
                    rejected: b.rejected - a.rejected,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;
    use crate::model::FnId;
    use crate::platform::Gauges;
    use crate::time::SimDuration;

    fn gauges(busy: u64, idle: u64, mb: u64) -> Gauges {
        Gauges {
            busy,
            idle,
            busy_mb: busy * mb,
            idle_mb: idle * mb,
            ..Gauges::default()
        }
    }

    #[test]
    fn intervals_are_exact_time_averages_and_sum_to_the_totals() {
        // Horizon 25 s, interval 10 s: boundaries 10 s and 20 s, the last
        // interval 5 s long.
        let s = |x: u64| SimTime(x * 1_000_000_000);
        let mut m = Metrics::new(1, s(25));
        m.sample_every(SimDuration::from_secs(10));
        // 0..3 s nothing, 3..14 s one busy 256 MB instance, 14..22 s one
        // idle, then nothing.
        m.advance(s(3), &gauges(0, 0, 256));
        m.arrival(FnId(0));
        m.advance(s(14), &gauges(1, 0, 256));
        m.arrival(FnId(0));
        m.advance(s(22), &gauges(0, 1, 256));
        m.advance(s(25), &gauges(0, 0, 256));
        m.seal();
        let ts = m.timeseries.as_ref().expect("on");
        let iv = ts.intervals();
        assert_eq!(iv.len(), 3);
        assert_eq!((iv[0].start, iv[0].end), (s(0), s(10)));
        assert_eq!((iv[2].start, iv[2].end), (s(20), s(25)));
        assert!((iv[0].busy - 0.7).abs() < 1e-12);
        assert!((iv[1].busy - 0.4).abs() < 1e-12);
        assert!((iv[1].idle - 0.6).abs() < 1e-12);
        assert!((iv[2].idle - 0.4).abs() < 1e-12);
        assert!((iv[0].memory_mb - 0.7 * 256.0).abs() < 1e-9);
        assert_eq!(
            iv.iter().map(|i| i.arrivals).collect::<Vec<_>>(),
            vec![1, 1, 0]
        );
        // The series integrates to the run's integrals.
        let busy: f64 = iv
            .iter()
            .map(|i| i.busy * (i.end.0 - i.start.0) as f64)
            .sum();
        assert!((busy - m.integrals.busy as f64).abs() < 1.0);
    }

    #[test]
    fn off_by_default() {
        let mut m = Metrics::new(1, SimTime(100));
        m.advance(SimTime(50), &gauges(1, 0, 1));
        m.seal();
        assert!(m.timeseries.is_none());
    }
}
