//! `coldsim plan`: capacity planning by bisection over replicates, checked
//! against Erlang-B, on a non-monotone objective, and on bad input.
//!
//! Every command runs in a fresh temporary folder. The scenarios are loss
//! systems (M/G/c/c: no queue, instant init, endless keep-alive), whose
//! rejection probability is Erlang-B(c, a) for offered load a = l E[S]
//! whatever the service distribution. With l = 8/s and E[S] = 0.5 s,
//! a = 4 erlangs: Erlang-B(9, 4) = 1.33% and Erlang-B(10, 4) = 0.53%, so the
//! smallest c with rejection under 1% is 10.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

/// A loss system capped by `limits.max_concurrency` on one big host.
const CAPPED: &str = r#"# Loss system: offered load 8/s x 0.5 s = 4 erlangs.
name = "erlang-b"
seed = 7
duration = "4000s"
[hosts]
count = 1
memory_mb = 65536
[queue]
max_len = 0
[keepalive]
kind = "fixed"
ttl = "100d"
[limits]
throttle = "reject"
[[functions]]
name = "f"
memory_mb = 128
init = { dist = "constant", value = "0s" }
exec = { dist = "lognormal", mean = "500ms", sd = "700ms" }
arrivals = { kind = "poisson", rate = "8/s" }
"#;

/// The same load on hosts that each fit two instances: c = 2 x hosts.
const HOSTS: &str = r#"# Loss system on hosts of two instances each.
name = "hosts"
seed = 7
duration = "4000s"
[hosts]
count = 1
memory_mb = 256
[queue]
max_len = 0
[keepalive]
kind = "fixed"
ttl = "100d"
[[functions]]
name = "f"
memory_mb = 128
init = { dist = "constant", value = "0s" }
exec = { dist = "lognormal", mean = "500ms", sd = "700ms" }
arrivals = { kind = "poisson", rate = "8/s" }
"#;

fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (k as f64 + a * b))
}

fn coldsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RAYON_NUM_THREADS")
        .output()
        .expect("cannot start the coldsim binary")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn setup(name: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    fs::write(dir.path().join(name), text).expect("write scenario");
    dir
}

fn manifest(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest.json is JSON")
}

/// plan.csv as (value, meets) pairs.
fn verdicts(dir: &Path) -> Vec<(i64, bool)> {
    let text = fs::read_to_string(dir.join("plan.csv")).expect("plan.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let meets = header
        .iter()
        .position(|h| *h == "meets")
        .expect("meets column");
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().expect("value"), f[meets] == "true")
        })
        .collect()
}

#[test]
fn erlang_b_oracle_agrees() {
    let smallest = (1..).find(|&c| erlang_b(c, 4.0) < 0.01).unwrap();
    assert_eq!(smallest, 10);
    assert!((erlang_b(9, 4.0) - 0.01331).abs() < 1e-4);
    assert!((erlang_b(10, 4.0) - 0.00529).abs() < 1e-4);
}

