//! Minimal policies for the core's unit tests, so that they need nothing
//! from the policy layer above: first fit, a fixed keep-alive from the end
//! of each execution, and LRU eviction.

use super::decisions::{Eviction, IdleInstance, KeepAlive, KeepDecision, Placement};
use super::hosts::Hosts;
use crate::model::{AppId, HostId};
use crate::time::{SimDuration, SimTime};

/// The lowest-numbered host with room.
pub struct FirstFit;

impl Placement for FirstFit {
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        hosts.first_free(need_mb)
    }
}

/// Keeps an idle instance this long after each execution (zero: evict).
pub struct FixedTtl(pub SimDuration);

impl KeepAlive for FixedTtl {
    fn on_idle(&mut self, _app: AppId, _now: SimTime, _inst: IdleInstance) -> KeepDecision {
        if self.0.is_zero() {
            KeepDecision::Evict
        } else {
            KeepDecision::Keep(self.0)
        }
    }
}

/// Every idle instance ranks the same: the one idle longest goes first.
pub struct Lru;

impl Eviction for Lru {
    fn ranks(&self) -> bool {
        false
    }

    fn priority(&mut self, _app: AppId, _now: SimTime) -> f64 {
        0.0
    }
}
