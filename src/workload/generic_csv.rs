//! Replay of any CSV file of invocations (`[workload] kind = "csv"`): one row
//! per invocation, with a header row whose column names the scenario maps to
//! roles. It is the way in for traces coldsim has no dedicated reader for
//! (a provider's logs, the output of another simulator, a hand-written
//! test); the format is RFC 4180 CSV as the `csv` crate reads it, so quoted
//! fields (with commas or line breaks inside) work, and spaces around fields
//! are ignored.
//!
//! # Scenario keys
//!
//! * `path` (string, required): the file, relative to the folder of the
//!   scenario file.
//! * `columns` (table, required): which header names hold which role.
//!   - `timestamp` (required): arrival time, a number >= 0 in `time_unit`,
//!     counted from the start of the trace (0 is the first instant of the
//!     run; there is no shift to the first row).
//!   - `function` (required): the function's name.
//!   - `duration` (optional): execution time, a number >= 0 in
//!     `duration_unit`. Without it, execution times are drawn from `exec`.
//!   - `memory` (optional): the memory the invocation needs, in MB (a
//!     number above 0, rounded up to whole MB). Without it, memory is drawn
//!     from `memory`.
//!   - `app` (optional): the application the function belongs to. Without
//!     it, every function is its own app.
//! * `time_unit`, `duration_unit` (`"ns"`, `"us"`, `"ms"` or `"s"`, default
//!   `"s"`): units of the timestamp and duration columns.
//! * `exec` (a duration distribution): execution times, drawn per
//!   invocation from a random stream keyed by the function's name. Required
//!   if and only if there is no duration column.
//! * `memory` (a memory distribution, default constant 128 MB, AWS Lambda's
//!   smallest and default size): each app's memory, drawn once from a
//!   stream keyed by the app's name. Only without a memory column.
//! * `init` (a duration distribution, default the Huawei Cloud cold-start
//!   fit): cold-start time of every app.
//! * `sort_window` (duration, default `"0s"`): how far out of timestamp order
//!   the rows may be. `"0s"` requires the file to be sorted by timestamp
//!   (equal timestamps are fine); a positive window sorts the rows in a
//!   bounded window: a row is held until a row stamped at least
//!   `sort_window` later has been read.
//!
//! # Rules
//!
//! * Numbers are read exactly when written as plain decimals (`12`, `0.25`),
//!   and as floats otherwise (`1.5e-3`); times are rounded to whole
//!   nanoseconds.
//! * Functions: with an `app` column a function is identified by its (app,
//!   function) pair, so two apps may each have a function `main`; the second
//!   one seen is named `main#2` in results. Without an `app` column a
//!   function is identified by its name, and its app is named after it.
//! * App memory: with a `memory` column, an app gets the largest memory of
//!   any of its rows that the run replays (instances must fit the largest
//!   invocation, and one instance serves all of an app's functions).
//! * Rows stamped at or after the scenario's `duration` are not replayed;
//!   the run's functions are those with at least one row before it, in order
//!   of first appearance in the file, and their apps in the same order.
//! * A row is malformed if it has more or fewer fields than the header, if
//!   its function or app is empty, or if a number is not a number >= 0 (> 0
//!   for memory). The error names the file, the line, and the field: the
//!   third number of `file:line:N` is the 1-based field index (a field count
//!   rather than a character column, because quoted fields do not map to
//!   columns), and the message repeats it as "field N" with the column's
//!   name. With `--skip-bad-rows` the row is left out and counted in
//!   `skipped_rows`.
//! * A row stamped before an invocation already replayed is an error naming
//!   its line that says to raise `workload.sort_window` (or to sort the
//!   file); with `--skip-bad-rows` it is counted in `skipped_rows`.
//!
//! # Memory
//!
//! The file is read twice: the first pass checks every row, hashes the file
//! (SHA-256, for the manifest) and collects functions, apps and memory; the
//! second streams the rows through the sort window. Memory grows with the
//! number of functions and with the rows of one window, never with the
//! length of the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;

use csv::StringRecord;
use serde::{Deserialize, Serialize};

