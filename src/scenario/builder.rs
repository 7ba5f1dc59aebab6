//! Scenarios built in Rust, without TOML: [`Scenario::builder`] and typed
//! setters, validated by [`ScenarioBuilder::build`] exactly as a file is.
//!
//! ```
//! use coldsim::dist::Dist;
//! use coldsim::policy::keepalive::KeepAliveCfg;
//! use coldsim::scenario::{FunctionCfg, Scenario};
//! use coldsim::time::{Rate, SimDuration};
//! use coldsim::workload::ArrivalsCfg;
//!
//! let scenario = Scenario::builder("demo")
//!     .duration(SimDuration::from_secs(3600))
//!     .hosts(4, 8192)
//!     .keepalive(KeepAliveCfg::fixed(SimDuration::from_secs(60)))
//!     .function(FunctionCfg::new(
//!         "api",
//!         Dist::Exponential { mean: SimDuration::from_millis(50) },
//!         ArrivalsCfg::Poisson { rate: Rate(0.05) },
//!     ))
//!     .build()?;
//! let result = coldsim::sim::run_scenario(&scenario, 0)?;
//! let c = &result.metrics.counters;
//! assert_eq!(c.arrivals, c.completed);
//! println!("{} of {} invocations were cold", c.cold, c.completed);
//! # Ok::<(), coldsim::Error>(())
//! ```

use super::{AppCfg, FunctionCfg, Hosts, QueueCfg, RetryCfg, Scenario};
use crate::dist::Dist;
use crate::error::Result;
use crate::faults::FaultsCfg;
use crate::metrics::billing::BillingCfg;
use crate::metrics::timeseries::ReportCfg;
use crate::platform::WarmSelect;
use crate::policy::eviction::EvictionCfg;
use crate::policy::keepalive::KeepAliveCfg;
use crate::policy::placement::PlacementCfg;
use crate::time::{MemoryMb, SimDuration};
use crate::workload::{ArrivalsCfg, WorkloadCfg};

impl Default for Scenario {
    /// A scenario named `scenario`, one hour long, with every section at
    /// its default and no functions (add some before running it).
    fn default() -> Self {
        Scenario {
            name: "scenario".into(),
            description: String::new(),
            seed: 1,
            duration: SimDuration::from_secs(3600),
            calibration: None,
            hosts: Hosts::default(),
            queue: QueueCfg::default(),
            placement: PlacementCfg::default(),
            keepalive: KeepAliveCfg::default(),
            eviction: EvictionCfg::default(),
            warm: WarmSelect::default(),
            limits: Default::default(),
            state: Default::default(),
            snapshots: Default::default(),
            retry: RetryCfg::default(),
            faults: FaultsCfg::default(),
            billing: BillingCfg::default(),
            report: ReportCfg::default(),
            workload: WorkloadCfg::default(),
            apps: Vec::new(),
            functions: Vec::new(),
            sweep: None,
        }
    }
}

impl Scenario {
    /// A builder for a scenario named `name` (it names the results
    /// folder), starting from [`Scenario::default`].
    pub fn builder(name: &str) -> ScenarioBuilder {
        ScenarioBuilder {
            s: Scenario {
                name: name.to_string(),
                ..Scenario::default()
            },
        }
    }
}

/// Builds a [`Scenario`] with typed setters; see the module doc.
#[derive(Clone, Debug)]
#[must_use]
pub struct ScenarioBuilder {
    s: Scenario,
}

