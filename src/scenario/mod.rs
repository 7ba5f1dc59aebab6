//! The scenario file: its TOML schema, defaults, validation with precise
//! errors, and sweep grids.
//!
//! Loading goes in three steps. [`load`] parses the text (a syntax error
//! names line and column), deserializes it with key paths tracked (a wrong
//! type names `functions[2].memory_mb` and the line), and then [`validate`]s
//! what serde cannot see: positive durations, known app names, a function
//! that fits on a host. Defaults are filled in by [`Scenario::resolve`], so
//! that `coldsim check` can print every value a run will use. A `[sweep]`
//! table expands into one scenario per point of its grid (see [`sweep`]).

pub mod dist;
pub mod memdist;
pub mod state;
pub mod sweep;

use serde::{Deserialize, Serialize};

pub use dist::{Dist, Sampler};
pub use memdist::MemDist;
pub use state::{LimitsCfg, SnapshotsCfg, StateCfg, Throttle};
pub use sweep::{SweepPoint, SweepSpec};

use crate::error::{Error, Result};
use crate::time::{MemoryMb, Rate, SimDuration};

/// A whole study: hosts, policies, apps and functions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Names the results folder (`results/<name>/`).
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Base seed of every random stream.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Arrivals are generated in `[0, duration)`; metrics integrate over it.
    pub duration: SimDuration,
    /// A calibration profile written by `coldsim calibrate`, relative to
    /// the scenario file's folder. When set, start durations come from the
    /// measured costs instead of `init`, `state.load_bandwidth` and the
    /// snapshot take and restore keys (see `sim::StartCosts`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
    #[serde(default)]
    pub hosts: Hosts,
    #[serde(default)]
    pub queue: QueueCfg,
    #[serde(default)]
    pub placement: PlacementCfg,
    #[serde(default)]
    pub keepalive: KeepAliveCfg,
    #[serde(default)]
    pub eviction: EvictionCfg,
    /// Which idle instance of an app serves an arrival.
    #[serde(default)]
    pub warm: crate::platform::WarmSelect,
    /// Concurrency limits (throttling).
    #[serde(default)]
    pub limits: LimitsCfg,
    /// How full initialisation grows with state.
    #[serde(default)]
    pub state: StateCfg,
    /// Snapshot reuse (off by default).
    #[serde(default)]
    pub snapshots: SnapshotsCfg,
    /// The default retry policy of every function.
    #[serde(default)]
    pub retry: RetryCfg,
    /// Host failures, preemption, consolidation, instance lifetime.
    #[serde(default, skip_serializing_if = "crate::faults::FaultsCfg::is_empty")]
    pub faults: crate::faults::FaultsCfg,
    /// Prices of the user's bill and the provider's cost.
    #[serde(default)]
    pub billing: crate::metrics::billing::BillingCfg,
    /// Extra outputs of each run (timeseries.csv).
    #[serde(default, skip_serializing_if = "crate::report::ReportCfg::is_default")]
    pub report: crate::report::ReportCfg,
    /// Where invocations come from (default: the `[[functions]]` below).
    #[serde(default)]
    pub workload: WorkloadCfg,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub apps: Vec<AppCfg>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<FunctionCfg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepSpec>,
}

fn default_seed() -> u64 {
    1
}

/// The `[workload]` table: where invocations come from.
///
/// Deserialized by hand (see the `Deserialize` impl below) so that an error
/// inside a reader's keys keeps its key path (`workload.spread`), which
/// serde's internally tagged enums lose.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorkloadCfg {
    /// The scenario's `[[apps]]` and `[[functions]]`, each function with its
    /// own arrival process.
    #[default]
    Functions,
    /// N synthetic functions with Zipf popularity.
    Population(crate::workload::population::Config),
    /// Azure Functions 2019 trace replay.
    Azure2019(crate::workload::azure2019::Config),
    /// Azure Functions 2021 invocation trace replay.
    Azure2021(crate::workload::azure2021::Config),
    /// Huawei Cloud 2025 per-minute request trace replay.
    Huawei(crate::workload::huawei::Config),
    /// A generic CSV of invocations.
    Csv(crate::workload::generic_csv::Config),
}

/// Marks a nested key path inside an error message: `NESTED path NESTED
/// message`, split again by [`split_nested`].
const NESTED: char = '\u{1}';

/// Deserializes `T` from a table, wrapping any error with its key path.
fn nested<T: serde::de::DeserializeOwned, E: serde::de::Error>(t: toml::Table) -> Result<T, E> {
    serde_path_to_error::deserialize(toml::Value::Table(t)).map_err(|e| {
        let (path, msg) = split_nested(&e.path().to_string(), e.inner().message());
        E::custom(format!("{NESTED}{path}{NESTED}{msg}"))
    })
}

/// Joins an outer key path with a nested one carried in `msg`, if any.
pub(crate) fn split_nested(outer: &str, msg: &str) -> (String, String) {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix(NESTED) {
        if let Some((inner, m)) = rest.split_once(NESTED) {
            let (inner, m) = split_nested(inner, m);
            let path = match (
                outer.is_empty() || outer == ".",
                inner.is_empty() || inner == ".",
            ) {
                (true, _) => inner,
                (false, true) => outer.to_string(),
                (false, false) => format!("{outer}.{inner}"),
            };
            return (path, m);
        }
    }
    (outer.to_string(), msg.replace('\n', " "))
}

/// Removes and returns the `kind` key of a tagged table (`default` when it
/// is absent; a missing-key error when there is no default).
fn take_kind<E: serde::de::Error>(t: &mut toml::Table, default: Option<&str>) -> Result<String, E> {
    match t.remove("kind") {
        Some(toml::Value::String(k)) => Ok(k),
        Some(other) => Err(E::custom(format!(
            "{NESTED}kind{NESTED}expected a string, found {}",
            other.type_str()
        ))),
        None => default
            .map(str::to_string)
            .ok_or_else(|| E::missing_field("kind")),
    }
}

