//! The Azure Functions 2019 reader, on small files written by the tests in
//! the dataset's format, and on the real shared sample.

use std::path::Path;

use coldsim::engine::Streams;
use coldsim::model::{FnId, Invocation};
use coldsim::scenario::parse_str;
use coldsim::sim;
use coldsim::workload::{self, Context};

const H1: &str = "HashOwner,HashApp,HashFunction,Trigger";
const DUR_HEADER: &str = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100";
const MEM_HEADER: &str = "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100";

/// A function of a generated day: owner, app, function, counts by minute.
struct Fun {
    owner: &'static str,
    app: &'static str,
    func: &'static str,
    counts: Vec<(usize, u32)>,
}

fn write_day(
    dir: &Path,
    day: u32,
    funs: &[Fun],
    durations: &[(&str, &str, &str, [u32; 7])],
    mem: &[(&str, &str, u32)],
) {
    let mut inv = String::from(H1);
    for m in 1..=1440 {
        inv += &format!(",{m}");
    }
    inv += "\n";
    for f in funs {
        let mut row = vec![0u32; 1440];
        for &(m, c) in &f.counts {
            row[m] = c;
        }
        inv += &format!("{},{},{},http", f.owner, f.app, f.func);
        for c in row {
            inv += &format!(",{c}");
        }
        inv += "\n";
    }
    std::fs::write(
        dir.join(format!("invocations_per_function_md.anon.d{day:02}.csv")),
        inv,
    )
    .unwrap();
    let mut d = format!("{DUR_HEADER}\n");
    for (o, a, f, p) in durations {
        d += &format!("{o},{a},{f},100,10,1,2");
        for v in p {
            d += &format!(",{v}");
        }
        d += "\n";
    }
    std::fs::write(
        dir.join(format!("function_durations_percentiles.anon.d{day:02}.csv")),
        d,
    )
    .unwrap();
    let mut m = format!("{MEM_HEADER}\n");
    for (o, a, avg) in mem {
        m += &format!("{o},{a},10,{avg},1,2,3,{},5,6,7,8\n", avg + 1);
    }
    std::fs::write(
        dir.join(format!("app_memory_percentiles.anon.d{day:02}.csv")),
        m,
    )
    .unwrap();
}

fn scenario(extra: &str) -> String {
    format!(
        r#"
name = "az"
duration = "1d"
[hosts]
count = 4
memory_mb = 4096
[workload]
kind = "azure2019"
dir = "day"
{extra}
"#
    )
}

fn sample_funs() -> Vec<Fun> {
    vec![
        Fun {
            owner: "o1",
            app: "a1",
            func: "f1",
            counts: vec![(0, 3), (1, 5), (1439, 2)],
        },
        Fun {
            owner: "o1",
            app: "a1",
            func: "f2",
            counts: vec![(1, 7)],
        },
        Fun {
            owner: "o2",
            app: "a2",
            func: "f3",
            counts: vec![(10, 1000)],
        },
        Fun {
            owner: "o3",
            app: "a3",
            func: "f4",
            counts: vec![(20, 4)],
        },
    ]
}

fn setup(funs: &[Fun], with_f4_data: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("day");
    std::fs::create_dir(&day).unwrap();
    let mut durs = vec![
        ("o1", "a1", "f1", [10, 10, 10, 10, 10, 10, 10]),
        ("o1", "a1", "f2", [0, 100, 200, 300, 400, 500, 600]),
        ("o2", "a2", "f3", [1, 2, 3, 4, 5, 6, 7]),
    ];
    let mut mem = vec![("o1", "a1", 300), ("o2", "a2", 151)];
    if with_f4_data {
        durs.push(("o3", "a3", "f4", [5, 5, 5, 5, 5, 5, 5]));
        mem.push(("o3", "a3", 64));
    }
    write_day(&day, 1, funs, &durs, &mem);
    dir
}

fn open(
    dir: &Path,
    extra: &str,
    seed: u64,
) -> coldsim::Result<(
    coldsim::model::FunctionTable,
    Vec<Invocation>,
    workload::WorkloadStats,
)> {
    let sf = parse_str(&scenario(extra), "az.toml")?;
    let ctx = Context {
        base_dir: dir.to_path_buf(),
        skip_bad_rows: false,
    };
    let mut w = workload::open(
        &coldsim::run::RunSpec::new(&sf.base, std::path::Path::new("."))
            .unwrap()
            .workload,
        &ctx,
        &Streams::new(seed, 0),
    )?;
    let invs: Vec<Invocation> = w.arrivals.by_ref().collect();
    if let Some(e) = w.arrivals.take_error() {
        return Err(e);
    }
    Ok((w.table, invs, w.arrivals.stats()))
}

