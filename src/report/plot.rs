//! Plots with plotters, as SVG and PNG: goodput over time (one panel per workload, one line per
//! variant), the RPC latency CDF on a log tail axis (y = "nines": 0.9, 0.99, 0.999 ...), message
//! size sweeps, a PMTUD timeline and the service clients' success rate. Text is drawn with an
//! embedded DejaVu Sans (see DejaVuSans-LICENSE.txt), so PNGs render on a machine with no fonts.
//!
//! Reading rules: colours from the Okabe-Ito palette (colour-blind safe; no yellow, which is faint
//! on white), each line also differs by dash pattern, width and marker so it survives greyscale
//! printing and lines lying on top of each other stay visible; legends sit in a panel beside the
//! data, never over it; time axes pick us, ms or s by range; log axes get 1-2-5 ticks. In the
//! SVG, hovering a point shows its value (an SVG `<title>`, no script).

use super::csv_out::cdf_quantiles;
use super::summary::Summary;
use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 600);
/// Width of the legend panel to the right of the data.
const LEGEND_W: u32 = 230;
static REGISTER: Once = Once::new();

pub(crate) fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF bundled at compile time; failure would be a packaging bug.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Okabe & Ito (2008), "Color Universal Design", without the yellow: blue, vermillion, bluish
/// green, reddish purple, black, orange, sky blue.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
];

/// Line `i`'s look: colour, width (earlier lines wider, so one drawn on top of another leaves
/// its edges visible), dash (None = solid) and marker shape.
fn look(i: usize) -> (RGBColor, u32, Option<(u32, u32)>, usize) {
    let dashes = [None, Some((10, 5)), Some((3, 4)), Some((14, 4))];
    (PALETTE[i % PALETTE.len()], (5u32.saturating_sub(i as u32)).max(2), dashes[i % 4], i % 4)
}

/// A point to hover in the SVG: pixel position and the text shown.
pub struct Hot {
    pub x: i32,
    pub y: i32,
    pub text: String,
}

/// Add the hover points to an SVG (invisible circles with a `<title>`, drawn last so they are
/// on top).
fn add_hover(svg: &str, hot: &[Hot]) -> String {
    if hot.is_empty() {
        return svg.to_string();
    }
    let mut g = String::from("<g fill=\"#000\" fill-opacity=\"0\">\n");
    for h in hot {
        let _ = writeln!(
            g,
            "<circle cx=\"{}\" cy=\"{}\" r=\"5\"><title>{}</title></circle>",
            h.x,
            h.y,
            super::html::esc(&h.text)
        );
    }
    g.push_str("</g>\n");
    match svg.rfind("</svg>") {
        Some(i) => format!("{}{g}{}", &svg[..i], &svg[i..]),
        None => svg.to_string(),
    }
}

#[derive(Clone, Copy)]
enum ChartKind {
    Throughput,
    LatencyCdf,
    /// osu_latency-style: latency against message size, log-log.
    OsuLatency,
    /// osu_bw-style: bandwidth against message size, log size axis.
    OsuBandwidth,
    /// Bytes delivered against time per variant, with RTOs, ICMP and MSS changes marked.
    Timeline,
    /// Service clients' successful responses per second against time, per variant.
    ClientSuccess,
}

const CHARTS: &[(&str, ChartKind)] = &[
    ("throughput", ChartKind::Throughput),
    ("latency_cdf", ChartKind::LatencyCdf),
    ("osu_latency", ChartKind::OsuLatency),
    ("osu_bandwidth", ChartKind::OsuBandwidth),
    ("timeline", ChartKind::Timeline),
    ("client_success", ChartKind::ClientSuccess),
];

/// Workload panels in the throughput chart at most (the rest are summed into one).
const MAX_PANELS: usize = 4;

fn size_of(kind: ChartKind, s: &Summary) -> (u32, u32) {
    match kind {
        ChartKind::Throughput => {
            let n = workload_groups(s).len().max(1) as u32;
            (SIZE.0, if n <= 1 { SIZE.1 } else { 60 + 270 * n })
        }
        _ => SIZE,
    }
}

