//! Sharded sweeps: `coldsim run --shard K/N` and `coldsim merge`, run as
//! the binary. The merge of the N shards of a sweep must write exactly the
//! files one run of the whole sweep writes (manifest.json aside), for any
//! N, including N larger than the number of runs; and merge must refuse,
//! with one line and exit code 2 and without writing anything, every set of
//! folders that are not the shards of one sweep.
//!
//! Every command runs in a fresh temporary folder; the scenario is a few
//! simulated minutes, so each run takes milliseconds.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

/// One function and one app on two hosts for three simulated minutes,
/// swept over three keep-alive tables (written as inline tables, so that
/// sweep.csv holds quoted cells with commas) times two replicates: six runs.
const SWEEP: &str = r#"# A small sweep for the shard tests.
name = "sharded"
seed = 11
duration = "3m"

[hosts]
count = 2
memory_mb = 1024
cores = 4

[[apps]]
name = "api"
memory_mb = 256
init = { dist = "constant", value = "400ms" }

[[functions]]
name = "get"
app = "api"
exec = { dist = "exponential", mean = "80ms" }
arrivals = { kind = "poisson", rate = "4/s" }

[[functions]]
name = "solo"
memory_mb = 512
init = { dist = "constant", value = "1s" }
exec = { dist = "uniform", min = "100ms", max = "300ms" }
arrivals = { kind = "poisson", rate = "20/min" }

[sweep]
replicates = 2
"keepalive" = [{ kind = "fixed", ttl = "5s" }, { kind = "none" }, { kind = "fixed", ttl = "2m" }]
"#;

const RUNS: usize = 6;

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

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "expected success\n{}", show(o));
}

/// Exit code 2, exactly one line on stderr starting `coldsim: error: `,
/// nothing on stdout; returns the line.
fn one_line_error(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit code 2\n{}",
        show(o)
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.ends_with('\n') && err.matches('\n').count() == 1,
        "stderr must be one line\n{}",
        show(o)
    );
    assert!(err.starts_with("coldsim: error: "), "{}", show(o));
    assert!(o.stdout.is_empty(), "nothing on stdout\n{}", show(o));
    err.trim_end().to_string()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("cannot create a temporary folder")
}

fn read(p: impl AsRef<Path>) -> Vec<u8> {
    let p = p.as_ref();
    fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn json(p: impl AsRef<Path>) -> serde_json::Value {
    serde_json::from_slice(&read(p)).expect("manifest.json is JSON")
}

/// Names of the entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `dir` (relative path, contents), sorted by path.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).expect("list folder") {
            let p = e.expect("entry").path();
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

/// Copies a folder tree.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            fs::copy(&p, &dest).unwrap();
        }
    }
}

/// A temporary folder holding the scenario as `sweep.toml`.
fn setup() -> tempfile::TempDir {
    let dir = tempdir();
    fs::write(dir.path().join("sweep.toml"), SWEEP).unwrap();
    dir
}

/// Runs shard `k/n` of sweep.toml into `out` (extra arguments appended).
fn shard(dir: &Path, k: usize, n: usize, out: &str, extra: &[&str]) -> PathBuf {
    let spec = format!("{k}/{n}");
    let mut args = vec!["run", "sweep.toml", "--shard", &spec, "--out", out, "-q"];
    args.extend_from_slice(extra);
    // Half the shards on one thread: results do not depend on it.
    let threads = if k.is_multiple_of(2) { "1" } else { "2" };
    assert_ok(&coldsim_env(dir, &args, &[("RAYON_NUM_THREADS", threads)]));
    dir.join(out)
}

/// Runs every shard of an `n`-way split into `<prefix><k>`, returns the names.
fn all_shards(dir: &Path, n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|k| {
            let name = format!("{prefix}{k}");
            shard(dir, k, n, &name, &[]);
            name
        })
        .collect()
}

/// `coldsim merge --out OUT DIRS...`
fn merge(dir: &Path, out: &str, shards: &[&str]) -> Output {
    let mut args = vec!["merge", "--out", out];
    args.extend_from_slice(shards);
    coldsim(dir, &args)
}

