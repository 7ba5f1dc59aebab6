//! A run: setup from a scenario ([`RunSpec`]), the one action loop that
//! both performers share ([`Core`], [`Performer`]), and what a run
//! produces ([`RunResult`]).
//!
//! This is the layer where the scenario ends: [`RunSpec::new`] reads a
//! validated [`crate::scenario::Scenario`] once; the simulator (`sim`) and
//! the real executor (`executor`) take the spec.

pub mod actions;
pub mod spec;

pub use actions::{Core, Performer, Start};
pub use spec::{CostSpec, PlatformSpec, RunSpec, SnapshotCosts, SnapshotSpec};

use crate::metrics::Metrics;
use crate::model::FunctionTable;
use crate::platform::snapshots::SnapshotCounters;
use crate::time::SimTime;
use crate::workload::WorkloadStats;

/// What a run produced, apart from wall-clock figures.
#[derive(Debug)]
pub struct RunResult {
    /// The functions and apps of the run (metrics are indexed by them).
    pub table: FunctionTable,
    /// What the workload skipped or dropped, and the files it read.
    pub workload: WorkloadStats,
    pub metrics: Metrics,
    /// Inputs handed to the core: arrivals plus events (stale ones
    /// included).
    pub events: u64,
    /// Fingerprint of the inputs (see [`actions`]).
    pub fingerprint: u64,
    /// Instances alive when the run ended.
    pub instances_alive: u64,
    /// Time of the last input.
    pub end: SimTime,
    /// Snapshot counts at the end, when snapshots are on.
    pub snapshots: Option<SnapshotSummary>,
}

/// What the snapshot caches and store did in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSummary {
    pub counters: SnapshotCounters,
    /// MB of snapshots in the remote store at the end.
    pub store_mb: u64,
}

impl SnapshotSummary {
    /// The snapshot summary of a core, when snapshots are on.
    pub fn of(core: &Core) -> Option<SnapshotSummary> {
        core.platform.snapshots().map(|sn| SnapshotSummary {
            counters: sn.counters,
            store_mb: sn.store_mb(),
        })
    }
}

/// Progress of a run, reported every 2^16 inputs.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub now: SimTime,
    pub horizon: SimTime,
    pub arrivals: u64,
    pub events: u64,
}
