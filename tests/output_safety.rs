//! "Never delete or lose a user's files": the guard on output paths, what
//! `--force` may replace, the check at commit, the atomic swap and its
//! recovery, cleanup after signals and kills, `calibrate --out`, and the
//! SHA-256 check of shard files in `merge` (see src/report/staging.rs).
//!
//! Every command runs in a fresh temporary folder. The scenarios are small:
//! SMALL takes milliseconds; SLOW (about a second) gives a test the time to
//! act while a run works.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use coldsim::report::Kind;
use coldsim::report::manifest::sha256_hex;
use coldsim::report::staging::{MARKER, Staging};

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

const SMALL: &str = r#"name = "small"
seed = 42
duration = "5m"

[hosts]
count = 2
memory_mb = 1024
cores = 4

[[apps]]
name = "api"
memory_mb = 256
init = { dist = "constant", value = "300ms" }

[[functions]]
name = "get"
app = "api"
exec = { dist = "exponential", mean = "50ms" }
arrivals = { kind = "poisson", rate = "5/s" }
"#;

/// About a second of work in four runs (two at a time).
const SLOW: &str = r#"name = "slow"
seed = 1
duration = "2h"

[hosts]
count = 4
memory_mb = 16384
cores = 8

[[apps]]
name = "api"
memory_mb = 256
init = { dist = "constant", value = "300ms" }

[[functions]]
name = "f"
app = "api"
exec = { dist = "exponential", mean = "50ms" }
arrivals = { kind = "poisson", rate = "100/s" }

[sweep]
replicates = 2
"keepalive" = [{ kind = "fixed", ttl = "1m" }, { kind = "none" }]
"#;

/// A sweep of two points for shards.
const SWEEP: &str = r#"name = "sharded"
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

[report]
interval = "30s"

[sweep]
replicates = 2
"keepalive.ttl" = ["5s", "2m"]

[keepalive]
kind = "fixed"
ttl = "1m"
"#;

fn coldsim(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RAYON_NUM_THREADS")
        .output()
        .expect("cannot start the coldsim binary")
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RAYON_NUM_THREADS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
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

fn assert_ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "expected success\n{}", show(o));
}

/// Exit 2, one line on stderr starting `coldsim: error: `, nothing on
/// stdout; returns the line.
fn one_line_error(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(2), "expected exit 2\n{}", show(o));
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

