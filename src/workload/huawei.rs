//! Replay of the Huawei Cloud public data release 2025 (Joosen et al.,
//! "Serverless Cold Starts and Where to Find Them", EuroSys 2025;
//! github.com/sir-lab/data-release, `README_data_release_2025.md`): per-minute
//! request counts in wide CSV files.
//!
//! The format: a header `day,time,<function id>,<function id>,...`, then one
//! row per minute with the number of requests of each function in that
//! minute. A function id is `funcName---userID---poolName`, and the pool name
//! carries the pod size: `pool23-400-256` is a pool of pods with a CPU limit
//! of 400 millicores and a memory limit of 256 MB, so the id
//! `137---631---pool23-400-256` is function 137 of user 631 in 256 MB pods.
//! What the release says of its layout, and how this reader follows it:
//!
//! * Time. The release normalises its timestamps "to start at 0 on day 0"
//!   (its request-table schema), and its tables carry `day` next to a `time`
//!   that counts seconds from the start of day 0, not of the day: the
//!   cold-start table shows day 30 at time 2 678 350.991 s. The per-minute
//!   files of the 2023 release from the same lab have the same `day,time`
//!   columns with time running 0..2 246 340 s over 26 days. So a row's
//!   minute starts `time` seconds after midnight of day 0. A `time` below
//!   86 400 s on a later day is read as seconds within that day instead (the
//!   two readings never overlap), and either way the minute must lie inside
//!   its `day` and start on a whole minute (a multiple of 60 s).
//! * Timeline. Time zero of the run is midnight of the first day in the data
//!   (the smallest `day` of the first rows of the files): a row's minute is
//!   `[t, t + 60 s)` with `t = (day - first day) x 86 400 s + seconds into
//!   the day`. Starting at midnight, not at the first row, keeps the time of
//!   day, which the diurnal load of the trace depends on. Minutes with no row
//!   have no requests.
//! * Files. The lab splits its per-minute releases into one file per day
//!   (the 2023 release: `requests_minute/day_00.csv` ... `day_25.csv`) and the
//!   2025 time series into one archive per region. `files` lists any number
//!   of them; since every row carries its own (day, time), they are merged on
//!   the common timeline: day files play one after another, files that
//!   overlap in time (other regions, other columns) play together. Columns are
//!   matched by function id across files: the same id is the same function,
//!   and its counts in the same minute from several files add up. Functions
//!   are numbered in order of first appearance (file order, then column
//!   order).
//! * Cells. A count is a non-negative whole number; `3.0` is accepted (pandas
//!   writes integer columns with gaps as floats), an empty cell or `NaN` is
//!   0 (pandas writes a function absent in a minute as an empty cell).
//! * Order. Inside a file, rows must be in increasing time order, one row per
//!   minute at most; a row at or before the previous one is an error.
//!
//! How the counts become invocations:
//!
//! * Each minute's count is spread inside its minute ([`Spread`]), drawing
//!   from the stream `("spread", function id)`.
//! * Execution times are drawn from `exec`, one distribution for every
//!   function, from the stream `("exec", function id)`. There is no default:
//!   the request files hold no execution times (the release publishes them
//!   as per-minute quantiles of `totalCost` in separate files), and a made-up
//!   default would silently set the busy time, and so the concurrency and
//!   memory held, of every result.
//! * Each function is its own app, named by its id, with the pool's memory as
//!   its `memory_mb` and `init` (default: the Huawei cold-start fit of the
//!   same release, [`Dist::huawei_cold_start`]) as its cold-start time. The
//!   pool's CPU limit is parsed and checked (a whole number of millicores
//!   above 0) and offered by [`Reader::cpu_millicores`], but the platform does
//!   not model CPU yet. (The release notes that a pod's initial CPU request
//!   is lower than this limit.)
//! * `sample` picks functions: all of them; the `top` N by requests in the
//!   replayed span (which takes a first pass over the files); or a list of
//!   `ids`.
//! * Arrivals stop at the scenario's duration.
//!
//! Bad input: a malformed row (wrong number of columns, a count that is
//! negative, fractional or not a number, a bad day or time, a row out of time
//! order) is an error naming file, line and column, or, under
//! `--skip-bad-rows`, a skipped row counted in the summary and the manifest.
//! A bad header (not `day,time`, a function id that does not parse, an id
//! twice) is always an error: it would misread every row after it. A file
//! that cannot be read names its path and its key (`workload.files[i]`).
//!
//! Memory: one row per file is buffered (its non-zero counts) and arrivals
//! are generated one minute at a time into a buffer of packed
//! `(time << FN_BITS) | function` keys that is sorted and drained, as in
//! [`super::azure2019`]. Nothing grows with the length of the trace or the
//! number of invocations. Each file's SHA-256 is taken when the replay ends
//! (reading the rest of the file if the duration stopped it early) and
//! reported in the manifest.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::trace::{Spread, TraceInput, fields, parse_count, parse_f64};
use super::{Context, TraceReader, WorkloadStats};
use crate::dist::{Dist, Sampler};
use crate::engine::{RngStream, Streams};
use crate::error::{Error, Result};
use crate::model::{AppId, AppInfo, FnId, FnInfo, FunctionTable, Invocation};
use crate::time::SimTime;

