//! The simulator: drives the platform core in virtual time.
//!
//! One run is a loop over [`Engine::next`]: the workload's sorted arrival
//! stream merged with the event heap. Each arrival or event is handed to the
//! [`Platform`] with `now`; the [`Action`]s it returns are performed here,
//! which in virtual time means scheduling their completions (an init time
//! drawn from the app's distribution, the invocation's execution time, a
//! timer) and recording metrics. Before each event the metrics integrate the
//! platform's gauges over the time since the previous one.
//!
//! The run ends when no arrival is left, nothing is in flight or queued,
//! and the next event (a keep-alive timer) lies at or beyond the scenario's
//! duration. Invocations that arrived before the duration always finish, so
//! every invocation ends exactly once, completed or rejected; time integrals
//! stop at the duration.
//!
//! Every event also feeds a 64-bit fingerprint of the event stream (time,
//! kind and ids), reported in summary.csv: two runs with equal fingerprints
//! saw the same events in the same order.

use crate::engine::{Engine, Next, RngStream, Streams};
use crate::error::{Error, Result};
use crate::executor::calibrate::{CalibrationProfile, LoadedProfile};
use crate::faults::Injector;
use crate::metrics::Metrics;
use crate::platform::{
    Action, Consolidation, Event, HostState, Platform, PlatformConfig, RetryPolicy, SnapshotConfig,
    Snapshots, StartKind,
};
use crate::policy;
use crate::scenario::MemDist;
use crate::scenario::{EvictionCfg, Sampler, Scenario};
use crate::time::{SimDuration, SimTime};
use crate::workload::{self, Context, FunctionTable, WorkloadStats};

/// What a run produced, apart from wall-clock figures.
#[derive(Debug)]
pub struct RunResult {
    /// The functions and apps of the run (metrics are indexed by them).
    pub table: FunctionTable,
    /// What the workload skipped or dropped, and the files it read.
    pub workload: WorkloadStats,
    pub metrics: Metrics,
    /// Events handled: arrivals plus heap events (stale ones included).
    pub events: u64,
    /// Fingerprint of the event stream (see the module doc).
    pub fingerprint: u64,
    /// Instances alive when the run ended.
    pub instances_alive: u64,
    /// Simulated time of the last event.
    pub end: SimTime,
    /// Snapshot counts at the end, when snapshots are on.
    pub snapshots: Option<SnapshotSummary>,
}

/// What the snapshot caches and store did in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub counters: crate::platform::snapshots::SnapshotCounters,
    /// MB of snapshots in the remote store at the end.
    pub store_mb: u64,
}

/// Each function's retry policy: its own `retry`, else the scenario's.
fn fn_retry(s: &Scenario, table: &FunctionTable) -> Vec<RetryPolicy> {
    let default = s.retry.policy();
    if matches!(s.workload, crate::scenario::WorkloadCfg::Functions) {
        s.functions
            .iter()
            .map(|f| f.retry.as_ref().map_or(default, |r| r.policy()))
            .collect()
    } else {
        vec![default; table.functions.len()]
    }
}

/// What the simulator draws when it performs actions: start durations,
/// out-of-memory kills, retry delays.
struct Driver {
    costs: StartCosts,
    /// Per function with `memory_used`: its distribution, stream, and its
    /// instances' memory.
    oom: Vec<Option<(MemDist, RngStream, u64)>>,
    any_oom: bool,
    retry_rng: RngStream,
}

impl Driver {
    fn new(
        s: &Scenario,
        table: &FunctionTable,
        streams: &Streams,
        profile: Option<&CalibrationProfile>,
    ) -> Result<Driver> {
        let mut oom: Vec<Option<(MemDist, RngStream, u64)>> = vec![None; table.functions.len()];
        if matches!(s.workload, crate::scenario::WorkloadCfg::Functions) {
            for (i, f) in s.functions.iter().enumerate() {
                if let Some(m) = &f.memory_used {
                    let app = table.functions[i].app as usize;
                    oom[i] = Some((
                        m.clone(),
                        streams.named("oom", &f.name),
                        table.apps[app].memory_mb,
                    ));
                }
            }
        }
        Ok(Driver {
            costs: StartCosts::new(s, table, streams, profile)?,
            any_oom: oom.iter().any(Option::is_some),
            oom,
            retry_rng: streams.named("retry", "jitter"),
        })
    }

