//! Synthetic populations (`[workload] kind = "population"`): N functions,
//! each its own app, with Zipf popularity over a total rate, and execution
//! times and memory sizes drawn per function from given distributions.
//!
//! How a population is built:
//!
//! * Function i (1-based) is named `f` followed by i zero-padded to the
//!   width of N (`f01`..`f20` for N = 20, `f0001`..`f5000` for N = 5000) and
//!   is its own app of the same name.
//! * Popularity is Zipf: function i gets the share `i^-zipf / H` of
//!   `total_rate`, where `H = sum_{j=1..N} j^-zipf`. Azure Functions 2019
//!   popularity spans 8 orders of magnitude, a few functions taking most
//!   invocations (Shahrad et al., "Serverless in the Wild", ATC 2020,
//!   Section 3); `zipf = 0` makes every function equally popular.
//! * Every function has the arrival process `arrivals` (a template) with its
//!   rate rescaled to the function's share: `rate_scale = total_rate x share
//!   / m`, where m is the template's expected rate over the run `[0,
//!   duration)` ([`Process::mean_rate_until`]; the long-run rate for every
//!   kind but `diurnal` over a fraction of a period and `piecewise`). So
//!   `total_rate` is the expected number of invocations per second over the
//!   run, whatever the template, and the template's own rate does not
//!   matter, only its shape (see [`super::process`] for what each kind keeps
//!   when scaled).
//! * Each function draws, in this order, its mean execution time m_i from
//!   `exec_mean` and its app's memory from `memory` (capped at
//!   `hosts.memory_mb`); its invocations then run for lognormal times of
//!   mean m_i and shape `exec_sigma` (mu = ln m_i - sigma^2 / 2). The app's
//!   cold-start time is `init`.
//!
//! **Stable draws.** A function's own draws come from the stream
//! `streams.named("population", "f<i>")`, and its arrivals and execution
//! times from the streams of the name `f<i>` (the number without padding),
//! so function i has the same memory, mean execution time and sequence of
//! execution times whatever N is (`f042` of a 100-function population is
//! `f0042` of a 1000-function one). Only its rate changes with N, through
//! the Zipf normalisation H.

use serde::{Deserialize, Serialize};

use super::ArrivalsCfg;
use super::Context;
use super::process::Process;
use super::synthetic::FnSource;
use crate::dist::{Dist, MemDist, Sampler};
use crate::engine::Streams;
use crate::error::{Error, Result};
use crate::model::{AppId, AppInfo, FnInfo, FunctionTable};
use crate::time::{Rate, SimDuration, SimTime};

/// `[workload] kind = "population"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Number of functions, at least 1.
    pub functions: u32,
    /// Expected invocations per second of the whole population over the
    /// run.
    pub total_rate: Rate,
    /// Zipf exponent of popularity (>= 0). Default 1.
    #[serde(default = "Config::default_zipf")]
    pub zipf: f64,
    /// The arrival process of every function; its shape is kept and its
    /// rate rescaled to the function's share. Default Poisson.
    #[serde(default = "Config::default_arrivals")]
    pub arrivals: ArrivalsCfg,
    /// Distribution of the functions' mean execution times. Default
    /// lognormal with median 1 s and sigma 2.34: half of the Azure 2019
    /// functions average under about 1 s and about 96% under 60 s (Shahrad
    /// et al., ATC 2020, Figure 7); with these parameters P(mean < 60 s) =
    /// Phi(ln 60 / 2.34) = 0.96.
    #[serde(default = "Config::default_exec_mean")]
    pub exec_mean: Dist,
    /// Shape (sigma of the underlying normal) of each function's lognormal
    /// execution time around its mean. Default 1.
    #[serde(default = "Config::default_exec_sigma")]
    pub exec_sigma: f64,
    /// Distribution of the apps' memory sizes. Default: the Burr fit to
    /// Azure Functions app memory (c 11.652, k 0.221, lambda 107.083 MB).
    #[serde(default)]
    pub memory: MemDist,
    /// Cold-start time of every app. Default: the Huawei lognormal fit.
    #[serde(default = "Dist::huawei_cold_start")]
    pub init: Dist,
}

impl Config {
    fn default_zipf() -> f64 {
        1.0
    }
    fn default_arrivals() -> ArrivalsCfg {
        ArrivalsCfg::Poisson { rate: Rate(1.0) }
    }
    fn default_exec_mean() -> Dist {
        Dist::Lognormal {
            mean: None,
            sd: None,
            median: Some(SimDuration::from_secs(1)),
            sigma: Some(2.34),
        }
    }
    fn default_exec_sigma() -> f64 {
        1.0
    }

