//! Snapshots, state and per-instance concurrency on hand-checked cases:
//! exact start kinds, start delays and slowed executions.

mod common;

use coldsim::report::summary_row;
use common::*;

/// One 1 GB function with 250 MB of state called once a minute and scaled
/// to zero after each call, so every call is a cold start.
fn periodic(extra: &str, hosts: u32, placement: &str) -> String {
    format!(
        r#"
name = "snap"
duration = "600s"
[hosts]
count = {hosts}
memory_mb = 4096
[placement]
kind = "{placement}"
[keepalive]
kind = "none"
[state]
load_bandwidth = "125MB/s"
[snapshots]
enabled = true
take = {{ dist = "constant", value = "0s" }}
take_bandwidth = "1GB/s"
restore = {{ dist = "constant", value = "50ms" }}
remote_bandwidth = "125MB/s"
slowdown = 0.95
slowdown_invocations = 1
{extra}
[[functions]]
name = "f"
memory_mb = 1024
state_mb = 250
init = {{ dist = "constant", value = "1s" }}
exec = {{ dist = "constant", value = "100ms" }}
arrivals = {{ kind = "periodic", period = "60s" }}
"#
    )
}

/// A percentile from a histogram of 3 significant digits: within 0.1%.
fn near(got: f64, want: f64) -> bool {
    (got - want).abs() <= want * 1e-3
}

fn summary(text: &str) -> coldsim::report::Row {
    let s = scenario(text);
    summary_row(&s, 0, &run(&s, 0))
}

#[test]
fn first_full_init_takes_the_snapshot_then_restores_locally() {
    let row = summary(&periodic("", 1, "first-fit"));
    assert_eq!(get(&row, "arrivals"), 10.0);
    assert_eq!(get(&row, "cold_starts"), 10.0);
    assert_eq!(get(&row, "cold_full"), 1.0);
    assert_eq!(get(&row, "cold_local_restore"), 9.0);
    assert_eq!(get(&row, "cold_remote_restore"), 0.0);
    assert_eq!(get(&row, "snapshots_taken"), 1.0);
    assert_eq!(get(&row, "snapshot_store_mb"), 1024.0);
    // Full: 1 s init + 250 MB / 125 MB/s + 1024 MB / 1 GB/s to take it.
    assert!(
        near(get(&row, "start_full_p50_ms"), 4000.0),
        "start_full_p50_ms {}",
        get(&row, "start_full_p50_ms")
    );
    assert!(
        near(get(&row, "start_local_p50_ms"), 50.0),
        "start_local_p50_ms {}",
        get(&row, "start_local_p50_ms")
    );
    // Restored instances run their one call 95% slower: 195 ms.
    assert_eq!(get(&row, "exec_mean_ms"), (100.0 + 9.0 * 195.0) / 10.0);
    assert!(
        near(get(&row, "latency_max_ms"), 4100.0),
        "latency_max_ms {}",
        get(&row, "latency_max_ms")
    );
}

#[test]
fn another_host_fetches_from_the_remote_store() {
    // Round-robin alternates the two hosts: host 0 takes the snapshot at
    // t = 0; host 1 fetches it at t = 60 s (1024 MB at 125 MB/s = 8.192 s,
    // then the 50 ms restore); every later start is local.
    let row = summary(&periodic("", 2, "round-robin"));
    assert_eq!(get(&row, "cold_full"), 1.0);
    assert_eq!(get(&row, "cold_remote_restore"), 1.0);
    assert_eq!(get(&row, "cold_local_restore"), 8.0);
    assert!(
        near(get(&row, "start_remote_p50_ms"), 8242.0),
        "start_remote_p50_ms {}",
        get(&row, "start_remote_p50_ms")
    );
}

#[test]
fn without_a_remote_store_each_host_initialises_once() {
    let row = summary(&periodic("remote = false", 2, "round-robin"));
    assert_eq!(get(&row, "cold_full"), 2.0);
    assert_eq!(get(&row, "snapshots_taken"), 2.0);
    assert_eq!(get(&row, "cold_remote_restore"), 0.0);
    assert_eq!(get(&row, "snapshot_store_mb"), 0.0);
}