fn draw<DB: DrawingBackend>(
    kind: ChartKind,
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    match kind {
        ChartKind::Throughput => throughput(area, s, hot),
        ChartKind::LatencyCdf => latency_cdf(area, s, hot),
        ChartKind::OsuLatency => osu(area, s, false, hot),
        ChartKind::OsuBandwidth => osu(area, s, true, hot),
        ChartKind::Timeline => timeline(area, s, hot),
        ChartKind::ClientSuccess => client_success(area, s, hot),
    }
}

pub fn render_svgs(s: &Summary) -> anyhow::Result<Vec<(String, String)>> {
    register_font();
    let mut out = Vec::new();
    for (name, chart) in CHARTS {
        let mut text = String::new();
        let mut hot = Vec::new();
        let drawn = {
            let area = SVGBackend::with_string(&mut text, size_of(*chart, s)).into_drawing_area();
            let drawn = draw(*chart, &area, s, &mut hot)?;
            area.present().map_err(|e| anyhow::anyhow!("plot {name}: {e:?}"))?;
            drawn
        };
        if drawn {
            out.push((format!("{name}.svg"), add_hover(&text, &hot)));
        }
    }
    Ok(out)
}

pub fn render_pngs(s: &Summary) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    register_font();
    let mut out = Vec::new();
    for (name, chart) in CHARTS {
        let size = size_of(*chart, s);
        let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
        let drawn = {
            let area = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
            let drawn = draw(*chart, &area, s, &mut Vec::new())?;
            area.present().map_err(|e| anyhow::anyhow!("plot {name}: {e:?}"))?;
            drawn
        };
        if drawn {
            let img = image::RgbImage::from_raw(size.0, size.1, rgb).expect("buffer has the image's size");
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
            out.push((format!("{name}.png"), png));
        }
    }
    Ok(out)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {e:?}")
}

/// A tick label: no trailing ".0", never "-0".
pub fn tick(v: f64) -> String {
    let v = if v.abs() < 1e-12 { 0.0 } else { v };
    let a = v.abs();
    let s = if a >= 100.0 || a == a.round() {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else if a >= 0.01 {
        format!("{v:.2}")
    } else {
        format!("{v:.1e}")
    };
    if s.contains('.') && !s.contains('e') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// The unit a time axis reads best in, for values up to `max_us`: (divisor from us, name).
pub fn time_unit(max_us: f64) -> (f64, &'static str) {
    if max_us < 2_000.0 {
        (1.0, "us")
    } else if max_us < 2_000_000.0 {
        (1e3, "ms")
    } else {
        (1e6, "s")
    }
}

/// 1-2-5 ticks per decade between `lo` and `hi` (positive): enough labels on a log axis.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut d = 10f64.powf(lo.max(1e-12).log10().floor());
    while d <= hi * 1.0001 {
        for m in [1.0, 2.0, 5.0] {
            let v = d * m;
            if v >= lo * 0.9999 && v <= hi * 1.0001 {
                out.push(v);
            }
        }
        d *= 10.0;
    }
    if out.len() > 14 {
        // Many decades: decades only.
        out.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
    }
    out
}

/// The legend, in its own panel beside the data: (label, line index or a marker kind).
enum Key {
    Line(usize),
    Marker(Mark),
}

fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    keys: &[(String, Key)],
) -> anyhow::Result<()> {
    let font = ("sans-serif", 14).into_font();
    area.draw(&Text::new(title.to_string(), (8, 40), ("sans-serif", 14).into_font().color(&BLACK))).map_err(err)?;
    for (k, (label, key)) in keys.iter().enumerate() {
        let y = 66 + 24 * k as i32;
        match key {
            Key::Line(i) => {
                let (c, w, dash, m) = look(*i);
                let style = c.stroke_width(w);
                match dash {
                    None => area.draw(&PathElement::new(vec![(8, y), (44, y)], style)).map_err(err)?,
                    Some((on, off)) => {
                        let mut x = 8;
                        while x < 44 {
                            area.draw(&PathElement::new(vec![(x, y), ((x + on as i32).min(44), y)], style))
                                .map_err(err)?;
                            x += (on + off) as i32;
                        }
                    }
                }
                draw_marker(area, (26, y), m, c)?;
            }
            Key::Marker(mark) => draw_mark(area, (26, y), *mark, BLACK)?,
        }
        let shown: String = if label.chars().count() > 24 {
            label.chars().take(23).chain(std::iter::once('~')).collect()
        } else {
            label.clone()
        };
        area.draw(&Text::new(shown, (52, y - 8), font.clone().color(&BLACK))).map_err(err)?;
    }
    Ok(())
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: (i32, i32),
    shape: usize,
    c: RGBColor,
) -> anyhow::Result<()> {
    match shape {
        0 => area.draw(&Circle::new(p, 4, c.filled())).map_err(err),
        1 => area.draw(&TriangleMarker::new(p, 5, c.filled())).map_err(err),
        2 => area.draw(&Rectangle::new([(p.0 - 4, p.1 - 4), (p.0 + 4, p.1 + 4)], c.filled())).map_err(err),
        _ => area.draw(&Cross::new(p, 4, c.stroke_width(2))).map_err(err),
    }
}