#[test]
fn counts_per_minute_are_exact_and_stay_in_their_minute() {
    let dir = setup(&sample_funs(), true);
    for spread in ["uniform", "equidistant"] {
        let (table, invs, stats) = open(dir.path(), &format!("spread = \"{spread}\""), 1).unwrap();
        assert_eq!(table.functions.len(), 4);
        assert_eq!(table.apps.len(), 3, "f1 and f2 share app a1");
        assert_eq!(table.functions[0].app, table.functions[1].app);
        assert_eq!(table.apps[0].memory_mb, 300);
        assert_eq!(table.apps[1].memory_mb, 151);
        assert_eq!(invs.len(), 3 + 5 + 2 + 7 + 1000 + 4);
        assert!(
            invs.windows(2).all(|w| w[0].arrival <= w[1].arrival),
            "sorted"
        );
        assert!(invs.iter().enumerate().all(|(i, v)| v.id == i as u64));
        let minute = 60_000_000_000u64;
        let mut per = std::collections::BTreeMap::new();
        for v in &invs {
            *per.entry((
                table.functions[v.function.index()].name.clone(),
                v.arrival.0 / minute,
            ))
            .or_insert(0) += 1;
        }
        let want = [
            (("f1", 0), 3),
            (("f1", 1), 5),
            (("f1", 1439), 2),
            (("f2", 1), 7),
            (("f3", 10), 1000),
            (("f4", 20), 4),
        ];
        for ((f, m), c) in want {
            assert_eq!(
                per.get(&(f.to_string(), m)),
                Some(&c),
                "{spread}: {f} minute {m}"
            );
        }
        assert_eq!(stats.dropped_functions, 0);
        assert_eq!(stats.files.len(), 3);
        assert!(stats.files.iter().all(|f| f.sha256.len() == 64));
    }
    // Equidistant: 4 calls in minute 20 at 7.5 s, 22.5 s, 37.5 s, 52.5 s.
    let (_, invs, _) = open(dir.path(), "spread = \"equidistant\"", 1).unwrap();
    let f4: Vec<u64> = invs
        .iter()
        .filter(|v| v.function == FnId(3))
        .map(|v| v.arrival.0)
        .collect();
    let base = 20 * 60_000_000_000u64;
    assert_eq!(
        f4,
        [
            base + 7_500_000_000,
            base + 22_500_000_000,
            base + 37_500_000_000,
            base + 52_500_000_000
        ]
    );
}

#[test]
fn execution_times_follow_the_percentiles() {
    let dir = setup(&sample_funs(), true);
    let (table, invs, _) = open(dir.path(), "", 3).unwrap();
    let f2 = table.functions.iter().position(|f| f.name == "f2").unwrap() as u32;
    let f1 = table.functions.iter().position(|f| f.name == "f1").unwrap() as u32;
    assert!(
        invs.iter()
            .filter(|v| v.function == FnId(f1))
            .all(|v| v.exec.0 == 10_000_000)
    );
    // f3 has 1000 draws from percentiles 1,2,3,4,5,6,7 ms at 0,1,25,50,75,99,100.
    let mut f3: Vec<f64> = invs
        .iter()
        .filter(|v| v.function == FnId(2))
        .map(|v| v.exec.as_millis_f64())
        .collect();
    f3.sort_by(f64::total_cmp);
    let at = |p: f64| f3[((p / 100.0) * (f3.len() - 1) as f64) as usize];
    // Median near 4 ms, quartiles near 3 and 5 ms (binomial tolerance).
    assert!((at(50.0) - 4.0).abs() < 0.25, "{}", at(50.0));
    assert!((at(25.0) - 3.0).abs() < 0.25, "{}", at(25.0));
    assert!((at(75.0) - 5.0).abs() < 0.25, "{}", at(75.0));
    assert!(f3.iter().all(|&x| (1.0..=7.0).contains(&x)));
    assert!(
        invs.iter()
            .filter(|v| v.function == FnId(f2))
            .all(|v| v.exec.0 <= 600_000_000)
    );
}

#[test]
fn missing_rows_are_dropped_and_counted_or_filled() {
    let dir = setup(&sample_funs(), false);
    let (table, invs, stats) = open(dir.path(), "", 1).unwrap();
    assert_eq!(table.functions.len(), 3);
    assert_eq!(stats.dropped_functions, 1);
    assert_eq!(stats.dropped_invocations, 4);
    assert_eq!(invs.len(), 1017);
    let (table, invs, stats) = open(dir.path(), "missing = \"fill\"\nfill_memory_mb = 99\nfill_exec = { dist = \"constant\", value = \"2s\" }", 1).unwrap();
    assert_eq!(table.functions.len(), 4);
    assert_eq!(stats.dropped_functions, 0);
    assert_eq!(table.apps[2].memory_mb, 99);
    assert!(
        invs.iter()
            .filter(|v| v.function == FnId(3))
            .all(|v| v.exec.0 == 2_000_000_000)
    );
}

