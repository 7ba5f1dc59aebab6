//! Policies: one small trait per decision, one file per implementation.
//!
//! The platform asks a [`Placement`] which host gets a new instance and a
//! [`KeepAlive`] what to do with an instance that has just gone idle. A
//! policy sees only what it needs (the host table, the app, `now`) and
//! returns a decision; it never schedules anything itself, so each can be
//! unit-tested on the decision alone. Scenario files choose them through
//! serde-tagged enums ([`crate::scenario::PlacementCfg`],
//! [`crate::scenario::KeepAliveCfg`]), turned into trait objects here.

pub mod best_fit;
pub mod consistent_hash;
pub mod first_fit;
pub mod fixed_ttl;
pub mod greedy_dual;
pub mod hybrid_histogram;
pub mod lru;
pub mod power_of_two;
pub mod predictive;
pub mod random;
pub mod round_robin;
pub mod scale_to_zero;
pub mod snapshot_greedy_dual;
pub mod snapshot_lfu;
pub mod snapshot_locality;
pub mod snapshot_lru;
pub mod worst_fit;

use crate::engine::Streams;
use crate::platform::hosts::Hosts;
use crate::platform::snapshots::Snapshots;
use crate::scenario::state::SnapshotEvictionCfg;
use crate::scenario::{EvictionCfg, KeepAliveCfg, PlacementCfg, StateCfg};
use crate::time::{SimDuration, SimTime};
use crate::workload::AppInfo;

/// Chooses the host for a new instance.
pub trait Placement: Send {
    /// A host with at least `need_mb` free, or None if the policy finds none
    /// (the platform may then evict idle instances or queue the invocation).
    fn place(&mut self, hosts: &Hosts, app: u32, need_mb: u64) -> Option<u32>;

    /// As [`Placement::place`], when snapshots are on and the policy may
    /// want to know where they are cached (`snapshot_locality` does).
    fn place_near(
        &mut self,
        hosts: &Hosts,
        _snapshots: &Snapshots,
        app: u32,
        need_mb: u64,
    ) -> Option<u32> {
        self.place(hosts, app, need_mb)
    }
}

/// Chooses which snapshot a full host cache drops.
///
/// Each cached snapshot gets a priority when it is stored or restored; the
/// lowest goes first, the least recently used among equals.
pub trait SnapshotCache: Send {
    /// The priority of `app`'s snapshot in `host`'s cache after its
    /// `uses`-th use (1 when it is stored).
    fn priority(&mut self, host: u32, app: u32, uses: u64) -> f64;
    /// An entry of that priority was dropped from `host`'s cache.
    fn on_evict(&mut self, _host: u32, _priority: f64) {}
}

/// What to do with an instance that has just finished an execution and has
/// no queued work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepDecision {
    /// Keep it idle for this long after now (zero means evict now).
    Keep(SimDuration),
    /// Evict it now.
    Evict,
    /// Unload it now, start a fresh instance of the app `after` from now (a
    /// pre-warm), and keep that one idle for `keep` once it is ready: the
    /// pre-warm window of the hybrid histogram policy.
    Prewarm {
        after: SimDuration,
        keep: SimDuration,
    },
}

/// What a keep-alive policy may know of the instance that went idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdleInstance {
    /// When it was started.
    pub created: SimTime,
    /// When it first went idle (now, the first time).
    pub first_idle: SimTime,
}

/// Decides how long idle instances live.
pub trait KeepAlive: Send {
    /// An invocation of `app` arrived (for policies that learn from arrivals).
    fn on_arrival(&mut self, _app: u32, _now: SimTime) {}
    /// Whether [`KeepAlive::on_arrival`] does anything; the platform skips
    /// the call (one per invocation) when it does not.
    fn learns_from_arrivals(&self) -> bool {
        false
    }
    /// An instance of `app` went idle at `now`.
    fn on_idle(&mut self, app: u32, now: SimTime, inst: IdleInstance) -> KeepDecision;
}

