//! Capacity planning: `coldsim plan SCENARIO --slo "p99 < 200ms" --vary
//! hosts.count` finds the smallest value of an integer key that meets a
//! service-level objective.
//!
//! # Method
//!
//! Each evaluated value runs `R` replicates of the scenario with that value
//! set (as a sweep point sets it: in the scenario with every default filled
//! in), replicate `r` on the random streams of `(seed, component, r)`, so
//! every value sees the same arrivals and execution times (common random
//! numbers) and a difference between values is the key's, not the noise's.
//!
//! **Rule.** A clause `METRIC < X` (or `<=`) is met at a value when the
//! mean of the metric over the replicates meets it *and* so does its
//! one-sided 95% upper confidence bound, `mean + t(0.95, R-1) s / sqrt(R)`
//! (Student t, `s` the sample standard deviation across replicates). So a
//! value that "meets" does so with 95% confidence for each clause, as far as
//! replicates are independent and their means near normal. A clause
//! `METRIC = X` is met when every replicate equals `X`. A value whose mean
//! meets every clause but whose bound does not is `uncertain`, and counts as
//! not meeting (more replicates can settle it). With `R = 1` there is no
//! bound: the single run decides, and the output says so.
//!
//! **Search.** Bisection assumes meeting the SLO is monotone in the value
//! (fails below some value, meets from it on). Both ends of the range are
//! evaluated first; the answer's upper neighbour is evaluated too. If any
//! evaluated value fails where a smaller one met, or neither end meets, the
//! plan says so and scans the whole range (when it holds at most
//! [`SCAN_LIMIT`] values), reporting every point where a larger value fails
//! after a smaller one met. The answer is then the smallest value that
//! meets.
//!
//! # Output folder
//!
//! `plan.csv` (one row per evaluated value, sorted by value), `runs.csv`
//! (every replicate's summary.csv row, prefixed with the value),
//! `plan.svg` and `plan.png` (the first clause's metric against the value,
//! with its bounds and threshold), `scenario.toml` and `manifest.json`.

pub mod plot;
pub mod slo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use toml::Value;

use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::report::manifest::{self, Manifest};
use crate::report::stats;
pub use crate::report::stats::t95;
use crate::report::{self, Cell, Kind, Row, Staging};
use crate::run::{RunResult, RunSpec};
use crate::scenario::sweep::{self as grid, SweepSpec};
use crate::scenario::{Scenario, ScenarioFile};
use crate::sim;
use crate::time::SimTime;
use crate::workload::Context;
pub use slo::{Clause, Op, Slo};

/// The largest range scanned value by value when bisection cannot be
/// trusted.
pub const SCAN_LIMIT: i64 = 64;

/// Replicates per value when neither `--replicates` nor the scenario's
/// `[sweep] replicates` says.
pub const DEFAULT_REPLICATES: u32 = 5;

/// What `coldsim plan` was asked.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    pub slo: String,
    pub key: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub replicates: Option<u32>,
    pub out: PathBuf,
    pub force: bool,
    pub command: Vec<String>,
    pub skip_bad_rows: bool,
}

/// One clause's statistics at one value.
#[derive(Clone, Debug, PartialEq)]
pub struct ClauseStat {
    pub mean: f64,
    pub sd: f64,
    /// One-sided 95% upper bound of the mean (the maximum for `=`).
    pub upper: f64,
    pub meets: bool,
}

/// How an evaluated value fares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every clause met, mean and bound.
    Meets,
    /// Every mean meets, some bound does not.
    Uncertain,
    /// Some mean fails.
    Fails,
    /// The scenario is not valid with this value (see `note`).
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Meets => "meets",
            Verdict::Uncertain => "uncertain",
            Verdict::Fails => "fails",
            Verdict::Invalid => "invalid",
        }
    }
}

/// One evaluated value.
#[derive(Clone, Debug)]
pub struct Point {
    pub value: i64,
    /// The order of evaluation, from 0.
    pub order: usize,
    pub rows: Vec<Row>,
    pub stats: Vec<ClauseStat>,
    pub verdict: Verdict,
    pub note: String,
}

