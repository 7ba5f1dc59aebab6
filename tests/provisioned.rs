//! Provisioned concurrency (`min_instances`): instances started at time 0
//! that never expire, so a rarely called function stays warm, at the price
//! of idle memory for the whole run.

use coldsim::scenario::parse_str;
use coldsim::sim;

fn scenario(min: u32) -> String {
    format!(
        r#"
name = "prov"
seed = 3
duration = "2h"
[hosts]
count = 1
memory_mb = 4096
[keepalive]
kind = "fixed"
ttl = "1s"
[[apps]]
name = "api"
memory_mb = 256
init = {{ dist = "constant", value = "500ms" }}
min_instances = {min}
[[functions]]
name = "f"
app = "api"
exec = {{ dist = "exponential", mean = "100ms" }}
arrivals = {{ kind = "poisson", rate = "1/s" }}
"#
    )
}

#[test]
fn provisioned_instances_keep_a_function_warm() {
    let without = parse_str(&scenario(0), "p.toml").unwrap().base;
    let with = parse_str(&scenario(3), "p.toml").unwrap().base;
    let r0 = sim::run_checked(
        &coldsim::run::RunSpec::new(&without, std::path::Path::new(".")).unwrap(),
        0,
    )
    .unwrap();
    let r3 = sim::run_checked(
        &coldsim::run::RunSpec::new(&with, std::path::Path::new(".")).unwrap(),
        0,
    )
    .unwrap();
    let (c0, c3) = (&r0.metrics.counters, &r3.metrics.counters);
    assert_eq!(c0.arrivals, c3.arrivals, "same workload");
    // A 1 s keep-alive at 1 call/s: P(cold) = exp(-1 * 1.1) ≈ 0.33.
    let f0 = c0.cold as f64 / c0.completed as f64;
    let f3 = c3.cold as f64 / c3.completed as f64;
    assert!(f0 > 0.25, "without provisioning {f0}");
    // With 3 provisioned instances a call is cold only if it comes in the
    // first 500 ms or finds all three busy (rare at 0.1 busy on average).
    assert!(f3 < 0.005, "with provisioning {f3}");
    assert_eq!(c3.prewarm_started, 3);
    assert_eq!(c3.prewarm_wasted, 0);
    assert!(r3.instances_alive >= 3);
    // The price: at least three instances' memory idle all run long.
    let i = &r3.metrics.integrals;
    let horizon = r3.metrics.horizon.0 as u128;
    assert!(i.idle_mb + i.busy_mb + i.starting_mb >= 3 * 256 * horizon);
    // Without: about 0.6 idle instance on average; with: about 2.9.
    assert!(i.idle_mb > r0.metrics.integrals.idle_mb * 3);
}

#[test]
fn min_instances_belongs_to_the_app() {
    let text = scenario(0).replace("app = \"api\"\n", "app = \"api\"\nmin_instances = 2\n");
    let e = parse_str(&text, "p.toml").unwrap_err().to_string();
    assert!(e.contains("functions[0].min_instances"), "{e}");
    // A standalone function may carry it.
    let text = r#"
name = "solo"
duration = "10m"
[[functions]]
name = "f"
min_instances = 2
init = { dist = "constant", value = "0s" }
exec = { dist = "constant", value = "10ms" }
arrivals = { kind = "poisson", rate = "1/min" }
"#;
    let s = parse_str(text, "s.toml").unwrap().base;
    let r = sim::run_checked(
        &coldsim::run::RunSpec::new(&s, std::path::Path::new(".")).unwrap(),
        0,
    )
    .unwrap();
    assert_eq!(r.metrics.counters.cold, 0);
    assert_eq!(r.metrics.counters.prewarm_started, 2);
}

/// Bad values of the keys added with the policies name their key path.
#[test]
fn new_policy_keys_reject_bad_values_with_their_path() {
    let base = scenario(1);
    for (from, to, want) in [
        (
            "[keepalive]\nkind = \"fixed\"\nttl = \"1s\"",
            "[keepalive]\nkind = \"fixed\"\nttl = \"1s\"\nreset = \"never\"",
            "keepalive.reset",
        ),
        (
            "[keepalive]\nkind = \"fixed\"\nttl = \"1s\"",
            "[keepalive]\nkind = \"predictive\"\nweight = 0.0",
            "keepalive.weight",
        ),
        (
            "[keepalive]\nkind = \"fixed\"\nttl = \"1s\"",
            "[keepalive]\nkind = \"predictive\"\nmargin = 1.5",
            "keepalive.margin",
        ),
        (
            "[keepalive]\nkind = \"fixed\"\nttl = \"1s\"",
            "[keepalive]\nkind = \"hybrid\"\nmargin = \"lots\"",
            "keepalive.margin",
        ),
        (
            "min_instances = 1",
            "min_instances = -1",
            "apps[0].min_instances",
        ),
        ("seed = 3", "seed = 3\nwarm = \"oldest\"", "warm"),
        (
            "[hosts]",
            "[eviction]\nkind = \"biggest\"\n[hosts]",
            "eviction",
        ),
    ] {
        assert!(base.contains(from), "{from}");
        let text = base.replacen(from, to, 1);
        let e = parse_str(&text, "p.toml").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            msg.starts_with("p.toml") && msg.contains(want),
            "{to}: {msg}"
        );
    }
}
