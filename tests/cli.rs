//! CLI tests: run the `coldsim` binary on good and bad scenarios and check
//! exit codes, messages and the files it writes.
//!
//! Every command runs with its working directory set to a fresh temporary
//! folder, so nothing is written into the repository. Scenarios are a few
//! simulated minutes long, so each run takes milliseconds.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

/// Two apps on two small hosts for five simulated minutes: one declared app
/// with one function, and one standalone function that is its own app.
const SMALL: &str = r#"# A small scenario for the CLI tests.
name = "small"
seed = 42
duration = "5m"

[hosts]
count = 2
memory_mb = 1024
cores = 4

[keepalive]
kind = "fixed"
ttl = "1m"

[[apps]]
name = "api"
memory_mb = 256
init = { dist = "lognormal", mean = "300ms", sd = "100ms" }

[[functions]]
name = "get"
app = "api"
exec = { dist = "exponential", mean = "50ms" }
arrivals = { kind = "poisson", rate = "5/s" }

[[functions]]
name = "solo"
memory_mb = 512
init = { dist = "constant", value = "1s" }
exec = { dist = "uniform", min = "100ms", max = "300ms" }
arrivals = { kind = "poisson", rate = "30/min" }
"#;

/// A sweep over SMALL: two keep-alive values times two replicates.
fn sweep_scenario() -> String {
    format!("{SMALL}\n[sweep]\nreplicates = 2\n\"keepalive.ttl\" = [\"10s\", \"5m\"]\n")
}

/// Runs coldsim in `dir` with no RAYON_NUM_THREADS from the caller.
fn coldsim(dir: &Path, args: &[&str]) -> Output {
    coldsim_env(dir, args, &[])
}

fn coldsim_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RAYON_NUM_THREADS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot start the coldsim binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Describes a finished command for assertion messages.
fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "expected success\n{}", show(o));
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary folder")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).expect("cannot write a test scenario");
    p
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    let p = p.as_ref();
    fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn read_text(p: impl AsRef<Path>) -> String {
    String::from_utf8(read(p)).expect("output is UTF-8")
}

/// Names of the entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// Every file under `dir` (relative path, contents), sorted by path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).expect("list folder") {
            let p = e.expect("folder entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, read(&p)));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Parses a CSV file into its header and rows (no quoted fields are used by
/// coldsim's outputs, whose cells are numbers and plain names).
fn csv(p: impl AsRef<Path>) -> (Vec<String>, Vec<Vec<String>>) {
    let text = read_text(p);
    let mut lines = text.lines();
    let split = |l: &str| l.split(',').map(str::to_string).collect::<Vec<_>>();
    let header = split(lines.next().expect("a CSV header"));
    let rows: Vec<Vec<String>> = lines.map(split).collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "row {r:?} does not match {header:?}");
    }
    (header, rows)
}

fn column<'a>(header: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    &row[i]
}

const RUN_FILES: [&str; 5] = [
    "functions.csv",
    "latency.csv",
    "manifest.json",
    "scenario.toml",
    "summary.csv",
];

fn assert_run_files(dir: &Path) {
    for f in RUN_FILES {
        let p = dir.join(f);
        assert!(p.is_file(), "{} is missing", p.display());
        assert!(!read(&p).is_empty(), "{} is empty", p.display());
    }
}

/// Checks the one-line error contract and returns the line (without its
/// newline): exit code 2, stderr exactly one line starting with
/// `coldsim: error: `, nothing on stdout.
fn one_line_error(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit code 2\n{}",
        show(o)
    );
    let err = stderr(o);
    assert!(
        err.ends_with('\n') && err.matches('\n').count() == 1,
        "stderr must be exactly one line\n{}",
        show(o)
    );
    assert!(
        err.starts_with("coldsim: error: "),
        "stderr must start with `coldsim: error: `\n{}",
        show(o)
    );
    assert!(
        o.stdout.is_empty(),
        "nothing on stdout on error\n{}",
        show(o)
    );
    err.trim_end().to_string()
}

/// True if `line` contains `file:LINE:COL` with LINE and COL numbers.
fn has_line_col(line: &str, file: &str) -> bool {
    let pat = format!("{file}:");
    line.match_indices(&pat).any(|(i, _)| {
        let rest = &line[i + pat.len()..];
        let mut parts = rest.splitn(3, ':');
        let is_num = |s: Option<&str>| {
            s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        };
        is_num(parts.next()) && is_num(parts.next())
    })
}