impl Point {
    pub fn meets(&self) -> bool {
        self.verdict == Verdict::Meets
    }
}

/// How the answer was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Bisection,
    LinearScan,
}

/// What `plan` found and wrote.
#[derive(Clone, Debug)]
pub struct PlanOutcome {
    pub dir: PathBuf,
    pub key: String,
    pub min: i64,
    pub max: i64,
    pub replicates: u32,
    pub slo: Slo,
    /// The smallest value that meets the SLO, if any.
    pub answer: Option<i64>,
    pub method: Method,
    /// Every evaluated value, sorted.
    pub points: Vec<Point>,
    /// Pairs (smaller that meets, larger that does not).
    pub violations: Vec<(i64, i64)>,
    /// Why bisection was not trusted, when it was not.
    pub fallback: Option<String>,
    pub runs: usize,
    pub wall_seconds: f64,
}

/// The statistics of one clause over the replicates' values.
pub fn clause_stat(c: &Clause, xs: &[f64]) -> ClauseStat {
    let mean = stats::mean(xs);
    let sd = stats::sample_sd(xs, mean);
    if c.op == Op::Eq {
        let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let meets = xs.iter().all(|&x| x == c.threshold);
        return ClauseStat {
            mean,
            sd,
            upper: max,
            meets,
        };
    }
    let upper = stats::upper95(mean, sd, xs.len());
    ClauseStat {
        mean,
        sd,
        upper,
        meets: c.op.holds(mean, c.threshold) && c.op.holds(upper, c.threshold),
    }
}

/// The verdict from each clause's statistics.
fn verdict(slo: &Slo, stats: &[ClauseStat]) -> Verdict {
    if stats.iter().all(|s| s.meets) {
        Verdict::Meets
    } else if slo
        .clauses
        .iter()
        .zip(stats)
        .any(|(c, s)| c.op == Op::Eq || !c.op.holds(s.mean, c.threshold))
    {
        Verdict::Fails
    } else {
        Verdict::Uncertain
    }
}

/// The columns of summary.csv, from a row of an empty run.
pub fn summary_columns(s: &Scenario) -> Row {
    let r = RunResult {
        table: Default::default(),
        workload: Default::default(),
        metrics: Metrics::new(0, SimTime(1)),
        events: 0,
        fingerprint: 0,
        instances_alive: 0,
        end: SimTime(0),
        snapshots: None,
    };
    report::summary_row(s, 0, &r)
}

struct Planner<'a> {
    sf: &'a ScenarioFile,
    base: Scenario,
    key: String,
    slo: Slo,
    replicates: u32,
    ctx: Context,
    points: BTreeMap<i64, Point>,
    events: u64,
}

