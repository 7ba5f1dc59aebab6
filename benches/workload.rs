//! Trace reading throughput: invocations per second (and input MB per
//! second, printed once) for each reader, parsing and generating the whole
//! arrival stream without simulating it.
//!
//! Run: `cargo bench --bench workload`. The Azure 2019 case reads the
//! sample shipped in data/; the others read files generated into a
//! temporary folder at the start.

use std::path::{Path, PathBuf};
use std::time::Duration;

use coldsim::engine::Streams;
use coldsim::scenario::parse_str;
use coldsim::workload::{self, Context};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Opens the workload of `scenario` (relative paths from `base`) and counts
/// its invocations; returns (invocations, bytes read).
fn replay(scenario: &str, base: &Path) -> (u64, u64) {
    let sf = parse_str(scenario, "bench.toml").expect("bench scenario parses");
    let ctx = Context {
        base_dir: base.to_path_buf(),
        skip_bad_rows: false,
    };
    let mut w = workload::open(
        &coldsim::run::RunSpec::new(&sf.base, std::path::Path::new("."))
            .unwrap()
            .workload,
        &ctx,
        &Streams::new(1, 0),
    )
    .expect("workload opens");
    let n = w.arrivals.by_ref().count() as u64;
    // Some readers record their files when the stream ends.
    let bytes: u64 = w.arrivals.stats().files.iter().map(|f| f.bytes).sum();
    (n, bytes)
}

struct Case {
    name: &'static str,
    scenario: String,
    base: PathBuf,
}

fn cases(tmp: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/azure2019-d01-400fn");
    v.push(Case {
        name: "azure2019-d01-400fn",
        scenario: format!(
            "name = \"b\"\nduration = \"1d\"\n[workload]\nkind = \"azure2019\"\ndir = \"{}\"\n",
            sample.display()
        ),
        base: tmp.to_path_buf(),
    });
    v.extend(generated::cases(tmp));
    v
}

mod generated {
    //! Generated inputs for the readers that have no full-size shared
    //! sample: about a million invocations each, written once.
    use super::Case;
    use std::fmt::Write as _;
    use std::path::Path;

    /// A small deterministic generator (no dependence on the simulator's).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    pub fn cases(tmp: &Path) -> Vec<Case> {
        let mut r = Lcg(7);
        // Azure 2021 format: 1,000,000 rows over 2 hours, 300 apps.
        let mut t = String::from("app,func,end_timestamp,duration\n");
        let mut end = 0.0f64;
        for _ in 0..1_000_000 {
            end += 0.0072;
            let app = r.next() % 300;
            let func = app * 3 + r.next() % 3;
            let dur = (r.next() % 2000) as f64 / 1000.0;
            let _ = writeln!(t, "app{app:04x},fn{func:05x},{:.6},{dur:.3}", end + dur);
        }
        std::fs::write(tmp.join("a2021.csv"), t).expect("write");
        // Generic CSV: 1,000,000 sorted rows, 500 functions, ms units.
        let mut t = String::from("t_ms,fn,dur_ms\n");
        for i in 0..1_000_000u64 {
            let _ = writeln!(t, "{},f{},{}", i * 7, r.next() % 500, r.next() % 900 + 1);
        }
        std::fs::write(tmp.join("calls.csv"), t).expect("write");
        // Huawei format: 200 functions, one day of minutes, ~1M requests.
        let mut t = String::from("day,time");
        for f in 0..200 {
            let _ = write!(t, ",fn{f}---u{f}---pool{}-400-256", f % 7);
        }
        t.push('\n');
        for m in 0..1440u64 {
            let _ = write!(t, "0,{}", m * 60);
            for _ in 0..200 {
                let _ = write!(t, ",{}", r.next() % 7);
            }
            t.push('\n');
        }
        std::fs::write(tmp.join("huawei.csv"), t).expect("write");
        let head = "name = \"b\"\nduration = \"1d\"\n[workload]\n";
        vec![
            Case {
                name: "azure2021-1M-rows",
                scenario: format!("{head}kind = \"azure2021\"\npath = \"a2021.csv\"\n"),
                base: tmp.to_path_buf(),
            },
            Case {
                name: "csv-1M-rows",
                scenario: format!(
                    "{head}kind = \"csv\"\npath = \"calls.csv\"\ntime_unit = \"ms\"\nduration_unit = \"ms\"\ncolumns = {{ timestamp = \"t_ms\", function = \"fn\", duration = \"dur_ms\" }}\n"
                ),
                base: tmp.to_path_buf(),
            },
            Case {
                name: "huawei-200fn-1d",
                scenario: format!(
                    "{head}kind = \"huawei\"\nfiles = [\"huawei.csv\"]\nexec = {{ dist = \"exponential\", mean = \"100ms\" }}\n"
                ),
                base: tmp.to_path_buf(),
            },
        ]
    }
}

fn readers(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let mut g = c.benchmark_group("workload");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for case in cases(tmp.path()) {
        let (n, bytes) = replay(&case.scenario, &case.base);
        // One timed pass for the MB/s figure (criterion reports elements/s).
        let t0 = std::time::Instant::now();
        replay(&case.scenario, &case.base);
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "{}: {n} invocations from {:.1} MB of input, {:.1} MB/s in one pass",
            case.name,
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs
        );
        g.throughput(Throughput::Elements(n));
        g.bench_function(case.name, |b| b.iter(|| replay(&case.scenario, &case.base)));
    }
    g.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