/// Chooses which idle instance to evict when a new instance needs memory.
///
/// When an instance goes idle the platform asks for its priority; when
/// memory is needed on a host, its idle instance with the lowest priority
/// is evicted first (ties: the one idle longest). The policy learns from
/// every use of an app.
pub trait Eviction: Send {
    /// An invocation of `app` started on an instance at `now` (warm or cold).
    fn on_use(&mut self, _app: u32, _now: SimTime) {}
    /// False for a policy whose priorities are all equal and that learns
    /// nothing (LRU): the platform then skips [`Eviction::on_use`] and
    /// [`Eviction::priority`], two calls per invocation.
    fn ranks(&self) -> bool {
        true
    }
    /// The priority of an instance of `app` that has just gone idle.
    fn priority(&mut self, app: u32, now: SimTime) -> f64;
    /// An instance of that priority was evicted for memory.
    fn on_evict(&mut self, _priority: f64) {}
}

/// The placement policy of a run; `streams` seeds the randomised ones.
pub fn placement(cfg: &PlacementCfg, streams: &Streams, hosts: usize) -> Box<dyn Placement> {
    match cfg {
        PlacementCfg::FirstFit => Box::new(first_fit::FirstFit),
        PlacementCfg::Random { tries } => Box::new(random::Random::new(
            streams.named("placement", "random"),
            *tries,
        )),
        PlacementCfg::RoundRobin => Box::new(round_robin::RoundRobin::default()),
        PlacementCfg::BestFit => Box::new(best_fit::BestFit),
        PlacementCfg::WorstFit => Box::new(worst_fit::WorstFit),
        PlacementCfg::PowerOfTwo => Box::new(power_of_two::PowerOfTwo::new(
            streams.named("placement", "power-of-two"),
        )),
        PlacementCfg::ConsistentHash { epsilon, probes } => Box::new(
            consistent_hash::ConsistentHash::new(hosts, *epsilon, *probes),
        ),
        PlacementCfg::SnapshotLocality { fallback, probes } => Box::new(
            snapshot_locality::SnapshotLocality::new(placement(fallback, streams, hosts), *probes),
        ),
    }
}

/// The snapshot-cache policy of a run, given its apps (their full-init
/// cost and snapshot size) and host count.
pub fn snapshot_cache(
    cfg: SnapshotEvictionCfg,
    state: &StateCfg,
    apps: &[AppInfo],
    hosts: usize,
) -> Box<dyn SnapshotCache> {
    match cfg {
        SnapshotEvictionCfg::Lru => Box::new(snapshot_lru::SnapshotLru),
        SnapshotEvictionCfg::Lfu => Box::new(snapshot_lfu::SnapshotLfu),
        SnapshotEvictionCfg::GreedyDual => {
            let cost: Vec<f64> = apps
                .iter()
                .map(|a| {
                    a.init.mean_secs() + state.load_bandwidth.time_for(a.state_mb).as_secs_f64()
                })
                .collect();
            let size: Vec<u64> = apps.iter().map(AppInfo::snapshot_mb).collect();
            Box::new(snapshot_greedy_dual::SnapshotGreedyDual::new(
                &cost, &size, hosts,
            ))
        }
    }
}

/// The eviction policy of a run, given its apps (their memory and init
/// cost); None when eviction for memory is off.
pub fn eviction(cfg: &EvictionCfg, apps: &[AppInfo]) -> Box<dyn Eviction> {
    use greedy_dual::{GreedyDual, Variant};
    match cfg {
        EvictionCfg::Lru | EvictionCfg::None => Box::new(lru::Lru),
        EvictionCfg::GreedyDual => Box::new(GreedyDual::new(Variant::GreedyDual, apps)),
        EvictionCfg::Frequency => Box::new(GreedyDual::new(Variant::Frequency, apps)),
        EvictionCfg::Size => Box::new(GreedyDual::new(Variant::Size, apps)),
    }
}

pub fn keepalive(cfg: &KeepAliveCfg) -> Box<dyn KeepAlive> {
    match cfg {
        KeepAliveCfg::Fixed { ttl, reset } => Box::new(fixed_ttl::FixedTtl {
            ttl: *ttl,
            reset: *reset,
        }),
        KeepAliveCfg::None => Box::new(scale_to_zero::ScaleToZero),
        KeepAliveCfg::Hybrid(c) => Box::new(hybrid_histogram::HybridHistogram::new(c.clone())),
        KeepAliveCfg::Predictive(c) => Box::new(predictive::Predictive::new(c.clone())),
    }
}