impl Planner<'_> {
    /// The base scenario with the key set to `v`, built and validated as a
    /// sweep point is.
    fn scenario_at(&self, v: i64) -> Result<Scenario> {
        let spec = SweepSpec {
            replicates: 1,
            axes: vec![(self.key.clone(), vec![Value::Integer(v)])],
        };
        let mut pts = grid::expand(&self.base, &format!("{}: --vary", self.sf.origin), &spec)?;
        Ok(pts.remove(0).scenario)
    }

    /// Evaluates the values not yet evaluated, their replicates in
    /// parallel.
    fn eval(&mut self, values: &[i64]) -> Result<()> {
        let mut todo: Vec<i64> = values
            .iter()
            .copied()
            .filter(|v| !self.points.contains_key(v))
            .collect();
        todo.sort_unstable();
        todo.dedup();
        let mut jobs: Vec<(i64, Scenario, u64)> = Vec::new();
        for &v in &todo {
            match self.scenario_at(v) {
                Ok(s) => jobs.extend((0..self.replicates as u64).map(|r| (v, s.clone(), r))),
                Err(e) => {
                    let order = self.points.len();
                    self.points.insert(
                        v,
                        Point {
                            value: v,
                            order,
                            rows: Vec::new(),
                            stats: Vec::new(),
                            verdict: Verdict::Invalid,
                            note: e.to_string(),
                        },
                    );
                }
            }
        }
        let origin = &self.sf.origin;
        let ctx = &self.ctx;
        let done: Vec<(i64, Row, u64)> = jobs
            .par_iter()
            .map(|(v, s, r)| {
                let res = RunSpec::new(s, &ctx.base_dir)
                    .and_then(|spec| sim::run_with(&spec, *r, ctx, &mut |_| {}, None))
                    .map_err(|e| match e {
                        Error::Input { origin: o, msg } => Error::Input {
                            origin: format!("{origin}: {o}"),
                            msg,
                        },
                        other => other,
                    })?;
                Ok((*v, report::summary_row(s, *r, &res), res.events))
            })
            .collect::<Result<_>>()?;
        for &v in &todo {
            if self.points.contains_key(&v) {
                continue;
            }
            let rows: Vec<Row> = done
                .iter()
                .filter(|(x, _, _)| *x == v)
                .map(|(_, row, _)| row.clone())
                .collect();
            self.events += done
                .iter()
                .filter(|(x, _, _)| *x == v)
                .map(|(_, _, e)| e)
                .sum::<u64>();
            let stats: Vec<ClauseStat> = self
                .slo
                .clauses
                .iter()
                .map(|c| {
                    let xs: Vec<f64> = rows.iter().map(|r| c.value(r)).collect();
                    clause_stat(c, &xs)
                })
                .collect();
            let verdict = verdict(&self.slo, &stats);
            let order = self.points.len();
            self.points.insert(
                v,
                Point {
                    value: v,
                    order,
                    rows,
                    stats,
                    verdict,
                    note: String::new(),
                },
            );
        }
        Ok(())
    }

    fn meets(&self, v: i64) -> bool {
        self.points.get(&v).is_some_and(Point::meets)
    }

    /// Pairs (x meets, y > x fails) among the evaluated values, each
    /// failing value paired with the largest smaller value that meets.
    fn violations(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut last_meets: Option<i64> = None;
        for (v, p) in &self.points {
            if p.meets() {
                last_meets = Some(*v);
            } else if let Some(m) = last_meets {
                out.push((m, *v));
            }
        }
        out
    }
}

