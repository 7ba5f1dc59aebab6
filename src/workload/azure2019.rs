//! Replay of the Azure Functions 2019 trace (Shahrad et al., "Serverless in
//! the Wild", USENIX ATC 2020; Azure Public Dataset, CC-BY 4.0), from the
//! dataset's own three files per day:
//!
//! * `invocations_per_function_md.anon.dNN.csv`: HashOwner, HashApp,
//!   HashFunction, Trigger, then invocation counts for minutes 1..1440;
//! * `function_durations_percentiles.anon.dNN.csv`: per function, average,
//!   count, minimum, maximum and percentiles 0, 1, 25, 50, 75, 99, 100 of
//!   execution time in ms;
//! * `app_memory_percentiles.anon.dNN.csv`: per app, average allocated MB
//!   and its percentiles 1, 5, 25, 50, 75, 95, 99, 100.
//!
//! How the files become invocations:
//!
//! * Days are replayed back to back in the order given; `window` selects a
//!   span of that timeline (from the start of the first day) and shifts it
//!   to time zero.
//! * Each minute's count is spread inside its minute ([`Spread`]).
//! * Execution times are drawn from the function's percentiles by a
//!   piecewise-linear inverse CDF (0.1% of draws between p0 and p1, and so
//!   on), from the first selected day whose durations file has the function.
//! * An app's instances all get one memory size: its `AverageAllocatedMb`
//!   (or a chosen percentile column), rounded up to whole MB, from the first
//!   selected day whose memory file has the app. The app's functions share
//!   it, as they share its instances.
//! * Functions without a durations row, or whose app has no memory row
//!   (memory is published for days 1 to 12 only), are dropped (`missing =
//!   "drop"`, counted in summary.csv and the manifest with the invocations
//!   they would have had), or given `fill_exec` and `fill_memory_mb`
//!   (`missing = "fill"`).
//! * `sample` then picks functions: all; the `top` N by invocations in the
//!   window; or N at random (seeded) from each quartile of popularity (the
//!   sampling FaasCache used, and the one of the shared 400-function sample).
//!
//! Memory: the files are read twice. The first pass keeps, per function, its
//! key and total count (to choose the sample); the second reads one day at a
//! time and keeps that day's counts of the chosen functions in a
//! minute-major table. Arrivals are generated one minute at a time into a
//! buffer that is sorted and drained. So a 14-day replay needs no more memory
//! than its largest day, and none of it grows with the number of
//! invocations.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::trace::{Spread, TraceInput, fields, parse_count, parse_f64};
use super::{Context, TraceReader, WorkloadStats};
use crate::dist::{Dist, Sampler};
use crate::engine::{RngStream, Streams};
use crate::error::{Error, Result};
use crate::model::{AppId, AppInfo, FnId, FnInfo, FunctionTable, Invocation};
use crate::time::{SimDuration, SimTime};

const MINUTES_PER_DAY: usize = 1440;
const MINUTE_NS: u64 = 60_000_000_000;
/// Bits of the function index in a packed (time, function) sort key.
const FN_BITS: u32 = 27;

/// Which functions of the trace to replay.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Sample {
    /// Every function (after the `missing` rule).
    #[default]
    All,
    /// The `n` functions with the most invocations in the window.
    Top { n: u32 },
    /// `per_quartile` functions drawn at random (seeded) from each quartile
    /// of invocations in the window.
    Quartiles { per_quartile: u32 },
}

/// What to do with functions that lack a durations or memory row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Missing {
    /// Leave them out (counted).
    #[default]
    Drop,
    /// Use `fill_exec` and `fill_memory_mb`.
    Fill,
}

/// Which memory figure of an app sizes its instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppMemory {
    /// `AverageAllocatedMb`.
    #[default]
    Average,
    P1,
    P5,
    P25,
    P50,
    P75,
    P95,
    P99,
    P100,
}

impl AppMemory {
    /// Column of the memory file (0-based).
    fn column(self) -> usize {
        match self {
            AppMemory::Average => 3,
            AppMemory::P1 => 4,
            AppMemory::P5 => 5,
            AppMemory::P25 => 6,
            AppMemory::P50 => 7,
            AppMemory::P75 => 8,
            AppMemory::P95 => 9,
            AppMemory::P99 => 10,
            AppMemory::P100 => 11,
        }
    }
}

