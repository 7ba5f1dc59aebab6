//! The one action loop: feeds the platform core its inputs and hands the
//! actions it returns to a [`Performer`].
//!
//! Both performers of the core's actions, the simulator (virtual time) and
//! the real executor (worker processes, wall-clock time), drive a [`Core`]:
//! each decides *when* an input happens and hands it over with
//! [`Core::arrival`] or [`Core::event`]; the core integrates the metrics up
//! to `now`, mixes the input into the run's fingerprint, lets the platform
//! decide, records every action's outcome in the metrics
//! ([`Metrics::observe`]), runs the fault injector after fault events, draws
//! retry delays, and calls the performer for what takes time or a process:
//! starting an instance, running an execution, arming a timer, ending an
//! instance. A new way to perform starts (another kind of real start) is a
//! new [`Performer`], nothing more.
//!
//! The fingerprint is a 64-bit FNV-style hash of every input (its time,
//! kind and ids): two runs with equal fingerprints handed the core the same
//! inputs in the same order.

use crate::engine::RngStream;
use crate::faults::Injector;
use crate::metrics::Metrics;
use crate::model::{AppId, FnId, HostId, Invocation};
use crate::platform::{Action, Event, HostState, InstanceId, JobId, Platform, StartKind};
use crate::time::{SimDuration, SimTime};

/// How the platform's actions are performed: in virtual time by the
/// simulator, with processes by the real executor.
pub trait Performer {
    /// Start `instance` of `app` on `host` by `kind` (taking the app's
    /// snapshot when `take_snapshot`); hand back [`Event::Ready`] when it is
    /// ready.
    fn start(&mut self, now: SimTime, start: Start);
    /// Run `job` (an invocation of `function`) for `exec` on `instance`;
    /// hand back [`Event::Done`] when it ends (or what killed it).
    fn execute(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        job: JobId,
        function: FnId,
        exec: SimDuration,
    );
    /// Hand back `event` at `at` (a timer).
    fn arm(&mut self, at: SimTime, event: Event);
    /// `instance` is gone (evicted or killed): its process, if any, must
    /// die.
    fn end(&mut self, instance: InstanceId);
}

/// A start the platform asks for ([`Action::Start`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    pub instance: InstanceId,
    pub app: AppId,
    pub host: HostId,
    pub kind: StartKind,
    pub take_snapshot: bool,
    /// Started ahead of demand, with no invocation waiting.
    pub prewarm: bool,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The platform core of a run with what every performer shares around it:
/// its metrics, the fault injector, the retry-delay stream and the
/// fingerprint.
pub struct Core {
    pub platform: Platform,
    pub metrics: Metrics,
    injector: Option<Injector>,
    retry_rng: RngStream,
    out: Vec<Action>,
    fingerprint: u64,
    inputs: u64,
}

impl Core {
    /// A core around `platform`; `retry_rng` draws retry delays (the
    /// stream `("retry", "jitter")`, the same in every performer).
    pub fn new(
        platform: Platform,
        metrics: Metrics,
        injector: Option<Injector>,
        retry_rng: RngStream,
    ) -> Core {
        Core {
            platform,
            metrics,
            injector,
            retry_rng,
            out: Vec::with_capacity(16),
            fingerprint: FNV_OFFSET,
            inputs: 0,
        }
    }

    /// Schedules the first fault events and starts the provisioned
    /// instances, at time 0.
    pub fn begin<P: Performer>(&mut self, hosts: u32, p: &mut P) {
        if let Some(inj) = self.injector.as_mut() {
            inj.start(hosts, &mut |at, ev| p.arm(at, ev));
        }
        self.metrics.advance(SimTime::ZERO, &self.platform.gauges());
        self.platform.provision(SimTime::ZERO, &mut self.out);
        self.perform(SimTime::ZERO, p);
    }