/// Asserts that a failed run left only `inputs` in `dir`: no results folder,
/// no `.NAME.partial-*` staging folder.
fn assert_nothing_written(dir: &Path, inputs: &[&str]) {
    let mut expected: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(
        entries(dir),
        expected,
        "a failed run must not write anything into {}",
        dir.display()
    );
}

#[test]
fn help_and_version() {
    let dir = tempdir();
    let o = coldsim(dir.path(), &["--help"]);
    assert_ok(&o);
    let out = stdout(&o);
    for want in ["run", "check", "Examples:", "--seed", "--out", "--force"] {
        assert!(out.contains(want), "--help should mention {want}\n{out}");
    }
    let o = coldsim(dir.path(), &["--version"]);
    assert_ok(&o);
    assert_eq!(
        stdout(&o).trim(),
        format!("coldsim {}", env!("CARGO_PKG_VERSION"))
    );
    let o = coldsim(dir.path(), &["run", "--help"]);
    assert_ok(&o);
    for want in ["--seed", "--out", "--force", "--quiet"] {
        assert!(
            stdout(&o).contains(want),
            "run --help should mention {want}"
        );
    }
    assert_nothing_written(dir.path(), &[]);
}

#[test]
fn no_arguments_runs_the_default_scenario_and_replaces_its_folder() {
    let dir = tempdir();
    let o = coldsim(dir.path(), &[]);
    assert_ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("results written to results/default/"),
        "stdout should name the folder\n{out}"
    );
    assert!(
        out.contains("cold starts"),
        "stdout should hold the table\n{out}"
    );
    let res = dir.path().join("results/default");
    assert_run_files(&res);
    let (_, rows) = csv(res.join("summary.csv"));
    assert_eq!(rows.len(), 1);
    let first = read(res.join("summary.csv"));

    // The default run replaces its own folder, without --force.
    fs::write(res.join("stale.txt"), "from an earlier run").unwrap();
    let o = coldsim(dir.path(), &[]);
    assert_ok(&o);
    assert!(stdout(&o).contains("results written to results/default/"));
    assert_run_files(&res);
    assert!(
        !res.join("stale.txt").exists(),
        "the folder should be replaced, not merged into"
    );
    assert_eq!(
        read(res.join("summary.csv")),
        first,
        "the default run is deterministic"
    );
    assert_eq!(entries(&dir.path().join("results")), ["default"]);
}

