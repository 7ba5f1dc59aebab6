//! Eviction for memory: which idle instance gives up its memory when a new
//! instance needs room (`[eviction] kind = ...`).

pub mod greedy_dual;
pub mod lru;
pub mod none;

use crate::model::AppInfo;
use crate::platform::decisions::Eviction;

/// What an eviction policy may know when it is built.
pub struct Ctx<'a> {
    /// The run's apps: their memory and init cost.
    pub apps: &'a [AppInfo],
}

crate::decision! {
    /// What happens when a new instance needs memory that idle instances
    /// hold.
    pub enum EvictionCfg: "eviction" => dyn Eviction, Ctx<'_>;
    default = EvictionCfg::Lru(lru::Config {});
    /// Evict the least recently used idle instances of the first host on
    /// which that makes enough room.
    "lru" => Lru(lru::Config);
    /// Greedy-Dual (FaasCache, ASPLOS'21): lowest `clock + frequency x
    /// cold-start cost / memory` first.
    "greedy-dual" => GreedyDual(greedy_dual::GreedyDualConfig);
    /// Greedy-Dual without size: lowest `clock + frequency x cost` first.
    "frequency" => Frequency(greedy_dual::FrequencyConfig);
    /// Greedy-Dual without cost: lowest `clock + frequency / memory` first.
    "size" => Size(greedy_dual::SizeConfig);
    /// Never evict for memory; the invocation waits in the queue.
    "none" => None(none::Config);
}

impl EvictionCfg {
    /// Whether idle instances are evicted when a new one needs memory.
    pub fn evicts(&self) -> bool {
        !matches!(self, EvictionCfg::None(_))
    }
}