use super::trace::{Hashing, Release, SortedStream, TraceInput, parse_count, parse_f64};
use super::{Context, TraceReader, WorkloadStats};
use crate::dist::{Dist, MemDist, Sampler};
use crate::engine::{RngStream, Streams};
use crate::error::{Error, Result};
use crate::model::{AppId, AppInfo, FnId, FnInfo, FunctionTable, Invocation};
use crate::time::{SimDuration, SimTime};

/// Header names of the columns that hold each role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    /// Arrival time, in `time_unit` from the start of the trace.
    pub timestamp: String,
    /// Function name.
    pub function: String,
    /// Execution time, in `duration_unit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Memory in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// Application name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
}

/// The unit of a time column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    Ns,
    Us,
    Ms,
    #[default]
    S,
}

impl TimeUnit {
    fn nanos(self) -> u64 {
        match self {
            TimeUnit::Ns => 1,
            TimeUnit::Us => 1_000,
            TimeUnit::Ms => 1_000_000,
            TimeUnit::S => 1_000_000_000,
        }
    }
    fn name(self) -> &'static str {
        match self {
            TimeUnit::Ns => "ns",
            TimeUnit::Us => "us",
            TimeUnit::Ms => "ms",
            TimeUnit::S => "s",
        }
    }
}

/// `[workload] kind = "csv"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The file, relative to the scenario file's folder.
    pub path: String,
    pub columns: Columns,
    #[serde(default)]
    pub time_unit: TimeUnit,
    #[serde(default)]
    pub duration_unit: TimeUnit,
    /// Execution times; required iff there is no duration column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Dist>,
    /// App memory without a memory column (default: constant 128 MB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemDist>,
    /// Cold-start time of every app.
    #[serde(default = "Dist::huawei_cold_start")]
    pub init: Dist,
    /// How far out of timestamp order rows may be; 0 = sorted.
    #[serde(default)]
    pub sort_window: SimDuration,
}

/// Memory of every app when the file has no memory column and the scenario
/// gives no distribution: 128 MB, AWS Lambda's smallest and default memory
/// size (and the size of the lambda-perf cold-start figures).
const DEFAULT_MEMORY_MB: u64 = 128;

impl Config {
    /// Checks what serde cannot; Err(key under `workload.`, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        if self.path.is_empty() {
            return Err(("path".into(), "expected the path of the CSV file".into()));
        }
        let c = &self.columns;
        for (key, v) in [
            ("timestamp", Some(&c.timestamp)),
            ("function", Some(&c.function)),
            ("duration", c.duration.as_ref()),
            ("memory", c.memory.as_ref()),
            ("app", c.app.as_ref()),
        ] {
            if v.is_some_and(|s| s.trim().is_empty()) {
                return Err((
                    format!("columns.{key}"),
                    "expected a column name from the file's header".into(),
                ));
            }
        }
        match (&c.duration, &self.exec) {
            (None, None) => {
                return Err((
                    "exec".into(),
                    "expected an execution time distribution: the file has no duration \
                     column (columnrun.duration)"
                        .into(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err((
                    "exec".into(),
                    "execution times come from the duration column (columnrun.duration); \
                     remove one of the two"
                        .into(),
                ));
            }
            (None, Some(d)) => d.validate(false).map_err(|m| ("exec".to_string(), m))?,
            (Some(_), None) => {}
        }
        match (&c.memory, &self.memory) {
            (Some(_), Some(_)) => {
                return Err((
                    "memory".into(),
                    "app memory comes from the memory column (columns.memory); remove one \
                     of the two"
                        .into(),
                ));
            }
            (None, Some(m)) => m.validate().map_err(|m| ("memory".to_string(), m))?,
            _ => {}
        }
        self.init
            .validate(true)
            .map_err(|m| ("init".to_string(), m))?;
        Ok(())
    }
}

/// Field indexes (0-based) of the roles, found in the header.
#[derive(Clone, Debug)]
struct Cols {
    /// Number of fields in the header.
    width: usize,
    ts: usize,
    func: usize,
    dur: Option<usize>,
    mem: Option<usize>,
    app: Option<usize>,
    /// The header, for messages.
    names: Vec<String>,
    time_unit: TimeUnit,
    duration_unit: TimeUnit,
}

/// One parsed row.
struct Row<'r> {
    ts: u64,
    app: &'r str,
    func: &'r str,
    exec: SimDuration,
    memory_mb: u64,
}

