//! The short summary table printed at the end of a run.

use std::fmt::Write;

use super::Outcome;
use crate::report::Row;
use crate::scenario::ScenarioFile;

fn get(row: &Row, key: &str) -> f64 {
    row.iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, c)| c.as_f64())
        .unwrap_or(f64::NAN)
}

/// The table for a finished run or sweep, ending with the folder written.
pub fn render(sf: &ScenarioFile, o: &Outcome) -> String {
    let mut s = String::new();
    let m = &o.manifest;
    let shard = m
        .shard
        .map(|k| {
            format!(
                " of {} in shard {k}",
                m.sweep_points * m.replicates as usize
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "coldsim {} | scenario {} ({}) | seed {} | {} run(s){shard}",
        m.coldsim_version, m.scenario_name, m.scenario_file, m.seed, m.runs
    );
    if !sf.is_sweep() {
        let r = &o.jobs[0].summary;
        let g = |k: &str| get(r, k);
        let _ = writeln!(s, "  {:<22}{:>14}", "invocations", g("arrivals"));
        let _ = writeln!(
            s,
            "  {:<22}{:>14}   rejected {}",
            "completed",
            g("completed"),
            g("rejected")
        );
        let _ = writeln!(
            s,
            "  {:<22}{:>14}   ({:.3}% of completed)",
            "cold starts",
            g("cold_starts"),
            100.0 * g("cold_fraction")
        );
        let _ = writeln!(
            s,
            "  {:<22}   p50 {:.1}   p99 {:.1}   p99.9 {:.1}   max {:.1}",
            "latency (ms)",
            g("latency_p50_ms"),
            g("latency_p99_ms"),
            g("latency_p999_ms"),
            g("latency_max_ms")
        );
        let _ = writeln!(
            s,
            "  {:<22}{:>14.1}   idle (wasted) of {:.1} allocated",
            "memory (GB-s)",
            g("memory_idle_gb_s"),
            g("memory_allocated_gb_s")
        );
        let _ = writeln!(
            s,
            "  {:<22}{:>14.2}   busy {:.2}, idle {:.2}",
            "mean instances",
            g("mean_instances"),
            g("mean_busy_instances"),
            g("mean_idle_instances")
        );
    } else {
        let _ = writeln!(
            s,
            "  {:<6}{:<5}{:>12}{:>10}{:>12}{:>14}  values",
            "point", "rep", "invocations", "cold %", "p99 ms", "idle GB-s"
        );
        let shown = o.jobs.len().min(40);
        for (j, l) in o.jobs.iter().zip(&o.labels).take(shown) {
            let r = &j.summary;
            let values: Vec<String> = l.iter().skip(1).map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                s,
                "  {:<6}{:<5}{:>12}{:>10.3}{:>12.1}{:>14.1}  {}",
                j.point,
                j.replicate,
                get(r, "arrivals"),
                100.0 * get(r, "cold_fraction"),
                get(r, "latency_p99_ms"),
                get(r, "memory_idle_gb_s"),
                values.join(" ")
            );
        }
        if o.jobs.len() > shown {
            let _ = writeln!(s, "  ... {} more rows in sweep.csv", o.jobs.len() - shown);
        }
    }
    let _ = writeln!(
        s,
        "  {:<22}{:>14}   in {:.2} s wall ({:.2} M events/s, {:.2} M invocations/s)",
        "events",
        m.events,
        m.wall_seconds,
        m.events_per_second / 1e6,
        m.invocations_per_second / 1e6
    );
    let dir = o.dir.display().to_string();
    let slash = if dir.ends_with('/') { "" } else { "/" };
    let _ = writeln!(s, "results written to {dir}{slash}");
    s
}