/// The merge failed with one line, naming `want`, and wrote nothing.
fn refused(dir: &Path, o: &Output, want: &[&str]) -> String {
    let line = one_line_error(o);
    for w in want {
        assert!(line.contains(w), "{line:?} should contain {w:?}");
    }
    let leftovers: Vec<String> = entries(dir)
        .into_iter()
        .filter(|e| e.starts_with("merged") || e.starts_with(".merged"))
        .collect();
    assert!(leftovers.is_empty(), "a refused merge wrote {leftovers:?}");
    line
}

/// (point, replicate) of each row of a sweep.csv, parsed with the csv crate
/// (cells may be quoted).
fn sweep_jobs(path: &Path) -> Vec<(String, String)> {
    let bytes = read(path);
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let rep = rdr
        .headers()
        .expect("a header")
        .iter()
        .position(|h| h == "replicate")
        .expect("a replicate column");
    rdr.records()
        .map(|r| {
            let r = r.expect("a CSV row");
            (r[0].to_string(), r[rep].to_string())
        })
        .collect()
}

#[test]
fn merged_shards_equal_one_run_for_any_number_of_shards() {
    let dir = setup();
    let d = dir.path();
    assert_ok(&coldsim(d, &["run", "sweep.toml", "--out", "single", "-q"]));
    let single = tree(&d.join("single"));
    let single_manifest = json(d.join("single/manifest.json"));
    // manifest.json and the .coldsim marker (which names the command that
    // wrote the folder, sweep or merge) aside.
    let without_manifest = |t: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        t.into_iter()
            .filter(|(p, _)| p != "manifest.json" && p != ".coldsim")
            .collect()
    };
    let expected = without_manifest(single.clone());
    assert_eq!(
        expected.len(),
        2 + 3 * RUNS,
        "sweep.csv, scenario.toml and three files per run"
    );
    // A quoted cell with commas made it into sweep.csv.
    let sweep_text = String::from_utf8(read(d.join("single/sweep.csv"))).unwrap();
    assert!(
        sweep_text.contains("\"{ kind = \"\"fixed\"\""),
        "{sweep_text}"
    );

    // 1, 2, 3 shards; 4 does not divide the 6 runs; 8 leaves shards 6 and 7
    // empty.
    for n in [1, 2, 3, 4, 8] {
        let prefix = format!("n{n}-s");
        let names = all_shards(d, n, &prefix);
        for (k, name) in names.iter().enumerate() {
            let sd = d.join(name);
            let m = json(sd.join("manifest.json"));
            assert_eq!(m["shard"]["index"], k, "{m}");
            assert_eq!(m["shard"]["count"], n, "{m}");
            let jobs: Vec<usize> = (0..RUNS).filter(|j| j % n == k).collect();
            assert_eq!(m["runs"], jobs.len(), "{m}");
            assert_eq!(m["sweep_points"], 3);
            assert_eq!(m["replicates"], 2);
            for key in ["scenario_sha256", "coldsim_version", "git_commit", "seed"] {
                assert_eq!(m[key], single_manifest[key], "{key}");
            }
            // Its rows are its jobs, in sweep.csv order: job j is point
            // j / 2, replicate j % 2.
            let want: Vec<(String, String)> = jobs
                .iter()
                .map(|j| ((j / 2).to_string(), (j % 2).to_string()))
                .collect();
            if jobs.is_empty() {
                assert!(read(sd.join("sweep.csv")).is_empty());
                assert!(!sd.join("runs").exists());
            } else {
                assert_eq!(sweep_jobs(&sd.join("sweep.csv")), want, "shard {k}/{n}");
            }
            assert_eq!(read(sd.join("scenario.toml")), SWEEP.as_bytes());
        }
        // Folders given in any order.
        let mut given: Vec<&str> = names.iter().map(String::as_str).collect();
        given.reverse();
        given.rotate_left(n / 2);
        let out = format!("merged-{n}");
        let o = merge(d, &out, &given);
        assert_ok(&o);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains(&format!("{RUNS} run(s) merged from {n} shard(s)"))
                && stdout.contains(&format!("results written to {out}/")),
            "{stdout}"
        );
        let merged = tree(&d.join(&out));
        assert!(merged.iter().any(|(p, _)| p == "manifest.json"));
        assert!(merged.iter().any(|(p, b)| {
            p == ".coldsim" && String::from_utf8_lossy(b).contains("\nkind: merge\n")
        }));
        let merged = without_manifest(merged);
        let names_of =
            |t: &[(String, Vec<u8>)]| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(names_of(&merged), names_of(&expected), "files, {n} shards");
        for ((p, a), (_, b)) in merged.iter().zip(&expected) {
            assert!(a == b, "{p} differs from the single run's with {n} shards");
        }
        // The manifest lists the shards and describes the whole sweep.
        let m = json(d.join(&out).join("manifest.json"));
        assert_eq!(m["runs"], RUNS);
        assert!(m.get("shard").is_none(), "a merged folder is not a shard");
        for key in [
            "coldsim_version",
            "git_commit",
            "scenario_sha256",
            "scenario_name",
            "seed",
            "sweep_points",
            "replicates",
            "events",
            "invocations",
            "workload",
            "scenario_text",
        ] {
            assert_eq!(
                m[key], single_manifest[key],
                "manifest key {key}, {n} shards"
            );
        }
        let shards = m["shards"].as_array().expect("a list of shards");
        assert_eq!(shards.len(), n);
        for (k, s) in shards.iter().enumerate() {
            assert_eq!(s["shard"]["index"], k);
            assert_eq!(s["shard"]["count"], n);
            assert_eq!(s["folder"], names[k]);
            assert!(
                s["wall_seconds"].is_number() && s["host"].is_string(),
                "{s}"
            );
        }
    }
}

