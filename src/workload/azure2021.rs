//! Replay of the Azure Functions 2021 invocation trace (Zhang et al.,
//! "Faster and Cheaper Serverless Computing on Harvested Resources", SOSP
//! 2021; published in the Azure Public Dataset as
//! `AzureFunctionsInvocationTraceForTwoWeeksJan2021`, CC-BY 4.0).
//!
//! The trace is one CSV file with the header `app,func,end_timestamp,duration`
//! and one row per invocation: the app's and the function's hashes, the
//! instant the invocation finished and how long it ran, both in seconds
//! (floats) counted from the start of the trace.
//!
//! # Scenario keys (`[workload] kind = "azure2021"`)
//!
//! * `path` (string, required): the trace file, relative to the folder of the
//!   scenario file.
//! * `memory` (a memory distribution, default the Burr fit below): the trace
//!   has no memory column, so every app draws one size from this
//!   distribution, from a random stream keyed by the app's hash; an app keeps
//!   its size when other apps are added or removed. The default is the Burr
//!   XII fit to Azure app memory (c 11.652, k 0.221, lambda 107.083 MB) that
//!   DSLab FaaS and "Serverless in the Wild" use for this trace.
//! * `max_memory_mb` (MB, default 1536): a drawn size above this is lowered to
//!   it. 1536 MB is the 1.5 GB memory limit of an instance on the Azure
//!   Functions Consumption plan, where the traced apps ran; the Burr tail
//!   would otherwise produce apps no Consumption instance could hold.
//! * `init` (a duration distribution, default the Huawei Cloud cold-start
//!   fit): cold-start time of every app.
//! * `sort_window` (duration, default `"15m"`): how far out of arrival order
//!   the rows may be (see below). 15 minutes is more than the 10-minute
//!   maximum timeout of a Consumption-plan function, so a file ordered by
//!   `end_timestamp` (whose arrivals are then out of order by at most the
//!   longest duration) also replays.
//!
//! # Rules
//!
//! * An invocation arrives at `end_timestamp - duration` and runs for
//!   `duration`. Times are rounded to whole nanoseconds.
//! * Time zero of the run is the start of the trace (`end_timestamp` 0),
//!   unless an invocation started before it (its duration exceeds its end
//!   timestamp): then the whole trace is shifted so that time zero is the
//!   earliest arrival in the file. No invocation is dropped or shortened,
//!   and the gaps between arrivals are the trace's.
//! * Arrivals at or after the scenario's `duration` are not replayed; the
//!   run's functions are those with at least one arrival before it, in order
//!   of first appearance in the file, and their apps in the same order.
//!   Function names are the function hashes (with `#2`, `#3`, ... appended if
//!   two apps share a function hash), app names are the app hashes.
//! * A row is malformed if it does not have four fields, if a hash is empty,
//!   or if `end_timestamp` or `duration` is not a finite number >= 0. The
//!   error names file, line and column; with `--skip-bad-rows` the row is
//!   left out and counted in `skipped_rows`.
//! * Sorting: the rows are replayed through a bounded window of arrival
//!   time. A row is held until a row arriving at least `sort_window` later
//!   has been read, so the reader holds only the rows of one window. A row
//!   that arrives before an invocation already replayed (roughly: it
//!   arrives more than `sort_window` before some row above it in the file)
//!   is an error naming its line that says to raise `workload.sort_window`;
//!   with `--skip-bad-rows` it is counted in `skipped_rows` instead. `"0s"`
//!   requires the file to be sorted by arrival. The window is measured
//!   against the latest *arrival* read, not the latest `end_timestamp`: it
//!   tolerates at least as much disorder for the same memory, and it is the
//!   same rule as the generic CSV reader's.
//!
//! # Memory
//!
//! The file is read twice. The first pass checks every row, hashes the file
//! (SHA-256, for the manifest), collects the functions and apps, and finds
//! the earliest arrival. The second pass streams the rows through the
//! window. Memory grows with the number of functions and with the rows of
//! one window, never with the length of the file.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::trace::{Release, SortedStream, TraceInput, fields, parse_f64};
use super::{Context, TraceReader, WorkloadStats};
use crate::dist::{Dist, MemDist};
use crate::engine::Streams;
use crate::error::{Error, Result};
use crate::model::{AppId, AppInfo, FnId, FnInfo, FunctionTable, Invocation};
use crate::time::{MemoryMb, SimDuration, SimTime};