#[test]
fn finds_the_erlang_b_concurrency_cap() {
    let d = setup("erlang.toml", CAPPED);
    let o = coldsim(
        d.path(),
        &[
            "plan",
            "erlang.toml",
            "--slo",
            "rejected_fraction < 1%",
            "--vary",
            "limits.max_concurrency",
            "--min",
            "1",
            "--max",
            "32",
            "--out",
            "plan",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "smallest limits.max_concurrency in [1, 32] that meets \"rejected_fraction < 1%\": 10"
        ),
        "{}",
        show(&o)
    );
    assert!(out.contains("95% confidence"), "{out}");
    assert!(out.contains("monotone on the evaluated values"), "{out}");
    let dir = d.path().join("plan");
    let v = verdicts(&dir);
    assert!(v.contains(&(9, false)) && v.contains(&(10, true)), "{v:?}");
    assert!(
        v.contains(&(11, true)),
        "the answer's upper neighbour is checked"
    );
    assert!(v.len() <= 9, "bisection, not a scan: {v:?}");
    let m = manifest(&dir);
    assert_eq!(m["answer"], 10);
    assert_eq!(m["method"], "bisection");
    assert_eq!(m["monotone_on_evaluated_points"], true);
    assert_eq!(m["replicates"], 5);
    let png = fs::read(dir.join("plan.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = fs::read_to_string(dir.join("plan.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("rejected_fraction"));
    // runs.csv: every replicate of every evaluated value.
    let runs = fs::read_to_string(dir.join("runs.csv")).unwrap();
    assert!(runs.starts_with("limits.max_concurrency,scenario,seed,replicate,"));
    assert_eq!(runs.lines().count(), 1 + 5 * v.len());
    // Deterministic: the same plan again gives the same plan.csv.
    let o2 = coldsim(
        d.path(),
        &[
            "plan",
            "erlang.toml",
            "--slo",
            "rejected_fraction < 1%",
            "--vary",
            "limits.max_concurrency",
            "--min",
            "1",
            "--max",
            "32",
            "--out",
            "plan2",
            "--quiet",
        ],
    );
    assert_eq!(o2.status.code(), Some(0), "{}", show(&o2));
    assert!(o2.stdout.is_empty());
    assert_eq!(
        fs::read(dir.join("plan.csv")).unwrap(),
        fs::read(d.path().join("plan2/plan.csv")).unwrap()
    );
}

#[test]
fn finds_the_host_count_for_fixed_size_hosts() {
    // Two instances per host: the cap of 10 instances needs 5 hosts.
    let d = setup("hosts.toml", HOSTS);
    let o = coldsim(
        d.path(),
        &[
            "plan",
            "hosts.toml",
            "--slo",
            "rejected_fraction < 1% and p99 < 10s",
            "--vary",
            "hosts.count",
            "--max",
            "16",
            "--replicates",
            "4",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("that meets \"rejected_fraction < 1% and p99 < 10s\": 5"),
        "{out}"
    );
    let dir = d.path().join("results/hosts-plan");
    assert_eq!(manifest(&dir)["answer"], 5);
    assert_eq!(manifest(&dir)["replicates"], 4);
    let header = fs::read_to_string(dir.join("plan.csv")).unwrap();
    assert!(header.contains("latency_p99_ms_upper95"), "{header}");
}

#[test]
fn reports_a_non_monotone_objective_and_scans() {
    // A cost cap makes the SLO fail again above 6 hosts: provider cost
    // grows by 0.4267 USD per host over this run.
    let d = setup("hosts.toml", HOSTS);
    let o = coldsim(
        d.path(),
        &[
            "plan",
            "hosts.toml",
            "--slo",
            "rejected_fraction < 1% and provider_cost_usd < 2.8",
            "--vary",
            "hosts.count",
            "--min",
            "1",
            "--max",
            "8",
            "--out",
            "p",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("NOT MONOTONE"), "{out}");
    assert!(out.contains("scanned every value of [1, 8]"), "{out}");
    assert!(
        out.contains(
            "non-monotone: hosts.count = 7 does not meet the SLO although hosts.count = 6 does"
        ),
        "{out}"
    );
    assert!(
        out.contains("that meets \"rejected_fraction < 1% and provider_cost_usd < 2.8\": 5"),
        "{out}"
    );
    let dir = d.path().join("p");
    let v = verdicts(&dir);
    let expect: Vec<(i64, bool)> = (1..=8).map(|h| (h, h == 5 || h == 6)).collect();
    assert_eq!(v, expect);
    let m = manifest(&dir);
    assert_eq!(m["method"], "linear_scan");
    assert_eq!(m["monotone_on_evaluated_points"], false);
    assert_eq!(m["answer"], 5);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let d = setup("erlang.toml", CAPPED);
    fs::write(
        d.path().join("sweep.toml"),
        format!("{CAPPED}\n[sweep]\n\"hosts.count\" = [1, 2]\n"),
    )
    .unwrap();
    let slo = "rejected_fraction < 1%";
    let key = "limits.max_concurrency";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--slo", "p98 < 1s", "--vary", key],
            "\"p98\" is not a summary.csv column",
        ),
        (
            vec!["--slo", "p99 > 1s", "--vary", key],
            "bounds a metric from above",
        ),
        (
            vec!["--slo", "p99 < 200", "--vary", key],
            "bare number 200 is ambiguous",
        ),
        (
            vec!["--slo", "rejected < 2%", "--vary", key],
            "rejected takes a plain number",
        ),
        (vec!["--slo", "scenario = x", "--vary", key], "text column"),
        (vec!["--slo", "", "--vary", key], "empty"),
        (
            vec!["--slo", "p99 < 1s and", "--vary", key],
            "an empty clause",
        ),
        (
            vec!["--slo", slo, "--vary", "keepalive.ttl"],
            "not an integer",
        ),
        (vec!["--slo", slo, "--vary", "keepalive"], "not an integer"),
        (
            vec!["--slo", slo, "--vary", "functions[nope].min_instances"],
            "no entry is named \"nope\"",
        ),
        (vec!["--slo", slo, "--vary", "hosts.cuont"], "cuont"),
        (vec!["--slo", slo, "--vary", "a..b"], "not a key path"),
        (
            vec!["--slo", slo, "--vary", key, "--min", "5", "--max", "3"],
            "empty range",
        ),
        (vec!["--slo", slo, "--vary", key, "--min", "-1"], "--min -1"),
        (
            vec!["--slo", slo, "--vary", key, "--replicates", "0"],
            "--replicates 0",
        ),
        (
            vec!["--slo", slo, "--vary", key, "--max", "99999999999"],
            "limits.max_concurrency",
        ),
        (vec!["--vary", key], "--slo"),
        (vec!["--slo", slo], "--vary"),
    ];
    for (args, want) in cases {
        let mut all = vec!["plan", "erlang.toml"];
        all.extend(&args);
        all.extend(["--out", "never"]);
        let o = coldsim(d.path(), &all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        assert_eq!(err.lines().count(), 1, "{args:?}: one line\n{err}");
        assert!(err.starts_with("coldsim: error: "), "{err}");
        assert!(err.contains(want), "{args:?}: wanted {want:?} in\n{err}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!d.path().join("never").exists(), "{args:?} wrote a folder");
    }
    let o = coldsim(
        d.path(),
        &["plan", "sweep.toml", "--slo", slo, "--vary", key],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("has a [sweep] over hosts.count"));
    // An existing folder that is not a results folder is refused before
    // anything runs, and left alone.
    fs::create_dir(d.path().join("mine")).unwrap();
    fs::write(d.path().join("mine/notes.txt"), "keep").unwrap();
    let o = coldsim(
        d.path(),
        &[
            "plan",
            "erlang.toml",
            "--slo",
            slo,
            "--vary",
            key,
            "--out",
            "mine",
            "--force",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(d.path().join("mine/notes.txt").exists());
    let leftovers: Vec<_> = fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
}

/// The README's worked example, on the shipped scenario the notebooks use:
/// 5 hosts; and the notebooks' policy sweep is a valid scenario.
#[test]
fn readme_worked_example_and_notebook_scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cap = root.join("notebooks/scenarios/capacity.toml");
    let d = tempfile::tempdir().unwrap();
    let o = coldsim(
        d.path(),
        &[
            "plan",
            cap.to_str().unwrap(),
            "--slo",
            "rejected_fraction < 1%",
            "--vary",
            "hosts.count",
            "--max",
            "12",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("smallest hosts.count in [1, 12] that meets \"rejected_fraction < 1%\": 5"),
        "{out}"
    );
    assert!(
        out.contains("results written to results/nb-capacity-plan/"),
        "{out}"
    );
    let policy = root.join("notebooks/scenarios/policy-small.toml");
    let sf = coldsim::scenario::load(&policy).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sf.points.len(), 4);
    // `coldsim --help` lists plan.
    let help = coldsim(d.path(), &["--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("plan"));
    let help = coldsim(d.path(), &["plan", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("--slo <SLO>") && text.contains("--vary <KEY>"),
        "{text}"
    );
}