/// A number >= 0 in a unit of `scale` nanoseconds (or MB), as a whole
/// number of nanoseconds: exact for plain decimals, through a float for
/// exponent notation.
fn parse_scaled(s: &str, scale: u64) -> Option<u64> {
    if let Some(v) = parse_count(s) {
        return v.checked_mul(scale);
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return crate::time::parse_decimal_scaled(s, scale);
    }
    let x = parse_f64(s)? * scale as f64;
    // Rejects negatives and values beyond u64 (2^64 is exact in f64).
    if (0.0..18_446_744_073_709_551_616.0).contains(&x) {
        Some((x + 0.5) as u64)
    } else {
        None
    }
}

impl Cols {
    /// Finds the roles in the header; Err(message) names a missing one.
    fn from_header(cfg: &Config, header: &StringRecord) -> std::result::Result<Cols, String> {
        let names: Vec<String> = header.iter().map(str::to_string).collect();
        let find = |role: &str, name: &str| {
            names.iter().position(|n| n == name).ok_or_else(|| {
                format!(
                    "workload.columns.{role} = \"{name}\": the header has no such column \
                     (it has {})",
                    names
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        };
        let c = &cfg.columns;
        let opt =
            |role: &str, name: &Option<String>| name.as_ref().map(|n| find(role, n)).transpose();
        Ok(Cols {
            width: names.len(),
            ts: find("timestamp", &c.timestamp)?,
            func: find("function", &c.function)?,
            dur: opt("duration", &c.duration)?,
            mem: opt("memory", &c.memory)?,
            app: opt("app", &c.app)?,
            time_unit: cfg.time_unit,
            duration_unit: cfg.duration_unit,
            names,
        })
    }

    /// "field N (role column "name")".
    fn at(&self, i: usize, role: &str) -> String {
        format!("field {} ({role} column \"{}\")", i + 1, self.names[i])
    }

    /// Parses a record. Err(1-based field, message).
    fn parse<'r>(&self, rec: &'r StringRecord) -> std::result::Result<Row<'r>, (usize, String)> {
        if rec.len() != self.width {
            let first_bad = rec.len().min(self.width) + 1;
            return Err((
                first_bad,
                format!(
                    "expected {} fields as in the header, found {}",
                    self.width,
                    rec.len()
                ),
            ));
        }
        let func = &rec[self.func];
        if func.is_empty() {
            return Err((
                self.func + 1,
                format!(
                    "{}: expected a function name, found an empty field",
                    self.at(self.func, "function")
                ),
            ));
        }
        let app = match self.app {
            Some(i) => {
                if rec[i].is_empty() {
                    return Err((
                        i + 1,
                        format!(
                            "{}: expected an app name, found an empty field",
                            self.at(i, "app")
                        ),
                    ));
                }
                &rec[i]
            }
            None => "",
        };
        let time = |i: usize, role: &str, unit: TimeUnit| {
            parse_scaled(&rec[i], unit.nanos()).ok_or_else(|| {
                (
                    i + 1,
                    format!(
                        "{}: expected a number >= 0 of {}, found \"{}\"",
                        self.at(i, role),
                        unit.name(),
                        &rec[i]
                    ),
                )
            })
        };
        let ts = time(self.ts, "timestamp", self.time_unit)?;
        let exec = match self.dur {
            Some(i) => SimDuration::from_nanos(time(i, "duration", self.duration_unit)?),
            None => SimDuration::ZERO,
        };
        let memory_mb = match self.mem {
            Some(i) => parse_count(&rec[i])
                .or_else(|| {
                    parse_f64(&rec[i])
                        .filter(|&x| x > 0.0 && x < 1e15)
                        .map(|x| x.ceil() as u64)
                })
                .filter(|&mb| mb > 0)
                .ok_or_else(|| {
                    (
                        i + 1,
                        format!(
                            "{}: expected a memory size in MB > 0, found \"{}\"",
                            self.at(i, "memory"),
                            &rec[i]
                        ),
                    )
                })?,
            None => 0,
        };
        Ok(Row {
            ts,
            app,
            func,
            exec,
            memory_mb,
        })
    }
}

/// Function indexes by app, then by function name (the app is "" without
/// an app column).
type Index = HashMap<String, HashMap<String, u32>>;

fn lookup(index: &Index, app: &str, func: &str) -> Option<u32> {
    index.get(app)?.get(func).copied()
}

/// A CSV reader over a trace file.
type CsvReader<R> = csv::Reader<R>;

fn csv_reader<R: std::io::Read>(r: R) -> CsvReader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(r)
}