/// Fails on any key left in the table of a kind that has none.
fn no_keys<E: serde::de::Error>(t: &toml::Table, kind: &str, why: &str) -> Result<(), E> {
    match t.keys().next() {
        Some(k) => Err(E::custom(format!(
            "{NESTED}{k}{NESTED}unknown key for kind \"{kind}\" ({why})"
        ))),
        None => Ok(()),
    }
}

impl<'de> Deserialize<'de> for WorkloadCfg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let kind = take_kind(&mut t, Some("functions"))?;
        Ok(match kind.as_str() {
            "functions" => {
                no_keys(&t, &kind, "its functions are the [[functions]] tables")?;
                WorkloadCfg::Functions
            }
            "population" => WorkloadCfg::Population(nested(t)?),
            "azure2019" => WorkloadCfg::Azure2019(nested(t)?),
            "azure2021" => WorkloadCfg::Azure2021(nested(t)?),
            "huawei" => WorkloadCfg::Huawei(nested(t)?),
            "csv" => WorkloadCfg::Csv(nested(t)?),
            other => {
                return Err(D::Error::custom(format!(
                    "{NESTED}kind{NESTED}unknown workload kind `{other}`, expected one of `functions`, `population`, `azure2019`, `azure2021`, `huawei`, `csv`"
                )));
            }
        })
    }
}

impl WorkloadCfg {
    fn validate(&self) -> Result<(), (String, String)> {
        match self {
            WorkloadCfg::Functions => Ok(()),
            WorkloadCfg::Population(c) => c.validate(),
            WorkloadCfg::Azure2019(c) => c.validate(),
            WorkloadCfg::Azure2021(c) => c.validate(),
            WorkloadCfg::Huawei(c) => c.validate(),
            WorkloadCfg::Csv(c) => c.validate(),
        }
    }
}

/// Identical hosts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hosts {
    #[serde(default = "Hosts::default_count")]
    pub count: u32,
    #[serde(default = "Hosts::default_memory")]
    pub memory_mb: MemoryMb,
    #[serde(default = "Hosts::default_cores")]
    pub cores: u32,
}

impl Hosts {
    fn default_count() -> u32 {
        10
    }
    fn default_memory() -> MemoryMb {
        MemoryMb(32 * 1024)
    }
    fn default_cores() -> u32 {
        16
    }
}

impl Default for Hosts {
    fn default() -> Self {
        Hosts {
            count: Self::default_count(),
            memory_mb: Self::default_memory(),
            cores: Self::default_cores(),
        }
    }
}

/// The front-end queue that holds invocations while no host has room.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueCfg {
    /// Invocations waiting at once; one more is rejected. 0 = no queue.
    #[serde(default = "QueueCfg::default_max_len")]
    pub max_len: u32,
    /// A waiting invocation is rejected after this long. Default 30 s, as
    /// API front ends time out requests (Amazon API Gateway: 29 s).
    #[serde(default = "QueueCfg::default_timeout")]
    pub timeout: SimDuration,
}

impl QueueCfg {
    fn default_max_len() -> u32 {
        1000
    }
    fn default_timeout() -> SimDuration {
        SimDuration::from_secs(30)
    }
}

impl Default for QueueCfg {
    fn default() -> Self {
        QueueCfg {
            max_len: Self::default_max_len(),
            timeout: Self::default_timeout(),
        }
    }
}

/// Which host gets a new instance.
///
/// Deserialized by hand (see the `Deserialize` impl below) so that an error
/// inside a policy's keys keeps its key path (`placement.epsilon`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PlacementCfg {
    /// The lowest-numbered host with enough free memory.
    #[default]
    FirstFit,
    /// A host drawn at random among those with room (`policy::random`).
    Random {
        #[serde(default = "crate::policy::random::default_tries")]
        tries: u32,
    },
    /// The next host with room after the last one used, wrapping.
    RoundRobin,
    /// The host with the least free memory that fits.
    BestFit,
    /// The host with the most free memory (also `least-loaded`).
    #[serde(alias = "least-loaded")]
    WorstFit,
    /// The emptier of two random hosts (`policy::power_of_two`).
    PowerOfTwo,
    /// An app's home host and probe sequence, with bounded loads
    /// (`policy::consistent_hash`).
    ConsistentHash {
        #[serde(
            default = "crate::policy::consistent_hash::default_epsilon",
            deserialize_with = "crate::policy::consistent_hash::de_epsilon"
        )]
        epsilon: f64,
        #[serde(default = "crate::policy::consistent_hash::default_probes")]
        probes: u32,
    },
    /// A host that caches the app's snapshot and has room (the emptiest of
    /// the first `probes` such hosts), else the `fallback` policy
    /// (`policy::snapshot_locality`).
    SnapshotLocality {
        fallback: Box<PlacementCfg>,
        probes: u32,
    },
}

/// The keys of `[placement] kind = "random"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RandomPlacementRaw {
    #[serde(default = "crate::policy::random::default_tries")]
    tries: u32,
}

/// The keys of `[placement] kind = "snapshot-locality"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotLocalityRaw {
    #[serde(default)]
    fallback: PlacementCfg,
    #[serde(default = "crate::policy::snapshot_locality::default_probes")]
    probes: u32,
}