#[test]
fn merge_defaults_to_the_scenario_results_folder() {
    let dir = setup();
    let d = dir.path();
    let names = all_shards(d, 2, "s");
    let o = coldsim(d, &["merge", "s1", "s0"]);
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("results written to results/sharded/"));
    assert!(d.join("results/sharded/sweep.csv").is_file());
    // Again: refused without --force, replaced with it.
    let again = coldsim(d, &["merge", &names[0], &names[1]]);
    let line = one_line_error(&again);
    assert!(line.contains("already exists"), "{line}");
    assert_ok(&coldsim(d, &["merge", "--force", "-q", "s0", "s1"]));
}

#[test]
fn bad_shard_values_are_one_line_errors() {
    let dir = setup();
    let d = dir.path();
    for bad in [
        "3/2", "2/2", "0/0", "a/b", "1", "-1/2", "1/2/3", "1/", "/2", "",
    ] {
        let o = coldsim(d, &["run", "sweep.toml", "--shard", bad, "--out", "x"]);
        let line = one_line_error(&o);
        assert!(
            line.contains("--shard") && line.contains("0/4"),
            "{bad}: {line}"
        );
        assert_eq!(entries(d), ["sweep.toml"], "{bad}: nothing written");
    }
    let line = one_line_error(&coldsim(d, &["run", "sweep.toml", "--shard", "3/2"]));
    assert!(line.contains("numbered from 0 to 1"), "{line}");
}

#[test]
fn shard_of_a_scenario_without_a_sweep_is_refused() {
    let dir = tempdir();
    let d = dir.path();
    let single = SWEEP.split("[sweep]").next().unwrap();
    fs::write(d.join("one.toml"), single).unwrap();
    let o = coldsim(d, &["run", "one.toml", "--shard", "0/2", "--out", "x"]);
    let line = one_line_error(&o);
    assert!(
        line.contains("one.toml") && line.contains("no [sweep]"),
        "{line}"
    );
    assert_eq!(entries(d), ["one.toml"]);
}

