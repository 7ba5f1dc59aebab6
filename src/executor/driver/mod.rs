//! The real driver: a scenario run on the real executor in wall-clock time,
//! decided by the same sans-IO platform core as the simulator.
//!
//! # One core, two performers
//!
//! [`run`] builds the platform exactly as the simulator does
//! ([`RunSpec::build_platform`]: same placement, keep-alive, eviction and
//! snapshot policies, same hosts), drives it through the same [`Core`] (the
//! one action loop, which also records the metrics, runs the fault
//! injector and draws retry delays) and opens the same workload with the
//! same random streams ([`workload::open`]), so it sees the same
//! invocations with the same execution times. What differs is who performs
//! the core's actions (this module's [`Performer`]: worker processes and a
//! local timer queue) and what `now` is:
//!
//! * `now` is the wall time elapsed since the run began, in nanoseconds,
//!   as a [`SimTime`]. An invocation that arrives at simulated time `t` is
//!   handed to the platform when `t` has elapsed (1:1, no time scale), with
//!   `now` = the moment it is handed over, so the driver's own lateness
//!   shows as queueing delay; [`DriverStats`] reports it.
//! * Inputs from the executor ([`ExecEvent::Ready`], [`ExecEvent::Done`])
//!   carry the `Instant` at which the executor learnt the fact; that time
//!   is `now` for the platform, raised to the last `now` handed over if it
//!   is earlier (the platform's clock never runs backwards; events wait in
//!   a channel while the driver handles others, typically for microseconds).
//!   Whatever is due is handed over in the order it happened: an executor
//!   event, a timer or an arrival, the earliest first.
//! * Timers (keep-alive, queue timeout, pre-warm, lifetime, and retries after
//!   their delay) go to a local [`Engine`] queue and are fired when their
//!   time has elapsed, before an arrival due at the same time (the
//!   simulator's tie rule). A retry's delay is drawn in `[0, cap]` from the
//!   simulator's stream (`retry`, `jitter`), so equal decisions draw equal
//!   delays. The `[faults]` section's host failures, preemptions and
//!   consolidation rounds are scheduled by the simulator's [`Injector`]
//!   into the same queue: a host failure kills the host's workers for
//!   real.
//!
//! Hosts are the platform's logical hosts: a group with a memory capacity
//! that placement fills and eviction frees. Every worker runs on the one
//! machine, unpinned; on a 2-core development VM pinning would only make
//! instances of the same host contend, so it is not done.
//!
//! # Start kinds as processes
//!
//! * **Full init** ([`StartKind::Full`] without a snapshot): a cold worker
//!   ([`ExecKind::Cold`]) that builds the app's `state_mb` MiB.
//! * **Full init that takes the snapshot**: a template ([`ExecKind::Template`])
//!   for the (app, host) pair builds the state, and the instance is its
//!   first fork. The template then stands for the snapshot in that host's
//!   cache: it is killed (retired, if forks of it live) when the platform's
//!   snapshot index no longer holds the app's snapshot on that host.
//!   Templates are not instances: their memory is the snapshot cache's, not
//!   the host's, as a snapshot file is on local disk in the model.
//! * **Local restore**: a fork of the (app, host) template. If the template
//!   is gone (it crashed), the instance is started cold instead and counted
//!   in [`DriverStats::fallbacks`].
//! * **Remote restore** has no process counterpart: a fork needs its
//!   template on the same machine, and there is no store to fetch from.
//!   [`check_supported`] refuses scenarios that can produce one
//!   (`snapshots.remote = true`).
//! * **Warm start**: an execution on an idle worker is
//!   [`Executor::invoke`] with the execution time the platform gives
//!   (restore slow-down included): CPU-bound work over the state
//!   ([`Request::cpu`]), or a sleep ([`Request::io`]) with [`Work::Io`].
//!   An app serving more than one invocation at once has no counterpart
//!   (a worker serves one at a time) and is refused.
//!
//! An instance evicted or killed by the core has its worker killed
//! (unless it is already dead). Outcomes (completions, rejections,
//! failures, ...) go into the same metrics as the simulator's
//! ([`RunSpec::new_metrics`]), so a real run
//! yields a [`RunResult`] with the simulator's summary columns.
//!
//! # Failures
//!
//! A worker that fails an invocation ([`ExecEvent::Failed`]: it crashed,
//! hung past the request's timeout, or answered with a wrong checksum), or
//! that ends on its own ([`ExecEvent::Exited`] of a live instance,
//! including a start that never became ready), is reported to the core as
//! [`Event::Crash`] at the executor's time: the core frees its memory and
//! retries or fails its invocations by the function's retry policy, as for
//! a crash in the simulator. [`DriverStats`] counts them.
//! Out-of-memory kills (`functions[].memory_used`) are not emulated: a
//! worker does not use the memory the scenario draws, so such a scenario
//! is refused.
//!
//! [`Action`]: crate::platform::Action
//! [`Action::ArmKeepAlive`]: crate::platform::Action::ArmKeepAlive
//! [`Action::ArmQueueTimeout`]: crate::platform::Action::ArmQueueTimeout
//! [`Action::ArmPrewarm`]: crate::platform::Action::ArmPrewarm
//! [`Action::ArmLifetime`]: crate::platform::Action::ArmLifetime
//! [`Action::Execute`]: crate::platform::Action::Execute
//! [`Action::Evicted`]: crate::platform::Action::Evicted
//! [`Action::Killed`]: crate::platform::Action::Killed
//! [`Action::Completed`]: crate::platform::Action::Completed
//! [`Action::Rejected`]: crate::platform::Action::Rejected
//! [`Action::Failed`]: crate::platform::Action::Failed
//! [`Metrics`]: crate::metrics::Metrics

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{
    ExecError, ExecEvent, Executor, ExecutorConfig, InstanceId as ExecId, JobId, Request,
    StartKind as ExecKind, WorkerSpec,
};
use crate::engine::rng::mix64;
use crate::engine::{Engine, Next, Streams};
use crate::error::{Error, Result};
use crate::faults::Injector;
use crate::model::{AppId, FnId, FunctionTable, HostId, Invocation};
use crate::platform::{self, Event, InstanceId, StartKind};
use crate::run::{Core, Performer, RunResult, RunSpec, SnapshotSummary, Start};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::workload::{self, Arrivals, Context};

