//! What starts cost in virtual time.

use crate::calibration::CalibrationProfile;
use crate::dist::{Dist, Sampler};
use crate::engine::{RngStream, Streams};
use crate::error::{Error, Result};
use crate::model::{AppId, FunctionTable};
use crate::platform::StartKind;
use crate::run::CostSpec;
use crate::time::SimDuration;

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
/// [`StartCost::at`]: crate::calibration::StartCost::at
pub struct StartCosts {
    init: Vec<(Sampler, RngStream)>,
    state_load: Vec<SimDuration>,
    /// Present when snapshots are on.
    snap: Option<SnapCosts>,
    /// Present with a calibration profile: it prices every start.
    measured: Option<MeasuredCosts>,
    /// Added to every execution (the profile's dispatch round trip; zero
    /// without a profile).
    pub exec_overhead: SimDuration,
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
    /// The start costs of a run's apps.
    pub fn new(
        spec: &CostSpec,
        table: &FunctionTable,
        streams: &Streams,
        profile: Option<&CalibrationProfile>,
    ) -> Result<StartCosts> {
        let sampler = |d: &Dist, what: &str, app: &str| {
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
            .map(|a| spec.load_bandwidth.time_for(a.state_mb))
            .collect();
        let snap = if let Some(sn) = &spec.snapshots {
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
                fetch: per_app(&|mb| spec.remote_bandwidth.time_for(mb)),
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
                .map(|a| spec.remote_bandwidth.time_for(a.snapshot_mb()))
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
    pub fn draw(&mut self, app: AppId, kind: StartKind, take: bool) -> SimDuration {
        let a = app.index();
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