/// Every file under `dir` (relative path, contents), sorted; hidden ones
/// too.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).expect("list folder") {
            let e = e.expect("entry");
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let t = e.file_type().unwrap();
            if t.is_symlink() {
                let to = fs::read_link(&p).unwrap();
                out.push((rel, format!("-> {}", to.display()).into_bytes()));
            } else if t.is_dir() {
                walk(root, &p, out);
            } else {
                out.push((rel, fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Names of the entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Staging leftovers (`.NAME.partial-*`, `.NAME.old-*`, `.NAME.tmp-*`) in
/// a folder.
fn leftovers(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.contains(".partial-") || n.contains(".old-") || n.contains(".tmp-"))
        .collect()
}

/// The folder holds its marker, a manifest, and exactly the files the
/// manifest lists, each with its SHA-256.
fn assert_complete(dir: &Path) {
    let marker = fs::read_to_string(dir.join(MARKER))
        .unwrap_or_else(|e| panic!("{}: no marker: {e}", dir.display()));
    assert!(
        marker.starts_with("coldsim results folder, version "),
        "{marker}"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let files = m["files"].as_object().expect("a files map");
    assert!(!files.is_empty());
    let mut on_disk: Vec<String> = tree(dir).into_iter().map(|(p, _)| p).collect();
    on_disk.retain(|p| p != "manifest.json" && p != MARKER);
    let listed: Vec<String> = files.keys().cloned().collect();
    assert_eq!(on_disk, listed, "{}", dir.display());
    for (rel, h) in files {
        let bytes = fs::read(dir.join(rel)).unwrap();
        assert_eq!(&sha256_hex(&bytes), h, "{rel}");
    }
}

/// A PID that no process has: a child that has exited and was reaped.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

/// Waits until `path` exists (or the child ends, or 20 s pass).
fn wait_for(child: &mut Child, path: &Path) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        if fs::symlink_metadata(path).is_ok() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn setup(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempdir();
    for (name, text) in files {
        fs::write(d.path().join(name), text).unwrap();
    }
    d
}

// ---------------------------------------------------------------------
// 1. The guard

/// `report --out . --force` deleted the current folder when it held a
/// report.html, and `--out ..` the parent: every command that writes a
/// folder refuses `.`, `..`, `/`, the current folder however written, an
/// ancestor of it, and a folder holding one of its inputs.
#[test]
fn no_command_writes_over_the_current_folder_its_parents_or_its_inputs() {
    let d = setup(&[("small.toml", SMALL), ("sweep.toml", SWEEP)]);
    let root = d.path();
    assert_ok(&coldsim(root, &["run", "small.toml", "--out", "res", "-q"]));
    // The current folder holds a report.html: it looks like a report.
    fs::write(root.join("report.html"), "<html>mine</html>").unwrap();
    fs::write(root.join("keep.txt"), "precious").unwrap();
    fs::create_dir(root.join("sub")).unwrap();
    fs::write(root.join("sub/keep.txt"), "precious too").unwrap();
    for (name, dir) in [("sweep", "s0"), ("sweep", "s1")] {
        let k = &dir[1..];
        assert_ok(&coldsim(
            root,
            &[
                "run",
                &format!("{name}.toml"),
                "--shard",
                &format!("{k}/2"),
                "--out",
                dir,
                "-q",
            ],
        ));
    }
    let link = root.join("here");
    std::os::unix::fs::symlink(".", &link).unwrap();
    let before = tree(root);
    let abs = root.canonicalize().unwrap().display().to_string();
    let compare_scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/compare-small.toml")
        .display()
        .to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["run", "small.toml", "--force", "--out"],
        vec!["merge", "s0", "s1", "--force", "--out"],
        vec!["report", "res", "--force", "--out"],
        vec![
            "plan",
            "small.toml",
            "--slo",
            "rejected = 0",
            "--vary",
            "hosts.count",
            "--max",
            "2",
            "--force",
            "--out",
        ],
        vec!["compare", &compare_scenario, "--force", "--out"],
    ];
    for cmd in &commands {
        for out in [
            ".",
            "..",
            "/",
            "./x/..",
            "res/..",
            &abs,
            "here",
            "sub/../here",
        ] {
            let mut args = cmd.clone();
            args.push(out);
            let line = one_line_error(&coldsim(root, &args));
            assert!(line.contains(out), "{args:?}: {line}");
        }
        // From a subfolder: the parent, however written.
        let mut args = cmd.clone();
        let sub = root.join("sub");
        let rel_up = format!("../../{}", root.file_name().unwrap().to_string_lossy());
        for out in ["..", &rel_up, &abs] {
            args.truncate(cmd.len());
            args.push(out);
            let args: Vec<&str> = args
                .iter()
                .map(|a| match *a {
                    "small.toml" => "../small.toml",
                    "res" => "../res",
                    "s0" => "../s0",
                    "s1" => "../s1",
                    x => x,
                })
                .collect();
            one_line_error(&coldsim(&sub, &args));
        }
    }
    // An ancestor of an input: the shards' parent, the results' parent.
    fs::create_dir(root.join("inputs")).unwrap();
    fs::rename(root.join("s0"), root.join("inputs/s0")).unwrap();
    fs::rename(root.join("s1"), root.join("inputs/s1")).unwrap();
    let line = one_line_error(&coldsim(
        root,
        &[
            "merge",
            "inputs/s0",
            "inputs/s1",
            "--force",
            "--out",
            "inputs",
        ],
    ));
    assert!(line.contains("holds the input inputs/s0"), "{line}");
    let line = one_line_error(&coldsim(
        root,
        &["report", "res", "--force", "--out", "res"],
    ));
    assert!(line.contains("is the input res"), "{line}");
    fs::rename(root.join("inputs/s0"), root.join("s0")).unwrap();
    fs::rename(root.join("inputs/s1"), root.join("s1")).unwrap();
    fs::remove_dir(root.join("inputs")).unwrap();
    assert_eq!(tree(root), before, "nothing may change");
    assert!(leftovers(root).is_empty());
    // calibrate's --out is a file name.
    for out in [".", "..", "/", "sub/.."] {
        let line = one_line_error(&coldsim(root, &["calibrate", "--quick", "--out", out]));
        assert!(line.contains("--out"), "{line}");
    }
    assert_eq!(tree(root), before, "nothing may change");
}

// ---------------------------------------------------------------------
// 2. What --force replaces

/// `--force` replaced any folder that merely held a file named
/// manifest.json (report: a report.html). Only folders that are provably
/// coldsim's are replaced now; an empty folder still is.
#[test]
fn force_replaces_only_folders_coldsim_wrote() {
    let d = setup(&[("small.toml", SMALL), ("sweep.toml", SWEEP)]);
    let root = d.path();
    assert_ok(&coldsim(root, &["run", "small.toml", "--out", "res", "-q"]));
    for k in ["0", "1"] {
        assert_ok(&coldsim(
            root,
            &[
                "run",
                "sweep.toml",
                "--shard",
                &format!("{k}/2"),
                "--out",
                &format!("s{k}"),
                "-q",
            ],
        ));
    }
    // A user's folder with a manifest.json of its own, and one with a
    // report.html.
    fs::create_dir(root.join("mine")).unwrap();
    fs::write(root.join("mine/manifest.json"), r#"{"name": "my project"}"#).unwrap();
    fs::write(root.join("mine/notes.txt"), "keep").unwrap();
    fs::create_dir(root.join("site")).unwrap();
    fs::write(root.join("site/report.html"), "<html>my site</html>").unwrap();
    fs::write(root.join("site/index.html"), "<html>home</html>").unwrap();
    let before = tree(root);
    let compare_scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/compare-small.toml")
        .display()
        .to_string();
    for out in ["mine", "site"] {
        for args in [
            vec!["run", "small.toml"],
            vec!["merge", "s0", "s1"],
            vec![
                "plan",
                "small.toml",
                "--slo",
                "rejected = 0",
                "--vary",
                "hosts.count",
                "--max",
                "2",
            ],
            vec!["compare", &compare_scenario],
            vec!["report", "res"],
        ] {
            let mut args = args.clone();
            args.extend(["--force", "--out", out]);
            let line = one_line_error(&coldsim(root, &args));
            assert!(
                line.contains(out) && line.contains("--force"),
                "{args:?}: {line}"
            );
        }
    }
    // A symbolic link to a results folder is not replaced either.
    std::os::unix::fs::symlink("res", root.join("link")).unwrap();
    let line = one_line_error(&coldsim(
        root,
        &["run", "small.toml", "--force", "--out", "link"],
    ));
    assert!(line.contains("symbolic link"), "{line}");
    fs::remove_file(root.join("link")).unwrap();
    // report --force does not replace a results folder.
    let line = one_line_error(&coldsim(root, &["report", "res", "--force", "--out", "s0"]));
    assert!(line.contains("not a report"), "{line}");
    assert_eq!(tree(root), before);
    assert!(leftovers(root).is_empty());

    // An empty folder and coldsim's own folders are replaced.
    fs::create_dir(root.join("empty")).unwrap();
    assert_ok(&coldsim(
        root,
        &["run", "small.toml", "--force", "--out", "empty", "-q"],
    ));
    assert_complete(&root.join("empty"));
    assert_ok(&coldsim(
        root,
        &["merge", "s0", "s1", "--force", "--out", "empty", "-q"],
    ));
    assert!(
        fs::read_to_string(root.join("empty/.coldsim"))
            .unwrap()
            .contains("kind: merge")
    );
    assert_ok(&coldsim(root, &["report", "res", "-q"]));
    assert_ok(&coldsim(root, &["report", "res", "--force", "-q"]));
    assert_complete(&root.join("res/report"));
}

/// Folders written before the marker existed (results/reference/* in this
/// repository: manifest.json with coldsim's fields, report folders with
/// report.html, report.md and plots/) are still replaced with --force.
#[test]
fn force_still_replaces_folders_of_an_older_coldsim() {
    let d = tempdir();
    let root = d.path();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/reference/consolidation");
    let copy = root.join("consolidation");
    copy_dir(&reference, &copy);
    assert!(!copy.join(MARKER).exists() && !copy.join("report").join(MARKER).exists());
    // `coldsim report results/reference/X --force` (as scripts/reference.sh
    // does) on the copy.
    assert_ok(&coldsim(
        root,
        &["report", "consolidation", "--force", "-q"],
    ));
    assert_complete(&copy.join("report"));
    // An old results folder replaced by a run.
    fs::write(root.join("small.toml"), SMALL).unwrap();
    let old = root.join("old");
    copy_dir(&reference, &old);
    fs::remove_dir_all(old.join("report")).unwrap();
    assert_ok(&coldsim(
        root,
        &["run", "small.toml", "--force", "--out", "old", "-q"],
    ));
    assert_complete(&old);
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

// ---------------------------------------------------------------------
// 3. The check at commit

/// A folder that appears at the destination while a run works (a user's,
/// or a second run's) is left alone: the run fails with one line and keeps
/// its results under a name it gives.
#[test]
fn a_folder_that_appears_during_a_run_is_never_deleted() {
    let d = setup(&[("slow.toml", SLOW), ("small.toml", SMALL)]);
    let root = d.path();
    let mut child = spawn(root, &["run", "slow.toml", "--force", "--out", "out", "-q"]);
    let partial = root.join(format!(".out.partial-{}", child.id()));
    assert!(
        wait_for(&mut child, &partial),
        "the run never started staging"
    );
    fs::create_dir(root.join("out")).unwrap();
    fs::write(root.join("out/mine.txt"), "written during the run").unwrap();
    let o = child.wait_with_output().unwrap();
    let line = one_line_error(&o);
    assert!(
        line.contains("appeared while coldsim was running"),
        "{line}"
    );
    assert_eq!(entries(&root.join("out")), ["mine.txt"]);
    let kept: Vec<String> = entries(root)
        .into_iter()
        .filter(|n| n.starts_with("out.new-"))
        .collect();
    assert_eq!(kept.len(), 1, "{:?}", entries(root));
    assert!(line.contains(&kept[0]), "{line}");
    assert_complete(&root.join(&kept[0]));
    assert!(leftovers(root).is_empty());

    // A second run to the same --out that finishes first.
    let mut child = spawn(
        root,
        &["run", "slow.toml", "--force", "--out", "twice", "-q"],
    );
    let partial = root.join(format!(".twice.partial-{}", child.id()));
    assert!(wait_for(&mut child, &partial));
    assert_ok(&coldsim(
        root,
        &["run", "small.toml", "--force", "--out", "twice", "-q"],
    ));
    let second = tree(&root.join("twice"));
    let line = one_line_error(&child.wait_with_output().unwrap());
    assert!(line.contains("appeared"), "{line}");
    assert_eq!(
        tree(&root.join("twice")),
        second,
        "the second run's folder is kept"
    );
}

/// With --force, the old folder must be as it was at the start: a file a
/// user put into it meanwhile is not deleted.
#[test]
fn a_folder_that_changes_during_a_run_is_never_replaced() {
    let d = setup(&[("slow.toml", SLOW), ("small.toml", SMALL)]);
    let root = d.path();
    assert_ok(&coldsim(root, &["run", "small.toml", "--out", "out", "-q"]));
    let mut child = spawn(root, &["run", "slow.toml", "--force", "--out", "out", "-q"]);
    let partial = root.join(format!(".out.partial-{}", child.id()));
    assert!(wait_for(&mut child, &partial));
    fs::write(root.join("out/analysis.ipynb"), "hours of work").unwrap();
    let before = tree(&root.join("out"));
    let line = one_line_error(&child.wait_with_output().unwrap());
    assert!(line.contains("changed while coldsim was running"), "{line}");
    assert_eq!(tree(&root.join("out")), before);
    assert!(entries(root).iter().any(|n| n.starts_with("out.new-")));
}

/// The same check through the library, without timing: a destination that
/// appears, changes, or is replaced by another staging after
/// `Staging::new` is left alone.
#[test]
fn staging_checks_the_destination_again_at_commit() {
    let d = tempdir();
    let root = d.path();
    // Appears.
    let dest = root.join("a");
    let s = Staging::new(&dest, false, Kind::Run, &[]).unwrap();
    s.write("x.csv", b"1\n").unwrap();
    fs::create_dir(&dest).unwrap();
    fs::write(dest.join("user.txt"), "mine").unwrap();
    let e = s.commit().unwrap_err().to_string();
    assert!(e.contains("appeared") && e.contains("a.new-"), "{e}");
    assert_eq!(entries(&dest), ["user.txt"]);
    // Changes (with --force over a coldsim folder).
    let dest = root.join("b");
    let s = Staging::new(&dest, false, Kind::Run, &[]).unwrap();
    s.write("x.csv", b"old\n").unwrap();
    s.commit().unwrap();
    let s = Staging::new(&dest, true, Kind::Run, &[]).unwrap();
    s.write("x.csv", b"new\n").unwrap();
    fs::write(dest.join("x.csv"), "rewritten by the user\n").unwrap();
    let e = s.commit().unwrap_err().to_string();
    assert!(e.contains("changed"), "{e}");
    assert_eq!(
        fs::read_to_string(dest.join("x.csv")).unwrap(),
        "rewritten by the user\n"
    );
    // Two stagings to one destination: the second to commit is refused.
    let dest = root.join("c");
    let first = Staging::new(&dest, true, Kind::Run, &[]).unwrap();
    first.write("x.csv", b"first\n").unwrap();
    let second = Staging::new(&dest, true, Kind::Run, &[]);
    // One process stages a destination once at a time.
    assert!(second.is_err());
    first.commit().unwrap();
    let s = Staging::new(&dest, true, Kind::Run, &[]).unwrap();
    s.write("x.csv", b"replaced\n").unwrap();
    let kept = s.commit().unwrap();
    assert_eq!(
        fs::read_to_string(kept.join("x.csv")).unwrap(),
        "replaced\n"
    );
    // Unchanged: replaced, and nothing left beside it.
    let mut left = entries(root);
    left.retain(|n| !n.contains(".new-"));
    assert_eq!(left, ["a", "b", "c"]);
}

// ---------------------------------------------------------------------
// 4. The swap and its recovery

/// A kill between "old folder aside" and "new folder in" left the
/// destination missing: the next command into the same folder moves the old
/// one back; after the swap, it deletes the old one.
#[test]
fn an_interrupted_replacement_is_recovered_by_the_next_run() {
    let d = setup(&[("small.toml", SMALL)]);
    let root = d.path();
    assert_ok(&coldsim(root, &["run", "small.toml", "--out", "out", "-q"]));
    let old = tree(&root.join("out"));
    let pid = dead_pid();
    // Killed after the old folder went aside: no `out`.
    fs::rename(root.join("out"), root.join(format!(".out.old-{pid}"))).unwrap();
    let line = one_line_error(&coldsim(root, &["run", "small.toml", "--out", "out"]));
    assert!(
        line.contains("already exists"),
        "the old folder is back: {line}"
    );
    assert_eq!(tree(&root.join("out")), old);
    assert!(leftovers(root).is_empty(), "{:?}", entries(root));
    // Killed after the new folder went in: both.
    copy_dir(&root.join("out"), &root.join(format!(".out.old-{pid}")));
    assert_ok(&coldsim(
        root,
        &["run", "small.toml", "--force", "--out", "out", "-q"],
    ));
    assert!(leftovers(root).is_empty(), "{:?}", entries(root));
    assert_complete(&root.join("out"));
}

// ---------------------------------------------------------------------
// 5. Signals, kills, stale staging folders

/// Ctrl-C, SIGTERM and SIGHUP remove the staging folder and exit 130, 143
/// and 129; an old folder being replaced is left as it was.
#[test]
fn signals_remove_the_staging_folder() {
    let d = setup(&[("slow.toml", SLOW), ("small.toml", SMALL)]);
    let root = d.path();
    assert_ok(&coldsim(root, &["run", "small.toml", "--out", "old", "-q"]));
    let old = tree(&root.join("old"));
    for (sig, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        for out in ["new", "old"] {
            let mut child = spawn(root, &["run", "slow.toml", "--force", "--out", out, "-q"]);
            let partial = root.join(format!(".{out}.partial-{}", child.id()));
            assert!(wait_for(&mut child, &partial));
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, sig) };
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(code), "signal {sig}\n{}", show(&o));
            assert!(leftovers(root).is_empty(), "{:?}", entries(root));
            assert!(!root.join("new").exists());
            assert_eq!(tree(&root.join("old")), old);
        }
    }
}

/// A SIGKILL (or an allocation failure, which runs no handler) leaves
/// `.NAME.partial-PID`; the next command writing into the same folder
/// removes it, but not one of a running process, nor a folder that is not
/// coldsim's.
#[test]
fn stale_staging_folders_are_removed_by_the_next_run() {
    let d = setup(&[("slow.toml", SLOW), ("small.toml", SMALL)]);
    let root = d.path();
    let mut child = spawn(root, &["run", "slow.toml", "--out", "killed", "-q"]);
    let partial = root.join(format!(".killed.partial-{}", child.id()));
    assert!(wait_for(&mut child, &partial));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(partial.is_dir(), "SIGKILL leaves the staging folder");
    // A running process's (PID 1 always runs) and a user's look-alike.
    let live = root.join(".busy.partial-1");
    fs::create_dir(&live).unwrap();
    fs::write(
        live.join(MARKER),
        "coldsim results folder, version 0.1.0\nkind: run\n",
    )
    .unwrap();
    let users = root.join(format!(".notes.partial-{}", dead_pid()));
    fs::create_dir(&users).unwrap();
    fs::write(users.join("draft.txt"), "mine").unwrap();
    assert_ok(&coldsim(
        root,
        &["run", "small.toml", "--out", "other", "-q"],
    ));
    assert!(!partial.exists(), "the stale staging folder is removed");
    assert!(live.is_dir() && users.join("draft.txt").is_file());
    // The killed run, again.
    assert_ok(&coldsim(
        root,
        &["run", "small.toml", "--out", "killed", "-q"],
    ));
    assert_complete(&root.join("killed"));
}

/// A killed `calibrate` leaves `.NAME.tmp-PID`; SIGTERM removes it, and the
/// next command writing into the folder removes a stale one.
#[test]
fn calibrate_leaves_no_temporary_file() {
    let d = setup(&[("small.toml", SMALL)]);
    let root = d.path();
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        let mut child = spawn(root, &["calibrate", "--quick", "--out", "prof.toml"]);
        let tmp = root.join(format!(".prof.toml.tmp-{}", child.id()));
        assert!(
            wait_for(&mut child, &tmp),
            "calibrate never reserved its file"
        );
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let o = child.wait_with_output().unwrap();
        if sig == libc::SIGTERM {
            assert_eq!(o.status.code(), Some(143), "{}", show(&o));
            assert!(!tmp.exists());
        } else {
            assert!(tmp.exists());
            assert_ok(&coldsim(root, &["run", "small.toml", "--out", "x", "-q"]));
            assert!(!tmp.exists(), "{:?}", entries(root));
        }
        assert!(!root.join("prof.toml").exists());
    }
}