mod real;
use real::{Proc, Real};

/// The longest scenario the real driver runs: it takes that much wall time.
pub const MAX_DURATION: SimDuration = SimDuration::from_secs(600);

/// The largest state an app may build in a real worker, in MiB.
pub const MAX_STATE_MB: u64 = 1024;

/// How an execution is performed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Work {
    /// CPU-bound work over the state for the execution time
    /// ([`Request::cpu`]): concurrent invocations share the machine's
    /// cores, as functions on one host do.
    #[default]
    Cpu,
    /// A sleep for the execution time ([`Request::io`]): an I/O-bound
    /// function, whose duration does not depend on the machine's load.
    Io,
}

/// How to run.
#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// The `coldsim` binary (workers are its hidden `worker` mode).
    pub worker_bin: PathBuf,
    pub replicate: u64,
    pub work: Work,
    /// Faults to inject, for tests: `(n, fault)` makes the n-th execution
    /// the driver performs (from 0, in the order it performs them) fail
    /// that way in its worker ([`Request::with_fault`]).
    pub inject: Vec<(u64, super::Fault)>,
}

/// What the driver itself saw, beyond the platform's metrics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DriverStats {
    /// Worker processes started: cold spawns, templates and forks.
    pub cold_spawns: u64,
    pub templates: u64,
    pub forks: u64,
    /// Local restores started cold because their template was gone.
    pub fallbacks: u64,
    /// Invocations that failed in a worker, and workers that died on their
    /// own or failed to start: each is an [`Event::Crash`] for the core.
    pub failed_invocations: u64,
    pub crashed_instances: u64,
    /// How late arrivals were handed to the platform after their time:
    /// mean and largest, in nanoseconds.
    pub lateness_mean_ns: u64,
    pub lateness_max_ns: u64,
}

/// A real run: the platform's metrics as a [`RunResult`], the driver's own
/// counts, and the wall time it took.
#[derive(Debug)]
pub struct RealRun {
    pub result: RunResult,
    pub stats: DriverStats,
    pub wall: Duration,
}