#[test]
fn merge_refuses_shards_of_another_scenario_or_seed() {
    let dir = setup();
    let d = dir.path();
    shard(d, 0, 2, "a0", &[]);
    shard(d, 1, 2, "a1", &[]);
    // The same sweep with another comment: another scenario text.
    fs::write(d.join("other.toml"), format!("# changed\n{SWEEP}")).unwrap();
    let o = coldsim(
        d,
        &["run", "other.toml", "--shard", "1/2", "--out", "b1", "-q"],
    );
    assert_ok(&o);
    refused(
        d,
        &merge(d, "merged", &["a0", "b1"]),
        &["b1", "another scenario"],
    );
    // Same text, another --seed.
    shard(d, 1, 2, "c1", &["--seed", "7"]);
    refused(
        d,
        &merge(d, "merged", &["a0", "c1"]),
        &["c1", "seed 7", "seed 11"],
    );
    // The right pair merges.
    assert_ok(&merge(d, "merged", &["a0", "a1"]));
}

/// Rewrites one field of a copied shard's manifest.
fn edit_manifest(dir: &Path, key: &str, value: serde_json::Value) {
    let p = dir.join("manifest.json");
    let mut m = json(&p);
    m[key] = value;
    fs::write(&p, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

#[test]
fn merge_refuses_shards_of_another_build() {
    let dir = setup();
    let d = dir.path();
    shard(d, 0, 2, "a0", &[]);
    shard(d, 1, 2, "a1", &[]);
    // A build cannot be faked without a second build; the manifest is what
    // merge reads, so edit a copy.
    copy_dir(&d.join("a1"), &d.join("v1"));
    edit_manifest(&d.join("v1"), "coldsim_version", "0.0.9".into());
    refused(
        d,
        &merge(d, "merged", &["a0", "v1"]),
        &["v1", "coldsim 0.0.9", "same build"],
    );
    copy_dir(&d.join("a1"), &d.join("g1"));
    edit_manifest(&d.join("g1"), "git_commit", "0123abcd".into());
    refused(
        d,
        &merge(d, "merged", &["a0", "g1"]),
        &["g1", "commit 0123abcd", "same build"],
    );
}

#[test]
fn merge_refuses_shards_of_different_splits() {
    let dir = setup();
    let d = dir.path();
    shard(d, 0, 2, "a0", &[]);
    shard(d, 1, 3, "b1", &[]);
    shard(d, 2, 3, "b2", &[]);
    refused(
        d,
        &merge(d, "merged", &["a0", "b1", "b2"]),
        &["b1", "shard 1/3", "split into 3", "split into 2"],
    );
}

#[test]
fn merge_refuses_duplicate_and_missing_shards() {
    let dir = setup();
    let d = dir.path();
    let names = all_shards(d, 3, "s");
    // The same folder twice.
    refused(
        d,
        &merge(d, "merged", &["s0", "s1", "s2", "s1"]),
        &["s1", "shard 1/3 is given twice"],
    );
    // Two folders of the same shard.
    copy_dir(&d.join("s0"), &d.join("copy0"));
    refused(
        d,
        &merge(d, "merged", &["s0", "s1", "s2", "copy0"]),
        &["copy0", "shard 0/3 is given twice", "also s0"],
    );
    // A shard missing.
    refused(
        d,
        &merge(d, "merged", &["s0", "s2"]),
        &["shard 1/3", "missing", "2 of 3"],
    );
    refused(d, &merge(d, "merged", &["s2"]), &["shard 0/3, 1/3 missing"]);
    // No folder at all is a usage error.
    let line = one_line_error(&coldsim(d, &["merge", "--out", "merged"]));
    assert!(line.contains("SHARD_DIR"), "{line}");
    assert_ok(&merge(d, "merged", &[&names[2], &names[0], &names[1]]));
}

#[test]
fn merge_refuses_folders_that_are_not_shards() {
    let dir = setup();
    let d = dir.path();
    shard(d, 0, 2, "s0", &[]);
    shard(d, 1, 2, "s1", &[]);
    // A whole run.
    assert_ok(&coldsim(d, &["run", "sweep.toml", "--out", "whole", "-q"]));
    refused(
        d,
        &merge(d, "merged", &["s0", "whole"]),
        &["whole", "not a shard folder"],
    );
    // A merged folder is not a shard either.
    assert_ok(&merge(d, "merge-of-2", &["s0", "s1"]));
    refused(
        d,
        &merge(d, "merged", &["merge-of-2"]),
        &["merge-of-2", "not a shard folder"],
    );
    // A folder without manifest.json, a file, a path that does not exist.
    fs::create_dir(d.join("empty")).unwrap();
    refused(
        d,
        &merge(d, "merged", &["s0", "empty"]),
        &["empty", "no manifest.json"],
    );
    refused(
        d,
        &merge(d, "merged", &["s0", "sweep.toml"]),
        &["sweep.toml", "not a folder"],
    );
    refused(
        d,
        &merge(d, "merged", &["s0", "nowhere"]),
        &["nowhere", "no such folder"],
    );
    // A manifest that is not JSON.
    copy_dir(&d.join("s1"), &d.join("broken"));
    fs::write(d.join("broken/manifest.json"), "{ not json").unwrap();
    refused(
        d,
        &merge(d, "merged", &["s0", "broken"]),
        &["broken/manifest.json", "not valid JSON"],
    );
}

#[test]
fn merge_refuses_shard_folders_changed_after_the_run() {
    let dir = setup();
    let d = dir.path();
    shard(d, 0, 2, "s0", &[]);
    shard(d, 1, 2, "s1", &[]);
    // Shard 1 holds runs 1, 3, 5: point 0 replicate 1, point 1 replicate 1,
    // point 2 replicate 1.
    copy_dir(&d.join("s1"), &d.join("t1"));
    fs::remove_file(d.join("t1/runs/p1-r1/latency.csv")).unwrap();
    refused(
        d,
        &merge(d, "merged", &["s0", "t1"]),
        &["t1/runs/p1-r1/latency.csv", "missing"],
    );
    copy_dir(&d.join("s1"), &d.join("u1"));
    let toml = d.join("u1/scenario.toml");
    fs::write(&toml, format!("{SWEEP}\n# edited\n")).unwrap();
    refused(
        d,
        &merge(d, "merged", &["s0", "u1"]),
        &["u1/scenario.toml", "SHA-256"],
    );
    // sweep.csv without its last row.
    copy_dir(&d.join("s1"), &d.join("w1"));
    let csv = d.join("w1/sweep.csv");
    let text = String::from_utf8(read(&csv)).unwrap();
    let cut: Vec<&str> = text.lines().collect();
    fs::write(&csv, format!("{}\n", cut[..cut.len() - 1].join("\n"))).unwrap();
    refused(
        d,
        &merge(d, "merged", &["s0", "w1"]),
        &["w1/sweep.csv", "3 line(s)", "3 row(s)"],
    );
    // sweep.csv rows swapped.
    copy_dir(&d.join("s1"), &d.join("x1"));
    let csv = d.join("x1/sweep.csv");
    let mut lines: Vec<String> = String::from_utf8(read(&csv))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.swap(1, 2);
    fs::write(&csv, format!("{}\n", lines.join("\n"))).unwrap();
    refused(
        d,
        &merge(d, "merged", &["s0", "x1"]),
        &["x1/sweep.csv:2", "expected point 0 replicate 1"],
    );
}

#[test]
fn merge_never_replaces_one_of_its_shards() {
    let dir = setup();
    let d = dir.path();
    shard(d, 0, 2, "s0", &[]);
    shard(d, 1, 2, "s1", &[]);
    let before = tree(&d.join("s0"));
    let o = coldsim(d, &["merge", "--force", "--out", "s0", "s0", "s1"]);
    let line = one_line_error(&o);
    assert!(line.contains("one of the shard folders"), "{line}");
    assert_eq!(tree(&d.join("s0")), before);
}

#[test]
fn help_mentions_shard_and_merge() {
    let dir = tempdir();
    let d = dir.path();
    let out = |args: &[&str]| {
        let o = coldsim(d, args);
        assert_ok(&o);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let top = out(&["--help"]);
    assert!(
        top.contains("merge") && top.contains("--shard 0/4"),
        "{top}"
    );
    assert!(out(&["run", "--help"]).contains("--shard <K/N>"));
    let merge = out(&["merge", "--help"]);
    assert!(
        merge.contains("SHARD_DIR") && merge.contains("--out") && merge.contains("--force"),
        "{merge}"
    );
    assert!(entries(d).is_empty(), "help writes nothing");
}