    /// When an execution of `function` lasting `exec` runs out of memory
    /// (uniformly within it), or None if its peak fits its instance.
    #[inline]
    fn oom_at(&mut self, function: u32, exec: SimDuration) -> Option<SimDuration> {
        if !self.any_oom {
            return None;
        }
        let (dist, rng, mb) = self.oom[function as usize].as_mut()?;
        if dist.sample(rng) <= *mb {
            return None;
        }
        let at = (rng.uniform() * exec.as_nanos() as f64) as u64;
        Some(SimDuration::from_nanos(at))
    }
}

/// How long each kind of start takes, per app: the random fixed parts
/// (each app's own streams) and the exact transfer times.
///
/// * full init: `init` + `state_mb / state.load_bandwidth`, plus, when it
///   takes the snapshot, `snapshots.take` + `snapshot_mb /
///   snapshots.take_bandwidth`;
/// * local restore: `snapshots.restore` (+ `snapshot_mb /
///   snapshots.local_bandwidth` when eager);
/// * remote restore: `snapshot_mb / snapshots.remote_bandwidth` + the
///   local restore.
///
/// With a calibration profile (the scenario's `calibration` key), the
/// measured costs replace `init`, `state.load_bandwidth`,
/// `snapshots.take`, `take_bandwidth`, `restore` and `local_bandwidth`,
/// and every start of an app costs the same (no draws); the state size is
/// the app's `state_mb`, priced by [`StartCost::at`] (measured medians
/// joined by lines):
///
/// * full init: the profile's cold start; when it takes the snapshot, plus
///   a fork (the real executor builds a template and forks the instance
///   from it, see `executor::driver`);
/// * local restore: a fork from the template;
/// * remote restore: the fetch (`snapshot_mb / remote_bandwidth`) plus a
///   fork;
/// * every execution: plus the profile's dispatch round trip (the median
///   of `dispatch`), which a real invocation pays between the platform's
///   decision and its result.
///
/// [`StartCost::at`]: crate::executor::calibrate::StartCost::at
struct StartCosts {
    init: Vec<(Sampler, RngStream)>,
    state_load: Vec<SimDuration>,
    /// Present when snapshots are on.
    snap: Option<SnapCosts>,
    /// Present with a calibration profile: it prices every start.
    measured: Option<MeasuredCosts>,
    /// Added to every execution (the profile's dispatch round trip; zero
    /// without a profile).
    exec_overhead: SimDuration,
}

/// Start costs per app from a calibration profile.
struct MeasuredCosts {
    cold: Vec<SimDuration>,
    fork: Vec<SimDuration>,
    fetch: Vec<SimDuration>,
}

struct SnapCosts {
    take: Vec<(Sampler, RngStream)>,
    restore: Vec<(Sampler, RngStream)>,
    write: Vec<SimDuration>,
    local_read: Vec<SimDuration>,
    fetch: Vec<SimDuration>,
}