    /// An invocation arrives at `now`.
    #[inline]
    pub fn arrival<P: Performer>(&mut self, now: SimTime, inv: Invocation, p: &mut P) {
        self.inputs += 1;
        self.metrics.advance(now, &self.platform.gauges());
        self.fingerprint =
            (self.fingerprint ^ now.0).wrapping_mul(FNV_PRIME) ^ inv.function.0 as u64;
        self.metrics.arrival(inv.function);
        self.platform.arrival(now, inv, &mut self.out);
        self.perform(now, p);
    }

    /// An event (a start or execution that ended, a timer, a fault) is
    /// handed over at `now`.
    #[inline]
    pub fn event<P: Performer>(&mut self, now: SimTime, ev: Event, p: &mut P) {
        self.inputs += 1;
        self.metrics.advance(now, &self.platform.gauges());
        let (code, id) = ev.code();
        self.fingerprint = (self.fingerprint ^ now.0).wrapping_mul(FNV_PRIME) ^ (code << 56 | id);
        match (self.injector.as_mut(), ev) {
            (
                Some(inj),
                Event::HostFail { host }
                | Event::HostRepair { host }
                | Event::Preempt { host }
                | Event::Reclaim { host },
            ) => {
                let prior = self.platform.host_state(host);
                self.platform.handle(now, ev, &mut self.out);
                inj.after(now, ev, prior, &mut |at, ev| p.arm(at, ev));
            }
            (Some(inj), Event::Consolidate) => {
                self.platform.handle(now, ev, &mut self.out);
                inj.after(now, ev, HostState::Up, &mut |at, ev| p.arm(at, ev));
            }
            _ => self.platform.handle(now, ev, &mut self.out),
        }
        self.perform(now, p);
    }

    /// Performs the actions of the last input and records their outcomes.
    #[inline]
    fn perform<P: Performer>(&mut self, now: SimTime, p: &mut P) {
        // By reference, then cleared: moving each action out of a drain
        // copied it whole (about 20 more instructions per action).
        for a in self.out.iter() {
            // Each arm records its own action, so that the metrics' match
            // folds away once inlined (one match per action, not two).
            match *a {
                Action::Start {
                    instance,
                    app,
                    host,
                    prewarm,
                    kind,
                    take_snapshot,
                } => {
                    p.start(
                        now,
                        Start {
                            instance,
                            app,
                            host,
                            kind,
                            take_snapshot,
                            prewarm,
                        },
                    );
                    self.metrics.observe(a);
                }
                Action::Execute {
                    instance,
                    job,
                    function,
                    exec,
                } => p.execute(now, instance, job, function, exec),
                Action::ArmKeepAlive { instance, at } => p.arm(at, Event::KeepAlive { instance }),
                Action::ArmQueueTimeout { ticket, at } => p.arm(at, Event::QueueTimeout { ticket }),
                Action::ArmPrewarm {
                    app,
                    generation,
                    at,
                } => p.arm(at, Event::Prewarm { app, generation }),
                Action::ArmLifetime { instance, at } => p.arm(at, Event::Lifetime { instance }),
                Action::Retry { token, cap, .. } => {
                    // Full jitter: uniform in [0, cap].
                    let d = (self.retry_rng.uniform() * cap.as_nanos() as f64) as u64;
                    p.arm(now + SimDuration::from_nanos(d), Event::Retry { token });
                    self.metrics.observe(a);
                }
                Action::Evicted { instance, .. } | Action::Killed { instance, .. } => {
                    p.end(instance);
                    self.metrics.observe(a);
                }
                Action::PrewarmUsed { .. }
                | Action::PrewarmWasted { .. }
                | Action::Queued { .. }
                | Action::Throttled { .. }
                | Action::Failed { .. }
                | Action::Relocated { .. }
                | Action::Completed(_)
                | Action::Rejected { .. } => self.metrics.observe(a),
            }
        }
        self.out.clear();
    }

    /// Inputs handed over so far (arrivals and events, stale ones
    /// included).
    pub fn inputs(&self) -> u64 {
        self.inputs
    }

    /// The fingerprint of the inputs so far (see the module doc).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Integrates the metrics up to the horizon and seals them.
    pub fn finish(&mut self, horizon: SimTime) {
        self.metrics.advance(horizon, &self.platform.gauges());
        self.metrics.seal();
    }
}
