//! Plots with plotters: throughput over time (one line per variant) and the RPC latency CDF on a
//! log tail axis (y = "nines": 0.9, 0.99, 0.999 ...), both as SVG and PNG. Text is drawn with an
//! embedded DejaVu Sans (see DejaVuSans-LICENSE.txt), so PNGs render on a machine with no fonts.

use super::csv_out::cdf_quantiles;
use super::summary::Summary;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("DejaVuSans.ttf");
const SIZE: (u32, u32) = (960, 600);
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TTF bundled at compile time; failure would be a packaging bug.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
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

fn draw<DB: DrawingBackend>(kind: ChartKind, area: &DrawingArea<DB, Shift>, s: &Summary) -> anyhow::Result<bool> {
    match kind {
        ChartKind::Throughput => throughput(area, s),
        ChartKind::LatencyCdf => latency_cdf(area, s),
        ChartKind::OsuLatency => osu(area, s, false),
        ChartKind::OsuBandwidth => osu(area, s, true),
        ChartKind::Timeline => timeline(area, s),
        ChartKind::ClientSuccess => client_success(area, s),
    }
}

/// Message-size sweeps: one line per variant and ping-pong workload.
fn osu<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Summary, bandwidth: bool) -> anyhow::Result<bool> {
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
    let xs = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let ys = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1));
    let (y_min, y_max) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    let title = if bandwidth { "bandwidth vs message size" } else { "latency vs message size" };
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(format!("{}: {title}", s.scenario), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70);
    let fmt = |v: &f64| if v.abs() >= 10.0 || *v == v.round() { format!("{v:.0}") } else { format!("{v:.2}") };
    macro_rules! draw {
        ($chart:expr, $ydesc:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc("message size (bytes, log scale)")
                .y_desc($ydesc)
                .x_label_formatter(&fmt)
                .y_label_formatter(&fmt)
                .draw()
                .map_err(err)?;
            for (i, (name, pts)) in lines.into_iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(err)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }};
    }
    let xr = (x_min * 0.8)..(x_max * 1.25);
    if bandwidth {
        draw!(builder.build_cartesian_2d(xr.log_scale(), 0.0..y_max * 1.1).map_err(err)?, "Gbps");
    } else {
        draw!(
            builder.build_cartesian_2d(xr.log_scale(), ((y_min * 0.8)..(y_max * 1.25)).log_scale()).map_err(err)?,
            "one-way latency (us, log scale)"
        );
    }
    Ok(true)
}

pub fn render_svgs(s: &Summary) -> anyhow::Result<Vec<(String, String)>> {
    register_font();
    let mut out = Vec::new();
    for (name, chart) in CHARTS {
        let mut text = String::new();
        let drawn = {
            let area = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
            let drawn = draw(*chart, &area, s)?;
            area.present().map_err(|e| anyhow::anyhow!("plot {name}: {e:?}"))?;
            drawn
        };
        if drawn {
            out.push((format!("{name}.svg"), text));
        }
    }
    Ok(out)
}

pub fn render_pngs(s: &Summary) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    register_font();
    let mut out = Vec::new();
    for (name, chart) in CHARTS {
        let mut rgb = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
        let drawn = {
            let area = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            let drawn = draw(*chart, &area, s)?;
            area.present().map_err(|e| anyhow::anyhow!("plot {name}: {e:?}"))?;
            drawn
        };
        if drawn {
            let img = image::RgbImage::from_raw(SIZE.0, SIZE.1, rgb).expect("buffer has the image's size");
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

/// Events the timeline marks, with their legend text.
const TIMELINE_MARKS: &[(&str, &str)] =
    &[("rto", "RTO"), ("icmp_received", "ICMP frag. needed received"), ("mss", "MSS change"), ("aborted", "aborted")];

/// Cumulative bytes each variant delivered over time, with the events that explain its shape: a
/// PMTUD black hole is a flat line with RTOs on it, a fix is where it turns up again.
fn timeline<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Summary) -> anyhow::Result<bool> {
    let marked = |e: &crate::model::trace::LogEntry| TIMELINE_MARKS.iter().any(|m| m.0 == e.event);
    if !s.variants.iter().any(|v| v.events.iter().any(marked)) {
        return Ok(false);
    }
    /// A variant's name, its (ms, cumulative MB) points and its (ms, event) marks.
    type Line<'a> = (String, Vec<(f64, f64)>, Vec<(f64, &'a str)>);
    // Cumulative MB at the end of each bin (series are Gbps per bin).
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
                pts.push(((i + 1) as f64 * v.bin_us / 1000.0, total));
            }
            let marks = v.events.iter().filter(|e| marked(e)).map(|e| (e.time_us / 1000.0, e.event)).collect();
            (v.name.clone(), pts, marks)
        })
        .collect();
    let mut chart = time_chart(area, s, "bytes delivered over time", "delivered (MB)", lines.iter().map(|l| &l.1[..]))?;
    let at = |pts: &[(f64, f64)], t: f64| {
        // The cumulative value at time t: the last bin end at or before it.
        pts.iter().take_while(|p| p.0 <= t).last().map_or(0.0, |p| p.1)
    };
    for (i, (name, pts, marks)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        for &(t, kind) in marks {
            let p = (t, at(pts, t));
            match kind {
                "rto" => chart.draw_series(std::iter::once(Cross::new(p, 5, RED.stroke_width(2)))).map_err(err)?,
                "icmp_received" => {
                    chart.draw_series(std::iter::once(TriangleMarker::new(p, 5, BLUE.filled()))).map_err(err)?
                }
                "mss" => chart.draw_series(std::iter::once(Circle::new(p, 4, GREEN.filled()))).map_err(err)?,
                _ => chart.draw_series(std::iter::once(Cross::new(p, 8, BLACK.stroke_width(3)))).map_err(err)?,
            };
        }
    }
    // Legend entries for the markers.
    let legend = |c: RGBColor| move |(x, y): (i32, i32)| Circle::new((x + 10, y), 4, c.filled());
    for (k, (_, text)) in TIMELINE_MARKS.iter().enumerate() {
        let c = [RED, BLUE, GREEN, BLACK][k];
        chart.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>()).map_err(err)?.label(*text).legend(legend(c));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(true)
}

