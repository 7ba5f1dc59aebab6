//! timeseries.csv and `coldsim report`: determinism of the series, the
//! report of a single run and of a sweep, errors, and report.html loaded
//! in headless Chromium.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coldsim")
}

const SCENARIO: &str = r#"
name = "report-test"
seed = 3
duration = "30m"

[hosts]
count = 2
memory_mb = 4096

[keepalive]
kind = "fixed"
ttl = "2m"

[report]
interval = "5m"

[[functions]]
name = "api"
memory_mb = 256
init = { dist = "constant", value = "300ms" }
exec = { dist = "lognormal", mean = "50ms", sd = "30ms" }
arrivals = { kind = "poisson", rate = "2/s" }

[[functions]]
name = "rare"
memory_mb = 512
init = { dist = "constant", value = "2s" }
exec = { dist = "constant", value = "1s" }
arrivals = { kind = "poisson", rate = "1/min" }
"#;

fn write_scenario(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("s.toml");
    fs::write(&p, text).unwrap();
    p
}

fn run(scenario: &Path, out: &Path) {
    let o = Command::new(bin())
        .args(["run", "-q", "--force", "--out"])
        .arg(out)
        .arg(scenario)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "coldsim run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn report(results: &Path) -> std::process::Output {
    Command::new(bin())
        .args(["report", "-q", "--force"])
        .arg(results)
        .output()
        .unwrap()
}

fn rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(path: &Path, name: &str) -> Vec<f64> {
    let (h, rows) = rows(path);
    let c = h.iter().position(|x| x == name).unwrap();
    rows.iter().map(|r| r[c].parse().unwrap()).collect()
}

#[test]
fn timeseries_is_deterministic_and_adds_up_to_the_summary() {
    let d = tempfile::tempdir().unwrap();
    let s = write_scenario(d.path(), SCENARIO);
    run(&s, &d.path().join("a"));
    run(&s, &d.path().join("b"));
    let a = fs::read(d.path().join("a/timeseries.csv")).unwrap();
    let b = fs::read(d.path().join("b/timeseries.csv")).unwrap();
    assert_eq!(a, b, "timeseries.csv differs between two runs of seed 3");
    let ts = d.path().join("a/timeseries.csv");
    let sum = d.path().join("a/summary.csv");
    // Six 5-minute intervals over 30 minutes.
    assert_eq!(column(&ts, "end_s").len(), 6);
    assert_eq!(column(&ts, "end_s")[5], 1800.0);
    let total = |c: &str| column(&ts, c).iter().sum::<f64>();
    assert_eq!(total("arrivals"), column(&sum, "arrivals")[0]);
    assert_eq!(total("completed"), column(&sum, "completed")[0]);
    assert_eq!(
        total("cold_starts") + total("prewarm_starts"),
        column(&sum, "instances_started")[0]
    );
    // Equal-length intervals: the mean of the averages is the run's mean.
    let mean_busy = total("instances_busy") / 6.0;
    let want = column(&sum, "mean_busy_instances")[0];
    assert!((mean_busy - want).abs() < 1e-5, "{mean_busy} vs {want}");
    // Off by default: no timeseries.csv.
    let off = SCENARIO.replace("[report]\ninterval = \"5m\"\n", "");
    let s2 = write_scenario(d.path(), &off);
    run(&s2, &d.path().join("c"));
    assert!(!d.path().join("c/timeseries.csv").exists());
}