const HEADER: &str = "app,func,end_timestamp,duration";
/// Largest time accepted in the file, in seconds (about 31 years): keeps
/// every time, shifted or not, inside an `i64` of nanoseconds.
const MAX_SECS: f64 = 1e9;

/// `[workload] kind = "azure2021"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The trace file, relative to the scenario file's folder.
    pub path: String,
    /// Distribution of each app's memory size.
    #[serde(default)]
    pub memory: MemDist,
    /// Cap on a drawn memory size. Default 1536 MB: the Azure Functions
    /// Consumption plan's 1.5 GB instance limit.
    #[serde(default = "Config::default_max_memory")]
    pub max_memory_mb: MemoryMb,
    /// Cold-start time of every app.
    #[serde(default = "Dist::huawei_cold_start")]
    pub init: Dist,
    /// How far out of arrival order rows may be. Default 15 min, above the
    /// Consumption plan's 10-minute maximum function timeout.
    #[serde(default = "Config::default_sort_window")]
    pub sort_window: SimDuration,
}

impl Config {
    fn default_max_memory() -> MemoryMb {
        MemoryMb(1536)
    }
    fn default_sort_window() -> SimDuration {
        SimDuration::from_secs(15 * 60)
    }

    /// Checks what serde cannot; Err(key under `workload.`, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        if self.path.is_empty() {
            return Err(("path".into(), "expected the path of the trace file".into()));
        }
        self.memory
            .validate()
            .map_err(|m| ("memory".to_string(), m))?;
        if self.max_memory_mb.0 == 0 {
            return Err(("max_memory_mb".into(), "must be greater than zero".into()));
        }
        self.init
            .validate(true)
            .map_err(|m| ("init".to_string(), m))?;
        Ok(())
    }
}

/// One parsed row: the byte length of its `app,func` prefix and of its app
/// hash, its arrival in nanoseconds from the trace start (negative if it
/// started before the trace), its execution time, and the column of its
/// `end_timestamp`.
struct Row {
    key_len: usize,
    app_len: usize,
    arrival_ns: i64,
    exec: SimDuration,
    end_col: usize,
}

/// Parses a data row. Err(column, message) if it is malformed.
fn parse_row(line: &str) -> std::result::Result<Row, (usize, String)> {
    let mut f = fields(line);
    let end_of_line = line.chars().count() + 1;
    let mut get = |what: &str| {
        f.next().ok_or_else(|| {
            (
                end_of_line,
                format!("expected 4 fields (app,func,end_timestamp,duration), {what} is missing"),
            )
        })
    };
    let (app_col, app) = get("app")?;
    let (func_col, func) = get("func")?;
    let (end_col, end) = get("end_timestamp")?;
    let (dur_col, dur) = get("duration")?;
    if let Some((col, _)) = f.next() {
        return Err((
            col,
            "expected 4 fields (app,func,end_timestamp,duration), found more".into(),
        ));
    }
    if app.is_empty() {
        return Err((
            app_col,
            "expected the app's hash, found an empty field".into(),
        ));
    }
    if func.is_empty() {
        return Err((
            func_col,
            "expected the function's hash, found an empty field".into(),
        ));
    }
    let secs = |col: usize, s: &str, what: &str| {
        parse_f64(s)
            .filter(|&x| (0.0..=MAX_SECS).contains(&x))
            .map(|x| SimDuration::from_secs_f64(x).as_nanos() as i64)
            .ok_or_else(|| {
                (
                    col,
                    format!("expected {what} in seconds, a number >= 0, found \"{s}\""),
                )
            })
    };
    let end_ns = secs(end_col, end, "end_timestamp")?;
    let dur_ns = secs(dur_col, dur, "duration")?;
    Ok(Row {
        key_len: app.len() + 1 + func.len(),
        app_len: app.len(),
        arrival_ns: end_ns - dur_ns,
        exec: SimDuration::from_nanos(dur_ns as u64),
        end_col,
    })
}

