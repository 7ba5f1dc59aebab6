//! Reading a results folder back for `coldsim report`: the manifest, the
//! scenario, the summary rows of every run grouped by sweep point
//! (variant), and each run's latency.csv and timeseries.csv. The
//! statistics across replicates (mean and Student-t 95% interval) are in
//! [`super::stats`].

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub use super::stats::{Estimate, t975};
use crate::error::{Error, Result};

/// A CSV file as text cells.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Table> {
        let shown = path.display().to_string();
        let bytes =
            fs::read(path).map_err(|e| Error::input(&shown, format!("cannot read: {e}")))?;
        let mut rdr = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::input(&shown, format!("not a CSV file: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| {
                Error::input(format!("{shown}:{}", i + 2), format!("not a CSV row: {e}"))
            })?;
            rows.push(rec.iter().map(str::to_string).collect());
        }
        Ok(Table { header, rows })
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The numbers of a column (unparsable cells skipped).
    pub fn numbers(&self, name: &str) -> Vec<f64> {
        match self.col(name) {
            Some(c) => self
                .rows
                .iter()
                .filter_map(|r| r.get(c).and_then(|v| v.parse().ok()))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// One run: its summary row and its optional per-run tables.
#[derive(Clone, Debug)]
pub struct Run {
    pub replicate: u64,
    pub summary: BTreeMap<String, String>,
    pub latency: Option<Table>,
    pub timeseries: Option<Table>,
}

impl Run {
    pub fn get(&self, key: &str) -> Option<f64> {
        self.summary.get(key).and_then(|v| v.parse().ok())
    }
}

/// One sweep point (or the only run's point).
#[derive(Clone, Debug)]
pub struct Variant {
    pub point: usize,
    /// The swept values, `key=value`.
    pub values: Vec<(String, String)>,
    /// The same, shortened for labels (see `compact_values`).
    pub short_values: Vec<String>,
    pub runs: Vec<Run>,
}

impl Variant {
    /// The full label: the swept values, or the scenario's name.
    pub fn full_label(&self, scenario: &str) -> String {
        if self.values.is_empty() {
            scenario.to_string()
        } else {
            self.values
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// A label for a legend: `key=value` for each short value, led by
    /// `P<point>` when a value is too long to show (see the report's
    /// table of variants).
    pub fn label(&self, scenario: &str) -> String {
        if self.values.is_empty() {
            return scenario.to_string();
        }
        let long = self.short_values.iter().any(|v| v.chars().count() > 28);
        let mut parts: Vec<String> = if long {
            vec![format!("P{}", self.point)]
        } else {
            Vec::new()
        };
        parts.extend(
            self.values
                .iter()
                .zip(&self.short_values)
                .filter(|(_, v)| v.chars().count() <= 28)
                .map(|((k, full), v)| {
                    if full.trim_start().starts_with('{') {
                        v.clone()
                    } else {
                        format!("{}={v}", short_key(k))
                    }
                }),
        );
        parts.join(", ")
    }

    /// A label short enough for an axis: the values alone, or `P<n>`.
    pub fn short(&self, scenario: &str) -> String {
        let s = if self.values.is_empty() {
            scenario.to_string()
        } else {
            self.short_values.join(" ")
        };
        if s.chars().count() <= 16 {
            s
        } else {
            format!("P{}", self.point)
        }
    }

    pub fn values_of(&self, key: &str) -> Vec<f64> {
        self.runs.iter().filter_map(|r| r.get(key)).collect()
    }
}

/// The last part of a dotted key path (`keepalive.ttl` -> `ttl`), unless
/// that is ambiguous-looking (`kind`), in which case the whole path.
fn short_key(k: &str) -> &str {
    match k.rsplit_once('.') {
        Some((_, last)) if last != "kind" => last,
        _ => k,
    }
}

/// A results folder read back.
#[derive(Clone, Debug)]
pub struct Study {
    pub dir: PathBuf,
    pub name: String,
    pub scenario_text: String,
    pub manifest: serde_json::Value,
    pub variants: Vec<Variant>,
    pub is_sweep: bool,
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path)
        .map_err(|e| Error::input(path.display().to_string(), format!("cannot read: {e}")))
}

/// Reads a results folder written by `coldsim run` (one run or a sweep)
/// or `coldsim merge`.
pub fn load(dir: &Path) -> Result<Study> {
    let shown = dir.display().to_string();
    if super::staging::read_marker(dir) == Some(Some(super::Kind::Report)) {
        return Err(Error::input(
            &shown,
            "a report folder (written by `coldsim report`), not a results folder; give the results folder it was made from",
        ));
    }
    let mpath = dir.join("manifest.json");
    if !mpath.is_file() {
        return Err(Error::input(
            &shown,
            "not a coldsim results folder (no manifest.json); give the folder `coldsim run` wrote",
        ));
    }
    let manifest: serde_json::Value = serde_json::from_str(&read_text(&mpath)?)
        .map_err(|e| Error::input(mpath.display().to_string(), format!("not valid JSON: {e}")))?;
    let scenario_text = match dir.join("scenario.toml") {
        p if p.is_file() => read_text(&p)?,
        _ => manifest["scenario_text"].as_str().unwrap_or("").to_string(),
    };
    let name = manifest["scenario_name"]
        .as_str()
        .unwrap_or("results")
        .to_string();
    let sweep = dir.join("sweep.csv");
    let mut variants: Vec<Variant> = Vec::new();
    let is_sweep = sweep.is_file();
    if is_sweep {
        let t = Table::read(&sweep)?;
        let origin = sweep.display().to_string();
        let (Some(pc), Some(sc), Some(rc)) =
            (t.col("point"), t.col("scenario"), t.col("replicate"))
        else {
            return Err(Error::input(
                origin,
                "no point, scenario and replicate columns: not a sweep.csv written by coldsim",
            ));
        };
        let runs_dir = runs_by_job(&dir.join("runs"));
        for (i, row) in t.rows.iter().enumerate() {
            let bad = || {
                Error::input(
                    format!("{origin}:{}", i + 2),
                    "expected whole numbers in the point and replicate columns",
                )
            };
            let point: usize = row.get(pc).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let replicate: u64 = row.get(rc).and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let summary: BTreeMap<String, String> =
                t.header.iter().cloned().zip(row.iter().cloned()).collect();
            let (latency, timeseries) = match runs_dir.get(&(point, replicate)) {
                Some(d) => (
                    optional(&d.join("latency.csv"))?,
                    optional(&d.join("timeseries.csv"))?,
                ),
                None => (None, None),
            };
            let run = Run {
                replicate,
                summary,
                latency,
                timeseries,
            };
            match variants.iter_mut().find(|v| v.point == point) {
                Some(v) => v.runs.push(run),
                None => variants.push(Variant {
                    point,
                    values: t.header[pc + 1..sc]
                        .iter()
                        .cloned()
                        .zip(row[pc + 1..sc].iter().cloned())
                        .collect(),
                    short_values: row[pc + 1..sc].to_vec(),
                    runs: vec![run],
                }),
            }
        }
        variants.sort_by_key(|v| v.point);
        compact_values(&mut variants);
    } else {
        let spath = dir.join("summary.csv");
        let t = Table::read(&spath)?;
        let Some(row) = t.rows.first() else {
            return Err(Error::input(spath.display().to_string(), "no row"));
        };
        let summary: BTreeMap<String, String> =
            t.header.iter().cloned().zip(row.iter().cloned()).collect();
        variants.push(Variant {
            point: 0,
            values: Vec::new(),
            short_values: Vec::new(),
            runs: vec![Run {
                replicate: 0,
                summary,
                latency: optional(&dir.join("latency.csv"))?,
                timeseries: optional(&dir.join("timeseries.csv"))?,
            }],
        });
    }
    if variants.is_empty() {
        return Err(Error::input(
            sweep.display().to_string(),
            "no run in it; nothing to report",
        ));
    }
    Ok(Study {
        dir: dir.to_path_buf(),
        name,
        scenario_text,
        manifest,
        variants,
        is_sweep,
    })
}

/// The top-level `key = value` items of a TOML inline table's text
/// (`{ kind = "fixed", ttl = "5m" }`), or None if it is not one.
fn inline_items(v: &str) -> Option<Vec<(String, String)>> {
    let inner = v.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut items = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let bytes = inner.as_bytes();
    for i in 0..=bytes.len() {
        let c = bytes.get(i).copied().unwrap_or(b',');
        match c {
            b'"' => quoted = !quoted,
            b'{' | b'[' if !quoted => depth += 1,
            b'}' | b']' if !quoted => depth -= 1,
            b',' if !quoted && depth == 0 => {
                let item = inner[start..i.min(inner.len())].trim();
                if !item.is_empty() {
                    let (k, v) = item.split_once('=')?;
                    items.push((k.trim().to_string(), v.trim().trim_matches('"').to_string()));
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    Some(items)
}

/// Shortens swept inline-table values for labels: keeps the items that
/// differ between variants (and `kind`), as `value` for `kind` and
/// `key=value` otherwise: `{ kind = "fixed", ttl = "5m" }` -> `fixed ttl=5m`.
fn compact_values(variants: &mut [Variant]) {
    let keys = variants.first().map_or(0, |v| v.values.len());
    for k in 0..keys {
        let parsed: Option<Vec<Vec<(String, String)>>> = variants
            .iter()
            .map(|v| v.values.get(k).and_then(|(_, x)| inline_items(x)))
            .collect();
        let Some(parsed) = parsed else { continue };
        for (v, items) in variants.iter_mut().zip(&parsed) {
            let shown: Vec<String> = items
                .iter()
                .filter(|(key, val)| {
                    key == "kind"
                        || parsed.iter().any(|other| {
                            other.iter().find(|(k2, _)| k2 == key).map(|(_, v2)| v2) != Some(val)
                        })
                })
                .map(|(key, val)| {
                    if key == "kind" {
                        val.clone()
                    } else {
                        format!("{key}={val}")
                    }
                })
                .collect();
            if let Some(slot) = v.short_values.get_mut(k) {
                *slot = shown.join(" ");
            }
        }
    }
}

fn optional(path: &Path) -> Result<Option<Table>> {
    if path.is_file() {
        Table::read(path).map(Some)
    } else {
        Ok(None)
    }
}

/// The run folders `runs/p<point>-r<replicate>` by (point, replicate).
fn runs_by_job(runs: &Path) -> BTreeMap<(usize, u64), PathBuf> {
    let mut out = BTreeMap::new();
    let Ok(rd) = fs::read_dir(runs) else {
        return out;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let parsed = name
            .strip_prefix('p')
            .and_then(|s| s.split_once("-r"))
            .and_then(|(p, r)| Some((p.parse::<usize>().ok()?, r.parse::<u64>().ok()?)));
        if let Some(k) = parsed {
            out.insert(k, e.path());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_table_labels_keep_what_differs() {
        let v = |point, x: &str| Variant {
            point,
            values: vec![("keepalive".into(), x.into())],
            short_values: vec![x.into()],
            runs: Vec::new(),
        };
        let mut vs = vec![
            v(0, r#"{ kind = "fixed", ttl = "5m" }"#),
            v(
                1,
                r#"{ kind = "hybrid", range = "1h", init = { a = 1, b = 2 } }"#,
            ),
        ];
        compact_values(&mut vs);
        assert_eq!(vs[0].label("s"), "fixed ttl=5m");
        assert_eq!(
            vs[1].short_values[0],
            "hybrid range=1h init={ a = 1, b = 2 }"
        );
    }
}