impl ScenarioBuilder {
    /// The base seed of every random stream (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.s.seed = seed;
        self
    }

    /// Arrivals are generated in `[0, duration)` (default 1 hour).
    pub fn duration(mut self, duration: SimDuration) -> Self {
        self.s.duration = duration;
        self
    }

    /// `count` identical hosts of `memory_mb` MB each.
    pub fn hosts(mut self, count: u32, memory_mb: u64) -> Self {
        self.s.hosts.count = count;
        self.s.hosts.memory_mb = MemoryMb(memory_mb);
        self
    }

    /// Cores per host (for CPU utilisation).
    pub fn cores(mut self, cores: u32) -> Self {
        self.s.hosts.cores = cores;
        self
    }

    /// The front-end queue: its length bound and timeout.
    pub fn queue(mut self, max_len: u32, timeout: SimDuration) -> Self {
        self.s.queue = QueueCfg { max_len, timeout };
        self
    }

    pub fn placement(mut self, placement: PlacementCfg) -> Self {
        self.s.placement = placement;
        self
    }

    pub fn keepalive(mut self, keepalive: KeepAliveCfg) -> Self {
        self.s.keepalive = keepalive;
        self
    }

    pub fn eviction(mut self, eviction: EvictionCfg) -> Self {
        self.s.eviction = eviction;
        self
    }

    /// Where invocations come from (default: the functions added with
    /// [`ScenarioBuilder::function`]).
    pub fn workload(mut self, workload: WorkloadCfg) -> Self {
        self.s.workload = workload;
        self
    }

    /// Adds an app (the unit that is loaded, scaled and kept alive).
    pub fn app(mut self, app: AppCfg) -> Self {
        self.s.apps.push(app);
        self
    }

    /// Adds a function.
    pub fn function(mut self, function: FunctionCfg) -> Self {
        self.s.functions.push(function);
        self
    }

    /// Sets anything else: `with(|s| s.snapshots.enabled = true)`.
    pub fn with(mut self, f: impl FnOnce(&mut Scenario)) -> Self {
        f(&mut self.s);
        self
    }

    /// The scenario, with its defaults filled in and validated as a file
    /// is (every mistake reported, named by its key path).
    pub fn build(self) -> Result<Scenario> {
        let mut s = self.s;
        s.resolve();
        super::validate(&s, "scenario", "")?;
        Ok(s)
    }
}

impl FunctionCfg {
    /// A function of its own app (default memory and init time) with these
    /// execution times and arrivals; set other fields on the result.
    pub fn new(name: &str, exec: Dist, arrivals: ArrivalsCfg) -> FunctionCfg {
        FunctionCfg {
            name: name.to_string(),
            app: None,
            memory_mb: None,
            init: None,
            min_instances: None,
            state_mb: None,
            snapshot_mb: None,
            concurrency: None,
            max_concurrency: None,
            retry: None,
            memory_used: None,
            exec,
            arrivals,
        }
    }

    /// The same function in app `app` (declared with
    /// [`ScenarioBuilder::app`]).
    pub fn in_app(mut self, app: &str) -> FunctionCfg {
        self.app = Some(app.to_string());
        self
    }
}

impl AppCfg {
    /// An app of `memory_mb` MB with the default init time (the Huawei
    /// cold-start fit) and everything else at its default.
    pub fn new(name: &str, memory_mb: u64) -> AppCfg {
        AppCfg {
            name: name.to_string(),
            memory_mb: MemoryMb(memory_mb),
            init: Dist::huawei_cold_start(),
            min_instances: 0,
            state_mb: MemoryMb(0),
            snapshot_mb: None,
            concurrency: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Rate;

    #[test]
    fn a_built_scenario_prints_and_parses_back_to_itself() {
        let s = Scenario::builder("b")
            .hosts(2, 4096)
            .app(AppCfg::new("web", 512))
            .function(
                FunctionCfg::new(
                    "f",
                    Dist::Constant {
                        value: SimDuration::from_millis(5),
                    },
                    ArrivalsCfg::Poisson { rate: Rate(2.0) },
                )
                .in_app("web"),
            )
            .build()
            .unwrap();
        let text = super::super::to_toml(&s);
        let back = super::super::parse_str(&text, "b.toml").unwrap().base;
        assert_eq!(back, s);
    }

    #[test]
    fn a_bad_build_names_every_mistake() {
        let e = Scenario::builder("")
            .hosts(0, 1024)
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("scenario: name:"), "{e}");
        assert!(e.contains("scenario: hosts.count:"), "{e}");
        assert!(e.contains("scenario: functions:"), "{e}");
        assert_eq!(e.lines().count(), 3, "{e}");
    }
}
