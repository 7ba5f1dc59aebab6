//! Drawing: the figure kinds (lines, scatter with intervals, grouped
//! bars, time-series panels) and their axes and legends, in SVG and PNG.

#[allow(unused_imports)]
use super::*;

/// A line on a chart.
pub(super) struct Series {
    pub(super) name: String,
    pub(super) points: Vec<(f64, f64)>,
}

/// A labelled point with 95% half-widths (NaN for none).
pub(super) struct Marker {
    pub(super) name: String,
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) x_half: f64,
    pub(super) y_half: f64,
}

/// What a figure draws; each kind is drawn on any backend.
pub(super) enum Fig {
    Lines {
        title: String,
        x_desc: String,
        y_desc: String,
        series: Vec<Series>,
        log_x: bool,
        /// Where the legend goes; none for a panel sharing another's.
        legend: Option<SeriesLabelPosition>,
    },
    /// Two line charts, one above the other, sharing the x axis, with
    /// one legend (these names, in series order) in a column at the right.
    TwoPanels(Box<Fig>, Box<Fig>, Vec<String>),
    /// Two charts side by side.
    SideBySide(Box<Fig>, Box<Fig>),
    Scatter {
        title: String,
        x_desc: String,
        y_desc: String,
        markers: Vec<Marker>,
        legend: bool,
    },
    /// Bars per category: grouped side by side, or stacked.
    Bars {
        title: String,
        y_desc: String,
        categories: Vec<String>,
        /// (name, value per category, 95% half-width per category).
        groups: Vec<(String, Vec<f64>, Vec<f64>)>,
        stacked: bool,
        /// A note above each category's bars.
        notes: Vec<String>,
    },
}

impl Fig {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Res {
        match self {
            Fig::Lines {
                title,
                x_desc,
                y_desc,
                series,
                log_x,
                legend,
            } => draw_lines(root, title, x_desc, y_desc, series, *log_x, legend),
            Fig::TwoPanels(a, b, names) => {
                let (plots, side) = root.split_horizontally(W - 200);
                let (top, bottom) = plots.split_vertically(H / 2);
                a.draw(&top)?;
                b.draw(&bottom)?;
                side_legend(&side, names)
            }
            Fig::SideBySide(a, b) => {
                let (left, right) = root.split_horizontally(W / 2);
                a.draw(&left)?;
                b.draw(&right)
            }
            Fig::Scatter {
                title,
                x_desc,
                y_desc,
                markers,
                legend,
            } => draw_scatter(root, title, x_desc, y_desc, markers, *legend),
            Fig::Bars {
                title,
                y_desc,
                categories,
                groups,
                stacked,
                notes,
            } => draw_bars(root, title, y_desc, categories, groups, *stacked, notes),
        }
    }

    /// Draws the figure as SVG and as PNG.
    pub(super) fn render(
        &self,
        id: &'static str,
        title: &str,
        caption: String,
    ) -> Result<Plot, String> {
        register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
            root.fill(&WHITE).map_err(e)?;
            self.draw(&root)?;
            root.present().map_err(e)?;
        }
        let mut rgb = vec![255u8; (W * H * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area();
            root.fill(&WHITE).map_err(e)?;
            self.draw(&root)?;
            root.present().map_err(e)?;
        }
        let mut png_bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png_bytes, W, H);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Best);
            let mut w = enc.write_header().map_err(e)?;
            w.write_image_data(&rgb).map_err(e)?;
        }
        Ok(Plot {
            id,
            title: title.to_string(),
            caption,
            svg,
            png: png_bytes,
        })
    }
}