/// Events marked on the timeline.
#[derive(Clone, Copy, PartialEq)]
enum Mark {
    Rto,
    Icmp,
    Mss,
    Aborted,
}

const TIMELINE_MARKS: &[(&str, &str, Mark)] = &[
    ("rto", "RTO", Mark::Rto),
    ("icmp_received", "ICMP frag. needed", Mark::Icmp),
    ("mss", "MSS change", Mark::Mss),
    ("aborted", "aborted", Mark::Aborted),
];

fn draw_mark<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: (i32, i32),
    m: Mark,
    c: RGBColor,
) -> anyhow::Result<()> {
    match m {
        Mark::Rto => area.draw(&Cross::new(p, 6, c.stroke_width(2))).map_err(err),
        Mark::Icmp => area.draw(&TriangleMarker::new(p, 7, c.filled())).map_err(err),
        Mark::Mss => {
            area.draw(&Circle::new(p, 6, WHITE.filled())).map_err(err)?;
            area.draw(&Circle::new(p, 6, c.stroke_width(2))).map_err(err)
        }
        Mark::Aborted => {
            area.draw(&Rectangle::new([(p.0 - 7, p.1 - 7), (p.0 + 7, p.1 + 7)], c.filled())).map_err(err)?;
            area.draw(&Cross::new(p, 5, WHITE.stroke_width(2))).map_err(err)
        }
    }
}

/// Draw series `i` in its look, with a few markers along it and hover points.
fn styled_line<DB: DrawingBackend, X: Ranged<ValueType = f64>, Y: Ranged<ValueType = f64>>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    pts: &[(f64, f64)],
    i: usize,
    name: &str,
    units: (&str, &str),
    hot: &mut Vec<Hot>,
) -> anyhow::Result<()> {
    let (c, w, dash, m) = look(i);
    let style = c.stroke_width(w);
    match dash {
        None => {
            chart.draw_series(LineSeries::new(pts.iter().copied(), style)).map_err(err)?;
        }
        Some((on, off)) => {
            chart.draw_series(DashedLineSeries::new(pts.iter().copied(), on, off, style)).map_err(err)?;
        }
    }
    // Markers: about 12 per line, staggered per series so coincident lines show each marker.
    let step = (pts.len() / 12).max(1);
    let area = chart.plotting_area().strip_coord_spec();
    let offset = (i * step / 4) % step.max(1);
    for p in pts.iter().skip(offset).step_by(step) {
        let q = chart.backend_coord(p);
        let (x0, y0) = area.get_base_pixel();
        draw_marker(&area, (q.0 - x0, q.1 - y0), m, c)?;
    }
    let stride = (pts.len() / 300).max(1);
    for p in pts.iter().step_by(stride) {
        let q = chart.backend_coord(p);
        hot.push(Hot { x: q.0, y: q.1, text: format!("{name}: {} {}, {} {}", tick(p.0), units.0, tick(p.1), units.1) });
    }
    Ok(())
}

