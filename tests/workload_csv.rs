//! The generic CSV reader (`[workload] kind = "csv"`), on small files the
//! tests write.

use std::collections::BTreeMap;
use std::path::PathBuf;

use coldsim::engine::Streams;
use coldsim::model::{FnId, FunctionTable, Invocation};
use coldsim::report::{Cell, summary_row};
use coldsim::run::RunResult;
use coldsim::scenario::{Scenario, parse_str};
use coldsim::sim;
use coldsim::time::{SimDuration, SimTime};
use coldsim::workload::{self, Arrivals, Context, TraceReader, generic_csv};
use tempfile::TempDir;

/// A temp folder holding `calls.csv` and a scenario reading it.
struct Case {
    dir: TempDir,
    scenario: Scenario,
}

impl Case {
    fn new(csv: &str, duration: &str, keys: &str) -> Case {
        Case::with_seed(csv, duration, keys, 3)
    }

    fn with_seed(csv: &str, duration: &str, keys: &str, seed: u64) -> Case {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("calls.csv"), csv).unwrap();
        let text = scenario_text(duration, keys, seed);
        let scenario = parse_str(&text, "test.toml")
            .unwrap_or_else(|e| panic!("scenario does not parse: {e}\n{text}"))
            .base;
        Case { dir, scenario }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("calls.csv")
    }

    fn ctx(&self, skip_bad_rows: bool) -> Context {
        Context {
            base_dir: self.dir.path().to_path_buf(),
            skip_bad_rows,
        }
    }

    fn open(&self, skip: bool) -> coldsim::Result<(FunctionTable, Box<generic_csv::Reader>)> {
        let s = &self.scenario;
        let w = workload::open(
            &coldsim::run::RunSpec::new(s, std::path::Path::new("."))
                .unwrap()
                .workload,
            &self.ctx(skip),
            &Streams::new(s.seed, 0),
        )?;
        match w.arrivals {
            Arrivals::Csv(r) => Ok((w.table, r)),
            _ => panic!("not a csv reader"),
        }
    }

    fn read(
        &self,
        skip: bool,
    ) -> coldsim::Result<(FunctionTable, Vec<Invocation>, Box<generic_csv::Reader>)> {
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

    /// "<path>:<line>:<field>:" as errors start.
    fn at(&self, line: u64, field: usize) -> String {
        format!("{}:{line}:{field}:", self.path().display())
    }
}

fn scenario_text(duration: &str, keys: &str, seed: u64) -> String {
    format!(
        "name = \"csv\"\nseed = {seed}\nduration = \"{duration}\"\n\
         [workload]\nkind = \"csv\"\npath = \"calls.csv\"\n{keys}\n"
    )
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

fn assert_sorted(v: &[Invocation]) {
    for (i, w) in v.windows(2).enumerate() {
        assert!(w[0].arrival <= w[1].arrival, "not sorted at {i}: {w:?}");
    }
    for (i, inv) in v.iter().enumerate() {
        assert_eq!(inv.id, i as u64);
    }
}

fn ms(x: u64) -> u64 {
    x * 1_000_000
}

const FULL_KEYS: &str = "\
time_unit = \"ms\"
duration_unit = \"ms\"
[workload.columns]
timestamp = \"t_ms\"
function = \"fn\"
duration = \"dur_ms\"
memory = \"mem\"
app = \"application\"
";

// Columns in another order than the roles, an extra column, a quoted name
// with a comma, spaces around fields.
const FULL: &str = "\
note,application,fn,t_ms,dur_ms,mem
x,shop,cart,100,20,256
y,shop,\"pay,card\",150,35.5,512
z, blog , render , 150 , 5 , 128
w,shop,cart,900,20,300
v,blog,render,2000,7,64
";

#[test]
fn columns_map_roles_and_rows_replay_exactly() {
    let c = Case::new(FULL, "1h", FULL_KEYS);
    let (table, v, r) = c.read(false).unwrap();
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["cart", "pay,card", "render"]);
    let apps: Vec<(&str, u64)> = table
        .apps
        .iter()
        .map(|a| (a.name.as_str(), a.memory_mb))
        .collect();
    // An app's memory is the largest of its rows.
    assert_eq!(apps, [("shop", 512), ("blog", 128)]);
    let fn_app: Vec<u32> = table.functions.iter().map(|f| f.app.0).collect();
    assert_eq!(fn_app, [0, 0, 1]);
    assert_sorted(&v);
    let got: Vec<(u32, u64, u64)> = v
        .iter()
        .map(|i| (i.function.0, i.arrival.0, i.exec.as_nanos()))
        .collect();
    assert_eq!(
        got,
        [
            (0, ms(100), ms(20)),
            (1, ms(150), 35_500_000),
            (2, ms(150), ms(5)),
            (0, ms(900), ms(20)),
            (2, ms(2000), ms(7)),
        ]
    );
    let stats = r.stats();
    assert_eq!(stats.skipped_rows, 0);
    assert_eq!(stats.files[0].bytes, FULL.len() as u64);
    assert_eq!(stats.files[0].sha256.len(), 64);
    // A full run replays them all.
    let run = c.run(false).unwrap();
    assert_eq!(run.metrics.counters.arrivals, 5);
    assert_eq!(run.metrics.counters.completed, 5);
}