#[test]
fn zero_interval_is_a_one_line_input_error() {
    let d = tempfile::tempdir().unwrap();
    let s = write_scenario(
        d.path(),
        &SCENARIO.replace("interval = \"5m\"", "interval = \"0s\""),
    );
    let o = Command::new(bin())
        .args(["check"])
        .arg(&s)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("report.interval"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

fn check_report(dir: &Path, plots: usize) -> String {
    let html = fs::read_to_string(dir.join("report/report.html")).unwrap();
    let md = fs::read_to_string(dir.join("report/report.md")).unwrap();
    assert_eq!(html.matches("<figure class=\"plot\"").count(), plots);
    assert_eq!(html.matches("<svg").count(), plots);
    // Self-contained: no external resource.
    for bad in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script src",
        "url(http",
    ] {
        assert!(!html.contains(bad), "report.html has an external {bad}");
    }
    assert!(html.contains("id=\"manifest\"") && html.contains("id=\"scenario\""));
    assert!(md.contains("## Manifest") && md.contains("![End-to-end latency CDF]"));
    for entry in fs::read_dir(dir.join("report/plots")).unwrap() {
        let p = entry.unwrap().path();
        let bytes = fs::read(&p).unwrap();
        if p.extension().is_some_and(|e| e == "png") {
            assert_eq!(&bytes[1..4], b"PNG", "{}", p.display());
        } else {
            assert!(bytes.starts_with(b"<svg"), "{}", p.display());
        }
    }
    assert_eq!(
        fs::read_dir(dir.join("report/plots")).unwrap().count(),
        2 * plots
    );
    html
}

#[test]
fn report_of_a_single_run_and_of_a_sweep() {
    let d = tempfile::tempdir().unwrap();
    let s = write_scenario(d.path(), SCENARIO);
    let one = d.path().join("one");
    run(&s, &one);
    let o = report(&one);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = check_report(&one, 5);
    assert!(html.contains("Instances and memory over time"));

    let sweep =
        format!("{SCENARIO}\n[sweep]\nreplicates = 3\n\"keepalive.ttl\" = [\"30s\", \"5m\"]\n");
    let s = write_scenario(d.path(), &sweep);
    let many = d.path().join("many");
    run(&s, &many);
    let o = report(&many);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = check_report(&many, 5);
    // Two variants with three replicates: intervals in the tables.
    assert!(html.contains("ttl=30s") && html.contains("ttl=5m"));
    assert!(html.contains(" ± "));
    // The report is a pure function of the results folder (apart from the
    // manifest fields it shows, which are the folder's own).
    let md = fs::read(many.join("report/report.md")).unwrap();
    let png = fs::read(many.join("report/plots/cost.png")).unwrap();
    let o = report(&many);
    assert!(o.status.success());
    assert_eq!(fs::read(many.join("report/report.md")).unwrap(), md);
    assert_eq!(fs::read(many.join("report/plots/cost.png")).unwrap(), png);
}

#[test]
fn report_errors_are_one_line_with_exit_2() {
    let d = tempfile::tempdir().unwrap();
    let o = report(&d.path().join("nowhere"));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nowhere") && err.contains("manifest.json"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // An existing report folder needs --force.
    let s = write_scenario(d.path(), SCENARIO);
    let one = d.path().join("one");
    run(&s, &one);
    assert!(report(&one).status.success());
    let o = Command::new(bin())
        .args(["report", "-q"])
        .arg(&one)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Debian's chromium, or `CHROMIUM` if set.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Without Chromium this test is ignored (build.rs sets
/// `coldsim_no_chromium`), except under CI=true, where it fails.
#[test]
#[cfg_attr(
    coldsim_no_chromium,
    ignore = "no chromium (apt-get install chromium); with CI=true this test fails instead"
)]
fn report_html_shows_its_plots_in_headless_chromium() {
    let chrome = chromium().expect(
        "chromium is missing: .ci/run installs it (apt-get install -y chromium), or set CHROMIUM",
    );
    let d = tempfile::tempdir().unwrap();
    let s = write_scenario(d.path(), SCENARIO);
    let one = d.path().join("one");
    run(&s, &one);
    assert!(report(&one).status.success());
    let page = one.join("report/report.html");
    let profile = d.path().join("chromium-profile");
    let shot = d.path().join("shot.png");
    let url = format!("file://{}", page.display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ];
    let o = Command::new(&chrome)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The DOM Chromium built holds every plot as an SVG element with its
    // drawn content (lines, rectangles, text).
    let figures = dom.matches("<figure class=\"plot\"").count();
    assert_eq!(figures, 5, "plots found in the DOM: {figures}\n{dom:.2000}");
    assert_eq!(dom.matches("<svg").count(), 5);
    for id in [
        "plot-latency-cdf",
        "plot-cold-vs-idle-memory",
        "plot-instances-memory-over-time",
        "plot-cost",
        "plot-start-kinds",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no {id} in the DOM");
    }
    assert!(dom.contains("<polyline") || dom.contains("<path"));
    assert!(dom.contains("End-to-end latency CDF"));
    // And it paints: a screenshot that is not blank.
    let o = Command::new(&chrome)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1100,2000")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let png = fs::read(&shot).unwrap();
    assert!(png.len() > 20_000, "screenshot of {} bytes", png.len());
}

#[test]
fn merged_shards_keep_each_runs_timeseries() {
    let d = tempfile::tempdir().unwrap();
    let sweep =
        format!("{SCENARIO}\n[sweep]\nreplicates = 2\n\"keepalive.ttl\" = [\"30s\", \"5m\"]\n");
    let s = write_scenario(d.path(), &sweep);
    let whole = d.path().join("whole");
    run(&s, &whole);
    let mut shards = Vec::new();
    for k in 0..2 {
        let out = d.path().join(format!("shard{k}"));
        let o = Command::new(bin())
            .args(["run", "-q", "--shard", &format!("{k}/2"), "--out"])
            .arg(&out)
            .arg(&s)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        shards.push(out);
    }
    let merged = d.path().join("merged");
    let o = Command::new(bin())
        .args(["merge", "-q", "--out"])
        .arg(&merged)
        .args(&shards)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for run in ["p0-r0", "p0-r1", "p1-r0", "p1-r1"] {
        let rel = format!("runs/{run}/timeseries.csv");
        assert_eq!(
            fs::read(whole.join(&rel)).unwrap(),
            fs::read(merged.join(&rel)).unwrap(),
            "{rel}"
        );
    }
}