/// A span of the replayed timeline, from the start of the first day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(default)]
    pub start: SimDuration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<SimDuration>,
}

/// `[workload] kind = "azure2019"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder holding the day files, relative to the scenario file.
    pub dir: String,
    /// Days to replay (1..=14), back to back.
    #[serde(default = "Config::default_days")]
    pub days: Vec<u32>,
    #[serde(default)]
    pub window: Window,
    #[serde(default)]
    pub sample: Sample,
    #[serde(default)]
    pub spread: Spread,
    #[serde(default)]
    pub app_memory: AppMemory,
    #[serde(default)]
    pub missing: Missing,
    /// Execution time of functions without durations, with `missing =
    /// "fill"`. Default 1 s: half of the functions in the trace run for
    /// less than about 1 s on average (Shahrad et al., Figure 7).
    #[serde(default = "Config::default_fill_exec")]
    pub fill_exec: Dist,
    /// Memory of apps without a memory row, with `missing = "fill"`.
    /// Default 170 MB: half of the apps allocate at most about 170 MB
    /// (Shahrad et al., Figure 8).
    #[serde(default = "Config::default_fill_memory")]
    pub fill_memory_mb: u64,
    /// Cold-start time of every app.
    #[serde(default = "Dist::huawei_cold_start")]
    pub init: Dist,
}

impl Config {
    fn default_days() -> Vec<u32> {
        vec![1]
    }
    fn default_fill_exec() -> Dist {
        Dist::Constant {
            value: SimDuration::from_secs(1),
        }
    }
    fn default_fill_memory() -> u64 {
        170
    }

    /// Checks what serde cannot; Err(key under `workload.`, message).
    pub fn validate(&self) -> std::result::Result<(), (String, String)> {
        if self.days.is_empty() {
            return Err(("days".into(), "expected at least one day".into()));
        }
        if let Some(d) = self.days.iter().find(|&&d| !(1..=14).contains(&d)) {
            return Err(("days".into(), format!("day {d} is not in 1..=14")));
        }
        if self.days.windows(2).any(|w| w[0] >= w[1]) {
            return Err(("days".into(), "days must be increasing, each once".into()));
        }
        let span = SimDuration::from_secs(86_400 * self.days.len() as u64);
        if let Some(end) = self.window.end {
            if end <= self.window.start {
                return Err(("window.end".into(), "must be after window.start".into()));
            }
            if end > span {
                return Err((
                    "window.end".into(),
                    format!(
                        "is past the end of the {} selected day(s) ({span})",
                        self.days.len()
                    ),
                ));
            }
        }
        if self.window.start >= span {
            return Err((
                "window.start".into(),
                format!("is past the end of the selected days ({span})"),
            ));
        }
        match self.sample {
            Sample::Top { n: 0 } => return Err(("sample.n".into(), "expected at least 1".into())),
            Sample::Quartiles { per_quartile: 0 } => {
                return Err(("sample.per_quartile".into(), "expected at least 1".into()));
            }
            _ => {}
        }
        self.fill_exec
            .validate(false)
            .map_err(|m| ("fill_exec".to_string(), m))?;
        if self.fill_memory_mb == 0 {
            return Err(("fill_memory_mb".into(), "must be greater than zero".into()));
        }
        self.init
            .validate(true)
            .map_err(|m| ("init".to_string(), m))?;
        Ok(())
    }

    /// `workload.dir = "..."`, naming the key in errors about its files.
    fn dir_key(&self) -> String {
        format!("workload.dir = \"{}\"", self.dir)
    }

    fn file(&self, kind: &str, day: u32) -> String {
        let dir = self.dir.trim_end_matches('/');
        format!("{dir}/{kind}.anon.d{day:02}.csv")
    }

    /// The selected minutes of the timeline, as [first, end).
    fn minutes(&self) -> (usize, usize) {
        let span = self.days.len() * MINUTES_PER_DAY;
        let first = (self.window.start.as_nanos() / MINUTE_NS) as usize;
        let end = self
            .window
            .end
            .map_or(span, |e| e.as_nanos().div_ceil(MINUTE_NS) as usize)
            .min(span);
        (first, end)
    }
}

/// A function of the trace during the first pass.
struct Candidate {
    owner: String,
    app: String,
    func: String,
    total: u64,
}

