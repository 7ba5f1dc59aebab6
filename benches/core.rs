//! The platform core's own cost, the event queue and whole simulations, in
//! one place: the overhead the real executor pays per invocation for its
//! decisions, and the simulator's speed, tracked side by side.
//!
//! * `core_invocation/warm/N` and `core_invocation/cold/N`: the platform
//!   core alone (no event queue, no metrics, no processes) handling whole
//!   invocations on N = 10 and 10,000 hosts of 32 GiB, half of which are
//!   filled by provisioned instances (1 GiB each) so placement has full
//!   hosts to pass over. One app per host (10 and 10,000 apps of 128 MB to
//!   2 GiB), called round robin. First-fit placement and LRU eviction,
//!   the scenario defaults. Throughput is in invocations per second.
//!   - warm: a fixed 10-minute keep-alive, and every app has an idle
//!     instance; an invocation is `arrival` (the warm pick) then `Done`
//!     (the keep-alive decision, back to idle): what the real driver asks
//!     of the core on its warm path.
//!   - cold: keep-alive `none`; an invocation is `arrival` (placement, a
//!     new instance), `Ready`, then `Done` (the keep-alive decision
//!     evicts it): placement plus keep-alive decision plus eviction.
//!
//! * `event_queue/push_pop/N`: N events at random times pushed, then all
//!   popped (`coldsim::engine::EventQueue`); elements are events (one push
//!   and one pop each). `cargo bench --bench engine` has the hold model.
//! * `simulate/default`: the built-in default scenario (seven functions in
//!   five apps on four hosts, one simulated hour, about 109,000
//!   invocations) from scenario to metrics; elements are invocations.
//!   `cargo bench --bench simulate` has the large ones.
//!
//! Run: `cargo bench --bench core`.

use std::hint::black_box;
use std::time::Duration;

use coldsim::engine::{EventQueue, RngStream, Streams};
use coldsim::model::{FnId, Invocation};
use coldsim::platform::{Action, Event, Platform, PlatformConfig};
use coldsim::policy::eviction::{self, EvictionCfg};
use coldsim::policy::keepalive::{self, KeepAliveCfg, fixed_ttl};
use coldsim::policy::placement::{self, PlacementCfg};
use coldsim::time::{SimDuration, SimTime};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const HOST_MB: u64 = 32 * 1024;
const SIZES_MB: [u64; 5] = [128, 256, 512, 1024, 2048];
/// Invocations per iteration.
const OPS: u64 = 10_000;

/// A platform of `hosts` hosts with one app per host and a filler app
/// whose provisioned instances fill half the hosts.
fn platform(hosts: usize, keepalive: &KeepAliveCfg) -> (Platform, u32) {
    let apps = hosts;
    let mut mem: Vec<u64> = (0..apps).map(|a| SIZES_MB[a % SIZES_MB.len()]).collect();
    mem.push(1024);
    let mut cfg = PlatformConfig::simple(hosts, HOST_MB, &mem);
    let filler = apps;
    cfg.app_min_instances[filler] = (hosts as u32 / 2) * (HOST_MB / 1024) as u32;
    let streams = Streams::new(1, 0);
    let mut p = Platform::new(
        cfg,
        PlacementCfg::default().build(&placement::Ctx {
            streams: &streams,
            hosts,
        }),
        keepalive.build(&keepalive::Ctx),
        EvictionCfg::default().build(&eviction::Ctx { apps: &[] }),
    );
    let mut out = Vec::new();
    p.provision(SimTime::ZERO, &mut out);
    let started: Vec<_> = out
        .iter()
        .filter_map(|a| match a {
            Action::Start { instance, .. } => Some(*instance),
            _ => None,
        })
        .collect();
    out.clear();
    for id in started {
        p.handle(SimTime(1), Event::Ready { instance: id }, &mut out);
    }
    (p, apps as u32)
}

fn inv(id: u64, function: u32, now: u64) -> Invocation {
    Invocation {
        id,
        function: FnId(function),
        arrival: SimTime(now),
        exec: SimDuration(500),
        attempt: 0,
    }
}

/// One warm invocation: arrival on the idle instance, then its end.
#[inline]
fn warm_call(p: &mut Platform, out: &mut Vec<Action>, id: u64, app: u32, now: u64) {
    p.arrival(SimTime(now), inv(id, app, now), out);
    let Some(&Action::Execute { instance, job, .. }) = out.first() else {
        panic!("expected a warm execution, got {out:?}");
    };
    out.clear();
    p.handle(SimTime(now + 500), Event::Done { instance, job }, out);
    out.clear();
}

