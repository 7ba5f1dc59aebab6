//! Metrics: HDR histograms of latencies, counters, and time integrals of
//! instance counts and memory.
//!
//! Every completed invocation records four spans, overall and for its
//! function: queueing delay (arrival to being given an instance), start
//! delay (given an instance to execution start: the init time when cold,
//! zero when warm), execution time, and end-to-end latency (the sum). Spans
//! are recorded in nanoseconds with a resolution of 1 us; overall histograms
//! keep 3 significant digits, per-function ones 2 (so 1,000 functions stay
//! small). Exact sums are kept beside them so that means are exact.
//!
//! Time integrals cover `[0, duration]` of the scenario: between two events
//! the platform's gauges are constant, so each integral is a sum of
//! `gauge x dt` in integer MB-nanoseconds, exact whatever the run length.

pub mod billing;
pub mod timeseries;

use hdrhistogram::Histogram;

use crate::model::{AppId, FnId};
use crate::platform::{
    Action, Completion, EvictReason, Gauges, KillReason, RejectReason, StartKind,
};
use crate::time::SimDuration;
use crate::time::SimTime;
use timeseries::{Mark, TimeSeries};

/// Lowest discernible value, 1 us in nanoseconds.
const LOW_NS: u64 = 1_000;
/// Initial highest trackable value, 1 hour; histograms grow past it.
const HIGH_NS: u64 = 3_600_000_000_000;

fn histogram(sigfig: u8) -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(LOW_NS, HIGH_NS, sigfig)
        .expect("constant histogram bounds are valid");
    h.auto(true);
    h
}

/// One span's histogram and exact sum.
///
/// Zeros (the queueing and start delay of most warm invocations) are
/// counted apart and added to the histogram by `Span::seal`, which the
/// simulator calls once at the end of a run: the histogram is then the same
/// as if each zero had been recorded, at a fraction of the cost.
#[derive(Clone, Debug)]
pub struct Span {
    pub hist: Histogram<u64>,
    pub sum_ns: u128,
    zeros: u64,
}

impl Span {
    fn new(sigfig: u8) -> Self {
        Span {
            hist: histogram(sigfig),
            sum_ns: 0,
            zeros: 0,
        }
    }

    #[inline]
    fn record(&mut self, ns: u64) {
        if ns == 0 {
            self.zeros += 1;
        } else {
            self.hist.saturating_record(ns);
            self.sum_ns += ns as u128;
        }
    }

    /// Moves the counted zeros into the histogram.
    fn seal(&mut self) {
        if self.zeros > 0 {
            self.hist.saturating_record_n(0, self.zeros);
            self.zeros = 0;
        }
    }

    pub fn count(&self) -> u64 {
        self.hist.len() + self.zeros
    }

    /// Exact mean in milliseconds (0 when empty).
    pub fn mean_ms(&self) -> f64 {
        let n = self.count();
        if n == 0 {
            0.0
        } else {
            self.sum_ns as f64 / n as f64 / 1e6
        }
    }

    /// The value at percentile `p` (0..=100) in milliseconds (0 when empty):
    /// the highest value equivalent to the recorded ones, as HdrHistogram
    /// reports, except that the bucket holding zero (values under 1 us)
    /// reports zero rather than its upper edge.
    pub fn pct_ms(&self, p: f64) -> f64 {
        if self.count() == 0 {
            return 0.0;
        }
        let v = self.hist.value_at_percentile(p);
        if self.hist.lowest_equivalent(v) == 0 {
            0.0
        } else {
            v as f64 / 1e6
        }
    }

    pub fn max_ms(&self) -> f64 {
        if self.count() == 0 {
            0.0
        } else {
            self.hist.max() as f64 / 1e6
        }
    }

    fn add(&mut self, other: &Span) {
        // Both histograms auto-resize, so adding cannot fail on range.
        let _ = self.hist.add(&other.hist);
        self.sum_ns += other.sum_ns;
        self.zeros += other.zeros;
    }
}

