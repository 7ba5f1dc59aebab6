//! `coldsim merge`: the folders of a sweep's shards back into the folder
//! one `coldsim run` of the whole sweep writes.
//!
//! A shard folder (`coldsim run SCENARIO --shard K/N`) is a results folder
//! holding the runs of its slice: their rows of sweep.csv, in order, their
//! `runs/p<point>-r<replicate>/` folders, scenario.toml, and a manifest.json
//! whose `shard` field says `{ "index": K, "count": N }`. Since every run is
//! deterministic and depends only on the scenario text, the seed, the
//! coldsim build and its (point, replicate), merging is copying: sweep.csv
//! is the header and the shards' rows put back in job order, byte for byte,
//! and the run folders and scenario.toml are copied as they are. Only
//! manifest.json differs from a single run's: it lists the shards.
//!
//! Merging refuses, before it writes anything, folders that are not shard
//! folders, shards of different scenario texts, seeds, coldsim builds or
//! splits, a shard given twice, a missing shard, and a shard folder whose
//! files do not match its manifest: the scenario's SHA-256, the rows of
//! sweep.csv, and the SHA-256 of every file its manifest lists under
//! `files` (a file edited, truncated or added after the run).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::{Shard, run_dir};
use crate::error::{Error, Result};
use crate::report::manifest::{self, Manifest};
use crate::report::{Kind, Staging};

/// How to merge.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// The results folder to write.
    pub out: PathBuf,
    pub force: bool,
    /// The command line, for the manifest.
    pub command: Vec<String>,
}

/// The manifest.json of a merged folder: `coldsim_version` and
/// `git_commit` are those of the build that ran the shards (every CSV file
/// comes from it), `command` the merge command line.
pub type MergedManifest = Manifest<MergedBody>;

/// The fields of a merged folder's manifest after the provenance.
#[derive(Clone, Debug, Serialize)]
pub struct MergedBody {
    pub sweep_points: usize,
    pub replicates: u32,
    pub runs: usize,
    /// Where and when the merge ran.
    pub host: String,
    pub started_at_utc: String,
    /// Summed over the shards.
    pub events: u64,
    pub invocations: u64,
    /// The workload figures of the first run (from shard 0, which holds it).
    pub workload: Value,
    /// The build that merged (only copies files; may differ from the one
    /// that ran the shards).
    pub merged_by: MergedBy,
    /// One entry per shard, in shard order.
    pub shards: Vec<ShardRecord>,
}

/// The build that ran `coldsim merge`.
#[derive(Clone, Debug, Serialize)]
pub struct MergedBy {
    pub coldsim_version: String,
    pub git_commit: String,
}

/// What the merged manifest keeps of each shard's manifest.
#[derive(Clone, Debug, Serialize)]
pub struct ShardRecord {
    /// The shard folder as given to merge.
    pub folder: String,
    pub shard: Shard,
    pub runs: usize,
    pub host: Value,
    pub threads: Value,
    pub started_at_utc: Value,
    pub wall_seconds: Value,
    pub events: u64,
    pub events_per_second: Value,
    pub invocations: u64,
    pub command: Value,
}

/// What `merge` wrote.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    pub dir: PathBuf,
    pub manifest: MergedManifest,
}

/// One shard folder, as its manifest describes it.
struct Folder {
    dir: PathBuf,
    shown: String,
    shard: Shard,
    version: String,
    commit: String,
    sha256: String,
    seed: u64,
    points: usize,
    replicates: u32,
    runs: usize,
    /// The SHA-256 of every file, by relative path (None for a shard of a
    /// coldsim that did not record them).
    files: Option<BTreeMap<String, String>>,
    manifest: Value,
}

const NOT_SHARD: &str = "merge takes the folders written by `coldsim run SCENARIO --shard K/N`";

/// The names of the files of one run of a sweep.
const RUN_FILES: [&str; 3] = ["summary.csv", "functions.csv", "latency.csv"];