/// The keys of `[placement] kind = "consistent-hash"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistentHashRaw {
    #[serde(
        default = "crate::policy::consistent_hash::default_epsilon",
        deserialize_with = "crate::policy::consistent_hash::de_epsilon"
    )]
    epsilon: f64,
    #[serde(default = "crate::policy::consistent_hash::default_probes")]
    probes: u32,
}

impl<'de> Deserialize<'de> for PlacementCfg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let kind = take_kind(&mut t, None)?;
        Ok(match kind.as_str() {
            "first-fit" => {
                no_keys(&t, &kind, "it has no keys")?;
                PlacementCfg::FirstFit
            }
            "random" => {
                let r: RandomPlacementRaw = nested(t)?;
                PlacementCfg::Random { tries: r.tries }
            }
            "round-robin" => {
                no_keys(&t, &kind, "it has no keys")?;
                PlacementCfg::RoundRobin
            }
            "best-fit" => {
                no_keys(&t, &kind, "it has no keys")?;
                PlacementCfg::BestFit
            }
            "worst-fit" | "least-loaded" => {
                no_keys(&t, &kind, "it has no keys")?;
                PlacementCfg::WorstFit
            }
            "power-of-two" => {
                no_keys(&t, &kind, "it has no keys")?;
                PlacementCfg::PowerOfTwo
            }
            "consistent-hash" => {
                let c: ConsistentHashRaw = nested(t)?;
                PlacementCfg::ConsistentHash {
                    epsilon: c.epsilon,
                    probes: c.probes,
                }
            }
            "snapshot-locality" => {
                let c: SnapshotLocalityRaw = nested(t)?;
                if matches!(c.fallback, PlacementCfg::SnapshotLocality { .. }) {
                    return Err(D::Error::custom(format!(
                        "{NESTED}fallback.kind{NESTED}the fallback of snapshot-locality must be another policy"
                    )));
                }
                if c.probes == 0 {
                    return Err(D::Error::custom(format!(
                        "{NESTED}probes{NESTED}expected at least 1 host to probe"
                    )));
                }
                PlacementCfg::SnapshotLocality {
                    fallback: Box::new(c.fallback),
                    probes: c.probes,
                }
            }
            other => {
                return Err(D::Error::custom(format!(
                    "{NESTED}kind{NESTED}unknown placement kind `{other}`, expected one of `first-fit`, `random`, `round-robin`, `best-fit`, `worst-fit`, `least-loaded`, `power-of-two`, `consistent-hash`, `snapshot-locality`"
                )));
            }
        })
    }
}

/// How long an idle instance is kept.
///
/// Deserialized by hand (see the `Deserialize` impl below) so that an error
/// inside a policy's keys keeps its key path (`keepalive.margin`), which
/// serde's internally tagged enums lose.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KeepAliveCfg {
    /// Keep each instance `ttl` after the end of each execution (the timer
    /// restarts at every completion). Default 10 minutes, the AWS-like
    /// keep-alive (Azure 2019 used 20 minutes, Huawei 1 minute).
    Fixed {
        ttl: SimDuration,
        /// When the timer starts: `every-completion` (default) or
        /// `first-idle` (DSLab FaaS's default); see `policy::fixed_ttl`.
        #[serde(default)]
        reset: crate::policy::fixed_ttl::TtlReset,
    },
    /// Scale to zero: evict as soon as an execution ends.
    None,
    /// The hybrid histogram policy of Shahrad et al. (ATC'20): per-app
    /// idle-time histograms choose a pre-warm and a keep-alive window; see
    /// `policy::hybrid_histogram` for the keys and their defaults.
    Hybrid(crate::policy::hybrid_histogram::Config),
    /// A pre-warmer driven by each app's recent arrival rate; see
    /// `policy::predictive`.
    Predictive(crate::policy::predictive::Config),
}

impl Default for KeepAliveCfg {
    fn default() -> Self {
        KeepAliveCfg::Fixed {
            ttl: SimDuration::from_secs(600),
            reset: Default::default(),
        }
    }
}

/// The keys of `[keepalive] kind = "fixed"`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FixedKeepAliveRaw {
    ttl: SimDuration,
    #[serde(default)]
    reset: crate::policy::fixed_ttl::TtlReset,
}

impl<'de> Deserialize<'de> for KeepAliveCfg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let kind = take_kind(&mut t, None)?;
        Ok(match kind.as_str() {
            "fixed" => {
                let f: FixedKeepAliveRaw = nested(t)?;
                KeepAliveCfg::Fixed {
                    ttl: f.ttl,
                    reset: f.reset,
                }
            }
            "none" => {
                no_keys(&t, &kind, "it has no keys")?;
                KeepAliveCfg::None
            }
            "hybrid" => KeepAliveCfg::Hybrid(nested(t)?),
            "predictive" => KeepAliveCfg::Predictive(nested(t)?),
            other => {
                return Err(D::Error::custom(format!(
                    "{NESTED}kind{NESTED}unknown keep-alive kind `{other}`, expected one of `fixed`, `none`, `hybrid`, `predictive`"
                )));
            }
        })
    }
}

/// What happens when a new instance needs memory that idle instances hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum EvictionCfg {
    /// Evict the least recently used idle instances of the first host on
    /// which that makes enough room.
    #[default]
    Lru,
    /// Greedy-Dual (FaasCache, ASPLOS'21): lowest `clock + frequency x
    /// cold-start cost / memory` first; see `policy::greedy_dual`.
    GreedyDual,
    /// Greedy-Dual without size: lowest `clock + frequency x cost` first.
    Frequency,
    /// Greedy-Dual without cost: lowest `clock + frequency / memory` first.
    Size,
    /// Never evict for memory; the invocation waits in the queue.
    None,
}