/// The four spans of an invocation's life.
///
/// Most invocations are warm and never wait: their queueing and start
/// delays are zero and their latency equals their execution time. Those are
/// recorded once, in `direct`, and added to `exec` and `latency` by
/// `Spans::seal`; the sealed histograms are exactly those of recording each
/// span of each invocation.
#[derive(Clone, Debug)]
#[repr(C)] // `direct`, the hot field, first: next to the counts.
pub struct Spans {
    direct: Span,
    pub queue: Span,
    pub start: Span,
    pub exec: Span,
    pub latency: Span,
}

impl Spans {
    fn new(sigfig: u8) -> Self {
        Spans {
            queue: Span::new(sigfig),
            start: Span::new(sigfig),
            exec: Span::new(sigfig),
            latency: Span::new(sigfig),
            direct: Span::new(sigfig),
        }
    }

    fn seal(&mut self) {
        // Every direct invocation had zero queueing and start delay.
        let n = self.direct.count();
        self.queue.zeros += n;
        self.start.zeros += n;
        self.direct.seal();
        self.exec.add(&self.direct);
        self.latency.add(&self.direct);
        self.direct = Span::new(self.direct.hist.sigfig());
        self.queue.seal();
        self.start.seal();
        self.exec.seal();
        self.latency.seal();
    }

    /// Records an invocation; true if it went to `direct` (warm, no wait).
    #[inline(always)]
    fn record(&mut self, c: &Completion) -> bool {
        let queue = c.dispatched.since(c.inv.arrival).as_nanos();
        let start = c.exec_start.since(c.dispatched).as_nanos();
        let exec = c.end.since(c.exec_start).as_nanos();
        if queue == 0 && start == 0 && !c.cold() {
            self.direct.record(exec);
            true
        } else {
            self.queue.record(queue);
            self.start.record(start);
            self.exec.record(exec);
            self.latency.record(queue + start + exec);
            false
        }
    }
}

/// Counts of one function's invocations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FnCounts {
    pub arrivals: u64,
    pub completed: u64,
    pub cold: u64,
    /// Cold invocations by the kind of start they waited for (indexed by
    /// [`StartKind::index`]: full init, local restore, remote restore).
    pub cold_by_kind: [u64; 3],
    pub queued: u64,
    pub rejected: u64,
    /// Invocations that failed for good (their attempts spent).
    pub failed: u64,
}

/// Everything recorded for one function.
#[derive(Clone, Debug)]
#[repr(C)] // counts, then the spans with their hot `direct` first.
pub struct FnMetrics {
    pub counts: FnCounts,
    pub spans: Spans,
}

/// Run-wide counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub arrivals: u64,
    pub completed: u64,
    pub cold: u64,
    /// Cold invocations by start kind (see [`FnCounts::cold_by_kind`]).
    pub cold_by_kind: [u64; 3],
    pub warm: u64,
    pub queued: u64,
    /// Invocations held by a concurrency limit (`throttle = "queue"`).
    pub throttled: u64,
    pub rejected_queue_full: u64,
    pub rejected_timeout: u64,
    /// Invocations refused by a concurrency limit.
    pub rejected_throttled: u64,
    pub instances_started: u64,
    /// Instances started by kind (pre-warms included).
    pub starts_by_kind: [u64; 3],
    /// Full inits that took their app's snapshot.
    pub snapshots_taken: u64,
    /// Invocations that failed for good, and retries scheduled.
    pub failed: u64,
    pub retries: u64,
    /// Cold completions of retried attempts (cold starts a kill caused).
    pub cold_retries: u64,
    /// Instances killed or recycled, by [`KillReason::index`].
    pub killed: [u64; 6],
    /// Idle instances moved to another host.
    pub relocations: u64,
    /// Execution time thrown away by kills, in ns.
    pub lost_ns: u128,
    /// Attempts that executed (completed or killed while running), and
    /// their billed memory-time in MB-ns (duration rounded up to the
    /// billing granularity).
    pub billed_requests: u64,
    pub billed_mb_ns: u128,
    /// Instances started ahead of demand (pre-warms), and of those, the
    /// ones that served an invocation and the ones evicted unused.
    pub prewarm_started: u64,
    pub prewarm_used: u64,
    pub prewarm_wasted: u64,
    pub evicted_keepalive: u64,
    pub evicted_pressure: u64,
}