/// Reads one shard folder's manifest.json.
fn read_folder(dir: &Path) -> Result<Folder> {
    let shown = dir.display().to_string();
    if !dir.is_dir() {
        let what = if dir.exists() {
            "not a folder"
        } else {
            "no such folder"
        };
        return Err(Error::input(&shown, format!("{what}; {NOT_SHARD}")));
    }
    let path = dir.join("manifest.json");
    let origin = path.display().to_string();
    let bytes = fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::input(
                &shown,
                format!("not a coldsim results folder (no manifest.json); {NOT_SHARD}"),
            )
        } else {
            Error::input(&origin, format!("cannot read: {e}"))
        }
    })?;
    let m: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(&origin, format!("not valid JSON ({e}); {NOT_SHARD}")))?;
    let get = |key: &str| -> Result<&Value> {
        m.get(key).ok_or_else(|| {
            Error::input(
                &origin,
                format!("no \"{key}\" field: not a coldsim manifest; {NOT_SHARD}"),
            )
        })
    };
    let text = |key: &str| -> Result<String> {
        get(key)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::input(&origin, format!("\"{key}\": expected a string")))
    };
    let uint = |v: &Value, key: &str| -> Result<u64> {
        v.as_u64().ok_or_else(|| {
            Error::input(
                &origin,
                format!("\"{key}\": expected a whole number, found {v}"),
            )
        })
    };
    let version = text("coldsim_version")?;
    let shard = m.get("shard").ok_or_else(|| {
        Error::input(
            &shown,
            format!(
                "not a shard folder (its manifest.json has no \"shard\": a whole run or a merge); {NOT_SHARD}"
            ),
        )
    })?;
    let index = uint(shard.get("index").unwrap_or(&Value::Null), "shard.index")?;
    let count = uint(shard.get("count").unwrap_or(&Value::Null), "shard.count")?;
    if count == 0 || index >= count {
        return Err(Error::input(
            &origin,
            format!("\"shard\": {index}/{count} is not a shard K/N with K from 0 to N-1"),
        ));
    }
    let replicates = uint(get("replicates")?, "replicates")?;
    let files = match m.get("files") {
        None => None,
        Some(v) => Some(
            v.as_object()
                .and_then(|o| {
                    o.iter()
                        .map(|(k, h)| Some((k.clone(), h.as_str()?.to_string())))
                        .collect::<Option<BTreeMap<_, _>>>()
                })
                .ok_or_else(|| {
                    Error::input(
                        &origin,
                        "\"files\": expected an object of file paths and SHA-256 sums",
                    )
                })?,
        ),
    };
    Ok(Folder {
        dir: dir.to_path_buf(),
        shown,
        shard: Shard {
            index: index as usize,
            count: count as usize,
        },
        version,
        commit: text("git_commit")?,
        sha256: text("scenario_sha256")?,
        seed: uint(get("seed")?, "seed")?,
        points: uint(get("sweep_points")?, "sweep_points")? as usize,
        replicates: u32::try_from(replicates).map_err(|_| {
            Error::input(
                &origin,
                format!("\"replicates\": {replicates} is too large"),
            )
        })?,
        runs: uint(get("runs")?, "runs")? as usize,
        files,
        manifest: m,
    })
}

/// The scenario name of the first shard folder: the default results folder
/// of a merge is `results/<name>`, as for the run.
pub fn scenario_name(dirs: &[PathBuf]) -> Result<String> {
    let Some(dir) = dirs.first() else {
        return Err(Error::Usage(
            "merge: no shard folders given; pass every shard folder of the sweep".into(),
        ));
    };
    let f = read_folder(dir)?;
    let name = f
        .manifest
        .get("scenario_name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        return Err(Error::input(
            dir.join("manifest.json").display().to_string(),
            format!("\"scenario_name\": {name:?} is not a scenario name; give --out"),
        ));
    }
    Ok(name.to_string())
}

/// Refuses a shard that does not belong with the first one.
fn check_same(a: &Folder, b: &Folder) -> Result<()> {
    let short = |h: &str| h.chars().take(12).collect::<String>();
    let (sa, sb) = (&a.shown, &b.shown);
    if a.sha256 != b.sha256 {
        return Err(Error::input(
            sb,
            format!(
                "a shard of another scenario: its scenario_sha256 is {}..., {sa}'s is {}...; merge the shards of one scenario file",
                short(&b.sha256),
                short(&a.sha256)
            ),
        ));
    }
    if a.version != b.version || a.commit != b.commit {
        return Err(Error::input(
            sb,
            format!(
                "written by coldsim {} (commit {}), but {sa} by coldsim {} (commit {}); run every shard with the same build",
                b.version, b.commit, a.version, a.commit
            ),
        ));
    }
    if a.shard.count != b.shard.count {
        return Err(Error::input(
            sb,
            format!(
                "shard {} of a split into {}, but {sa} is shard {} of a split into {}; merge the shards of one split",
                b.shard, b.shard.count, a.shard, a.shard.count
            ),
        ));
    }
    if a.seed != b.seed {
        return Err(Error::input(
            sb,
            format!(
                "seed {}, but {sa} has seed {}; run every shard with the same --seed",
                b.seed, a.seed
            ),
        ));
    }
    if a.points != b.points || a.replicates != b.replicates {
        return Err(Error::input(
            sb,
            format!(
                "{} point(s) x {} replicate(s), but {sa} has {} x {}; merge the shards of one sweep",
                b.points, b.replicates, a.points, a.replicates
            ),
        ));
    }
    Ok(())
}

