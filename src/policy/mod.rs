//! Policies: one small trait per decision, one file per implementation.
//!
//! The platform asks a [`Placement`] which host gets a new instance and a
//! [`KeepAlive`] what to do with an instance that has just gone idle. A
//! policy sees only what it needs (the host table, the app, `now`) and
//! returns a decision; it never schedules anything itself, so each can be
//! unit-tested on the decision alone. Scenario files choose them through
//! serde-tagged enums ([`crate::scenario::PlacementCfg`],
//! [`crate::scenario::KeepAliveCfg`]), turned into trait objects here.

pub mod first_fit;
pub mod fixed_ttl;
pub mod scale_to_zero;

use crate::platform::hosts::Hosts;
use crate::scenario::{KeepAliveCfg, PlacementCfg};
use crate::time::{SimDuration, SimTime};

/// Chooses the host for a new instance.
pub trait Placement: Send {
    /// A host with at least `need_mb` free, or None if the policy finds none
    /// (the platform may then evict idle instances or queue the invocation).
    fn place(&mut self, hosts: &Hosts, app: u32, need_mb: u64) -> Option<u32>;
}

/// What to do with an instance that has just finished an execution and has
/// no queued work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepDecision {
    /// Keep it idle for this long after now (zero means evict now).
    Keep(SimDuration),
    /// Evict it now.
    Evict,
}

/// Decides how long idle instances live.
pub trait KeepAlive: Send {
    /// An invocation of `app` arrived (for policies that learn from arrivals).
    fn on_arrival(&mut self, _app: u32, _now: SimTime) {}
    /// An instance of `app` went idle at `now`.
    fn on_idle(&mut self, app: u32, now: SimTime) -> KeepDecision;
}

pub fn placement(cfg: &PlacementCfg) -> Box<dyn Placement> {
    match cfg {
        PlacementCfg::FirstFit => Box::new(first_fit::FirstFit),
    }
}

pub fn keepalive(cfg: &KeepAliveCfg) -> Box<dyn KeepAlive> {
    match cfg {
        KeepAliveCfg::Fixed { ttl } => Box::new(fixed_ttl::FixedTtl { ttl: *ttl }),
        KeepAliveCfg::None => Box::new(scale_to_zero::ScaleToZero),
    }
}