/// The header of a file; Err names file and line 1.
fn read_header<R: std::io::Read>(
    rdr: &mut CsvReader<R>,
    shown: &str,
    cfg: &Config,
) -> Result<Cols> {
    let header = rdr
        .headers()
        .map_err(|e| Error::input(format!("{shown}:1"), format!("cannot read the header: {e}")))?;
    if header.is_empty() || (header.len() == 1 && header[0].is_empty()) {
        return Err(Error::input(
            format!("{shown}:1"),
            "expected a header row naming the columns",
        ));
    }
    Cols::from_header(cfg, header).map_err(|m| Error::input(format!("{shown}:1"), m))
}

/// A record read: Ok(its line), or Err((line, 1-based field, message)) if it
/// cannot be decoded.
type Record = std::result::Result<u64, (u64, usize, String)>;

/// Reads the next record. Ok(None) at the end; Err for an I/O error.
fn next_record<R: std::io::Read>(
    rdr: &mut CsvReader<R>,
    rec: &mut StringRecord,
    shown: &str,
) -> Result<Option<Record>> {
    match rdr.read_record(rec) {
        Ok(false) => Ok(None),
        Ok(true) => Ok(Some(Ok(rec.position().map_or(0, |p| p.line())))),
        Err(e) => {
            let line = e.position().map_or(0, |p| p.line());
            match e.kind() {
                csv::ErrorKind::Utf8 { err, .. } => Ok(Some(Err((
                    line,
                    err.field() + 1,
                    format!("field {}: expected UTF-8 text", err.field() + 1),
                )))),
                // Field counts are checked by `Cols::parse` (the reader is
                // flexible); what is left is I/O.
                _ => Err(Error::input(shown, format!("cannot read: {e}"))),
            }
        }
    }
}

/// A function during the first pass.
struct Scanned {
    func: String,
    /// Index into the scanned apps (with an app column), or none.
    app: Option<u32>,
    first_ts: u64,
    /// Largest memory of its rows before the horizon (memory column only).
    max_memory_mb: u64,
}

/// The state of a [`Reader`].
struct State {
    shown: String,
    rdr: CsvReader<BufReader<Hashing<File>>>,
    rec: StringRecord,
    cols: Cols,
    index: Index,
    /// Per function: sampler and stream of its execution times (empty with
    /// a duration column).
    execs: Vec<(Sampler, RngStream)>,
    /// Rows in, invocations out in arrival order.
    stream: SortedStream,
    skip_bad_rows: bool,
    stats: WorkloadStats,
    error: Option<Error>,
}

