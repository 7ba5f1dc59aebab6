//! Outputs: summary.csv, functions.csv, latency.csv, timeseries.csv,
//! sweep.csv and manifest.json, and the table printed at the end of a run;
//! and `coldsim report` ([`render`], [`plots`], [`study`]): report.md,
//! report.html and plots from a results folder.
//!
//! Every CSV is a pure function of the run's result, so the same scenario
//! and seed give byte-identical files. Anything that depends on the machine
//! or the wall clock (host name, start time, events per second) goes only to
//! manifest.json. A results folder is assembled under a temporary name beside
//! its destination and swapped into place at the end, so an interrupted run
//! never leaves a folder that looks whole, and `--force` replaces only
//! folders coldsim wrote: see [`staging`].

pub mod manifest;
pub mod plots;
pub mod progress;
pub mod render;
pub mod staging;
pub mod stats;
pub mod study;

pub use staging::{Kind, Staging};

use crate::metrics::{Metrics, Span};
use crate::platform::KillReason;
use crate::run::RunResult;
use crate::scenario::Scenario;

/// A CSV cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Int(u64),
    Float(f64),
    Text(String),
}

impl Cell {
    pub fn render(&self) -> String {
        match self {
            Cell::Int(v) => v.to_string(),
            // Six decimals: stable across platforms and enough for ms.
            Cell::Float(v) => format!("{v:.6}"),
            Cell::Text(s) => s.clone(),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(v) => Some(*v as f64),
            Cell::Float(v) => Some(*v),
            Cell::Text(_) => None,
        }
    }
}

