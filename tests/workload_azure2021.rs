//! The Azure Functions 2021 trace reader (`[workload] kind = "azure2021"`),
//! on small files the tests write and on the real excerpt in
//! data/azure2021-head/.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use coldsim::engine::Streams;
use coldsim::model::{FunctionTable, Invocation};
use coldsim::report::{Cell, summary_row};
use coldsim::run::RunResult;
use coldsim::scenario::{Scenario, parse_str};
use coldsim::sim;
use coldsim::time::{SimDuration, SimTime};
use coldsim::workload::{self, Arrivals, Context, TraceReader, azure2021};
use tempfile::TempDir;

const HEADER: &str = "app,func,end_timestamp,duration\n";

/// A temp folder holding `trace.csv` and a scenario reading it.
struct Case {
    dir: TempDir,
    scenario: Scenario,
}

impl Case {
    fn new(rows: &str, duration: &str, extra: &str) -> Case {
        Case::with_seed(rows, duration, extra, 7)
    }

    fn with_seed(rows: &str, duration: &str, extra: &str, seed: u64) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("trace.csv"), format!("{HEADER}{rows}")).unwrap();
        let text = format!(
            "name = \"az21\"\nseed = {seed}\nduration = \"{duration}\"\n\
             [workload]\nkind = \"azure2021\"\npath = \"trace.csv\"\n{extra}\n"
        );
        let scenario = parse_str(&text, "test.toml")
            .unwrap_or_else(|e| panic!("scenario does not parse: {e}\n{text}"))
            .base;
        Case { dir, scenario }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("trace.csv")
    }

    fn ctx(&self, skip_bad_rows: bool) -> Context {
        Context {
            base_dir: self.dir.path().to_path_buf(),
            skip_bad_rows,
        }
    }

    fn open(&self, skip: bool) -> coldsim::Result<(FunctionTable, Box<azure2021::Reader>)> {
        open_reader(&self.scenario, &self.ctx(skip))
    }

    /// Opens and drains the reader; Err if opening or streaming failed.
    fn read(
        &self,
        skip: bool,
    ) -> coldsim::Result<(FunctionTable, Vec<Invocation>, Box<azure2021::Reader>)> {
        let (table, mut r) = self.open(skip)?;
        let v: Vec<Invocation> = r.by_ref().collect();
        match r.take_error() {
            Some(e) => Err(e),
            None => Ok((table, v, r)),
        }
    }

    fn run(&self, skip: bool) -> coldsim::Result<RunResult> {
        sim::run_with(
            &coldsim::run::RunSpec::new(&self.scenario, std::path::Path::new(".")).unwrap(),
            0,
            &self.ctx(skip),
            &mut |_| {},
            None,
        )
    }
}

fn open_reader(
    s: &Scenario,
    ctx: &Context,
) -> coldsim::Result<(FunctionTable, Box<azure2021::Reader>)> {
    let w = workload::open(
        &coldsim::run::RunSpec::new(s, std::path::Path::new("."))
            .unwrap()
            .workload,
        ctx,
        &Streams::new(s.seed, 0),
    )?;
    match w.arrivals {
        Arrivals::Azure2021(r) => Ok((w.table, r)),
        _ => panic!("not an azure2021 reader"),
    }
}

fn secs(s: f64) -> u64 {
    SimDuration::from_secs_f64(s).as_nanos()
}

fn assert_sorted(v: &[Invocation]) {
    for (i, w) in v.windows(2).enumerate() {
        assert!(w[0].arrival <= w[1].arrival, "not sorted at {i}: {w:?}");
    }
    for (i, inv) in v.iter().enumerate() {
        assert_eq!(inv.id, i as u64);
    }
}

fn err_text(r: coldsim::Result<impl Sized>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{e}");
            e.to_string()
        }
    }
}

fn summary_int(s: &Scenario, r: &RunResult, key: &str) -> u64 {
    let row = summary_row(s, 0, r);
    match row.iter().find(|(k, _)| *k == key) {
        Some((_, Cell::Int(v))) => *v,
        other => panic!("summary {key}: {other:?}"),
    }
}

// Rows out of arrival order (as the published trace, ordered by end time,
// is): arrivals are 1, 0.5, 3, 2.75, 4, 9.5 s.
const SMALL: &str = "\
appA,f1,1.5,0.5
appB,g1,2.5,2.0
appA,f2,3.25,0.25
appA,f1,3.0,0.25
appC,h1,4.125,0.125
appB,g1,10.0,0.5
";