/// What the durations file says of a function.
struct Durations {
    /// Seconds at the percentile columns.
    v: Vec<f64>,
}

/// The cumulative probabilities of the trace's percentile columns 0, 1, 25,
/// 50, 75, 99 and 100.
const PCT: [f64; 7] = [0.0, 0.01, 0.25, 0.50, 0.75, 0.99, 1.0];

/// A function's execution-time sampler. The trace's seven percentiles are
/// kept inline (no pointer to chase per draw, which matters at 18 million
/// draws); the draw is the same piecewise-linear inverse CDF as
/// [`Sampler::Empirical`].
enum Exec {
    /// Values (ns) at `PCT` and the slope (ns per unit of probability) of
    /// each of the six segments.
    Table { v: [f64; 7], slope: [f64; 6] },
    /// The `fill_exec` distribution.
    Other(Sampler),
}

impl Exec {
    /// From seconds at the percentile columns (non-decreasing).
    fn percentiles(secs: &[f64]) -> Exec {
        let mut v = [0.0; 7];
        for (i, s) in secs.iter().take(7).enumerate() {
            v[i] = s * 1e9;
        }
        let mut slope = [0.0; 6];
        for i in 0..6 {
            slope[i] = (v[i + 1] - v[i]) / (PCT[i + 1] - PCT[i]);
        }
        Exec::Table { v, slope }
    }

    #[inline]
    fn sample(&self, rng: &mut RngStream) -> SimDuration {
        match self {
            Exec::Table { v, slope } => {
                let u = rng.uniform();
                // The segment: how many inner percentile points lie at or
                // below u (branch-free).
                let i = (u >= PCT[1]) as usize
                    + (u >= PCT[2]) as usize
                    + (u >= PCT[3]) as usize
                    + (u >= PCT[4]) as usize
                    + (u >= PCT[5]) as usize;
                let ns = v[i] + slope[i] * (u - PCT[i]);
                SimDuration((ns + 0.5) as u64)
            }
            Exec::Other(s) => s.sample(rng),
        }
    }
}

/// The Azure 2019 reader.
pub struct Reader {
    cfg: Config,
    ctx: Context,
    /// Function index by (owner, app, function) key, chosen functions only.
    index: HashMap<(String, String, String), u32>,
    /// Per function: execution sampler, its stream, the spreading stream.
    execs: Vec<(Exec, RngStream)>,
    spreads: Vec<RngStream>,
    /// Minutes [first, end) of the timeline and the next minute to load.
    first: usize,
    end: usize,
    minute: usize,
    /// The loaded day: index into `cfg.days`, and its counts minute-major.
    day: Option<usize>,
    minute_start: Vec<u32>,
    entries: Vec<(u32, u32)>,
    /// Sorted (time << FN_BITS | function) keys of the current minute.
    batch: Vec<u64>,
    batch_pos: usize,
    batch_base_ns: u64,
    times: Vec<u64>,
    horizon: SimTime,
    offset_ns: u64,
    next_id: u64,
    stats: WorkloadStats,
    error: Option<Error>,
}

fn header_error(input: &TraceInput, expected: &str) -> Error {
    input.error(1, format!("expected the header {expected}"))
}

/// First pass over one day's invocations file: totals in the window of the
/// functions, keyed in `by_key`.
fn scan_invocations(
    cfg: &Config,
    ctx: &Context,
    day_idx: usize,
    candidates: &mut Vec<Candidate>,
    by_key: &mut HashMap<(String, String, String), usize>,
    stats: &mut WorkloadStats,
) -> Result<()> {
    let day = cfg.days[day_idx];
    let path = cfg.file("invocations_per_function_md", day);
    let mut input = TraceInput::open_named(ctx, &path, &cfg.dir_key())?;
    let (first, end) = cfg.minutes();
    let day_first = day_idx * MINUTES_PER_DAY;
    let mut line = String::new();
    if !input.next_line(&mut line)?
        || !line.starts_with("HashOwner,HashApp,HashFunction,Trigger,1,")
    {
        return Err(header_error(
            &input,
            "HashOwner,HashApp,HashFunction,Trigger,1,...,1440",
        ));
    }
    let ncols = line.split(',').count();
    if ncols != 4 + MINUTES_PER_DAY {
        return Err(input.error(
            1,
            format!("expected {} columns, found {ncols}", 4 + MINUTES_PER_DAY),
        ));
    }
    while input.next_line(&mut line)? {
        if line.is_empty() {
            continue;
        }
        match parse_row_with(&line, first, end, day_first, |_, _| {}) {
            Ok(((owner, app, func), total)) => {
                let key = (owner.to_string(), app.to_string(), func.to_string());
                match by_key.get(&key) {
                    Some(&i) => candidates[i].total += total,
                    None => {
                        by_key.insert(key, candidates.len());
                        candidates.push(Candidate {
                            owner: owner.to_string(),
                            app: app.to_string(),
                            func: func.to_string(),
                            total,
                        });
                    }
                }
            }
            Err((col, msg)) => {
                input.skip_or_fail(ctx.skip_bad_rows, stats, col, msg)?;
            }
        }
    }
    stats.files.push(input.finish()?);
    Ok(())
}

