//! Whole-simulation throughput in simulated invocations per second
//! (`Throughput::Elements` = invocations of one run).
//!
//! (a) scenarios/bench-single.toml: one function, the SimFaaS reference
//!     setting, 10^6 simulated seconds (about 900,000 invocations).
//! (b) 1,000 functions in 250 apps on 100 hosts, about 1 million invocations.
//!
//! Run: `cargo bench --bench simulate`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;

mod common;

fn simulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.warm_up_time(Duration::from_secs(2));

    let single = common::bench_single();
    let n = coldsim::sim::run_scenario(&single, 0)
        .unwrap()
        .metrics
        .counters
        .arrivals;
    g.throughput(Throughput::Elements(n));
    g.bench_function("bench-single", |b| {
        b.iter(|| coldsim::sim::run_scenario(&single, 0).unwrap().events)
    });

    let many = common::thousand_functions(2000);
    let n = coldsim::sim::run_scenario(&many, 0)
        .unwrap()
        .metrics
        .counters
        .arrivals;
    g.throughput(Throughput::Elements(n));
    g.bench_function("1000fn-100hosts", |b| {
        b.iter(|| coldsim::sim::run_scenario(&many, 0).unwrap().events)
    });
    g.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
