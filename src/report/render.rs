//! `coldsim report RESULTS_DIR`: report.md and a self-contained
//! report.html (plots inline as SVG, no external resource) from a results
//! folder, one run or a sweep.
//!
//! The report holds the scenario, the manifest's reproducibility fields,
//! tables of the key columns per variant (sweep point) with the mean and
//! 95% Student-t interval across replicates, and the plots of
//! [`super::plots`], which are also written as `plots/<id>.svg` and
//! `plots/<id>.png` (report.md links the PNGs), with a manifest.json (the
//! reported folder, its scenario, this build). The folder is written
//! through [`super::Staging`], as results folders are.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::manifest::{self, Manifest};
use super::plots::{self, Plot};
use super::study::{self, Estimate, Study};
use super::{Kind, Staging};
use crate::error::{Error, Result};

/// The key columns of the tables: (column, heading, scale).
const COLD_TABLE: [(&str, &str, f64); 6] = [
    ("arrivals", "arrivals", 1.0),
    ("cold_fraction", "cold %", 100.0),
    ("fn_cold_pct_p75", "p75 fn cold %", 1.0),
    ("latency_p50_ms", "latency p50 ms", 1.0),
    ("latency_p99_ms", "latency p99 ms", 1.0),
    ("rejected", "rejected", 1.0),
];
const COST_TABLE: [(&str, &str, f64); 6] = [
    ("mean_instances", "mean instances", 1.0),
    ("memory_idle_gb_s", "idle GB-s", 1.0),
    ("memory_allocated_gb_s", "allocated GB-s", 1.0),
    ("bill_usd", "bill USD", 1.0),
    ("provider_cost_usd", "provider USD", 1.0),
    ("margin_usd", "margin USD", 1.0),
];

/// What `report` wrote.
#[derive(Clone, Debug)]
pub struct ReportOutcome {
    pub dir: PathBuf,
    pub plots: Vec<&'static str>,
}

/// The fields of a report's manifest.json after the provenance (which is
/// the reported results folder's scenario and seed, and this build).
#[derive(serde::Serialize)]
struct ReportBody {
    /// The results folder reported on, as given.
    results: String,
    host: String,
    started_at_utc: String,
}

/// Reads `results`, writes the report folder `out` (default
/// `results/report`), replacing an earlier report there only with `force`
/// (see [`super::staging`]). `command` is recorded in its manifest.json.
pub fn report(
    results: &Path,
    out: Option<&Path>,
    force: bool,
    command: &[String],
) -> Result<ReportOutcome> {
    let st = study::load(results)?;
    let dest = out.map_or_else(|| results.join("report"), Path::to_path_buf);
    let staging = Staging::new(&dest, force, Kind::Report, &[results])?;
    let started = manifest::now_utc();
    let plots = plots::plots(&st).map_err(|m| Error::Output {
        path: dest.display().to_string(),
        msg: format!("cannot draw a plot: {m}"),
    })?;
    staging.write("report.md", markdown(&st, &plots).as_bytes())?;
    staging.write("report.html", html(&st, &plots).as_bytes())?;
    for p in &plots {
        staging.write(&format!("plots/{}.svg", p.id), p.svg.as_bytes())?;
        staging.write(&format!("plots/{}.png", p.id), &p.png)?;
    }
    let m = &st.manifest;
    let text = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let mut manifest = Manifest {
        coldsim_version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: manifest::git_commit().to_string(),
        command: command.to_vec(),
        scenario_file: text("scenario_file"),
        scenario_name: text("scenario_name"),
        scenario_sha256: text("scenario_sha256"),
        seed: m.get("seed").and_then(|v| v.as_u64()).unwrap_or(0),
        body: ReportBody {
            results: results.display().to_string(),
            host: manifest::host_name(),
            started_at_utc: started,
        },
        files: Default::default(),
        scenario_text: st.scenario_text.clone(),
    };
    staging.write_manifest(&mut manifest)?;
    let dir = staging.commit()?;
    Ok(ReportOutcome {
        dir,
        plots: plots.iter().map(|p| p.id).collect(),
    })
}

