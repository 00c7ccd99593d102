//! The run charts: message-size sweeps, the PMTUD timeline, service clients' success rate,
//! goodput over time and the RPC latency CDF. Style helpers live in the parent module.

use super::*;

/// Message-size sweeps: one line per variant and ping-pong workload.
pub(super) fn osu<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    bandwidth: bool,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let mut lines: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for v in &s.variants {
        let mut names: Vec<&str> = v.workloads.pingpong.iter().map(|p| p.workload.as_str()).collect();
        names.dedup();
        for w in names {
            let pts: Vec<(f64, f64)> = v
                .workloads
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
pub(super) fn timeline<DB: DrawingBackend>(
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
pub(super) fn client_success<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let lines: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .flat_map(|v| {
            v.workloads.success_series.iter().map(move |(w, bins)| {
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
pub(super) fn workload_groups(s: &Summary) -> Vec<(String, Vec<String>)> {
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
pub(super) fn throughput<DB: DrawingBackend>(
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
pub(super) fn latency_cdf<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Summary,
    hot: &mut Vec<Hot>,
) -> anyhow::Result<bool> {
    let qs = cdf_quantiles();
    let raw: Vec<(String, Vec<(f64, f64)>)> = s
        .variants
        .iter()
        .filter_map(|v| v.workloads.rpc_histogram.as_ref().filter(|h| !h.is_empty()).map(|h| (v, h)))
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
