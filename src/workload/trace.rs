//! Pieces shared by the trace readers: opening files named by a scenario
//! key, hashing them for the manifest, row errors that name file, line and
//! column, spreading per-minute counts inside their minute, and sorting a
//! nearly-sorted stream in a bounded window.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Context, TraceFile};
use crate::engine::RngStream;
use crate::error::{Error, Result};
use crate::model::{FnId, Invocation};
use crate::time::{SimDuration, SimTime};

/// A trace path from the scenario, resolved against the scenario's folder.
pub fn resolve(ctx: &Context, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        ctx.base_dir.join(p)
    }
}

/// A reader that hashes what passes through it.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// A trace file open for reading line by line, hashed as it is read.
pub struct TraceInput {
    /// The path as shown in errors (as resolved).
    pub shown: String,
    pub reader: BufReader<Hashing<File>>,
    /// 1-based number of the last line read.
    pub line_no: u64,
}

impl TraceInput {
    /// Opens `path` (relative to the scenario's folder); `key` is the
    /// scenario key that named it, for the error if it cannot be read.
    pub fn open(ctx: &Context, path: &str, key: &str) -> Result<TraceInput> {
        Self::open_named(ctx, path, &format!("{key} = \"{path}\""))
    }

    /// Like [`TraceInput::open`] for a file found through a key that names
    /// a folder: `origin` is the text that names the key and its value
    /// (`workload.dir = "day"`).
    pub fn open_named(ctx: &Context, path: &str, origin: &str) -> Result<TraceInput> {
        let resolved = resolve(ctx, path);
        let shown = resolved.display().to_string();
        let f = File::open(&resolved)
            .map_err(|e| Error::input(origin, format!("cannot read {shown}: {e}")))?;
        Ok(TraceInput {
            shown,
            reader: BufReader::with_capacity(
                1 << 16,
                Hashing {
                    inner: f,
                    hasher: Sha256::new(),
                    bytes: 0,
                },
            ),
            line_no: 0,
        })
    }

    /// Reads the next line into `buf` (without its line ending). False at
    /// the end of the file.
    pub fn next_line(&mut self, buf: &mut String) -> Result<bool> {
        buf.clear();
        let n = self
            .reader
            .read_line(buf)
            .map_err(|e| Error::input(&self.shown, format!("cannot read: {e}")))?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        while buf.ends_with('\n') || buf.ends_with('\r') {
            buf.pop();
        }
        Ok(true)
    }

    /// An error at `col` (1-based character column) of the current line.
    pub fn error(&self, col: usize, msg: impl Into<String>) -> Error {
        Error::input(format!("{}:{}:{}", self.shown, self.line_no, col), msg)
    }

    /// A malformed row at `col`: counted in `stats` (Ok) under
    /// `--skip-bad-rows`, otherwise the error naming file, line and column.
    pub fn skip_or_fail(
        &self,
        skip: bool,
        stats: &mut super::WorkloadStats,
        col: usize,
        msg: impl Into<String>,
    ) -> Result<()> {
        if skip {
            stats.skipped_rows += 1;
            Ok(())
        } else {
            Err(self.error(col, msg))
        }
    }

    /// Reads the rest of the file (so that the hash covers all of it) and
    /// returns its record for the manifest.
    pub fn finish(mut self) -> Result<TraceFile> {
        let mut sink = Vec::new();
        loop {
            sink.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut sink)
                .map_err(|e| Error::input(&self.shown, format!("cannot read: {e}")))?;
            if n == 0 {
                break;
            }
        }
        let h = self.reader.into_inner();
        Ok(TraceFile {
            path: self.shown,
            sha256: h
                .hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            bytes: h.bytes,
        })
    }
}

/// The comma-separated fields of a line with their 1-based columns.
pub fn fields(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut col = 1;
    line.split(',').map(move |f| {
        let c = col;
        col += f.chars().count() + 1;
        (c, f)
    })
}

/// Parses a non-negative integer field.
#[inline]
pub fn parse_count(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u64;
    }
    Some(v)
}

/// Parses a finite float field.
pub fn parse_f64(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// How a per-minute count is spread inside its minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spread {
    /// `count` independent uniform times in the minute (the count is kept).
    #[default]
    Uniform,
    /// `count` times evenly spaced, the i-th at (i + 1/2) x 60 s / count.
    Equidistant,
    /// A Poisson process at rate count / 60 s inside the minute: the count
    /// varies around the trace's (its mean is kept, not its value).
    Poisson,
}