#[test]
fn samples_and_windows() {
    let dir = setup(&sample_funs(), true);
    let (table, invs, _) = open(dir.path(), "sample = { kind = \"top\", n = 2 }", 1).unwrap();
    let names: Vec<&str> = table.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["f1", "f3"], "f3 (1000) and f1 (10) are the top two");
    assert_eq!(invs.len(), 1010);
    let (table, _, _) = open(
        dir.path(),
        "sample = { kind = \"quartiles\", per_quartile = 1 }",
        9,
    )
    .unwrap();
    assert_eq!(table.functions.len(), 4, "4 functions, one per quartile");
    // A window of minutes 1 to 10 (inclusive of minute 1, exclusive of 11).
    let (_, invs, _) = open(dir.path(), "window = { start = \"1m\", end = \"11m\" }", 1).unwrap();
    assert_eq!(invs.len(), 5 + 7 + 1000);
    assert!(invs.iter().all(|v| v.arrival.0 < 10 * 60_000_000_000));
    // Seeded: the same seed gives the same stream, another seed another.
    let (_, a, _) = open(dir.path(), "", 5).unwrap();
    let (_, b, _) = open(dir.path(), "", 5).unwrap();
    let (_, c, _) = open(dir.path(), "", 6).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn bad_rows_name_file_line_and_column() {
    let dir = setup(&sample_funs(), true);
    let day = dir.path().join("day");
    let inv = day.join("invocations_per_function_md.anon.d01.csv");
    let good = std::fs::read_to_string(&inv).unwrap();
    let mut lines: Vec<String> = good.lines().map(String::from).collect();
    // Line 3 (f2): minute 2's count becomes negative.
    lines[2] = lines[2].replacen(",7,", ",-7,", 1);
    std::fs::write(&inv, lines.join("\n") + "\n").unwrap();
    let e = open(dir.path(), "", 1).unwrap_err();
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 2);
    assert!(
        msg.contains("invocations_per_function_md.anon.d01.csv:3:"),
        "{msg}"
    );
    assert!(msg.contains("non-negative integer"), "{msg}");
    // --skip-bad-rows: counted, and the rest replays.
    let sf = parse_str(&scenario(""), "az.toml").unwrap();
    let ctx = Context {
        base_dir: dir.path().to_path_buf(),
        skip_bad_rows: true,
    };
    let r = sim::run_with(
        &coldsim::run::RunSpec::new(&sf.base, std::path::Path::new(".")).unwrap(),
        0,
        &ctx,
        &mut |_| {},
        None,
    )
    .unwrap();
    // The bad row, and then f2's durations row, whose function is now
    // unknown.
    assert_eq!(r.workload.skipped_rows, 2);
    assert_eq!(r.metrics.counters.arrivals, 3 + 5 + 2 + 1000 + 4);
    // A row with a column missing.
    lines[2] = good
        .lines()
        .nth(2)
        .unwrap()
        .rsplit_once(',')
        .unwrap()
        .0
        .to_string();
    std::fs::write(&inv, lines.join("\n") + "\n").unwrap();
    let msg = open(dir.path(), "", 1).unwrap_err().to_string();
    assert!(msg.contains(":3:") && msg.contains("1444 columns"), "{msg}");
    std::fs::write(&inv, &good).unwrap();
    // An unknown function in the durations file.
    let dur = day.join("function_durations_percentiles.anon.d01.csv");
    let mut d = std::fs::read_to_string(&dur).unwrap();
    d += "o9,a9,f9,1,1,1,1,1,1,1,1,1,1,1\n";
    std::fs::write(&dur, d).unwrap();
    let msg = open(dir.path(), "", 1).unwrap_err().to_string();
    assert!(
        msg.contains("function_durations_percentiles.anon.d01.csv:6:") && msg.contains("f9"),
        "{msg}"
    );
}

#[test]
fn a_missing_file_names_the_path_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let msg = open(dir.path(), "", 1).unwrap_err().to_string();
    assert!(msg.starts_with("workload.dir = \"day\""), "{msg}");
    assert!(
        msg.contains("invocations_per_function_md.anon.d01.csv"),
        "{msg}"
    );
}

#[test]
fn bad_keys_are_rejected_with_their_path() {
    for (extra, key) in [
        ("days = [15]", "workload.days"),
        ("days = [2, 1]", "workload.days"),
        (
            "window = { start = \"2h\", end = \"1h\" }",
            "workload.window.end",
        ),
        ("sample = { kind = \"top\", n = 0 }", "workload.sample.n"),
        ("spread = \"sideways\"", "workload"),
        ("app_memory = \"p42\"", "workload"),
    ] {
        let e = parse_str(&scenario(extra), "az.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(key), "{extra}: {e}");
    }
}

/// The real sample shipped in data/: day 1, 400 functions, 18,452,673
/// invocations.
#[test]
fn shared_sample_replays_every_invocation() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/azure2019-d01.toml"),
    )
    .unwrap();
    let sf = parse_str(&text, "scenarios/azure2019-d01.toml").unwrap();
    let ctx = Context {
        base_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        skip_bad_rows: false,
    };
    let w = workload::open(
        &coldsim::run::RunSpec::new(&sf.base, std::path::Path::new("."))
            .unwrap()
            .workload,
        &ctx,
        &Streams::new(1, 0),
    )
    .unwrap();
    assert_eq!(w.table.functions.len(), 400);
    assert_eq!(w.table.apps.len(), 380);
    let n = w.arrivals.count();
    assert_eq!(n, 18_452_673);
}