#[test]
fn run_writes_a_complete_results_folder() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    let o = coldsim(dir.path(), &["run", "small.toml"]);
    assert_ok(&o);
    assert!(
        stdout(&o).contains("results written to results/small/"),
        "{}",
        show(&o)
    );
    let res = dir.path().join("results/small");
    assert_run_files(&res);
    // The files, and the marker that makes it provably coldsim's.
    let mut want = vec![".coldsim"];
    want.extend(RUN_FILES);
    assert_eq!(entries(&res), want);
    assert_eq!(read(res.join("scenario.toml")), SMALL.as_bytes());

    let m: serde_json::Value =
        serde_json::from_slice(&read(res.join("manifest.json"))).expect("manifest.json parses");
    assert_eq!(m["scenario_sha256"], sha256_hex(SMALL.as_bytes()));
    assert_eq!(m["scenario_text"], SMALL);
    assert_eq!(m["scenario_name"], "small");
    assert_eq!(m["scenario_file"], "small.toml");
    assert_eq!(m["coldsim_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["seed"], 42);
    assert_eq!(m["runs"], 1);
    assert!(m["events"].as_u64().unwrap() > 0, "{m}");
    assert!(m["events_per_second"].as_f64().unwrap() > 0.0, "{m}");
    assert!(m["invocations"].as_u64().unwrap() > 0, "{m}");
    assert!(m["wall_seconds"].as_f64().unwrap() >= 0.0, "{m}");
    for key in ["git_commit", "host", "started_at_utc", "command", "threads"] {
        assert!(!m[key].is_null(), "manifest.json lacks {key}: {m}");
    }

    let (header, rows) = csv(res.join("summary.csv"));
    assert_eq!(rows.len(), 1, "summary.csv has exactly one row");
    let r = &rows[0];
    assert_eq!(header[0], "scenario");
    assert_eq!(column(&header, r, "scenario"), "small");
    assert_eq!(column(&header, r, "seed"), "42");
    assert_eq!(column(&header, r, "functions"), "2");
    assert_eq!(column(&header, r, "apps"), "2");
    let n = |k: &str| column(&header, r, k).parse::<u64>().unwrap();
    assert!(n("arrivals") > 0);
    assert_eq!(n("arrivals"), n("completed") + n("rejected"));
    assert_eq!(n("completed"), n("cold_starts") + n("warm_starts"));
    assert_eq!(m["events"].as_u64().unwrap(), n("events"));
    assert_eq!(m["invocations"].as_u64().unwrap(), n("arrivals"));

    let (fh, frows) = csv(res.join("functions.csv"));
    assert_eq!(frows.len(), 2, "one row per function");
    assert_eq!(column(&fh, &frows[0], "function"), "get");
    assert_eq!(column(&fh, &frows[0], "app"), "api");
    assert_eq!(column(&fh, &frows[0], "memory_mb"), "256");
    assert_eq!(column(&fh, &frows[1], "function"), "solo");
    assert_eq!(column(&fh, &frows[1], "app"), "solo");
    assert_eq!(column(&fh, &frows[1], "memory_mb"), "512");

    let (lh, lrows) = csv(res.join("latency.csv"));
    assert_eq!(lh[0], "percentile");
    assert_eq!(lrows.first().unwrap()[0], "0");
    assert_eq!(lrows.last().unwrap()[0], "100");
}

#[test]
fn existing_folder_needs_force() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    assert_ok(&coldsim(dir.path(), &["run", "small.toml", "--out", "out"]));
    let out = dir.path().join("out");
    let before = tree(&out);

    let o = coldsim(dir.path(), &["run", "small.toml", "--out", "out"]);
    let line = one_line_error(&o);
    assert!(line.contains("already exists"), "{line}");
    assert!(line.contains("--force"), "{line}");
    assert!(line.contains("out"), "{line}");
    assert_eq!(tree(&out), before, "the old folder must be untouched");
    assert_nothing_written(dir.path(), &["out", "small.toml"]);

    // --force replaces it (a file left in it disappears).
    fs::write(out.join("note.txt"), "mine").unwrap();
    let o = coldsim(
        dir.path(),
        &["run", "small.toml", "--out", "out", "--force"],
    );
    assert_ok(&o);
    assert_run_files(&out);
    assert!(!out.join("note.txt").exists());
    assert_eq!(
        read(out.join("summary.csv")),
        before.iter().find(|(p, _)| p == "summary.csv").unwrap().1
    );
    assert_nothing_written(dir.path(), &["out", "small.toml"]);
}

#[test]
fn seed_gives_identical_files_and_another_seed_different_ones() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    for (out, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        let o = coldsim(
            dir.path(),
            &["run", "small.toml", "--seed", seed, "--out", out],
        );
        assert_ok(&o);
    }
    let p = |d: &str, f: &str| dir.path().join(d).join(f);
    for f in ["summary.csv", "functions.csv", "latency.csv"] {
        assert_eq!(
            read(p("a", f)),
            read(p("b", f)),
            "{f} differs for the same seed"
        );
    }
    assert_ne!(
        read(p("a", "summary.csv")),
        read(p("c", "summary.csv")),
        "a different seed should give a different summary.csv"
    );
    let (h, rows) = csv(p("a", "summary.csv"));
    assert_eq!(column(&h, &rows[0], "seed"), "7");
    let m: serde_json::Value = serde_json::from_slice(&read(p("a", "manifest.json"))).unwrap();
    assert_eq!(m["seed"], 7);

    // The seed written in the file and the same seed given by --seed agree.
    let o = coldsim(dir.path(), &["run", "small.toml", "--out", "d"]);
    assert_ok(&o);
    let o = coldsim(
        dir.path(),
        &["run", "small.toml", "--seed", "42", "--out", "e"],
    );
    assert_ok(&o);
    assert_eq!(read(p("d", "summary.csv")), read(p("e", "summary.csv")));
}