impl StartCosts {
    fn new(
        s: &Scenario,
        table: &FunctionTable,
        streams: &Streams,
        profile: Option<&CalibrationProfile>,
    ) -> Result<StartCosts> {
        let sampler = |d: &crate::scenario::Dist, what: &str, app: &str| {
            d.sampler()
                .map_err(|m| Error::input(format!("app {app}: {what}"), m))
        };
        let mut init = Vec::with_capacity(table.apps.len());
        for a in &table.apps {
            init.push((
                sampler(&a.init, "init", &a.name)?,
                streams.named("init", &a.name),
            ));
        }
        let state_load = table
            .apps
            .iter()
            .map(|a| s.state.load_bandwidth.time_for(a.state_mb))
            .collect();
        let snap = if s.snapshots.enabled {
            let sn = &s.snapshots;
            let mut take = Vec::new();
            let mut restore = Vec::new();
            for a in &table.apps {
                take.push((
                    sampler(&sn.take, "snapshots.take", &a.name)?,
                    streams.named("snapshot-take", &a.name),
                ));
                restore.push((
                    sampler(&sn.restore, "snapshots.restore", &a.name)?,
                    streams.named("snapshot-restore", &a.name),
                ));
            }
            let per_app = |f: &dyn Fn(u64) -> SimDuration| -> Vec<SimDuration> {
                table.apps.iter().map(|a| f(a.snapshot_mb())).collect()
            };
            Some(SnapCosts {
                take,
                restore,
                write: per_app(&|mb| sn.take_bandwidth.time_for(mb)),
                local_read: per_app(&|mb| {
                    sn.local_bandwidth
                        .map_or(SimDuration::ZERO, |b| b.time_for(mb))
                }),
                fetch: per_app(&|mb| sn.remote_bandwidth.time_for(mb)),
            })
        } else {
            None
        };
        let d = |x: std::time::Duration| SimDuration::from_nanos(x.as_nanos() as u64);
        let measured = profile.map(|p| MeasuredCosts {
            cold: table
                .apps
                .iter()
                .map(|a| d(p.cold.at(a.state_mb)))
                .collect(),
            fork: table
                .apps
                .iter()
                .map(|a| d(p.fork.at(a.state_mb)))
                .collect(),
            fetch: table
                .apps
                .iter()
                .map(|a| s.snapshots.remote_bandwidth.time_for(a.snapshot_mb()))
                .collect(),
        });
        let exec_overhead = profile.map_or(SimDuration::ZERO, |p| {
            SimDuration::from_nanos((p.dispatch.median_us * 1e3).round() as u64)
        });
        Ok(StartCosts {
            init,
            state_load,
            snap,
            measured,
            exec_overhead,
        })
    }

    /// Draws the duration of a start of `app` by `kind`.
    #[inline]
    fn draw(&mut self, app: u32, kind: StartKind, take: bool) -> SimDuration {
        let a = app as usize;
        if let Some(m) = &self.measured {
            return match kind {
                StartKind::Full if take => m.cold[a] + m.fork[a],
                StartKind::Full => m.cold[a],
                StartKind::LocalRestore => m.fork[a],
                StartKind::RemoteRestore => m.fetch[a] + m.fork[a],
            };
        }
        match (kind, self.snap.as_mut()) {
            (StartKind::Full, snap) => {
                let (sampler, rng) = &mut self.init[a];
                let mut d = sampler.sample(rng) + self.state_load[a];
                if let (true, Some(sn)) = (take, snap) {
                    let (sampler, rng) = &mut sn.take[a];
                    d = d + sampler.sample(rng) + sn.write[a];
                }
                d
            }
            (StartKind::LocalRestore, Some(sn)) => {
                let (sampler, rng) = &mut sn.restore[a];
                sampler.sample(rng) + sn.local_read[a]
            }
            (StartKind::RemoteRestore, Some(sn)) => {
                let (sampler, rng) = &mut sn.restore[a];
                sn.fetch[a] + sampler.sample(rng) + sn.local_read[a]
            }
            // The platform restores only with snapshots on.
            (_, None) => SimDuration::ZERO,
        }
    }
}

/// Progress reported every 2^16 events.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub now: SimTime,
    pub horizon: SimTime,
    pub arrivals: u64,
    pub events: u64,
}

/// Runs replicate `replicate` of a validated scenario, reading any trace
/// relative to the current folder.
pub fn run(s: &Scenario, replicate: u64) -> Result<RunResult> {
    run_with(s, replicate, &Context::default(), &mut |_| {}, None)
}