// ---------------------------------------------------------------------
// 6. calibrate --out

/// `calibrate --out` overwrote any file: an existing file now needs
/// --force, and --force replaces only a calibration profile; both are
/// refused before anything is measured.
#[test]
fn calibrate_refuses_to_overwrite_without_force() {
    let d = tempdir();
    let root = d.path();
    fs::write(root.join("notes.txt"), "mine").unwrap();
    let line = one_line_error(&coldsim(
        root,
        &["calibrate", "--quick", "--out", "notes.txt"],
    ));
    assert!(
        line.contains("notes.txt") && line.contains("--force"),
        "{line}"
    );
    let line = one_line_error(&coldsim(
        root,
        &["calibrate", "--quick", "--force", "--out", "notes.txt"],
    ));
    assert!(line.contains("not written by coldsim"), "{line}");
    fs::create_dir(root.join("dir")).unwrap();
    let line = one_line_error(&coldsim(
        root,
        &["calibrate", "--quick", "--force", "--out", "dir"],
    ));
    assert!(line.contains("folder"), "{line}");
    assert_eq!(entries(root), ["dir", "notes.txt"]);
    assert_eq!(fs::read_to_string(root.join("notes.txt")).unwrap(), "mine");
}

/// With --force an earlier profile is replaced, atomically (no temporary
/// file left).
#[test]
fn calibrate_force_replaces_a_profile() {
    let d = tempdir();
    let root = d.path();
    let old = "# coldsim calibration profile (schema 1): an old one\n";
    fs::write(root.join("prof.toml"), old).unwrap();
    let o = coldsim(
        root,
        &["calibrate", "--quick", "--force", "--out", "prof.toml"],
    );
    assert_ok(&o);
    let text = fs::read_to_string(root.join("prof.toml")).unwrap();
    assert!(text.starts_with("# coldsim calibration profile") && text != old);
    let t: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        t.contains_key("cold") && t.contains_key("dispatch"),
        "{text}"
    );
    assert_eq!(entries(root), ["prof.toml"]);
}