/// Reads the header line; Err if it is not the trace's.
fn read_header(input: &mut TraceInput, line: &mut String) -> Result<()> {
    if !input.next_line(line)? || line.trim().trim_start_matches('\u{feff}') != HEADER {
        return Err(input.error(1, format!("expected the header {HEADER}")));
    }
    Ok(())
}

/// A function during the first pass.
struct Scanned {
    /// Its `app,func` key.
    key: String,
    app_len: usize,
    /// Earliest arrival in the file (ns from the trace start).
    first_arrival_ns: i64,
}

/// The state of a [`Reader`].
struct State {
    input: TraceInput,
    line: String,
    /// Function index by `app,func` key; functions of the run only.
    index: HashMap<String, u32>,
    /// Added to every time so that none is negative.
    shift_ns: i64,
    /// Rows in, invocations out in arrival order.
    stream: SortedStream,
    skip_bad_rows: bool,
    stats: WorkloadStats,
    error: Option<Error>,
}

/// Opens the trace: the first pass, the function table, and the reader for
/// the second pass.
pub fn open(
    cfg: &Config,
    run: &super::RunBounds,
    ctx: &Context,
    streams: &Streams,
) -> Result<(FunctionTable, Reader)> {
    let mut stats = WorkloadStats::default();
    let mut input = TraceInput::open(ctx, &cfg.path, "workload.path")?;
    let mut line = String::new();
    read_header(&mut input, &mut line)?;

    // First pass: check rows, collect functions, find the earliest arrival.
    let mut by_key: HashMap<String, u32> = HashMap::new();
    let mut scanned: Vec<Scanned> = Vec::new();
    let mut earliest_ns: i64 = 0;
    while input.next_line(&mut line)? {
        if line.is_empty() {
            continue;
        }
        let row = match parse_row(&line) {
            Ok(r) => r,
            Err((col, msg)) => {
                input.skip_or_fail(ctx.skip_bad_rows, &mut stats, col, msg)?;
                continue;
            }
        };
        let key = &line[..row.key_len];
        match by_key.get(key) {
            Some(&i) => {
                let f = &mut scanned[i as usize];
                f.first_arrival_ns = f.first_arrival_ns.min(row.arrival_ns);
            }
            None => {
                by_key.insert(key.to_string(), scanned.len() as u32);
                scanned.push(Scanned {
                    key: key.to_string(),
                    app_len: row.app_len,
                    first_arrival_ns: row.arrival_ns,
                });
            }
        }
        earliest_ns = earliest_ns.min(row.arrival_ns);
    }
    stats.files.push(input.finish()?);
    drop(by_key);

    // Time zero: the trace start, or the earliest arrival if before it.
    let shift_ns = -earliest_ns;
    let horizon = SimTime(run.duration.as_nanos());
    let max_mb = cfg.max_memory_mb.0;

    // The table: functions with an arrival before the horizon, apps in order
    // of first appearance among them.
    let mut table = FunctionTable::default();
    let mut app_index: HashMap<&str, u32> = HashMap::new();
    let mut names: HashMap<&str, u32> = HashMap::new();
    let mut index = HashMap::new();
    for f in &scanned {
        if ((f.first_arrival_ns + shift_ns) as u64) >= horizon.0 {
            continue;
        }
        let app_name = &f.key[..f.app_len];
        let func_name = &f.key[f.app_len + 1..];
        let app = match app_index.get(app_name) {
            Some(&a) => a,
            None => {
                let a = table.apps.len() as u32;
                let mut rng = streams.named("memory", app_name);
                table.apps.push(AppInfo {
                    min_instances: 0,
                    name: app_name.to_string(),
                    memory_mb: cfg.memory.sample(&mut rng).min(max_mb),
                    init: cfg.init.clone(),
                    state_mb: 0,
                    snapshot_mb: None,
                    concurrency: 1,
                });
                app_index.insert(app_name, a);
                a
            }
        };
        let seen = names.entry(func_name).or_insert(0);
        *seen += 1;
        let name = if *seen == 1 {
            func_name.to_string()
        } else {
            format!("{func_name}#{seen}")
        };
        index.insert(f.key.clone(), table.functions.len() as u32);
        table.functions.push(FnInfo {
            name,
            app: AppId(app),
            max_concurrency: None,
        });
    }
    drop((app_index, names));

    let mut input = TraceInput::open(ctx, &cfg.path, "workload.path")?;
    read_header(&mut input, &mut line)?;
    let reader = State {
        input,
        line,
        index,
        shift_ns,
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
        if !self.input.next_line(&mut self.line)? {
            self.stream.end_of_input();
            return Ok(());
        }
        if self.line.is_empty() {
            return Ok(());
        }
        // Malformed rows were counted (or reported) by the first pass.
        let Ok(row) = parse_row(&self.line) else {
            return Ok(());
        };
        // A function whose every arrival is at or past the horizon is not in
        // the run; its rows go through the window all the same (they are
        // never released inside the run), so that the window and its errors
        // do not depend on the horizon.
        let f = self
            .index
            .get(&self.line[..row.key_len])
            .copied()
            .map_or(FnId(u32::MAX), FnId);
        let arrival = SimTime((row.arrival_ns + self.shift_ns) as u64);
        match self.stream.push(arrival, f, row.exec) {
            Ok(()) => Ok(()),
            Err(released) => {
                if self.skip_bad_rows {
                    self.stats.skipped_rows += 1;
                    return Ok(());
                }
                Err(self.input.error(
                    row.end_col,
                    format!(
                        "this invocation arrives at {arrival}, before one at {released} that was \
                         already replayed: the file is more out of order than workload.sort_window \
                         ({}) allows; raise workload.sort_window",
                        self.stream.window()
                    ),
                ))
            }
        }
    }

    /// The next invocation in arrival order.
    fn next_inv(&mut self) -> Option<Invocation> {
        loop {
            match self.stream.release() {
                Release::Ready(t, function, exec) => {
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

/// The Azure 2021 reader: a pull iterator of invocations in arrival order.
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
    fn rows_parse_with_columns() {
        let r = parse_row("a1,f1,10.5,0.5").unwrap();
        assert_eq!((r.key_len, r.app_len, r.arrival_ns), (5, 2, 10_000_000_000));
        assert_eq!((r.exec, r.end_col), (SimDuration::from_millis(500), 7));
        // A duration longer than the end timestamp: a negative arrival.
        let r = parse_row("a,f,1,3").unwrap();
        assert_eq!(r.arrival_ns, -2_000_000_000);
        let cases = [
            ("a,f,1", 6, "duration is missing"),
            ("a,f,1,2,3", 9, "found more"),
            (",f,1,2", 1, "app's hash"),
            ("a,,1,2", 3, "function's hash"),
            ("a,f,x,2", 5, "end_timestamp"),
            ("a,f,1,-2", 7, "duration"),
            ("a,f,1,inf", 7, "duration"),
        ];
        for (line, col, what) in cases {
            let (c, msg) = parse_row(line).err().unwrap();
            assert_eq!(c, col, "{line}: {msg}");
            assert!(msg.contains(what), "{line}: {msg}");
        }
    }
}