#[test]
fn counts_arrivals_and_execs_follow_the_rows() {
    let c = Case::new(SMALL, "1h", "");
    let (table, v, r) = c.read(false).unwrap();
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["f1", "g1", "f2", "h1"]);
    let apps: Vec<&str> = table.apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(apps, ["appA", "appB", "appC"]);
    let fn_app: Vec<u32> = table.functions.iter().map(|f| f.app.0).collect();
    assert_eq!(fn_app, [0, 1, 0, 2]);
    assert_sorted(&v);
    let got: Vec<(u32, u64, u64)> = v
        .iter()
        .map(|i| (i.function.0, i.arrival.0, i.exec.as_nanos()))
        .collect();
    // arrival = end - duration, exec = duration, in arrival order.
    assert_eq!(
        got,
        [
            (1, secs(0.5), secs(2.0)),
            (0, secs(1.0), secs(0.5)),
            (0, secs(2.75), secs(0.25)),
            (2, secs(3.0), secs(0.25)),
            (3, secs(4.0), secs(0.125)),
            (1, secs(9.5), secs(0.5)),
        ]
    );
    let mut per_fn = BTreeMap::new();
    for i in &v {
        *per_fn.entry(i.function.0).or_insert(0) += 1;
    }
    assert_eq!(per_fn, BTreeMap::from([(0, 2), (1, 2), (2, 1), (3, 1)]));
    let stats = r.stats();
    assert_eq!(stats.skipped_rows, 0);
    assert_eq!(stats.files.len(), 1);
    let bytes = std::fs::read(c.path()).unwrap();
    assert_eq!(stats.files[0].bytes, bytes.len() as u64);
    assert_eq!(stats.files[0].sha256, sha256_hex(&bytes));
    assert_eq!(stats.files[0].path, c.path().display().to_string());
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn an_invocation_started_before_the_trace_shifts_time_zero() {
    // The second row started 2 s before the trace: every time moves by 2 s.
    let c = Case::new("a,f,1.0,0.5\na,g,1.0,3.0\na,f,5.0,1.0\n", "1h", "");
    let (_, v, _) = c.read(false).unwrap();
    let got: Vec<(u32, u64, u64)> = v
        .iter()
        .map(|i| (i.function.0, i.arrival.0, i.exec.as_nanos()))
        .collect();
    assert_eq!(
        got,
        [
            (1, 0, secs(3.0)),
            (0, secs(2.5), secs(0.5)),
            (0, secs(6.0), secs(1.0)),
        ]
    );
}

#[test]
fn the_horizon_ends_the_replay_and_the_table() {
    // h1 arrives only at 9.5 s: not in a 5 s run.
    let rows = format!("{SMALL}appD,late,20.0,1.0\n");
    let c = Case::new(&rows, "5s", "");
    let (table, v, _) = c.read(false).unwrap();
    assert_eq!(v.len(), 5);
    assert!(v.iter().all(|i| i.arrival < SimTime(secs(5.0))));
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["f1", "g1", "f2", "h1"]);
    assert_eq!(table.apps.len(), 3, "appD has no arrival in the run");
    // With a 2 s horizon, h1 and appC are left out too.
    let c = Case::new(&rows, "2s", "");
    let (table, v, _) = c.read(false).unwrap();
    assert_eq!(v.len(), 2);
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["f1", "g1"]);
}

/// Rows ordered by end time, one invocation per 100 ms of end time, with
/// durations up to 4.9 s: arrivals are out of order by up to 4.9 s.
fn long_trace(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let end = 5.0 + i as f64 * 0.1;
        let dur = (i * 7919 % 50) as f64 * 0.1;
        s.push_str(&format!("app{},fn{},{end:.3},{dur:.3}\n", i % 5, i % 13));
    }
    s
}

#[test]
fn the_window_bounds_memory_and_sorts() {
    for n in [5_000, 20_000] {
        let c = Case::new(&long_trace(n), "1d", "sort_window = \"10s\"");
        let (_, v, r) = c.read(false).unwrap();
        assert_eq!(v.len(), n);
        assert_sorted(&v);
        // Held rows arrived after (latest arrival - 10 s), and the latest
        // arrival is at most 4.9 s before the latest end read: they all
        // ended in the last 14.9 s of the file, 149 rows at most, whatever
        // the length of the file.
        assert!(
            r.peak_pending() <= 150,
            "{n} rows: peak {}",
            r.peak_pending()
        );
        assert!(r.peak_pending() >= 50, "{}", r.peak_pending());
        assert_eq!(r.pending(), 0);
    }
}

