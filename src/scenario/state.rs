//! The scenario sections that price state and snapshots, and cap
//! concurrency: `[limits]`, `[state]` and `[snapshots]`.
//!
//! Every default is a published measurement or a stated assumption, cited
//! where it is set; `coldsim check` prints them all.

use serde::{Deserialize, Serialize};

use crate::dist::Dist;
use crate::platform::{SnapshotCreate, Throttle};
use crate::policy::snapshot_cache::SnapshotEvictionCfg;
use crate::time::{Bandwidth, MemoryMb, SimDuration};

/// `[limits]`: concurrency caps (throttling). A function's own cap is its
/// `max_concurrency` key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsCfg {
    /// Invocations of all functions given an instance or waiting for one
    /// at once (AWS Lambda's account concurrency, 1,000 by default there);
    /// absent = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// What a limit does to the invocation it refuses.
    #[serde(default)]
    pub throttle: Throttle,
}

/// `[state]`: how a full initialisation grows with the state it loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateCfg {
    /// A full init loads an app's `state_mb` at this rate, after the fixed
    /// part (`init`). Default 125 MB/s: a 1 Gbit/s stream from an object
    /// store, the figure Akamai's object storage guidance tells clients to
    /// plan for per connection (techdocs.akamai.com, "Best practices for
    /// high-throughput applications"); an assumption, to be replaced by a
    /// measured profile.
    #[serde(default = "StateCfg::default_load_bandwidth")]
    pub load_bandwidth: Bandwidth,
}

impl StateCfg {
    fn default_load_bandwidth() -> Bandwidth {
        Bandwidth::mb_per_s(125)
    }
}

impl Default for StateCfg {
    fn default() -> Self {
        StateCfg {
            load_bandwidth: Self::default_load_bandwidth(),
        }
    }
}

/// `[snapshots]`: snapshot reuse. Off unless `enabled = true`.
///
/// Three kinds of cold start follow: a full init (no snapshot reachable),
/// a restore from the host's cache (`restore`, plus `snapshot_mb /
/// local_bandwidth` when restore is eager), and a restore from the remote
/// store (`snapshot_mb / remote_bandwidth` to fetch it into the host's
/// cache, then the local restore). A restored instance runs its first
/// `slowdown_invocations` invocations `1 + slowdown` times longer while
/// its working set is paged in (REAP, Ustiugov et al., ASPLOS'21).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotsCfg {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub create: SnapshotCreate,
    /// The fixed cost of taking a snapshot (pausing the VM, writing its
    /// device state). Default 0: the memory file dominates.
    #[serde(default = "SnapshotsCfg::default_take")]
    pub take: Dist,
    /// The memory file is written at this rate. Default 1 GB/s, an assumed
    /// local NVMe write rate (not a measurement).
    #[serde(default = "SnapshotsCfg::default_take_bandwidth")]
    pub take_bandwidth: Bandwidth,
    /// The fixed cost of restoring from a snapshot on the host. Default
    /// uniform 30 ms to 77 ms: Firecracker's snapshot-restore baselines on
    /// x86 hosts with a 5.10 kernel (design.md).
    #[serde(default = "SnapshotsCfg::default_restore")]
    pub restore: Dist,
    /// Eager restore: the memory file is read at this rate before the
    /// instance is ready. Absent (the default): lazy restore, the file is
    /// mapped and paged in on use (Firecracker's default), which `slowdown`
    /// prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_bandwidth: Option<Bandwidth>,
    /// Whether a remote snapshot store exists (every snapshot, unbounded).
    #[serde(default = "yes")]
    pub remote: bool,
    /// Fetch rate from the remote store. Default 125 MB/s, as
    /// `state.load_bandwidth` (see there).
    #[serde(default = "SnapshotsCfg::default_remote_bandwidth")]
    pub remote_bandwidth: Bandwidth,
    /// Capacity of each host's snapshot cache (local disk, apart from
    /// instance memory). Default 10 GiB, an assumption.
    #[serde(default = "SnapshotsCfg::default_cache_mb")]
    pub cache_mb: MemoryMb,
    #[serde(default)]
    pub cache_eviction: SnapshotEvictionCfg,
    /// Extra execution time of a restored instance's first invocations, as
    /// a fraction: 0.95 = 95% slower, REAP's worst case (ASPLOS'21: "up to
    /// 95%"; its prefetching cuts the delay 3.7x, about 0.26).
    #[serde(default = "SnapshotsCfg::default_slowdown")]
    pub slowdown: f64,
    /// How many invocations of a restored instance are slowed.
    #[serde(default = "SnapshotsCfg::default_slowdown_invocations")]
    pub slowdown_invocations: u32,
}

fn yes() -> bool {
    true
}

impl SnapshotsCfg {
    fn default_take() -> Dist {
        Dist::Constant {
            value: SimDuration::ZERO,
        }
    }
    fn default_take_bandwidth() -> Bandwidth {
        Bandwidth::mb_per_s(1024)
    }
    fn default_restore() -> Dist {
        Dist::Uniform {
            min: SimDuration::from_millis(30),
            max: SimDuration::from_millis(77),
        }
    }
    fn default_remote_bandwidth() -> Bandwidth {
        Bandwidth::mb_per_s(125)
    }
    fn default_cache_mb() -> MemoryMb {
        MemoryMb(10 * 1024)
    }
    fn default_slowdown() -> f64 {
        0.95
    }
    fn default_slowdown_invocations() -> u32 {
        1
    }

    /// The slow-down as an exact multiplier in millionths (1.95 =
    /// 1,950,000), so that slowed execution times are integer arithmetic.
    pub fn slowdown_ppm(&self) -> u64 {
        ((1.0 + self.slowdown) * 1e6).round() as u64
    }

    /// Checks what serde cannot; Err names the key.
    fn check(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if let Err(m) = self.take.validate(true) {
            return bad("take", &m);
        }
        if let Err(m) = self.restore.validate(true) {
            return bad("restore", &m);
        }
        if self.take_bandwidth.is_zero() {
            return bad("take_bandwidth", "must be greater than zero");
        }
        if self.remote_bandwidth.is_zero() {
            return bad("remote_bandwidth", "must be greater than zero");
        }
        if self.local_bandwidth.is_some_and(Bandwidth::is_zero) {
            return bad(
                "local_bandwidth",
                "must be greater than zero (leave it out for a lazy restore)",
            );
        }
        if !(self.slowdown.is_finite() && (0.0..=100.0).contains(&self.slowdown)) {
            return bad(
                "slowdown",
                "expected a fraction of extra execution time from 0 to 100 (0.95 = 95% slower)",
            );
        }
        Ok(())
    }
}

impl Default for SnapshotsCfg {
    fn default() -> Self {
        SnapshotsCfg {
            enabled: false,
            create: SnapshotCreate::default(),
            take: Self::default_take(),
            take_bandwidth: Self::default_take_bandwidth(),
            restore: Self::default_restore(),
            local_bandwidth: None,
            remote: true,
            remote_bandwidth: Self::default_remote_bandwidth(),
            cache_mb: Self::default_cache_mb(),
            cache_eviction: SnapshotEvictionCfg::default(),
            slowdown: Self::default_slowdown(),
            slowdown_invocations: Self::default_slowdown_invocations(),
        }
    }
}

impl crate::cfg::Validate for SnapshotsCfg {
    fn validate(&self, c: &mut crate::cfg::Check) {
        if let Err((key, msg)) = self.check() {
            c.err(&key, msg);
        }
    }
}