/// An application: the unit that is loaded, scaled and kept alive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppCfg {
    pub name: String,
    #[serde(default = "default_memory")]
    pub memory_mb: MemoryMb,
    #[serde(default = "Dist::huawei_cold_start")]
    pub init: Dist,
    /// Provisioned concurrency: instances started at time 0 and never
    /// evicted (by keep-alive or for memory) while the app has no more
    /// than this many; idle ones count as idle (wasted) memory.
    #[serde(default)]
    pub min_instances: u32,
    /// State loaded at initialisation (model weights, indexes, pools), in
    /// MB: a full init takes `init` plus `state_mb / state.load_bandwidth`.
    /// Part of the instance's memory, so at most `memory_mb`.
    #[serde(default)]
    pub state_mb: MemoryMb,
    /// Size of the app's snapshot; default its `memory_mb` (a full memory
    /// image, as a Firecracker snapshot's memory file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_mb: Option<MemoryMb>,
    /// Invocations one instance serves at once: 1 as AWS Lambda, up to
    /// 1,000 on Google Cloud Run (80 by default there), Knative's
    /// `containerConcurrency`. Execution times do not stretch with it (the
    /// model assumes instances sized for their concurrency).
    #[serde(default = "one")]
    pub concurrency: u32,
}

fn one() -> u32 {
    1
}

/// A retry policy: how often an invocation whose instance was killed is
/// tried again, and after what delay. Defaults follow the AWS SDKs'
/// standard retry mode: 3 attempts in all, exponential backoff from 1 s
/// doubling up to 20 s, with full jitter (the delay is uniform below the
/// cap).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryCfg {
    /// Attempts in all, the first included (1 = never retry).
    #[serde(default = "RetryCfg::default_attempts")]
    pub max_attempts: u32,
    /// Cap of the first retry's delay.
    #[serde(default = "RetryCfg::default_backoff")]
    pub backoff: SimDuration,
    /// Each later retry's cap is this many times the previous one.
    #[serde(default = "RetryCfg::default_multiplier")]
    pub multiplier: f64,
    /// No cap exceeds this.
    #[serde(default = "RetryCfg::default_max_backoff")]
    pub max_backoff: SimDuration,
}

impl RetryCfg {
    fn default_attempts() -> u32 {
        3
    }
    fn default_backoff() -> SimDuration {
        SimDuration::from_secs(1)
    }
    fn default_multiplier() -> f64 {
        2.0
    }
    fn default_max_backoff() -> SimDuration {
        SimDuration::from_secs(20)
    }

    pub fn policy(&self) -> crate::platform::RetryPolicy {
        crate::platform::RetryPolicy {
            max_attempts: self.max_attempts,
            base: self.backoff,
            multiplier: self.multiplier,
            max: self.max_backoff,
        }
    }

    fn validate(&self) -> Result<(), (String, String)> {
        if self.max_attempts == 0 {
            return Err((
                "max_attempts".into(),
                "expected at least 1 (1 = never retry)".into(),
            ));
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(("multiplier".into(), "expected a number >= 1".into()));
        }
        if self.max_backoff < self.backoff {
            return Err(("max_backoff".into(), "must be at least backoff".into()));
        }
        Ok(())
    }
}

impl Default for RetryCfg {
    fn default() -> Self {
        RetryCfg {
            max_attempts: Self::default_attempts(),
            backoff: Self::default_backoff(),
            multiplier: Self::default_multiplier(),
            max_backoff: Self::default_max_backoff(),
        }
    }
}

/// AWS Lambda's default function memory, 128 MB.
fn default_memory() -> MemoryMb {
    MemoryMb(128)
}

/// A function: its own execution time and arrivals; memory and init time
/// come from its app, or from itself when it names no app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionCfg {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<MemoryMb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Dist>,
    /// Provisioned concurrency of a function without `app` (see `AppCfg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_instances: Option<u32>,
    /// State, snapshot size and per-instance concurrency of a function
    /// without `app` (see `AppCfg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_mb: Option<MemoryMb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_mb: Option<MemoryMb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// The function's concurrency limit (AWS Lambda's reserved
    /// concurrency): its invocations given an instance or waiting for one
    /// at once; `limits.throttle` says what happens to one more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<u32>,
    /// Its retry policy (default: the scenario's `[retry]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryCfg>,
    /// Peak memory each invocation uses; one above its instance's memory
    /// is killed out of memory partway through (and its instance with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_used: Option<MemDist>,
    pub exec: Dist,
    pub arrivals: ArrivalsCfg,
}

/// A function's arrival process, tagged by `kind`. See
/// [`crate::workload::process`] for how each is generated and where it is
/// used in the literature.
///
/// Deserialized through [`ArrivalsRaw`] (see the `Deserialize` impl) so
/// that an error inside its keys keeps its key path
/// (`functions[0].arrivals.period`), which serde's internally tagged enums
/// lose.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ArrivalsCfg {
    /// Poisson arrivals at `rate` ("0.9/s", "54/min").
    Poisson { rate: Rate },
    /// Timer triggers: arrival k (from 0) at `phase + k * period + U_k *
    /// jitter`, U_k uniform in [0, 1). `jitter < period` keeps arrivals in
    /// order.
    Periodic {
        period: SimDuration,
        #[serde(default)]
        jitter: SimDuration,
        #[serde(default)]
        phase: SimDuration,
    },
    /// A renewal process: independent gaps drawn from `gap`, the first
    /// arrival one gap after time 0.
    Renewal { gap: Dist },
    /// A two-state Markov-modulated Poisson process: Poisson arrivals at
    /// `rates[i]` while in state i, which lasts an exponential time of mean
    /// `mean_sojourn[i]`; started in the stationary distribution.
    Mmpp {
        rates: Vec<Rate>,
        mean_sojourn: Vec<SimDuration>,
    },
    /// A sinusoidal rate, `rate * (1 + amplitude * cos(2 pi (t - peak) /
    /// period))`, generated by thinning.
    Diurnal {
        rate: Rate,
        amplitude: f64,
        #[serde(default = "ArrivalsCfg::default_diurnal_period")]
        period: SimDuration,
        #[serde(default = "ArrivalsCfg::default_diurnal_peak")]
        peak: SimDuration,
    },
    /// A piecewise-constant rate read from a CSV file `time_s,rate_per_s`
    /// (relative to the scenario's folder).
    Piecewise { file: String },
}

