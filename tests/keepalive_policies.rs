//! Keep-alive and eviction policies in full runs (invariants checked after
//! every event): the hybrid histogram learns a timer's idle time and
//! pre-warms for it; Greedy-Dual keeps an expensive, frequently used app
//! warm under memory pressure where LRU does not.

mod common;

use coldsim::policy::eviction::EvictionCfg;
use coldsim::policy::keepalive::KeepAliveCfg;
use coldsim::run::RunResult;
use coldsim::scenario::{parse_str, to_toml};
use common::*;

/// One function called by a timer every 20 minutes for a week, 10 ms of
/// work, instant init, alone on a host.
fn periodic(keepalive: &str) -> String {
    format!(
        r#"
name = "periodic"
seed = 3
duration = "7d"
[hosts]
count = 1
[keepalive]
{keepalive}
[[functions]]
name = "timer"
memory_mb = 256
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "constant", value = "10ms" }}
arrivals = {{ kind = "periodic", period = "20m" }}
"#
    )
}

#[test]
fn hybrid_learns_a_twenty_minute_timer() {
    let hybrid = run(&scenario(&periodic("kind = \"hybrid\"")), 0);
    let fixed = run(&scenario(&periodic("kind = \"fixed\"\nttl = \"30m\"")), 0);
    let c = &hybrid.metrics.counters;
    let n = c.arrivals;
    assert_eq!(n, 7 * 24 * 3, "one arrival every 20 minutes");
    assert_eq!(c.completed, n);
    // Warm-up: the first call is cold, the next 10 are warm under the
    // fallback keep-alive (4 h) while the histogram fills (min_samples =
    // 10). From then on every idle time (20 min - 10 ms, bin 19) gives a
    // pre-warm 17.1 min after each execution, kept until 22 min.
    let warmup = 11;
    assert!(
        c.prewarm_started >= n - warmup - 1,
        "pre-warms started: {} of {n} arrivals",
        c.prewarm_started
    );
    assert!(
        c.prewarm_used >= n - warmup - 1,
        "pre-warms used: {} of {} started",
        c.prewarm_used,
        c.prewarm_started
    );
    assert!(
        c.prewarm_wasted <= 1,
        "wasted pre-warms: {}",
        c.prewarm_wasted
    );
    assert!(c.cold <= 1, "cold starts: {} (only the first call)", c.cold);
    assert_eq!(hybrid.metrics.per_fn[0].counts.cold, c.cold);
    // Idle memory: the 30-minute TTL keeps the instance idle the whole
    // week. The hybrid policy keeps it idle for the 10 warm-up idle times
    // (20 min - 10 ms each), then only from each pre-warm (17.1 min after
    // an execution) to the next call (19.99 min after it).
    let (h, f) = (
        hybrid.metrics.integrals.idle_mb as f64,
        fixed.metrics.integrals.idle_mb as f64,
    );
    assert_eq!(fixed.metrics.counters.cold, 1);
    let it_min = 20.0 - 0.01 / 60.0;
    let expected = (10.0 * it_min + (n - warmup) as f64 * (it_min - 17.1)) / (7.0 * 24.0 * 60.0);
    assert!(
        (h / f - expected).abs() < 0.005,
        "idle MB-time: hybrid {h:.4e}, fixed 30 min {f:.4e}: ratio {:.4}, expected {expected:.4}",
        h / f
    );
    assert!(h < 0.2 * f);
}

/// One host with room for four 256 MB instances, keep-alive of a day (so
/// only memory pressure evicts), one expensive app used every 5 minutes
/// (10 s init) and sixteen cheap apps (10 ms init) each used every 16
/// minutes, one of them every minute in turn. Between two calls of the hot
/// app, five distinct cheap apps need an instance each, so under LRU the
/// hot app is always the least recently used by its next call.
fn pressure(eviction: &str) -> String {
    let mut t = format!(
        r#"
name = "pressure"
seed = 9
duration = "1d"
[hosts]
count = 1
memory_mb = 1024
[keepalive]
kind = "fixed"
ttl = "24h"
[eviction]
kind = "{eviction}"
[[functions]]
name = "hot"
memory_mb = 256
init = {{ dist = "constant", value = "10s" }}
exec = {{ dist = "constant", value = "100ms" }}
arrivals = {{ kind = "periodic", period = "5m" }}
"#
    );
    for i in 0..16 {
        t += &format!(
            r#"
[[functions]]
name = "cheap{i}"
memory_mb = 256
init = {{ dist = "constant", value = "10ms" }}
exec = {{ dist = "constant", value = "100ms" }}
arrivals = {{ kind = "periodic", period = "16m", phase = "{}s" }}
"#,
            i * 60 + 30
        );
    }
    t
}

