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

mod charts;
mod sweep;

use charts::{client_success, latency_cdf, osu, throughput, timeline, workload_groups};
pub use sweep::{render_sweep, sweep_metrics};

const FONT: &[u8] = include_bytes!("../DejaVuSans.ttf");
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