/// [`ArrivalsCfg`] as an externally tagged enum (`{ periodic = { period =
/// "1s" } }`), which serde deserializes without buffering, so that
/// `serde_path_to_error` sees the path of an error inside a variant.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum ArrivalsRaw {
    Poisson {
        rate: Rate,
    },
    Periodic {
        period: SimDuration,
        #[serde(default)]
        jitter: SimDuration,
        #[serde(default)]
        phase: SimDuration,
    },
    Renewal {
        gap: Dist,
    },
    Mmpp {
        rates: Vec<Rate>,
        mean_sojourn: Vec<SimDuration>,
    },
    Diurnal {
        rate: Rate,
        amplitude: f64,
        #[serde(default = "ArrivalsCfg::default_diurnal_period")]
        period: SimDuration,
        #[serde(default = "ArrivalsCfg::default_diurnal_peak")]
        peak: SimDuration,
    },
    Piecewise {
        file: String,
    },
}

impl From<ArrivalsRaw> for ArrivalsCfg {
    fn from(r: ArrivalsRaw) -> Self {
        match r {
            ArrivalsRaw::Poisson { rate } => ArrivalsCfg::Poisson { rate },
            ArrivalsRaw::Periodic {
                period,
                jitter,
                phase,
            } => ArrivalsCfg::Periodic {
                period,
                jitter,
                phase,
            },
            ArrivalsRaw::Renewal { gap } => ArrivalsCfg::Renewal { gap },
            ArrivalsRaw::Mmpp {
                rates,
                mean_sojourn,
            } => ArrivalsCfg::Mmpp {
                rates,
                mean_sojourn,
            },
            ArrivalsRaw::Diurnal {
                rate,
                amplitude,
                period,
                peak,
            } => ArrivalsCfg::Diurnal {
                rate,
                amplitude,
                period,
                peak,
            },
            ArrivalsRaw::Piecewise { file } => ArrivalsCfg::Piecewise { file },
        }
    }
}

impl<'de> Deserialize<'de> for ArrivalsCfg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let kind = take_kind(&mut t, None)?;
        let mut outer = toml::Table::new();
        outer.insert(kind, toml::Value::Table(t));
        serde_path_to_error::deserialize::<_, ArrivalsRaw>(toml::Value::Table(outer))
            .map(ArrivalsCfg::from)
            .map_err(|e| {
                // The first segment is the variant (the kind); an error
                // without one is about the kind itself.
                let mut path = String::new();
                let mut segments = e.path().iter();
                if segments.next().is_none() {
                    path.push_str("kind");
                }
                for seg in segments {
                    let is_index = matches!(seg, serde_path_to_error::Segment::Seq { .. });
                    if !path.is_empty() && !is_index {
                        path.push('.');
                    }
                    path.push_str(&seg.to_string());
                }
                let (path, msg) = split_nested(&path, e.inner().message());
                D::Error::custom(format!("{NESTED}{path}{NESTED}{msg}"))
            })
    }
}

impl ArrivalsCfg {
    fn default_diurnal_period() -> SimDuration {
        SimDuration::from_secs(86_400)
    }

    /// 14:00 after the start of each period: a mid-afternoon peak, a
    /// convention rather than a fitted value.
    fn default_diurnal_peak() -> SimDuration {
        SimDuration::from_secs(14 * 3600)
    }

    /// The long-run mean number of arrivals per second. For `renewal`, one
    /// over the gap's mean; for `mmpp`, the state rates weighted by the
    /// stationary probabilities (proportional to the mean sojourns). NaN for
    /// `piecewise`, whose rates are in a file (see
    /// [`crate::workload::process::Process::mean_rate`]).
    pub fn mean_rate(&self) -> f64 {
        match self {
            ArrivalsCfg::Poisson { rate } => rate.per_sec(),
            ArrivalsCfg::Periodic { period, .. } => 1.0 / period.as_secs_f64(),
            ArrivalsCfg::Renewal { gap } => 1.0 / gap.mean_secs(),
            ArrivalsCfg::Mmpp {
                rates,
                mean_sojourn,
            } => {
                let total: f64 = mean_sojourn.iter().map(|m| m.as_secs_f64()).sum();
                rates
                    .iter()
                    .zip(mean_sojourn)
                    .map(|(r, m)| r.per_sec() * m.as_secs_f64() / total)
                    .sum()
            }
            ArrivalsCfg::Diurnal { rate, .. } => rate.per_sec(),
            ArrivalsCfg::Piecewise { .. } => f64::NAN,
        }
    }