/// Runs a scenario and checks the platform's invariants after every event;
/// for tests. Err names the first violation and the event where it
/// happened.
pub fn run_checked(s: &Scenario, replicate: u64) -> Result<RunResult, String> {
    let mut violation = None;
    let r = run_with(
        s,
        replicate,
        &Context::default(),
        &mut |_| {},
        Some(&mut violation),
    )
    .map_err(|e| e.to_string())?;
    match violation {
        Some(v) => Err(v),
        None => Ok(r),
    }
}

/// Runs a scenario, calling `progress` every 2^16 events; with `check`,
/// verifies the platform's invariants after every event and stores the
/// first violation there. A scenario with a `calibration` key is priced by
/// that profile (read relative to `ctx.base_dir`).
pub fn run_with(
    s: &Scenario,
    replicate: u64,
    ctx: &Context,
    progress: &mut dyn FnMut(Progress),
    check: Option<&mut Option<String>>,
) -> Result<RunResult> {
    let profile = LoadedProfile::for_scenario(s, &ctx.base_dir)?;
    simulate(
        s,
        replicate,
        ctx,
        profile.as_ref().map(|p| &p.profile),
        progress,
        check,
    )
}

/// Runs a scenario priced by `profile`, whatever its `calibration` key
/// says (`coldsim compare --profile`).
pub fn run_calibrated(
    s: &Scenario,
    replicate: u64,
    ctx: &Context,
    profile: &CalibrationProfile,
) -> Result<RunResult> {
    simulate(s, replicate, ctx, Some(profile), &mut |_| {}, None)
}

/// The platform core of a scenario, with its policies and snapshot index,
/// as the simulator and the real executor (`executor::driver`) both drive
/// it.
pub fn build_platform(s: &Scenario, table: &FunctionTable, streams: &Streams) -> Platform {
    let apps = &table.apps;
    let cfg = PlatformConfig {
        hosts: s.hosts.count as usize,
        host_memory_mb: s.hosts.memory_mb.0,
        fn_app: table.functions.iter().map(|f| f.app).collect(),
        app_memory_mb: apps.iter().map(|a| a.memory_mb).collect(),
        queue_max_len: s.queue.max_len,
        queue_timeout: s.queue.timeout,
        evict_for_memory: !matches!(s.eviction, EvictionCfg::None),
        warm: s.warm,
        app_min_instances: if matches!(s.workload, crate::scenario::WorkloadCfg::Functions) {
            s.app_model().apps.iter().map(|a| a.min_instances).collect()
        } else {
            vec![0; apps.len()]
        },
        app_concurrency: apps.iter().map(|a| a.concurrency).collect(),
        fn_limit: table.functions.iter().map(|f| f.max_concurrency).collect(),
        global_limit: s.limits.max_concurrency,
        throttle: s.limits.throttle,
        fn_retry: fn_retry(s, table),
        max_lifetime: s.faults.max_lifetime,
        relocate_on_notice: s.faults.preemption.as_ref().is_none_or(|p| p.relocate),
        consolidation: s.faults.consolidation.as_ref().map(|c| Consolidation {
            spread: c.mode == crate::faults::ControllerMode::Spread,
            threshold: c.threshold,
            power_off: c.power_off,
            min_on: c.min_on,
        }),
    };
    let mut platform = Platform::new(
        cfg,
        policy::placement(&s.placement, streams, s.hosts.count as usize),
        policy::keepalive(&s.keepalive),
        policy::eviction(&s.eviction, apps),
    );
    if s.snapshots.enabled {
        let sn = &s.snapshots;
        platform = platform.with_snapshots(Snapshots::new(
            SnapshotConfig {
                create: sn.create,
                remote: sn.remote,
                cache_mb: sn.cache_mb.0,
                app_snapshot_mb: apps.iter().map(|a| a.snapshot_mb()).collect(),
                slowdown_ppm: sn.slowdown_ppm(),
                slowdown_invocations: sn.slowdown_invocations,
            },
            s.hosts.count as usize,
            policy::snapshot_cache(sn.cache_eviction, &s.state, apps, s.hosts.count as usize),
        ));
    }
    platform
}

