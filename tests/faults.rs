//! Kills, retries, relocation and billing on hand-checked cases.

mod common;

use coldsim::report::summary_row;
use common::*;

fn summary(text: &str) -> coldsim::report::Row {
    let s = scenario(text);
    summary_row(&s, 0, &run(&s, 0))
}

/// One function called every 10 s, each call running 25 s, on host 0 of
/// two; host 0 fails at 97 s and stays down.
fn failing(extra: &str, retry: &str) -> String {
    format!(
        r#"
name = "fail"
duration = "300s"
[hosts]
count = 2
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "1h"
[retry]
{retry}
[faults.failures]
first = 0
count = 1
time_to_failure = {{ dist = "constant", value = "97s" }}
repair = {{ dist = "constant", value = "1h" }}
{extra}
[[functions]]
name = "f"
memory_mb = 100
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "constant", value = "25s" }}
arrivals = {{ kind = "periodic", period = "10s" }}
"#
    )
}

#[test]
fn a_host_failure_kills_in_flight_work_which_is_retried() {
    // At 97 s calls 8 (80-105 s) and 9 (90-115 s) run on host 0, and the
    // instance of call 7 (ended at 95 s) is idle there: 3 instances die,
    // 17 s + 7 s of work is lost, both calls are retried at once (backoff
    // 0) on host 1, cold. Calls at 100, 110 and 120 s find the two retried
    // instances busy until 122 s: 3 more cold starts; from 130 s on the
    // pool of 5 instances on host 1 is enough.
    let row = summary(&failing("", "max_attempts = 3\nbackoff = \"0s\""));
    assert_eq!(get(&row, "arrivals"), 30.0);
    assert_eq!(get(&row, "completed"), 30.0);
    assert_eq!(get(&row, "failed"), 0.0);
    assert_eq!(get(&row, "killed_host_failure"), 3.0);
    assert_eq!(get(&row, "retries"), 2.0);
    assert_eq!(get(&row, "cold_retries"), 2.0);
    assert_eq!(get(&row, "lost_work_s"), 24.0);
    assert_eq!(get(&row, "cold_starts"), 3.0 + 2.0 + 3.0);
    // The retried calls end at 97 + 25 = 122 s, 42 and 32 s after arrival.
    let p99 = get(&row, "retried_latency_p99_ms");
    assert!((p99 - 42_000.0).abs() < 42.0, "{p99}");
    // One host of two on from 97 s (the failed one is still owned).
    assert_eq!(get(&row, "mean_hosts_on"), 2.0);
}

#[test]
fn without_retries_in_flight_calls_fail() {
    let row = summary(&failing("", "max_attempts = 1"));
    assert_eq!(get(&row, "failed"), 2.0);
    assert_eq!(get(&row, "retries"), 0.0);
    assert_eq!(get(&row, "completed"), 28.0);
    assert_eq!(
        get(&row, "arrivals"),
        get(&row, "completed") + get(&row, "rejected") + get(&row, "failed")
    );
}

#[test]
fn no_faults_table_and_an_empty_one_give_identical_bytes() {
    let base = failing("", "").replace(
        "[faults.failures]\nfirst = 0\ncount = 1\ntime_to_failure = { dist = \"constant\", value = \"97s\" }\nrepair = { dist = \"constant\", value = \"1h\" }\n",
        "",
    );
    assert!(!base.contains("failures"), "{base}");
    let with_empty = base.replace("[retry]", "[faults]\n[retry]");
    let a = scenario(&base);
    let b = scenario(&with_empty);
    let (ra, rb) = (run(&a, 0), run(&b, 0));
    assert_eq!(
        coldsim::report::csv_bytes(&[summary_row(&a, 0, &ra)]),
        coldsim::report::csv_bytes(&[summary_row(&b, 0, &rb)])
    );
    assert_eq!(ra.fingerprint, rb.fingerprint);
}