impl Spread {
    /// Appends the arrival times (ns) of `count` invocations in the minute
    /// that starts at `start_ns` and lasts `len_ns`; unsorted for `uniform`.
    #[inline]
    pub fn times(
        self,
        count: u64,
        start_ns: u64,
        len_ns: u64,
        rng: &mut RngStream,
        out: &mut Vec<u64>,
    ) {
        match self {
            Spread::Uniform => {
                for _ in 0..count {
                    out.push(start_ns + (rng.uniform() * len_ns as f64) as u64);
                }
            }
            Spread::Equidistant => {
                let step = len_ns as f64 / count.max(1) as f64;
                for i in 0..count {
                    out.push(start_ns + ((i as f64 + 0.5) * step) as u64);
                }
            }
            Spread::Poisson => {
                if count == 0 {
                    return;
                }
                let mean_gap = len_ns as f64 / count as f64;
                let mut t = rng.exp(mean_gap);
                while t < len_ns as f64 {
                    out.push(start_ns + t as u64);
                    t += rng.exp(mean_gap);
                }
            }
        }
    }
}

/// One pending invocation of a [`WindowSorter`].
type Pending = Reverse<(SimTime, u64, FnId, SimDuration)>;

/// Sorts a stream whose disorder is bounded: an item is released once the
/// input has moved `window` past it. Memory is bounded by the items inside
/// one window.
pub struct WindowSorter {
    heap: BinaryHeap<Pending>,
    window: SimDuration,
    seq: u64,
    /// The latest arrival released so far.
    released: SimTime,
}

impl WindowSorter {
    pub fn new(window: SimDuration) -> Self {
        WindowSorter {
            heap: BinaryHeap::new(),
            window,
            seq: 0,
            released: SimTime::ZERO,
        }
    }

    /// Adds an invocation. Err with the time already released if it arrives
    /// before an invocation that has been released: the trace is more out
    /// of order than the window allows.
    pub fn push(
        &mut self,
        arrival: SimTime,
        function: FnId,
        exec: SimDuration,
    ) -> Result<(), SimTime> {
        if arrival < self.released {
            return Err(self.released);
        }
        self.heap.push(Reverse((arrival, self.seq, function, exec)));
        self.seq += 1;
        Ok(())
    }