/// The metrics of a run of `s`, set up for billing, as the simulator and
/// the real executor both record them.
pub fn new_metrics(s: &Scenario, table: &FunctionTable) -> Metrics {
    let mut metrics = Metrics::new(table.functions.len(), SimTime(s.duration.as_nanos()));
    metrics.set_billing(
        table.apps.iter().map(|a| a.memory_mb).collect(),
        s.billing.granularity,
        s.hosts.cores as u64,
    );
    if let Some(interval) = s.report.interval {
        metrics.sample_every(interval); // timeseries.csv
    }
    metrics
}

fn simulate(
    s: &Scenario,
    replicate: u64,
    ctx: &Context,
    profile: Option<&CalibrationProfile>,
    progress: &mut dyn FnMut(Progress),
    mut check: Option<&mut Option<String>>,
) -> Result<RunResult> {
    let streams = Streams::new(s.seed, replicate);
    let workload::Workload {
        table,
        arrivals: mut source,
    } = workload::open(s, ctx, &streams)?;
    let horizon = SimTime(s.duration.as_nanos());
    let mut driver = Driver::new(s, &table, &streams, profile)?;
    let mut platform = build_platform(s, &table, &streams);
    let mut metrics = new_metrics(s, &table);
    let mut engine: Engine<Event> = Engine::new();
    let mut injector = if s.faults.is_empty() {
        None
    } else {
        let mut inj = Injector::new(&s.faults, s.hosts.count, horizon, &streams)
            .map_err(|m| Error::input("faults".to_string(), m))?;
        inj.start(&mut engine, s.hosts.count);
        Some(inj)
    };
    let mut arrivals = (&mut source).peekable();
    let mut out: Vec<Action> = Vec::with_capacity(16);
    // Provisioned concurrency: the instances every app keeps from time 0.
    platform.provision(SimTime::ZERO, &mut out);
    perform(
        &mut out,
        SimTime::ZERO,
        &mut engine,
        &mut metrics,
        &mut driver,
    );
    let mut fp: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    loop {
        if platform.outstanding() == 0
            && arrivals.peek().is_none()
            && engine.peek_time().is_none_or(|t| t >= horizon)
        {
            break;
        }
        let Some(next) = engine.next(&mut arrivals) else {
            break;
        };
        let now = engine.now();
        metrics.advance(now, &platform.gauges());
        match next {
            Next::Arrival(inv) => {
                fp = (fp ^ now.0).wrapping_mul(PRIME) ^ inv.function as u64;
                metrics.arrival(inv.function);
                platform.arrival(now, inv, &mut out);
            }
            Next::Event(_, ev) => {
                let (code, id) = match ev {
                    Event::Ready(i) => (1u64, i.slot as u64),
                    Event::Done(i, _) => (2, i.slot as u64),
                    Event::KeepAlive(i) => (3, i.slot as u64),
                    Event::QueueTimeout(t) => (4, t),
                    Event::Prewarm(a, _) => (5, a as u64),
                    Event::Crash(i) => (6, i.slot as u64),
                    Event::Oom(i, _) => (7, i.slot as u64),
                    Event::Retry(t) => (8, t as u64),
                    Event::HostFail(h) => (9, h as u64),
                    Event::HostRepair(h) => (10, h as u64),
                    Event::Preempt(h) => (11, h as u64),
                    Event::Reclaim(h) => (12, h as u64),
                    Event::Consolidate => (13, 0),
                    Event::Lifetime(i) => (14, i.slot as u64),
                };
                fp = (fp ^ now.0).wrapping_mul(PRIME) ^ (code << 56 | id);
                match (injector.as_mut(), ev) {
                    (
                        Some(inj),
                        Event::HostFail(h)
                        | Event::HostRepair(h)
                        | Event::Preempt(h)
                        | Event::Reclaim(h),
                    ) => {
                        let prior = platform.host_state(h);
                        platform.handle(now, ev, &mut out);
                        inj.after(now, ev, prior, &mut engine);
                    }
                    (Some(inj), Event::Consolidate) => {
                        platform.handle(now, ev, &mut out);
                        inj.after(now, ev, HostState::Up, &mut engine);
                    }
                    _ => platform.handle(now, ev, &mut out),
                }
            }
        }
        perform(&mut out, now, &mut engine, &mut metrics, &mut driver);
        if let Some(slot) = check.as_deref_mut() {
            if slot.is_none() {
                if let Err(e) = platform.check_invariants() {
                    *slot = Some(format!("after event {} at {}: {e}", engine.events(), now));
                }
            }
        }
        if engine.events() & 0xFFFF == 0 {
            progress(Progress {
                now,
                horizon,
                arrivals: metrics.counters.arrivals,
                events: engine.events(),
            });
        }
    }
    drop(arrivals);
    if let Some(e) = source.take_error() {
        return Err(e);
    }
    let snapshots = platform.snapshots().map(|sn| SnapshotSummary {
        counters: sn.counters,
        store_mb: sn.store_mb(),
    });
    metrics.advance(horizon, &platform.gauges());
    metrics.seal();
    Ok(RunResult {
        table,
        workload: source.stats(),
        events: engine.events(),
        fingerprint: fp,
        instances_alive: platform.live_instances(),
        end: engine.now(),
        metrics,
        snapshots,
    })
}