/// Split off the legend panel: (data area, legend area).
fn with_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    let w = area.dim_in_pixel().0;
    area.split_horizontally(w - LEGEND_W)
}

/// Message-size sweeps: one line per variant and ping-pong workload.
fn osu<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    bandwidth: bool,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for v in &s.variants {
        let mut names: Vec<&str> = v.pingpong.iter().map(|p| p.workload.as_str()).collect();
        names.dedup();
        for w in names {
            let pts: Vec<(f64, f64)> = v
                .pingpong
                .iter()
                .filter(|p| p.workload == w && (p.window > 1) == bandwidth)
                .map(|p| (p.size_bytes.max(1) as f64, if bandwidth { p.gbps } else { p.latency_us }))
                .collect();
            if !pts.is_empty() {
                lines.push((format!("{} / {w}", v.name), pts));
            }
        }
    }
    if lines.is_empty() {
        return Ok(false);
    }
    area.fill(&WHITE).map_err(err)?;
    let (data, key) = with_legend(area);
    let xs = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let ys = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (y_min, y_max) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    let title = if bandwidth { "bandwidth vs message size" } else { "latency vs message size" };
    let mut builder = ChartBuilder::on(&data);
    builder
        .caption(format!("{}: {title}", s.scenario), ("sans-serif", 22))
        .margin(16)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(70);
    let fmt = |v: &f64| tick(*v);
    let xr = (x_min * 0.8)..(x_max * 1.25);
    let x_ticks = log_ticks(xr.start, xr.end);
    let x_ticks: Vec<f64> =
        x_ticks.into_iter().filter(|v| (v.log2() - v.log2().round()).abs() < 1e-9 || *v >= 1000.0).collect();
    macro_rules! draw {
        ($chart:expr, $ydesc:expr, $yunit:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("message size (bytes, log scale)")
                .y_desc($ydesc)
                .x_label_formatter(&|v: &f64| crate::units::Bytes(*v as u64).to_string())
                .y_label_formatter(&fmt)
                .draw()
                .map_err(err)?;
            for (i, (name, pts)) in lines.iter().enumerate() {
                styled_line(&mut chart, pts, i, name, ("B", $yunit), hot)?;
            }
        }};
    }
    let xr = xr.log_scale().with_key_points(x_ticks);
    if bandwidth {
        draw!(builder.build_cartesian_2d(xr, 0.0..y_max * 1.1).map_err(err)?, "Gbps", "Gbps");
    } else {
        let yr = (y_min * 0.8)..(y_max * 1.25);
        let yt = log_ticks(yr.start, yr.end);
        draw!(
            builder.build_cartesian_2d(xr, yr.log_scale().with_key_points(yt)).map_err(err)?,
            "one-way latency (us, log scale)",
            "us"
        );
    }
    let keys: Vec<(String, Key)> = lines.iter().enumerate().map(|(i, (n, _))| (n.clone(), Key::Line(i))).collect();
    legend(&key, "variant / workload", &keys)?;
    Ok(true)
}