/// Cold starts of the hot app, of the cheap apps, and the seconds of
/// initialisation paid in all.
fn colds(r: &RunResult) -> (u64, u64, f64) {
    let hot = r.metrics.per_fn[0].counts.cold;
    let cheap: u64 = r.metrics.per_fn[1..].iter().map(|f| f.counts.cold).sum();
    (hot, cheap, hot as f64 * 10.0 + cheap as f64 * 0.01)
}

#[test]
fn greedy_dual_keeps_the_expensive_frequent_app_warm() {
    let lru = run(&scenario(&pressure("lru")), 0);
    let gd = run(&scenario(&pressure("greedy-dual")), 0);
    let hot_calls = lru.metrics.per_fn[0].counts.arrivals;
    assert_eq!(hot_calls, 24 * 12);
    for r in [&lru, &gd] {
        assert_eq!(r.metrics.counters.rejected(), 0);
        assert!(r.metrics.counters.evicted_pressure > 0);
        assert_eq!(r.metrics.counters.evicted_keepalive, 0);
    }
    let (lru_hot, lru_cheap, lru_cost) = colds(&lru);
    let (gd_hot, gd_cheap, gd_cost) = colds(&gd);
    // LRU evicts the hot app before each of its calls.
    assert!(
        lru_hot >= hot_calls - 1,
        "LRU: hot app cold {lru_hot} of {hot_calls}"
    );
    // Greedy-Dual keeps it: one cold start, the first call.
    assert_eq!(
        gd_hot, 1,
        "greedy-dual: hot app cold {gd_hot} of {hot_calls}"
    );
    // The cheap, rarely used apps pay instead (each is used every 16
    // minutes, with 15 others in between and 3 or 4 slots: always cold).
    let cheap_calls: u64 = gd.metrics.per_fn[1..]
        .iter()
        .map(|f| f.counts.arrivals)
        .sum();
    assert_eq!(gd_cheap, cheap_calls);
    assert!(lru_cheap <= gd_cheap);
    assert!(
        gd_cost < 0.05 * lru_cost,
        "init seconds paid: greedy-dual {gd_cost}, LRU {lru_cost}"
    );
    // The frequency variant (size-blind) agrees here: all apps have the
    // same size.
    let freq = run(&scenario(&pressure("frequency")), 0);
    assert_eq!(colds(&freq).0, 1);
}