#[test]
fn eager_restore_reads_the_file_and_no_slowdown_without_it() {
    let text = periodic("local_bandwidth = \"2GB/s\"", 1, "first-fit")
        .replace("slowdown_invocations = 1", "slowdown_invocations = 0");
    let row = summary(&text);
    // 50 ms + 1024 MB / 2 GB/s = 550 ms; executions are not slowed.
    assert!(
        near(get(&row, "start_local_p50_ms"), 550.0),
        "start_local_p50_ms {}",
        get(&row, "start_local_p50_ms")
    );
    assert_eq!(get(&row, "exec_mean_ms"), 100.0);
}

#[test]
fn at_deploy_snapshots_mean_no_full_init() {
    let row = summary(&periodic("create = \"at-deploy\"", 1, "first-fit"));
    assert_eq!(get(&row, "cold_full"), 0.0);
    assert_eq!(get(&row, "snapshots_taken"), 0.0);
    assert_eq!(get(&row, "cold_remote_restore"), 1.0);
    assert_eq!(get(&row, "cold_local_restore"), 9.0);
}

#[test]
fn snapshots_off_prices_state_in_every_start() {
    let text = periodic("", 1, "first-fit").replace("enabled = true", "enabled = false");
    let row = summary(&text);
    assert_eq!(get(&row, "cold_full"), 10.0);
    // 1 s + 250 MB / 125 MB/s, no snapshot taken.
    assert!(
        near(get(&row, "start_full_p50_ms"), 3000.0),
        "start_full_p50_ms {}",
        get(&row, "start_full_p50_ms")
    );
    assert_eq!(get(&row, "snapshots_taken"), 0.0);
}

/// Two apps alternating on one host whose cache holds one snapshot: each
/// start evicts the other's snapshot and fetches its own again.
fn alternating(cache_mb: u32, eviction: &str) -> String {
    format!(
        r#"
name = "snap-cache"
duration = "600s"
[hosts]
count = 1
memory_mb = 4096
[keepalive]
kind = "none"
[snapshots]
enabled = true
create = "at-deploy"
cache_mb = {cache_mb}
cache_eviction = "{eviction}"
restore = {{ dist = "constant", value = "10ms" }}
[[functions]]
name = "a"
memory_mb = 1024
exec = {{ dist = "constant", value = "100ms" }}
arrivals = {{ kind = "periodic", period = "60s" }}
[[functions]]
name = "b"
memory_mb = 1024
exec = {{ dist = "constant", value = "100ms" }}
arrivals = {{ kind = "periodic", period = "60s", phase = "30s" }}
"#
    )
}

#[test]
fn a_cache_too_small_for_both_thrashes() {
    for eviction in ["lru", "lfu", "greedy-dual"] {
        let row = summary(&alternating(1024, eviction));
        assert_eq!(get(&row, "cold_remote_restore"), 20.0, "{eviction}");
        assert_eq!(get(&row, "snapshot_cache_evictions"), 19.0, "{eviction}");
        let row = summary(&alternating(2048, eviction));
        assert_eq!(get(&row, "cold_remote_restore"), 2.0, "{eviction}");
        assert_eq!(get(&row, "cold_local_restore"), 18.0, "{eviction}");
        assert_eq!(get(&row, "snapshot_cache_evictions"), 0.0, "{eviction}");
    }
}

/// Many apps on many hosts with random placement: placing where the
/// snapshot is cached turns remote restores into local ones.
#[test]
fn snapshot_locality_restores_locally_more_often() {
    let run_with = |placement: &str| {
        let mut text = format!(
            r#"
name = "locality"
duration = "2h"
[hosts]
count = 20
memory_mb = 8192
[placement]
{placement}
[keepalive]
kind = "fixed"
ttl = "1m"
[snapshots]
enabled = true
cache_mb = 4096
"#
        );
        for i in 0..12 {
            text += &format!(
                "[[functions]]\nname = \"f{i}\"\nmemory_mb = 512\nexec = {{ dist = \"constant\", value = \"200ms\" }}\narrivals = {{ kind = \"poisson\", rate = \"{}/h\" }}\n",
                20 + 5 * i
            );
        }
        summary(&text)
    };
    let random = run_with("kind = \"random\"");
    let local = run_with("kind = \"snapshot-locality\"\nfallback = { kind = \"random\" }");
    let share = |r: &coldsim::report::Row| {
        get(r, "cold_local_restore") / (get(r, "cold_starts") - get(r, "cold_full"))
    };
    assert!(
        share(&local) > 0.9 && share(&random) < 0.7,
        "local share: locality {:.3}, random {:.3}",
        share(&local),
        share(&random)
    );
}