#[test]
fn quiet_prints_nothing() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    let o = coldsim(dir.path(), &["run", "small.toml", "--quiet"]);
    assert_ok(&o);
    assert!(
        o.stdout.is_empty(),
        "--quiet must print nothing on stdout\n{}",
        show(&o)
    );
    assert!(o.stderr.is_empty(), "{}", show(&o));
    assert_run_files(&dir.path().join("results/small"));
    let o = coldsim(dir.path(), &["run", "small.toml", "-q", "--out", "again"]);
    assert_ok(&o);
    assert!(o.stdout.is_empty(), "{}", show(&o));
}

#[test]
fn check_prints_the_resolved_scenario() {
    let dir = tempdir();
    let minimal = r#"name = "minimal"
duration = "2m"

[[functions]]
name = "f"
exec = { dist = "constant", value = "20ms" }
arrivals = { kind = "poisson", rate = "1/s" }
"#;
    write(dir.path(), "minimal.toml", minimal);
    let o = coldsim(dir.path(), &["check", "minimal.toml"]);
    assert_ok(&o);
    let out = stdout(&o);
    let (first, resolved) = out.split_once('\n').expect("more than one line");
    assert!(first.starts_with("# minimal.toml: valid"), "{first}");
    for want in [
        "seed = 1",
        "[hosts]",
        "count = 10",
        "memory_mb = 32768",
        "cores = 16",
        "[queue]",
        "max_len = 1000",
        "timeout = \"30s\"",
        "[placement]",
        "kind = \"first-fit\"",
        "[keepalive]",
        "kind = \"fixed\"",
        "ttl = \"10m\"",
        "[eviction]",
        "kind = \"lru\"",
        "memory_mb = 128",
        "[functions.init]",
        "dist = \"lognormal\"",
    ] {
        assert!(out.contains(want), "check should print `{want}`\n{out}");
    }

    // The printed TOML is itself a valid scenario, and resolving it again
    // changes nothing.
    write(dir.path(), "resolved.toml", resolved);
    let o = coldsim(dir.path(), &["check", "resolved.toml"]);
    assert_ok(&o);
    let again = stdout(&o);
    let (_, resolved_again) = again.split_once('\n').unwrap();
    assert_eq!(resolved_again, resolved);

    // check never writes results.
    assert_nothing_written(dir.path(), &["minimal.toml", "resolved.toml"]);

    // check on a sweep counts its runs.
    write(dir.path(), "sweep.toml", &sweep_scenario());
    let o = coldsim(dir.path(), &["check", "sweep.toml"]);
    assert_ok(&o);
    assert!(
        stdout(&o).starts_with("# sweep.toml: valid; 4 run(s)"),
        "{}",
        show(&o)
    );
}

/// A valid scenario with one function; the bad cases below edit it.
const GOOD_ONE: &str = r#"name = "one"
duration = "5m"

[[functions]]
name = "f"
exec = { dist = "exponential", mean = "100ms" }
arrivals = { kind = "poisson", rate = "2/s" }
"#;

/// Runs `run bad.toml` (and `check bad.toml`) on `text` in a fresh folder and
/// checks the one-line error names the file and contains every `want`.
fn bad_scenario(case: &str, text: &str, want: &[&str]) -> String {
    let dir = tempdir();
    write(dir.path(), "bad.toml", text);
    let o = coldsim(dir.path(), &["run", "bad.toml"]);
    let line = one_line_error(&o);
    assert!(
        line.starts_with("coldsim: error: bad.toml"),
        "{case}: the error should name the file first\n{line}"
    );
    for w in want {
        assert!(
            line.contains(w),
            "{case}: the error should mention `{w}`\n{line}"
        );
    }
    assert_nothing_written(dir.path(), &["bad.toml"]);
    let c = coldsim(dir.path(), &["check", "bad.toml"]);
    assert_eq!(
        one_line_error(&c),
        line,
        "{case}: check and run should agree"
    );
    assert_nothing_written(dir.path(), &["bad.toml"]);
    line
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    let text = GOOD_ONE.replace("duration = \"5m\"", "duration = = \"5m\"");
    let line = bad_scenario("syntax", &text, &["bad.toml:2:"]);
    assert!(has_line_col(&line, "bad.toml"), "{line}");
}

