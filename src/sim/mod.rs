//! The simulator: performs the platform core's actions in virtual time.
//!
//! One run is a loop over [`Engine::next`]: the workload's sorted arrival
//! stream merged with the event heap. Each arrival or event is handed to the
//! [`Core`] (the one action loop every performer shares, see
//! [`crate::run::actions`]) at its time; the core's actions come back to the
//! [`Simulator`], which performs them by scheduling their completions: an
//! init time drawn from the app's distribution ([`costs`]), the
//! invocation's execution time (or its death by running out of memory), a
//! timer.
//!
//! The run ends when no arrival is left, nothing is in flight or queued,
//! and the next event (a keep-alive timer) lies at or beyond the scenario's
//! duration. Invocations that arrived before the duration always finish, so
//! every invocation ends exactly once, completed or rejected; time integrals
//! stop at the duration.

pub mod costs;

use std::path::Path;

use crate::calibration::CalibrationProfile;
use crate::dist::MemDist;
use crate::engine::{Engine, Next, RngStream, Streams};
use crate::error::{Error, Result};
use crate::faults::Injector;
use crate::model::{FnId, FunctionTable};
use crate::platform::{Event, InstanceId, JobId};
use crate::run::{Core, Performer, Progress, RunResult, RunSpec, SnapshotSummary, Start};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};
use crate::workload::{self, Context};
use costs::StartCosts;

/// The performer of the simulator: schedules what each action starts in
/// virtual time, on the run's event queue.
pub struct Simulator {
    engine: Engine<Event>,
    costs: StartCosts,
    /// Per function with `memory_used`: its distribution, stream, and its
    /// instances' memory.
    oom: Vec<Option<(MemDist, RngStream, u64)>>,
    any_oom: bool,
}

impl Simulator {
    fn new(
        spec: &RunSpec,
        table: &FunctionTable,
        streams: &Streams,
        profile: Option<&CalibrationProfile>,
    ) -> Result<Simulator> {
        let mut oom: Vec<Option<(MemDist, RngStream, u64)>> = vec![None; table.functions.len()];
        for (i, m) in spec.memory_used.iter().enumerate() {
            if let (Some(m), Some(f)) = (m, table.functions.get(i)) {
                oom[i] = Some((
                    m.clone(),
                    streams.named("oom", &f.name),
                    table.app(f.app).memory_mb,
                ));
            }
        }
        Ok(Simulator {
            engine: Engine::new(),
            costs: StartCosts::new(&spec.costs, table, streams, profile)?,
            any_oom: oom.iter().any(Option::is_some),
            oom,
        })
    }

    /// When an execution of `function` lasting `exec` runs out of memory
    /// (uniformly within it), or None if its peak fits its instance.
    #[inline]
    fn oom_at(&mut self, function: FnId, exec: SimDuration) -> Option<SimDuration> {
        if !self.any_oom {
            return None;
        }
        let (dist, rng, mb) = self.oom[function.index()].as_mut()?;
        if dist.sample(rng) <= *mb {
            return None;
        }
        let at = (rng.uniform() * exec.as_nanos() as f64) as u64;
        Some(SimDuration::from_nanos(at))
    }
}

impl Performer for Simulator {
    #[inline]
    fn start(&mut self, now: SimTime, s: Start) {
        let d = self.costs.draw(s.app, s.kind, s.take_snapshot);
        self.engine.schedule(
            now + d,
            Event::Ready {
                instance: s.instance,
            },
        );
    }

    #[inline]
    fn execute(
        &mut self,
        now: SimTime,
        instance: InstanceId,
        job: JobId,
        function: FnId,
        exec: SimDuration,
    ) {
        match self.oom_at(function, exec) {
            None => {
                let end = now + exec + self.costs.exec_overhead;
                self.engine.schedule(end, Event::Done { instance, job });
            }
            Some(at) => self.engine.schedule(now + at, Event::Oom { instance, job }),
        }
    }

    #[inline]
    fn arm(&mut self, at: SimTime, event: Event) {
        self.engine.schedule(at, event);
    }

    #[inline]
    fn end(&mut self, _instance: InstanceId) {}
}