pub(super) fn draw_lines<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    log_x: bool,
    legend: &Option<SeriesLabelPosition>,
) -> Res {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (x0, x1) = bounds(xs, log_x);
    let (_, y1) = bounds(ys, false);
    // Room above the lines for the legend, except on a CDF (top 1).
    let room = match legend {
        Some(_) if !log_x => 1.1 + 0.11 * series.len() as f64,
        _ => 1.05,
    };
    let y1 = if y1 <= 0.0 { 1.0 } else { y1 * room };
    let mut cb = ChartBuilder::on(root);
    cb.caption(title, (FAMILY, 22))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(80);
    macro_rules! body {
        ($chart:ident) => {{
            $chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .axis_desc_style((FAMILY, 18))
                .label_style((FAMILY, 15))
                .light_line_style(RGBColor(238, 238, 238))
                .bold_line_style(RGBColor(215, 215, 215))
                .y_label_formatter(&|v| fmt_num(*v))
                .x_label_formatter(&|v| fmt_num(*v))
                .draw()
                .map_err(e)?;
            for (i, s) in series.iter().enumerate() {
                let c = colour(i);
                // Colours repeat after ten series; dashes tell those apart.
                let dashed = i >= COLOURS.len();
                let anno = if dashed {
                    $chart
                        .draw_series(DashedLineSeries::new(
                            s.points.iter().copied(),
                            8,
                            5,
                            c.stroke_width(2),
                        ))
                        .map_err(e)?
                } else {
                    $chart
                        .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
                        .map_err(e)?
                };
                anno.label(s.name.clone()).legend(move |(x, y)| {
                    let w = if dashed { 9 } else { 24 };
                    PathElement::new(vec![(x, y), (x + w, y)], c.stroke_width(3))
                });
            }
            if let Some(pos) = legend {
                $chart
                    .configure_series_labels()
                    .position(pos.clone())
                    .label_font((FAMILY, 14))
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(160, 160, 160))
                    .draw()
                    .map_err(e)?;
            }
        }};
    }
    if log_x {
        let mut chart = cb
            .build_cartesian_2d((x0..x1).log_scale(), 0.0..y1)
            .map_err(e)?;
        body!(chart);
    } else {
        let mut chart = cb.build_cartesian_2d(x0..x1, 0.0..y1).map_err(e)?;
        body!(chart);
    }
    Ok(())
}

pub(super) fn draw_scatter<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    markers: &[Marker],
    show_legend: bool,
) -> Res {
    let fin = |v: f64| if v.is_finite() { v } else { 0.0 };
    let xs = markers.iter().map(|m| m.x + fin(m.x_half));
    let ys = markers.iter().map(|m| m.y + fin(m.y_half));
    let (_, x1) = bounds(xs, false);
    let (_, y1) = bounds(ys, false);
    let (xr, yr) = (x1 * 1.15, (y1 * 1.15).max(1e-9));
    let pts: Vec<(f64, f64)> = markers.iter().map(|m| (m.x, m.y)).collect();
    let legend = free_corner(&pts, (0.0, xr), (0.0, yr));
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 20))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..xr, 0.0..yr)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style((FAMILY, 18))
        .label_style((FAMILY, 15))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .y_label_formatter(&|v| fmt_num(*v))
        .x_label_formatter(&|v| fmt_num(*v))
        .draw()
        .map_err(e)?;
    for (i, mk) in markers.iter().enumerate() {
        let c = colour(i);
        if mk.y_half.is_finite() {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(mk.x, mk.y - mk.y_half), (mk.x, mk.y + mk.y_half)],
                    c.stroke_width(2),
                )))
                .map_err(e)?;
        }
        if mk.x_half.is_finite() {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(mk.x - mk.x_half, mk.y), (mk.x + mk.x_half, mk.y)],
                    c.stroke_width(2),
                )))
                .map_err(e)?;
        }
        // Colours repeat after ten variants; shapes tell those apart.
        if i < COLOURS.len() {
            chart
                .draw_series(std::iter::once(Circle::new((mk.x, mk.y), 6, c.filled())))
                .map_err(e)?
                .label(mk.name.clone())
                .legend(move |(x, y)| Circle::new((x + 10, y), 6, c.filled()));
        } else {
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (mk.x, mk.y),
                    8,
                    c.filled(),
                )))
                .map_err(e)?
                .label(mk.name.clone())
                .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 8, c.filled()));
        }
    }
    if show_legend {
        chart
            .configure_series_labels()
            .position(legend)
            .label_font((FAMILY, 13))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

pub(super) fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    categories: &[String],
    groups: &[(String, Vec<f64>, Vec<f64>)],
    stacked: bool,
    notes: &[String],
) -> Res {
    let n = categories.len();
    let k = groups.len().max(1);
    let fin = |v: f64| if v.is_finite() { v } else { 0.0 };
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for c in 0..n {
        let mut top = 0.0;
        for (_, v, h) in groups {
            let x = v.get(c).copied().map_or(0.0, fin);
            let hw = h.get(c).copied().map_or(0.0, fin);
            if stacked {
                top += x;
                hi = hi.max(top);
            } else {
                hi = hi.max(x + hw);
                lo = lo.min(x - hw);
            }
        }
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.08;
    let y0 = if lo < 0.0 { lo - pad } else { 0.0 };
    let tops: Vec<f64> = (0..n)
        .map(|c| {
            let v = groups
                .iter()
                .map(|(_, v, _)| v.get(c).copied().map_or(0.0, fin));
            if stacked {
                v.sum()
            } else {
                v.fold(0.0, f64::max)
            }
        })
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 22))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y0..hi + pad * (1.0 + 1.3 * k as f64))
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("variant")
        .y_desc(y_desc)
        .axis_desc_style((FAMILY, 18))
        .label_style((FAMILY, 15))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_labels(0)
        .y_label_formatter(&|v| fmt_num(*v))
        .draw()
        .map_err(e)?;
    // Category names under the axis, centred on their bars.
    let font =
        TextStyle::from((FAMILY, 15).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ));
    for (i, name) in categories.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64, y0));
        let (ox, oy) = root.get_base_pixel();
        root.draw(&Text::new(
            name.clone(),
            (px - ox, py - oy + 8),
            font.clone(),
        ))
        .map_err(e)?;
    }
    let width = 0.8;
    for (g, (name, vals, halves)) in groups.iter().enumerate() {
        let c = colour(g);
        let rects: Vec<Rectangle<(f64, f64)>> = (0..n)
            .map(|i| {
                let v = vals.get(i).copied().map_or(0.0, fin);
                let (x0, x1, b) = if stacked {
                    let below: f64 = groups[..g]
                        .iter()
                        .map(|(_, v, _)| v.get(i).copied().map_or(0.0, fin))
                        .sum();
                    (i as f64 - width / 2.0, i as f64 + width / 2.0, below)
                } else {
                    let w = width / k as f64;
                    let x0 = i as f64 - width / 2.0 + g as f64 * w;
                    (x0, x0 + w * 0.92, 0.0)
                };
                Rectangle::new([(x0, b), (x1, b + v)], c.filled())
            })
            .collect();
        chart
            .draw_series(rects)
            .map_err(e)?
            .label(name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        if !stacked {
            let w = width / k as f64;
            let bars: Vec<PathElement<(f64, f64)>> = (0..n)
                .filter_map(|i| {
                    let v = vals.get(i).copied().map_or(0.0, fin);
                    let h = halves.get(i).copied().filter(|h| h.is_finite())?;
                    let x = i as f64 - width / 2.0 + (g as f64 + 0.46) * w;
                    Some(PathElement::new(
                        vec![(x, v - h), (x, v + h)],
                        BLACK.stroke_width(2),
                    ))
                })
                .collect();
            chart.draw_series(bars).map_err(e)?;
        }
    }
    let note_font =
        TextStyle::from((FAMILY, 14).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Bottom,
        ));
    for (i, note) in notes.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64, tops.get(i).copied().unwrap_or(0.0)));
        let (ox, oy) = root.get_base_pixel();
        root.draw(&Text::new(
            note.clone(),
            (px - ox, py - oy - 6),
            note_font.clone(),
        ))
        .map_err(e)?;
    }
    if y0 < 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                BLACK.stroke_width(1),
            )))
            .map_err(e)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(160, 160, 160))
        .draw()
        .map_err(e)?;
    Ok(())
}

