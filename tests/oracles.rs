//! Closed-form oracles from design.md. Each compares a long run (or the mean
//! of independent replicates) with the exact value and allows 4 standard
//! errors. A failure message carries the seed and scenario to reproduce it.

mod common;

use coldsim::report::summary_row;
use common::*;

/// One function, Poisson arrivals at rate l, executions of 1 us (much
/// shorter than 1/l), instant init, fixed keep-alive T from the end of each
/// execution: P(cold) = exp(-l T), and the fraction of time an instance is
/// alive is 1 - exp(-l T).
#[test]
fn cold_probability_is_exp_minus_lambda_t() {
    for (ttl_ms, rate) in [
        (100, 1.0),
        (500, 1.0),
        (1000, 1.0),
        (2000, 1.0),
        (3000, 1.0),
    ] {
        let l_t = rate * ttl_ms as f64 / 1000.0;
        let text = format!(
            r#"
name = "oracle-cold"
seed = 17
duration = "40000s"
[hosts]
count = 1
[keepalive]
kind = "fixed"
ttl = "{ttl_ms}ms"
[[functions]]
name = "f"
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "constant", value = "1us" }}
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#
        );
        let s = scenario(&text);
        let exact = (-l_t).exp();
        let mut fractions = Vec::new();
        let mut alive = Vec::new();
        let (mut cold, mut n) = (0.0, 0.0);
        for rep in 0..5 {
            let r = run_fast(&s, rep);
            let row = summary_row(&s, rep, &r);
            cold += get(&row, "cold_starts");
            n += get(&row, "completed");
            fractions.push(get(&row, "cold_fraction"));
            alive.push(get(&row, "mean_instances"));
        }
        // Cold starts are independent Bernoulli trials (memoryless gaps).
        let p = cold / n;
        let se = (exact * (1.0 - exact) / n).sqrt();
        assert!(
            (p - exact).abs() < 4.0 * se,
            "l*T = {l_t}: P(cold) = {p:.5}, exact {exact:.5}, se {se:.5} (seed 17, reps 0..5)"
        );
        let (m, se) = mean_se(&alive);
        let exact_alive = 1.0 - exact;
        assert!(
            (m - exact_alive).abs() < 4.0 * se.max(1e-4),
            "l*T = {l_t}: alive fraction {m:.5}, exact {exact_alive:.5}, se {se:.5}"
        );
    }
}

/// Little's law: the time-average number of busy instances is
/// sum(l_i E[S_i]), whatever the distributions.
#[test]
fn littles_law_for_busy_instances() {
    let text = r#"
name = "oracle-little"
seed = 5
duration = "20000s"
[hosts]
count = 2
memory_mb = 1000000
[[functions]]
name = "lognormal"
memory_mb = 128
exec = { dist = "lognormal", mean = "300ms", sd = "500ms" }
arrivals = { kind = "poisson", rate = "4/s" }
[[functions]]
name = "gamma"
memory_mb = 256
exec = { dist = "gamma", shape = 0.5, mean = "1200ms" }
arrivals = { kind = "poisson", rate = "1/s" }
[[functions]]
name = "empirical"
memory_mb = 512
exec = { dist = "empirical", p = [0, 50, 99, 100], values = ["10ms", "100ms", "2s", "10s"] }
arrivals = { kind = "poisson", rate = "90/min" }
[[functions]]
name = "uniform"
memory_mb = 64
exec = { dist = "uniform", min = "1s", max = "3s" }
arrivals = { kind = "poisson", rate = "0.5/s" }
"#;
    let s = scenario(text);
    let exact: f64 = s
        .functions
        .iter()
        .map(|f| f.arrivals.mean_rate() * f.exec.mean_secs())
        .sum();
    let busy: Vec<f64> = (0..8)
        .map(|rep| {
            get(
                &summary_row(&s, rep, &run_fast(&s, rep)),
                "mean_busy_instances",
            )
        })
        .collect();
    let (m, se) = mean_se(&busy);
    assert!(
        (m - exact).abs() < 4.0 * se,
        "mean busy {m:.4}, l E[S] = {exact:.4}, se {se:.4} (seed 5, reps 0..8)"
    );
}