#[test]
fn disorder_beyond_the_window_is_an_error_naming_the_line() {
    // Arrivals 0, 5, 10, then 2: released already with a 1 s window.
    let rows = "a,f,0.5,0.5\na,f,5,0\na,f,10,0\na,f,2.5,0.5\na,f,11,0\n";
    let c = Case::new(rows, "1h", "sort_window = \"1s\"");
    let e = err_text(c.read(false));
    let at = format!("{}:5:5", c.path().display());
    assert!(e.contains(&at), "{e}");
    assert!(e.contains("workload.sort_window"), "{e}");
    // The simulator reports it too.
    let e = err_text(c.run(false));
    assert!(
        e.contains(&at) && e.contains("raise workload.sort_window"),
        "{e}"
    );
    // --skip-bad-rows counts it.
    let (_, v, r) = c.read(true).unwrap();
    assert_eq!(v.len(), 4);
    assert_eq!(r.stats().skipped_rows, 1);
    // A wide enough window sorts it.
    let c = Case::new(rows, "1h", "sort_window = \"10s\"");
    let (_, v, _) = c.read(false).unwrap();
    let t: Vec<u64> = v.iter().map(|i| i.arrival.0).collect();
    assert_eq!(t, [0, secs(2.0), secs(5.0), secs(10.0), secs(11.0)]);
}

#[test]
fn malformed_rows_name_file_line_and_column() {
    let good = "a,f,1.0,0.5\n";
    let cases = [
        ("a,f,1.0\n", 2, 8, "duration is missing"),
        ("a,f,1.0,0.5,9\n", 2, 13, "found more"),
        ("a,f,x,0.5\n", 2, 5, "end_timestamp"),
        ("a,f,1.0,-0.5\n", 2, 9, "duration"),
        ("a,f,1.0,NaN\n", 2, 9, "duration"),
        (",f,1.0,0.5\n", 2, 1, "app"),
        ("a,,1.0,0.5\n", 2, 3, "function"),
    ];
    for (bad, line, col, what) in cases {
        let rows = format!("{bad}{good}{good}");
        let c = Case::new(&rows, "1h", "");
        let e = err_text(c.open(false));
        let at = format!("{}:{line}:{col}:", c.path().display());
        assert!(e.contains(&at) && e.contains(what), "{bad:?}: {e}");
        // Skipped and counted, in the reader and in the summary.
        let (_, v, r) = c.read(true).unwrap();
        assert_eq!(v.len(), 2, "{bad:?}");
        assert_eq!(r.stats().skipped_rows, 1);
        let run = c.run(true).unwrap();
        assert_eq!(run.workload.skipped_rows, 1);
        assert_eq!(summary_int(&c.scenario, &run, "skipped_rows"), 1);
        assert_eq!(summary_int(&c.scenario, &run, "arrivals"), 2);
    }
    // Several bad rows are each counted.
    let c = Case::new("a,f,x,1\na,f,1,1\nb\n\na,f,2,-1\n", "1h", "");
    let (_, v, r) = c.read(true).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(r.stats().skipped_rows, 3);
}

#[test]
fn a_wrong_header_is_an_error_at_line_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("trace.csv"),
        "app,func,end,duration\na,f,1,1\n",
    )
    .unwrap();
    let text =
        "name = \"x\"\nduration = \"1h\"\n[workload]\nkind = \"azure2021\"\npath = \"trace.csv\"\n";
    let s = parse_str(text, "x.toml").unwrap().base;
    let ctx = Context {
        base_dir: dir.path().to_path_buf(),
        skip_bad_rows: true,
    };
    let e = err_text(open_reader(&s, &ctx));
    assert!(
        e.contains(&format!("{}:1:1", dir.path().join("trace.csv").display()))
            && e.contains("app,func,end_timestamp,duration"),
        "{e}"
    );
}

#[test]
fn a_missing_file_names_the_path_and_the_key() {
    let c = Case::new(SMALL, "1h", "");
    std::fs::remove_file(c.path()).unwrap();
    let e = err_text(c.open(false));
    assert!(
        e.contains("workload.path") && e.contains("trace.csv"),
        "{e}"
    );
    assert!(e.contains(&c.path().display().to_string()), "{e}");
    let e = err_text(c.run(false));
    assert!(e.contains("workload.path"), "{e}");
}

#[test]
fn bad_keys_are_rejected_with_their_path() {
    let base =
        "name = \"x\"\nduration = \"1h\"\n[workload]\nkind = \"azure2021\"\npath = \"t.csv\"\n";
    for (extra, key) in [
        ("max_memory_mb = 0", "workload.max_memory_mb"),
        (
            "memory = { dist = \"burr\", c = 0.0, k = 1.0, lambda_mb = 1.0 }",
            "workload.memory",
        ),
        // (serde loses the key path inside the tagged [workload] table.)
        ("sort_window = 5", "\"5s\""),
        ("colour = \"red\"", "colour"),
    ] {
        let e = err_text(parse_str(&format!("{base}{extra}\n"), "x.toml"));
        assert!(e.contains(key), "{extra}: {e}");
    }
    let s = parse_str(base, "x.toml").unwrap().base;
    let coldsim::workload::WorkloadCfg::Azure2021(cfg) = &s.workload else {
        panic!()
    };
    assert_eq!(cfg.memory, coldsim::dist::MemDist::default());
    assert_eq!(cfg.max_memory_mb.0, 1536);
    assert_eq!(cfg.sort_window, SimDuration::from_secs(900));
    assert_eq!(cfg.init, coldsim::dist::Dist::huawei_cold_start());
}

