//! Simulator versus real executor.
//!
//! The main test runs the first 30 s of `scenarios/compare-small.toml` on
//! real worker processes and in the simulator (priced by a profile measured
//! just before, with `calibrate --quick`'s sample counts at the quick sizes
//! and the scenario's), from the same arrivals, and requires:
//!
//! * the same number of starts of each kind, cold and warm invocations,
//!   failures and retries, evictions (keep-alive and pressure), snapshots
//!   taken and peak instances: exactly. The scenario keeps every decision
//!   far from a timing boundary (see its comment), and
//!   `compare_small_decisions_do_not_depend_on_timing` checks that the
//!   simulated counts stay the same when every start cost is divided by 10
//!   or multiplied by 4, or every execution is 300 ms longer, so a
//!   mismatch is a bug in the driver or the core, not noise;
//! * the median start delay of each start kind (full init, local restore)
//!   within a factor of 4 of the simulated one, or within 20 ms of it. Why
//!   that wide: the profile and the run are measured seconds apart on a
//!   shared 2-core VM. While this test was written the load average was 5
//!   to 7 (the machine 3x oversubscribed), and a start crosses some ten
//!   scheduling points (spawn, exec, connect, build, ready; for a snapshot
//!   take also the fork request, the fork, its connect and ready), each of
//!   which can wait for a time slice; over a dozen runs the real medians
//!   came out 0.85 to 3.2 times the simulated ones, at most 33 ms apart.
//!   A fork also tends to cost more in the run than in calibration, where
//!   five forks follow each other from one template: in the run a snapshot
//!   take is a template's first fork (the one that must write-protect
//!   every page of the state), and a restore competes with the CPU-bound
//!   executions. The 20 ms floor covers the forks of a few ms, where one
//!   scheduler wait is a factor of 10. The bound still catches a wrong
//!   mapping of start kinds to processes: a local restore performed or
//!   priced as a cold start of the 128 MiB app is 20 to 40 times off, well
//!   past 4 and 20 ms. The profile is measured at the scenario's own state
//!   sizes (`compare::profile_sizes`), so no cost is extrapolated.
//!
//! The other tests need no processes: the `calibration` key, the manifest
//! record of the profile, and the one-line errors of `compare`.

#![cfg(feature = "executor")]

use std::path::Path;
use std::process::Command;

use coldsim::calibration::{CalibrationProfile, Dispatch, Machine, Point, SCHEMA, StartCost};
use coldsim::compare::{self, CompareOptions, MetricRow};
use coldsim::executor::calibrate;
use coldsim::executor::driver::Work;
use coldsim::workload::Context;

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

fn compare_small(duration: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/compare-small.toml");
    let text = std::fs::read_to_string(path).expect("scenarios/compare-small.toml");
    assert!(text.contains("duration = \"60s\""));
    text.replacen(
        "duration = \"60s\"",
        &format!("duration = \"{duration}\""),
        1,
    )
}

fn row<'a>(rows: &'a [MetricRow], name: &str) -> &'a MetricRow {
    rows.iter()
        .find(|r| r.metric == name)
        .unwrap_or_else(|| panic!("no metric {name}"))
}

/// The counts that must match exactly.
const EXACT: [&str; 16] = [
    "arrivals",
    "completed",
    "rejected",
    "failed",
    "retries",
    "starts_full",
    "starts_local_restore",
    "starts_remote_restore",
    "cold_full",
    "cold_local_restore",
    "cold_remote_restore",
    "warm_starts",
    "snapshots_taken",
    "evicted_keepalive",
    "evicted_pressure",
    "peak_instances",
];