#[test]
fn unknown_key_at_top_level() {
    let text = format!("colour = \"blue\"\n{GOOD_ONE}");
    let line = bad_scenario("unknown top-level key", &text, &["colour", "unknown field"]);
    assert!(has_line_col(&line, "bad.toml"), "{line}");
}

#[test]
fn unknown_key_inside_a_function() {
    let text = format!(
        "{GOOD_ONE}\n[[functions]]\nname = \"g\"\nexce = \"typo\"\n\
         exec = {{ dist = \"constant\", value = \"1ms\" }}\n\
         arrivals = {{ kind = \"poisson\", rate = \"1/s\" }}\n"
    );
    bad_scenario("unknown function key", &text, &["functions[1]", "exce"]);
}

#[test]
fn wrong_type_names_the_key_path() {
    let text = format!("{GOOD_ONE}\n[hosts]\ncount = \"many\"\n");
    let line = bad_scenario("wrong type", &text, &["hosts.count", "many"]);
    assert!(has_line_col(&line, "bad.toml"), "{line}");
}

#[test]
fn missing_required_key() {
    let text = GOOD_ONE.replace("duration = \"5m\"\n", "");
    bad_scenario("missing duration", &text, &["duration", "missing"]);
    let text = GOOD_ONE.replace("exec = { dist = \"exponential\", mean = \"100ms\" }\n", "");
    bad_scenario("missing exec", &text, &["functions[0]", "exec", "missing"]);
}

#[test]
fn zero_duration() {
    let text = GOOD_ONE.replace("\"5m\"", "\"0s\"");
    bad_scenario("zero duration", &text, &["duration", "greater than zero"]);
}

#[test]
fn negative_duration() {
    let text = GOOD_ONE.replace("\"5m\"", "\"-5m\"");
    bad_scenario("negative duration", &text, &["duration", "-5m"]);
}

#[test]
fn bare_number_duration_asks_for_a_unit() {
    let text = GOOD_ONE.replace("\"5m\"", "3600");
    bad_scenario("bare duration", &text, &["duration", "unit", "3600s"]);
}

#[test]
fn negative_memory() {
    let text = GOOD_ONE.replace("name = \"f\"\n", "name = \"f\"\nmemory_mb = -128\n");
    bad_scenario(
        "negative memory",
        &text,
        &["functions[0].memory_mb", "-128"],
    );
}

#[test]
fn function_larger_than_every_host() {
    let text = GOOD_ONE.replace("name = \"f\"\n", "name = \"f\"\nmemory_mb = \"64GiB\"\n");
    bad_scenario(
        "too big",
        &text,
        &["functions[0].memory_mb", "larger than every host"],
    );
}

#[test]
fn unknown_distribution() {
    let text = GOOD_ONE.replace("\"exponential\"", "\"pareto\"");
    bad_scenario("unknown dist", &text, &["pareto", "functions[0].exec"]);
}

#[test]
fn unknown_app() {
    let text = GOOD_ONE.replace("name = \"f\"\n", "name = \"f\"\napp = \"nope\"\n");
    bad_scenario("unknown app", &text, &["functions[0].app", "nope"]);
}

#[test]
fn function_with_an_app_may_not_set_memory() {
    let text = GOOD_ONE.replace(
        "[[functions]]\nname = \"f\"\n",
        "[[apps]]\nname = \"a\"\n\n[[functions]]\nname = \"f\"\napp = \"a\"\nmemory_mb = 256\n",
    );
    bad_scenario(
        "app and memory",
        &text,
        &["functions[0].memory_mb", "\"a\""],
    );
}

#[test]
fn bad_sweep_key_path() {
    let text = format!("{GOOD_ONE}\n[sweep]\n\"keepalive..ttl\" = [\"1m\"]\n");
    bad_scenario("bad sweep path", &text, &["sweep", "keepalive..ttl"]);
    let text = format!("{GOOD_ONE}\n[sweep]\n\"functions[3].memory_mb\" = [256]\n");
    bad_scenario(
        "sweep index out of range",
        &text,
        &["sweep point 0", "functions[3]"],
    );
    let text = format!("{GOOD_ONE}\n[sweep]\n\"functions[zz].memory_mb\" = [256]\n");
    bad_scenario("sweep name not found", &text, &["sweep point 0", "zz"]);
}

