//! Golden test of the committed reference results (results/reference/):
//! every study listed in results/reference/STUDIES is run again and its
//! sweep.csv (from which the report's tables and plots are drawn) must
//! equal the committed one, number by number. Regenerate with
//! `bash scripts/reference.sh` when a change moves the figures on purpose.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn studies() -> Vec<String> {
    let list = root().join("results/reference/STUDIES");
    fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("{}: {e}", list.display()))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn records(path: &Path) -> Vec<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    rdr.records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// Equal as text, or as numbers within a relative 1e-9.
fn same(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1e-300),
        _ => false,
    }
}

#[test]
fn reference_results_come_out_the_same() {
    let list = studies();
    assert!(!list.is_empty(), "results/reference/STUDIES lists no study");
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for scenario in &list {
        let name = Path::new(scenario)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let committed = root().join("results/reference").join(&name);
        let out = tmp.path().join(&name);
        let o = Command::new(env!("CARGO_BIN_EXE_coldsim"))
            .current_dir(root())
            .args(["run", "-q", "--out"])
            .arg(&out)
            .arg(scenario)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{scenario}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let file = if committed.join("sweep.csv").is_file() {
            "sweep.csv"
        } else {
            "summary.csv"
        };
        let want = records(&committed.join(file));
        let got = records(&out.join(file));
        assert!(
            committed.join("report/report.html").is_file(),
            "{name}: no committed report; run bash scripts/reference.sh {name}"
        );
        if want.len() != got.len() {
            failures.push(format!(
                "{name}/{file}: {} rows, now {}",
                want.len(),
                got.len()
            ));
            continue;
        }
        let header = &want[0];
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            for (j, (a, b)) in w.iter().zip(g).enumerate() {
                if !same(a, b) {
                    failures.push(format!(
                        "{name}/{file} row {i} column {}: committed {a}, now {b}",
                        header.get(j).map_or("?", |s| s.as_str())
                    ));
                }
            }
            if w.len() != g.len() {
                failures.push(format!("{name}/{file} row {i}: column count changed"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "reference results moved (regenerate with `bash scripts/reference.sh` if intended):\n{}",
        failures[..failures.len().min(20)].join("\n")
    );
}
