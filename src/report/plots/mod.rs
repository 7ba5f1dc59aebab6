//! The plots of `coldsim report`, drawn with plotters as SVG and PNG.
//!
//! * latency CDF per variant (sweep point), from each point's first
//!   replicate's latency.csv;
//! * cold-start percentage against idle (wasted) memory-time, one point per
//!   variant with its 95% interval across replicates: the trade-off chart
//!   of Shahrad et al. (Serverless in the Wild, ATC'20, Figure 15) and
//!   Fuerst and Sharma (FaasCache, ASPLOS'21);
//! * instances and memory over time, from timeseries.csv (`[report]
//!   interval`);
//! * the user's bill, the provider's cost and the margin per variant;
//! * the mix of start kinds (warm, cold full init, local and remote
//!   snapshot restore) per variant.
//!
//! Text in PNG files is drawn by ab_glyph from DejaVu Sans, bundled in
//! `assets/fonts` (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`),
//! so no system font is needed; SVG files name the font family and leave
//! drawing the text to the viewer. Both are deterministic for the same
//! inputs.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::study::{Estimate, Study, Variant};

mod draw;
use draw::*;

/// DejaVu Sans 2.37 (assets/fonts/LICENSE-DejaVu.txt).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
const W: u32 = 960;
const H: u32 = 540;

/// Okabe and Ito's colour-blind-safe palette, then grey and wine.
const COLOURS: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
    RGBColor(136, 136, 136),
    RGBColor(136, 34, 85),
];

/// The corner of the plotting area (in data units) holding the fewest
/// points, for the legend.
fn free_corner(points: &[(f64, f64)], x: (f64, f64), y: (f64, f64)) -> SeriesLabelPosition {
    let xm = (x.0 + x.1) / 2.0;
    let ym = (y.0 + y.1) / 2.0;
    let count = |right: bool, top: bool| {
        points
            .iter()
            .filter(|(px, py)| (*px >= xm) == right && (*py >= ym) == top)
            .count()
    };
    [
        (count(true, true), SeriesLabelPosition::UpperRight),
        (count(true, false), SeriesLabelPosition::LowerRight),
        (count(false, true), SeriesLabelPosition::UpperLeft),
        (count(false, false), SeriesLabelPosition::LowerLeft),
    ]
    .into_iter()
    .min_by_key(|(n, _)| *n)
    .map_or(SeriesLabelPosition::UpperRight, |(_, p)| p)
}

fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

/// One plot, rendered.
#[derive(Clone, Debug)]
pub struct Plot {
    /// File stem (`latency-cdf`) and element id in report.html.
    pub id: &'static str,
    pub title: String,
    pub caption: String,
    pub svg: String,
    pub png: Vec<u8>,
}

type Res = Result<(), String>;