#[test]
fn bad_sweep_value_names_the_point() {
    let base = format!("{GOOD_ONE}\n[keepalive]\nkind = \"fixed\"\nttl = \"10m\"\n");
    let text = format!("{base}\n[sweep]\n\"keepalive.ttl\" = [\"1m\", 5]\n");
    bad_scenario(
        "bare number in a sweep",
        &text,
        &["sweep point 1", "keepalive", "unit"],
    );
    let text = format!("{base}\n[sweep]\n\"hosts.count\" = [1, 0]\n");
    bad_scenario(
        "zero hosts in a sweep",
        &text,
        &["sweep point 1", "hosts.count"],
    );
}

/// Sweep paths address the resolved scenario, so a default can be swept
/// without writing its table, and a whole policy table can be a value.
#[test]
fn sweep_of_a_defaulted_table() {
    let dir = tempdir();
    let text = format!(
        "{GOOD_ONE}\n[sweep]\n\"keepalive.ttl\" = [\"1m\", \"10m\"]\n\
         \"eviction\" = [{{ kind = \"lru\" }}, {{ kind = \"none\" }}]\n"
    );
    write(dir.path(), "s.toml", &text);
    let o = coldsim(dir.path(), &["run", "s.toml", "--quiet"]);
    assert_ok(&o);
    let (header, rows) = csv(dir.path().join("results/one/sweep.csv"));
    assert!(
        header
            .join(",")
            .starts_with("point,keepalive.ttl,eviction,scenario,"),
        "{header:?}"
    );
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][1], "1m");
    assert_eq!(rows[3][1], "10m");
}

#[test]
fn missing_scenario_file() {
    let dir = tempdir();
    let o = coldsim(dir.path(), &["run", "nowhere.toml"]);
    let line = one_line_error(&o);
    assert!(line.contains("nowhere.toml"), "{line}");
    assert!(line.contains("cannot read"), "{line}");
    assert_nothing_written(dir.path(), &[]);
    let o = coldsim(dir.path(), &["check", "nowhere.toml"]);
    let line = one_line_error(&o);
    assert!(line.contains("cannot read"), "{line}");
}

#[test]
fn bad_command_lines_exit_2() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    for args in [
        &["run", "small.toml", "--bogus"][..],
        &["run"][..],
        &["check"][..],
        &["frobnicate"][..],
        &["run", "small.toml", "--seed", "seven"][..],
    ] {
        let o = coldsim(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        assert!(!o.stderr.is_empty(), "{args:?}: the error goes to stderr");
        assert!(o.stdout.is_empty(), "{args:?}\n{}", show(&o));
        assert_nothing_written(dir.path(), &["small.toml"]);
    }
    let o = coldsim(dir.path(), &["run", "small.toml", "--bogus"]);
    assert!(stderr(&o).contains("--bogus"), "{}", show(&o));
}

/// The issue asks for one line on a bad CLI flag too; clap prints its own
/// multi-line usage message.
#[test]
fn bad_flag_is_one_line() {
    let dir = tempdir();
    let o = coldsim(dir.path(), &["run", "x.toml", "--bogus"]);
    one_line_error(&o);
}

/// `--force` deletes the old folder recursively, so `--out . --force`
/// deletes the working directory's contents (then fails to rename). It
/// should refuse a folder that is not a coldsim results folder.
#[test]
fn force_never_deletes_a_folder_that_is_not_a_results_folder() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    write(dir.path(), "keep.txt", "precious");
    let _ = coldsim(dir.path(), &["run", "small.toml", "--out", ".", "--force"]);
    assert!(
        dir.path().join("keep.txt").is_file(),
        "keep.txt was deleted"
    );
    assert!(
        dir.path().join("small.toml").is_file(),
        "small.toml was deleted"
    );
}

