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
//! Every decision goes through `Placement::place_near` with a snapshot
//! index in which each of the 1,000 apps is cached on 8 random hosts, so
//! `snapshot-locality` (first-fit fallback) is measured as a platform with
//! snapshots on calls it; for the other policies `place_near` is `place`.
//!
//! Run: `cargo bench --bench placement`.

use coldsim::engine::{RngStream, Streams};
use coldsim::model::{AppId, HostId};
use coldsim::platform::SnapshotCreate;
use coldsim::platform::hosts::Hosts;
use coldsim::platform::{SnapshotConfig, Snapshots, StartKind};
use coldsim::policy::placement::{self, PlacementCfg, consistent_hash, random, snapshot_locality};
use coldsim::policy::snapshot_cache::lru::SnapshotLru;
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
            h.alloc(HostId(host), mb);
            used += mb;
        }
    }
    h
}

/// A snapshot index over `n` hosts: each of 1,000 apps cached on 8 random
/// hosts (caches large enough to hold them all).
fn snapshots(n: usize) -> Snapshots {
    let mut rng = RngStream::from_seed_u64(7 + n as u64);
    let mut s = Snapshots::new(
        SnapshotConfig {
            create: SnapshotCreate::AtDeploy,
            remote: true,
            cache_mb: u64::MAX / 4,
            app_snapshot_mb: (0..1000).map(|a| SIZES_MB[a % SIZES_MB.len()]).collect(),
            slowdown_ppm: 1_000_000,
            slowdown_invocations: 0,
        },
        n,
        Box::new(SnapshotLru),
    );
    for app in 0..1000u32 {
        for _ in 0..8 {
            let host = (rng.next_u64() % n as u64) as u32;
            s.ready(AppId(app), HostId(host), StartKind::RemoteRestore, false);
        }
    }
    s
}

fn policies() -> Vec<(&'static str, PlacementCfg)> {
    vec![
        ("first-fit", PlacementCfg::FirstFit(Default::default())),
        ("best-fit", PlacementCfg::BestFit(Default::default())),
        ("worst-fit", PlacementCfg::WorstFit(Default::default())),
        ("round-robin", PlacementCfg::RoundRobin(Default::default())),
        ("random", PlacementCfg::Random(random::Config { tries: 8 })),
        ("power-of-two", PlacementCfg::PowerOfTwo(Default::default())),
        (
            "consistent-hash",
            PlacementCfg::ConsistentHash(consistent_hash::Config {
                epsilon: 0.25,
                probes: 32,
            }),
        ),
        (
            "snapshot-locality",
            PlacementCfg::SnapshotLocality(snapshot_locality::Config {
                fallback: Box::default(),
                probes: 64,
            }),
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
        let snaps = snapshots(n);
        let streams = Streams::new(1, 0);
        for (name, cfg) in policies() {
            let mut hosts = base.clone();
            let mut p = cfg.build(&placement::Ctx {
                streams: &streams,
                hosts: n,
            });
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    for &(app, mb) in &apps {
                        if let Some(h) = p.place_near(&hosts, &snaps, AppId(app), mb) {
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
        let snaps = snapshots(n);
        let streams = Streams::new(1, 0);
        for (name, cfg) in policies() {
            let mut p = cfg.build(&placement::Ctx {
                streams: &streams,
                hosts: n,
            });
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    for &(app, mb) in &apps {
                        black_box(p.place_near(&hosts, &snaps, AppId(app), mb));
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, placement, decide);
criterion_main!(benches);