/// Cumulative bytes each variant delivered over time, with the events that explain its shape: a
/// PMTUD black hole is a flat line with RTOs on it, a fix is where it turns up again.
fn timeline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let mark_of = |e: &crate::model::trace::LogEntry| TIMELINE_MARKS.iter().find(|m| m.0 == e.event).map(|m| m.2);
    if !s.variants.iter().any(|v| v.events.iter().any(|e| mark_of(e).is_some())) {
        return Ok(false);
    }
    /// A variant's name, its (us, cumulative MB) points and its (us, mark) marks.
    type Line = (String, Vec<(f64, f64)>, Vec<(f64, Mark)>);
    let lines: Vec<Line> = s
        .variants
        .iter()
        .filter(|v| !v.series.is_empty())
        .map(|v| {
            let n = v.series[0].1.len();
            let mut total = 0.0;
            let mut pts = vec![(0.0, 0.0)];
            for i in 0..n {
                let gbps: f64 = v.series.iter().map(|(_, b)| b[i]).sum();
                total += gbps * 1e9 / 8.0 * v.bin_us * 1e-6 / 1e6;
                pts.push(((i + 1) as f64 * v.bin_us, total));
            }
            let marks = v.events.iter().filter_map(|e| mark_of(e).map(|m| (e.time_us, m))).collect();
            (v.name.clone(), pts, marks)
        })
        .collect();
    // The axis covers every mark, so none is drawn (or listed) beyond it.
    let x_max_us = lines
        .iter()
        .flat_map(|l| l.1.last().map(|p| p.0).into_iter().chain(l.2.iter().map(|m| m.0)))
        .fold(1.0, f64::max);
    let (div, unit) = time_unit(x_max_us);
    let scaled: Vec<Vec<(f64, f64)>> = lines.iter().map(|l| l.1.iter().map(|p| (p.0 / div, p.1)).collect()).collect();
    area.fill(&WHITE).map_err(err)?;
    let (data, key) = with_legend(area);
    let y_max = scaled.iter().flat_map(|p| p.iter().map(|q| q.1)).fold(0.001, f64::max) * 1.1;
    let mut chart = time_axes(
        &data,
        &format!("{}: bytes delivered over time", s.scenario),
        x_max_us / div * 1.02,
        y_max,
        unit,
        "delivered (MB)",
    )?;
    let at = |pts: &[(f64, f64)], t: f64| pts.iter().take_while(|p| p.0 <= t).last().map_or(0.0, |p| p.1);
    let mut present: Vec<Mark> = Vec::new();
    for (i, ((name, _, marks), pts)) in lines.iter().zip(&scaled).enumerate() {
        styled_line(&mut chart, pts, i, name, (unit, "MB"), hot)?;
        let area = chart.plotting_area().strip_coord_spec();
        let (x0, y0) = area.get_base_pixel();
        for &(t, m) in marks {
            let p = (t / div, at(pts, t / div));
            let q = chart.backend_coord(&p);
            draw_mark(&area, (q.0 - x0, q.1 - y0), m, look(i).0)?;
            let label = TIMELINE_MARKS.iter().find(|k| k.2 == m).map_or("", |k| k.1);
            hot.push(Hot { x: q.0, y: q.1, text: format!("{name}: {label} at {} {unit}", tick(p.0)) });
            if !present.contains(&m) {
                present.push(m);
            }
        }
    }
    let mut keys: Vec<(String, Key)> = lines.iter().enumerate().map(|(i, l)| (l.0.clone(), Key::Line(i))).collect();
    for (_, text, m) in TIMELINE_MARKS {
        if present.contains(m) {
            keys.push((text.to_string(), Key::Marker(*m)));
        }
    }
    legend(&key, "variant / event", &keys)?;
    Ok(true)
}

/// Axes of values against time (already in `unit`), the mesh drawn.
fn time_axes<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_max: f64,
    y_max: f64,
    unit: &str,
    y_desc: &str,
) -> anyhow::Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max.max(1e-9), 0.0..y_max.max(1e-9))
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(format!("simulated time ({unit})"))
        .y_desc(y_desc)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// Successful responses per second of each variant's service clients, as steps: a failover's
/// outage is the gap, its length the mechanism's.
fn client_success<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .flat_map(|v| {
            v.success_series.iter().map(move |(w, bins)| {
                // Each bin a flat step over its span.
                let pts = bins
                    .iter()
                    .enumerate()
                    .flat_map(|(i, &r)| [(i as f64 * v.bin_us, r), ((i + 1) as f64 * v.bin_us, r)])
                    .collect();
                (format!("{} / {w}", v.name), pts)
            })
        })
        .collect();
    time_panel(area, s, "client success rate", "responses per second", lines, hot)
}

/// One line per series against simulated time (us in), with the legend beside; false when empty.
fn time_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    title: &str,
    y_desc: &str,
    lines: Vec<(String, Vec<(f64, f64)>)>,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    if lines.is_empty() {
        return Ok(false);
    }
    area.fill(&WHITE).map_err(err)?;
    let (data, key) = with_legend(area);
    draw_time_lines(&data, &format!("{}: {title}", s.scenario), y_desc, &lines, hot)?;
    let keys: Vec<(String, Key)> = lines.iter().enumerate().map(|(i, l)| (l.0.clone(), Key::Line(i))).collect();
    legend(&key, "variant", &keys)?;
    Ok(true)
}