#[test]
fn policies_parse_print_and_validate() {
    let text = periodic(
        "kind = \"hybrid\"\nrange = \"2h\"\nbin = \"30s\"\nmargin = 0.2\nmin_samples = 5\nfallback_ttl = \"20m\"",
    );
    let s = scenario(&text);
    let KeepAliveCfg::Hybrid(h) = &s.keepalive else {
        panic!("{:?}", s.keepalive)
    };
    assert_eq!(h.range.as_nanos(), 2 * 3600 * 1_000_000_000);
    assert_eq!(h.margin, 0.2);
    assert_eq!(h.min_samples, 5);
    assert_eq!(h.head_percentile, 5.0);
    assert_eq!(h.tail_percentile, 99.0);
    // `coldsim check` prints every key, and what it prints loads again.
    let printed = to_toml(&s);
    assert!(printed.contains("cv_threshold"), "{printed}");
    let again = parse_str(&printed, "printed").unwrap().base;
    assert_eq!(again.keepalive, s.keepalive);

    // Unset, fallback_ttl follows the range, also across a sweep.
    let sweep = format!(
        "{}\n[sweep]\n\"keepalive.range\" = [\"1h\", \"3h\"]\n",
        periodic("kind = \"hybrid\"")
    );
    let sf = parse_str(&sweep, "sweep.toml").unwrap();
    let fallbacks: Vec<u64> = sf
        .points
        .iter()
        .map(|p| match &p.scenario.keepalive {
            KeepAliveCfg::Hybrid(h) => h.fallback().as_nanos() / 1_000_000_000,
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(fallbacks, [3600, 3 * 3600]);

    for (kind, want) in [
        ("greedy-dual", EvictionCfg::GreedyDual(Default::default())),
        ("frequency", EvictionCfg::Frequency(Default::default())),
        ("size", EvictionCfg::Size(Default::default())),
        ("lru", EvictionCfg::Lru(Default::default())),
    ] {
        assert_eq!(scenario(&pressure(kind)).eviction, want);
    }

    let bad = |keys: &str, want: &[&str]| {
        let text = periodic(&format!("kind = \"hybrid\"\n{keys}"));
        let e = parse_str(&text, "t.toml").unwrap_err().to_string();
        for w in want {
            assert!(e.contains(w), "{keys}: {e}");
        }
    };
    bad("margin = 1.5", &["t.toml", "keepalive.margin", "fraction"]);
    bad("bin = \"7s\"", &["keepalive.range", "whole number of bins"]);
    bad(
        "head_percentile = 60\ntail_percentile = 50",
        &["keepalive.tail_percentile"],
    );
    bad("oob_threshold = 2", &["keepalive.oob_threshold"]);
    bad("min_samples = 0", &["keepalive.min_samples"]);
    bad(
        "cv_treshold = 2",
        &["keepalive.cv_treshold", "unknown field"],
    );
    bad("margin = \"10%\"", &["t.toml:", "keepalive.margin", "f64"]);
    bad("range = 4", &["keepalive.range", "ambiguous"]);
    let e = parse_str(
        &pressure("greedy-dual").replace("kind = \"greedy-dual\"", "kind = \"gdsf\""),
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("gdsf"), "{e}");
}

/// The predictive pre-warmer learns a 30-minute timer from its arrival rate:
/// a fixed 10-minute TTL makes every call cold, the predictor pre-warms
/// shortly before each one.
#[test]
fn predictive_prewarmer_learns_a_slow_timer() {
    let text = |ka: &str| {
        format!(
            r#"
name = "pred"
duration = "2d"
[hosts]
count = 1
memory_mb = 4096
[keepalive]
{ka}
[[functions]]
name = "cron"
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "constant", value = "10ms" }}
arrivals = {{ kind = "periodic", period = "30m", jitter = "1m" }}
"#
        )
    };
    let fixed = coldsim::scenario::parse_str(&text("kind = \"fixed\"\nttl = \"10m\""), "p.toml")
        .unwrap()
        .base;
    let pred = coldsim::scenario::parse_str(&text("kind = \"predictive\""), "p.toml")
        .unwrap()
        .base;
    let rf = coldsim::sim::run_checked(
        &coldsim::run::RunSpec::new(&fixed, std::path::Path::new(".")).unwrap(),
        0,
    )
    .unwrap();
    let rp = coldsim::sim::run_checked(
        &coldsim::run::RunSpec::new(&pred, std::path::Path::new(".")).unwrap(),
        0,
    )
    .unwrap();
    let (cf, cp) = (&rf.metrics.counters, &rp.metrics.counters);
    assert_eq!(cf.arrivals, 96);
    assert_eq!(
        cf.cold, 96,
        "a 10-minute TTL never survives a 30-minute gap"
    );
    // The first calls are cold while the rate is learnt; then pre-warms
    // (started at 0.8 x the expected gap, kept for 0.4 x) catch nearly all.
    assert!(cp.cold <= 6, "{} cold of {}", cp.cold, cp.arrivals);
    assert!(cp.prewarm_used >= 85, "{cp:?}");
    // And it holds less idle memory than keeping instances for 35 minutes
    // would (the TTL a fixed policy needs to keep this timer warm).
    let keep35 = coldsim::scenario::parse_str(&text("kind = \"fixed\"\nttl = \"35m\""), "p.toml")
        .unwrap()
        .base;
    let rk = coldsim::sim::run_checked(
        &coldsim::run::RunSpec::new(&keep35, std::path::Path::new(".")).unwrap(),
        0,
    )
    .unwrap();
    assert!(rp.metrics.integrals.idle_mb < rk.metrics.integrals.idle_mb / 2);
}
