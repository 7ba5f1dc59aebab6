//! Every scenario shipped in scenarios/ is valid, and the quick ones run.
//! The trace samples they read ship in data/.

use std::path::Path;

use coldsim::run::RunSpec;
use coldsim::scenario;
use coldsim::sim;
use coldsim::workload::Context;

#[test]
fn shipped_scenarios_check_and_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for path in names {
        let sf = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with('#'),
            "{}: a shipped scenario starts with a comment saying what it answers",
            path.display()
        );
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        // The long ones are run by their own tests and benches.
        if name == "azure2019-d01" || name == "bench-single" || name == "keepalive-comparison" {
            continue;
        }
        let ctx = Context {
            base_dir: dir.clone(),
            skip_bad_rows: false,
        };
        let p = &sf.points[0];
        let spec = RunSpec::new(&p.scenario, &dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        let r = sim::run_with(&spec, 0, &ctx, &mut |_| {}, None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let c = &r.metrics.counters;
        assert!(c.arrivals > 0, "{name}: no invocations");
        assert_eq!(c.arrivals, c.completed + c.rejected() + c.failed, "{name}");
    }
}
