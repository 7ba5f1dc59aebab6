//! Every placement policy through the simulator, with the platform's
//! invariants checked after every event: counters add up, runs are
//! deterministic, and packing and spreading policies differ where they must.

mod common;

use coldsim::policy::placement::{PlacementCfg, consistent_hash, random};
use common::*;

/// Every placement kind as it is written in a scenario file.
const KINDS: [&str; 8] = [
    r#"{ kind = "first-fit" }"#,
    r#"{ kind = "best-fit" }"#,
    r#"{ kind = "worst-fit" }"#,
    r#"{ kind = "least-loaded" }"#,
    r#"{ kind = "round-robin" }"#,
    r#"{ kind = "random", tries = 4 }"#,
    r#"{ kind = "power-of-two" }"#,
    r#"{ kind = "consistent-hash", epsilon = 0.25, probes = 8 }"#,
];

/// A small memory-constrained mix: 4 hosts of 2 GiB, apps of 128 MB to
/// 1.5 GiB, Poisson arrivals, LRU eviction and a short queue.
fn mixed(placement: &str, seed: u64) -> String {
    let mut t = format!(
        "name = \"placement-mix\"\nseed = {seed}\nduration = \"120s\"\n\
         placement = {placement}\n\
         [hosts]\ncount = 4\nmemory_mb = 2048\ncores = 4\n\
         [queue]\nmax_len = 20\ntimeout = \"5s\"\n\
         [keepalive]\nkind = \"fixed\"\nttl = \"30s\"\n\
         [eviction]\nkind = \"lru\"\n"
    );
    for i in 0..8 {
        let mb = [128, 256, 512, 1536][i % 4];
        t += &format!(
            "[[functions]]\nname = \"f{i}\"\nmemory_mb = {mb}\n\
             init = {{ dist = \"exponential\", mean = \"300ms\" }}\n\
             exec = {{ dist = \"exponential\", mean = \"{}ms\" }}\n\
             arrivals = {{ kind = \"poisson\", rate = \"{}/s\" }}\n",
            200 + 150 * i,
            1 + i % 3
        );
    }
    t
}

#[test]
fn every_policy_keeps_the_books() {
    for kind in KINDS {
        for seed in [1, 2] {
            let text = mixed(kind, seed);
            let s = scenario(&text);
            let r = run(&s, 0);
            let c = &r.metrics.counters;
            assert!(c.arrivals > 500, "{kind}: {c:?}");
            assert_eq!(c.arrivals, c.completed + c.rejected(), "{kind} seed {seed}");
            assert_eq!(c.completed, c.cold + c.warm, "{kind}");
            assert_eq!(c.instances_started, c.cold + c.prewarm_started, "{kind}");
            assert_eq!(
                c.instances_started,
                c.evicted_keepalive + c.evicted_pressure + r.instances_alive,
                "{kind}"
            );
            assert!(
                c.evicted_pressure > 0,
                "{kind}: the mix is meant to be tight"
            );
            // Deterministic: the same seed gives the same event stream.
            assert_eq!(run_fast(&s, 0).fingerprint, r.fingerprint, "{kind}");
        }
    }
}

#[test]
fn policies_see_different_runs() {
    let fp = |kind: &str| run(&scenario(&mixed(kind, 1)), 0).fingerprint;
    let first = fp(KINDS[0]);
    // Aliases are the same policy.
    assert_eq!(fp(KINDS[2]), fp(KINDS[3]));
    for kind in KINDS[1..].iter().filter(|k| !k.contains("least-loaded")) {
        assert_ne!(fp(kind), first, "{kind} ran exactly as first-fit");
    }
}