fn draw_time_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_desc: &str,
    lines: &[(String, Vec<(f64, f64)>)],
    hot: &mut Vec<Hot>,
) -> anyhow::Result<()> {
    let x_max_us = lines.iter().flat_map(|l| l.1.last().map(|p| p.0)).fold(1.0, f64::max);
    let (div, unit) = time_unit(x_max_us);
    let y_max = lines.iter().flat_map(|l| l.1.iter().map(|p| p.1)).fold(0.001, f64::max) * 1.1;
    let mut chart = time_axes(area, title, x_max_us / div, y_max, unit, y_desc)?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        let pts: Vec<(f64, f64)> = pts.iter().map(|p| (p.0 / div, p.1)).collect();
        styled_line(&mut chart, &pts, i, name, (unit, y_desc), hot)?;
    }
    Ok(())
}

/// Workloads in order of appearance and the flows of each: (workload, flow names); beyond
/// `MAX_PANELS` the rest are one group.
fn workload_groups(s: &Summary) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for v in &s.variants {
        for (flow, _) in &v.series {
            let w = v.flows.iter().find(|f| f.name == *flow).map_or(flow.clone(), |f| f.workload.clone());
            match groups.iter_mut().find(|g| g.0 == w) {
                Some(g) => {
                    if !g.1.contains(flow) {
                        g.1.push(flow.clone())
                    }
                }
                None => groups.push((w, vec![flow.clone()])),
            }
        }
    }
    if groups.len() > MAX_PANELS {
        let rest: Vec<(String, Vec<String>)> = groups.split_off(MAX_PANELS - 1);
        groups.push(("other workloads".into(), rest.into_iter().flat_map(|g| g.1).collect()));
    }
    groups
}

/// Goodput over time: one panel per workload, one line per variant.
fn throughput<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let groups = workload_groups(s);
    if groups.is_empty() {
        return Ok(false);
    }
    area.fill(&WHITE).map_err(err)?;
    let (data, key) = with_legend(area);
    let (title_area, panels_area) = data.split_vertically(36);
    title_area
        .draw(&Text::new(
            format!("{}: goodput over time, per workload", s.scenario),
            (12, 8),
            ("sans-serif", 20).into_font().color(&BLACK),
        ))
        .map_err(err)?;
    let panels = panels_area.split_evenly((groups.len(), 1));
    let names: Vec<&String> = s.variants.iter().filter(|v| !v.series.is_empty()).map(|v| &v.name).collect();
    for ((workload, flows), panel) in groups.iter().zip(&panels) {
        let lines: Vec<(String, Vec<(f64, f64)>)> = s
            .variants
            .iter()
            .filter(|v| !v.series.is_empty())
            .map(|v| {
                let n = v.series[0].1.len();
                let pts = (0..n)
                    .map(|i| {
                        let g: f64 = v.series.iter().filter(|(f, _)| flows.contains(f)).map(|(_, b)| b[i]).sum();
                        ((i as f64 + 0.5) * v.bin_us, g)
                    })
                    .collect();
                (v.name.clone(), pts)
            })
            .collect();
        let label = if flows.len() > 1 { format!("{workload} ({} flows)", flows.len()) } else { workload.clone() };
        draw_time_lines(panel, &label, "goodput (Gbps)", &lines, hot)?;
    }
    let keys: Vec<(String, Key)> = names.iter().enumerate().map(|(i, n)| ((*n).clone(), Key::Line(i))).collect();
    legend(&key, "variant", &keys)?;
    Ok(true)
}