/// A legend in a column: a line sample (dashed past ten colours, as the
/// series) and the name of each series.
pub(super) fn side_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[String],
) -> Res {
    let font = TextStyle::from((FAMILY, 13).into_font());
    for (i, name) in names.iter().enumerate() {
        let y = 50 + 20 * i as i32;
        let c = colour(i);
        if i < COLOURS.len() {
            area.draw(&PathElement::new(vec![(4, y), (28, y)], c.stroke_width(3)))
                .map_err(e)?;
        } else {
            for x in [4, 14, 24] {
                area.draw(&PathElement::new(
                    vec![(x, y), (x + 6, y)],
                    c.stroke_width(3),
                ))
                .map_err(e)?;
            }
        }
        area.draw(&Text::new(name.clone(), (34, y - 7), font.clone()))
            .map_err(e)?;
    }
    Ok(())
}

/// The range of some values; positive and padded for a log axis.
pub(super) fn bounds(v: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for x in v.filter(|x| x.is_finite() && (!log || *x > 0.0)) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return if log { (0.1, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        (lo / 1.25, hi * 1.25)
    } else if hi > lo {
        (lo.min(0.0), hi)
    } else {
        (lo.min(0.0), lo.max(0.0) + 1.0)
    }
}

/// A number for an axis label: no trailing zeros, thousands as k.
pub fn fmt_num(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a >= 0.001 {
        format!("{v:.4}")
    } else {
        format!("{v:.1e}")
    };
    if s.contains('.') && !s.contains('e') && !s.ends_with('k') && !s.ends_with('M') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