/// Two hosts of 1000 MB; two 400 MB instances of `small` start at 0 s and
/// 1 s and run for 10 s; at 1.5 s a 1000 MB instance of `big` needs a whole
/// host. No queue and no eviction: it starts or is rejected at once.
fn fragmentation(placement: &str) -> String {
    format!(
        "name = \"fragmentation\"\nseed = 3\nduration = \"1.8s\"\n\
         placement = {placement}\n\
         [hosts]\ncount = 2\nmemory_mb = 1000\ncores = 2\n\
         [queue]\nmax_len = 0\n\
         [keepalive]\nkind = \"none\"\n\
         [eviction]\nkind = \"none\"\n\
         [[functions]]\nname = \"small\"\nmemory_mb = 400\n\
         init = {{ dist = \"constant\", value = \"0s\" }}\n\
         exec = {{ dist = \"constant\", value = \"10s\" }}\n\
         arrivals = {{ kind = \"periodic\", period = \"1s\" }}\n\
         [[functions]]\nname = \"big\"\nmemory_mb = 1000\n\
         init = {{ dist = \"constant\", value = \"0s\" }}\n\
         exec = {{ dist = \"constant\", value = \"1s\" }}\n\
         arrivals = {{ kind = \"periodic\", period = \"100s\", phase = \"1.5s\" }}\n"
    )
}

#[test]
fn packing_leaves_room_and_spreading_does_not() {
    // Packing puts both small instances on host 0 (first-fit: lowest host;
    // best-fit: tightest hole; consistent hashing: the app's home, below
    // the load cap ⌈1.25 × 2 / 2⌉ = 2), so `big` gets host 1. Spreading puts
    // one on each host (worst-fit: most free; round-robin: next host;
    // power-of-two with 2 hosts draws both and takes the emptier), so no
    // host has 1000 MB for `big`.
    for (kind, rejected) in [
        (r#"{ kind = "first-fit" }"#, 0),
        (r#"{ kind = "best-fit" }"#, 0),
        (r#"{ kind = "consistent-hash" }"#, 0),
        (r#"{ kind = "worst-fit" }"#, 1),
        (r#"{ kind = "least-loaded" }"#, 1),
        (r#"{ kind = "round-robin" }"#, 1),
        (r#"{ kind = "power-of-two" }"#, 1),
    ] {
        let r = run(&scenario(&fragmentation(kind)), 0);
        let c = &r.metrics.counters;
        assert_eq!(c.arrivals, 3, "{kind}");
        assert_eq!(c.rejected_queue_full, rejected, "{kind}");
        assert_eq!(c.completed, 3 - rejected, "{kind}");
        assert_eq!(r.metrics.per_fn[1].counts.rejected, rejected, "{kind}: big");
    }
    // Random packs in about half of the seeds and spreads in the rest.
    let outcomes: Vec<u64> = (0..40)
        .map(|rep| {
            let r = run(&scenario(&fragmentation(r#"{ kind = "random" }"#)), rep);
            r.metrics.counters.rejected()
        })
        .collect();
    let spread = outcomes.iter().filter(|&&x| x == 1).count();
    assert!(outcomes.iter().all(|&x| x <= 1));
    assert!((8..=32).contains(&spread), "{outcomes:?}");
}

#[test]
fn scenario_keys_and_defaults() {
    let s = scenario(&mixed(r#"{ kind = "least-loaded" }"#, 1));
    assert_eq!(s.placement, PlacementCfg::WorstFit(Default::default()));
    let s = scenario(&mixed(r#"{ kind = "consistent-hash" }"#, 1));
    assert_eq!(
        s.placement,
        PlacementCfg::ConsistentHash(consistent_hash::Config {
            epsilon: 0.25,
            probes: 32
        })
    );
    let s = scenario(&mixed(r#"{ kind = "random" }"#, 1));
    assert_eq!(
        s.placement,
        PlacementCfg::Random(random::Config { tries: 8 })
    );
    for (bad, want) in [
        (
            r#"{ kind = "consistent-hash", epsilon = -0.5 }"#,
            "epsilon must be",
        ),
        (
            r#"{ kind = "random", probes = 3 }"#,
            "unknown field `probes`",
        ),
        (
            r#"{ kind = "snapshot-locality", fallback = { kind = "nearest" } }"#,
            "unknown placement kind",
        ),
        (
            r#"{ kind = "snapshot-locality", probes = 0 }"#,
            "placement.probes",
        ),
    ] {
        let e = coldsim::scenario::parse_str(&mixed(bad, 1), "t.toml")
            .err()
            .unwrap_or_else(|| panic!("{bad} parsed"))
            .to_string();
        assert!(e.contains(want) && e.contains("placement."), "{bad}: {e}");
    }
}