fn e<T: std::fmt::Debug>(x: T) -> String {
    format!("{x:?}")
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font is valid; were it not, PNGs would lack text.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

fn est(v: &Variant, key: &str) -> Estimate {
    Estimate::of(&v.values_of(key))
}

/// All plots of a study (those its files allow), in report order.
pub fn plots(study: &Study) -> Result<Vec<Plot>, String> {
    let names: Vec<String> = study
        .variants
        .iter()
        .map(|v| v.label(&study.name))
        .collect();
    let shorts: Vec<String> = study
        .variants
        .iter()
        .map(|v| v.short(&study.name))
        .collect();
    let mut out = Vec::new();

    // Latency CDF.
    let series: Vec<Series> = study
        .variants
        .iter()
        .zip(&names)
        .filter_map(|(v, name)| {
            let t = v.runs.first()?.latency.as_ref()?;
            let p = t.numbers("percentile");
            let l = t.numbers("latency_ms");
            (p.len() == l.len() && !p.is_empty()).then(|| Series {
                name: name.clone(),
                points: l
                    .iter()
                    .zip(&p)
                    .filter(|(l, _)| **l > 0.0)
                    .map(|(l, p)| (*l, *p / 100.0))
                    .collect(),
            })
        })
        .collect();
    if !series.is_empty() {
        let title = "End-to-end latency CDF";
        let fig = Fig::Lines {
            title: title.into(),
            x_desc: "end-to-end latency (ms, log scale)".into(),
            y_desc: "fraction of invocations".into(),
            series,
            log_x: true,
            legend: Some(SeriesLabelPosition::LowerRight),
        };
        out.push(
            fig.render(
                "latency-cdf",
                title,
                "Fraction of invocations whose end-to-end latency (queueing + start + execution) \
             is at most x, per variant (first replicate; the percentiles of latency.csv, \
             0 to 100, joined by lines)."
                    .into(),
            )?,
        );
    }

    // Cold starts against idle memory: overall, and the 75th percentile
    // of per-function cold % (the measure of Serverless in the Wild).
    let markers = |key: &str, scale: f64| -> Vec<Marker> {
        study
            .variants
            .iter()
            .zip(&names)
            .map(|(v, name)| {
                let x = est(v, "memory_idle_gb_s");
                let ys: Vec<f64> = v.values_of(key).iter().map(|f| f * scale).collect();
                let y = Estimate::of(&ys);
                Marker {
                    name: name.clone(),
                    x: x.mean,
                    y: y.mean,
                    x_half: x.half,
                    y_half: y.half,
                }
            })
            .filter(|m| m.x.is_finite() && m.y.is_finite())
            .collect()
    };
    let all = markers("cold_fraction", 100.0);
    let per_fn = markers("fn_cold_pct_p75", 1.0);
    if !all.is_empty() {
        let title = "Cold starts against idle memory";
        let fig = Fig::SideBySide(
            Box::new(Fig::Scatter {
                title: "All invocations".into(),
                x_desc: "idle (wasted) memory-time (GB-s)".into(),
                y_desc: "cold starts (% of completed invocations)".into(),
                markers: all,
                legend: true,
            }),
            Box::new(Fig::Scatter {
                title: "Per function: 75th percentile".into(),
                x_desc: "idle (wasted) memory-time (GB-s)".into(),
                y_desc: "p75 of per-function cold start %".into(),
                markers: per_fn,
                legend: false,
            }),
        );
        out.push(
            fig.render(
                "cold-vs-idle-memory",
                title,
                "Each variant's cold starts against the memory-time its idle instances held \
             (the keep-alive trade-off of Serverless in the Wild, Figure 15, and FaasCache): \
             left, the share of all completed invocations that were cold; right, the 75th \
             percentile across functions of each function's cold-start percentage (the \
             paper's measure, which a few busy functions cannot hide). Mean across \
             replicates with 95% Student-t intervals when there are two or more; both \
             panels use the same colours. Lower left is better."
                    .into(),
            )?,
        );
    }

    // Instances and memory over time.
    let ts: Vec<(&String, &super::study::Table)> = study
        .variants
        .iter()
        .zip(&names)
        .filter_map(|(v, n)| Some((n, v.runs.first()?.timeseries.as_ref()?)))
        .collect();
    if !ts.is_empty() {
        let end = ts
            .iter()
            .flat_map(|(_, t)| t.numbers("end_s"))
            .fold(0.0f64, f64::max);
        let (unit, div) = if end > 3.0 * 3600.0 {
            ("h", 3600.0)
        } else if end > 180.0 {
            ("min", 60.0)
        } else {
            ("s", 1.0)
        };
        let line = |col: &str, scale: f64| -> Vec<Series> {
            ts.iter()
                .map(|(n, t)| {
                    let (a, b, v) = (t.numbers("start_s"), t.numbers("end_s"), t.numbers(col));
                    Series {
                        name: (*n).clone(),
                        points: a
                            .iter()
                            .zip(&b)
                            .zip(&v)
                            .flat_map(|((a, b), v)| [(a / div, v * scale), (b / div, v * scale)])
                            .collect(),
                    }
                })
                .collect()
        };
        let x_desc = format!("simulated time ({unit})");
        let fig = Fig::TwoPanels(
            Box::new(Fig::Lines {
                title: "Instances alive (idle + busy + starting)".into(),
                x_desc: x_desc.clone(),
                y_desc: "instances".into(),
                series: line("instances", 1.0),
                log_x: false,
                legend: None,
            }),
            Box::new(Fig::Lines {
                title: "Memory allocated".into(),
                x_desc,
                y_desc: "memory (GB)".into(),
                series: line("memory_mb", 1.0 / 1024.0),
                log_x: false,
                legend: None,
            }),
            ts.iter().map(|(n, _)| (*n).clone()).collect(),
        );
        out.push(
            fig.render(
                "instances-memory-over-time",
                "Instances and memory over time",
                "Exact time averages over each interval of timeseries.csv (first replicate), \
             drawn as steps: one level per interval. Both panels use the same colours."
                    .into(),
            )?,
        );
    }

    // Cost breakdown.
    let cols = [
        ("bill_usd", "user's bill"),
        ("provider_cost_usd", "provider's cost"),
        ("margin_usd", "margin"),
    ];
    let groups: Vec<(String, Vec<f64>, Vec<f64>)> = cols
        .iter()
        .map(|(c, name)| {
            let e: Vec<Estimate> = study.variants.iter().map(|v| est(v, c)).collect();
            (
                name.to_string(),
                e.iter().map(|x| x.mean).collect(),
                e.iter().map(|x| x.half).collect(),
            )
        })
        .collect();
    if groups
        .iter()
        .any(|(_, v, _)| v.iter().any(|x| x.is_finite()))
    {
        let title = "Cost per variant";
        let fig = Fig::Bars {
            title: title.into(),
            y_desc: "USD over the run".into(),
            categories: shorts.clone(),
            groups,
            stacked: false,
            notes: Vec::new(),
        };
        out.push(
            fig.render(
                "cost",
                title,
                "The user's bill (billed GB-s and requests), the provider's cost (host-hours and \
             energy) and the margin between them, per variant: mean across replicates, with \
             95% intervals when there are two or more."
                    .into(),
            )?,
        );
    }

    // Start-kind mix.
    let share = |c: &str| -> Vec<f64> {
        study
            .variants
            .iter()
            .map(|v| {
                let share: Vec<f64> = v
                    .runs
                    .iter()
                    .filter_map(|r| {
                        let done = r.get("completed")?;
                        (done > 0.0).then(|| 100.0 * r.get(c).unwrap_or(0.0) / done)
                    })
                    .collect();
                Estimate::of(&share).mean
            })
            .collect()
    };
    let notes: Vec<String> = share("warm_starts")
        .iter()
        .map(|w| format!("warm {w:.2}%"))
        .collect();
    let kinds = [
        ("cold_full", "cold: full init"),
        ("cold_local_restore", "cold: local snapshot"),
        ("cold_remote_restore", "cold: remote snapshot"),
    ];
    let groups: Vec<(String, Vec<f64>, Vec<f64>)> = kinds
        .iter()
        .map(|(c, name)| (name.to_string(), share(c), Vec::new()))
        .collect();
    let title = "Cold starts by kind per variant";
    let fig = Fig::Bars {
        title: title.into(),
        y_desc: "% of completed invocations".into(),
        categories: shorts,
        groups,
        stacked: true,
        notes,
    };
    out.push(
        fig.render(
            "start-kinds",
            title,
            "Cold starts as a share of completed invocations, by how the instance started: a \
         full initialisation, or a snapshot restore from the host's cache (local) or the \
         remote store; the rest were warm (the percentage above each bar). Mean across \
         replicates."
                .into(),
        )?,
    );
    Ok(out)
}
