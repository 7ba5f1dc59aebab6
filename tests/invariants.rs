//! Invariants over random small scenarios (proptest): host memory never
//! exceeds capacity and the platform's bookkeeping stays consistent after
//! every event (checked by `sim::run_checked`), every invocation ends
//! exactly once, and the counters add up. The scenarios mix per-instance
//! concurrency, concurrency limits (rejecting or holding) and snapshots
//! with small caches, so every path of the platform core is exercised.

mod common;

use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Fn {
    memory_mb: u32,
    rate_per_min: u32,
    exec_ms: u32,
    init_ms: u32,
    app: Option<usize>,
    /// Per-instance concurrency of a standalone function.
    concurrency: u32,
    max_concurrency: Option<u32>,
}

/// The scenario-wide switches of the new features.
#[derive(Debug, Clone)]
struct Extras {
    app_concurrency: [u32; 2],
    global_limit: Option<u32>,
    hold: bool,
    snapshots: bool,
    remote: bool,
    cache_mb: u32,
    locality: bool,
    faults: Faults,
}

/// Fault switches: host failures, spot preemption, consolidation,
/// instance lifetime, out-of-memory calls and retries.
#[derive(Debug, Clone)]
struct Faults {
    mtbf_s: Option<u32>,
    spot_every_s: Option<u32>,
    relocate: bool,
    consolidate_s: Option<u32>,
    lifetime_s: Option<u32>,
    oom_mb: Option<u32>,
    attempts: u32,
}

fn faults_strategy() -> impl Strategy<Value = Faults> {
    (
        proptest::option::of(20u32..200),
        proptest::option::of(20u32..200),
        any::<bool>(),
        proptest::option::of(10u32..100),
        proptest::option::of(5u32..120),
        proptest::option::of(50u32..400),
        1u32..4,
    )
        .prop_map(
            |(mtbf_s, spot_every_s, relocate, consolidate_s, lifetime_s, oom_mb, attempts)| {
                Faults {
                    mtbf_s,
                    spot_every_s,
                    relocate,
                    consolidate_s,
                    lifetime_s,
                    oom_mb,
                    attempts,
                }
            },
        )
}

fn extras_strategy() -> impl Strategy<Value = Extras> {
    (
        (1u32..4, 1u32..4),
        proptest::option::of(1u32..12),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u32..800,
        any::<bool>(),
        faults_strategy(),
    )
        .prop_map(
            |((k0, k1), global_limit, hold, snapshots, remote, cache_mb, locality, faults)| {
                Extras {
                    app_concurrency: [k0, k1],
                    global_limit,
                    hold,
                    snapshots,
                    remote,
                    cache_mb,
                    locality,
                    faults,
                }
            },
        )
}

fn fn_strategy() -> impl Strategy<Value = Fn> {
    (
        16u32..600,
        1u32..600,
        1u32..3000,
        0u32..2000,
        proptest::option::of(0usize..2),
        1u32..4,
        proptest::option::of(1u32..5),
    )
        .prop_map(
            |(memory_mb, rate_per_min, exec_ms, init_ms, app, concurrency, max_concurrency)| Fn {
                memory_mb,
                rate_per_min,
                exec_ms,
                init_ms,
                app,
                concurrency,
                max_concurrency,
            },
        )
}

