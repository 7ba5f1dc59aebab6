//! The decisions the platform core leaves to policies: one small trait
//! each.
//!
//! The core asks a [`Placement`] which host gets a new instance, a
//! [`KeepAlive`] what to do with an instance that has just gone idle, an
//! [`Eviction`] which idle instance gives up its memory, and a
//! [`SnapshotCache`] which snapshot a full host cache drops. A policy sees
//! only what it needs (the host table, the app, `now`) and returns a
//! decision; it never schedules anything itself, so each can be unit-tested
//! on the decision alone. The implementations live in [`crate::policy`],
//! one folder per decision.

use super::hosts::Hosts;
use super::snapshots::Snapshots;
use crate::model::{AppId, HostId};
use crate::time::{SimDuration, SimTime};

/// Chooses the host for a new instance.
pub trait Placement: Send {
    /// A host with at least `need_mb` free, or None if the policy finds none
    /// (the platform may then evict idle instances or queue the invocation).
    fn place(&mut self, hosts: &Hosts, app: AppId, need_mb: u64) -> Option<HostId>;

    /// As [`Placement::place`], when snapshots are on and the policy may
    /// want to know where they are cached (`snapshot_locality` does).
    fn place_near(
        &mut self,
        hosts: &Hosts,
        _snapshots: &Snapshots,
        app: AppId,
        need_mb: u64,
    ) -> Option<HostId> {
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
    fn priority(&mut self, host: HostId, app: AppId, uses: u64) -> f64;
    /// An entry of that priority was dropped from `host`'s cache.
    fn on_evict(&mut self, _host: HostId, _priority: f64) {}
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
    fn on_arrival(&mut self, _app: AppId, _now: SimTime) {}
    /// Whether [`KeepAlive::on_arrival`] does anything; the platform skips
    /// the call (one per invocation) when it does not.
    fn learns_from_arrivals(&self) -> bool {
        false
    }
    /// An instance of `app` went idle at `now`.
    fn on_idle(&mut self, app: AppId, now: SimTime, inst: IdleInstance) -> KeepDecision;
}

/// Chooses which idle instance to evict when a new instance needs memory.
///
/// When an instance goes idle the platform asks for its priority; when
/// memory is needed on a host, its idle instance with the lowest priority
/// is evicted first (ties: the one idle longest). The policy learns from
/// every use of an app.
pub trait Eviction: Send {
    /// An invocation of `app` started on an instance at `now` (warm or cold).
    fn on_use(&mut self, _app: AppId, _now: SimTime) {}
    /// False for a policy whose priorities are all equal and that learns
    /// nothing (LRU): the platform then skips [`Eviction::on_use`] and
    /// [`Eviction::priority`], two calls per invocation.
    fn ranks(&self) -> bool {
        true
    }
    /// The priority of an instance of `app` that has just gone idle.
    fn priority(&mut self, app: AppId, now: SimTime) -> f64;
    /// An instance of that priority was evicted for memory.
    fn on_evict(&mut self, _priority: f64) {}
}