/// With TTL 0 (and with keep-alive "none") every invocation is cold.
#[test]
fn ttl_zero_makes_every_invocation_cold() {
    for ka in [
        r#"kind = "fixed"
ttl = "0s""#,
        r#"kind = "none""#,
    ] {
        let text = format!(
            r#"
name = "oracle-ttl0"
duration = "2000s"
[keepalive]
{ka}
[[functions]]
name = "f"
exec = {{ dist = "exponential", mean = "200ms" }}
arrivals = {{ kind = "poisson", rate = "3/s" }}
[[functions]]
name = "g"
memory_mb = 256
exec = {{ dist = "constant", value = "1s" }}
arrivals = {{ kind = "poisson", rate = "1/s" }}
"#
        );
        let s = scenario(&text);
        let r = run(&s, 0);
        let c = &r.metrics.counters;
        assert!(c.arrivals > 7000);
        assert_eq!(c.cold, c.arrivals, "{ka}");
        assert_eq!(c.warm, 0);
        assert_eq!(c.instances_started, c.arrivals);
        assert_eq!(c.evicted_keepalive, c.arrivals);
        assert_eq!(r.metrics.integrals.idle, 0, "no instance is ever idle");
    }
}

/// M/G/c/c: a host that fits exactly c instances, no queue, instant init
/// and an endless keep-alive is a loss system of c warm servers; the
/// rejection probability is Erlang-B(c, l E[S]) for any service
/// distribution (here lognormal).
#[test]
fn loss_system_rejection_is_erlang_b() {
    let (c, rate, mean_s) = (8u32, 10.0, 0.6);
    let text = format!(
        r#"
name = "oracle-erlang-b"
seed = 23
duration = "30000s"
[hosts]
count = 1
memory_mb = {mem}
[queue]
max_len = 0
[keepalive]
kind = "fixed"
ttl = "100d"
[[functions]]
name = "f"
memory_mb = 100
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "lognormal", mean = "{ms}ms", sd = "900ms" }}
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#,
        mem = 100 * c,
        ms = (mean_s * 1000.0) as u64
    );
    let s = scenario(&text);
    let exact = erlang_b(c, rate * mean_s);
    let p: Vec<f64> = (0..6)
        .map(|rep| {
            let row = summary_row(&s, rep, &run_fast(&s, rep));
            get(&row, "rejected") / get(&row, "arrivals")
        })
        .collect();
    let (m, se) = mean_se(&p);
    assert!(
        (m - exact).abs() < 4.0 * se,
        "rejection {m:.5}, Erlang-B({c}, {}) = {exact:.5}, se {se:.5} (seed 23)",
        rate * mean_s
    );
}

/// M/M/c: the same host with an unbounded FIFO queue and exponential
/// service; the probability that an arrival waits is Erlang-C(c, l E[S]).
#[test]
fn waiting_probability_is_erlang_c() {
    let (c, rate, mean_s) = (4u32, 5.0, 0.6);
    let text = format!(
        r#"
name = "oracle-erlang-c"
seed = 29
duration = "30000s"
[hosts]
count = 1
memory_mb = {mem}
[queue]
max_len = 4000000000
timeout = "100d"
[keepalive]
kind = "fixed"
ttl = "100d"
[[functions]]
name = "f"
memory_mb = 100
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "exponential", mean = "{ms}ms" }}
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#,
        mem = 100 * c,
        ms = (mean_s * 1000.0) as u64
    );
    let s = scenario(&text);
    let exact = erlang_c(c, rate * mean_s);
    let p: Vec<f64> = (0..6)
        .map(|rep| {
            let row = summary_row(&s, rep, &run_fast(&s, rep));
            assert_eq!(get(&row, "rejected"), 0.0);
            get(&row, "queued") / get(&row, "arrivals")
        })
        .collect();
    let (m, se) = mean_se(&p);
    assert!(
        (m - exact).abs() < 4.0 * se,
        "P(wait) {m:.5}, Erlang-C({c}, {}) = {exact:.5}, se {se:.5} (seed 29)",
        rate * mean_s
    );
}

