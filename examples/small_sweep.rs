//! A small study from Rust: the same function under five fixed keep-alive
//! times, three replicates each, in parallel; prints the cold-start share
//! against the idle memory each keep-alive costs (mean over replicates).
//!
//! Run: `cargo run --release --example small_sweep`

use coldsim::dist::Dist;
use coldsim::policy::keepalive::KeepAliveCfg;
use coldsim::scenario::{FunctionCfg, Scenario};
use coldsim::time::{Rate, SimDuration};
use coldsim::workload::ArrivalsCfg;
use rayon::prelude::*;

fn main() -> coldsim::Result<()> {
    let minutes = [0u64, 1, 5, 10, 30];
    let replicates = 3u64;
    let runs: Vec<(u64, u64)> = minutes
        .iter()
        .flat_map(|&m| (0..replicates).map(move |r| (m, r)))
        .collect();
    let results = runs
        .par_iter()
        .map(|&(m, rep)| {
            let s = Scenario::builder(&format!("ttl-{m}m"))
                .duration(SimDuration::from_secs(24 * 3600))
                .keepalive(KeepAliveCfg::fixed(SimDuration::from_secs(m * 60)))
                .function(FunctionCfg::new(
                    "f",
                    Dist::Exponential {
                        mean: SimDuration::from_millis(200),
                    },
                    // One call every 4 minutes on average.
                    ArrivalsCfg::Poisson {
                        rate: Rate(1.0 / 240.0),
                    },
                ))
                .build()?;
            let r = coldsim::sim::run_scenario(&s, rep)?;
            let c = &r.metrics.counters;
            let cold = c.cold as f64 / c.completed.max(1) as f64;
            let idle_gb_s = coldsim::metrics::Metrics::gb_s(r.metrics.integrals.idle_mb);
            Ok((m, cold, idle_gb_s))
        })
        .collect::<coldsim::Result<Vec<_>>>()?;
    println!("keep-alive  cold share  idle GB-s   (exp(-l T) for Poisson arrivals)");
    for &m in &minutes {
        let rows: Vec<_> = results.iter().filter(|r| r.0 == m).collect();
        let n = rows.len() as f64;
        let cold = rows.iter().map(|r| r.1).sum::<f64>() / n;
        let idle = rows.iter().map(|r| r.2).sum::<f64>() / n;
        let oracle = (-(m as f64 * 60.0) / 240.0).exp();
        println!("{m:>7} min  {cold:>9.3}   {idle:>9.1}   {oracle:.3}");
    }
    Ok(())
}