/// Runs the plan and writes its folder. Everything the user gave is
/// checked before anything runs.
pub fn plan(sf: &ScenarioFile, opts: &PlanOptions) -> Result<PlanOutcome> {
    let usage = |m: String| Error::Usage(m);
    if let Some(spec) = &sf.base.sweep
        && !spec.axes.is_empty()
    {
        let keys: Vec<&str> = spec.axes.iter().map(|(k, _)| k.as_str()).collect();
        return Err(usage(format!(
            "{}: has a [sweep] over {}; plan varies one key itself (--vary), so remove the sweep's key paths (keep `replicates` if you like)",
            sf.origin,
            keys.join(", ")
        )));
    }
    let replicates = opts
        .replicates
        .or(sf.base.sweep.as_ref().map(|s| s.replicates))
        .unwrap_or(DEFAULT_REPLICATES);
    if replicates == 0 {
        return Err(usage(
            "--replicates 0: expected at least 1 replicate per value (2 or more for a confidence bound)".into(),
        ));
    }
    let slo = slo::parse(&opts.slo, &summary_columns(&sf.base))
        .map_err(|m| usage(format!("--slo \"{}\": {m}", opts.slo)))?;

    let mut base = sf.base.clone();
    base.sweep = None;
    let table = toml::Table::try_from(&base)
        .map_err(|e| Error::input(&sf.origin, format!("cannot plan: {e}")))?;
    let key = opts.key.trim().to_string();
    let current = match grid::get_path(&table, &key) {
        Err(m) => return Err(usage(format!("--vary {m}"))),
        Ok(None) => None,
        Ok(Some(Value::Integer(n))) => Some(*n),
        Ok(Some(other)) => {
            return Err(usage(format!(
                "--vary \"{key}\": holds {}, not an integer; plan varies an integer key such as hosts.count, hosts.memory_mb, functions[NAME].min_instances or limits.max_concurrency",
                grid::value_text(other).chars().take(60).collect::<String>()
            )));
        }
    };
    let min = opts
        .min
        .unwrap_or(if key.ends_with("min_instances") { 0 } else { 1 });
    let max = opts
        .max
        .unwrap_or_else(|| current.filter(|c| *c >= 1).map_or(64, |c| 4 * c).max(min));
    if min < 0 {
        return Err(usage(format!(
            "--min {min}: expected a value of 0 or more for {key}"
        )));
    }
    if min > max {
        return Err(usage(format!(
            "--min {min} --max {max}: empty range for {key}; expected --min <= --max"
        )));
    }
    let mut planner = Planner {
        sf,
        base,
        key: key.clone(),
        slo: slo.clone(),
        replicates,
        ctx: Context {
            base_dir: sf.base_dir.clone(),
            skip_bad_rows: opts.skip_bad_rows,
        },
        points: BTreeMap::new(),
        events: 0,
    };
    // The key must take integers: the largest value must give a valid
    // scenario (a smaller one may not, such as hosts too small for an app;
    // it then counts as not meeting the SLO).
    planner.scenario_at(max)?;
    let staging = Staging::new(&opts.out, opts.force, Kind::Plan, &[Path::new(&sf.origin)])?;
    let started = manifest::now_utc();
    let t0 = Instant::now();

    // Bisection between the ends.
    planner.eval(&[min, max])?;
    let mut fallback = None;
    let mut answer = None;
    if planner.meets(min) {
        answer = Some(min);
        if min < max {
            planner.eval(&[min + 1])?;
        }
    } else if planner.meets(max) {
        let (mut lo, mut hi) = (min, max);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            planner.eval(&[mid])?;
            if planner.meets(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        answer = Some(hi);
        if hi < max {
            planner.eval(&[hi + 1])?;
        }
    } else {
        fallback = Some(format!(
            "neither end of the range meets the SLO ({key} = {min} and {max} do not)"
        ));
    }
    let before = planner.violations();
    if let Some((m, f)) = before.first() {
        fallback = Some(format!(
            "NOT MONOTONE: {key} = {f} does not meet the SLO although {key} = {m} does; bisection assumes that a larger value never fails where a smaller one met"
        ));
    }
    let mut method = Method::Bisection;
    if fallback.is_some() && max - min < SCAN_LIMIT {
        method = Method::LinearScan;
        let all: Vec<i64> = (min..=max).collect();
        planner.eval(&all)?;
        answer = planner.points.values().find(|p| p.meets()).map(|p| p.value);
    } else if fallback.is_some() && !before.is_empty() {
        // Too wide to scan: keep the bisection's answer, flagged.
        answer = planner.points.values().find(|p| p.meets()).map(|p| p.value);
    }
    let violations = planner.violations();
    let wall = t0.elapsed().as_secs_f64();
    let points: Vec<Point> = planner.points.into_values().collect();
    let runs = points.iter().map(|p| p.rows.len()).sum();
    let outcome = PlanOutcome {
        dir: opts.out.clone(),
        key,
        min,
        max,
        replicates,
        slo,
        answer,
        method,
        points,
        violations,
        fallback,
        runs,
        wall_seconds: wall,
    };

    staging.write("plan.csv", &plan_csv(&outcome))?;
    staging.write("runs.csv", &runs_csv(&outcome))?;
    let (svg, png) = plot::render(&outcome).map_err(|m| Error::Output {
        path: opts.out.join("plan.svg").display().to_string(),
        msg: format!("cannot draw the plot: {m}"),
    })?;
    staging.write("plan.svg", svg.as_bytes())?;
    staging.write("plan.png", &png)?;
    staging.write("scenario.toml", sf.text.as_bytes())?;
    let body = PlanBody {
        key: outcome.key.clone(),
        min,
        max,
        slo: outcome.slo.text.clone(),
        rule: RULE.to_string(),
        replicates,
        answer,
        method,
        monotone_on_evaluated_points: outcome.violations.is_empty(),
        non_monotone: outcome
            .violations
            .iter()
            .map(|(a, b)| format!("{} = {b} fails although {a} meets", outcome.key))
            .collect(),
        fallback: outcome.fallback.clone(),
        evaluated_points: outcome.points.len(),
        runs,
        host: manifest::host_name(),
        threads: rayon::current_num_threads(),
        started_at_utc: started,
        wall_seconds: wall,
        events: planner.events,
        events_per_second: planner.events as f64 / wall.max(1e-9),
    };
    staging.write_manifest(&mut Manifest::new(sf, &opts.command, body))?;
    let dir = staging.commit()?;
    Ok(PlanOutcome { dir, ..outcome })
}

/// The decision rule, as written in the manifest.
pub const RULE: &str = "a value meets a clause METRIC < X (or <=) when the mean over replicates and its one-sided 95% upper bound (Student t, mean + t(0.95, R-1) s/sqrt(R)) both do; METRIC = X when every replicate equals X; it meets the SLO when it meets every clause";

/// The fields of a plan's manifest.json after the provenance.
#[derive(Serialize)]
struct PlanBody {
    key: String,
    min: i64,
    max: i64,
    slo: String,
    rule: String,
    replicates: u32,
    answer: Option<i64>,
    method: Method,
    monotone_on_evaluated_points: bool,
    non_monotone: Vec<String>,
    fallback: Option<String>,
    evaluated_points: usize,
    runs: usize,
    host: String,
    threads: usize,
    started_at_utc: String,
    wall_seconds: f64,
    events: u64,
    events_per_second: f64,
}

/// plan.csv: one row per evaluated value, sorted by value.
pub fn plan_csv(o: &PlanOutcome) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let mut header = vec!["value".to_string(), "replicates".into(), "order".into()];
    for c in &o.slo.clauses {
        for suffix in ["mean", "sd", "upper95", "threshold", "meets"] {
            header.push(format!("{}_{suffix}", c.name));
        }
    }
    header.extend(["meets".into(), "verdict".into(), "note".into()]);
    let _ = w.write_record(&header);
    for p in &o.points {
        let mut rec = vec![
            p.value.to_string(),
            p.rows.len().to_string(),
            p.order.to_string(),
        ];
        for (i, c) in o.slo.clauses.iter().enumerate() {
            match p.stats.get(i) {
                Some(s) => rec.extend([
                    Cell::Float(s.mean).render(),
                    Cell::Float(s.sd).render(),
                    Cell::Float(s.upper).render(),
                    Cell::Float(c.threshold).render(),
                    s.meets.to_string(),
                ]),
                None => rec.extend([
                    String::new(),
                    String::new(),
                    String::new(),
                    Cell::Float(c.threshold).render(),
                    "false".into(),
                ]),
            }
        }
        rec.extend([
            p.meets().to_string(),
            p.verdict.as_str().to_string(),
            p.note.clone(),
        ]);
        let _ = w.write_record(&rec);
    }
    w.into_inner().unwrap_or_default()
}

