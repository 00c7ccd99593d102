//! Sweep outputs, all rebuilt from the run files: tidy `results.csv` (one row per point, seed,
//! variant and metric), `aggregate.csv` (mean, sd and 95% CI per point, variant and metric),
//! `sweep.json` (the definition) and plots. Every file carries the sweep hash and version.

use super::RunRecord;
use super::grid::Grid;
use super::stats::summarise;
use crate::model::VariantResult;
use crate::output_set::OutputSet;
use crate::report::sweep_data::{PointStats, SweepAxes, SweepTable};
use crate::scenario::ScenarioSpec;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;

/// Every number in a variant's results, by path: `rpc.latency_us.p99`, `throughput.wire_gbps`,
/// `flows.bulk.goodput_gbps`, `counters.client.ena_srd_tx_pkts`, `srd.reorder_max_occupancy` ...
pub fn flatten_metrics(v: &VariantResult) -> BTreeMap<String, f64> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, f64>) {
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    out.insert(prefix.to_string(), x);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&p, x, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let key =
                        x.get("name").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| i.to_string());
                    walk(&format!("{prefix}.{key}"), x, out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk("", &serde_json::to_value(v).expect("results serialise"), &mut out);
    out
}

/// Add a sweep's outputs to an output set (committed by the caller).
pub fn write_all(set: &mut OutputSet, spec: &ScenarioSpec, grid: &Grid, records: &[RunRecord]) -> anyhow::Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let mut put = |name: &str, f: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| set.put(name, f);
    put("sweep.json", &|w| {
        let meta = serde_json::json!({
            "sweep_hash": grid.hash,
            "nitrosim_version": version,
            "scenario": spec.name,
            "base_seed": spec.seed,
            "parameters": grid.paths.iter().zip(&grid.values).map(|(p, v)| serde_json::json!({"path": p, "values": v})).collect::<Vec<_>>(),
            "seeds": grid.seeds,
            "points": grid.points,
            "runs_total": grid.runs.len(),
            "runs_present": records.len(),
            // The whole definition, so `merge` and `plot` can rebuild the grid from the folder.
            "spec": spec,
        });
        serde_json::to_writer_pretty(&mut *w, &meta)?;
        w.write_all(b"\n")
    })?;
    put("results.csv", &|w| {
        let mut c = csv::Writer::from_writer(w);
        let mut header = vec!["sweep_hash".to_string(), "version".into(), "point".into()];
        header.extend(grid.paths.iter().cloned());
        header.extend(["seed_index", "seed", "variant", "metric", "value"].map(String::from));
        c.write_record(&header)?;
        for r in records {
            let values = grid.point_values(r.point);
            for (variant, metrics) in &r.variants {
                for (metric, value) in metrics {
                    let mut row = vec![grid.hash.clone(), version.to_string(), r.point.to_string()];
                    row.extend(values.iter().cloned());
                    row.extend([
                        r.seed_index.to_string(),
                        r.seed.to_string(),
                        variant.clone(),
                        metric.clone(),
                        format!("{value}"),
                    ]);
                    c.write_record(&row)?;
                }
            }
        }
        c.flush()
    })?;
    let table = aggregate(grid, records);
    put("aggregate.csv", &|w| {
        let mut c = csv::Writer::from_writer(w);
        let mut header = vec!["sweep_hash".to_string(), "version".into(), "point".into()];
        header.extend(grid.paths.iter().cloned());
        header.extend(["variant", "metric", "n", "mean", "sd", "ci95_low", "ci95_high"].map(String::from));
        c.write_record(&header)?;
        for ((point, variant, metric), s) in &table {
            let values = grid.point_values(*point);
            let mut row = vec![grid.hash.clone(), version.to_string(), point.to_string()];
            row.extend(values.iter().cloned());
            row.extend([
                variant.clone(),
                metric.clone(),
                s.n.to_string(),
                format!("{}", s.mean),
                format!("{}", s.sd),
                format!("{}", s.mean - s.ci95),
                format!("{}", s.mean + s.ci95),
            ]);
            c.write_record(&row)?;
        }
        c.flush()
    })?;
    let (axes, report_table) = report_data(grid, &table);
    let plots = crate::report::plot::render_sweep(spec, &axes, &report_table)?;
    for (name, bytes) in &plots {
        put(name, &|w| w.write_all(bytes))?;
    }
    let svgs: Vec<(String, String)> = plots
        .iter()
        .filter(|(n, _)| n.ends_with(".svg"))
        .map(|(n, b)| (n.clone(), String::from_utf8_lossy(b).into_owned()))
        .collect();
    let metrics = crate::report::plot::sweep_metrics(spec);
    let page = crate::report::html::sweep_report(spec, &axes, &report_table, records.len(), &svgs, &metrics);
    put("report.html", &|w| w.write_all(page.as_bytes()))?;
    Ok(())
}

/// The grid and table as plain data for the report layer, which knows nothing of sweeps.
fn report_data(grid: &Grid, table: &Table) -> (SweepAxes, SweepTable) {
    let seeds = grid.seeds as usize;
    let axes = SweepAxes {
        hash: grid.hash.clone(),
        paths: grid.paths.clone(),
        values: grid.values.clone(),
        log_scale: grid.log_scale.clone(),
        points: grid.points,
        seeds: grid.seeds,
        runs_total: grid.runs.len(),
        point_values: (0..grid.points)
            .map(|p| grid.runs.get(p * seeds).map(|r| r.values.clone()).unwrap_or_default())
            .collect(),
    };
    let stats = table.iter().map(|(k, s)| (k.clone(), PointStats { n: s.n, mean: s.mean, ci95: s.ci95 })).collect();
    (axes, stats)
}

/// (point, variant, metric) -> summary across seeds; variants in scenario order by name.
pub type Table = BTreeMap<(usize, String, String), super::stats::Summary>;

pub fn aggregate(_grid: &Grid, records: &[RunRecord]) -> Table {
    let mut samples: BTreeMap<(usize, String, String), Vec<f64>> = BTreeMap::new();
    for r in records {
        for (variant, metrics) in &r.variants {
            for (metric, value) in metrics {
                samples.entry((r.point, variant.clone(), metric.clone())).or_default().push(*value);
            }
        }
    }
    samples.into_iter().map(|(k, v)| (k, summarise(&v))).collect()
}