/// Opens the file: the first pass, the function table, and the reader for
/// the second pass.
pub fn open(
    cfg: &Config,
    run: &super::RunBounds,
    ctx: &Context,
    streams: &Streams,
) -> Result<(FunctionTable, Reader)> {
    let horizon = SimTime(run.duration.as_nanos());
    let mut stats = WorkloadStats::default();
    let mut input = TraceInput::open(ctx, &cfg.path, "workload.path")?;
    let shown = input.shown.clone();

    // First pass.
    let mut app_names: Vec<String> = Vec::new();
    let mut app_ids: HashMap<String, u32> = HashMap::new();
    let mut index: Index = HashMap::new();
    let mut scanned: Vec<Scanned> = Vec::new();
    let cols = {
        let mut rdr = csv_reader(&mut input.reader);
        let cols = read_header(&mut rdr, &shown, cfg)?;
        let mut rec = StringRecord::new();
        while let Some(r) = next_record(&mut rdr, &mut rec, &shown)? {
            let row =
                r.and_then(|line| cols.parse(&rec).map_err(|(field, msg)| (line, field, msg)));
            let row = match row {
                Ok(row) => row,
                Err((line, field, msg)) => {
                    if ctx.skip_bad_rows {
                        stats.skipped_rows += 1;
                        continue;
                    }
                    return Err(Error::input(format!("{shown}:{line}:{field}"), msg));
                }
            };
            let f = match lookup(&index, row.app, row.func) {
                Some(f) => f,
                None => {
                    let app = cols.app.map(|_| match app_ids.get(row.app) {
                        Some(&a) => a,
                        None => {
                            let a = app_names.len() as u32;
                            app_names.push(row.app.to_string());
                            app_ids.insert(row.app.to_string(), a);
                            a
                        }
                    });
                    let f = scanned.len() as u32;
                    scanned.push(Scanned {
                        func: row.func.to_string(),
                        app,
                        first_ts: row.ts,
                        max_memory_mb: 0,
                    });
                    index
                        .entry(row.app.to_string())
                        .or_default()
                        .insert(row.func.to_string(), f);
                    f
                }
            };
            let sf = &mut scanned[f as usize];
            sf.first_ts = sf.first_ts.min(row.ts);
            if row.ts < horizon.0 {
                sf.max_memory_mb = sf.max_memory_mb.max(row.memory_mb);
            }
        }
        cols
    };
    stats.files.push(input.finish()?);
    drop(app_ids);

    // The table: functions with a row before the horizon, apps in order of
    // first appearance among them.
    let memory_dist = cfg.memory.clone().unwrap_or(MemDist::Constant {
        mb: DEFAULT_MEMORY_MB,
    });
    let exec = match &cfg.exec {
        Some(d) if cols.dur.is_none() => {
            Some(d.sampler().map_err(|m| Error::input("workload.exec", m))?)
        }
        _ => None,
    };
    let mut table = FunctionTable::default();
    let mut app_of_scanned: HashMap<u32, u32> = HashMap::new();
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut run_index: Index = HashMap::new();
    let mut execs = Vec::new();
    for sf in &scanned {
        if sf.first_ts >= horizon.0 {
            continue;
        }
        let new_app = |name: &str| AppInfo {
            min_instances: 0,
            name: name.to_string(),
            memory_mb: 0,
            init: cfg.init.clone(),
            state_mb: 0,
            snapshot_mb: None,
            concurrency: 1,
        };
        let app = match sf.app {
            Some(sa) => match app_of_scanned.get(&sa) {
                Some(&a) => a,
                None => {
                    let a = table.apps.len() as u32;
                    table.apps.push(new_app(&app_names[sa as usize]));
                    app_of_scanned.insert(sa, a);
                    a
                }
            },
            None => {
                table.apps.push(new_app(&sf.func));
                table.apps.len() as u32 - 1
            }
        };
        if cols.mem.is_some() {
            let m = &mut table.apps[app as usize].memory_mb;
            *m = (*m).max(sf.max_memory_mb);
        }
        let seen = names.entry(sf.func.clone()).or_insert(0);
        *seen += 1;
        let name = if *seen == 1 {
            sf.func.clone()
        } else {
            format!("{}#{seen}", sf.func)
        };
        let f = table.functions.len() as u32;
        let app_key = sf.app.map_or("", |sa| app_names[sa as usize].as_str());
        run_index
            .entry(app_key.to_string())
            .or_default()
            .insert(sf.func.clone(), f);
        if let Some(sampler) = &exec {
            execs.push((sampler.clone(), streams.named("exec", &name)));
        }
        table.functions.push(FnInfo {
            name,
            app: AppId(app),
            max_concurrency: None,
        });
    }
    if cols.mem.is_none() {
        for a in &mut table.apps {
            a.memory_mb = memory_dist.sample(&mut streams.named("memory", &a.name));
        }
    }
    drop((scanned, index));

    // Second pass.
    let input = TraceInput::open(ctx, &cfg.path, "workload.path")?;
    let mut rdr = csv_reader(input.reader);
    read_header(&mut rdr, &shown, cfg)?;
    let reader = State {
        shown,
        rdr,
        rec: StringRecord::new(),
        cols,
        index: run_index,
        execs,
        stream: SortedStream::new(cfg.sort_window, horizon),
        skip_bad_rows: ctx.skip_bad_rows,
        stats,
        error: None,
    };
    Ok((table, Reader(reader)))
}