    /// Checks what serde cannot; Err(key below `arrivals`, message), such
    /// as `("jitter", "...")` or `("rates[1]", "...")`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        let positive_rate = |r: &Rate| r.per_sec() > 0.0 && r.per_sec().is_finite();
        match self {
            ArrivalsCfg::Poisson { rate } => {
                if !positive_rate(rate) {
                    return bad("rate", "must be greater than zero".into());
                }
            }
            ArrivalsCfg::Periodic {
                period,
                jitter,
                phase: _,
            } => {
                if period.is_zero() {
                    return bad("period", "must be greater than zero".into());
                }
                if jitter >= period {
                    return bad(
                        "jitter",
                        format!(
                            "must be less than period ({period}), so that arrivals stay in order; found {jitter}"
                        ),
                    );
                }
            }
            ArrivalsCfg::Renewal { gap } => {
                gap.validate(false).map_err(|m| ("gap".to_string(), m))?;
                let m = gap.mean_secs();
                if !(m.is_finite() && m > 0.0) {
                    return bad(
                        "gap",
                        format!("the mean gap must be finite and greater than zero, found {m} s"),
                    );
                }
            }
            ArrivalsCfg::Mmpp {
                rates,
                mean_sojourn,
            } => {
                if rates.len() != 2 {
                    return bad(
                        "rates",
                        format!(
                            "expected two rates, one per state (such as [\"10/s\", \"0.1/s\"]), found {}",
                            rates.len()
                        ),
                    );
                }
                if let Some(i) = rates.iter().position(|r| !r.per_sec().is_finite()) {
                    return bad(&format!("rates[{i}]"), "must be finite".into());
                }
                if rates.iter().all(|r| r.per_sec() <= 0.0) {
                    return bad(
                        "rates",
                        "at most one state may have rate zero; both are zero".into(),
                    );
                }
                if mean_sojourn.len() != 2 {
                    return bad(
                        "mean_sojourn",
                        format!(
                            "expected two durations, one per state (such as [\"30s\", \"5m\"]), found {}",
                            mean_sojourn.len()
                        ),
                    );
                }
                if let Some(i) = mean_sojourn.iter().position(|m| m.is_zero()) {
                    return bad(
                        &format!("mean_sojourn[{i}]"),
                        "must be greater than zero".into(),
                    );
                }
            }
            ArrivalsCfg::Diurnal {
                rate,
                amplitude,
                period,
                peak,
            } => {
                if !positive_rate(rate) {
                    return bad("rate", "must be greater than zero".into());
                }
                if !(0.0..=1.0).contains(amplitude) {
                    return bad(
                        "amplitude",
                        format!("expected a number from 0 to 1, found {amplitude}"),
                    );
                }
                if period.is_zero() {
                    return bad("period", "must be greater than zero".into());
                }
                if peak >= period {
                    return bad(
                        "peak",
                        format!(
                            "is the time of the peak within each period (default 14h); expected less than period ({period}), found {peak}; set peak as well"
                        ),
                    );
                }
            }
            ArrivalsCfg::Piecewise { file } => {
                if file.trim().is_empty() {
                    return bad(
                        "file",
                        "expected the path of a CSV file with header time_s,rate_per_s".into(),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The app model after resolution: every function points at an app index.
#[derive(Clone, Debug)]
pub struct AppModel {
    pub apps: Vec<ResolvedApp>,
    /// For each function (scenario order), its app index.
    pub fn_app: Vec<u32>,
}

#[derive(Clone, Debug)]
pub struct ResolvedApp {
    pub name: String,
    pub memory_mb: u64,
    pub init: Dist,
    pub min_instances: u32,
    pub state_mb: u64,
    pub snapshot_mb: Option<u64>,
    pub concurrency: u32,
}

impl Scenario {
    /// Fills every default that depends on other keys, so that the value
    /// printed by `coldsim check` is the one a run uses.
    pub fn resolve(&mut self) {
        for f in &mut self.functions {
            if f.app.is_none() {
                f.memory_mb.get_or_insert_with(default_memory);
                f.init.get_or_insert_with(Dist::huawei_cold_start);
            }
        }
    }

    /// Apps in order: declared apps first, then one implicit app per function
    /// that names none (named after the function).
    pub fn app_model(&self) -> AppModel {
        let mut apps: Vec<ResolvedApp> = self
            .apps
            .iter()
            .map(|a| ResolvedApp {
                name: a.name.clone(),
                memory_mb: a.memory_mb.0,
                init: a.init.clone(),
                min_instances: a.min_instances,
                state_mb: a.state_mb.0,
                snapshot_mb: a.snapshot_mb.map(|m| m.0),
                concurrency: a.concurrency,
            })
            .collect();
        let mut fn_app = Vec::with_capacity(self.functions.len());
        for f in &self.functions {
            match &f.app {
                Some(name) => {
                    let idx = self.apps.iter().position(|a| &a.name == name).unwrap_or(0);
                    fn_app.push(idx as u32);
                }
                None => {
                    fn_app.push(apps.len() as u32);
                    apps.push(ResolvedApp {
                        name: f.name.clone(),
                        memory_mb: f.memory_mb.unwrap_or_else(default_memory).0,
                        init: f.init.clone().unwrap_or_else(Dist::huawei_cold_start),
                        min_instances: f.min_instances.unwrap_or(0),
                        state_mb: f.state_mb.map_or(0, |m| m.0),
                        snapshot_mb: f.snapshot_mb.map(|m| m.0),
                        concurrency: f.concurrency.unwrap_or(1),
                    });
                }
            }
        }
        AppModel { apps, fn_app }
    }
}

/// A scenario file as loaded: its text, the base scenario and the points of
/// its sweep (one point, the base itself, when it has no `[sweep]`).
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    /// Where it came from, as the user named it (or `<built-in default>`).
    pub origin: String,
    /// The folder trace paths are relative to: the file's folder.
    pub base_dir: std::path::PathBuf,
    pub text: String,
    pub base: Scenario,
    pub points: Vec<SweepPoint>,
    pub replicates: u32,
}

impl ScenarioFile {
    pub fn is_sweep(&self) -> bool {
        self.base.sweep.is_some()
    }

    /// Replaces the base seed (the CLI's `--seed`).
    pub fn set_seed(&mut self, seed: u64) {
        self.base.seed = seed;
        for p in &mut self.points {
            p.scenario.seed = seed;
        }
    }
}

/// Reads and loads a scenario file.
pub fn load(path: &std::path::Path) -> Result<ScenarioFile> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(&origin, format!("cannot read scenario file: {e}")))?;
    parse_str(&text, &origin)
}

/// Parses, resolves and validates scenario text; `origin` names it in errors.
pub fn parse_str(text: &str, origin: &str) -> Result<ScenarioFile> {
    let mut base = deserialize_str(text, origin)?;
    base.resolve();
    validate(&base, origin, "")?;
    let (points, replicates) = match &base.sweep {
        None => (
            vec![SweepPoint {
                index: 0,
                values: Vec::new(),
                scenario: base.clone(),
            }],
            1,
        ),
        Some(spec) => (sweep::expand(&base, origin, spec)?, spec.replicates),
    };
    let base_dir = std::path::Path::new(origin)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| std::path::PathBuf::from("."), |p| p.to_path_buf());
    Ok(ScenarioFile {
        base_dir,
        origin: origin.to_string(),
        text: text.to_string(),
        base,
        points,
        replicates,
    })
}

fn deserialize_str(text: &str, origin: &str) -> Result<Scenario> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(text, origin, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        toml_error(text, origin, &path, e.inner())
    })
}

