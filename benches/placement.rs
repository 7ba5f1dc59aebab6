//! Placement decision cost: every policy at 10, 1,000 and 100,000 hosts.
//!
//! Hosts of 32 GiB are pre-filled with instances of 128 MB to 2 GiB to a
//! random occupancy between 40% and 100% of each host (about 70% on
//! average). Each iteration makes 1,000 decisions for apps of those sizes;
//! each decision places an instance (`Placement::place`, then
//! `Hosts::alloc`) and releases it again (`mark_idle`, `release_idle`), so
//! the table stays in a steady state and the host table's index updates are
//! counted. Throughput is in decisions per second; the time of one decision
//! is the reported time divided by 1,000.
//!
//! The group `placement_decide` times the decisions alone on the same
//! tables, left unchanged (stateful policies still advance their cursor or
//! random stream).
//!
//! Run: `cargo bench --bench placement`.

use coldsim::engine::{RngStream, Streams};
use coldsim::platform::hosts::Hosts;
use coldsim::policy;
use coldsim::scenario::PlacementCfg;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

const HOST_MB: u64 = 32 * 1024;
const SIZES_MB: [u64; 5] = [128, 256, 512, 1024, 2048];
const DECISIONS: usize = 1000;

/// `n` hosts filled to a random 40-100% each.
fn filled(n: usize) -> Hosts {
    let mut rng = RngStream::from_seed_u64(n as u64);
    let mut h = Hosts::new(n, HOST_MB);
    for host in 0..n as u32 {
        let target = (HOST_MB as f64 * (0.4 + 0.6 * rng.uniform())) as u64;
        let mut used = 0;
        loop {
            let mb = SIZES_MB[(rng.next_u64() % SIZES_MB.len() as u64) as usize];
            if used + mb > target {
                break;
            }
            h.alloc(host, mb);
            used += mb;
        }
    }
    h
}

fn policies() -> Vec<(&'static str, PlacementCfg)> {
    vec![
        ("first-fit", PlacementCfg::FirstFit),
        ("best-fit", PlacementCfg::BestFit),
        ("worst-fit", PlacementCfg::WorstFit),
        ("round-robin", PlacementCfg::RoundRobin),
        ("random", PlacementCfg::Random { tries: 8 }),
        ("power-of-two", PlacementCfg::PowerOfTwo),
        (
            "consistent-hash",
            PlacementCfg::ConsistentHash {
                epsilon: 0.25,
                probes: 32,
            },
        ),
    ]
}

/// The apps of the decisions: (app, size), 1,000 apps.
fn apps() -> Vec<(u32, u64)> {
    let mut rng = RngStream::from_seed_u64(99);
    (0..DECISIONS)
        .map(|_| {
            let app = (rng.next_u64() % 1000) as u32;
            (app, SIZES_MB[app as usize % SIZES_MB.len()])
        })
        .collect()
}

/// Decisions, each followed by the allocation and release it implies.
fn placement(c: &mut Criterion) {
    let mut g = c.benchmark_group("placement");
    g.throughput(Throughput::Elements(DECISIONS as u64));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(2));
    let apps = apps();
    for n in [10usize, 1_000, 100_000] {
        let base = filled(n);
        let streams = Streams::new(1, 0);
        for (name, cfg) in policies() {
            let mut hosts = base.clone();
            let mut p = policy::placement(&cfg, &streams, n);
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    for &(app, mb) in &apps {
                        if let Some(h) = p.place(&hosts, app, mb) {
                            hosts.alloc(h, mb);
                            hosts.mark_idle(h, mb);
                            hosts.release_idle(h, mb);
                            black_box(h);
                        }
                    }
                })
            });
        }
    }
    g.finish();
}

/// Decisions alone on an unchanging table.
fn decide(c: &mut Criterion) {
    let mut g = c.benchmark_group("placement_decide");
    g.throughput(Throughput::Elements(DECISIONS as u64));
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(2));
    let apps = apps();
    for n in [10usize, 1_000, 100_000] {
        let hosts = filled(n);
        let streams = Streams::new(1, 0);
        for (name, cfg) in policies() {
            let mut p = policy::placement(&cfg, &streams, n);
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    for &(app, mb) in &apps {
                        black_box(p.place(&hosts, app, mb));
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, placement, decide);
criterion_main!(benches);
