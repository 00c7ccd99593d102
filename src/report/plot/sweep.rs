//! Sweep plots: each metric against the first parameter with its 95% confidence band, drawn
//! from the plain data the sweep hands down (`report::sweep_data`).

use super::*;
use crate::report::sweep_data::{SweepAxes, SweepTable};

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
    grid: &SweepAxes,
    table: &SweepTable,
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
            if let Some(bad) = series.iter().flat_map(|(_, p)| p).find(|p| !plottable(p)) {
                // The axis arithmetic of the plotting library loops forever on an infinite range
                // (a run file edited to 1e200 made the spread overflow).
                eprintln!(
                    "warning: sweep plot of `{metric}` ({variant}) left out: a point at x = {} has mean {:e} and 95% half-width {:e}; values must be finite and within 1e100",
                    bad.0, bad.1, bad.2
                );
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

fn sweep_series(grid: &SweepAxes, table: &SweepTable, variant: &str, metric: &str) -> Series {
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

/// Largest value a sweep chart draws: far beyond any metric, far below where axis arithmetic
/// overflows.
const PLOTTABLE_ABS_MAX: f64 = 1e100;

/// Whether a point (x, mean, ci95) can be drawn.
fn plottable(p: &(f64, f64, f64)) -> bool {
    [p.0, p.1, p.2].iter().all(|v| v.is_finite() && v.abs() <= PLOTTABLE_ABS_MAX)
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
