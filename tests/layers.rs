//! The crate's layers import downward only (see the crate doc in
//! src/lib.rs): every `crate::NAME` path in a module's source names a
//! module of a lower layer, or the module itself.

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module and its layer, lowest first.
const LAYERS: &[(&str, u32)] = &[
    ("time", 0),
    ("error", 0),
    ("cfg", 1),
    ("engine", 1),
    ("dist", 2),
    ("model", 3),
    ("platform", 4),
    ("policy", 5),
    ("workload", 6),
    ("faults", 6),
    ("metrics", 6),
    ("calibration", 6),
    ("scenario", 7),
    ("run", 8),
    ("sim", 9),
    ("executor", 10),
    ("report", 11),
    ("sweep", 12),
    ("compare", 12),
    ("plan", 13),
];

/// The `crate::NAME` paths in code (comments left out) of a source file.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = match line.find("//") {
            Some(c) => &line[..c],
            None => line,
        };
        let mut rest = code;
        while let Some(p) = rest.find("crate::") {
            let after = &rest[p + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `$crate::` in macros names the crate root's items by module too.
            if !name.is_empty() {
                out.push((i + 1, name));
            }
            rest = &after[1.min(after.len())..];
        }
        // `use crate::{a, b}` groups.
        if let Some(p) = code.find("crate::{") {
            let inner = &code[p + "crate::{".len()..];
            for part in inner.split([',', '}']) {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((i + 1, name));
                }
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_crate_path_points_down() {
    let layer: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let Some(&own) = layer.get(module.as_str()) else {
            bad.push(format!(
                "src/{}: module `{module}` has no layer in tests/layers.rs (add it, and to the crate doc)",
                rel.display()
            ));
            continue;
        };
        seen.insert(module.clone());
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name) in crate_paths(&text) {
            if name == module {
                continue;
            }
            match layer.get(name.as_str()) {
                Some(&l) if l < own => {}
                Some(&l) => bad.push(format!(
                    "src/{}:{line}: `{module}` (layer {own}) uses `crate::{name}` (layer {l})",
                    rel.display()
                )),
                // Items of the crate root (`crate::Error`, macros).
                None if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => {}
                None if ["tagged", "decision", "no_keys"].contains(&name.as_str()) => {}
                None => bad.push(format!(
                    "src/{}:{line}: `crate::{name}` is not a module with a layer",
                    rel.display()
                )),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layers:\n{}",
        bad.join("\n")
    );
    for (m, _) in LAYERS {
        assert!(
            seen.contains(*m),
            "tests/layers.rs lists `{m}`, which is not a module in src/"
        );
    }
}

#[test]
fn the_crate_doc_lists_every_layer() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for (m, _) in LAYERS {
        assert!(
            lib.contains(&format!("[`{m}`]")) || lib.contains(&format!("`{m}`")),
            "src/lib.rs's layer table does not name `{m}`"
        );
    }
}