/// The key of an invocations row (owner, app, function).
type RowKey<'a> = (&'a str, &'a str, &'a str);

/// Splits an invocations row into its key and its total count inside the
/// timeline minutes [first, end), calling `each(minute of day, count)` for
/// every non-zero count there. Err(column, message) on a malformed row.
fn parse_row_with(
    line: &str,
    first: usize,
    end: usize,
    day_first: usize,
    mut each: impl FnMut(usize, u32),
) -> std::result::Result<(RowKey<'_>, u64), (usize, String)> {
    let cols = 4 + MINUTES_PER_DAY;
    let mut f = fields(line);
    let mut key = [""; 3];
    for k in &mut key {
        match f.next() {
            Some((_, s)) if !s.is_empty() => *k = s,
            Some((col, _)) => return Err((col, "expected a non-empty hash".into())),
            None => return Err((line.len() + 1, format!("expected {cols} columns"))),
        }
    }
    if f.next().is_none() {
        return Err((line.len() + 1, format!("expected {cols} columns")));
    }
    let mut total = 0u64;
    let mut n = 0usize;
    for (col, s) in f {
        if n >= MINUTES_PER_DAY {
            return Err((col, format!("expected {cols} columns, found more")));
        }
        let c = parse_count(s)
            .filter(|&c| c <= u32::MAX as u64)
            .ok_or_else(|| {
                (
                    col,
                    format!("expected a non-negative integer count, found \"{s}\""),
                )
            })?;
        let g = day_first + n;
        if g >= first && g < end && c > 0 {
            total += c;
            each(n, c as u32);
        }
        n += 1;
    }
    if n != MINUTES_PER_DAY {
        return Err((
            line.len() + 1,
            format!("expected {cols} columns, found {}", 4 + n),
        ));
    }
    Ok(((key[0], key[1], key[2]), total))
}

/// Reads a durations file: the percentiles of the known functions.
fn read_durations(
    cfg: &Config,
    ctx: &Context,
    day: u32,
    by_key: &HashMap<(String, String, String), usize>,
    out: &mut HashMap<usize, Durations>,
    stats: &mut WorkloadStats,
) -> Result<()> {
    let path = cfg.file("function_durations_percentiles", day);
    let mut input = TraceInput::open_named(ctx, &path, &cfg.dir_key())?;
    let mut line = String::new();
    const HEADER: &str = "HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,percentile_Average_1,percentile_Average_25,percentile_Average_50,percentile_Average_75,percentile_Average_99,percentile_Average_100";
    if !input.next_line(&mut line)? || line.trim() != HEADER {
        return Err(header_error(&input, HEADER));
    }
    while input.next_line(&mut line)? {
        if line.is_empty() {
            continue;
        }
        let row = (|| -> std::result::Result<Option<(usize, Durations)>, (usize, String)> {
            let cols: Vec<(usize, &str)> = fields(&line).collect();
            if cols.len() != 14 {
                return Err((
                    line.len() + 1,
                    format!("expected 14 columns, found {}", cols.len()),
                ));
            }
            let key = (
                cols[0].1.to_string(),
                cols[1].1.to_string(),
                cols[2].1.to_string(),
            );
            let Some(&idx) = by_key.get(&key) else {
                return Err((
                    cols[2].0,
                    format!("function {} is not in the invocations file", cols[2].1),
                ));
            };
            let mut v = Vec::with_capacity(7);
            for &(col, s) in &cols[7..14] {
                let x = parse_f64(s).filter(|&x| x >= 0.0).ok_or_else(|| {
                    (
                        col,
                        format!("expected a duration in ms >= 0, found \"{s}\""),
                    )
                })?;
                // Percentiles never decrease; guard against rounding.
                let prev = v.last().copied().unwrap_or(0.0);
                v.push((x / 1000.0).max(prev));
            }
            Ok(Some((idx, Durations { v })))
        })();
        match row {
            Ok(Some((idx, d))) => {
                out.entry(idx).or_insert(d);
            }
            Ok(None) => {}
            Err((col, msg)) => {
                input.skip_or_fail(ctx.skip_bad_rows, stats, col, msg)?;
            }
        }
    }
    stats.files.push(input.finish()?);
    Ok(())
}

