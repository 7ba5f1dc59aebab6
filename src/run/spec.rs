//! Setup: a validated [`Scenario`] becomes a [`RunSpec`] once, before a run
//! starts, and the spec builds the run's platform core and metrics.
//!
//! The spec holds what each component needs, in the component's own types;
//! the simulator and the real executor read the spec, never the scenario.

use std::path::Path;

use crate::calibration::LoadedProfile;
use crate::dist::{Dist, MemDist};
use crate::engine::Streams;
use crate::error::Result;
use crate::faults::{ControllerMode, FaultsCfg};
use crate::metrics::Metrics;
use crate::model::FunctionTable;
use crate::platform::{
    Consolidation, Platform, PlatformConfig, RetryPolicy, SnapshotConfig, SnapshotCreate,
    Snapshots, Throttle, WarmSelect,
};
use crate::policy::eviction::{self, EvictionCfg};
use crate::policy::keepalive::{self, KeepAliveCfg};
use crate::policy::placement::{self, PlacementCfg};
use crate::policy::snapshot_cache::{self, SnapshotEvictionCfg};
use crate::scenario::Scenario;
use crate::time::{Bandwidth, SimDuration, SimTime};
use crate::workload::{RunBounds, SyntheticFn, WorkloadSpec};

/// Everything one run of a scenario needs, resolved from it once.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The scenario's name (it names the results folder).
    pub name: String,
    /// Base seed of every random stream.
    pub seed: u64,
    /// Arrivals are generated in `[0, horizon)`; metrics integrate over it.
    pub horizon: SimTime,
    pub workload: WorkloadSpec,
    pub platform: PlatformSpec,
    pub costs: CostSpec,
    pub faults: FaultsCfg,
    /// For each function of a `functions` workload, the peak memory of its
    /// invocations (`functions[].memory_used`); empty for other workloads.
    pub memory_used: Vec<Option<MemDist>>,
    /// Billing granularity.
    pub billing_granularity: SimDuration,
    /// Cores of a host (CPU utilisation).
    pub cores: u32,
    /// Time-series interval (`[report] interval`), when on.
    pub interval: Option<SimDuration>,
}

/// What builds the platform core, given the run's function table.
#[derive(Clone, Debug)]
pub struct PlatformSpec {
    pub hosts: u32,
    pub host_memory_mb: u64,
    pub queue_max_len: u32,
    pub queue_timeout: SimDuration,
    pub placement: PlacementCfg,
    pub keepalive: KeepAliveCfg,
    pub eviction: EvictionCfg,
    pub warm: WarmSelect,
    pub global_limit: Option<u32>,
    pub throttle: Throttle,
    /// The retry policy of a function without its own.
    pub retry: RetryPolicy,
    /// For each function of a `functions` workload, its retry policy;
    /// empty for other workloads (every function has `retry`).
    pub fn_retry: Vec<RetryPolicy>,
    pub max_lifetime: Option<SimDuration>,
    pub relocate_on_notice: bool,
    pub consolidation: Option<Consolidation>,
    /// Present when snapshots are on.
    pub snapshots: Option<SnapshotSpec>,
    /// The rate at which a full init loads state (`state.load_bandwidth`).
    pub load_bandwidth: Bandwidth,
}

/// The platform's snapshot model (`[snapshots]` with `enabled = true`).
#[derive(Clone, Debug)]
pub struct SnapshotSpec {
    pub create: SnapshotCreate,
    pub remote: bool,
    pub cache_mb: u64,
    pub cache_eviction: SnapshotEvictionCfg,
    pub slowdown_ppm: u64,
    pub slowdown_invocations: u32,
}

/// What prices starts (see `sim::costs`): the fixed parts and transfer
/// rates, or a measured calibration profile.
#[derive(Clone, Debug)]
pub struct CostSpec {
    pub load_bandwidth: Bandwidth,
    /// Fetch rate from the remote snapshot store (a calibrated remote
    /// restore uses it too).
    pub remote_bandwidth: Bandwidth,
    /// Present when snapshots are on.
    pub snapshots: Option<SnapshotCosts>,
    /// The scenario's `calibration` profile, loaded.
    pub calibration: Option<LoadedProfile>,
}

/// The costs of taking and restoring snapshots.
#[derive(Clone, Debug)]
pub struct SnapshotCosts {
    pub take: Dist,
    pub take_bandwidth: Bandwidth,
    pub restore: Dist,
    pub local_bandwidth: Option<Bandwidth>,
}

impl RunSpec {
    /// The spec of a validated scenario; a `calibration` profile is read
    /// from `base_dir` (the scenario file's folder).
    pub fn new(s: &Scenario, base_dir: &Path) -> Result<RunSpec> {
        let calibration = LoadedProfile::for_key(s.calibration.as_deref(), base_dir)?;
        Ok(RunSpec::with_profile(s, calibration))
    }

