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
use crate::metrics::Metrics;
use crate::platform::{Action, Event, Platform, PlatformConfig};
use crate::policy;
use crate::scenario::{EvictionCfg, Sampler, Scenario};
use crate::time::SimTime;
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
/// first violation there.
pub fn run_with(
    s: &Scenario,
    replicate: u64,
    ctx: &Context,
    progress: &mut dyn FnMut(Progress),
    mut check: Option<&mut Option<String>>,
) -> Result<RunResult> {
    let streams = Streams::new(s.seed, replicate);
    let workload::Workload {
        table,
        arrivals: mut source,
    } = workload::open(s, ctx, &streams)?;
    let horizon = SimTime(s.duration.as_nanos());
    let mut init: Vec<(Sampler, RngStream)> = Vec::with_capacity(table.apps.len());
    for a in &table.apps {
        let sampler = a
            .init
            .sampler()
            .map_err(|m| Error::input(format!("app {}: init", a.name), m))?;
        init.push((sampler, streams.named("init", &a.name)));
    }
    let cfg = PlatformConfig {
        hosts: s.hosts.count as usize,
        host_memory_mb: s.hosts.memory_mb.0,
        fn_app: table.functions.iter().map(|f| f.app).collect(),
        app_memory_mb: table.apps.iter().map(|a| a.memory_mb).collect(),
        queue_max_len: s.queue.max_len,
        queue_timeout: s.queue.timeout,
        evict_for_memory: !matches!(s.eviction, EvictionCfg::None),
        warm: s.warm,
        app_min_instances: if matches!(s.workload, crate::scenario::WorkloadCfg::Functions) {
            s.app_model().apps.iter().map(|a| a.min_instances).collect()
        } else {
            vec![0; table.apps.len()]
        },
    };
    let mut platform = Platform::new(
        cfg,
        policy::placement(&s.placement, &streams, s.hosts.count as usize),
        policy::keepalive(&s.keepalive),
        policy::eviction(&s.eviction, &table.apps),
    );
    let mut metrics = Metrics::new(table.functions.len(), horizon);
    let mut engine: Engine<Event> = Engine::new();
    let mut arrivals = (&mut source).peekable();
    let mut out: Vec<Action> = Vec::with_capacity(16);
    // Provisioned concurrency: the instances every app keeps from time 0.
    platform.provision(SimTime::ZERO, &mut out);
    perform(
        &mut out,
        SimTime::ZERO,
        &mut engine,
        &mut metrics,
        &mut init,
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
                    Event::Done(i) => (2, i.slot as u64),
                    Event::KeepAlive(i) => (3, i.slot as u64),
                    Event::QueueTimeout(t) => (4, t),
                    Event::Prewarm(a, _) => (5, a as u64),
                };
                fp = (fp ^ now.0).wrapping_mul(PRIME) ^ (code << 56 | id);
                platform.handle(now, ev, &mut out);
            }
        }
        perform(&mut out, now, &mut engine, &mut metrics, &mut init);
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
    init: &mut [(Sampler, RngStream)],
) {
    for a in out.drain(..) {
        match a {
            Action::Start {
                instance,
                app,
                prewarm,
                ..
            } => {
                let (sampler, rng) = &mut init[app as usize];
                let d = sampler.sample(rng);
                engine.schedule(now + d, Event::Ready(instance));
                metrics.started(prewarm);
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
            Action::Execute { instance, exec } => {
                engine.schedule(now + exec, Event::Done(instance));
            }
            Action::ArmKeepAlive { instance, at } => {
                engine.schedule(at, Event::KeepAlive(instance));
            }
            Action::ArmQueueTimeout { ticket, at } => {
                engine.schedule(at, Event::QueueTimeout(ticket));
            }
            Action::Evicted { reason, .. } => metrics.evicted(reason),
            Action::Queued { inv } => metrics.queued(inv.function),
            Action::Completed(c) => metrics.complete(&c),
            Action::Rejected { inv, reason } => metrics.reject(inv.function, reason),
        }
    }
}
