//! Determinism: the same scenario and seed give byte-identical CSV files;
//! another seed gives different ones; the default scenario's summary does
//! not drift from its golden file.

mod common;

use coldsim::report::{csv_bytes, function_rows, latency_rows, summary_row};
use coldsim::scenario::{DEFAULT_SCENARIO, parse_str};
use coldsim::sim;

fn outputs(seed: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>, u64) {
    let mut sf = parse_str(DEFAULT_SCENARIO, "default").expect("default parses");
    sf.set_seed(seed);
    let s = &sf.base;
    let r = sim::run_scenario(s, 0).expect("runs");
    (
        csv_bytes(&[summary_row(s, 0, &r)]),
        csv_bytes(&function_rows(&r)),
        csv_bytes(&latency_rows(&r)),
        r.fingerprint,
    )
}

#[test]
fn same_seed_same_bytes_different_seed_different() {
    let a = outputs(1);
    let b = outputs(1);
    assert_eq!(a, b, "seed 1 twice gave different outputs");
    let c = outputs(2);
    assert_ne!(a.0, c.0, "seeds 1 and 2 gave the same summary.csv");
    assert_ne!(a.1, c.1, "seeds 1 and 2 gave the same functions.csv");
    assert_ne!(a.3, c.3, "seeds 1 and 2 gave the same event fingerprint");
}

#[test]
fn replicates_differ_and_repeat() {
    let s = parse_str(DEFAULT_SCENARIO, "default").unwrap().base;
    let r0 = sim::run_scenario(&s, 0).unwrap().fingerprint;
    let r1 = sim::run_scenario(&s, 1).unwrap().fingerprint;
    assert_ne!(r0, r1);
    assert_eq!(r1, sim::run_scenario(&s, 1).unwrap().fingerprint);
}

/// Reordering functions in the file leaves each function's draws unchanged
/// (streams are keyed by name), so per-function results are the same.
#[test]
fn function_order_does_not_change_draws() {
    let text = r#"
name = "order"
duration = "600s"
[hosts]
count = 2
memory_mb = 100000
[[functions]]
name = "a"
exec = { dist = "exponential", mean = "50ms" }
arrivals = { kind = "poisson", rate = "5/s" }
[[functions]]
name = "b"
exec = { dist = "lognormal", mean = "80ms", sd = "20ms" }
arrivals = { kind = "poisson", rate = "2/s" }
"#;
    let s1 = common::scenario(text);
    let mut s2 = s1.clone();
    s2.functions.reverse();
    let r1 = sim::run_scenario(&s1, 0).unwrap();
    let r2 = sim::run_scenario(&s2, 0).unwrap();
    let rows1 = function_rows(&r1);
    let mut rows2 = function_rows(&r2);
    rows2.reverse();
    assert_eq!(rows1, rows2);
}

/// The default scenario's summary.csv is pinned. If a change alters it on
/// purpose, regenerate with `UPDATE_GOLDEN=1 cargo test --release --test
/// determinism` and say why in the commit message.
#[test]
fn default_summary_matches_golden_file() {
    let (summary, functions, _, _) = outputs(1);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (name, got) in [
        ("default-summary.csv", summary),
        ("default-functions.csv", functions),
    ] {
        let path = dir.join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            want == got,
            "{name} drifted from the golden file:\nwant:\n{}\ngot:\n{}",
            String::from_utf8_lossy(&want),
            String::from_utf8_lossy(&got)
        );
    }
}