/// RPC latency CDF with a log latency axis (1-2-5 ticks, us or ms) and a "nines" tail axis.
fn latency_cdf<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let qs = cdf_quantiles();
    let raw: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .filter_map(|v| v.rpc_histogram.as_ref().filter(|h| !h.is_empty()).map(|h| (v, h)))
        .map(|(v, h)| {
            let pts =
                qs.iter().map(|&q| ((h.value_at_quantile(q) as f64 / 1000.0).max(0.001), -(1.0 - q).log10())).collect();
            (v.name.clone(), pts)
        })
        .collect();
    if raw.is_empty() {
        return Ok(false);
    }
    let x_hi_us = raw.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(0.0, f64::max);
    let (div, unit) = time_unit(x_hi_us);
    let lines: Vec<(String, Vec<(f64, f64)>)> =
        raw.into_iter().map(|(n, p)| (n, p.into_iter().map(|q| (q.0 / div, q.1)).collect())).collect();
    area.fill(&WHITE).map_err(err)?;
    let (data, key) = with_legend(area);
    let x_min = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(f64::MAX, f64::min) * 0.8;
    let x_max = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(0.0, f64::max) * 1.25;
    let ticks = log_ticks(x_min, x_max);
    let mut chart = ChartBuilder::on(&data)
        .caption(format!("{}: RPC latency CDF", s.scenario), ("sans-serif", 20))
        .margin(12)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((x_min..x_max).log_scale().with_key_points(ticks), 0.0..4.2)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(format!("latency ({unit}, log scale)"))
        .x_label_formatter(&|x: &f64| tick(*x))
        .y_desc("percentile")
        .y_labels(5)
        .y_label_formatter(&|y: &f64| {
            let n = y.round() as i32;
            if n <= 0 { "0".into() } else { format!("{:.*}", (n - 2).max(0) as usize, 100.0 - 100.0 * 10f64.powi(-n)) }
        })
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in lines.iter().enumerate() {
        styled_line(&mut chart, pts, i, name, (unit, "nines"), hot)?;
    }
    let keys: Vec<(String, Key)> = lines.iter().enumerate().map(|(i, l)| (l.0.clone(), Key::Line(i))).collect();
    legend(&key, "variant", &keys)?;
    Ok(true)
}

/// Metrics plotted after a sweep when the sweep names none (those the results have).
const SWEEP_DEFAULT_METRICS: &[&str] = &["rpc.latency_us.p99", "rpc.latency_us.p999", "throughput.wire_gbps"];

/// The metrics a sweep plots: those it names, else the defaults.
pub fn sweep_metrics(spec: &crate::scenario::ScenarioSpec) -> Vec<String> {
    match spec.sweep.as_ref().map(|s| s.plot.clone()).unwrap_or_default() {
        v if !v.is_empty() => v,
        _ => SWEEP_DEFAULT_METRICS.iter().map(|s| s.to_string()).collect(),
    }
}