/// A number for a table: about four significant digits.
fn num(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "-".into()
    } else if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a == 0.0 {
        "0".into()
    } else if a >= 0.1 {
        format!("{v:.3}")
    } else {
        format!("{v:.5}")
    }
}

fn cell(e: &Estimate) -> String {
    if e.half.is_finite() {
        format!("{} ± {}", num(e.mean), num(e.half))
    } else {
        num(e.mean)
    }
}

/// Table rows: header, then one row per variant.
fn table(st: &Study, cols: &[(&str, &str, f64)]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["variant".to_string(), "n".to_string()];
    header.extend(cols.iter().map(|c| c.1.to_string()));
    let rows = st
        .variants
        .iter()
        .map(|v| {
            let mut r = vec![v.label(&st.name), v.runs.len().to_string()];
            r.extend(cols.iter().map(|(c, _, scale)| {
                let xs: Vec<f64> = v.values_of(c).iter().map(|x| x * scale).collect();
                cell(&Estimate::of(&xs))
            }));
            r
        })
        .collect();
    (header, rows)
}

fn manifest_rows(st: &Study) -> Vec<(&'static str, String)> {
    let m = &st.manifest;
    let s = |k: &str| match &m[k] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        v => v.to_string(),
    };
    let f = |k: &str, d: usize| m[k].as_f64().map_or("-".into(), |v| format!("{v:.d$}"));
    vec![
        ("coldsim version", s("coldsim_version")),
        ("git commit", s("git_commit")),
        ("scenario file", s("scenario_file")),
        ("scenario sha256", s("scenario_sha256")),
        ("seed", s("seed")),
        ("sweep points", s("sweep_points")),
        ("replicates", s("replicates")),
        ("runs", s("runs")),
        ("started (UTC)", s("started_at_utc")),
        ("host", s("host")),
        ("threads", s("threads")),
        ("wall time (s)", f("wall_seconds", 2)),
        ("events", s("events")),
        ("events per second", f("events_per_second", 0)),
    ]
}

const INTRO: &str = "Each table cell is the mean across replicates ± the half-width of its \
                     95% Student-t interval (n-1 degrees of freedom); a cell without ± has \
                     one replicate.";

fn markdown(st: &Study, plots: &[Plot]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# coldsim report: {}\n", st.name);
    let _ = writeln!(o, "Results folder: `{}`\n", st.dir.display());
    let _ = writeln!(o, "## Manifest\n\n| field | value |\n| --- | --- |");
    for (k, v) in manifest_rows(st) {
        let _ = writeln!(o, "| {k} | {} |", v.replace('|', "\\|"));
    }
    if st.is_sweep {
        let _ = writeln!(
            o,
            "\n## Variants\n\n| point | label | swept values |\n| --- | --- | --- |"
        );
        for v in &st.variants {
            let _ = writeln!(
                o,
                "| {} | {} | `{}` |",
                v.point,
                v.label(&st.name),
                v.full_label(&st.name).replace('|', "\\|")
            );
        }
    }
    let _ = writeln!(o, "\n## Results\n\n{INTRO}\n");
    for (title, cols) in [
        ("Cold starts and latency", &COLD_TABLE[..]),
        ("Resources and cost", &COST_TABLE[..]),
    ] {
        let (h, rows) = table(st, cols);
        let _ = writeln!(o, "### {title}\n");
        let _ = writeln!(o, "| {} |", h.join(" | "));
        let _ = writeln!(o, "|{}", " --- |".repeat(h.len()));
        for r in rows {
            let _ = writeln!(o, "| {} |", r.join(" | ").replace('\n', " "));
        }
        o.push('\n');
    }
    let _ = writeln!(o, "## Plots\n");
    for p in plots {
        let _ = writeln!(
            o,
            "### {}\n\n![{}](plots/{}.png)\n\n{} ([SVG](plots/{}.svg))\n",
            p.title, p.title, p.id, p.caption, p.id
        );
    }
    if !plots.iter().any(|p| p.id == "instances-memory-over-time") {
        let _ = writeln!(
            o,
            "No time series: set `[report] interval = \"1m\"` in the scenario to get timeseries.csv and its plot.\n"
        );
    }
    let _ = writeln!(
        o,
        "## Scenario\n\n```toml\n{}\n```",
        st.scenario_text.trim_end()
    );
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The SVG element of a plot, without an XML declaration, with a title
/// for screen readers.
fn inline_svg(p: &Plot) -> String {
    let s = p.svg.trim();
    let s = match s.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(rest, |(_, r)| r).trim_start(),
        None => s,
    };
    match s.split_once('>') {
        Some((open, rest)) if open.starts_with("<svg") => format!(
            "{open} role=\"img\" aria-label=\"{}\" class=\"plot-svg\"><title>{}</title>{rest}",
            esc(&p.title),
            esc(&p.title)
        ),
        _ => s.to_string(),
    }
}