#[test]
fn real_run_matches_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("compare-small.toml");
    std::fs::write(&scenario, compare_small("30s")).unwrap();
    let profile = dir.path().join("profile.toml");
    let sf = coldsim::scenario::load(&scenario).unwrap();
    let sizes = compare::profile_sizes(&sf.base);
    assert_eq!(sizes, [0, 16, 64, 128]);
    let p = calibrate::measure_sizes(true, &sizes, Path::new(BIN), &mut |_| {}).unwrap();
    std::fs::write(&profile, p.to_toml()).unwrap();
    let out = dir.path().join("out");
    let o = compare::run(
        &CompareOptions {
            scenario: scenario.clone(),
            profile: Some(profile),
            out: Some(out.clone()),
            force: false,
            work: Work::Cpu,
            worker_bin: BIN.into(),
            command: vec!["test".into()],
        },
        &mut |_| {},
    )
    .unwrap();
    let table = compare::render(&o.rows);
    eprintln!("{table}");
    for name in EXACT {
        let r = row(&o.rows, name);
        assert_eq!(r.real, r.sim, "{name} differs:\n{table}");
    }
    // The 30 s cover one report round: every kind of decision happened.
    for (name, want) in [
        ("arrivals", 33.0),
        ("starts_full", 5.0),
        ("starts_local_restore", 5.0),
        ("warm_starts", 23.0),
        ("evicted_pressure", 1.0),
        ("peak_instances", 5.0),
    ] {
        assert_eq!(row(&o.rows, name).sim, want, "{name}:\n{table}");
    }
    for name in ["start_full_p50_ms", "start_local_p50_ms"] {
        let r = row(&o.rows, name);
        let ratio = r.real.max(r.sim) / r.real.min(r.sim).max(1e-3);
        assert!(
            ratio <= 4.0 || (r.sim - r.real).abs() <= 20.0,
            "{name}: real {:.3} ms, sim {:.3} ms: more than 4 times and 20 ms apart\n{table}",
            r.real,
            r.sim
        );
    }
    assert_eq!(o.real.stats.failed_invocations, 0);
    assert_eq!(o.real.stats.fallbacks, 0);
    // Five full inits that take snapshots: five templates, every other
    // start a fork.
    assert_eq!((o.real.stats.templates, o.real.stats.cold_spawns), (5, 0));
    assert_eq!(o.real.stats.forks, 10);
    // The results folder.
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    assert!(csv.starts_with("metric,real,sim,rel_error\n"), "{csv}");
    assert_eq!(csv.lines().count(), o.rows.len() + 1);
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("side,scenario,"));
    assert!(lines[1].starts_with("real,compare-small,") && lines[2].starts_with("sim,"));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["profile_source"], "option");
    assert_eq!(m["profile"]["sha256"].as_str().map(str::len), Some(64));
    assert!(out.join("profile.toml").is_file() && out.join("scenario.toml").is_file());
}

/// A profile with round numbers: cold 10 ms + 1 ms per MiB (points at 0
/// and 100 MiB), fork 2 ms + 0.1 ms per MiB, dispatch 50 us.
fn profile() -> CalibrationProfile {
    let cost = |fixed: f64, per_mb: f64| StartCost {
        fixed_ms: fixed,
        per_mb_ms: per_mb,
        points: [0u32, 100]
            .iter()
            .map(|&mb| {
                let ms = fixed + per_mb * f64::from(mb);
                Point {
                    state_mb: mb,
                    samples: 5,
                    median_ms: ms,
                    p10_ms: ms,
                    p90_ms: ms,
                    mad_ms: 0.0,
                }
            })
            .collect(),
    };
    CalibrationProfile {
        schema: SCHEMA,
        quick: true,
        machine: Machine {
            cores: 2,
            cpu_model: "test".into(),
            kernel: "test".into(),
            date: "2026-01-01T00:00:00Z".into(),
            coldsim_version: "0.1.0".into(),
        },
        cold: cost(10.0, 1.0),
        fork: cost(2.0, 0.1),
        warm: cost(0.02, 0.0),
        dispatch: Dispatch {
            samples: 10,
            median_us: 50.0,
            p10_us: 50.0,
            p90_us: 50.0,
            mad_us: 0.0,
        },
    }
}

/// One app of `state` MiB called every 10 s with a 1 s keep-alive (every
/// call cold: a full init that takes the snapshot, then local restores).
fn one_app(state: u64, calibration: &str) -> String {
    format!(
        r#"name = "one"
duration = "60s"
calibration = "{calibration}"
[hosts]
count = 1
memory_mb = 1024
[keepalive]
kind = "fixed"
ttl = "1s"
[snapshots]
enabled = true
remote = false
slowdown = 0.0
[[apps]]
name = "a"
memory_mb = 256
state_mb = {state}
[[functions]]
name = "f"
app = "a"
exec = {{ dist = "constant", value = "100ms" }}
arrivals = {{ kind = "periodic", period = "10s" }}
"#
    )
}