#[test]
fn erlang_formulas_match_known_values() {
    // Textbook values: B(1, 1) = 1/2; B(2, 1) = 1/5; C(2, 1) = 1/3.
    assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
    assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

/// With a keep-alive longer than the run, instant init and room for
/// everything, an app starts a new instance only when all of its instances
/// are busy, and none ever goes away: each function (its own app) has
/// exactly as many cold starts as its peak concurrency, computed here
/// independently from the arrival stream.
#[test]
fn cold_starts_equal_peak_concurrency_without_expiry() {
    use coldsim::engine::Streams;
    use coldsim::workload::{self, Context};
    let text = r#"
name = "oracle-peak"
seed = 31
duration = "3h"
[hosts]
count = 2
memory_mb = 1000000
[keepalive]
kind = "fixed"
ttl = "100d"
[[functions]]
name = "bursty"
init = { dist = "constant", value = "0s" }
exec = { dist = "lognormal", mean = "2s", sd = "3s" }
arrivals = { kind = "mmpp", rates = ["20/s", "0.2/s"], mean_sojourn = ["20s", "3m"] }
[[functions]]
name = "steady"
init = { dist = "constant", value = "0s" }
exec = { dist = "exponential", mean = "800ms" }
arrivals = { kind = "poisson", rate = "3/s" }
"#;
    let s = scenario(text);
    // Peak concurrency per function from the invocations themselves: +1 at
    // arrival, -1 at arrival + exec; at equal times the end comes first (a
    // completion frees its instance before an arrival at the same instant).
    let w = workload::open(
        &coldsim::run::RunSpec::new(&s, std::path::Path::new("."))
            .unwrap()
            .workload,
        &Context::default(),
        &Streams::new(s.seed, 0),
    )
    .unwrap();
    let mut edges: Vec<Vec<(u64, i32)>> = vec![Vec::new(); 2];
    for inv in w.arrivals {
        let f = inv.function.index();
        edges[f].push((inv.arrival.0, 1));
        edges[f].push((inv.arrival.0 + inv.exec.0, -1));
    }
    let peaks: Vec<u64> = edges
        .iter_mut()
        .map(|e| {
            e.sort();
            let (mut cur, mut peak) = (0i64, 0i64);
            for &(_, d) in e.iter() {
                cur += d as i64;
                peak = peak.max(cur);
            }
            peak as u64
        })
        .collect();
    let r = run(&s, 0);
    for (f, &peak) in peaks.iter().enumerate() {
        assert!(peak > 1, "function {f} should overlap itself");
        assert_eq!(
            r.metrics.per_fn[f].counts.cold, peak,
            "function {f}: cold starts vs peak concurrency (seed 31)"
        );
    }
    assert_eq!(
        r.metrics.counters.evicted_keepalive + r.metrics.counters.evicted_pressure,
        0
    );
}

/// Runs a limit scenario's replicates and returns the mean and standard
/// error of `num / arrivals`.
fn fraction(s: &coldsim::scenario::Scenario, num: &str, reps: u64) -> (f64, f64) {
    let p: Vec<f64> = (0..reps)
        .map(|rep| {
            let row = summary_row(s, rep, &run_fast(s, rep));
            get(&row, num) / get(&row, "arrivals")
        })
        .collect();
    mean_se(&p)
}

/// M/G/c/c through a concurrency cap: a function limited to c concurrent
/// invocations (Lambda's reserved concurrency), refused ones rejected, with
/// c provisioned (warm) instances on a host with room to spare. Rejection
/// probability = Erlang-B(c, l E[S]) for any service distribution
/// (lognormal here).
#[test]
fn concurrency_cap_rejection_is_erlang_b() {
    let (c, rate, mean_s) = (6u32, 8.0, 0.5);
    let text = format!(
        r#"
name = "oracle-cap-erlang-b"
seed = 31
duration = "30000s"
[hosts]
count = 2
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "100d"
[limits]
throttle = "reject"
[[functions]]
name = "f"
memory_mb = 128
min_instances = {c}
max_concurrency = {c}
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "lognormal", mean = "{ms}ms", sd = "700ms" }}
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#,
        ms = (mean_s * 1000.0) as u64
    );
    let s = scenario(&text);
    let exact = erlang_b(c, rate * mean_s);
    let (m, se) = fraction(&s, "rejected_throttled", 6);
    assert!(
        (m - exact).abs() < 4.0 * se,
        "rejection {m:.5}, Erlang-B({c}, {}) = {exact:.5}, se {se:.5} (seed 31)",
        rate * mean_s
    );
    // Every rejection is a throttle: memory never ran out.
    let row = summary_row(&s, 0, &run_fast(&s, 0));
    assert_eq!(get(&row, "rejected"), get(&row, "rejected_throttled"));
}