const SECONDS_PER_DAY: u64 = 86_400;
const MINUTES_PER_DAY: u64 = 1440;
const MINUTE_NS: u64 = 60_000_000_000;
/// Bits of the function index in a packed (time, function) sort key.
const FN_BITS: u32 = 27;
/// Days past this are taken for a typo (and keep nanosecond times in u64).
const MAX_DAY: u64 = 100_000;
/// A column whose function is not replayed.
const NOT_REPLAYED: u32 = u32::MAX;

/// Which functions of the trace to replay.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Sample {
    /// Every function column of every file.
    #[default]
    All,
    /// The `n` functions with the most requests in the replayed span (ties:
    /// the first to appear).
    Top { n: u32 },
    /// The functions with these ids.
    Ids { ids: Vec<String> },
}

/// `[workload] kind = "huawei"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Per-minute request files, relative to the scenario file; merged on one
    /// timeline.
    pub files: Vec<String>,
    #[serde(default)]
    pub sample: Sample,
    #[serde(default)]
    pub spread: Spread,
    /// Execution time of every invocation (required: the files have none).
    pub exec: Dist,
    /// Cold-start time of every app.
    #[serde(default = "Dist::huawei_cold_start")]
    pub init: Dist,
}

impl Config {
    /// Checks what serde cannot; Err(key under `workload.`, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        if self.files.is_empty() {
            return Err((
                "files".into(),
                "expected at least one per-minute requests file".into(),
            ));
        }
        for (i, f) in self.files.iter().enumerate() {
            if f.trim().is_empty() {
                return Err((format!("files[{i}]"), "expected a file path".into()));
            }
            if let Some(j) = self.files[..i].iter().position(|g| g == f) {
                return Err((
                    format!("files[{i}]"),
                    format!("repeats files[{j}]; its requests would count twice"),
                ));
            }
        }
        match &self.sample {
            Sample::All => {}
            Sample::Top { n: 0 } => {
                return Err(("sample.n".into(), "expected at least 1".into()));
            }
            Sample::Top { .. } => {}
            Sample::Ids { ids } => {
                if ids.is_empty() {
                    return Err(("sample.ids".into(), "expected at least one id".into()));
                }
                for (i, id) in ids.iter().enumerate() {
                    parse_function_id(id).map_err(|m| (format!("sample.ids[{i}]"), m))?;
                    if let Some(j) = ids[..i].iter().position(|x| x == id) {
                        return Err((format!("sample.ids[{i}]"), format!("repeats ids[{j}]")));
                    }
                }
            }
        }
        self.exec
            .validate(false)
            .map_err(|m| ("exec".to_string(), m))?;
        self.init
            .validate(true)
            .map_err(|m| ("init".to_string(), m))?;
        Ok(())
    }
}

/// The pod size a function id names through its pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSize {
    /// CPU limit of the pool's pods.
    pub cpu_millicores: u64,
    pub memory_mb: u64,
}