    /// The spec of a validated scenario priced by `calibration`, whatever
    /// its `calibration` key says.
    pub fn with_profile(s: &Scenario, calibration: Option<LoadedProfile>) -> RunSpec {
        let functions_workload = s.workload.is_functions();
        let (table, functions) = if functions_workload {
            (
                s.function_table(),
                s.functions
                    .iter()
                    .map(|f| SyntheticFn {
                        exec: f.exec.clone(),
                        arrivals: f.arrivals.clone(),
                    })
                    .collect(),
            )
        } else {
            (FunctionTable::default(), Vec::new())
        };
        let retry = s.retry.policy();
        let sn = &s.snapshots;
        RunSpec {
            name: s.name.clone(),
            seed: s.seed,
            horizon: SimTime(s.duration.as_nanos()),
            workload: WorkloadSpec {
                cfg: s.workload.clone(),
                bounds: RunBounds {
                    duration: s.duration,
                    host_memory_mb: s.hosts.memory_mb.0,
                },
                table,
                functions,
            },
            platform: PlatformSpec {
                hosts: s.hosts.count,
                host_memory_mb: s.hosts.memory_mb.0,
                queue_max_len: s.queue.max_len,
                queue_timeout: s.queue.timeout,
                placement: s.placement.clone(),
                keepalive: s.keepalive.clone(),
                eviction: s.eviction.clone(),
                warm: s.warm,
                global_limit: s.limits.max_concurrency,
                throttle: s.limits.throttle,
                retry,
                fn_retry: if functions_workload {
                    s.functions
                        .iter()
                        .map(|f| f.retry.as_ref().map_or(retry, |r| r.policy()))
                        .collect()
                } else {
                    Vec::new()
                },
                max_lifetime: s.faults.max_lifetime,
                relocate_on_notice: s.faults.preemption.as_ref().is_none_or(|p| p.relocate),
                consolidation: s.faults.consolidation.as_ref().map(|c| Consolidation {
                    spread: c.mode == ControllerMode::Spread,
                    threshold: c.threshold,
                    power_off: c.power_off,
                    min_on: c.min_on,
                }),
                snapshots: sn.enabled.then(|| SnapshotSpec {
                    create: sn.create,
                    remote: sn.remote,
                    cache_mb: sn.cache_mb.0,
                    cache_eviction: sn.cache_eviction,
                    slowdown_ppm: sn.slowdown_ppm(),
                    slowdown_invocations: sn.slowdown_invocations,
                }),
                load_bandwidth: s.state.load_bandwidth,
            },
            costs: CostSpec {
                load_bandwidth: s.state.load_bandwidth,
                remote_bandwidth: sn.remote_bandwidth,
                snapshots: sn.enabled.then(|| SnapshotCosts {
                    take: sn.take.clone(),
                    take_bandwidth: sn.take_bandwidth,
                    restore: sn.restore.clone(),
                    local_bandwidth: sn.local_bandwidth,
                }),
                calibration,
            },
            faults: s.faults.clone(),
            memory_used: if functions_workload {
                s.functions.iter().map(|f| f.memory_used.clone()).collect()
            } else {
                Vec::new()
            },
            billing_granularity: s.billing.granularity,
            cores: s.hosts.cores,
            interval: s.report.interval,
        }
    }

    /// The platform core of the run, with its policies and snapshot index,
    /// as the simulator and the real executor both drive it.
    pub fn build_platform(&self, table: &FunctionTable, streams: &Streams) -> Platform {
        let p = &self.platform;
        let apps = &table.apps;
        let cfg = PlatformConfig {
            hosts: p.hosts as usize,
            host_memory_mb: p.host_memory_mb,
            fn_app: table.functions.iter().map(|f| f.app).collect(),
            app_memory_mb: apps.iter().map(|a| a.memory_mb).collect(),
            queue_max_len: p.queue_max_len,
            queue_timeout: p.queue_timeout,
            evict_for_memory: p.eviction.evicts(),
            warm: p.warm,
            app_min_instances: apps.iter().map(|a| a.min_instances).collect(),
            app_concurrency: apps.iter().map(|a| a.concurrency).collect(),
            fn_limit: table.functions.iter().map(|f| f.max_concurrency).collect(),
            global_limit: p.global_limit,
            throttle: p.throttle,
            fn_retry: if p.fn_retry.is_empty() {
                vec![p.retry; table.functions.len()]
            } else {
                p.fn_retry.clone()
            },
            max_lifetime: p.max_lifetime,
            relocate_on_notice: p.relocate_on_notice,
            consolidation: p.consolidation,
        };
        let hosts = p.hosts as usize;
        let mut platform = Platform::new(
            cfg,
            p.placement.build(&placement::Ctx { streams, hosts }),
            p.keepalive.build(&keepalive::Ctx),
            p.eviction.build(&eviction::Ctx { apps }),
        );
        if let Some(sn) = &p.snapshots {
            platform = platform.with_snapshots(Snapshots::new(
                SnapshotConfig {
                    create: sn.create,
                    remote: sn.remote,
                    cache_mb: sn.cache_mb,
                    app_snapshot_mb: apps.iter().map(|a| a.snapshot_mb()).collect(),
                    slowdown_ppm: sn.slowdown_ppm,
                    slowdown_invocations: sn.slowdown_invocations,
                },
                hosts,
                sn.cache_eviction.build(&snapshot_cache::Ctx {
                    apps,
                    load_bandwidth: p.load_bandwidth,
                    hosts,
                }),
            ));
        }
        platform
    }

    /// The metrics of the run, set up for billing, as the simulator and
    /// the real executor both record them.
    pub fn new_metrics(&self, table: &FunctionTable) -> Metrics {
        let mut metrics = Metrics::new(table.functions.len(), self.horizon);
        metrics.set_billing(
            table.apps.iter().map(|a| a.memory_mb).collect(),
            self.billing_granularity,
            self.cores as u64,
        );
        if let Some(interval) = self.interval {
            metrics.sample_every(interval); // timeseries.csv
        }
        metrics
    }
}