/// One cold invocation: arrival (placement, start), ready, end (evicted).
#[inline]
fn cold_call(p: &mut Platform, out: &mut Vec<Action>, id: u64, app: u32, now: u64) {
    p.arrival(SimTime(now), inv(id, app, now), out);
    let Some(&Action::Start { instance, .. }) = out.first() else {
        panic!("expected a start, got {out:?}");
    };
    out.clear();
    p.handle(SimTime(now + 100), Event::Ready { instance }, out);
    let Some(&Action::Execute { job, .. }) = out.first() else {
        panic!("expected an execution, got {out:?}");
    };
    out.clear();
    p.handle(SimTime(now + 600), Event::Done { instance, job }, out);
    debug_assert!(matches!(out.last(), Some(Action::Evicted { .. })));
    out.clear();
}

fn core_invocation(c: &mut Criterion) {
    let mut g = c.benchmark_group("core_invocation");
    g.throughput(Throughput::Elements(OPS));
    let ttl = KeepAliveCfg::Fixed(fixed_ttl::Config {
        ttl: SimDuration::from_secs(600),
        reset: Default::default(),
    });
    for hosts in [10usize, 10_000] {
        g.bench_with_input(BenchmarkId::new("warm", hosts), &hosts, |b, &hosts| {
            let (mut p, apps) = platform(hosts, &ttl);
            let mut out = Vec::with_capacity(16);
            let mut now = 10u64;
            // Every app gets its instance, left idle.
            for app in 0..apps {
                now += 1_000;
                cold_or_first(&mut p, &mut out, app as u64, app, now);
            }
            let mut id = apps as u64;
            b.iter(|| {
                for _ in 0..OPS {
                    id += 1;
                    now += 1_000;
                    warm_call(&mut p, &mut out, id, (id % apps as u64) as u32, now);
                }
            });
            black_box(p.live_instances());
        });
        g.bench_with_input(BenchmarkId::new("cold", hosts), &hosts, |b, &hosts| {
            let (mut p, apps) = platform(hosts, &KeepAliveCfg::None(Default::default()));
            let mut out = Vec::with_capacity(16);
            let mut now = 10u64;
            let mut id = 0u64;
            b.iter(|| {
                for _ in 0..OPS {
                    id += 1;
                    now += 1_000;
                    cold_call(&mut p, &mut out, id, (id % apps as u64) as u32, now);
                }
            });
            black_box(p.live_instances());
        });
    }
    g.finish();
}

/// The first call of an app with a keep-alive: started, then left idle.
fn cold_or_first(p: &mut Platform, out: &mut Vec<Action>, id: u64, app: u32, now: u64) {
    p.arrival(SimTime(now), inv(id, app, now), out);
    let Some(&Action::Start { instance, .. }) = out.first() else {
        panic!("expected a start, got {out:?}");
    };
    out.clear();
    p.handle(SimTime(now + 100), Event::Ready { instance }, out);
    let Some(&Action::Execute { job, .. }) = out.first() else {
        panic!("expected an execution, got {out:?}");
    };
    out.clear();
    p.handle(SimTime(now + 600), Event::Done { instance, job }, out);
    out.clear();
}

fn event_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    for n in [1_000usize, 100_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("push_pop", n), &n, |b, &n| {
            let mut rng = RngStream::from_seed_u64(n as u64);
            let times: Vec<u64> = (0..n).map(|_| rng.next_u64() % 1_000_000_000).collect();
            let mut q: EventQueue<u64> = EventQueue::with_capacity(n);
            b.iter(|| {
                for (i, &t) in times.iter().enumerate() {
                    q.push(SimTime(t), i as u64);
                }
                let mut sum = 0u64;
                while let Some((_, e)) = q.pop() {
                    sum = sum.wrapping_add(e);
                }
                sum
            });
        });
    }
    g.finish();
}

fn simulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(5));
    let s = coldsim::scenario::parse_str(
        coldsim::scenario::DEFAULT_SCENARIO,
        "<built-in default scenario>",
    )
    .expect("the default scenario parses")
    .base;
    let n = coldsim::sim::run_scenario(&s, 0)
        .expect("the default scenario runs")
        .metrics
        .counters
        .arrivals;
    g.throughput(Throughput::Elements(n));
    g.bench_function(BenchmarkId::new("default", n), |b| {
        b.iter(|| {
            coldsim::sim::run_scenario(&s, 0)
                .map(|r| r.events)
                .unwrap_or(0)
        })
    });
    g.finish();
}

criterion_group!(benches, core_invocation, event_queue, simulate);
criterion_main!(benches);