/// Parses a function id `funcName---userID---poolName-cpuMillicores-memoryMB`
/// (for example `137---631---pool23-400-256`) into its pool's pod size.
pub fn parse_function_id(id: &str) -> std::result::Result<PoolSize, String> {
    let expected = || {
        format!(
            "expected a function id funcName---userID---poolName-cpuMillicores-memoryMB \
             (such as 137---631---pool23-400-256), found \"{id}\""
        )
    };
    let parts: Vec<&str> = id.split("---").collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(expected());
    }
    let mut pool = parts[2].rsplitn(3, '-');
    let (Some(mem), Some(cpu), Some(name)) = (pool.next(), pool.next(), pool.next()) else {
        return Err(expected());
    };
    if name.is_empty() {
        return Err(expected());
    }
    let cpu_millicores = parse_count(cpu).filter(|&c| c > 0).ok_or_else(|| {
        format!(
            "{}: the CPU limit \"{cpu}\" is not a whole number of millicores above 0",
            expected()
        )
    })?;
    let memory_mb = parse_count(mem).filter(|&m| m > 0).ok_or_else(|| {
        format!(
            "{}: the memory limit \"{mem}\" is not a whole number of MB above 0",
            expected()
        )
    })?;
    Ok(PoolSize {
        cpu_millicores,
        memory_mb,
    })
}

/// A non-negative whole number, written as an integer or as a float without
/// a fraction (`3`, `3.0`).
fn parse_whole(s: &str) -> Option<u64> {
    if let Some(v) = parse_count(s) {
        return Some(v);
    }
    let v = parse_f64(s)?;
    (v >= 0.0 && v.fract() == 0.0 && v < 1e19).then_some(v as u64)
}

/// A count cell: empty or `NaN` is 0.
fn parse_cell(s: &str) -> Option<u32> {
    if s.is_empty() {
        return Some(0);
    }
    if let Some(v) = parse_count(s) {
        return u32::try_from(v).ok();
    }
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("nan") {
        return Some(0);
    }
    parse_whole(t).and_then(|v| u32::try_from(v).ok())
}

/// One requests file during the replay: its columns and one buffered row.
struct Source {
    input: Option<TraceInput>,
    /// Per count column: the index it adds to (function or candidate), or
    /// [`NOT_REPLAYED`].
    cols: Vec<u32>,
    line: String,
    /// Absolute minute (since midnight of day 0) and line of the last row.
    last: Option<(u64, u64)>,
    /// The buffered row: its absolute minute, its day and its non-zero
    /// counts (index, count). `minute` is None at the end of the file.
    minute: Option<u64>,
    day: u64,
    counts: Vec<(u32, u32)>,
}