/// Sweep plots: each metric against the first parameter, one line per value of the other
/// parameters, with 95% confidence bands; a log x axis when the parameter is geometric. One
/// chart per (metric, variant), as SVG and PNG.
pub fn render_sweep(
    spec: &crate::scenario::ScenarioSpec,
    grid: &crate::sweep::Grid,
    table: &crate::sweep::output::Table,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    register_font();
    let wanted = sweep_metrics(spec);
    let variants: std::collections::BTreeSet<&String> = table.keys().map(|(_, v, _)| v).collect();
    let mut out = Vec::new();
    for metric in &wanted {
        for variant in &variants {
            let series = sweep_series(grid, table, variant, metric);
            if series.is_empty() {
                continue;
            }
            let title = format!("{}: {metric} ({variant})", spec.name);
            let safe: String = format!("sweep_{metric}_{variant}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
                .collect();
            let mut svg = String::new();
            {
                let area = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                sweep_chart(&area, &title, &grid.paths[0], grid.log_scale[0], metric, &series)?;
                area.present().map_err(err)?;
            }
            let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
            {
                let area = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                sweep_chart(&area, &title, &grid.paths[0], grid.log_scale[0], metric, &series)?;
                area.present().map_err(err)?;
            }
            let img = image::RgbImage::from_raw(SIZE.0, SIZE.1, rgb).expect("buffer has the image's size");
            let mut png = Vec::new();
            img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
            out.push((format!("{safe}.svg"), svg.into_bytes()));
            out.push((format!("{safe}.png"), png));
        }
    }
    Ok(out)
}

/// (line label, points (x, mean, ci95)) for one metric and variant. Non-numeric x values are
/// placed at their index.
type Series = Vec<(String, Vec<(f64, f64, f64)>)>;

fn sweep_series(grid: &crate::sweep::Grid, table: &crate::sweep::output::Table, variant: &str, metric: &str) -> Series {
    let numeric = grid.values[0].iter().all(|v| v.parse::<f64>().is_ok());
    let mut lines: std::collections::BTreeMap<String, Vec<(f64, f64, f64)>> = Default::default();
    for point in 0..grid.points {
        let Some(s) = table.get(&(point, variant.to_string(), metric.to_string())) else { continue };
        let vals = grid.point_values(point);
        let x = if numeric {
            vals[0].parse::<f64>().expect("checked numeric")
        } else {
            grid.values[0].iter().position(|v| *v == vals[0]).unwrap_or(0) as f64
        };
        let label =
            grid.paths[1..].iter().zip(&vals[1..]).map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(", ");
        lines.entry(label).or_default().push((x, s.mean, s.ci95));
    }
    lines.into_iter().collect()
}

fn sweep_chart<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_name: &str,
    log_x: bool,
    metric: &str,
    series: &Series,
) -> anyhow::Result<()> {
    area.fill(&WHITE).map_err(err)?;
    let xs = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    // Our metrics are never negative: clamp bands at zero (or, on a log axis, below the data).
    let means = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let min_pos = means.clone().filter(|m| *m > 0.0).fold(f64::MAX, f64::min);
    let log_y = metric.contains("latency") && min_pos < f64::MAX && means.clone().all(|m| m > 0.0);
    let floor = if log_y { min_pos / 2.0 } else { 0.0 };
    let y_max = series.iter().flat_map(|(_, p)| p.iter().map(|q| q.1 + q.2)).fold(0.0, f64::max).max(1e-9) * 1.1;
    let band = |p: &(f64, f64, f64)| ((p.1 - p.2).max(floor), p.1 + p.2);
    let pad = if x_max > x_min { 0.0 } else { 1.0 };
    let mut builder = ChartBuilder::on(area);
    builder.caption(title, ("sans-serif", 20)).margin(16).x_label_area_size(44).y_label_area_size(80);
    let fmt = |v: &f64| if v.abs() >= 100.0 || *v == v.round() { format!("{v:.0}") } else { format!("{v:.2}") };
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(x_name)
                .y_desc(metric)
                .x_labels(8)
                .y_labels(8)
                .x_label_formatter(&fmt)
                .y_label_formatter(&fmt)
                .draw()
                .map_err(err)?;
            for (i, (label, pts)) in series.iter().enumerate() {
                let color = look(i).0.to_rgba();
                let poly: Vec<(f64, f64)> =
                    pts.iter().map(|p| (p.0, band(p).1)).chain(pts.iter().rev().map(|p| (p.0, band(p).0))).collect();
                chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.2).filled()))).map_err(err)?;
                let name = if label.is_empty() { metric.to_string() } else { label.clone() };
                chart
                    .draw_series(LineSeries::new(pts.iter().map(|p| (p.0, p.1)), color.stroke_width(2)))
                    .map_err(err)?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, color.filled()))).map_err(err)?;
            }
            chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        }};
    }
    let xr = if log_x && x_min > 0.0 { (x_min * 0.9, x_max * 1.1) } else { (x_min - pad, x_max + pad) };
    match (log_x && x_min > 0.0, log_y) {
        (true, true) => {
            draw!(builder.build_cartesian_2d((xr.0..xr.1).log_scale(), (floor..y_max).log_scale()).map_err(err)?)
        }
        (true, false) => draw!(builder.build_cartesian_2d((xr.0..xr.1).log_scale(), floor..y_max).map_err(err)?),
        (false, true) => draw!(builder.build_cartesian_2d(xr.0..xr.1, (floor..y_max).log_scale()).map_err(err)?),
        (false, false) => draw!(builder.build_cartesian_2d(xr.0..xr.1, floor..y_max).map_err(err)?),
    }
    Ok(())
}