fn html(st: &Study, plots: &[Plot]) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>coldsim report: {}</title>\n<style>\n\
         body {{ font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; max-width: 1000px; \
         margin: 2em auto; padding: 0 1em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }}\n\
         th:first-child, td:first-child {{ text-align: left; }}\n\
         #manifest td, #variants td {{ text-align: left; }}\n\
         figure.plot {{ margin: 2em 0; }}\n figure.plot svg {{ max-width: 100%; height: auto; }}\n\
         figcaption {{ font-size: 0.9em; color: #444; }}\n\
         pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}\n\
         </style>\n</head>\n<body>\n<h1>coldsim report: {}</h1>\n",
        esc(&st.name),
        esc(&st.name)
    );
    let _ = writeln!(o, "<h2>Manifest</h2>\n<table id=\"manifest\">");
    for (k, v) in manifest_rows(st) {
        let _ = writeln!(o, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    let _ = writeln!(o, "</table>");
    if st.is_sweep {
        let _ = writeln!(
            o,
            "<h2>Variants</h2>\n<table id=\"variants\"><tr><th>point</th><th>label</th><th>swept values</th></tr>"
        );
        for v in &st.variants {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                v.point,
                esc(&v.label(&st.name)),
                esc(&v.full_label(&st.name))
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(o, "<h2>Results</h2>\n<p>{}</p>", esc(INTRO));
    for (id, title, cols) in [
        ("table-cold", "Cold starts and latency", &COLD_TABLE[..]),
        ("table-cost", "Resources and cost", &COST_TABLE[..]),
    ] {
        let (h, rows) = table(st, cols);
        let _ = writeln!(o, "<h3>{title}</h3>\n<table id=\"{id}\" class=\"results\">");
        let _ = writeln!(
            o,
            "<tr>{}</tr>",
            h.iter()
                .map(|c| format!("<th>{}</th>", esc(c)))
                .collect::<String>()
        );
        for r in rows {
            let _ = writeln!(
                o,
                "<tr>{}</tr>",
                r.iter()
                    .map(|c| format!("<td>{}</td>", esc(c)))
                    .collect::<String>()
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(o, "<h2>Plots</h2>");
    for p in plots {
        let _ = writeln!(
            o,
            "<figure class=\"plot\" id=\"plot-{}\">\n{}\n<figcaption><b>{}.</b> {}</figcaption>\n</figure>",
            p.id,
            inline_svg(p),
            esc(&p.title),
            esc(&p.caption)
        );
    }
    if !plots.iter().any(|p| p.id == "instances-memory-over-time") {
        let _ = writeln!(
            o,
            "<p>No time series: set <code>[report] interval = \"1m\"</code> in the scenario to get timeseries.csv and its plot.</p>"
        );
    }
    let _ = writeln!(
        o,
        "<h2>Scenario</h2>\n<pre id=\"scenario\">{}</pre>\n</body>\n</html>",
        esc(st.scenario_text.trim_end())
    );
    o
}