/// One row with named columns, in order.
pub type Row = Vec<(&'static str, Cell)>;

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The `p`-th percentile (nearest rank) across functions of each
/// function's cold-start percentage, over functions with at least one
/// completed invocation: how Shahrad et al. (ATC'20, Figure 15) and
/// FaasCache compare keep-alive policies, so that a few popular functions
/// do not hide many rarely called, mostly cold ones.
pub fn fn_cold_pct(m: &Metrics, p: f64) -> f64 {
    let mut v: Vec<f64> = m
        .per_fn
        .iter()
        .filter(|f| f.counts.completed > 0)
        .map(|f| 100.0 * f.counts.cold as f64 / f.counts.completed as f64)
        .collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

/// The one row of summary.csv.
pub fn summary_row(s: &Scenario, replicate: u64, r: &RunResult) -> Row {
    let m = &r.metrics;
    let c = &m.counters;
    let i = &m.integrals;
    let o = &m.overall;
    let horizon_s = m.horizon.as_secs_f64();
    let allocated = i.starting_mb + i.busy_mb + i.idle_mb;
    let cpu_capacity = s.hosts.count as f64 * s.hosts.cores as f64;
    // Billing (see metrics::billing): the user's bill and the provider's
    // cost over the run.
    let b = &s.billing;
    let billed_gb_s = Metrics::gb_s(c.billed_mb_ns);
    let bill_usd = billed_gb_s * b.gb_s_usd + c.billed_requests as f64 * b.request_usd;
    let host_hours = i.hosts_on as f64 / 1e9 / 3600.0;
    // Joules = idle W x host-seconds on + (peak - idle) W x busy
    // core-seconds / cores per host.
    let joules = b.idle_watts * i.hosts_on as f64 / 1e9
        + (b.peak_watts - b.idle_watts) * i.busy_cores as f64 / 1e9 / s.hosts.cores as f64;
    let energy_kwh = joules / 3.6e6;
    let provider_usd = host_hours * b.host_hour_usd + energy_kwh * b.kwh_usd;
    use Cell::*;
    vec![
        ("scenario", Text(s.name.clone())),
        ("seed", Int(s.seed)),
        ("replicate", Int(replicate)),
        ("duration_s", Float(horizon_s)),
        ("hosts", Int(s.hosts.count as u64)),
        ("functions", Int(r.table.functions.len() as u64)),
        ("apps", Int(r.table.apps.len() as u64)),
        ("skipped_rows", Int(r.workload.skipped_rows)),
        ("dropped_functions", Int(r.workload.dropped_functions)),
        ("dropped_invocations", Int(r.workload.dropped_invocations)),
        ("arrivals", Int(c.arrivals)),
        ("completed", Int(c.completed)),
        ("rejected", Int(c.rejected())),
        ("rejected_queue_full", Int(c.rejected_queue_full)),
        ("rejected_timeout", Int(c.rejected_timeout)),
        ("rejected_throttled", Int(c.rejected_throttled)),
        ("failed", Int(c.failed)),
        ("retries", Int(c.retries)),
        ("queued", Int(c.queued)),
        ("throttled", Int(c.throttled)),
        ("cold_starts", Int(c.cold)),
        ("cold_full", Int(c.cold_by_kind[0])),
        ("cold_local_restore", Int(c.cold_by_kind[1])),
        ("cold_remote_restore", Int(c.cold_by_kind[2])),
        ("warm_starts", Int(c.warm)),
        ("cold_fraction", Float(ratio(c.cold, c.completed))),
        ("fn_cold_pct_p50", Float(fn_cold_pct(m, 50.0))),
        ("fn_cold_pct_p75", Float(fn_cold_pct(m, 75.0))),
        ("instances_started", Int(c.instances_started)),
        ("starts_full", Int(c.starts_by_kind[0])),
        ("starts_local_restore", Int(c.starts_by_kind[1])),
        ("starts_remote_restore", Int(c.starts_by_kind[2])),
        ("snapshots_taken", Int(c.snapshots_taken)),
        (
            "killed_host_failure",
            Int(c.killed[KillReason::HostFailure.index()]),
        ),
        (
            "killed_preemption",
            Int(c.killed[KillReason::Preemption.index()]),
        ),
        ("killed_oom", Int(c.killed[KillReason::Oom.index()])),
        ("killed_crash", Int(c.killed[KillReason::Crash.index()])),
        (
            "recycled_lifetime",
            Int(c.killed[KillReason::Lifetime.index()]),
        ),
        ("relocations", Int(c.relocations)),
        ("cold_retries", Int(c.cold_retries)),
        ("lost_work_s", Float(c.lost_ns as f64 / 1e9)),
        (
            "snapshot_cache_evictions",
            Int(r.snapshots.map_or(0, |s| s.counters.cache_evictions)),
        ),
        (
            "snapshot_store_mb",
            Int(r.snapshots.map_or(0, |s| s.store_mb)),
        ),
        ("prewarm_started", Int(c.prewarm_started)),
        ("prewarm_used", Int(c.prewarm_used)),
        ("prewarm_wasted", Int(c.prewarm_wasted)),
        ("evicted_keepalive", Int(c.evicted_keepalive)),
        ("evicted_pressure", Int(c.evicted_pressure)),
        ("instances_alive_end", Int(r.instances_alive)),
        ("latency_mean_ms", Float(o.latency.mean_ms())),
        ("latency_p50_ms", Float(o.latency.pct_ms(50.0))),
        ("latency_p90_ms", Float(o.latency.pct_ms(90.0))),
        ("latency_p99_ms", Float(o.latency.pct_ms(99.0))),
        ("latency_p999_ms", Float(o.latency.pct_ms(99.9))),
        ("latency_max_ms", Float(o.latency.max_ms())),
        ("queue_delay_mean_ms", Float(o.queue.mean_ms())),
        ("queue_delay_p99_ms", Float(o.queue.pct_ms(99.0))),
        ("start_delay_mean_ms", Float(o.start.mean_ms())),
        ("start_delay_p99_ms", Float(o.start.pct_ms(99.0))),
        ("exec_mean_ms", Float(o.exec.mean_ms())),
        ("exec_p99_ms", Float(o.exec.pct_ms(99.0))),
        ("cold_latency_p50_ms", Float(m.latency_cold.pct_ms(50.0))),
        ("cold_latency_p99_ms", Float(m.latency_cold.pct_ms(99.0))),
        ("warm_latency_p50_ms", Float(m.latency_warm.pct_ms(50.0))),
        ("warm_latency_p99_ms", Float(m.latency_warm.pct_ms(99.0))),
        (
            "retried_latency_p50_ms",
            Float(m.latency_retried.pct_ms(50.0)),
        ),
        (
            "retried_latency_p99_ms",
            Float(m.latency_retried.pct_ms(99.0)),
        ),
        ("start_full_p50_ms", Float(m.start_by_kind[0].pct_ms(50.0))),
        ("start_full_p99_ms", Float(m.start_by_kind[0].pct_ms(99.0))),
        ("start_local_p50_ms", Float(m.start_by_kind[1].pct_ms(50.0))),
        ("start_local_p99_ms", Float(m.start_by_kind[1].pct_ms(99.0))),
        (
            "start_remote_p50_ms",
            Float(m.start_by_kind[2].pct_ms(50.0)),
        ),
        (
            "start_remote_p99_ms",
            Float(m.start_by_kind[2].pct_ms(99.0)),
        ),
        (
            "mean_instances",
            Float(m.time_mean(i.starting + i.busy + i.idle)),
        ),
        ("mean_busy_instances", Float(m.time_mean(i.busy))),
        ("mean_idle_instances", Float(m.time_mean(i.idle))),
        ("mean_starting_instances", Float(m.time_mean(i.starting))),
        ("mean_queue_length", Float(m.time_mean(i.queued))),
        ("mean_running_invocations", Float(m.time_mean(i.running))),
        ("mean_throttled", Float(m.time_mean(i.throttled))),
        ("mean_memory_allocated_mb", Float(m.time_mean(allocated))),
        ("memory_allocated_gb_s", Float(Metrics::gb_s(allocated))),
        ("memory_busy_gb_s", Float(Metrics::gb_s(i.busy_mb))),
        ("memory_idle_gb_s", Float(Metrics::gb_s(i.idle_mb))),
        ("memory_starting_gb_s", Float(Metrics::gb_s(i.starting_mb))),
        ("cpu_utilisation", Float(m.time_mean(i.busy) / cpu_capacity)),
        ("mean_hosts_on", Float(m.time_mean(i.hosts_on))),
        ("host_hours", Float(host_hours)),
        ("energy_kwh", Float(energy_kwh)),
        ("billed_gb_s", Float(billed_gb_s)),
        ("bill_usd", Float(bill_usd)),
        ("provider_cost_usd", Float(provider_usd)),
        ("margin_usd", Float(bill_usd - provider_usd)),
        ("events", Int(r.events)),
        ("event_fingerprint", Text(format!("{:016x}", r.fingerprint))),
    ]
}

/// One row per function for functions.csv.
pub fn function_rows(r: &RunResult) -> Vec<Row> {
    use Cell::*;
    r.table
        .functions
        .iter()
        .zip(&r.metrics.per_fn)
        .map(|(f, fm)| {
            let app = r.table.app(f.app);
            let k = &fm.counts;
            let sp = &fm.spans;
            vec![
                ("function", Text(f.name.clone())),
                ("app", Text(app.name.clone())),
                ("memory_mb", Int(app.memory_mb)),
                ("arrivals", Int(k.arrivals)),
                ("completed", Int(k.completed)),
                ("rejected", Int(k.rejected)),
                ("failed", Int(k.failed)),
                ("queued", Int(k.queued)),
                ("cold_starts", Int(k.cold)),
                ("cold_full", Int(k.cold_by_kind[0])),
                ("cold_local_restore", Int(k.cold_by_kind[1])),
                ("cold_remote_restore", Int(k.cold_by_kind[2])),
                ("cold_fraction", Float(ratio(k.cold, k.completed))),
                ("latency_mean_ms", Float(sp.latency.mean_ms())),
                ("latency_p50_ms", Float(sp.latency.pct_ms(50.0))),
                ("latency_p99_ms", Float(sp.latency.pct_ms(99.0))),
                ("latency_max_ms", Float(sp.latency.max_ms())),
                ("queue_delay_p99_ms", Float(sp.queue.pct_ms(99.0))),
                ("start_delay_mean_ms", Float(sp.start.mean_ms())),
                ("exec_mean_ms", Float(sp.exec.mean_ms())),
            ]
        })
        .collect()
}

/// timeseries.csv: one row per interval, when the series is on.
pub fn timeseries_rows(r: &RunResult) -> Option<Vec<Row>> {
    use Cell::*;
    let ts = r.metrics.timeseries.as_ref()?;
    Some(
        ts.intervals()
            .iter()
            .map(|iv| {
                vec![
                    ("start_s", Float(iv.start.as_secs_f64())),
                    ("end_s", Float(iv.end.as_secs_f64())),
                    ("instances_idle", Float(iv.idle)),
                    ("instances_busy", Float(iv.busy)),
                    ("instances_starting", Float(iv.starting)),
                    ("instances", Float(iv.idle + iv.busy + iv.starting)),
                    ("memory_mb", Float(iv.memory_mb)),
                    ("queue_length", Float(iv.queue_length)),
                    ("throttled", Float(iv.throttled)),
                    ("arrivals", Int(iv.arrivals)),
                    ("cold_starts", Int(iv.cold_starts)),
                    ("prewarm_starts", Int(iv.prewarms)),
                    ("completed", Int(iv.completed)),
                    ("rejected", Int(iv.rejected)),
                ]
            })
            .collect(),
    )
}

/// The percentiles of latency.csv.
pub const PERCENTILES: [f64; 13] = [
    0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 100.0,
];

/// The percentile table: one row per percentile, one column per span.
pub fn latency_rows(r: &RunResult) -> Vec<Row> {
    let m = &r.metrics;
    let pick = |sp: &Span, p: f64| {
        if p >= 100.0 {
            sp.max_ms()
        } else {
            sp.pct_ms(p)
        }
    };
    PERCENTILES
        .iter()
        .map(|&p| {
            vec![
                ("percentile", Cell::Text(format!("{p}"))),
                ("queue_delay_ms", Cell::Float(pick(&m.overall.queue, p))),
                ("start_delay_ms", Cell::Float(pick(&m.overall.start, p))),
                ("exec_ms", Cell::Float(pick(&m.overall.exec, p))),
                ("latency_ms", Cell::Float(pick(&m.overall.latency, p))),
                ("latency_cold_ms", Cell::Float(pick(&m.latency_cold, p))),
                ("latency_warm_ms", Cell::Float(pick(&m.latency_warm, p))),
                (
                    "latency_cold_full_ms",
                    Cell::Float(pick(&m.latency_by_kind[0], p)),
                ),
                (
                    "latency_cold_local_ms",
                    Cell::Float(pick(&m.latency_by_kind[1], p)),
                ),
                (
                    "latency_cold_remote_ms",
                    Cell::Float(pick(&m.latency_by_kind[2], p)),
                ),
                ("start_full_ms", Cell::Float(pick(&m.start_by_kind[0], p))),
                ("start_local_ms", Cell::Float(pick(&m.start_by_kind[1], p))),
                ("start_remote_ms", Cell::Float(pick(&m.start_by_kind[2], p))),
            ]
        })
        .collect()
}

/// Renders rows as CSV (header from the first row's names).
pub fn csv_bytes(rows: &[Row]) -> Vec<u8> {
    csv_bytes_with(rows, &[])
}

/// Renders rows as CSV, each prefixed with the same extra named columns
/// taken from `prefix[i]` (used by sweep.csv for the swept values).
pub fn csv_bytes_with(rows: &[Row], prefix: &[Vec<(String, String)>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    if let Some(first) = rows.first() {
        let mut header: Vec<String> = prefix
            .first()
            .map(|p| p.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        header.extend(first.iter().map(|(k, _)| k.to_string()));
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&header);
        for (i, row) in rows.iter().enumerate() {
            let mut rec: Vec<String> = prefix
                .get(i)
                .map(|p| p.iter().map(|(_, v)| v.clone()).collect())
                .unwrap_or_default();
            rec.extend(row.iter().map(|(_, c)| c.render()));
            let _ = w.write_record(&rec);
        }
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimTime;

    #[test]
    fn function_cold_percentiles_use_nearest_rank() {
        let mut m = Metrics::new(5, SimTime(1));
        // Cold percentages 0, 10, 50, 100; the fifth function never ran.
        for (i, (cold, done)) in [(0, 10), (1, 10), (5, 10), (4, 4), (0, 0)]
            .iter()
            .enumerate()
        {
            m.per_fn[i].counts.cold = *cold;
            m.per_fn[i].counts.completed = *done;
        }
        assert_eq!(fn_cold_pct(&m, 50.0), 10.0);
        assert_eq!(fn_cold_pct(&m, 75.0), 50.0);
        assert_eq!(fn_cold_pct(&m, 100.0), 100.0);
        assert_eq!(fn_cold_pct(&m, 0.0), 0.0);
        assert_eq!(fn_cold_pct(&Metrics::new(2, SimTime(1)), 75.0), 0.0);
    }
}