impl Counters {
    pub fn rejected(&self) -> u64 {
        self.rejected_queue_full + self.rejected_timeout + self.rejected_throttled
    }
}

/// Time integrals over `[0, horizon]`, in count-ns and MB-ns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Integrals {
    pub starting: u128,
    pub busy: u128,
    pub idle: u128,
    pub queued: u128,
    pub running: u128,
    pub throttled: u128,
    /// Hosts powered on, and cores busy (running invocations, at most the
    /// cores of the hosts on), in count-ns.
    pub hosts_on: u128,
    pub busy_cores: u128,
    pub starting_mb: u128,
    pub busy_mb: u128,
    pub idle_mb: u128,
}

/// All metrics of one run.
#[derive(Clone, Debug)]
pub struct Metrics {
    pub horizon: SimTime,
    last: SimTime,
    /// Hosts on since `hosts_on_since` (integrated when it changes), and
    /// running invocations beyond the cores of the hosts on, in count-ns.
    hosts_on: u64,
    hosts_on_since: SimTime,
    excess_cores: u128,
    pub counters: Counters,
    pub integrals: Integrals,
    pub overall: Spans,
    /// End-to-end latency of cold and of warm invocations (warm ones that
    /// went to `overall.direct` are added at the seal).
    pub latency_cold: Span,
    pub latency_warm: Span,
    /// Start delay (init or restore time) and end-to-end latency of cold
    /// invocations by start kind ([`StartKind::index`]).
    pub start_by_kind: [Span; 3],
    pub latency_by_kind: [Span; 3],
    /// End-to-end latency (from the first arrival) of invocations that
    /// completed after one or more retries.
    pub latency_retried: Span,
    pub per_fn: Vec<FnMetrics>,
    /// The most instances alive at once (starting, busy or idle), over the
    /// whole run (not clipped at the horizon).
    pub peak_instances: u64,
    billing: Billing,
    /// The time series, when `[report] interval` is set (see
    /// [`timeseries`]), and its next boundary in ns (`u64::MAX` when off).
    pub timeseries: Option<Box<TimeSeries>>,
    ts_next: u64,
}

/// What billing needs to know of the run.
#[derive(Clone, Debug, Default)]
struct Billing {
    app_memory_mb: Vec<u64>,
    granularity_ns: u64,
    cores_per_host: u64,
}

impl Metrics {
    pub fn new(functions: usize, horizon: SimTime) -> Self {
        Metrics {
            horizon,
            last: SimTime::ZERO,
            hosts_on: 0,
            hosts_on_since: SimTime::ZERO,
            excess_cores: 0,
            counters: Counters::default(),
            integrals: Integrals::default(),
            overall: Spans::new(3),
            latency_cold: Span::new(3),
            latency_warm: Span::new(3),
            start_by_kind: std::array::from_fn(|_| Span::new(3)),
            latency_by_kind: std::array::from_fn(|_| Span::new(3)),
            latency_retried: Span::new(3),
            billing: Billing {
                app_memory_mb: Vec::new(),
                granularity_ns: 1,
                cores_per_host: 1,
            },
            per_fn: (0..functions)
                .map(|_| FnMetrics {
                    counts: FnCounts::default(),
                    spans: Spans::new(2),
                })
                .collect(),
            peak_instances: 0,
            timeseries: None,
            ts_next: u64::MAX,
        }
    }