/// An app whose instances serve 4 invocations at once: bursts of 4
/// simultaneous calls need one instance, bursts of 6 need two.
#[test]
fn concurrent_invocations_share_an_instance() {
    let text = |k: u32, n: u32| {
        let mut t = format!(
            r#"
name = "multi"
duration = "600s"
[hosts]
count = 1
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "1h"
[[apps]]
name = "svc"
memory_mb = 512
concurrency = {k}
init = {{ dist = "constant", value = "1s" }}
"#
        );
        for i in 0..n {
            t += &format!(
                "[[functions]]\nname = \"f{i}\"\napp = \"svc\"\nexec = {{ dist = \"constant\", value = \"500ms\" }}\narrivals = {{ kind = \"periodic\", period = \"60s\" }}\n"
            );
        }
        t
    };
    let row = summary(&text(4, 4));
    assert_eq!(get(&row, "instances_started"), 1.0);
    assert_eq!(
        get(&row, "cold_starts"),
        4.0,
        "the first burst waits for the one start"
    );
    assert_eq!(get(&row, "warm_starts"), 36.0);
    let row = summary(&text(4, 6));
    assert_eq!(get(&row, "instances_started"), 2.0);
    assert_eq!(get(&row, "cold_starts"), 6.0);
    // Concurrency 1 needs one instance per concurrent call.
    let row = summary(&text(1, 6));
    assert_eq!(get(&row, "instances_started"), 6.0);
    // Busy instances: 1 (or 2) for 0.5 s a minute; running calls: n x 0.5 s
    // a minute, minus the first minute's init.
    let row = summary(&text(4, 4));
    let running = get(&row, "mean_running_invocations");
    assert!((running - 4.0 * 5.0 / 600.0).abs() < 1e-9, "{running}");
}

/// Bad values of the state, snapshot, concurrency and limit keys name the
/// file, the key path and what was expected.
#[test]
fn bad_new_keys_name_their_path() {
    let base = periodic("", 1, "first-fit");
    let cases: &[(&str, &str, &str)] = &[
        ("state_mb = 250", "state_mb = 2000", "functions[0].state_mb"),
        (
            "state_mb = 250",
            "concurrency = 0",
            "functions[0].concurrency",
        ),
        (
            "state_mb = 250",
            "max_concurrency = 0",
            "functions[0].max_concurrency",
        ),
        (
            "state_mb = 250",
            "snapshot_mb = 0",
            "functions[0].snapshot_mb",
        ),
        (
            "load_bandwidth = \"125MB/s\"",
            "load_bandwidth = 125",
            "state.load_bandwidth",
        ),
        (
            "load_bandwidth = \"125MB/s\"",
            "load_bandwidth = \"0MB/s\"",
            "state.load_bandwidth",
        ),
        ("slowdown = 0.95", "slowdown = -1.0", "snapshots.slowdown"),
        (
            "remote_bandwidth = \"125MB/s\"",
            "remote_bandwidth = \"fast\"",
            "snapshots.remote_bandwidth",
        ),
        (
            "enabled = true",
            "enabled = true\ncreate = \"later\"",
            "snapshots.create",
        ),
        (
            "enabled = true",
            "enabled = true\ncache_eviction = \"fifo\"",
            "snapshots.cache_eviction",
        ),
        (
            "[state]",
            "[limits]\nmax_concurrency = 0\n[state]",
            "limits.max_concurrency",
        ),
        (
            "[state]",
            "[limits]\nthrottle = \"drop\"\n[state]",
            "limits.throttle",
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
    // App-level keys on a function that has an app belong to the app.
    let text = alternating(1024, "lru").replace(
        "[[functions]]\nname = \"a\"\nmemory_mb = 1024",
        "[[apps]]\nname = \"x\"\n[[functions]]\nname = \"a\"\napp = \"x\"\nconcurrency = 2",
    );
    let e = coldsim::scenario::parse_str(&text, "p.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("functions[0].concurrency") && e.contains("belongs to the app"),
        "{e}"
    );
}