#[test]
fn units_are_exact() {
    let csv = "ts,f,d\n1.4,a,0.5\n2,a,1500\n1000000001,a,1e3\n3e9,a,2\n";
    let keys = "time_unit = \"ns\"\nduration_unit = \"us\"\n\
                [workload.columns]\ntimestamp = \"ts\"\nfunction = \"f\"\nduration = \"d\"\n";
    let c = Case::new(csv, "1h", keys);
    let (_, v, _) = c.read(false).unwrap();
    let got: Vec<(u64, u64)> = v.iter().map(|i| (i.arrival.0, i.exec.as_nanos())).collect();
    assert_eq!(
        got,
        [
            (1, 500),
            (2, 1_500_000),
            (1_000_000_001, 1_000_000),
            (3_000_000_000, 2_000)
        ]
    );
    // Seconds by default, exact to the nanosecond.
    let csv = "ts,f,d\n1234567.123456789,a,0.000000001\n";
    let keys = "[workload.columns]\ntimestamp = \"ts\"\nfunction = \"f\"\nduration = \"d\"\n";
    let c = Case::new(csv, "30d", keys);
    let (_, v, _) = c.read(false).unwrap();
    assert_eq!(v[0].arrival, SimTime(1_234_567_123_456_789));
    assert_eq!(v[0].exec, SimDuration::from_nanos(1));
}

const MIN_KEYS: &str = "\
exec = { dist = \"exponential\", mean = \"100ms\" }
[workload.columns]
timestamp = \"t\"
function = \"f\"
";

#[test]
fn without_optional_columns_each_function_is_its_app_and_execs_are_drawn() {
    let mut csv = String::from("t,f\n");
    for i in 0..300 {
        csv.push_str(&format!("{},{}\n", i, ["a", "b", "c"][i % 3]));
    }
    let c = Case::new(&csv, "1h", MIN_KEYS);
    let (table, v, _) = c.read(false).unwrap();
    let apps: Vec<(&str, u64)> = table
        .apps
        .iter()
        .map(|a| (a.name.as_str(), a.memory_mb))
        .collect();
    assert_eq!(apps, [("a", 128), ("b", 128), ("c", 128)]);
    let fn_app: Vec<u32> = table.functions.iter().map(|f| f.app.0).collect();
    assert_eq!(fn_app, [0, 1, 2]);
    assert_eq!(v.len(), 300);
    let mean = v.iter().map(|i| i.exec.as_secs_f64()).sum::<f64>() / 300.0;
    // Exponential, mean 0.1 s: standard error 0.1 / sqrt(300).
    assert!((mean - 0.1).abs() < 4.0 * 0.1 / 300f64.sqrt(), "{mean}");
    // Same seed, same draws; function a's draws do not depend on b and c.
    let (_, v2, _) = c.read(false).unwrap();
    assert_eq!(v, v2);
    let only_a: String = csv
        .lines()
        .filter(|l| !l.ends_with(",b") && !l.ends_with(",c"))
        .map(|l| format!("{l}\n"))
        .collect();
    let c2 = Case::new(&only_a, "1h", MIN_KEYS);
    let (_, va, _) = c2.read(false).unwrap();
    let a_execs: Vec<SimDuration> = v
        .iter()
        .filter(|i| i.function == FnId(0))
        .map(|i| i.exec)
        .collect();
    let a_alone: Vec<SimDuration> = va.iter().map(|i| i.exec).collect();
    assert_eq!(a_execs, a_alone);
    // Another seed, other draws.
    let c3 = Case::with_seed(&csv, "1h", MIN_KEYS, 4);
    let (_, v3, _) = c3.read(false).unwrap();
    assert_ne!(v, v3);
}