impl Source {
    /// Buffers the next well-formed row (skipping bad ones if allowed).
    fn advance(&mut self, skip_bad_rows: bool, skipped: &mut u64) -> Result<()> {
        self.minute = None;
        let Some(input) = self.input.as_mut() else {
            return Ok(());
        };
        while input.next_line(&mut self.line)? {
            if self.line.trim().is_empty() {
                continue;
            }
            match parse_row(&self.line, &self.cols, self.last, &mut self.counts) {
                Ok((day, minute)) => {
                    self.last = Some((minute, input.line_no));
                    self.minute = Some(minute);
                    self.day = day;
                    return Ok(());
                }
                Err((col, msg)) => {
                    if skip_bad_rows {
                        *skipped += 1;
                    } else {
                        return Err(input.error(col, msg));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parses a data row into `counts`; Ok(day, absolute minute), or Err(column,
/// message).
fn parse_row(
    line: &str,
    cols: &[u32],
    last: Option<(u64, u64)>,
    counts: &mut Vec<(u32, u32)>,
) -> std::result::Result<(u64, u64), (usize, String)> {
    counts.clear();
    let ncols = cols.len() + 2;
    let end_col = || line.chars().count() + 1;
    let mut f = fields(line);
    let (dc, ds) = f.next().unwrap_or((1, ""));
    let day = parse_whole(ds).filter(|&d| d < MAX_DAY).ok_or_else(|| {
        (
            dc,
            format!("expected a day number (0, 1, ...), found \"{ds}\""),
        )
    })?;
    let Some((tc, ts)) = f.next() else {
        return Err((
            end_col(),
            format!("expected {ncols} columns as in the header, found 1"),
        ));
    };
    let secs = parse_whole(ts).ok_or_else(|| {
        (
            tc,
            format!("expected a time in whole seconds, found \"{ts}\""),
        )
    })?;
    if secs % 60 != 0 {
        return Err((
            tc,
            format!("expected the start of a minute (a multiple of 60 s), found {secs}"),
        ));
    }
    let day_start = day * SECONDS_PER_DAY;
    let abs = if secs < SECONDS_PER_DAY {
        // Seconds into the day (on day 0 both readings agree).
        day_start + secs
    } else if secs / SECONDS_PER_DAY == day {
        // Seconds since midnight of day 0, as the release writes them.
        secs
    } else {
        return Err((
            tc,
            format!(
                "time {secs} s lies on day {}, not on day {day} (expected seconds since the \
                 start of day 0, {day_start}..{} on this day, or seconds into the day)",
                secs / SECONDS_PER_DAY,
                day_start + SECONDS_PER_DAY - 60
            ),
        ));
    };
    let minute = abs / 60;
    if let Some((prev, prev_line)) = last
        && minute <= prev
    {
        return Err((
            tc,
            format!(
                "rows must be in increasing time order: this row (day {day}, time {secs} s) \
                     is not after the row on line {prev_line}"
            ),
        ));
    }
    let mut n = 0usize;
    for (c, s) in f {
        let Some(&target) = cols.get(n) else {
            return Err((
                c,
                format!("expected {ncols} columns as in the header, found more"),
            ));
        };
        let v = parse_cell(s).ok_or_else(|| {
            (
                c,
                format!(
                    "expected a non-negative whole number of requests (or an empty cell), \
                     found \"{s}\""
                ),
            )
        })?;
        if v > 0 && target != NOT_REPLAYED {
            counts.push((target, v));
        }
        n += 1;
    }
    if n != cols.len() {
        return Err((
            end_col(),
            format!("expected {ncols} columns as in the header, found {}", n + 2),
        ));
    }
    Ok((day, minute))
}

/// Reads a header: the function ids of its columns and their pod sizes.
fn read_header(input: &mut TraceInput) -> Result<Vec<(String, PoolSize)>> {
    const EXPECTED: &str = "expected the header day,time,<function id>,...";
    let mut buf = String::new();
    if !input.next_line(&mut buf)? {
        return Err(Error::input(
            format!("{}:1:1", input.shown),
            format!("the file is empty; {EXPECTED}"),
        ));
    }
    let line = buf.strip_prefix('\u{feff}').unwrap_or(&buf);
    let mut f = fields(line);
    for want in ["day", "time"] {
        match f.next() {
            Some((_, s)) if s.trim() == want => {}
            Some((c, s)) => {
                return Err(input.error(c, format!("{EXPECTED}; found \"{s}\" for {want}")));
            }
            None => {
                return Err(input.error(
                    line.chars().count() + 1,
                    format!("{EXPECTED}; the column {want} is missing"),
                ));
            }
        }
    }
    let mut out: Vec<(String, PoolSize)> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (c, s) in f {
        let id = s.trim();
        let pool = parse_function_id(id).map_err(|m| input.error(c, m))?;
        if let Some(prev) = seen.insert(id, c) {
            return Err(input.error(
                c,
                format!("function {id} appears twice in the header (also at column {prev})"),
            ));
        }
        out.push((id.to_string(), pool));
    }
    if out.is_empty() {
        return Err(input.error(
            line.chars().count() + 1,
            format!("{EXPECTED}; there is no function column"),
        ));
    }
    Ok(out)
}

/// A function found in the headers.
struct Candidate {
    id: String,
    pool: PoolSize,
}

/// Opens every file and reads its header. Columns map to candidate indices
/// (functions in order of first appearance across the files).
fn open_sources(
    cfg: &Config,
    ctx: &Context,
    candidates: &mut Vec<Candidate>,
) -> Result<Vec<Source>> {
    let mut by_id: HashMap<String, u32> = HashMap::new();
    let mut sources = Vec::with_capacity(cfg.files.len());
    for (i, path) in cfg.files.iter().enumerate() {
        let mut input = TraceInput::open(ctx, path, &format!("workload.files[{i}]"))?;
        let header = read_header(&mut input)?;
        let mut cols = Vec::with_capacity(header.len());
        for (id, pool) in header {
            let idx = match by_id.get(&id) {
                Some(&k) => {
                    let c = &candidates[k as usize];
                    if c.pool != pool {
                        // Cannot happen: the pool is part of the id.
                        return Err(Error::input(
                            format!("workload.files[{i}]"),
                            format!("function {id} has two pod sizes"),
                        ));
                    }
                    k
                }
                None => {
                    let k = candidates.len() as u32;
                    by_id.insert(id.clone(), k);
                    candidates.push(Candidate { id, pool });
                    k
                }
            };
            cols.push(idx);
        }
        sources.push(Source {
            input: Some(input),
            cols,
            line: String::new(),
            last: None,
            minute: None,
            day: 0,
            counts: Vec::new(),
        });
    }
    Ok(sources)
}

/// Buffers the first row of every source; returns the first minute of the
/// timeline (midnight of the first day in the data) as an absolute minute.
fn first_rows(sources: &mut [Source], skip_bad_rows: bool, skipped: &mut u64) -> Result<u64> {
    for s in sources.iter_mut() {
        s.advance(skip_bad_rows, skipped)?;
    }
    let first_day = sources
        .iter()
        .filter(|s| s.minute.is_some())
        .map(|s| s.day)
        .min()
        .unwrap_or(0);
    Ok(first_day * MINUTES_PER_DAY)
}

/// First pass for `sample = top`: requests per candidate in the replayed
/// span.
fn totals(cfg: &Config, ctx: &Context, horizon: SimTime, n: usize) -> Result<Vec<u64>> {
    let mut candidates = Vec::new();
    let mut sources = open_sources(cfg, ctx, &mut candidates)?;
    let mut skipped = 0; // counted again by the replay
    let base = first_rows(&mut sources, ctx.skip_bad_rows, &mut skipped)?;
    let mut totals = vec![0u64; n.max(candidates.len())];
    for s in &mut sources {
        while let Some(m) = s.minute {
            if (m - base) * MINUTE_NS >= horizon.0 {
                break;
            }
            for &(k, c) in &s.counts {
                totals[k as usize] += c as u64;
            }
            s.advance(ctx.skip_bad_rows, &mut skipped)?;
        }
    }
    Ok(totals)
}

/// Opens the files: headers, sample, function table and first rows.
pub fn open(
    cfg: &Config,
    run: &super::RunBounds,
    ctx: &Context,
    streams: &Streams,
) -> Result<(FunctionTable, Reader)> {
    let horizon = SimTime(run.duration.as_nanos());
    let exec = cfg
        .exec
        .sampler()
        .map_err(|m| Error::input("workload.exec", m))?;
    let mut candidates = Vec::new();
    let mut sources = open_sources(cfg, ctx, &mut candidates)?;

    let chosen: Vec<usize> = match &cfg.sample {
        Sample::All => (0..candidates.len()).collect(),
        Sample::Top { n } => {
            let totals = totals(cfg, ctx, horizon, candidates.len())?;
            let mut by_pop: Vec<usize> = (0..candidates.len()).collect();
            by_pop.sort_by(|&a, &b| totals[b].cmp(&totals[a]).then(a.cmp(&b)));
            by_pop.truncate(*n as usize);
            by_pop.sort_unstable();
            by_pop
        }
        Sample::Ids { ids } => {
            let by_id: HashMap<&str, usize> = candidates
                .iter()
                .enumerate()
                .map(|(k, c)| (c.id.as_str(), k))
                .collect();
            let mut picked = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                let Some(&k) = by_id.get(id.as_str()) else {
                    return Err(Error::input(
                        format!("workload.sample.ids[{i}]"),
                        format!("no file in workload.files has a column {id}"),
                    ));
                };
                picked.push(k);
            }
            picked.sort_unstable();
            picked
        }
    };
    if chosen.len() >= 1 << FN_BITS {
        return Err(Error::input(
            "workload.files",
            format!(
                "{} functions; at most {} are supported (use workload.sample)",
                chosen.len(),
                (1u32 << FN_BITS) - 1
            ),
        ));
    }

    // The table: each function its own app, named by its id.
    let mut fn_of = vec![NOT_REPLAYED; candidates.len()];
    let mut table = FunctionTable::default();
    let mut exec_rngs = Vec::with_capacity(chosen.len());
    let mut spreads = Vec::with_capacity(chosen.len());
    let mut cpu = Vec::with_capacity(chosen.len());
    for &k in &chosen {
        let c = &candidates[k];
        let f = table.functions.len() as u32;
        fn_of[k] = f;
        table.functions.push(FnInfo {
            name: c.id.clone(),
            app: AppId(f),
            max_concurrency: None,
        });
        table.apps.push(AppInfo {
            min_instances: 0,
            name: c.id.clone(),
            memory_mb: c.pool.memory_mb,
            init: cfg.init.clone(),
            state_mb: 0,
            snapshot_mb: None,
            concurrency: 1,
        });
        cpu.push(c.pool.cpu_millicores);
        exec_rngs.push(streams.named("exec", &c.id));
        spreads.push(streams.named("spread", &c.id));
    }
    for src in &mut sources {
        for col in &mut src.cols {
            *col = fn_of[*col as usize];
        }
    }
    let mut stats = WorkloadStats::default();
    let base_minute = first_rows(&mut sources, ctx.skip_bad_rows, &mut stats.skipped_rows)?;
    let reader = Reader {
        st: Box::new(State {
            sources,
            skip_bad_rows: ctx.skip_bad_rows,
            spread: cfg.spread,
            exec,
            exec_rngs,
            spreads,
            cpu,
            base_minute,
            pending: Vec::new(),
            batch: Vec::new(),
            batch_pos: 0,
            batch_base_ns: 0,
            times: Vec::new(),
            horizon,
            next_id: 0,
            stats,
            error: None,
            done: false,
        }),
    };
    Ok((table, reader))
}

/// The Huawei 2025 reader (its state boxed, so that the arrival enum stays
/// small).
pub struct Reader {
    st: Box<State>,
}

struct State {
    sources: Vec<Source>,
    skip_bad_rows: bool,
    spread: Spread,
    exec: Sampler,
    /// Per function: its execution-time stream and its spreading stream.
    exec_rngs: Vec<RngStream>,
    spreads: Vec<RngStream>,
    /// Per function: the pool's CPU limit (millicores).
    cpu: Vec<u64>,
    /// Absolute minute of time zero: midnight of the first day in the data.
    base_minute: u64,
    /// The current minute's (function, count) pairs from every file.
    pending: Vec<(u32, u32)>,
    /// Sorted (time in the minute << FN_BITS | function) keys of the minute.
    batch: Vec<u64>,
    batch_pos: usize,
    batch_base_ns: u64,
    times: Vec<u64>,
    horizon: SimTime,
    next_id: u64,
    stats: WorkloadStats,
    error: Option<Error>,
    done: bool,
}

impl Reader {
    /// The CPU limit (millicores) of each function's pool, in function-table
    /// order. Parsed from the ids, not used by the platform yet.
    pub fn cpu_millicores(&self) -> &[u64] {
        &self.st.cpu
    }
}

impl State {
    /// Fills the batch with the next minute that has arrivals. False at the
    /// end of the files or at the horizon.
    fn fill(&mut self) -> Result<bool> {
        loop {
            let Some(m) = self.sources.iter().filter_map(|s| s.minute).min() else {
                return Ok(false);
            };
            let start_ns = (m - self.base_minute) * MINUTE_NS;
            if start_ns >= self.horizon.0 {
                return Ok(false);
            }
            // The minute's counts from every file, summed per function.
            self.pending.clear();
            for s in &mut self.sources {
                if s.minute == Some(m) {
                    self.pending.extend_from_slice(&s.counts);
                    s.advance(self.skip_bad_rows, &mut self.stats.skipped_rows)?;
                }
            }
            self.pending.sort_unstable_by_key(|&(f, _)| f);
            self.batch.clear();
            self.batch_pos = 0;
            self.batch_base_ns = start_ns;
            let mut i = 0;
            while i < self.pending.len() {
                let f = self.pending[i].0;
                let mut count = 0u64;
                while i < self.pending.len() && self.pending[i].0 == f {
                    count += self.pending[i].1 as u64;
                    i += 1;
                }
                self.times.clear();
                self.spread.times(
                    count,
                    0,
                    MINUTE_NS,
                    &mut self.spreads[f as usize],
                    &mut self.times,
                );
                self.batch
                    .extend(self.times.iter().map(|&t| (t << FN_BITS) | f as u64));
            }
            if !self.batch.is_empty() {
                self.batch.sort_unstable();
                return Ok(true);
            }
        }
    }

    /// Ends the replay: hashes the rest of every file for the manifest.
    fn end(&mut self) {
        self.done = true;
        self.batch_pos = self.batch.len();
        for s in &mut self.sources {
            if let Some(input) = s.input.take() {
                match input.finish() {
                    Ok(f) => self.stats.files.push(f),
                    Err(e) => {
                        self.error.get_or_insert(e);
                    }
                }
            }
        }
    }
}

impl Iterator for Reader {
    type Item = Invocation;

    #[inline]
    fn next(&mut self) -> Option<Invocation> {
        let st = &mut *self.st;
        if st.batch_pos >= st.batch.len() {
            if st.done {
                return None;
            }
            match st.fill() {
                Ok(true) => {}
                Ok(false) => {
                    st.end();
                    return None;
                }
                Err(e) => {
                    st.error = Some(e);
                    st.done = true;
                    return None;
                }
            }
        }
        let k = st.batch[st.batch_pos];
        st.batch_pos += 1;
        let f = (k & ((1 << FN_BITS) - 1)) as u32;
        let t = st.batch_base_ns + (k >> FN_BITS);
        if t >= st.horizon.0 {
            st.end();
            return None;
        }
        let exec = st.exec.sample(&mut st.exec_rngs[f as usize]);
        let id = st.next_id;
        st.next_id += 1;
        Some(Invocation {
            id,
            function: FnId(f),
            arrival: SimTime(t),
            exec,
            attempt: 0,
        })
    }
}

impl TraceReader for Reader {
    fn stats(&self) -> WorkloadStats {
        self.st.stats.clone()
    }
    fn take_error(&mut self) -> Option<Error> {
        self.st.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_ids_parse() {
        assert_eq!(
            parse_function_id("137---631---pool23-400-256"),
            Ok(PoolSize {
                cpu_millicores: 400,
                memory_mb: 256
            })
        );
        assert_eq!(
            parse_function_id("a---b---pool-x-6600-8192").map(|p| p.memory_mb),
            Ok(8192)
        );
        for bad in [
            "",
            "137",
            "137---631",
            "137---631---pool23",
            "137---631---pool23-400",
            "137---631---pool23-400-0",
            "137---631---pool23-0-256",
            "137---631---pool23-400-25x",
            "137---631---pool23--256",
            "137---631----400-256",
            "---631---pool23-400-256",
            "137---631---pool23-400-256---x",
        ] {
            assert!(parse_function_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cells_parse() {
        assert_eq!(parse_cell(""), Some(0));
        assert_eq!(parse_cell("NaN"), Some(0));
        assert_eq!(parse_cell("7"), Some(7));
        assert_eq!(parse_cell("7.0"), Some(7));
        for bad in ["-1", "1.5", "x", "-1.0", "inf", "99999999999"] {
            assert_eq!(parse_cell(bad), None, "{bad}");
        }
    }

    #[test]
    fn both_time_readings_agree() {
        let cols = [0u32];
        let mut counts = Vec::new();
        let a = parse_row("2,172860,1", &cols, None, &mut counts).unwrap();
        let b = parse_row("2,60,1", &cols, None, &mut counts).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, (2, 2 * 1440 + 1));
        assert!(parse_row("2,86400,1", &cols, None, &mut counts).is_err());
        assert!(parse_row("0,30,1", &cols, None, &mut counts).is_err());
        assert!(parse_row("0,60,1", &cols, Some((1, 2)), &mut counts).is_err());
    }
}