#[allow(clippy::too_many_arguments)]
fn scenario_text(
    seed: u64,
    hosts: u32,
    host_mb: u32,
    ttl_s: u32,
    qlen: u32,
    timeout_s: u32,
    evict: bool,
    fns: &[Fn],
    x: &Extras,
) -> String {
    let mut t = format!(
        "name = \"prop\"\nseed = {seed}\nduration = \"300s\"\n\
         [hosts]\ncount = {hosts}\nmemory_mb = {host_mb}\ncores = 2\n\
         [queue]\nmax_len = {qlen}\ntimeout = \"{timeout_s}s\"\n\
         [keepalive]\nkind = \"fixed\"\nttl = \"{ttl_s}s\"\n\
         [eviction]\nkind = \"{}\"\n",
        if evict { "lru" } else { "none" }
    );
    t += &format!(
        "[limits]\nthrottle = \"{}\"\n",
        if x.hold { "queue" } else { "reject" }
    );
    if let Some(g) = x.global_limit {
        t += &format!("max_concurrency = {g}\n");
    }
    if x.snapshots {
        t += &format!(
            "[snapshots]\nenabled = true\nremote = {}\ncache_mb = {}\nrestore = {{ dist = \"constant\", value = \"20ms\" }}\n",
            x.remote, x.cache_mb
        );
    }
    if x.locality {
        t += "[placement]\nkind = \"snapshot-locality\"\n";
    }
    let f = &x.faults;
    t += &format!(
        "[retry]\nmax_attempts = {}\nbackoff = \"2s\"\n[faults]\n",
        f.attempts
    );
    if let Some(l) = f.lifetime_s {
        t += &format!("max_lifetime = \"{l}s\"\n");
    }
    if let Some(m) = f.mtbf_s {
        t += &format!(
            "[faults.failures]\ntime_to_failure = {{ dist = \"exponential\", mean = \"{m}s\" }}\nrepair = {{ dist = \"exponential\", mean = \"20s\" }}\n"
        );
    }
    if let Some(e) = f.spot_every_s {
        t += &format!(
            "[faults.preemption]\nfirst = 0\ncount = 1\ninterval = {{ dist = \"exponential\", mean = \"{e}s\" }}\nnotice = \"10s\"\nrelocate = {}\ndown = {{ dist = \"constant\", value = \"30s\" }}\n",
            f.relocate
        );
    }
    if let Some(c) = f.consolidate_s {
        let mode = if c % 2 == 0 { "spread" } else { "consolidate" };
        t += &format!(
            "[faults.consolidation]\nevery = \"{c}s\"\nthreshold = 0.5\nmode = \"{mode}\"\n"
        );
    }
    for a in 0..2 {
        t += &format!(
            "[[apps]]\nname = \"app{a}\"\nmemory_mb = {}\nstate_mb = {}\nconcurrency = {}\ninit = {{ dist = \"exponential\", mean = \"{}ms\" }}\n",
            100 + 150 * a,
            50 * a,
            x.app_concurrency[a],
            300 + 400 * a
        );
    }
    for (i, f) in fns.iter().enumerate() {
        t += &format!("[[functions]]\nname = \"f{i}\"\n");
        match f.app {
            Some(a) => t += &format!("app = \"app{a}\"\n"),
            None => {
                t += &format!(
                    "memory_mb = {}\nconcurrency = {}\ninit = {{ dist = \"constant\", value = \"{}ms\" }}\n",
                    f.memory_mb.min(host_mb),
                    f.concurrency,
                    f.init_ms
                )
            }
        }
        if let Some(m) = f.max_concurrency {
            t += &format!("max_concurrency = {m}\n");
        }
        t += &format!(
            "exec = {{ dist = \"exponential\", mean = \"{}ms\" }}\narrivals = {{ kind = \"poisson\", rate = \"{}/min\" }}\n",
            f.exec_ms, f.rate_per_min
        );
        if let (Some(mb), 0) = (x.faults.oom_mb, i % 2) {
            t += &format!("memory_used = {{ dist = \"uniform\", min_mb = 10, max_mb = {mb} }}\n");
        }
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_invocation_ends_once_and_memory_fits(
        seed in 0u64..1_000_000,
        hosts in 1u32..4,
        host_mb in 250u32..2000,
        ttl_s in 0u32..120,
        qlen in 0u32..30,
        timeout_s in 1u32..20,
        evict in any::<bool>(),
        fns in proptest::collection::vec(fn_strategy(), 1..6),
        x in extras_strategy(),
    ) {
        let text = scenario_text(seed, hosts, host_mb, ttl_s, qlen, timeout_s, evict, &fns, &x);
        let s = scenario(&text);
        // run() checks the platform invariants after every event.
        let r = run(&s, 0);
        let c = &r.metrics.counters;
        let kills: u64 = c.killed.iter().sum();
        prop_assert_eq!(
            c.arrivals,
            c.completed + c.rejected() + c.failed,
            "ends exactly once\n{}",
            text
        );
        if x.faults.attempts == 1 {
            prop_assert_eq!(c.retries, 0);
        }
        prop_assert!(c.failed <= kills * 4, "failures need kills");
        let per_fn_failed: u64 = r.metrics.per_fn.iter().map(|f| f.counts.failed).sum();
        prop_assert_eq!(per_fn_failed, c.failed);
        prop_assert_eq!(c.completed, c.cold + c.warm);
        // Each start serves at least one cold invocation; with concurrency
        // 1 exactly one.
        // Relocations start pre-warms; a killed start serves no one.
        prop_assert_eq!(c.prewarm_started, c.relocations);
        prop_assert!(c.instances_started - c.prewarm_started <= c.cold + kills);
        let single = x.app_concurrency == [1, 1] && fns.iter().all(|f| f.concurrency == 1 || f.app.is_some());
        if single && kills == 0 {
            prop_assert_eq!(c.instances_started, c.cold, "one start per cold invocation");
        }
        prop_assert_eq!(c.cold, c.cold_by_kind.iter().sum::<u64>());
        prop_assert_eq!(c.instances_started, c.starts_by_kind.iter().sum::<u64>());
        if !x.snapshots {
            prop_assert_eq!(c.starts_by_kind[0], c.instances_started, "only full inits");
        }
        if !x.snapshots || !x.remote {
            prop_assert_eq!(c.starts_by_kind[2], 0, "no remote restores without a store");
        }
        if x.hold {
            prop_assert_eq!(c.rejected_throttled, 0);
        } else {
            prop_assert_eq!(c.throttled, 0);
        }
        prop_assert_eq!(
            c.instances_started,
            c.evicted_keepalive + c.evicted_pressure + kills + r.instances_alive
        );
        prop_assert!(c.queued + c.throttled >= c.rejected_timeout);
        if !evict {
            prop_assert_eq!(c.evicted_pressure, 0);
        }
        let m = &r.metrics;
        prop_assert_eq!(m.overall.latency.count(), c.completed);
        let per_fn: u64 = m.per_fn.iter().map(|f| f.counts.completed).sum();
        prop_assert_eq!(per_fn, c.completed);
        let per_fn_arr: u64 = m.per_fn.iter().map(|f| f.counts.arrivals).sum();
        prop_assert_eq!(per_fn_arr, c.arrivals);
        let per_fn_rej: u64 = m.per_fn.iter().map(|f| f.counts.rejected).sum();
        prop_assert_eq!(per_fn_rej, c.rejected());
        let sum = m.sum_of_functions();
        prop_assert_eq!(sum.latency.sum_ns, m.overall.latency.sum_ns);
        prop_assert_eq!(m.latency_cold.count() + m.latency_warm.count(), c.completed);
        // Memory integrals never exceed the cluster's capacity over time.
        let i = &m.integrals;
        let cap = hosts as u128 * host_mb as u128 * m.horizon.0 as u128;
        prop_assert!(i.starting_mb + i.busy_mb + i.idle_mb <= cap);
        // Latency = queue + start + exec, summed over invocations.
        let o = &m.overall;
        prop_assert_eq!(o.latency.sum_ns, o.queue.sum_ns + o.start.sum_ns + o.exec.sum_ns);
        // Determinism: a second run gives the same event stream.
        prop_assert_eq!(run_fast(&s, 0).fingerprint, r.fingerprint);
    }
}