/// Runs replicate `replicate` of a run spec, reading any trace relative to
/// the current folder.
pub fn run(spec: &RunSpec, replicate: u64) -> Result<RunResult> {
    run_with(spec, replicate, &Context::default(), &mut |_| {}, None)
}

/// Runs replicate `replicate` of a validated scenario, reading any trace
/// or profile relative to the current folder.
pub fn run_scenario(s: &Scenario, replicate: u64) -> Result<RunResult> {
    run(&RunSpec::new(s, Path::new("."))?, replicate)
}

/// Runs a spec and checks the platform's invariants after every event;
/// for tests. Err names the first violation and the event where it
/// happened.
pub fn run_checked(spec: &RunSpec, replicate: u64) -> Result<RunResult, String> {
    let mut violation = None;
    let r = run_with(
        spec,
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

/// Runs a spec, calling `progress` every 2^16 inputs; with `check`,
/// verifies the platform's invariants after every input and stores the
/// first violation there. Starts are priced by the spec's calibration
/// profile when it has one.
pub fn run_with(
    spec: &RunSpec,
    replicate: u64,
    ctx: &Context,
    progress: &mut dyn FnMut(Progress),
    check: Option<&mut Option<String>>,
) -> Result<RunResult> {
    let profile = spec.costs.calibration.as_ref().map(|p| &p.profile);
    simulate(spec, replicate, ctx, profile, progress, check)
}

/// Runs a spec priced by `profile`, whatever its calibration
/// (`coldsim compare --profile`).
pub fn run_calibrated(
    spec: &RunSpec,
    replicate: u64,
    ctx: &Context,
    profile: &CalibrationProfile,
) -> Result<RunResult> {
    simulate(spec, replicate, ctx, Some(profile), &mut |_| {}, None)
}

fn simulate(
    spec: &RunSpec,
    replicate: u64,
    ctx: &Context,
    profile: Option<&CalibrationProfile>,
    progress: &mut dyn FnMut(Progress),
    mut check: Option<&mut Option<String>>,
) -> Result<RunResult> {
    let streams = Streams::new(spec.seed, replicate);
    let workload::Workload {
        table,
        arrivals: mut source,
    } = workload::open(&spec.workload, ctx, &streams)?;
    let horizon = spec.horizon;
    let mut sim = Simulator::new(spec, &table, &streams, profile)?;
    let injector = if spec.faults.is_empty() {
        None
    } else {
        Some(
            Injector::new(&spec.faults, spec.platform.hosts, horizon, &streams)
                .map_err(|m| Error::input("faults".to_string(), m))?,
        )
    };
    let mut core = Core::new(
        spec.build_platform(&table, &streams),
        spec.new_metrics(&table),
        injector,
        streams.named("retry", "jitter"),
    );
    let mut arrivals = (&mut source).peekable();
    // Fault events first, then provisioned concurrency: the instances
    // every app keeps from time 0.
    core.begin(spec.platform.hosts, &mut sim);
    loop {
        if core.platform.outstanding() == 0
            && arrivals.peek().is_none()
            && sim.engine.peek_time().is_none_or(|t| t >= horizon)
        {
            break;
        }
        let Some(next) = sim.engine.next(&mut arrivals) else {
            break;
        };
        let now = sim.engine.now();
        match next {
            Next::Arrival(inv) => core.arrival(now, inv, &mut sim),
            Next::Event(_, ev) => core.event(now, ev, &mut sim),
        }
        if let Some(slot) = check.as_deref_mut()
            && slot.is_none()
            && let Err(e) = core.platform.check_invariants()
        {
            *slot = Some(format!("after event {} at {}: {e}", core.inputs(), now));
        }
        if core.inputs() & 0xFFFF == 0 {
            progress(Progress {
                now,
                horizon,
                arrivals: core.metrics.counters.arrivals,
                events: core.inputs(),
            });
        }
    }
    drop(arrivals);
    if let Some(e) = source.take_error() {
        return Err(e);
    }
    let snapshots = SnapshotSummary::of(&core);
    core.finish(horizon);
    Ok(RunResult {
        table,
        workload: source.stats(),
        events: core.inputs(),
        fingerprint: core.fingerprint(),
        instances_alive: core.platform.live_instances(),
        end: sim.engine.now(),
        metrics: core.metrics,
        snapshots,
    })
}