/// runs.csv: every replicate's summary row, prefixed with the value.
pub fn runs_csv(o: &PlanOutcome) -> Vec<u8> {
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for p in &o.points {
        for r in &p.rows {
            rows.push(r.clone());
            labels.push(vec![(o.key.clone(), p.value.to_string())]);
        }
    }
    report::csv_bytes_with(&rows, &labels)
}

fn fmt_num(x: f64) -> String {
    if x == 0.0 || (x.abs() >= 1e-6 && x.abs() < 1e6) {
        let decimals = if x.abs() >= 0.01 { 4 } else { 6 };
        let s = format!("{x:.decimals$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{x:.4e}")
    }
}

/// The text printed at the end of a plan.
pub fn render(o: &PlanOutcome) -> String {
    let mut s = String::new();
    let key = &o.key;
    let conf = if o.replicates > 1 {
        format!(
            "95% confidence per clause (one-sided Student t bound, {} replicates per value)",
            o.replicates
        )
    } else {
        "no confidence bound (1 replicate per value: the single run decides)".to_string()
    };
    if let Some(why) = &o.fallback {
        s.push_str(&format!("plan: {why}\n"));
        if o.method == Method::LinearScan {
            s.push_str(&format!(
                "plan: scanned every value of [{}, {}] instead of bisecting\n",
                o.min, o.max
            ));
        } else if !o.violations.is_empty() || o.answer.is_none() {
            s.push_str(&format!(
                "plan: the range holds more than {SCAN_LIMIT} values, too many to scan; narrow --min/--max to scan it\n"
            ));
        }
    }
    if !o.violations.is_empty() {
        s.push_str(&format!(
            "plan: NOT MONOTONE: a larger {key} fails the SLO where a smaller one meets it ({} pair(s) below); the answer is the smallest value that meets, and values above it may fail\n",
            o.violations.len()
        ));
    }
    for (a, b) in &o.violations {
        s.push_str(&format!(
            "plan: non-monotone: {key} = {b} does not meet the SLO although {key} = {a} does\n"
        ));
    }
    match o.answer {
        Some(v) => {
            s.push_str(&format!(
                "smallest {key} in [{}, {}] that meets \"{}\": {v}\n",
                o.min, o.max, o.slo
            ));
            s.push_str(&format!("  meets with {conf}\n"));
        }
        None => s.push_str(&format!(
            "no {key} in [{}, {}] meets \"{}\" ({conf}); raise --max or relax the SLO\n",
            o.min, o.max, o.slo
        )),
    }
    let show = |s: &mut String, p: &Point| {
        s.push_str(&format!("  {key} = {}: {}", p.value, p.verdict.as_str()));
        if p.verdict == Verdict::Invalid {
            s.push_str(&format!(" ({})\n", p.note));
            return;
        }
        s.push('\n');
        for (c, st) in o.slo.clauses.iter().zip(&p.stats) {
            let bound = if c.op == Op::Eq {
                format!("max {}", fmt_num(st.upper))
            } else {
                format!("upper 95% {}", fmt_num(st.upper))
            };
            s.push_str(&format!(
                "    {} mean {} ({bound}) vs {} {}: {}\n",
                c.name,
                fmt_num(st.mean),
                c.op.symbol(),
                fmt_num(c.threshold),
                if st.meets { "met" } else { "not met" }
            ));
        }
    };
    if let Some(v) = o.answer {
        for p in o.points.iter().filter(|p| p.value == v || p.value == v - 1) {
            show(&mut s, p);
        }
    }
    let list: Vec<String> = o
        .points
        .iter()
        .map(|p| format!("{}:{}", p.value, p.verdict.as_str()))
        .collect();
    s.push_str(&format!(
        "evaluated {} value(s), {} run(s) by {}: {}\n",
        o.points.len(),
        o.runs,
        match o.method {
            Method::Bisection => "bisection",
            Method::LinearScan => "linear scan",
        },
        list.join(" ")
    ));
    if o.violations.is_empty() {
        s.push_str("monotone on the evaluated values\n");
    }
    let dir = o.dir.display().to_string();
    let slash = if dir.ends_with('/') { "" } else { "/" };
    s.push_str(&format!("results written to {dir}{slash}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_and_bounds() {
        assert_eq!(t95(4), 2.132);
        assert_eq!(t95(35), 1.697);
        assert_eq!(t95(5000), 1.645);
        let c = slo::parse(
            "rejected < 10",
            &vec![("rejected", Cell::Int(0)), ("arrivals", Cell::Int(0))],
        )
        .unwrap()
        .clauses
        .remove(0);
        // mean 8, s = 1, n = 5: upper = 8 + 2.132 / sqrt(5).
        let st = clause_stat(&c, &[7.0, 9.0, 7.0, 9.0, 8.0]);
        assert!((st.mean - 8.0).abs() < 1e-12);
        assert!((st.sd - 1.0).abs() < 1e-12);
        assert!((st.upper - (8.0 + 2.132 / 5f64.sqrt())).abs() < 1e-9);
        assert!(st.meets);
        let st = clause_stat(&c, &[9.0, 9.9, 9.5]);
        assert!(!st.meets, "the mean meets but not the bound");
    }
}