    /// Turns the time series on, one row per `interval` of simulated time.
    pub fn sample_every(&mut self, interval: SimDuration) {
        let ts = TimeSeries::new(interval.as_nanos());
        self.ts_next = if ts.interval_ns < self.horizon.0 {
            ts.interval_ns
        } else {
            u64::MAX
        };
        self.timeseries = Some(Box::new(ts));
    }

    /// Keeps a mark at every boundary up to `to`, integrating up to each.
    #[cold]
    #[inline(never)]
    fn cross_boundaries(&mut self, to: SimTime, g: &Gauges) {
        while self.ts_next <= to.0 {
            let at = SimTime(self.ts_next);
            self.integrate(at, g);
            self.mark(at);
            let step = self.timeseries.as_ref().map_or(u64::MAX, |t| t.interval_ns);
            self.ts_next = match self.ts_next.checked_add(step) {
                Some(n) if n < self.horizon.0 => n,
                _ => u64::MAX,
            };
        }
    }

    fn mark(&mut self, at: SimTime) {
        let i = &self.integrals;
        let c = &self.counters;
        let m = Mark {
            at,
            idle: i.idle,
            busy: i.busy,
            starting: i.starting,
            memory_mb: i.starting_mb + i.busy_mb + i.idle_mb,
            queued: i.queued,
            throttled: i.throttled,
            arrivals: c.arrivals,
            starts: c.instances_started,
            prewarms: c.prewarm_started,
            completed: c.completed,
            rejected: c.rejected(),
        };
        if let Some(ts) = self.timeseries.as_mut() {
            ts.marks.push(m);
        }
    }

    /// Sets what billing needs: each app's memory, the billing
    /// granularity, and the cores of a host (for CPU utilisation).
    pub fn set_billing(&mut self, app_memory_mb: Vec<u64>, granularity: SimDuration, cores: u64) {
        self.billing = Billing {
            app_memory_mb,
            granularity_ns: granularity.as_nanos().max(1),
            cores_per_host: cores.max(1),
        };
    }

    /// `d` in ns rounded up to the billing granularity, times `mb`.
    #[inline]
    fn billed(&self, d: u64, mb: u64) -> u128 {
        let g = self.billing.granularity_ns;
        d.div_ceil(g) as u128 * g as u128 * mb as u128
    }

    /// Integrates the gauges, constant since the last call, up to `now`
    /// (clipped at the horizon), and keeps their peak.
    #[inline]
    pub fn advance(&mut self, now: SimTime, g: &Gauges) {
        self.peak_instances = self.peak_instances.max(g.starting + g.busy + g.idle);
        let to = now.min(self.horizon);
        if to <= self.last {
            return;
        }
        if to.0 >= self.ts_next {
            self.cross_boundaries(to, g);
        }
        self.integrate(to, g);
    }

    /// Adds `gauge x dt` from the last integration up to `to`.
    #[inline(always)]
    fn integrate(&mut self, to: SimTime, g: &Gauges) {
        if to <= self.last {
            return;
        }
        let dt = (to.0 - self.last.0) as u128;
        self.last = to;
        let i = &mut self.integrals;
        i.starting += g.starting as u128 * dt;
        i.busy += g.busy as u128 * dt;
        i.idle += g.idle as u128 * dt;
        i.queued += g.queued as u128 * dt;
        i.running += g.running as u128 * dt;
        i.throttled += g.throttled as u128 * dt;
        // Hosts on changes rarely and running invocations rarely exceed the
        // cores: both are integrated as exceptions to keep this path short
        // (see `Metrics::seal`).
        if g.hosts_on != self.hosts_on {
            i.hosts_on +=
                self.hosts_on as u128 * (self.last.0 - dt as u64 - self.hosts_on_since.0) as u128;
            self.hosts_on = g.hosts_on;
            self.hosts_on_since = SimTime(self.last.0 - dt as u64);
        }
        let cores = g.hosts_on * self.billing.cores_per_host;
        if g.running > cores {
            self.excess_cores += (g.running - cores) as u128 * dt;
        }
        i.starting_mb += g.starting_mb as u128 * dt;
        i.busy_mb += g.busy_mb as u128 * dt;
        i.idle_mb += g.idle_mb as u128 * dt;
    }