/// Reads a memory file: the chosen figure per (owner, app).
fn read_memory(
    cfg: &Config,
    ctx: &Context,
    day: u32,
    out: &mut HashMap<(String, String), u64>,
    stats: &mut WorkloadStats,
) -> Result<()> {
    let path = cfg.file("app_memory_percentiles", day);
    let resolved = super::trace::resolve(ctx, &path);
    if day > 12 && !resolved.exists() {
        // The dataset publishes memory for days 1 to 12 only.
        return Ok(());
    }
    let mut input = TraceInput::open_named(ctx, &path, &cfg.dir_key())?;
    let mut line = String::new();
    const HEADER: &str = "HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,AverageAllocatedMb_pct5,AverageAllocatedMb_pct25,AverageAllocatedMb_pct50,AverageAllocatedMb_pct75,AverageAllocatedMb_pct95,AverageAllocatedMb_pct99,AverageAllocatedMb_pct100";
    if !input.next_line(&mut line)? || line.trim() != HEADER {
        return Err(header_error(&input, HEADER));
    }
    let col = cfg.app_memory.column();
    while input.next_line(&mut line)? {
        if line.is_empty() {
            continue;
        }
        let cols: Vec<(usize, &str)> = fields(&line).collect();
        let row = if cols.len() != 12 {
            Err((
                line.len() + 1,
                format!("expected 12 columns, found {}", cols.len()),
            ))
        } else {
            let (c, s) = cols[col];
            parse_f64(s)
                .filter(|&x| x > 0.0)
                .map(|mb| {
                    (
                        (cols[0].1.to_string(), cols[1].1.to_string()),
                        mb.ceil() as u64,
                    )
                })
                .ok_or_else(|| {
                    (
                        c,
                        format!("expected a memory size in MB > 0, found \"{s}\""),
                    )
                })
        };
        match row {
            Ok((key, mb)) => {
                out.entry(key).or_insert(mb);
            }
            Err((c, msg)) => {
                input.skip_or_fail(ctx.skip_bad_rows, stats, c, msg)?;
            }
        }
    }
    stats.files.push(input.finish()?);
    Ok(())
}