// ---------------------------------------------------------------------
// 7. merge checks the shards' files

/// merge accepted shards whose run files were edited or truncated: each
/// file's SHA-256 is in the shard's manifest now, and a mismatch is one
/// line naming the shard folder and the file, exit 2.
#[test]
fn merge_refuses_edited_or_truncated_shard_files() {
    let d = setup(&[("sweep.toml", SWEEP)]);
    let root = d.path();
    for k in ["0", "1"] {
        assert_ok(&coldsim(
            root,
            &[
                "run",
                "sweep.toml",
                "--shard",
                &format!("{k}/2"),
                "--out",
                &format!("s{k}"),
                "-q",
            ],
        ));
    }
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("s1/manifest.json")).unwrap()).unwrap();
    for f in [
        "sweep.csv",
        "scenario.toml",
        "runs/p0-r1/summary.csv",
        "runs/p1-r1/timeseries.csv",
    ] {
        assert!(m["files"][f].is_string(), "{f} listed: {m}");
    }
    assert_ok(&coldsim(root, &["merge", "s0", "s1", "--out", "ok", "-q"]));
    type Edit = fn(&Path);
    let cases: [(&str, Edit); 5] = [
        ("runs/p0-r1/summary.csv", |p| {
            // One cell changed, the row still well formed.
            let t = fs::read_to_string(p).unwrap();
            let (head, row) = t.split_once('\n').unwrap();
            let row = row.replacen(",0,", ",1,", 1);
            fs::write(p, format!("{head}\n{row}")).unwrap();
        }),
        ("runs/p1-r1/latency.csv", |p| fs::write(p, "").unwrap()),
        ("runs/p0-r1/functions.csv", |p| {
            let t = fs::read(p).unwrap();
            fs::write(p, &t[..t.len() / 2]).unwrap();
        }),
        ("runs/p1-r1/timeseries.csv", |p| {
            let t = fs::read_to_string(p).unwrap();
            fs::write(p, t.replacen('0', "9", 1)).unwrap();
        }),
        ("sweep.csv", |p| {
            let t = fs::read_to_string(p).unwrap();
            let (head, rows) = t.split_once('\n').unwrap();
            let rows = rows.replacen(",0.", ",7.", 1);
            fs::write(p, format!("{head}\n{rows}")).unwrap();
        }),
    ];
    for (i, (file, edit)) in cases.iter().enumerate() {
        let shard = format!("e{i}");
        copy_dir(&root.join("s1"), &root.join(&shard));
        edit(&root.join(&shard).join(file));
        let line = one_line_error(&coldsim(
            root,
            &["merge", "s0", &shard, "--out", "bad", "-q"],
        ));
        assert!(
            line.contains(&format!("{shard}/{file}")) && line.contains("SHA-256"),
            "{file}: {line}"
        );
        assert!(!root.join("bad").exists());
    }
    // A file the manifest lists, deleted.
    copy_dir(&root.join("s1"), &root.join("cut"));
    fs::remove_file(root.join("cut/runs/p1-r1/timeseries.csv")).unwrap();
    let line = one_line_error(&coldsim(
        root,
        &["merge", "s0", "cut", "--out", "bad", "-q"],
    ));
    assert!(
        line.contains("cut/runs/p1-r1/timeseries.csv") && line.contains("missing"),
        "{line}"
    );
    assert!(leftovers(root).is_empty());
}

/// The results of runs do not change: a run twice gives byte-identical
/// CSV files, and merged shards equal one run (the marker and manifest
/// aside).
#[test]
fn outputs_are_unchanged_by_the_staging() {
    let d = setup(&[("sweep.toml", SWEEP)]);
    let root = d.path();
    assert_ok(&coldsim(root, &["run", "sweep.toml", "--out", "a", "-q"]));
    assert_ok(&coldsim(
        root,
        &["run", "sweep.toml", "--force", "--out", "a", "-q"],
    ));
    assert_ok(&coldsim(root, &["run", "sweep.toml", "--out", "b", "-q"]));
    let csvs = |p: &Path| -> Vec<(String, Vec<u8>)> {
        tree(p)
            .into_iter()
            .filter(|(n, _)| n.ends_with(".csv") || n.ends_with(".toml"))
            .collect()
    };
    assert_eq!(csvs(&root.join("a")), csvs(&root.join("b")));
    assert_complete(&root.join("a"));
}