impl State {
    /// Reads the next row into the window (or notes the end of the file).
    fn read_row(&mut self) -> Result<()> {
        let line = match next_record(&mut self.rdr, &mut self.rec, &self.shown)? {
            None => {
                self.stream.end_of_input();
                return Ok(());
            }
            // Undecodable rows were counted (or reported) by the first pass.
            Some(Err(_)) => return Ok(()),
            Some(Ok(line)) => line,
        };
        let Ok(row) = self.cols.parse(&self.rec) else {
            return Ok(());
        };
        // A function whose every row is at or past the horizon is not in
        // the run; its rows go through the window all the same (they are
        // never released inside the run).
        let f = lookup(&self.index, row.app, row.func).map_or(FnId(u32::MAX), FnId);
        let t = SimTime(row.ts);
        match self.stream.push(t, f, row.exec) {
            Ok(()) => Ok(()),
            Err(released) => {
                if self.skip_bad_rows {
                    self.stats.skipped_rows += 1;
                    return Ok(());
                }
                let at = self.cols.at(self.cols.ts, "timestamp");
                let msg = if self.stream.window().is_zero() {
                    format!(
                        "{at}: {t} comes after {released} in the file, but the file must be \
                         sorted by timestamp (workload.sort_window = \"0s\"); sort it, or set \
                         workload.sort_window to how far rows are out of order"
                    )
                } else {
                    format!(
                        "{at}: {t} is before {released}, which was already replayed: the \
                         file is more out of order than workload.sort_window ({}) allows; \
                         raise workload.sort_window",
                        self.stream.window()
                    )
                };
                Err(Error::input(
                    format!("{}:{line}:{}", self.shown, self.cols.ts + 1),
                    msg,
                ))
            }
        }
    }

    /// The next invocation in arrival order.
    fn next_inv(&mut self) -> Option<Invocation> {
        loop {
            match self.stream.release() {
                Release::Ready(t, function, exec) => {
                    let exec = match self.execs.get_mut(function.index()) {
                        Some((sampler, rng)) => sampler.sample(rng),
                        None => exec,
                    };
                    return Some(self.stream.invocation(t, function, exec));
                }
                Release::End => return None,
                Release::NeedRow => {
                    if let Err(e) = self.read_row() {
                        self.error = Some(e);
                        self.stream.stop();
                        return None;
                    }
                }
            }
        }
    }
}

/// The generic CSV reader: a pull iterator of invocations in arrival order.
pub struct Reader(State);

impl Reader {
    /// The most invocations the sort window has held at once so far (for
    /// tests and benchmarks: it is bounded by the rows of one window).
    pub fn peak_pending(&self) -> usize {
        self.0.stream.peak_pending()
    }

    /// Invocations read and not yet released.
    pub fn pending(&self) -> usize {
        self.0.stream.pending()
    }
}

impl Iterator for Reader {
    type Item = Invocation;

    #[inline]
    fn next(&mut self) -> Option<Invocation> {
        self.0.next_inv()
    }
}

impl TraceReader for Reader {
    fn stats(&self) -> WorkloadStats {
        self.0.stats.clone()
    }
    fn take_error(&mut self) -> Option<Error> {
        self.0.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_scale_exactly() {
        assert_eq!(parse_scaled("12", 1_000), Some(12_000));
        assert_eq!(parse_scaled("0.25", 1_000_000_000), Some(250_000_000));
        assert_eq!(
            parse_scaled("1234567.123456789", 1_000_000_000),
            Some(1_234_567_123_456_789)
        );
        assert_eq!(parse_scaled("1.5e-3", 1_000_000_000), Some(1_500_000));
        assert_eq!(parse_scaled(".5", 2), Some(1));
        for bad in ["", "-1", "x", ".", "1e400", "nan", "-0.5"] {
            assert_eq!(parse_scaled(bad, 1), None, "{bad}");
        }
    }
}