    #[inline]
    pub fn arrival(&mut self, function: FnId) {
        self.counters.arrivals += 1;
        self.per_fn[function.index()].counts.arrivals += 1;
    }

    #[inline]
    pub fn queued(&mut self, function: FnId) {
        self.counters.queued += 1;
        self.per_fn[function.index()].counts.queued += 1;
    }

    #[inline]
    pub fn throttled(&mut self, _function: FnId) {
        self.counters.throttled += 1;
    }

    #[inline]
    pub fn complete(&mut self, c: &Completion) {
        self.counters.completed += 1;
        if let Some(&mb) = self.billing.app_memory_mb.get(c.app.index()) {
            let exec = c.end.since(c.exec_start).as_nanos();
            self.counters.billed_requests += 1;
            self.counters.billed_mb_ns += self.billed(exec, mb);
        }
        if c.inv.attempt > 0 {
            self.complete_retried(c);
        }
        let f = &mut self.per_fn[c.inv.function.index()];
        f.counts.completed += 1;
        f.spans.record(c);
        let direct = self.overall.record(c);
        if let Some(kind) = c.start {
            self.complete_cold(c, kind);
        } else {
            let latency = c.end.since(c.inv.arrival).as_nanos();
            self.counters.warm += 1;
            if !direct {
                self.latency_warm.record(latency);
            }
        }
    }

    /// The retry part of [`Metrics::complete`], out of the common path.
    #[cold]
    #[inline(never)]
    fn complete_retried(&mut self, c: &Completion) {
        self.latency_retried
            .record(c.end.since(c.inv.arrival).as_nanos());
        if c.cold() {
            self.counters.cold_retries += 1;
        }
    }

    /// An instance was killed (or recycled) for `reason`, throwing away
    /// `lost` of execution; the lost work is billed as one attempt's worth
    /// per running invocation, rounded up once (documented).
    pub fn killed(&mut self, app: AppId, reason: KillReason, lost: SimDuration, jobs: u32) {
        self.counters.killed[reason.index()] += 1;
        self.counters.lost_ns += lost.as_nanos() as u128;
        if !lost.is_zero()
            && jobs > 0
            && let Some(&mb) = self.billing.app_memory_mb.get(app.index())
        {
            self.counters.billed_requests += jobs as u64;
            self.counters.billed_mb_ns += self.billed(lost.as_nanos(), mb);
        }
    }

    /// An invocation failed for good.
    pub fn failed(&mut self, function: FnId) {
        self.counters.failed += 1;
        self.per_fn[function.index()].counts.failed += 1;
    }

    /// The cold-start part of [`Metrics::complete`], out of the warm path.
    #[cold]
    #[inline(never)]
    fn complete_cold(&mut self, c: &Completion, kind: StartKind) {
        let k = kind.index();
        let latency = c.end.since(c.inv.arrival).as_nanos();
        let f = &mut self.per_fn[c.inv.function.index()];
        f.counts.cold += 1;
        f.counts.cold_by_kind[k] += 1;
        self.counters.cold += 1;
        self.counters.cold_by_kind[k] += 1;
        self.latency_cold.record(latency);
        self.latency_by_kind[k].record(latency);
        self.start_by_kind[k].record(c.exec_start.since(c.dispatched).as_nanos());
    }

    #[inline]
    pub fn reject(&mut self, function: FnId, reason: RejectReason) {
        match reason {
            RejectReason::QueueFull => self.counters.rejected_queue_full += 1,
            RejectReason::Timeout => self.counters.rejected_timeout += 1,
            RejectReason::Throttled => self.counters.rejected_throttled += 1,
        }
        self.per_fn[function.index()].counts.rejected += 1;
    }