/// Out-of-memory kills: every call needs 200 MB in a 128 MB instance.
#[test]
fn out_of_memory_calls_fail_after_their_attempts() {
    let text = r#"
name = "oom"
duration = "100s"
[hosts]
count = 1
memory_mb = 4096
[retry]
max_attempts = 2
backoff = "1s"
[[functions]]
name = "f"
memory_mb = 128
memory_used = { dist = "constant", mb = 200 }
exec = { dist = "constant", value = "1s" }
arrivals = { kind = "periodic", period = "10s" }
"#;
    let row = summary(text);
    assert_eq!(get(&row, "arrivals"), 10.0);
    assert_eq!(get(&row, "failed"), 10.0);
    assert_eq!(get(&row, "retries"), 10.0);
    assert_eq!(get(&row, "killed_oom"), 20.0);
    assert!(get(&row, "lost_work_s") < 20.0);
}

/// Instances are recycled after their maximum lifetime, when idle.
#[test]
fn instances_are_recycled_at_their_lifetime() {
    let text = r#"
name = "life"
duration = "1000s"
[hosts]
count = 1
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "1h"
[faults]
max_lifetime = "95s"
[[functions]]
name = "f"
memory_mb = 128
init = { dist = "constant", value = "0s" }
exec = { dist = "constant", value = "1s" }
arrivals = { kind = "periodic", period = "10s" }
"#;
    let row = summary(text);
    // An instance started at t serves the calls at t, t+10, ..., t+90 and
    // is recycled at t+95: one cold start every 100 s, nothing lost.
    assert_eq!(get(&row, "cold_starts"), 10.0);
    assert_eq!(get(&row, "recycled_lifetime"), 10.0);
    assert_eq!(get(&row, "lost_work_s"), 0.0);
    assert_eq!(get(&row, "failed"), 0.0);
}

/// Billing on hand-computed examples: ten 1.5 ms calls of a 1 GB function
/// on 2 hosts for 100 s.
#[test]
fn billing_rounds_each_attempt_up_to_its_granularity() {
    let text = |g: &str| {
        format!(
            r#"
name = "bill"
duration = "100s"
[hosts]
count = 2
memory_mb = 4096
cores = 8
[billing]
granularity = "{g}"
[[functions]]
name = "f"
memory_mb = 1024
init = {{ dist = "constant", value = "0s" }}
exec = {{ dist = "constant", value = "1500us" }}
arrivals = {{ kind = "periodic", period = "10s" }}
"#
        )
    };
    let fees = 10.0 * 0.20 / 1e6;
    for (g, gb_s) in [("1ms", 10.0 * 0.002), ("100ms", 10.0 * 0.1), ("1s", 10.0)] {
        let row = summary(&text(g));
        assert!((get(&row, "billed_gb_s") - gb_s).abs() < 1e-9, "{g}");
        let bill = gb_s * 0.0000166667 + fees;
        assert!((get(&row, "bill_usd") - bill).abs() < 1e-9, "{g}");
    }
    let row = summary(&text("1ms"));
    // 2 hosts x 100 s on; 0.384 USD per host-hour.
    let hours = 200.0 / 3600.0;
    assert!((get(&row, "host_hours") - hours).abs() < 1e-9);
    assert!((get(&row, "provider_cost_usd") - hours * 0.384).abs() < 1e-9);
    // Energy: 100 W idle x 200 host-s + 200 W x (10 x 1.5 ms busy core-s
    // / 8 cores per host).
    let joules = 100.0 * 200.0 + 200.0 * (10.0 * 0.0015) / 8.0;
    assert!((get(&row, "energy_kwh") - joules / 3.6e6).abs() < 1e-12);
    let margin = get(&row, "bill_usd") - get(&row, "provider_cost_usd");
    assert!((get(&row, "margin_usd") - margin).abs() < 1e-12);
}