/// Opens the trace: first pass, sampling, and the function table.
pub fn open(
    cfg: &Config,
    run: &super::RunBounds,
    ctx: &Context,
    streams: &Streams,
) -> Result<(FunctionTable, Reader)> {
    let mut stats = WorkloadStats::default();
    let mut candidates = Vec::new();
    let mut by_key = HashMap::new();
    for d in 0..cfg.days.len() {
        scan_invocations(cfg, ctx, d, &mut candidates, &mut by_key, &mut stats)?;
    }
    let mut durations = HashMap::new();
    let mut memory = HashMap::new();
    for &day in &cfg.days {
        read_durations(cfg, ctx, day, &by_key, &mut durations, &mut stats)?;
        read_memory(cfg, ctx, day, &mut memory, &mut stats)?;
    }
    let fill_exec = cfg
        .fill_exec
        .sampler()
        .map_err(|m| Error::input("workload.fill_exec", m))?;

    // The `missing` rule, then the sample.
    let mut eligible: Vec<usize> = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.iter().enumerate() {
        let complete =
            durations.contains_key(&i) && memory.contains_key(&(c.owner.clone(), c.app.clone()));
        if complete || cfg.missing == Missing::Fill {
            eligible.push(i);
        } else {
            stats.dropped_functions += 1;
            stats.dropped_invocations += c.total;
        }
    }
    let chosen: Vec<usize> = match cfg.sample {
        Sample::All => eligible,
        Sample::Top { n } => {
            let mut by_pop = eligible;
            by_pop.sort_by(|&a, &b| {
                candidates[b]
                    .total
                    .cmp(&candidates[a].total)
                    .then(a.cmp(&b))
            });
            by_pop.truncate(n as usize);
            by_pop.sort_unstable();
            by_pop
        }
        Sample::Quartiles { per_quartile } => {
            let mut by_pop = eligible;
            by_pop.sort_by(|&a, &b| {
                candidates[a]
                    .total
                    .cmp(&candidates[b].total)
                    .then(a.cmp(&b))
            });
            let n = by_pop.len();
            let mut rng = streams.stream("sample", 0);
            let mut picked = Vec::new();
            for q in 0..4 {
                let mut quartile: Vec<usize> = by_pop[q * n / 4..(q + 1) * n / 4].to_vec();
                // Partial Fisher-Yates: the first k are a uniform sample.
                let k = (per_quartile as usize).min(quartile.len());
                for i in 0..k {
                    let j = i + (rng.next_u64() % (quartile.len() - i) as u64) as usize;
                    quartile.swap(i, j);
                }
                picked.extend_from_slice(&quartile[..k]);
            }
            picked.sort_unstable();
            picked
        }
    };
    if chosen.len() >= 1 << FN_BITS {
        return Err(Error::input(
            "workload.sample",
            format!(
                "{} functions; at most {} are supported",
                chosen.len(),
                1u32 << FN_BITS
            ),
        ));
    }

    // The table: apps in order of first appearance.
    let mut table = FunctionTable::default();
    let mut app_index: HashMap<(String, String), u32> = HashMap::new();
    let mut index = HashMap::with_capacity(chosen.len());
    let mut execs = Vec::with_capacity(chosen.len());
    let mut spreads = Vec::with_capacity(chosen.len());
    let mut names: HashMap<String, u32> = HashMap::new();
    for &ci in &chosen {
        let c = &candidates[ci];
        let akey = (c.owner.clone(), c.app.clone());
        let app = match app_index.get(&akey) {
            Some(&a) => a,
            None => {
                let a = table.apps.len() as u32;
                table.apps.push(AppInfo {
                    min_instances: 0,
                    name: c.app.clone(),
                    memory_mb: memory.get(&akey).copied().unwrap_or(cfg.fill_memory_mb),
                    init: cfg.init.clone(),
                    state_mb: 0,
                    snapshot_mb: None,
                    concurrency: 1,
                });
                app_index.insert(akey, a);
                a
            }
        };
        // Function names are the trace's hashes, made unique if needed.
        let seen = names.entry(c.func.clone()).or_insert(0);
        *seen += 1;
        let name = if *seen == 1 {
            c.func.clone()
        } else {
            format!("{}#{}", c.func, seen)
        };
        let f = table.functions.len() as u32;
        table.functions.push(FnInfo {
            name: name.clone(),
            app: AppId(app),
            max_concurrency: None,
        });
        index.insert((c.owner.clone(), c.app.clone(), c.func.clone()), f);
        let sampler = match durations.remove(&ci) {
            Some(d) => Exec::percentiles(&d.v),
            None => Exec::Other(fill_exec.clone()),
        };
        execs.push((sampler, streams.named("exec", &name)));
        spreads.push(streams.named("spread", &name));
    }
    let (first, end) = cfg.minutes();
    let span_ns = cfg.days.len() as u64 * MINUTES_PER_DAY as u64 * MINUTE_NS;
    let window_ns = cfg.window.end.map_or(span_ns, |e| e.as_nanos()) - cfg.window.start.as_nanos();
    let reader = Reader {
        cfg: cfg.clone(),
        ctx: ctx.clone(),
        index,
        execs,
        spreads,
        first,
        end,
        minute: first,
        day: None,
        minute_start: Vec::new(),
        entries: Vec::new(),
        batch: Vec::new(),
        batch_pos: 0,
        batch_base_ns: 0,
        times: Vec::new(),
        horizon: SimTime(run.duration.as_nanos().min(window_ns)),
        // Time zero of the run is the window's start, which may fall inside
        // a minute; arrivals of that minute before it are skipped.
        offset_ns: cfg.window.start.as_nanos(),
        next_id: 0,
        stats,
        error: None,
    };
    Ok((table, reader))
}