#[test]
fn memory_is_drawn_per_app_and_stable_by_name() {
    // The default Burr fit, capped at 1536 MB.
    let mut rows = String::new();
    for a in 0..200 {
        rows.push_str(&format!("app{a},f{a},1.0,0.5\n"));
    }
    let c = Case::new(&rows, "1h", "");
    let (t1, _) = c.open(false).unwrap();
    assert!(t1.apps.iter().all(|a| (1..=1536).contains(&a.memory_mb)));
    let mut mb: Vec<u64> = t1.apps.iter().map(|a| a.memory_mb).collect();
    mb.sort_unstable();
    // Burr median: lambda (2^(1/k) - 1)^(1/c) = about 149 MB.
    let median = mb[100] as f64;
    assert!((110.0..200.0).contains(&median), "median {median}");
    // Same seed: same sizes. An app keeps its size when others change.
    let (t2, _) = c.open(false).unwrap();
    assert_eq!(t1, t2);
    let mut other = String::from("zzz,q,1.0,0.5\n");
    for a in (0..200).rev().step_by(3) {
        other.push_str(&format!("app{a},f{a},1.0,0.5\n"));
    }
    let c2 = Case::new(&other, "1h", "");
    let (t3, _) = c2.open(false).unwrap();
    for a in &t3.apps[1..] {
        let same = t1.apps.iter().find(|b| b.name == a.name).unwrap();
        assert_eq!(a.memory_mb, same.memory_mb, "{}", a.name);
    }
    // Another seed draws other sizes.
    let c3 = Case::with_seed(&rows, "1h", "", 8);
    let (t4, _) = c3.open(false).unwrap();
    assert_ne!(t1, t4);
    // The cap applies to any distribution.
    let c = Case::new(
        "a,f,1,1\n",
        "1h",
        "memory = { dist = \"constant\", mb = 4000 }\nmax_memory_mb = \"1GiB\"",
    );
    let (t, _) = c.open(false).unwrap();
    assert_eq!(t.apps[0].memory_mb, 1024);
}

#[test]
fn runs_are_deterministic() {
    let c = Case::new(&long_trace(3_000), "10m", "");
    let a = c.run(false).unwrap();
    let b = c.run(false).unwrap();
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.metrics.counters.arrivals, 3_000);
    assert_eq!(a.table, b.table);
    let (_, v1, _) = c.read(false).unwrap();
    let (_, v2, _) = c.read(false).unwrap();
    assert_eq!(v1, v2);
}

/// The real excerpt, shipped in data/.
fn excerpt() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/azure2021-head/Azure2021_200.csv"
    ))
}

#[test]
fn the_real_excerpt_replays_every_row() {
    let path = excerpt();
    let text = std::fs::read_to_string(path).unwrap();
    let rows = text.lines().skip(1).filter(|l| !l.is_empty()).count();
    assert_eq!(rows, 199);
    let toml = format!(
        "name = \"az21-head\"\nduration = \"1h\"\n[workload]\nkind = \"azure2021\"\npath = \"{}\"\n",
        path.display()
    );
    let s = parse_str(&toml, "head.toml").unwrap().base;
    let ctx = Context::default();
    let (table, mut r) = open_reader(&s, &ctx).unwrap();
    let v: Vec<Invocation> = r.by_ref().collect();
    assert!(r.take_error().is_none());
    assert_eq!(v.len(), 199);
    assert_sorted(&v);
    assert_eq!(table.functions.len(), 31);
    assert_eq!(table.apps.len(), 13);
    // The first row: end 0.07949090003967285 s, duration 0.078 s.
    assert_eq!(v[0].arrival.0, secs(0.079_490_900_039_672_85) - secs(0.078));
    assert_eq!(v[0].exec, SimDuration::from_millis(78));
    let stats = r.stats();
    assert_eq!(stats.files[0].sha256, sha256_hex(text.as_bytes()));
    // A full run replays all of them.
    let run = sim::run_with(
        &coldsim::run::RunSpec::new(&s, std::path::Path::new(".")).unwrap(),
        0,
        &ctx,
        &mut |_| {},
        None,
    )
    .unwrap();
    assert_eq!(run.metrics.counters.arrivals, 199);
    assert_eq!(run.metrics.counters.completed, 199);
}