/// Performs the platform's actions in virtual time: schedules what they
/// start (an init time drawn from the app's distribution, an execution, a
/// timer) and records their outcomes.
#[inline]
fn perform(
    out: &mut Vec<Action>,
    now: SimTime,
    engine: &mut Engine<Event>,
    metrics: &mut Metrics,
    driver: &mut Driver,
) {
    // By reference, then cleared: moving each action out of a drain
    // copied it whole (about 20 more instructions per action).
    for a in out.iter() {
        match *a {
            Action::Start {
                instance,
                app,
                prewarm,
                kind,
                take_snapshot,
                ..
            } => {
                let d = driver.costs.draw(app, kind, take_snapshot);
                engine.schedule(now + d, Event::Ready(instance));
                metrics.started(prewarm, kind, take_snapshot);
            }
            Action::ArmPrewarm {
                app,
                generation,
                at,
            } => {
                engine.schedule(at, Event::Prewarm(app, generation));
            }
            Action::PrewarmUsed { .. } => metrics.counters.prewarm_used += 1,
            Action::PrewarmWasted { .. } => metrics.counters.prewarm_wasted += 1,
            Action::Execute {
                instance,
                job,
                function,
                exec,
            } => match driver.oom_at(function, exec) {
                None => {
                    let end = now + exec + driver.costs.exec_overhead;
                    engine.schedule(end, Event::Done(instance, job));
                }
                Some(at) => engine.schedule(now + at, Event::Oom(instance, job)),
            },
            Action::ArmKeepAlive { instance, at } => {
                engine.schedule(at, Event::KeepAlive(instance));
            }
            Action::ArmQueueTimeout { ticket, at } => {
                engine.schedule(at, Event::QueueTimeout(ticket));
            }
            Action::Evicted { reason, .. } => metrics.evicted(reason),
            Action::Queued { inv } => metrics.queued(inv.function),
            Action::Throttled { inv } => metrics.throttled(inv.function),
            Action::Killed {
                app,
                reason,
                lost,
                jobs,
                ..
            } => metrics.killed(app, reason, lost, jobs),
            Action::Retry { token, cap, .. } => {
                metrics.counters.retries += 1;
                // Full jitter: uniform in [0, cap].
                let d = (driver.retry_rng.uniform() * cap.as_nanos() as f64) as u64;
                engine.schedule(now + SimDuration::from_nanos(d), Event::Retry(token));
            }
            Action::Failed { inv, .. } => metrics.failed(inv.function),
            Action::ArmLifetime { instance, at } => {
                engine.schedule(at, Event::Lifetime(instance));
            }
            Action::Relocated { .. } => metrics.counters.relocations += 1,
            Action::Completed(c) => metrics.complete(&c),
            Action::Rejected { inv, reason } => metrics.reject(inv.function, reason),
        }
    }
    out.clear();
}