impl Reader {
    /// Loads the counts of day `d` (index into `cfg.days`), minute-major.
    fn load_day(&mut self, d: usize) -> Result<()> {
        let day = self.cfg.days[d];
        let path = self.cfg.file("invocations_per_function_md", day);
        let mut input = TraceInput::open_named(&self.ctx, &path, &self.cfg.dir_key())?;
        let mut line = String::new();
        input.next_line(&mut line)?; // header, checked in the first pass
        let day_first = d * MINUTES_PER_DAY;
        let mut rows: Vec<(u32, u32, u32)> = Vec::new(); // (minute, function, count)
        while input.next_line(&mut line)? {
            if line.is_empty() {
                continue;
            }
            // The key is the first three fields.
            let mut it = line.splitn(4, ',');
            let key = match (it.next(), it.next(), it.next()) {
                (Some(o), Some(a), Some(f)) => (o, a, f),
                _ => continue, // a bad row, counted in the first pass
            };
            let Some(&f) =
                self.index
                    .get(&(key.0.to_string(), key.1.to_string(), key.2.to_string()))
            else {
                continue;
            };
            let _ = parse_row_with(&line, self.first, self.end, day_first, |m, c| {
                rows.push((m as u32, f, c))
            });
        }
        // Minute-major, functions in table order inside a minute.
        rows.sort_unstable();
        self.minute_start.clear();
        self.minute_start.resize(MINUTES_PER_DAY + 1, 0);
        for &(m, _, _) in &rows {
            self.minute_start[m as usize + 1] += 1;
        }
        for m in 0..MINUTES_PER_DAY {
            self.minute_start[m + 1] += self.minute_start[m];
        }
        self.entries.clear();
        self.entries.extend(rows.iter().map(|&(_, f, c)| (f, c)));
        self.day = Some(d);
        Ok(())
    }

    /// Fills the batch with the next minute that has arrivals. False at the
    /// end of the window or the horizon.
    fn fill(&mut self) -> Result<bool> {
        loop {
            if self.minute >= self.end {
                return Ok(false);
            }
            let g = self.minute;
            let start_ns = g as u64 * MINUTE_NS;
            if start_ns >= self.offset_ns + self.horizon.0 {
                return Ok(false);
            }
            self.minute += 1;
            let d = g / MINUTES_PER_DAY;
            if self.day != Some(d) {
                self.load_day(d)?;
            }
            let m = g % MINUTES_PER_DAY;
            let (lo, hi) = (
                self.minute_start[m] as usize,
                self.minute_start[m + 1] as usize,
            );
            if lo == hi {
                continue;
            }
            self.batch.clear();
            self.batch_pos = 0;
            self.batch_base_ns = start_ns;
            for &(f, c) in &self.entries[lo..hi] {
                self.times.clear();
                self.cfg.spread.times(
                    c as u64,
                    0,
                    MINUTE_NS,
                    &mut self.spreads[f as usize],
                    &mut self.times,
                );
                for &t in &self.times {
                    self.batch.push((t << FN_BITS) | f as u64);
                }
            }
            self.batch.sort_unstable();
            // Drop arrivals before the window start.
            if start_ns < self.offset_ns {
                let cut = (self.offset_ns - start_ns) << FN_BITS;
                self.batch_pos = self.batch.partition_point(|&k| k < cut);
            }
            if self.batch_pos < self.batch.len() {
                return Ok(true);
            }
        }
    }
}

impl Iterator for Reader {
    type Item = Invocation;

    #[inline]
    fn next(&mut self) -> Option<Invocation> {
        if self.batch_pos >= self.batch.len() {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            }
        }
        let k = self.batch[self.batch_pos];
        self.batch_pos += 1;
        let f = (k & ((1 << FN_BITS) - 1)) as u32;
        let t = self.batch_base_ns + (k >> FN_BITS) - self.offset_ns;
        if t >= self.horizon.0 {
            self.batch_pos = self.batch.len();
            self.minute = self.end;
            return None;
        }
        let (sampler, rng) = &mut self.execs[f as usize];
        let exec = sampler.sample(rng);
        let id = self.next_id;
        self.next_id += 1;
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
        self.stats.clone()
    }
    fn take_error(&mut self) -> Option<Error> {
        self.error.take()
    }
}