/// One line: `file:line:col: key.path: message`. A missing key is named
/// as a key path (`file: hosts.count: missing required key`) since it has no
/// line of its own.
pub(crate) fn toml_error(text: &str, origin: &str, path: &str, e: &toml::de::Error) -> Error {
    let (path, msg) = split_nested(path, e.message());
    if let Some(rest) = msg.strip_prefix("missing field `") {
        if let Some(field) = rest.strip_suffix('`') {
            let key = if path.is_empty() || path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            return Error::input(format!("{origin}: {key}"), "missing required key");
        }
    }
    let mut place = origin.to_string();
    if let Some(span) = e.span() {
        let (line, col) = line_col(text, span.start);
        place = format!("{place}:{line}:{col}");
    }
    if !path.is_empty() && path != "." {
        place = format!("{place}: {path}");
    }
    Error::input(place, msg)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Checks what serde cannot: `prefix` is prepended to key paths (a sweep
/// point names itself there).
pub fn validate(s: &Scenario, origin: &str, prefix: &str) -> Result<()> {
    let err = |path: &str, msg: String| Error::input(format!("{origin}: {prefix}{path}"), msg);
    if s.name.is_empty()
        || !s
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || s.name.starts_with('.')
    {
        return Err(err(
            "name",
            format!(
                "expected a name of letters, digits, '-', '_' or '.' (it names the results folder), found \"{}\"",
                s.name
            ),
        ));
    }
    if s.duration.is_zero() {
        return Err(err("duration", "must be greater than zero".into()));
    }
    if s.calibration.as_ref().is_some_and(|c| c.trim().is_empty()) {
        return Err(err(
            "calibration",
            "expected the path of a profile written by `coldsim calibrate`".into(),
        ));
    }
    if s.hosts.count == 0 {
        return Err(err("hosts.count", "expected at least 1 host".into()));
    }
    if s.hosts.memory_mb.0 == 0 {
        return Err(err("hosts.memory_mb", "must be greater than zero".into()));
    }
    if s.hosts.cores == 0 {
        return Err(err("hosts.cores", "expected at least 1 core".into()));
    }
    if s.queue.timeout.is_zero() {
        return Err(err(
            "queue.timeout",
            "must be greater than zero (use max_len = 0 for no queue)".into(),
        ));
    }
    if let KeepAliveCfg::Predictive(p) = &s.keepalive {
        if let Err((key, msg)) = p.validate() {
            return Err(err(&format!("keepalive.{key}"), msg));
        }
    }
    if let KeepAliveCfg::Hybrid(h) = &s.keepalive {
        if let Err((key, msg)) = h.validate() {
            return Err(err(&format!("keepalive.{key}"), msg));
        }
    }
    if s.limits.max_concurrency == Some(0) {
        return Err(err(
            "limits.max_concurrency",
            "expected at least 1 (leave it out for no limit)".into(),
        ));
    }
    if s.state.load_bandwidth.is_zero() {
        return Err(err(
            "state.load_bandwidth",
            "must be greater than zero".into(),
        ));
    }
    if let Err((key, msg)) = s.snapshots.validate() {
        return Err(err(&format!("snapshots.{key}"), msg));
    }
    if let Err((key, msg)) = s.retry.validate() {
        return Err(err(&format!("retry.{key}"), msg));
    }
    if let Err((key, msg)) = s.faults.validate(s.hosts.count) {
        return Err(err(&format!("faults.{key}"), msg));
    }
    if let Err((key, msg)) = s.billing.validate() {
        return Err(err(&format!("billing.{key}"), msg));
    }
    if s.report.interval.is_some_and(|i| i.is_zero()) {
        return Err(err(
            "report.interval",
            "must be greater than zero (leave it out for no time series)".into(),
        ));
    }
    let host_mb = s.hosts.memory_mb.0;
    let mut app_names = std::collections::BTreeSet::new();
    for (i, a) in s.apps.iter().enumerate() {
        if a.name.is_empty() || !app_names.insert(a.name.as_str()) {
            return Err(err(
                &format!("apps[{i}].name"),
                format!(
                    "expected a unique, non-empty app name, found \"{}\"",
                    a.name
                ),
            ));
        }
        check_memory(a.memory_mb.0, host_mb)
            .map_err(|m| err(&format!("apps[{i}].memory_mb"), m))?;
        a.init
            .validate(true)
            .map_err(|m| err(&format!("apps[{i}].init"), m))?;
        check_app_extras(
            a.memory_mb.0,
            a.state_mb.0,
            a.snapshot_mb.map(|m| m.0),
            a.concurrency,
        )
        .map_err(|(k, m)| err(&format!("apps[{i}].{k}"), m))?;
    }
    if let Err((key, msg)) = s.workload.validate() {
        return Err(err(&format!("workload.{key}"), msg));
    }
    let own_functions = matches!(s.workload, WorkloadCfg::Functions);
    if own_functions && s.functions.is_empty() {
        return Err(err(
            "functions",
            "expected at least one [[functions]] entry".into(),
        ));
    }
    if !own_functions && !s.functions.is_empty() {
        return Err(err(
            "functions",
            "[[functions]] belong to workload kind \"functions\"; this workload defines its own functions".into(),
        ));
    }
    if !own_functions && !s.apps.is_empty() {
        return Err(err(
            "apps",
            "[[apps]] belong to workload kind \"functions\"; this workload defines its own apps"
                .into(),
        ));
    }
    let mut fn_names = std::collections::BTreeSet::new();
    for (i, f) in s.functions.iter().enumerate() {
        let at = |k: &str| format!("functions[{i}].{k}");
        if f.name.is_empty() || !fn_names.insert(f.name.as_str()) {
            return Err(err(
                &at("name"),
                format!(
                    "expected a unique, non-empty function name, found \"{}\"",
                    f.name
                ),
            ));
        }
        match &f.app {
            Some(app) => {
                if !app_names.contains(app.as_str()) {
                    return Err(err(
                        &at("app"),
                        format!("no [[apps]] entry is named \"{app}\""),
                    ));
                }
                let app_keys = [
                    ("memory_mb", f.memory_mb.is_some(), "memory"),
                    (
                        "min_instances",
                        f.min_instances.is_some(),
                        "provisioned concurrency",
                    ),
                    ("init", f.init.is_some(), "init time"),
                    ("state_mb", f.state_mb.is_some(), "state"),
                    ("snapshot_mb", f.snapshot_mb.is_some(), "the snapshot size"),
                    (
                        "concurrency",
                        f.concurrency.is_some(),
                        "per-instance concurrency",
                    ),
                ];
                if let Some((key, _, what)) = app_keys.iter().find(|k| k.1) {
                    return Err(err(
                        &at(key),
                        format!(
                            "{what} belongs to the app; set it in the [[apps]] entry \"{app}\""
                        ),
                    ));
                }
            }
            None => {
                if app_names.contains(f.name.as_str()) {
                    return Err(err(
                        &at("name"),
                        format!(
                            "\"{}\" names no app but an app of that name exists; add app = \"{}\"",
                            f.name, f.name
                        ),
                    ));
                }
                if let Some(m) = f.memory_mb {
                    check_memory(m.0, host_mb).map_err(|m| err(&at("memory_mb"), m))?;
                }
                if let Some(d) = &f.init {
                    d.validate(true).map_err(|m| err(&at("init"), m))?;
                }
                let mem = f.memory_mb.unwrap_or_else(default_memory).0;
                check_app_extras(
                    mem,
                    f.state_mb.unwrap_or_default().0,
                    f.snapshot_mb.map(|m| m.0),
                    f.concurrency.unwrap_or(1),
                )
                .map_err(|(k, m)| err(&at(k), m))?;
            }
        }
        if let Some(r) = &f.retry {
            if let Err((key, msg)) = r.validate() {
                return Err(err(&at(&format!("retry.{key}")), msg));
            }
        }
        if let Some(m) = &f.memory_used {
            m.validate().map_err(|msg| err(&at("memory_used"), msg))?;
        }
        if f.max_concurrency == Some(0) {
            return Err(err(
                &at("max_concurrency"),
                "expected at least 1 (leave it out for no limit)".into(),
            ));
        }
        f.exec.validate(false).map_err(|m| err(&at("exec"), m))?;
        if let Err((key, msg)) = f.arrivals.validate() {
            return Err(err(&at(&format!("arrivals.{key}")), msg));
        }
    }
    if let Some(sw) = &s.sweep {
        if sw.replicates == 0 {
            return Err(err("sweep.replicates", "expected at least 1".into()));
        }
    }
    Ok(())
}

/// Checks an app's state, snapshot size and concurrency; Err names the key.
fn check_app_extras(
    memory_mb: u64,
    state_mb: u64,
    snapshot_mb: Option<u64>,
    concurrency: u32,
) -> Result<(), (&'static str, String)> {
    if state_mb > memory_mb {
        return Err((
            "state_mb",
            format!("{state_mb} MB of state does not fit in the instance's {memory_mb} MB"),
        ));
    }
    if snapshot_mb == Some(0) {
        return Err(("snapshot_mb", "must be greater than zero".into()));
    }
    if concurrency == 0 {
        return Err((
            "concurrency",
            "expected at least 1 invocation per instance".into(),
        ));
    }
    Ok(())
}

fn check_memory(mb: u64, host_mb: u64) -> Result<(), String> {
    if mb == 0 {
        return Err("must be greater than zero".into());
    }
    if mb > host_mb {
        return Err(format!(
            "{mb} MB is larger than every host (hosts.memory_mb = {host_mb})"
        ));
    }
    Ok(())
}

/// The built-in default scenario that `coldsim` runs with no arguments.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

/// The fully resolved scenario as TOML, every default filled in.
pub fn to_toml(s: &Scenario) -> String {
    toml::to_string_pretty(s).unwrap_or_else(|e| format!("# cannot print scenario: {e}\n"))
}