#[test]
fn memory_distribution_is_drawn_per_app_by_name() {
    let keys =
        format!("memory = {{ dist = \"uniform\", min_mb = 100, max_mb = 1000 }}\n{MIN_KEYS}");
    let c = Case::new("t,f\n1,a\n2,b\n3,c\n", "1h", &keys);
    let (t1, _) = c.open(false).unwrap();
    assert!(t1.apps.iter().all(|a| (100..=1000).contains(&a.memory_mb)));
    let c2 = Case::new("t,f\n1,z\n2,c\n", "1h", &keys);
    let (t2, _) = c2.open(false).unwrap();
    assert_eq!(t2.apps[1].memory_mb, t1.apps[2].memory_mb);
}

#[test]
fn same_function_name_in_two_apps_is_two_functions() {
    let csv = "t,f,app,d\n1,main,x,1\n2,main,y,1\n3,main,x,1\n";
    let keys = "[workload.columns]\ntimestamp = \"t\"\nfunction = \"f\"\napp = \"app\"\nduration = \"d\"\n";
    let c = Case::new(csv, "1h", keys);
    let (table, v, _) = c.read(false).unwrap();
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["main", "main#2"]);
    let f: Vec<u32> = v.iter().map(|i| i.function.0).collect();
    assert_eq!(f, [0, 1, 0]);
}