    /// Checks what serde cannot; Err(key under `workload.`, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        let bad = |k: &str, m: String| Err((k.to_string(), m));
        if self.functions == 0 {
            return bad("functions", "expected at least 1 function".into());
        }
        let r = self.total_rate.per_sec();
        if !(r.is_finite() && r > 0.0) {
            return bad("total_rate", "must be greater than zero".into());
        }
        if !(self.zipf.is_finite() && self.zipf >= 0.0) {
            return bad(
                "zipf",
                format!(
                    "expected a finite exponent >= 0 (0: equal popularity), found {}",
                    self.zipf
                ),
            );
        }
        if let Err((k, m)) = self.arrivals.check() {
            return bad(&format!("arrivals.{k}"), m);
        }
        self.exec_mean
            .validate(false)
            .map_err(|m| ("exec_mean".to_string(), m))?;
        if !(self.exec_sigma.is_finite() && self.exec_sigma >= 0.0) {
            return bad(
                "exec_sigma",
                format!("expected a finite number >= 0, found {}", self.exec_sigma),
            );
        }
        self.memory
            .validate()
            .map_err(|m| ("memory".to_string(), m))?;
        self.init
            .validate(true)
            .map_err(|m| ("init".to_string(), m))?;
        Ok(())
    }

    /// The popularity shares of the functions, in order (they sum to 1).
    pub fn shares(&self) -> Vec<f64> {
        let w: Vec<f64> = (1..=self.functions)
            .map(|i| (i as f64).powf(-self.zipf))
            .collect();
        let h: f64 = w.iter().sum();
        w.into_iter().map(|x| x / h).collect()
    }

    /// The table name of function `i` (1-based): `f` and `i` zero-padded
    /// to the width of N.
    pub fn function_name(&self, i: u32) -> String {
        let width = self.functions.to_string().len();
        format!("f{i:0width$}")
    }
}

/// The function table and sources of a population workload.
pub fn build(
    cfg: &Config,
    run: &super::RunBounds,
    ctx: &Context,
    streams: &Streams,
) -> Result<(FunctionTable, Vec<FnSource>)> {
    let horizon = SimTime(run.duration.as_nanos());
    let template = Process::new_at(&cfg.arrivals, 1.0, ctx, "workload.arrivals")?;
    let base = template.mean_rate_until(horizon);
    if !(base.is_finite() && base > 0.0) {
        return Err(Error::input(
            "workload.arrivals",
            format!(
                "the template has an expected rate of {base}/s over the run [0, {}); expected > 0",
                run.duration
            ),
        ));
    }
    let mean_sampler = cfg
        .exec_mean
        .sampler()
        .map_err(|m| Error::input("workload.exec_mean", m))?;
    let sigma = cfg.exec_sigma;
    let host_mb = run.host_memory_mb;
    let total = cfg.total_rate.per_sec();
    let n = cfg.functions as usize;
    let mut table = FunctionTable {
        functions: Vec::with_capacity(n),
        apps: Vec::with_capacity(n),
    };
    let mut sources = Vec::with_capacity(n);
    for (idx, share) in cfg.shares().into_iter().enumerate() {
        let i = idx as u32 + 1;
        let name = cfg.function_name(i);
        let key = format!("f{i}");
        let mut rng = streams.named("population", &key);
        // At least 1 ns, so that its logarithm is finite.
        let mean_s = mean_sampler.sample_secs(&mut rng).max(1e-9);
        let memory_mb = cfg.memory.sample(&mut rng).clamp(1, host_mb);
        let mu = mean_s.ln() - sigma * sigma / 2.0;
        let d = rand_distr::LogNormal::new(mu, sigma)
            .map_err(|e| Error::input("workload.exec_sigma", e.to_string()))?;
        let exec = Sampler::Lognormal { d, mu, sigma };
        let process = template.scaled(total * share / base);
        sources.push(FnSource::from_parts(&key, process, exec, streams));
        table.functions.push(FnInfo {
            name: name.clone(),
            app: AppId(idx as u32),
            max_concurrency: None,
        });
        table.apps.push(AppInfo {
            min_instances: 0,
            name,
            memory_mb,
            init: cfg.init.clone(),
            state_mb: 0,
            snapshot_mb: None,
            concurrency: 1,
        });
    }
    Ok((table, sources))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(n: u32, zipf: f64) -> Config {
        Config {
            functions: n,
            total_rate: Rate(10.0),
            zipf,
            arrivals: Config::default_arrivals(),
            exec_mean: Config::default_exec_mean(),
            exec_sigma: 1.0,
            memory: MemDist::default(),
            init: Dist::huawei_cold_start(),
        }
    }

    #[test]
    fn names_are_padded_to_the_width_of_n() {
        assert_eq!(cfg(1, 1.0).function_name(1), "f1");
        assert_eq!(cfg(20, 1.0).function_name(3), "f03");
        assert_eq!(cfg(5000, 1.0).function_name(42), "f0042");
    }

    #[test]
    fn shares_are_zipf_and_sum_to_one() {
        let s = cfg(4, 1.0).shares();
        let h = 1.0 + 0.5 + 1.0 / 3.0 + 0.25;
        for (i, x) in s.iter().enumerate() {
            assert!((x - 1.0 / ((i + 1) as f64 * h)).abs() < 1e-15);
        }
        let u = cfg(5, 0.0).shares();
        assert!(u.iter().all(|x| (x - 0.2).abs() < 1e-15));
    }

    #[test]
    fn default_exec_mean_puts_96_percent_under_a_minute() {
        // P(X < 60 s) = Phi(ln 60 / 2.34), checked by sampling.
        let s = Config::default_exec_mean().sampler().unwrap();
        let mut rng = crate::engine::RngStream::from_seed_u64(9);
        let n = 100_000;
        let under = (0..n).filter(|_| s.sample_secs(&mut rng) < 60.0).count();
        let p = under as f64 / n as f64;
        assert!((p - 0.96).abs() < 0.005, "{p}");
    }
}
