//! Scenarios shared by the benches.
#![allow(dead_code)]

use coldsim::scenario::{Scenario, parse_str};

/// scenarios/bench-single.toml: the SimFaaS reference setting.
pub fn bench_single() -> Scenario {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/bench-single.toml");
    let text = std::fs::read_to_string(path).expect("scenarios/bench-single.toml");
    parse_str(&text, path).expect("bench-single parses").base
}

/// 1,000 functions in 250 apps on 100 hosts: Zipf-like popularity (rate of
/// the k-th function proportional to 1/k) over a total of 500 invocations
/// per second, lognormal execution times, app memory 128 to 1024 MB, a
/// 10-minute keep-alive; about 1 million invocations in `duration_s` 2000.
pub fn thousand_functions(duration_s: u64) -> Scenario {
    let n = 1000;
    let h: f64 = (1..=n).map(|k| 1.0 / k as f64).sum();
    let mut t = format!(
        "name = \"bench-1000fn\"\nseed = 1\nduration = \"{duration_s}s\"\n\
         [hosts]\ncount = 100\nmemory_mb = 32768\ncores = 16\n\
         [keepalive]\nkind = \"fixed\"\nttl = \"10m\"\n"
    );
    for a in 0..250 {
        t += &format!(
            "[[apps]]\nname = \"app{a}\"\nmemory_mb = {}\ninit = {{ dist = \"lognormal\", mean = \"{}ms\", sd = \"200ms\" }}\n",
            128 << (a % 4),
            300 + 10 * (a % 50)
        );
    }
    for k in 1..=n {
        let rate = 500.0 / h / k as f64;
        t += &format!(
            "[[functions]]\nname = \"f{k}\"\napp = \"app{}\"\nexec = {{ dist = \"lognormal\", mean = \"{}ms\", sd = \"{}ms\" }}\narrivals = {{ kind = \"poisson\", rate = \"{rate}/s\" }}\n",
            k % 250,
            50 + (k * 37) % 900,
            30 + (k * 11) % 300
        );
    }
    parse_str(&t, "bench-1000fn")
        .expect("generated scenario parses")
        .base
}