/// A chart of values against simulated time (ms), sized to fit `series`, its mesh drawn.
fn time_chart<'a, 'b, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, Shift>,
    s: &Summary,
    title: &str,
    y_desc: &str,
    series: impl Iterator<Item = &'b [(f64, f64)]> + Clone,
) -> anyhow::Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
> {
    area.fill(&WHITE).map_err(err)?;
    let x_max = series.clone().flat_map(|p| p.last().map(|q| q.0)).fold(0.001, f64::max);
    let y_max = series.flat_map(|p| p.iter().map(|q| q.1)).fold(0.001, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{}: {title}", s.scenario), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..x_max, 0.0..y_max)
        .map_err(err)?;
    chart.configure_mesh().x_desc("simulated time (ms)").y_desc(y_desc).draw().map_err(err)?;
    Ok(chart)
}

/// Successful responses per second of each variant's service clients: a failover's outage is
/// the gap, its length the mechanism's.
fn client_success<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Summary) -> anyhow::Result<bool> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .flat_map(|v| {
            v.success_series.iter().map(move |(w, bins)| {
                let pts = bins.iter().enumerate().map(|(i, &r)| ((i as f64 + 0.5) * v.bin_us / 1e3, r)).collect();
                (format!("{} / {w}", v.name), pts)
            })
        })
        .collect();
    time_lines(area, s, "client success rate", "responses per second", lines)
}

/// One line per series against simulated time, with a legend; false when there is nothing.
fn time_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    title: &str,
    y_desc: &str,
    lines: Vec<(String, Vec<(f64, f64)>)>,
) -> anyhow::Result<bool> {
    if lines.is_empty() {
        return Ok(false);
    }
    let mut chart = time_chart(area, s, title, y_desc, lines.iter().map(|l| &l.1[..]))?;
    for (i, (name, pts)) in lines.into_iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
    Ok(true)
}

/// Aggregate goodput of each variant's reported flows over time.
fn throughput<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Summary) -> anyhow::Result<bool> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .filter(|v| !v.series.is_empty())
        .map(|v| {
            let n = v.series[0].1.len();
            let pts =
                (0..n).map(|i| (i as f64 * v.bin_us / 1000.0, v.series.iter().map(|(_, b)| b[i]).sum())).collect();
            (v.name.clone(), pts)
        })
        .collect();
    time_lines(area, s, "goodput over time", "goodput (Gbps)", lines)
}

/// RPC latency CDF with a log latency axis and a "nines" tail axis.
fn latency_cdf<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Summary) -> anyhow::Result<bool> {
    let qs = cdf_quantiles();
    let lines: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .filter_map(|v| v.rpc_histogram.as_ref().filter(|h| !h.is_empty()).map(|h| (v, h)))
        .map(|(v, h)| {
            let pts =
                qs.iter().map(|&q| ((h.value_at_quantile(q) as f64 / 1000.0).max(0.001), -(1.0 - q).log10())).collect();
            (v.name.clone(), pts)
        })
        .collect();
    if lines.is_empty() {
        return Ok(false);
    }
    area.fill(&WHITE).map_err(err)?;
    let x_min = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(f64::MAX, f64::min) * 0.8;
    let x_max = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(0.0, f64::max) * 1.25;
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{}: RPC latency CDF", s.scenario), ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..4.2)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("latency (us, log scale)")
        .x_labels(6)
        .x_label_formatter(&|x: &f64| if *x >= 10.0 { format!("{x:.0}") } else { format!("{x:.1}") })
        .y_desc("percentile")
        .y_labels(5)
        .y_label_formatter(&|y: &f64| {
            let n = y.round() as i32;
            if n <= 0 { "0".into() } else { format!("{:.*}", (n - 2).max(0) as usize, 100.0 - 100.0 * 10f64.powi(-n)) }
        })
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in lines.into_iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(true)
}

/// Metrics plotted after a sweep when the sweep names none (those the results have).
const SWEEP_DEFAULT_METRICS: &[&str] = &["rpc.latency_us.p99", "rpc.latency_us.p999", "throughput.wire_gbps"];

/// Sweep plots: each metric against the first parameter, one line per value of the other
/// parameters, with 95% confidence bands; a log x axis when the parameter is geometric. One
/// chart per (metric, variant), as SVG and PNG.
pub fn render_sweep(
    spec: &crate::scenario::ScenarioSpec,
    grid: &crate::sweep::Grid,
    table: &crate::sweep::output::Table,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    register_font();
    let wanted: Vec<String> = match spec.sweep.as_ref().map(|s| s.plot.clone()).unwrap_or_default() {
        v if !v.is_empty() => v,
        _ => SWEEP_DEFAULT_METRICS.iter().map(|s| s.to_string()).collect(),
    };
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
                let color = Palette99::pick(i).to_rgba();
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