/// Spot hosts get a notice, move their instances away as they go idle,
/// and are reclaimed; the capacity comes back later.
#[test]
fn preemption_moves_instances_away_during_the_notice() {
    let text = r#"
name = "spot"
duration = "600s"
[hosts]
count = 2
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "1h"
[retry]
backoff = "0s"
[faults.preemption]
first = 0
count = 1
interval = { dist = "constant", value = "95s" }
notice = "2m"
down = { dist = "constant", value = "10m" }
[[functions]]
name = "f"
memory_mb = 100
init = { dist = "constant", value = "0s" }
exec = { dist = "constant", value = "25s" }
arrivals = { kind = "periodic", period = "10s" }
"#;
    let row = summary(text);
    // The notice at 95 s pops before the Done events of that instant (it
    // was scheduled at time 0), so calls 7, 8 and 9 run on host 0 then and
    // nothing is idle there. Each finishes within the 2-minute notice (at
    // 95, 105 and 115 s), and its instance moves to host 1 instead of
    // staying idle on the draining host; later calls find them warm. The
    // reclaim at 215 s finds host 0 empty: nothing is lost or retried.
    assert_eq!(get(&row, "relocations"), 3.0);
    assert_eq!(get(&row, "killed_preemption"), 0.0);
    assert_eq!(get(&row, "lost_work_s"), 0.0);
    assert_eq!(get(&row, "retries"), 0.0);
    assert_eq!(get(&row, "cold_starts"), 3.0);
    assert_eq!(get(&row, "failed"), 0.0);
    assert_eq!(get(&row, "completed"), get(&row, "arrivals"));
    // Host 0 is gone from 215 s to the end (600 s): 1 + 215/600 hosts on.
    let on = get(&row, "mean_hosts_on");
    assert!((on - (1.0 + 215.0 / 600.0)).abs() < 1e-9, "{on}");
}

/// Without relocation, what is still on a reclaimed host dies with it.
#[test]
fn a_short_notice_kills_what_still_runs() {
    let text = r#"
name = "spot-short"
duration = "300s"
[hosts]
count = 2
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "1h"
[retry]
backoff = "0s"
[faults.preemption]
first = 0
count = 1
interval = { dist = "constant", value = "97s" }
notice = "1s"
relocate = false
down = { dist = "constant", value = "1h" }
[[functions]]
name = "f"
memory_mb = 100
init = { dist = "constant", value = "0s" }
exec = { dist = "constant", value = "25s" }
arrivals = { kind = "periodic", period = "10s" }
"#;
    let row = summary(text);
    // Notice at 97 s: the idle instance (call 7's) is evicted; at the
    // reclaim, 98 s, calls 8 (80 s) and 9 (90 s) die after 18 s and 8 s of
    // work and are retried on host 1.
    assert_eq!(get(&row, "killed_preemption"), 3.0);
    assert_eq!(get(&row, "lost_work_s"), 26.0);
    assert_eq!(get(&row, "retries"), 2.0);
    assert_eq!(get(&row, "relocations"), 0.0);
    assert_eq!(get(&row, "completed"), 30.0);
}

/// Consolidation empties a lightly used host of its idle instances and
/// powers it off; demand powers it on again.
#[test]
fn consolidation_powers_off_a_host_emptied_of_idle_instances() {
    let text = |every: &str| {
        format!(
            r#"
name = "consolidate"
duration = "1h"
[hosts]
count = 2
memory_mb = 1024
[placement]
kind = "round-robin"
[keepalive]
kind = "fixed"
ttl = "30m"
[faults.consolidation]
every = "{every}"
threshold = 0.5
min_on = 1
[[functions]]
name = "a"
memory_mb = 256
init = {{ dist = "constant", value = "100ms" }}
exec = {{ dist = "constant", value = "1s" }}
arrivals = {{ kind = "periodic", period = "5m" }}
[[functions]]
name = "b"
memory_mb = 256
init = {{ dist = "constant", value = "100ms" }}
exec = {{ dist = "constant", value = "1s" }}
arrivals = {{ kind = "periodic", period = "5m", phase = "1s" }}
"#
        )
    };
    // Round-robin puts a on host 0 and b on host 1. At 2 min both hosts
    // are a quarter full with idle instances: host 0's instance moves to
    // host 1 (round-robin's next host), host 0 goes off, and stays off.
    let row = summary(&text("2m"));
    assert_eq!(get(&row, "relocations"), 1.0);
    assert_eq!(get(&row, "cold_starts"), 2.0);
    assert_eq!(get(&row, "completed"), 24.0);
    let on = get(&row, "mean_hosts_on");
    assert!((on - (1.0 + 120.0 / 3600.0)).abs() < 1e-6, "{on}");
    assert!(get(&row, "host_hours") < 1.1);
}