#[test]
fn calibration_key_prices_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile();
    std::fs::write(dir.path().join("p.toml"), p.to_toml()).unwrap();
    // 40 MiB: cold 50 ms, fork 6 ms (between the points, on the line).
    let path = dir.path().join("one.toml");
    std::fs::write(&path, one_app(40, "p.toml")).unwrap();
    let sf = coldsim::scenario::load(&path).unwrap();
    let ctx = Context {
        base_dir: sf.base_dir.clone(),
        skip_bad_rows: false,
    };
    let r = coldsim::sim::run_with(
        &coldsim::run::RunSpec::new(&sf.base, &ctx.base_dir).unwrap(),
        0,
        &ctx,
        &mut |_| {},
        None,
    )
    .unwrap();
    let m = &r.metrics;
    assert_eq!(m.counters.starts_by_kind, [1, 5, 0]);
    // A full init that takes the snapshot: cold + fork = 56 ms.
    assert!((m.start_by_kind[0].pct_ms(50.0) - 56.0).abs() < 0.1);
    assert!((m.start_by_kind[1].pct_ms(50.0) - 6.0).abs() < 0.01);
    // Every execution: 100 ms + the 50 us dispatch round trip.
    assert!((m.overall.exec.mean_ms() - 100.05).abs() < 1e-6);
    assert_eq!(m.peak_instances, 1);

    // Through the CLI: the manifest records the profile and its hash.
    let out = dir.path().join("res");
    let st = Command::new(BIN)
        .args(["run", path.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let want = coldsim::report::manifest::sha256_hex(p.to_toml().as_bytes());
    assert_eq!(m["calibration"]["sha256"], want.as_str());
    assert!(
        m["calibration"]["path"]
            .as_str()
            .unwrap()
            .ends_with("p.toml")
    );
}

#[test]
fn a_missing_or_bad_profile_is_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.toml");
    std::fs::write(&path, one_app(0, "nope.toml")).unwrap();
    for cmd in ["check", "run"] {
        let o = Command::new(BIN)
            .current_dir(dir.path())
            .args([cmd, "one.toml"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("nope.toml") && err.contains("calibration"),
            "{err}"
        );
    }
    std::fs::write(dir.path().join("nope.toml"), "schema = 1\n").unwrap();
    let o = Command::new(BIN)
        .current_dir(dir.path())
        .args(["check", "one.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("coldsim: error: ./nope.toml"), "{err}");
}

#[test]
fn compare_refuses_what_has_no_real_counterpart() {
    let dir = tempfile::tempdir().unwrap();
    let base = compare_small("30s");
    for (edit, key) in [
        (
            base.replace("remote = false", "remote = true"),
            "snapshots.remote",
        ),
        (
            base.replace("duration = \"30s\"", "duration = \"1h\""),
            "duration",
        ),
        (
            base.replace("state_mb = 16", "state_mb = 16\nconcurrency = 4"),
            "apps[1].concurrency",
        ),
    ] {
        std::fs::write(dir.path().join("s.toml"), edit).unwrap();
        let o = Command::new(BIN)
            .current_dir(dir.path())
            .args(["compare", "s.toml", "--profile", "p.toml"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("coldsim: error: s.toml: {key}:")),
            "{key}: {err}"
        );
        assert!(!dir.path().join("results").exists(), "nothing written");
    }
}

/// The decisions of compare-small (counts of every kind) do not move when
/// the start costs are 10 times smaller or 4 times larger than the test
/// profile's (a 128 MiB cold start of 0.55 s, against 0.08 to 0.13 s
/// measured on the development VM), or every execution is 300 ms longer:
/// what the exact match of the real test relies on.
#[test]
fn compare_small_decisions_do_not_depend_on_timing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("compare-small.toml");
    std::fs::write(&path, compare_small("60s")).unwrap();
    let sf = coldsim::scenario::load(&path).unwrap();
    let ctx = Context::default();
    let scaled = |k: f64, extra_us: f64| {
        let mut p = profile();
        for c in [&mut p.cold, &mut p.fork] {
            c.fixed_ms *= k;
            c.per_mb_ms *= k;
            for pt in &mut c.points {
                pt.median_ms *= k;
            }
        }
        p.dispatch.median_us += extra_us;
        let spec = coldsim::run::RunSpec::with_profile(&sf.base, None);
        let r = coldsim::sim::run_calibrated(&spec, 0, &ctx, &p).unwrap();
        let c = &r.metrics.counters;
        (
            c.starts_by_kind,
            c.cold_by_kind,
            c.warm,
            c.evicted_keepalive,
            c.evicted_pressure,
            r.metrics.peak_instances,
        )
    };
    let base = scaled(1.0, 0.0);
    assert_eq!(base, ([5, 13, 0], [5, 13, 0], 48, 14, 2, 5));
    for (k, extra) in [(0.1, 0.0), (4.0, 0.0), (1.0, 300_000.0)] {
        assert_eq!(scaled(k, extra), base, "start costs x{k}, +{extra} us");
    }
}

/// A worker that crashes or answers with a wrong checksum in the middle of
/// a real run is a crash for the platform core: its invocation is retried
/// (the default policy: up to 3 attempts) and completes; the run goes on.
#[test]
fn worker_failures_are_crashes_for_the_core() {
    use coldsim::executor::Fault;
    use coldsim::executor::driver::{self, DriverOptions};
    use coldsim::platform::KillReason;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("compare-small.toml");
    std::fs::write(&path, compare_small("8s")).unwrap();
    let sf = coldsim::scenario::load(&path).unwrap();
    let r = driver::run(
        &coldsim::run::RunSpec::with_profile(&sf.base, None),
        &sf.origin,
        &Context::default(),
        &DriverOptions {
            worker_bin: BIN.into(),
            replicate: 0,
            work: Work::Io,
            inject: vec![(2, Fault::Crash), (6, Fault::BadChecksum)],
        },
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(r.stats.failed_invocations, 2, "{:?}", r.stats);
    let c = &r.result.metrics.counters;
    assert_eq!(c.killed[KillReason::Crash.index()], 2);
    assert_eq!(c.retries, 2);
    assert_eq!((c.failed, c.rejected()), (0, 0));
    assert_eq!(c.completed, c.arrivals, "every invocation completes");
}