#[test]
fn unwritable_output_exits_1() {
    let dir = tempdir();
    write(dir.path(), "small.toml", SMALL);
    // The parent of the results folder is a file.
    let o = coldsim(
        dir.path(),
        &["run", "small.toml", "--out", "small.toml/out"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(stderr(&o).starts_with("coldsim: error: "), "{}", show(&o));
    assert_nothing_written(dir.path(), &["small.toml"]);
}

#[test]
fn sweep_writes_one_row_per_run_whatever_the_thread_count() {
    let dir = tempdir();
    write(dir.path(), "sweep.toml", &sweep_scenario());
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = format!("t{threads}");
        let o = coldsim_env(
            dir.path(),
            &["run", "sweep.toml", "--out", &out],
            &[("RAYON_NUM_THREADS", threads)],
        );
        assert_ok(&o);
        assert!(
            stdout(&o).contains(&format!("results written to {out}/")),
            "{}",
            show(&o)
        );
        let res = dir.path().join(&out);
        let m: serde_json::Value =
            serde_json::from_slice(&read(res.join("manifest.json"))).unwrap();
        assert_eq!(m["threads"].as_u64(), Some(threads.parse().unwrap()), "{m}");
        assert_eq!(m["sweep_points"], 2);
        assert_eq!(m["replicates"], 2);
        assert_eq!(m["runs"], 4);
        assert!(
            !res.join("summary.csv").exists(),
            "a sweep writes sweep.csv, not summary.csv"
        );
        assert!(res.join("scenario.toml").is_file());
        outs.push(res);
    }
    let res = &outs[0];
    let (header, rows) = csv(res.join("sweep.csv"));
    assert!(
        header
            .join(",")
            .starts_with("point,keepalive.ttl,scenario,seed,replicate,"),
        "{header:?}"
    );
    assert_eq!(rows.len(), 4, "2 points x 2 replicates");
    let key = |r: &Vec<String>| {
        (
            column(&header, r, "point").to_string(),
            column(&header, r, "keepalive.ttl").to_string(),
            column(&header, r, "replicate").to_string(),
        )
    };
    let keys: Vec<_> = rows.iter().map(key).collect();
    let k = |p: &str, t: &str, r: &str| (p.to_string(), t.to_string(), r.to_string());
    assert_eq!(
        keys,
        [
            k("0", "10s", "0"),
            k("0", "10s", "1"),
            k("1", "5m", "0"),
            k("1", "5m", "1")
        ]
    );
    for (i, row) in rows.iter().enumerate() {
        let (p, r) = (i / 2, i % 2);
        let run = res.join(format!("runs/p{p}-r{r}"));
        for f in ["summary.csv", "functions.csv", "latency.csv"] {
            assert!(run.join(f).is_file(), "{} missing", run.join(f).display());
        }
        // The run's own summary is the sweep row without the swept columns.
        let (sh, srows) = csv(run.join("summary.csv"));
        assert_eq!(sh[..], header[2..]);
        assert_eq!(srows[0][..], row[2..]);
    }
    // Common random numbers: a replicate sees the same arrivals at every
    // point; replicates differ.
    let arrivals = |i: usize| column(&header, &rows[i], "arrivals").to_string();
    assert_eq!(arrivals(0), arrivals(2));
    assert_eq!(arrivals(1), arrivals(3));
    assert_ne!(rows[0][2..], rows[1][2..]);

    // Byte-identical whatever RAYON_NUM_THREADS.
    let csvs = |d: &Path| -> Vec<(String, Vec<u8>)> {
        tree(d)
            .into_iter()
            .filter(|(p, _)| p.ends_with(".csv"))
            .collect()
    };
    let a = csvs(&outs[0]);
    assert_eq!(a.len(), 1 + 4 * 3);
    assert_eq!(
        a,
        csvs(&outs[1]),
        "CSV files differ between 1 and 2 threads"
    );
}

#[test]
fn sweep_by_function_name() {
    let dir = tempdir();
    let text = format!("{SMALL}\n[sweep]\n\"functions[solo].memory_mb\" = [256, 768]\n");
    write(dir.path(), "named.toml", &text);
    let o = coldsim(dir.path(), &["run", "named.toml", "--quiet"]);
    assert_ok(&o);
    let res = dir.path().join("results/small");
    let (header, rows) = csv(res.join("sweep.csv"));
    assert!(
        header
            .join(",")
            .starts_with("point,functions[solo].memory_mb,scenario,"),
        "{header:?}"
    );
    assert_eq!(rows.len(), 2);
    for (p, mb) in [(0, "256"), (1, "768")] {
        assert_eq!(rows[p][1], mb);
        let (fh, frows) = csv(res.join(format!("runs/p{p}-r0/functions.csv")));
        let solo = frows.iter().find(|r| r[0] == "solo").expect("solo row");
        assert_eq!(column(&fh, solo, "memory_mb"), mb);
    }
}