#[test]
fn the_horizon_ends_the_replay_and_the_table() {
    let csv = "t,f\n1,a\n2,b\n5,a\n7,c\n";
    let c = Case::new(csv, "5s", MIN_KEYS);
    let (table, v, _) = c.read(false).unwrap();
    assert_eq!(v.len(), 2);
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn unsorted_rows_need_a_window() {
    let csv = "t,f\n1,a\n3,a\n2,b\n4,a\n";
    let c = Case::new(csv, "1h", MIN_KEYS);
    let e = err_text(c.read(false));
    assert!(e.contains(&c.at(4, 1)), "{e}");
    assert!(
        e.contains("sorted") && e.contains("workload.sort_window"),
        "{e}"
    );
    let e = err_text(c.run(false));
    assert!(e.contains(&c.at(4, 1)), "{e}");
    // Skipped and counted.
    let (_, v, r) = c.read(true).unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(r.stats().skipped_rows, 1);
    let run = c.run(true).unwrap();
    assert_eq!(summary_int(&c.scenario, &run, "skipped_rows"), 1);
    // A window sorts them.
    let c = Case::new(csv, "1h", &format!("sort_window = \"1s\"\n{MIN_KEYS}"));
    let (_, v, _) = c.read(false).unwrap();
    let t: Vec<u64> = v.iter().map(|i| i.arrival.0 / 1_000_000_000).collect();
    assert_eq!(t, [1, 2, 3, 4]);
    let f: Vec<u32> = v.iter().map(|i| i.function.0).collect();
    assert_eq!(f, [0, 1, 0, 0]);
    // Further out of order than the window: an error that says what to do.
    let csv = "t,f\n1,a\n10,a\n20,a\n5,b\n";
    let c = Case::new(csv, "1h", &format!("sort_window = \"2s\"\n{MIN_KEYS}"));
    let e = err_text(c.read(false));
    assert!(
        e.contains(&c.at(5, 1)) && e.contains("raise workload.sort_window"),
        "{e}"
    );
}

#[test]
fn the_window_bounds_memory() {
    // One row per 10 ms, each up to 190 ms late; a 1 s window.
    for n in [10_000, 40_000] {
        let mut csv = String::from("t,f,d\n");
        for i in 0..n {
            let t = (i * 10) as i64 - (i * 37 % 20) as i64 * 10;
            csv.push_str(&format!("{},f{},5\n", t.max(0), i % 7));
        }
        let keys = "time_unit = \"ms\"\nduration_unit = \"ms\"\nsort_window = \"1s\"\n\
                    [workload.columns]\ntimestamp = \"t\"\nfunction = \"f\"\nduration = \"d\"\n";
        let c = Case::new(&csv, "1d", keys);
        let (_, v, r) = c.read(false).unwrap();
        assert_eq!(v.len(), n);
        assert_sorted(&v);
        // 1 s of rows is 100; the disorder adds up to 19.
        assert!(r.peak_pending() <= 125, "{n}: {}", r.peak_pending());
        assert!(r.peak_pending() >= 100, "{n}: {}", r.peak_pending());
    }
}

fn summary_int(s: &Scenario, r: &RunResult, key: &str) -> u64 {
    let row = summary_row(s, 0, r);
    match row.iter().find(|(k, _)| *k == key) {
        Some((_, Cell::Int(v))) => *v,
        other => panic!("summary {key}: {other:?}"),
    }
}

#[test]
fn malformed_rows_name_file_line_and_field() {
    let header = "note,application,fn,t_ms,dur_ms,mem\n";
    let good = "x,shop,cart,100,20,256\n";
    let cases = [
        ("x,shop,cart,100,20\n", 6, "expected 6 fields"),
        ("x,shop,cart,100,20,256,9\n", 7, "expected 6 fields"),
        (
            "x,shop,cart,soon,20,256\n",
            4,
            "field 4 (timestamp column \"t_ms\")",
        ),
        ("x,shop,cart,-5,20,256\n", 4, "number >= 0 of ms"),
        (
            "x,shop,cart,100,-1,256\n",
            5,
            "field 5 (duration column \"dur_ms\")",
        ),
        (
            "x,shop,cart,100,20,0\n",
            6,
            "field 6 (memory column \"mem\")",
        ),
        ("x,shop,cart,100,20,lots\n", 6, "memory size in MB"),
        (
            "x,shop,,100,20,256\n",
            3,
            "field 3 (function column \"fn\")",
        ),
        (
            "x,\"\",cart,100,20,256\n",
            2,
            "field 2 (app column \"application\")",
        ),
    ];
    for (bad, field, what) in cases {
        let csv = format!("{header}{good}{bad}{good}");
        let c = Case::new(&csv, "1h", FULL_KEYS);
        let e = err_text(c.open(false));
        assert!(
            e.contains(&c.at(3, field)) && e.contains(what),
            "{bad:?}: {e}"
        );
        let (_, v, r) = c.read(true).unwrap();
        assert_eq!(v.len(), 2, "{bad:?}");
        assert_eq!(r.stats().skipped_rows, 1);
        let run = c.run(true).unwrap();
        assert_eq!(run.workload.skipped_rows, 1);
        assert_eq!(summary_int(&c.scenario, &run, "skipped_rows"), 1);
        assert_eq!(summary_int(&c.scenario, &run, "arrivals"), 2);
    }
    // A quoted field spanning lines: the next row's line is still right.
    let csv = format!("{header}\"multi\nline\",shop,cart,100,20,256\nx,shop,cart,1x0,20,256\n");
    let c = Case::new(&csv, "1h", FULL_KEYS);
    let e = err_text(c.open(false));
    assert!(e.contains(&c.at(4, 4)), "{e}");
    // Invalid UTF-8 is a bad row too.
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = format!("{header}{good}").into_bytes();
    bytes.extend_from_slice(b"x,sh\xffop,cart,100,20,256\n");
    std::fs::write(dir.path().join("calls.csv"), &bytes).unwrap();
    let s = parse_str(&scenario_text("1h", FULL_KEYS, 1), "t.toml")
        .unwrap()
        .base;
    let ctx = |skip| Context {
        base_dir: dir.path().to_path_buf(),
        skip_bad_rows: skip,
    };
    let e = err_text(workload::open(
        &coldsim::run::RunSpec::new(&s, std::path::Path::new("."))
            .unwrap()
            .workload,
        &ctx(false),
        &Streams::new(1, 0),
    ));
    assert!(e.contains("calls.csv:3:2") && e.contains("UTF-8"), "{e}");
    let run = sim::run_with(
        &coldsim::run::RunSpec::new(&s, std::path::Path::new(".")).unwrap(),
        0,
        &ctx(true),
        &mut |_| {},
        None,
    )
    .unwrap();
    assert_eq!(run.workload.skipped_rows, 1);
    assert_eq!(run.metrics.counters.arrivals, 1);
}

#[test]
fn a_missing_column_or_file_says_which_key() {
    let keys = FULL_KEYS.replace("\"dur_ms\"", "\"duration\"");
    let c = Case::new(FULL, "1h", &keys);
    let e = err_text(c.open(false));
    assert!(e.contains(&format!("{}:1", c.path().display())), "{e}");
    assert!(
        e.contains("workload.columns.duration = \"duration\"") && e.contains("\"dur_ms\""),
        "{e}"
    );
    let c = Case::new(FULL, "1h", FULL_KEYS);
    std::fs::remove_file(c.path()).unwrap();
    let e = err_text(c.open(false));
    assert!(
        e.contains("workload.path") && e.contains(&c.path().display().to_string()),
        "{e}"
    );
    let e = err_text(c.run(false));
    assert!(e.contains("workload.path"), "{e}");
    // An empty file has no header.
    let c = Case::new("", "1h", FULL_KEYS);
    let e = err_text(c.open(false));
    assert!(e.contains(":1") && e.contains("header"), "{e}");
}

#[test]
fn validation_ties_exec_and_memory_to_their_columns() {
    let cols = "[workload.columns]\ntimestamp = \"t\"\nfunction = \"f\"\n";
    let cases = [
        (cols.to_string(), "workload.exec", "no duration column"),
        (
            format!("exec = {{ dist = \"constant\", value = \"1s\" }}\n{cols}duration = \"d\"\n"),
            "workload.exec",
            "remove one",
        ),
        (
            format!(
                "exec = {{ dist = \"constant\", value = \"1s\" }}\n\
                 memory = {{ dist = \"constant\", mb = 64 }}\n{cols}memory = \"m\"\n"
            ),
            "workload.memory",
            "remove one",
        ),
        (
            format!("exec = {{ dist = \"constant\", value = \"0s\" }}\n{cols}"),
            "workload.exec",
            "greater than zero",
        ),
        (
            format!("exec = {{ dist = \"constant\", value = \"1s\" }}\n{cols}app = \"\"\n"),
            "workload.columns.app",
            "column name",
        ),
        (
            format!(
                "time_unit = \"min\"\nexec = {{ dist = \"constant\", value = \"1s\" }}\n{cols}"
            ),
            // (serde loses the key path inside the tagged [workload] table.)
            "unknown variant `min`",
            "`ms`, `s`",
        ),
        (
            format!("exec = {{ dist = \"constant\", value = \"1s\" }}\n{cols}colour = \"c\"\n"),
            "colour",
            "",
        ),
    ];
    for (keys, key, what) in cases {
        let text = scenario_text("1h", &keys, 1);
        let e = err_text(parse_str(&text, "x.toml"));
        assert!(e.contains(key) && e.contains(what), "{keys}: {e}");
    }
    // Defaults.
    let text = scenario_text("1h", MIN_KEYS, 1);
    let s = parse_str(&text, "x.toml").unwrap().base;
    let coldsim::workload::WorkloadCfg::Csv(cfg) = &s.workload else {
        panic!()
    };
    assert_eq!(cfg.time_unit, generic_csv::TimeUnit::S);
    assert_eq!(cfg.duration_unit, generic_csv::TimeUnit::S);
    assert_eq!(cfg.sort_window, SimDuration::ZERO);
    assert_eq!(cfg.memory, None);
    assert_eq!(cfg.init, coldsim::dist::Dist::huawei_cold_start());
}

#[test]
fn runs_are_deterministic() {
    let mut csv = String::from("t,f\n");
    for i in 0..2_000 {
        csv.push_str(&format!("{},f{}\n", i as f64 * 0.05, i % 11));
    }
    let c = Case::new(&csv, "10m", MIN_KEYS);
    let a = c.run(false).unwrap();
    let b = c.run(false).unwrap();
    assert_eq!(a.fingerprint, b.fingerprint);
    assert_eq!(a.metrics.counters.arrivals, 2_000);
    let mut per_fn = BTreeMap::new();
    let (table, v, _) = c.read(false).unwrap();
    for i in &v {
        *per_fn
            .entry(table.function(i.function).name.clone())
            .or_insert(0) += 1;
    }
    assert_eq!(per_fn["f0"], 182);
    assert_eq!(per_fn["f10"], 181);
}