/// Spreading moves idle instances off a heavily used host.
#[test]
fn spreading_moves_idle_instances_off_a_full_host() {
    let mut text = String::from(
        r#"
name = "spread"
duration = "1h"
[hosts]
count = 2
memory_mb = 1024
[keepalive]
kind = "fixed"
ttl = "30m"
[faults.consolidation]
every = "2m"
mode = "spread"
threshold = 0.5
"#,
    );
    for i in 0..4 {
        text += &format!(
            "[[functions]]\nname = \"f{i}\"\nmemory_mb = 256\ninit = {{ dist = \"constant\", value = \"100ms\" }}\nexec = {{ dist = \"constant\", value = \"1s\" }}\narrivals = {{ kind = \"periodic\", period = \"5m\", phase = \"{i}s\" }}\n"
        );
    }
    // First-fit fills host 0 with the four instances (1024 MB, 100%); at
    // 2 min, with all four idle, the two idle longest move to host 1,
    // leaving host 0 at 50%; nothing moves after that.
    let row = summary(&text);
    assert_eq!(get(&row, "relocations"), 2.0);
    assert_eq!(get(&row, "cold_starts"), 4.0);
    assert_eq!(get(&row, "mean_hosts_on"), 2.0);
}

/// Bad values of the fault, retry and billing keys name the file, the key
/// path and what was expected, in one line.
#[test]
fn bad_fault_retry_and_billing_keys_name_their_path() {
    let base = failing("", "max_attempts = 3");
    let cases: &[(&str, &str, &str)] = &[
        ("max_attempts = 3", "max_attempts = 0", "retry.max_attempts"),
        ("max_attempts = 3", "multiplier = 0.5", "retry.multiplier"),
        (
            "max_attempts = 3",
            "backoff = \"30s\"\nmax_backoff = \"1s\"",
            "retry.max_backoff",
        ),
        ("first = 0", "first = 7", "faults.failures.first"),
        (
            "time_to_failure = { dist = \"constant\", value = \"97s\" }",
            "time_to_failure = { dist = \"constant\", value = \"0s\" }",
            "faults.failures.time_to_failure",
        ),
        (
            "[faults.failures]",
            "[faults]\nmax_lifetime = \"0s\"\n[faults.failures]",
            "faults.max_lifetime",
        ),
        (
            "[faults.failures]",
            "[faults.consolidation]\nevery = \"1m\"\nthreshold = 1.5\n[faults.failures]",
            "faults.consolidation.threshold",
        ),
        (
            "[faults.failures]",
            "[faults.consolidation]\nevery = \"1m\"\nmode = \"shuffle\"\n[faults.failures]",
            "faults.consolidation.mode",
        ),
        (
            "[faults.failures]",
            "[billing]\ngranularity = \"0s\"\n[faults.failures]",
            "billing.granularity",
        ),
        (
            "[faults.failures]",
            "[billing]\nidle_watts = 400.0\n[faults.failures]",
            "billing.peak_watts",
        ),
        (
            "memory_mb = 100",
            "memory_mb = 100\nmemory_used = { dist = \"constant\", mb = 0 }",
            "functions[0].memory_used",
        ),
        (
            "memory_mb = 100",
            "memory_mb = 100\nretry = { max_attempts = 0 }",
            "functions[0].retry.max_attempts",
        ),
    ];
    for (from, to, want) in cases {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let e = coldsim::scenario::parse_str(&text, "p.toml").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.starts_with("p.toml") && msg.contains(want) && !msg.contains('\n'),
            "{to}: {msg}"
        );
    }
}