/// Refuses what the real executor cannot perform; errors name the
/// scenario file (`origin`) and the key. See the module doc.
pub fn check_supported(s: &Scenario, origin: &str) -> Result<()> {
    let err = |key: &str, msg: &str| Err(Error::input(format!("{origin}: {key}"), msg));
    if s.sweep.is_some() {
        return err(
            "sweep",
            "the real executor runs one scenario; remove [sweep] (or copy one point into a file of its own)",
        );
    }
    if s.duration > MAX_DURATION {
        return err(
            "duration",
            &format!(
                "the real executor runs in wall-clock time; expected at most {MAX_DURATION}, found {}",
                s.duration
            ),
        );
    }
    if s.snapshots.enabled && s.snapshots.remote {
        return err(
            "snapshots.remote",
            "the real executor has no remote snapshot store (a restore is a fork of a template on the same host); set `remote = false`",
        );
    }
    if s.workload.is_functions() {
        for (i, a) in s.apps.iter().enumerate() {
            if a.concurrency > 1 {
                return err(
                    &format!("apps[{i}].concurrency"),
                    "a real worker serves one invocation at a time; expected 1",
                );
            }
            if a.state_mb.0 > MAX_STATE_MB {
                return err(
                    &format!("apps[{i}].state_mb"),
                    &format!(
                        "a real worker builds its state in memory; expected at most {MAX_STATE_MB} MiB"
                    ),
                );
            }
        }
        for (i, f) in s.functions.iter().enumerate() {
            if f.concurrency.is_some_and(|c| c > 1) {
                return err(
                    &format!("functions[{i}].concurrency"),
                    "a real worker serves one invocation at a time; expected 1",
                );
            }
            if f.memory_used.is_some() {
                return err(
                    &format!("functions[{i}].memory_used"),
                    "the real executor does not emulate out-of-memory kills (a worker does not use the memory drawn); remove it",
                );
            }
            if f.state_mb.is_some_and(|m| m.0 > MAX_STATE_MB) {
                return err(
                    &format!("functions[{i}].state_mb"),
                    &format!(
                        "a real worker builds its state in memory; expected at most {MAX_STATE_MB} MiB"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// The same checks on the apps of any workload (trace apps have no key).
fn check_table(table: &FunctionTable, origin: &str) -> Result<()> {
    for a in &table.apps {
        if a.concurrency > 1 || a.state_mb > MAX_STATE_MB {
            return Err(Error::input(
                format!("{origin}: workload"),
                format!(
                    "app \"{}\": the real executor needs concurrency 1 and state_mb at most {MAX_STATE_MB}, found {} and {}",
                    a.name, a.concurrency, a.state_mb
                ),
            ));
        }
    }
    Ok(())
}

/// Runs a validated scenario's spec on the real executor (call
/// [`check_supported`] on the scenario first). `origin` names the scenario
/// in errors; `progress` hears a line about every 10 s.
pub fn run(
    spec: &RunSpec,
    origin: &str,
    ctx: &Context,
    opts: &DriverOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<RealRun> {
    let streams = Streams::new(spec.seed, opts.replicate);
    let workload::Workload { table, arrivals } = workload::open(&spec.workload, ctx, &streams)?;
    check_table(&table, origin)?;
    let specs = table
        .apps
        .iter()
        .enumerate()
        .map(|(i, a)| WorkerSpec::new(a.state_mb as u32, mix64(spec.seed ^ ((i as u64) << 20))))
        .collect();
    let ex = Executor::new(ExecutorConfig {
        worker_bin: opts.worker_bin.clone(),
    })?;
    let horizon = spec.horizon;
    let injector = if spec.faults.is_empty() {
        None
    } else {
        Some(
            Injector::new(&spec.faults, spec.platform.hosts, horizon, &streams)
                .map_err(|m| Error::input(format!("{origin}: faults"), m))?,
        )
    };
    let core = Core::new(
        spec.build_platform(&table, &streams),
        spec.new_metrics(&table),
        injector,
        streams.named("retry", "jitter"),
    );
    let mut d = Driver {
        core,
        real: Real {
            ex,
            t0: Instant::now(),
            timers: Engine::new(),
            specs,
            work: opts.work,
            inject: opts.inject.clone(),
            executions: 0,
            next_exec: 0,
            next_job: 0,
            procs: HashMap::new(),
            live: HashMap::new(),
            jobs: HashMap::new(),
            templates: HashMap::new(),
            stats: DriverStats::default(),
            error: None,
        },
        last: SimTime::ZERO,
        lateness_sum: 0,
        arrivals_fed: 0,
    };
    let mut arrivals = arrivals;
    let run = d.run(&mut arrivals, horizon, spec.platform.hosts, progress);
    let wall = d.real.t0.elapsed();
    let end = run?;
    if let Some(e) = arrivals.take_error() {
        return Err(e);
    }
    let snapshots = SnapshotSummary::of(&d.core);
    d.core.finish(horizon);
    if d.arrivals_fed > 0 {
        d.real.stats.lateness_mean_ns = (d.lateness_sum / d.arrivals_fed as u128) as u64;
    }
    let Driver { core, real, .. } = d;
    Ok(RealRun {
        result: RunResult {
            table,
            workload: arrivals.stats(),
            events: core.inputs(),
            fingerprint: core.fingerprint(),
            instances_alive: core.platform.live_instances(),
            end,
            metrics: core.metrics,
            snapshots,
        },
        stats: real.stats,
        wall,
    })
}

/// The core and its performer, and the driver's clock.
struct Driver {
    core: Core,
    real: Real,
    /// The last `now` handed to the core.
    last: SimTime,
    lateness_sum: u128,
    arrivals_fed: u64,
}

fn to_duration(d: SimDuration) -> Duration {
    Duration::from_nanos(d.as_nanos())
}

/// A failure of the run itself (not of the user's input).
fn failure(what: String) -> Error {
    ExecError::Io {
        what,
        err: std::io::ErrorKind::Other.into(),
    }
    .into()
}

impl Driver {
    fn wall(&self, at: Instant) -> SimTime {
        SimTime(at.saturating_duration_since(self.real.t0).as_nanos() as u64)
    }

    /// `t` raised to the last `now`, which it becomes.
    fn clock(&mut self, t: SimTime) -> SimTime {
        let now = t.max(self.last);
        self.last = now;
        now
    }

    fn at_wall(&self, t: SimTime) -> Instant {
        self.real.t0 + Duration::from_nanos(t.0)
    }

    /// After each input: templates whose snapshot left the cache die, and
    /// the first failure of an action stops the run.
    fn after(&mut self) -> Result<()> {
        if let Some(e) = self.real.error.take() {
            return Err(e);
        }
        self.real.retire_templates(&self.core)
    }

    /// Hands `ev` to the core at the executor's time `at`.
    fn event_at(&mut self, at: Instant, ev: Event) -> Result<()> {
        let now = self.clock(self.wall(at));
        self.core.event(now, ev, &mut self.real);
        self.after()
    }

    /// The event loop: hands the core whatever is due in the order it
    /// happened (executor events, timers, arrivals), and waits for the
    /// executor while nothing is. Returns the time of the last input.
    fn run(
        &mut self,
        source: &mut Arrivals,
        horizon: SimTime,
        hosts: u32,
        progress: &mut dyn FnMut(&str),
    ) -> Result<SimTime> {
        let mut arrivals = source.peekable();
        // Fault events and provisioned concurrency, as in the simulator.
        self.clock(SimTime::ZERO);
        self.core.begin(hosts, &mut self.real);
        self.after()?;
        // A run that cannot end is cut off: the workload plus this much.
        let give_up = self.at_wall(horizon) + Duration::from_secs(120);
        let mut next_report = Instant::now() + Duration::from_secs(10);
        // An executor event taken from its channel and not handled yet.
        let mut pending: Option<ExecEvent> = None;
        loop {
            if pending.is_none() {
                pending = self.real.ex.next_event(Instant::now());
            }
            // The earliest of what is due, by wall time: an executor event
            // (always due: it has happened), a timer, an arrival; at equal
            // times in that order, as the simulator pops heap events before
            // arrivals.
            let now_wall = self.wall(Instant::now());
            let t_exec = pending.as_ref().map(|e| self.wall(e.at()));
            let t_timer = self.real.timers.peek_time().filter(|&t| t <= now_wall);
            let t_arr = arrivals
                .peek()
                .map(|i| i.arrival)
                .filter(|&a| a <= now_wall);
            let earliest = [t_exec, t_timer, t_arr].into_iter().flatten().min();
            if let Some(t) = earliest {
                if t_exec == Some(t) {
                    if let Some(ev) = pending.take() {
                        self.exec_event(ev)?;
                    }
                } else if t_timer == Some(t) {
                    let none = &mut std::iter::empty::<Invocation>().peekable();
                    if let Some(Next::Event(_, ev)) = self.real.timers.next(none) {
                        let now = self.clock(now_wall);
                        self.core.event(now, ev, &mut self.real);
                        self.after()?;
                    }
                } else if let Some(inv) = arrivals.next() {
                    self.arrive(inv, now_wall)?;
                }
                continue;
            }
            let drained = arrivals.peek().is_none()
                && self.core.platform.outstanding() == 0
                && self.real.timers.peek_time().is_none_or(|t| t >= horizon);
            if drained && (self.core.platform.gauges().starting == 0 || now_wall >= horizon) {
                break;
            }
            let wall = Instant::now();
            if wall >= give_up {
                return Err(failure(format!(
                    "the real run did not finish within 120 s after its duration ({} invocations outstanding)",
                    self.core.platform.outstanding()
                )));
            }
            if wall >= next_report {
                next_report = wall + Duration::from_secs(10);
                progress(&format!(
                    "real: {:.0} s of {:.0} s, {} arrivals, {} instances alive",
                    now_wall.0 as f64 / 1e9,
                    horizon.0 as f64 / 1e9,
                    self.core.metrics.counters.arrivals,
                    self.core.platform.live_instances()
                ));
            }
            // Nothing is due: wait for the executor until the next timer
            // or arrival (at most 100 ms, to check the time limit).
            let next_due = [
                self.real.timers.peek_time(),
                arrivals.peek().map(|i| i.arrival),
            ]
            .into_iter()
            .flatten()
            .min()
            .map_or(wall + Duration::from_millis(100), |t| self.at_wall(t))
            .min(wall + Duration::from_millis(100));
            pending = self.real.ex.next_event(next_due);
        }
        Ok(self.last)
    }

    fn arrive(&mut self, inv: Invocation, now_wall: SimTime) -> Result<()> {
        let now = self.clock(now_wall);
        let late = now.since(inv.arrival).as_nanos();
        self.lateness_sum += late as u128;
        self.arrivals_fed += 1;
        self.real.stats.lateness_max_ns = self.real.stats.lateness_max_ns.max(late);
        self.core.arrival(now, inv, &mut self.real);
        self.after()
    }

    /// A worker of a live instance failed or died on its own: the core
    /// hears [`Event::Crash`] (see the module doc).
    fn crash(&mut self, e: ExecId, id: InstanceId, at: Instant) -> Result<()> {
        // Dead already: nothing to kill when the core ends it.
        self.real.procs.insert(e, Proc::Killed);
        if !self.real.live.contains_key(&id) {
            return Ok(());
        }
        self.event_at(at, Event::Crash { instance: id })
    }

    /// An event from the executor.
    fn exec_event(&mut self, ev: ExecEvent) -> Result<()> {
        let e = ev.instance();
        let proc = self.real.procs.get(&e).copied();
        match ev {
            ExecEvent::Ready { at, .. } => match proc {
                Some(Proc::Instance(id)) => {
                    // The first fork of a template commits its snapshot.
                    if let Some(t) = self.real.templates.values_mut().find(|t| t.taker == id) {
                        t.committed = true;
                    }
                    self.event_at(at, Event::Ready { instance: id })?;
                }
                Some(Proc::Template { app, host }) => {
                    let waiting = match self.real.templates.get_mut(&(app, host)) {
                        Some(t) if t.exec == e => {
                            t.ready = true;
                            std::mem::take(&mut t.waiting)
                        }
                        _ => Vec::new(),
                    };
                    for id in waiting {
                        self.real.fork(id, e)?;
                    }
                }
                Some(Proc::Killed) | None => {}
            },
            ExecEvent::Done { job, at, .. } => {
                if let Some((id, j)) = self.real.jobs.remove(&job) {
                    self.event_at(
                        at,
                        Event::Done {
                            instance: id,
                            job: j,
                        },
                    )?;
                }
            }
            ExecEvent::Failed { job, at, .. } => {
                self.real.jobs.remove(&job);
                if let Some(Proc::Instance(id)) = proc {
                    self.real.stats.failed_invocations += 1;
                    self.crash(e, id, at)?;
                }
            }
            ExecEvent::Exited { at, .. } => {
                self.real.procs.remove(&e);
                match proc {
                    Some(Proc::Killed) | None => {}
                    Some(Proc::Instance(id)) => {
                        self.real.stats.crashed_instances += 1;
                        self.crash(e, id, at)?;
                        self.real.procs.remove(&e);
                    }
                    Some(Proc::Template { app, host }) => {
                        // Its waiting instances start cold; later local
                        // restores on the host fall back likewise.
                        let waiting = match self.real.templates.get(&(app, host)) {
                            Some(t) if t.exec == e => self
                                .real
                                .templates
                                .remove(&(app, host))
                                .map(|t| t.waiting)
                                .unwrap_or_default(),
                            _ => Vec::new(),
                        };
                        for id in waiting {
                            self.real.stats.fallbacks += 1;
                            self.real.cold(id, app)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