/// The same loss system built from instances that serve several
/// invocations each: 2 provisioned instances of concurrency 4 behind a
/// global limit of 8 are 8 servers, so rejection = Erlang-B(8, l E[S]).
#[test]
fn global_cap_over_multi_slot_instances_is_erlang_b() {
    let (c, rate, mean_s) = (8u32, 12.0, 0.5);
    let text = format!(
        r#"
name = "oracle-global-erlang-b"
seed = 37
duration = "30000s"
[hosts]
count = 1
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "100d"
[limits]
max_concurrency = {c}
[[apps]]
name = "svc"
memory_mb = 512
concurrency = 4
min_instances = 2
init = {{ dist = "constant", value = "0s" }}
[[functions]]
name = "f"
app = "svc"
exec = {{ dist = "gamma", shape = 2.0, mean = "{ms}ms" }}
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#,
        ms = (mean_s * 1000.0) as u64
    );
    let s = scenario(&text);
    let exact = erlang_b(c, rate * mean_s);
    let (m, se) = fraction(&s, "rejected_throttled", 6);
    assert!(
        (m - exact).abs() < 4.0 * se,
        "rejection {m:.5}, Erlang-B({c}, {}) = {exact:.5}, se {se:.5} (seed 37)",
        rate * mean_s
    );
    // No third instance was ever needed: 8 slots on 2 instances.
    let row = summary_row(&s, 0, &run_fast(&s, 0));
    assert_eq!(get(&row, "instances_started"), 2.0);
    // Little's law over invocations (not instances) with the carried load.
    let carried = rate * mean_s * (1.0 - exact);
    let running = get(&row, "mean_running_invocations");
    assert!(
        (running - carried).abs() / carried < 0.02,
        "mean running {running:.4}, carried load {carried:.4}"
    );
}

/// M/M/c through a cap that holds instead of rejecting: the probability
/// that an arrival is held is Erlang-C(c, l E[S]).
#[test]
fn held_by_a_cap_with_erlang_c_probability() {
    let (c, rate, mean_s) = (4u32, 5.0, 0.6);
    let text = format!(
        r#"
name = "oracle-cap-erlang-c"
seed = 41
duration = "30000s"
[hosts]
count = 1
memory_mb = 4096
[queue]
max_len = 4000000000
timeout = "100d"
[keepalive]
kind = "fixed"
ttl = "100d"
[limits]
throttle = "queue"
[[functions]]
name = "f"
memory_mb = 128
min_instances = {c}
max_concurrency = {c}
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "exponential", mean = "{ms}ms" }}
arrivals = {{ kind = "poisson", rate = "{rate}/s" }}
"#,
        ms = (mean_s * 1000.0) as u64
    );
    let s = scenario(&text);
    let exact = erlang_c(c, rate * mean_s);
    let (m, se) = fraction(&s, "throttled", 6);
    assert!(
        (m - exact).abs() < 4.0 * se,
        "P(held) {m:.5}, Erlang-C({c}, {}) = {exact:.5}, se {se:.5} (seed 41)",
        rate * mean_s
    );
    let row = summary_row(&s, 0, &run_fast(&s, 0));
    assert_eq!(get(&row, "rejected"), 0.0);
    assert_eq!(get(&row, "instances_started"), c as f64);
}
