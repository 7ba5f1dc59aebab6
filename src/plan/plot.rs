//! plan.svg and plan.png: the first clause's metric against the varied
//! value (mean over replicates, a bar up to the one-sided 95% upper bound),
//! the threshold as a horizontal line and the answer as a vertical one.
//! Values that meet the SLO are drawn in green, the others in red.
//!
//! Text is drawn with the DejaVu Sans font bundled in `assets/fonts`, so
//! the PNG looks the same on a machine without fonts.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{PlanOutcome, Verdict};

const SIZE: (u32, u32) = (900, 560);
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bundled font is valid; if it were not, drawing text fails
        // and the error names the plot.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

const GREEN: RGBColor = RGBColor(0x1a, 0x9b, 0x50);
const RED: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const BLUE: RGBColor = RGBColor(0x1f, 0x77, 0xb4);

/// The plot as SVG text and PNG bytes.
pub fn render(o: &PlanOutcome) -> Result<(String, Vec<u8>), String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, o)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, o)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, SIZE.0, SIZE.1);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| e.to_string())?;
        w.write_image_data(&rgb).map_err(|e| e.to_string())?;
    }
    Ok((svg, png_bytes))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, o: &PlanOutcome) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let Some(clause) = o.slo.clauses.first() else {
        return Ok(());
    };
    let pts: Vec<(i64, f64, f64, bool)> = o
        .points
        .iter()
        .filter(|p| p.verdict != Verdict::Invalid)
        .filter_map(|p| {
            p.stats
                .first()
                .map(|s| (p.value, s.mean, s.upper, p.meets()))
        })
        .filter(|(_, m, u, _)| m.is_finite() && u.is_finite())
        .collect();
    let ymax = pts
        .iter()
        .map(|(_, m, u, _)| m.max(*u))
        .fold(clause.threshold, f64::max);
    let ymin = pts
        .iter()
        .map(|(_, m, _, _)| *m)
        .fold(clause.threshold.min(0.0), f64::min);
    let span = (ymax - ymin).max(1e-9);
    let (x0, x1) = (o.min as f64 - 0.5, o.max as f64 + 0.5);
    let (y0, y1) = (ymin - 0.02 * span, ymax + 0.08 * span);
    let caption = format!("{} against {} (SLO: {})", clause.name, o.key, clause.text);
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let n_values = (o.max - o.min + 1).clamp(2, 12) as usize;
    chart
        .configure_mesh()
        .x_desc(o.key.as_str())
        .y_desc(format!("{} (mean, bar to 95% upper bound)", clause.name))
        .x_labels(n_values)
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(x0, clause.threshold), (x1, clause.threshold)],
            RED.stroke_width(1),
        ))
        .map_err(err)?
        .label(format!(
            "threshold {} {}",
            clause.op.symbol(),
            clause.threshold
        ))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], RED));
    chart
        .draw_series(LineSeries::new(
            pts.iter().map(|(v, m, _, _)| (*v as f64, *m)),
            BLUE.stroke_width(2),
        ))
        .map_err(err)?
        .label(format!("mean of {} replicate(s)", o.replicates))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLUE));
    chart
        .draw_series(pts.iter().map(|(v, m, u, ok)| {
            let c = if *ok { GREEN } else { RED };
            PathElement::new([(*v as f64, *m), (*v as f64, *u)], c.stroke_width(2))
        }))
        .map_err(err)?;
    chart
        .draw_series(pts.iter().map(|(v, m, _, ok)| {
            let c = if *ok { GREEN } else { RED };
            Circle::new((*v as f64, *m), 5, c.filled())
        }))
        .map_err(err)?;
    if let Some(a) = o.answer {
        chart
            .draw_series(LineSeries::new(
                [(a as f64, y0), (a as f64, y1)],
                GREEN.stroke_width(1),
            ))
            .map_err(err)?
            .label(format!("answer: {} = {a}", o.key))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], GREEN));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    Ok(())
}