/// The records of a CSV file as raw byte slices (each with its line end),
/// and the fields of each.
fn csv_records<'a>(bytes: &'a [u8], origin: &str) -> Result<Vec<(&'a [u8], Vec<String>)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut rec = csv::StringRecord::new();
    let mut out = Vec::new();
    let mut start = 0usize;
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => {
                let end = (rdr.position().byte() as usize).min(bytes.len());
                out.push((&bytes[start..end], rec.iter().map(str::to_string).collect()));
                start = end;
            }
            Ok(false) => break,
            Err(e) => {
                return Err(Error::input(
                    origin,
                    format!("not a sweep.csv written by coldsim: {e}"),
                ));
            }
        }
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| {
        let msg = if e.kind() == std::io::ErrorKind::NotFound {
            "missing: the shard folder is incomplete".to_string()
        } else {
            format!("cannot read: {e}")
        };
        Error::input(path.display().to_string(), msg)
    })
}

/// Checks a file read from a shard against the SHA-256 its manifest
/// records (shards of a coldsim that recorded none are not checked).
fn verify(f: &Folder, rel: &str, bytes: &[u8]) -> Result<()> {
    let Some(files) = &f.files else {
        return Ok(());
    };
    let path = f.dir.join(rel).display().to_string();
    let shard = format!("shard {} ({})", f.shard, f.shown);
    match files.get(rel) {
        None => Err(Error::input(
            path,
            format!(
                "not listed in the manifest.json of {shard}: added after the run; remove it or run the shard again"
            ),
        )),
        Some(h) if *h != manifest::sha256_hex(bytes) => Err(Error::input(
            path,
            format!(
                "its SHA-256 is not the one the manifest.json of {shard} records: the file was changed or truncated after the run; run the shard again"
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// Merges shard folders into one results folder (see the module doc).
pub fn merge(dirs: &[PathBuf], opts: &MergeOptions) -> Result<MergeOutcome> {
    if dirs.is_empty() {
        return Err(Error::Usage(
            "merge: no shard folders given; pass every shard folder of the sweep".into(),
        ));
    }
    if let Ok(out) = opts.out.canonicalize()
        && let Some(d) = dirs
            .iter()
            .find(|d| d.canonicalize().is_ok_and(|c| c == out))
    {
        return Err(Error::Usage(format!(
            "{}: --out is one of the shard folders ({}); choose another folder",
            opts.out.display(),
            d.display()
        )));
    }
    let inputs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    let staging = Staging::new(&opts.out, opts.force, Kind::Merge, &inputs)?;
    let started = manifest::now_utc();

    // Every folder is a shard, of the same scenario, build, seed and split.
    let folders: Vec<Folder> = dirs.iter().map(|d| read_folder(d)).collect::<Result<_>>()?;
    let first = &folders[0];
    for f in &folders[1..] {
        check_same(first, f)?;
    }
    // Each shard exactly once.
    let n = first.shard.count;
    let mut by_index: BTreeMap<usize, &Folder> = BTreeMap::new();
    for f in &folders {
        if let Some(seen) = by_index.insert(f.shard.index, f) {
            return Err(Error::input(
                &f.shown,
                format!(
                    "shard {} is given twice (also {}); give each shard folder once",
                    f.shard, seen.shown
                ),
            ));
        }
    }
    if by_index.len() < n {
        let missing: Vec<String> = (0..n)
            .filter(|k| !by_index.contains_key(k))
            .take(5)
            .map(|k| format!("{k}/{n}"))
            .collect();
        let more = n - by_index.len() - missing.len();
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        return Err(Error::Usage(format!(
            "merge: shard {}{more} missing ({} of {n} shard folders given); pass every shard folder of the split",
            missing.join(", "),
            by_index.len()
        )));
    }

    // The files of each shard match its manifest.
    let (points, replicates) = (first.points, first.replicates);
    let total = points * replicates as usize;
    let job = |j: usize| (j / replicates as usize, (j % replicates as usize) as u64);
    let mut header: Option<(&[u8], &str)> = None;
    let mut rows: Vec<Option<Vec<u8>>> = vec![None; total];
    let mut scenario_text: Option<Vec<u8>> = None;
    let mut sweep_files: Vec<Vec<u8>> = Vec::with_capacity(n);
    for f in by_index.values() {
        let scenario_path = f.dir.join("scenario.toml");
        let text = read_file(&scenario_path)?;
        if manifest::sha256_hex(&text) != f.sha256 {
            return Err(Error::input(
                scenario_path.display().to_string(),
                "its SHA-256 is not the manifest's scenario_sha256: the folder was changed after the run",
            ));
        }
        scenario_text.get_or_insert(text);
        sweep_files.push(read_file(&f.dir.join("sweep.csv"))?);
    }
    for (f, bytes) in by_index.values().zip(&sweep_files) {
        let origin = f.dir.join("sweep.csv").display().to_string();
        let jobs: Vec<usize> = f.shard.jobs(total).collect();
        if f.runs != jobs.len() {
            return Err(Error::input(
                f.dir.join("manifest.json").display().to_string(),
                format!(
                    "\"runs\" is {}, but shard {} of {total} runs holds {}",
                    f.runs,
                    f.shard,
                    jobs.len()
                ),
            ));
        }
        let records = csv_records(bytes, &origin)?;
        if records.len() != if jobs.is_empty() { 0 } else { jobs.len() + 1 } {
            return Err(Error::input(
                &origin,
                format!(
                    "{} line(s), expected a header and {} row(s) for shard {} of {total} runs",
                    records.len(),
                    jobs.len(),
                    f.shard
                ),
            ));
        }
        let Some(((head, fields), body)) = records.split_first() else {
            verify(f, "sweep.csv", bytes)?;
            continue;
        };
        match header {
            None => header = Some((head, &f.shown)),
            Some((h, from)) if h != *head => {
                return Err(Error::input(
                    &origin,
                    format!("its header differs from that of {from}/sweep.csv"),
                ));
            }
            Some(_) => {}
        }
        let rep_col = fields.iter().position(|c| c == "replicate");
        let (Some("point"), Some(rep_col)) = (fields.first().map(String::as_str), rep_col) else {
            return Err(Error::input(
                &origin,
                "its header has no \"point\" and \"replicate\" columns: not a sweep.csv written by coldsim",
            ));
        };
        for (i, (&j, (raw, cells))) in jobs.iter().zip(body).enumerate() {
            let (p, r) = job(j);
            if cells[0] != p.to_string() || cells[rep_col] != r.to_string() {
                return Err(Error::input(
                    format!("{origin}:{}", i + 2),
                    format!(
                        "point {} replicate {}, expected point {p} replicate {r} (run {j}, the {} of shard {})",
                        cells[0],
                        cells[rep_col],
                        ordinal(i + 1),
                        f.shard
                    ),
                ));
            }
            let mut line = raw.to_vec();
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            rows[j] = Some(line);
        }
        verify(f, "sweep.csv", bytes)?;
    }

    // Write what one run of the whole sweep writes.
    let mut sweep = header.map(|(h, _)| h.to_vec()).unwrap_or_default();
    if !sweep.ends_with(b"\n") {
        sweep.push(b'\n');
    }
    for f in by_index.values() {
        for j in f.shard.jobs(total) {
            let (p, r) = job(j);
            let rel = run_dir(points, replicates, p, r);
            for name in RUN_FILES {
                let file = format!("{rel}/{name}");
                let bytes = read_file(&f.dir.join(&file))?;
                verify(f, &file, &bytes)?;
                staging.write(&file, &bytes)?;
            }
            // Present only with `[report] interval`.
            let file = format!("{rel}/timeseries.csv");
            let listed = f.files.as_ref().is_some_and(|m| m.contains_key(&file));
            if listed || f.dir.join(&file).is_file() {
                let bytes = read_file(&f.dir.join(&file))?;
                verify(f, &file, &bytes)?;
                staging.write(&file, &bytes)?;
            }
        }
    }
    for row in rows.into_iter().flatten() {
        sweep.extend_from_slice(&row);
    }
    staging.write("sweep.csv", &sweep)?;
    let scenario_text = scenario_text.unwrap_or_default();
    staging.write("scenario.toml", &scenario_text)?;

    let m0 = &first.manifest;
    let shard0 = by_index.get(&0).map_or(m0, |f| &f.manifest);
    let text = |m: &Value, k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let count = |m: &Value, k: &str| m.get(k).and_then(Value::as_u64).unwrap_or(0);
    let field = |m: &Value, k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let shards: Vec<ShardRecord> = by_index
        .values()
        .map(|f| ShardRecord {
            folder: f.shown.clone(),
            shard: f.shard,
            runs: f.runs,
            host: field(&f.manifest, "host"),
            threads: field(&f.manifest, "threads"),
            started_at_utc: field(&f.manifest, "started_at_utc"),
            wall_seconds: field(&f.manifest, "wall_seconds"),
            events: count(&f.manifest, "events"),
            events_per_second: field(&f.manifest, "events_per_second"),
            invocations: count(&f.manifest, "invocations"),
            command: field(&f.manifest, "command"),
        })
        .collect();
    let body = MergedBody {
        sweep_points: points,
        replicates,
        runs: total,
        host: manifest::host_name(),
        started_at_utc: started,
        events: shards.iter().map(|s| s.events).sum(),
        invocations: shards.iter().map(|s| s.invocations).sum(),
        workload: field(shard0, "workload"),
        merged_by: MergedBy {
            coldsim_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: manifest::git_commit().to_string(),
        },
        shards,
    };
    let mut m = MergedManifest {
        coldsim_version: first.version.clone(),
        git_commit: first.commit.clone(),
        command: opts.command.clone(),
        scenario_file: text(shard0, "scenario_file"),
        scenario_name: text(shard0, "scenario_name"),
        scenario_sha256: first.sha256.clone(),
        seed: first.seed,
        body,
        files: BTreeMap::new(),
        scenario_text: String::from_utf8_lossy(&scenario_text).into_owned(),
    };
    staging.write_manifest(&mut m)?;
    let dir = staging.commit()?;
    Ok(MergeOutcome { dir, manifest: m })
}

/// `1st`, `2nd`, `3rd`, `4th`, ...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_keep_their_bytes_and_quoted_fields() {
        let text = b"point,k,replicate\n0,\"{ a = 1, b = \"\"x\"\" }\",0\n1,\"two\nlines\",1\n";
        let r = csv_records(text, "t").unwrap();
        assert_eq!(r.len(), 3);
        let joined: Vec<u8> = r.iter().flat_map(|(b, _)| b.iter().copied()).collect();
        assert_eq!(joined, text.to_vec());
        assert_eq!(r[1].1[1], "{ a = 1, b = \"x\" }");
        assert_eq!(r[2].1[1], "two\nlines");
        assert_eq!(r[2].0, b"1,\"two\nlines\",1\n");
    }

    #[test]
    fn ordinals() {
        let v: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 102, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            v,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "102nd",
                "111th"
            ]
        );
    }

    #[test]
    fn shards_deal_jobs_round_robin() {
        let s = |k, n| Shard { index: k, count: n };
        assert_eq!(s(1, 3).jobs(8).collect::<Vec<_>>(), [1, 4, 7]);
        assert_eq!(s(5, 8).jobs(3).count(), 0);
        let mut all: Vec<usize> = (0..4).flat_map(|k| s(k, 4).jobs(10)).collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert!(s(2, 4).holds(6) && !s(2, 4).holds(7));
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(Shard::parse("0/1"), Ok(Shard { index: 0, count: 1 }));
        assert_eq!(Shard::parse("3/4"), Ok(Shard { index: 3, count: 4 }));
        for bad in [
            "3/2", "2/2", "0/0", "a/b", "1", "-1/2", "1/2/3", "/2", "1/", " 1/2", "+1/2",
        ] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Shard::parse("2/2")
                .unwrap_err()
                .contains("numbered from 0 to 1")
        );
    }
}
