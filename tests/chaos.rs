//! Chaos: `coldsim run`, `coldsim merge` and `coldsim report` killed with
//! SIGKILL at random moments, first writes and `--force` replacements of an
//! existing folder alike. After every kill the destination must be absent
//! (a first write), or a complete folder (the old one or the new one:
//! its `.coldsim` marker, its manifest.json, and exactly the files the
//! manifest lists, each with its SHA-256), never half of one; and running
//! the same command again must succeed and leave no `.partial-`, `.old-` or
//! `.tmp-` entry behind.
//!
//! The delays come from a seeded generator: a failure prints the seed and
//! the iteration; `COLDSIM_CHAOS_SEED=N` replays it. The sweep has many
//! small runs, so that the writing and the swap at the end take a good part
//! of the command's time and many kills land there.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coldsim::report::manifest::sha256_hex;

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

/// Kills per command.
const KILLS: usize = 24;

/// 8 points x 3 replicates of two simulated minutes, with time series:
/// 24 run folders of 4 files each.
const SWEEP: &str = r#"name = "chaos"
seed = 3
duration = "2m"

[hosts]
count = 2
memory_mb = 4096
cores = 4

[keepalive]
kind = "fixed"
ttl = "1m"

[[apps]]
name = "api"
memory_mb = 256
init = { dist = "constant", value = "300ms" }

[[functions]]
name = "f"
app = "api"
exec = { dist = "exponential", mean = "50ms" }
arrivals = { kind = "poisson", rate = "20/s" }

[report]
interval = "10s"

[sweep]
replicates = 3
"keepalive.ttl" = ["1s", "2s", "3s", "5s", "8s", "13s", "21s", "34s"]
"#;

/// splitmix64: a small seeded generator, so that a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RAYON_NUM_THREADS")
        .output()
        .expect("cannot start the coldsim binary")
}

fn ok(dir: &Path, args: &[&str], ctx: &str) {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "{ctx}: coldsim {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Starts the command, kills it with SIGKILL after `delay` (if it is still
/// running), and reaps it. Returns whether it was killed.
fn kill_after(dir: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("RAYON_NUM_THREADS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start the coldsim binary");
    std::thread::sleep(delay);
    let killed = child.try_wait().expect("wait").is_none();
    if killed {
        let _ = child.kill();
    }
    let status = child.wait().expect("wait");
    assert!(killed || status.success(), "coldsim {args:?}: {status}");
    killed
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).expect("list") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v);
    v.sort();
    v
}

/// Why `dir` is not a complete coldsim folder, if it is not.
fn incomplete(dir: &Path) -> Option<String> {
    let marker = fs::read_to_string(dir.join(".coldsim")).ok()?;
    if !marker.starts_with("coldsim results folder, version ") {
        return Some(format!("bad marker {marker:?}"));
    }
    let Ok(bytes) = fs::read(dir.join("manifest.json")) else {
        return Some("no manifest.json".into());
    };
    let Ok(m) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Some("manifest.json is not JSON".into());
    };
    let Some(listed) = m["files"].as_object() else {
        return Some("no files in manifest.json".into());
    };
    let mut on_disk = files(dir);
    on_disk.retain(|p| p != "manifest.json" && p != ".coldsim");
    let names: Vec<String> = listed.keys().cloned().collect();
    if on_disk != names {
        return Some(format!("files {on_disk:?}, manifest lists {names:?}"));
    }
    for (rel, h) in listed {
        let bytes = fs::read(dir.join(rel)).ok()?;
        if sha256_hex(&bytes) != h.as_str().unwrap_or("") {
            return Some(format!("{rel}: SHA-256 differs"));
        }
    }
    None
}

/// Staging leftovers in a folder.
fn leftovers(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.contains(".partial-")
                || n.contains(".old-")
                || n.contains(".tmp-")
                || n.contains(".new-")
        })
        .collect();
    v.sort();
    v
}

fn seed() -> u64 {
    std::env::var("COLDSIM_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_204)
}

/// Kills `args` (run in `cwd`, writing `dest`) at random moments, and
/// checks the destination after each kill and after each rerun.
fn chaos(name: &str, cwd: &Path, dest: &Path, args: &[&str], rng: &mut Rng) {
    let parent = dest.parent().expect("a parent folder");
    // How long the command takes here and now.
    let t0 = Instant::now();
    ok(cwd, args, name);
    ok(cwd, args, name);
    let typical = t0.elapsed() / 2;
    let mut killed = 0;
    for i in 0..KILLS {
        let first_write = i % 3 == 0;
        if first_write {
            let _ = fs::remove_dir_all(dest);
        } else if !dest.exists() {
            ok(cwd, args, name);
        }
        let delay = typical.mul_f64(1.3 * rng.unit());
        let ctx = format!(
            "{name}, iteration {i} ({}), kill after {delay:?} of a typical {typical:?}; replay with COLDSIM_CHAOS_SEED={}",
            if first_write {
                "first write"
            } else {
                "--force replacement"
            },
            seed()
        );
        killed += usize::from(kill_after(cwd, args, delay));
        match fs::symlink_metadata(dest) {
            Err(_) => assert!(first_write, "{ctx}: the old folder is gone"),
            Ok(_) => {
                if let Some(why) = incomplete(dest) {
                    panic!("{ctx}: {} is half written: {why}", dest.display());
                }
            }
        }
        ok(cwd, args, &ctx);
        if let Some(why) = incomplete(dest) {
            panic!(
                "{ctx}: after the rerun, {} is incomplete: {why}",
                dest.display()
            );
        }
        assert_eq!(leftovers(parent), Vec::<String>::new(), "{ctx}");
    }
    assert!(
        killed >= KILLS / 2,
        "{name}: only {killed} of {KILLS} commands were still running when killed"
    );
}

#[test]
fn kills_never_leave_a_half_folder() {
    let started = Instant::now();
    let mut rng = Rng(seed());
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    fs::write(root.join("sweep.toml"), SWEEP).unwrap();
    let force = ["--force", "-q"];

    // run: a sweep.
    let args: Vec<&str> = ["run", "sweep.toml", "--out", "runs"]
        .into_iter()
        .chain(force)
        .collect();
    chaos("run", root, &root.join("runs"), &args, &mut rng);

    // merge: of two shards.
    for k in ["0", "1"] {
        ok(
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
            "shards",
        );
    }
    let args: Vec<&str> = ["merge", "s0", "s1", "--out", "merged"]
        .into_iter()
        .chain(force)
        .collect();
    chaos("merge", root, &root.join("merged"), &args, &mut rng);

    // report: of the sweep, into its default folder.
    let args: Vec<&str> = ["report", "runs"].into_iter().chain(force).collect();
    chaos("report", root, &root.join("runs/report"), &args, &mut rng);

    eprintln!("chaos: {} kills in {:?}", 3 * KILLS, started.elapsed());
}
