//! The scenario file: the TOML schema that assembles the components'
//! configurations, defaults, validation with precise errors, and sweep
//! grids.
//!
//! The schema owns only what is the scenario's own (its name, duration,
//! hosts, apps and functions); every other table is a component's
//! configuration, imported from it (`[placement]` from
//! [`crate::policy::placement`], `[workload]` from [`crate::workload`],
//! `[faults]` from [`crate::faults`], ...), never the reverse. Nothing
//! below the `run` layer sees a [`Scenario`]: `run` turns it into what each
//! component needs.
//!
//! Loading goes in three steps. [`load`] parses the text (a syntax error
//! names line and column), deserializes it with key paths tracked (a wrong
//! type names `functions[2].memory_mb` and the line), and then [`validate`]s
//! what serde cannot see: positive durations, known app names, a function
//! that fits on a host; every independent mistake is reported, one line
//! each. Defaults are filled in by [`Scenario::resolve`], so that `coldsim
//! check` can print every value a run will use. A `[sweep]` table expands
//! into one scenario per point of its grid (see [`sweep`]).

pub mod apps;
pub mod builder;
pub mod sections;
pub mod state;
pub mod sweep;
mod validate;

use serde::{Deserialize, Serialize};

pub use apps::{AppCfg, FunctionCfg, RetryCfg};
pub use builder::ScenarioBuilder;
pub use sections::{Hosts, QueueCfg};
pub use state::{LimitsCfg, SnapshotsCfg, StateCfg};
pub use sweep::{SweepPoint, SweepSpec};
pub use validate::validate;

use crate::cfg::toml_error;
use crate::error::{Error, Result};
use crate::faults::FaultsCfg;
use crate::metrics::billing::BillingCfg;
use crate::metrics::timeseries::ReportCfg;
use crate::platform::WarmSelect;
use crate::policy::eviction::EvictionCfg;
use crate::policy::keepalive::KeepAliveCfg;
use crate::policy::placement::PlacementCfg;
use crate::time::SimDuration;
use crate::workload::WorkloadCfg;

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
    /// snapshot take and restore keys (see `sim::costs`).
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
    pub warm: WarmSelect,
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
    #[serde(default, skip_serializing_if = "FaultsCfg::is_empty")]
    pub faults: FaultsCfg,
    /// Prices of the user's bill and the provider's cost.
    #[serde(default)]
    pub billing: BillingCfg,
    /// Extra outputs of each run (timeseries.csv).
    #[serde(default, skip_serializing_if = "ReportCfg::is_default")]
    pub report: ReportCfg,
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

/// The built-in default scenario that `coldsim` runs with no arguments.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.toml");

/// The fully resolved scenario as TOML, every default filled in.
pub fn to_toml(s: &Scenario) -> String {
    toml::to_string_pretty(s).unwrap_or_else(|e| format!("# cannot print scenario: {e}\n"))
}
