//! Placement: which host gets a new instance (`[placement] kind = ...`).
//!
//! Every policy answers from the host table's indexes (a segment tree of
//! free memory, an ordered index for best fit) in time at most logarithmic
//! in the host count; none scans the hosts.

pub mod best_fit;
pub mod consistent_hash;
pub mod first_fit;
pub mod power_of_two;
pub mod random;
pub mod round_robin;
pub mod snapshot_locality;
pub mod worst_fit;

use crate::engine::Streams;
use crate::platform::decisions::Placement;

/// What a placement policy may know when it is built.
pub struct Ctx<'a> {
    /// The run's random streams (randomised policies draw from their own).
    pub streams: &'a Streams,
    /// How many hosts the run has.
    pub hosts: usize,
}

crate::decision! {
    /// Which host gets a new instance.
    pub enum PlacementCfg: "placement" => dyn Placement, Ctx<'_>;
    default = PlacementCfg::FirstFit(first_fit::Config {});
    /// The lowest-numbered host with enough free memory.
    "first-fit" => FirstFit(first_fit::Config);
    /// A host drawn at random among those with room.
    "random" => Random(random::Config);
    /// The next host with room after the last one used, wrapping.
    "round-robin" => RoundRobin(round_robin::Config);
    /// The host with the least free memory that fits.
    "best-fit" => BestFit(best_fit::Config);
    /// The host with the most free memory.
    "worst-fit" | "least-loaded" => WorstFit(worst_fit::Config);
    /// The emptier of two random hosts.
    "power-of-two" => PowerOfTwo(power_of_two::Config);
    /// An app's home host and probe sequence, with bounded loads.
    "consistent-hash" => ConsistentHash(consistent_hash::Config);
    /// A host that caches the app's snapshot, else a fallback policy.
    "snapshot-locality" => SnapshotLocality(snapshot_locality::Config);
}