    /// Releases the earliest item if the input has moved past it by more than
    /// the window (`input_time` is the latest time seen in the input), or
    /// any item when `input_time` is None (the input has ended).
    pub fn pop(&mut self, input_time: Option<SimTime>) -> Option<(SimTime, FnId, SimDuration)> {
        let Reverse((t, _, f, e)) = *self.heap.peek()?;
        if let Some(now) = input_time
            && now.0 < t.0.saturating_add(self.window.0)
        {
            return None;
        }
        self.heap.pop();
        self.released = t;
        Some((t, f, e))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// What [`SortedStream::release`] gives next.
#[derive(Debug, PartialEq, Eq)]
pub enum Release {
    /// An invocation: arrival, function, execution time.
    Ready(SimTime, FnId, SimDuration),
    /// Nothing can be released yet: read another row.
    NeedRow,
    /// The stream is over (input ended, or the horizon was reached).
    End,
}

/// The release side of a reader whose rows come nearly sorted: rows are
/// pushed into a [`WindowSorter`] as they are read, and released in arrival
/// order once the input has moved a window past them, up to the horizon.
/// Shared by the Azure 2021 and generic CSV readers.
pub struct SortedStream {
    sorter: WindowSorter,
    window: SimDuration,
    horizon: SimTime,
    /// The latest arrival read so far.
    latest: SimTime,
    peak_pending: usize,
    eof: bool,
    done: bool,
    next_id: u64,
}

impl SortedStream {
    pub fn new(window: SimDuration, horizon: SimTime) -> Self {
        SortedStream {
            sorter: WindowSorter::new(window),
            window,
            horizon,
            latest: SimTime::ZERO,
            peak_pending: 0,
            eof: false,
            done: false,
            next_id: 0,
        }
    }

    /// The sorting window.
    pub fn window(&self) -> SimDuration {
        self.window
    }

    /// Adds a row; Err with the arrival already released if the row comes
    /// too late for the window.
    pub fn push(
        &mut self,
        arrival: SimTime,
        function: FnId,
        exec: SimDuration,
    ) -> Result<(), SimTime> {
        self.sorter.push(arrival, function, exec)?;
        self.latest = self.latest.max(arrival);
        self.peak_pending = self.peak_pending.max(self.sorter.len());
        Ok(())
    }

    /// The input has no more rows.
    pub fn end_of_input(&mut self) {
        self.eof = true;
    }

    /// Ends the stream now (after an error).
    pub fn stop(&mut self) {
        self.done = true;
    }

    /// The next step: an invocation to release, a row to read, or the end.
    pub fn release(&mut self) -> Release {
        if self.done {
            return Release::End;
        }
        let input_time = if self.eof { None } else { Some(self.latest) };
        if let Some((t, f, e)) = self.sorter.pop(input_time) {
            if t >= self.horizon {
                // Sorted output: nothing later is inside the run.
                self.done = true;
                self.sorter = WindowSorter::new(self.window);
                return Release::End;
            }
            return Release::Ready(t, f, e);
        }
        if self.eof {
            self.done = true;
            return Release::End;
        }
        Release::NeedRow
    }

    /// The invocation with the next sequence number.
    pub fn invocation(
        &mut self,
        arrival: SimTime,
        function: FnId,
        exec: SimDuration,
    ) -> Invocation {
        let id = self.next_id;
        self.next_id += 1;
        Invocation {
            id,
            function,
            arrival,
            exec,
            attempt: 0,
        }
    }

    /// The most rows the window has held at once so far.
    pub fn peak_pending(&self) -> usize {
        self.peak_pending
    }

    /// Rows read and not yet released.
    pub fn pending(&self) -> usize {
        self.sorter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_have_columns() {
        let v: Vec<_> = fields("ab,c,,déf").collect();
        assert_eq!(v, [(1, "ab"), (4, "c"), (6, ""), (7, "déf")]);
    }

    #[test]
    fn counts_parse() {
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("12345"), Some(12345));
        for bad in ["", "-1", "1.5", " 1", "x", "99999999999999999999"] {
            assert_eq!(parse_count(bad), None, "{bad}");
        }
    }

    #[test]
    fn spreading_stays_inside_its_minute() {
        let mut rng = RngStream::from_seed_u64(1);
        let min = 60_000_000_000;
        for spread in [Spread::Uniform, Spread::Equidistant, Spread::Poisson] {
            let mut out = Vec::new();
            spread.times(1000, 5 * min, min, &mut rng, &mut out);
            assert!(
                out.iter().all(|&t| (5 * min..6 * min).contains(&t)),
                "{spread:?}"
            );
            if spread != Spread::Poisson {
                assert_eq!(out.len(), 1000);
            } else {
                assert!((out.len() as f64 - 1000.0).abs() < 5.0 * 1000f64.sqrt());
            }
        }
        let mut out = Vec::new();
        Spread::Equidistant.times(4, 0, 60, &mut rng, &mut out);
        assert_eq!(out, [7, 22, 37, 52]);
    }

    #[test]
    fn window_sorter_sorts_bounded_disorder() {
        let mut w = WindowSorter::new(SimDuration(10));
        let input = [5u64, 3, 12, 8, 20, 15, 30, 26];
        let mut out = Vec::new();
        for &t in &input {
            w.push(SimTime(t), FnId(0), SimDuration(0)).unwrap();
            while let Some((t, _, _)) = w.pop(Some(SimTime(t))) {
                out.push(t.0);
            }
        }
        while let Some((t, _, _)) = w.pop(None) {
            out.push(t.0);
        }
        assert_eq!(out, [3, 5, 8, 12, 15, 20, 26, 30]);
        // Too late for the window.
        let mut w = WindowSorter::new(SimDuration(2));
        w.push(SimTime(10), FnId(0), SimDuration(0)).unwrap();
        assert!(w.pop(Some(SimTime(20))).is_some());
        assert_eq!(
            w.push(SimTime(5), FnId(0), SimDuration(0)),
            Err(SimTime(10))
        );
    }
}
