//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use coldsim::report::{Cell, Row};
use coldsim::run::{RunResult, RunSpec};
use coldsim::scenario::{Scenario, parse_str};
use coldsim::sim;

/// The run spec of a scenario (traces and profiles relative to the current
/// folder).
pub fn spec(s: &Scenario) -> RunSpec {
    match RunSpec::new(s, Path::new(".")) {
        Ok(spec) => spec,
        Err(e) => panic!("scenario {} has no run spec: {e}", s.name),
    }
}

/// Parses a scenario that the test wrote; panics with the error if it is bad.
pub fn scenario(text: &str) -> Scenario {
    match parse_str(text, "test scenario") {
        Ok(sf) => sf.base,
        Err(e) => panic!("test scenario does not parse: {e}\n{text}"),
    }
}

/// Runs a scenario with invariant checks after every event.
pub fn run(s: &Scenario, replicate: u64) -> RunResult {
    match sim::run_checked(&spec(s), replicate) {
        Ok(r) => r,
        Err(e) => panic!(
            "invariant violated (scenario {}, seed {}, replicate {replicate}): {e}",
            s.name, s.seed
        ),
    }
}

/// Runs without the per-event invariant check (for long oracle runs).
pub fn run_fast(s: &Scenario, replicate: u64) -> RunResult {
    match sim::run(&spec(s), replicate) {
        Ok(r) => r,
        Err(e) => panic!("run failed (seed {}, replicate {replicate}): {e}", s.seed),
    }
}

pub fn get(row: &Row, key: &str) -> f64 {
    match row.iter().find(|(k, _)| *k == key) {
        Some((_, c)) => c.as_f64().unwrap_or(f64::NAN),
        None => panic!("no column {key}"),
    }
}

pub fn text(row: &Row, key: &str) -> String {
    match row.iter().find(|(k, _)| *k == key) {
        Some((_, Cell::Text(s))) => s.clone(),
        Some((_, c)) => c.render(),
        None => panic!("no column {key}"),
    }
}

/// Mean and standard error of the mean of a sample.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    coldsim::report::stats::mean_se(xs)
}

/// Erlang-B blocking probability B(c, a), by the stable recurrence.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    b
}

/// Erlang-C waiting probability C(c, a) for a < c.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let b = erlang_b(c, a);
    let rho = a / c as f64;
    b / (1.0 - rho * (1.0 - b))
}