    #[inline]
    pub fn evicted(&mut self, reason: EvictReason) {
        match reason {
            EvictReason::KeepAlive => self.counters.evicted_keepalive += 1,
            EvictReason::Pressure => self.counters.evicted_pressure += 1,
        }
    }

    /// Records what an action of the platform says happened: the
    /// outcomes (completions, rejections, failures, evictions, kills), and
    /// the starts and retries its driver performs. Timers and executions
    /// record nothing here (executions end in a completion).
    #[inline]
    pub fn observe(&mut self, a: &Action) {
        match *a {
            Action::Start {
                prewarm,
                kind,
                take_snapshot,
                ..
            } => self.started(prewarm, kind, take_snapshot),
            Action::PrewarmUsed { .. } => self.counters.prewarm_used += 1,
            Action::PrewarmWasted { .. } => self.counters.prewarm_wasted += 1,
            Action::Evicted { reason, .. } => self.evicted(reason),
            Action::Queued { inv } => self.queued(inv.function),
            Action::Throttled { inv } => self.throttled(inv.function),
            Action::Killed {
                app,
                reason,
                lost,
                jobs,
                ..
            } => self.killed(app, reason, lost, jobs),
            Action::Retry { .. } => self.counters.retries += 1,
            Action::Failed { inv, .. } => self.failed(inv.function),
            Action::Relocated { .. } => self.counters.relocations += 1,
            Action::Completed(c) => self.complete(&c),
            Action::Rejected { inv, reason } => self.reject(inv.function, reason),
            Action::Execute { .. }
            | Action::ArmKeepAlive { .. }
            | Action::ArmQueueTimeout { .. }
            | Action::ArmPrewarm { .. }
            | Action::ArmLifetime { .. } => {}
        }
    }

    #[inline]
    pub fn started(&mut self, prewarm: bool, kind: StartKind, take_snapshot: bool) {
        self.counters.instances_started += 1;
        self.counters.starts_by_kind[kind.index()] += 1;
        if take_snapshot {
            self.counters.snapshots_taken += 1;
        }
        if prewarm {
            self.counters.prewarm_started += 1;
        }
    }

    /// Ends recording: call once after the last event, before reading the
    /// histograms.
    pub fn seal(&mut self) {
        let i = &mut self.integrals;
        i.hosts_on += self.hosts_on as u128 * (self.last.0 - self.hosts_on_since.0) as u128;
        self.hosts_on_since = self.last;
        i.busy_cores = i.running - self.excess_cores;
        if self.timeseries.is_some() {
            // The last interval ends at the horizon (see `timeseries`).
            self.mark(self.horizon);
        }
        self.latency_warm.add(&self.overall.direct);
        self.overall.seal();
        self.latency_cold.seal();
        self.latency_warm.seal();
        self.latency_retried.seal();
        for sp in self
            .start_by_kind
            .iter_mut()
            .chain(&mut self.latency_by_kind)
        {
            sp.seal();
        }
        for f in &mut self.per_fn {
            f.spans.seal();
        }
    }

    /// Mean over the horizon of an integral in count-ns (or MB-ns).
    pub fn time_mean(&self, integral: u128) -> f64 {
        if self.horizon.0 == 0 {
            0.0
        } else {
            integral as f64 / self.horizon.0 as f64
        }
    }

    /// An MB-ns integral in GB-s (GB = 1024 MB, as memory is billed).
    pub fn gb_s(integral_mb_ns: u128) -> f64 {
        integral_mb_ns as f64 / 1024.0 / 1e9
    }

    /// Merges the spans of all functions (used to check per-function
    /// histograms add up to the overall ones in tests).
    pub fn sum_of_functions(&self) -> Spans {
        let mut s = Spans::new(2);
        for f in &self.per_fn {
            s.queue.add(&f.spans.queue);
            s.start.add(&f.spans.start);
            s.exec.add(&f.spans.exec);
            s.latency.add(&f.spans.latency);
        }
        s
    }
}
