//! The scenario's `[[apps]]` and `[[functions]]`, and `[retry]`.

use serde::{Deserialize, Serialize};

use super::Scenario;
use crate::dist::{Dist, MemDist};
use crate::model::{AppId, AppInfo, FnInfo, FunctionTable};
use crate::platform::RetryPolicy;
use crate::time::{MemoryMb, SimDuration};
use crate::workload::ArrivalsCfg;

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

    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_attempts: self.max_attempts,
            base: self.backoff,
            multiplier: self.multiplier,
            max: self.max_backoff,
        }
    }

    fn check(&self) -> Result<(), (String, String)> {
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
pub(crate) fn default_memory() -> MemoryMb {
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

    /// The functions and apps of a `functions` workload: declared apps
    /// first, then one implicit app per function that names none (named
    /// after the function). Expects a validated scenario (every `app` names
    /// an `[[apps]]` entry).
    pub fn function_table(&self) -> FunctionTable {
        let mut apps: Vec<AppInfo> = self
            .apps
            .iter()
            .map(|a| AppInfo {
                name: a.name.clone(),
                memory_mb: a.memory_mb.0,
                init: a.init.clone(),
                min_instances: a.min_instances,
                state_mb: a.state_mb.0,
                snapshot_mb: a.snapshot_mb.map(|m| m.0),
                concurrency: a.concurrency,
            })
            .collect();
        let mut functions = Vec::with_capacity(self.functions.len());
        for f in &self.functions {
            let app = match &f.app {
                Some(name) => self.apps.iter().position(|a| &a.name == name).unwrap_or(0) as u32,
                None => {
                    apps.push(AppInfo {
                        name: f.name.clone(),
                        memory_mb: f.memory_mb.unwrap_or_else(default_memory).0,
                        init: f.init.clone().unwrap_or_else(Dist::huawei_cold_start),
                        min_instances: f.min_instances.unwrap_or(0),
                        state_mb: f.state_mb.map_or(0, |m| m.0),
                        snapshot_mb: f.snapshot_mb.map(|m| m.0),
                        concurrency: f.concurrency.unwrap_or(1),
                    });
                    apps.len() as u32 - 1
                }
            };
            functions.push(FnInfo {
                name: f.name.clone(),
                app: AppId(app),
                max_concurrency: f.max_concurrency,
            });
        }
        FunctionTable { functions, apps }
    }
}

impl crate::cfg::Validate for RetryCfg {
    fn validate(&self, c: &mut crate::cfg::Check) {
        if let Err((key, msg)) = self.check() {
            c.err(&key, msg);
        }
    }
}
