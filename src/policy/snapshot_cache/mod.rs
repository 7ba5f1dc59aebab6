//! Snapshot caches: which snapshot a full host cache drops to make room
//! (`[snapshots] cache_eviction = ...`, a name: these policies have no
//! keys).

pub mod greedy_dual;
pub mod lfu;
pub mod lru;

use serde::{Deserialize, Serialize};

use crate::model::AppInfo;
use crate::platform::decisions::SnapshotCache;
use crate::time::Bandwidth;

/// Which snapshot a full host cache drops to make room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotEvictionCfg {
    /// Least recently used (restored or stored) first.
    #[default]
    Lru,
    /// Least frequently used first (restores while cached), LRU on ties.
    Lfu,
    /// Greedy-Dual-Size-Frequency (Cao and Irani, 1997; FaasCache,
    /// ASPLOS'21): lowest `clock + uses x full-init cost / size` first, so
    /// that large, rarely used snapshots of quick-to-start apps go first.
    GreedyDual,
}

/// What a snapshot-cache policy may know when it is built.
pub struct Ctx<'a> {
    /// The run's apps: their init cost, state and snapshot size.
    pub apps: &'a [AppInfo],
    /// The rate at which a full init loads state (`state.load_bandwidth`).
    pub load_bandwidth: Bandwidth,
    pub hosts: usize,
}

impl SnapshotEvictionCfg {
    /// The policy this configuration names.
    pub fn build(self, ctx: &Ctx<'_>) -> Box<dyn SnapshotCache> {
        match self {
            SnapshotEvictionCfg::Lru => Box::new(lru::SnapshotLru),
            SnapshotEvictionCfg::Lfu => Box::new(lfu::SnapshotLfu),
            SnapshotEvictionCfg::GreedyDual => {
                let cost: Vec<f64> = ctx
                    .apps
                    .iter()
                    .map(|a| {
                        a.init.mean_secs() + ctx.load_bandwidth.time_for(a.state_mb).as_secs_f64()
                    })
                    .collect();
                let size: Vec<u64> = ctx.apps.iter().map(AppInfo::snapshot_mb).collect();
                Box::new(greedy_dual::SnapshotGreedyDual::new(
                    &cost, &size, ctx.hosts,
                ))
            }
        }
    }
}
