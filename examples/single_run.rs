//! One simulation from Rust, without a scenario file: a bursty API in front
//! of a steady timer job, on two hosts, with a 5-minute keep-alive.
//!
//! Run: `cargo run --release --example single_run`

use coldsim::dist::Dist;
use coldsim::policy::keepalive::KeepAliveCfg;
use coldsim::scenario::{AppCfg, FunctionCfg, Scenario};
use coldsim::time::{Rate, SimDuration};
use coldsim::workload::ArrivalsCfg;

fn main() -> coldsim::Result<()> {
    let ms = SimDuration::from_millis;
    let scenario = Scenario::builder("single-run")
        .duration(SimDuration::from_secs(6 * 3600))
        .hosts(2, 8192)
        .keepalive(KeepAliveCfg::fixed(SimDuration::from_secs(300)))
        .app(AppCfg::new("shop", 512))
        .function(
            FunctionCfg::new(
                "checkout",
                Dist::Lognormal {
                    mean: Some(ms(120)),
                    sd: Some(ms(80)),
                    median: None,
                    sigma: None,
                },
                ArrivalsCfg::Mmpp {
                    rates: vec![Rate(2.0), Rate(0.01)],
                    mean_sojourn: vec![SimDuration::from_secs(120), SimDuration::from_secs(1800)],
                },
            )
            .in_app("shop"),
        )
        .function(FunctionCfg::new(
            "nightly-report",
            Dist::Constant { value: ms(4000) },
            ArrivalsCfg::Periodic {
                period: SimDuration::from_secs(900),
                jitter: SimDuration::ZERO,
                phase: SimDuration::ZERO,
            },
        ))
        .build()?;

    let r = coldsim::sim::run_scenario(&scenario, 0)?;
    let c = &r.metrics.counters;
    let latency = &r.metrics.overall.latency;
    println!("invocations  {}", c.arrivals);
    println!(
        "cold starts  {} ({:.2}% of completed)",
        c.cold,
        100.0 * c.cold as f64 / c.completed.max(1) as f64
    );
    println!(
        "latency ms   p50 {:.1}  p99 {:.1}  max {:.1}",
        latency.pct_ms(50.0),
        latency.pct_ms(99.0),
        latency.max_ms()
    );
    for (f, m) in r.table.functions.iter().zip(&r.metrics.per_fn) {
        println!(
            "  {:<16} {:>6} calls, {:>4} cold",
            f.name, m.counts.completed, m.counts.cold
        );
    }
    Ok(())
}
