//! Tidy CSV files: one observation per row, so any plotting tool can read them.

use super::summary::Summary;
use std::io::Write;

pub fn timeseries(w: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(["variant", "flow", "t_us", "goodput_gbps"])?;
    for v in &s.variants {
        for (flow, bins) in &v.series {
            for (i, g) in bins.iter().enumerate() {
                c.write_record([v.name.as_str(), flow, &format!("{:.3}", i as f64 * v.bin_us), &format!("{g}")])?;
            }
        }
    }
    c.flush()
}

/// Quantiles of the RPC latency distribution, dense in the tail (for CDF plots on a log tail axis).
pub fn cdf_quantiles() -> Vec<f64> {
    let mut q: Vec<f64> = (1..100).map(|i| i as f64 / 100.0).collect();
    for k in 1..=4i32 {
        let base = 1.0 - 10f64.powi(-k - 1) * 10.0;
        for i in 1..10 {
            q.push(base + i as f64 * 10f64.powi(-k - 1));
        }
    }
    q.sort_by(f64::total_cmp);
    q.dedup();
    q
}

pub fn latency_cdf(w: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(["variant", "quantile", "latency_us"])?;
    for v in &s.variants {
        if let Some(h) = &v.workloads.rpc_histogram {
            for q in cdf_quantiles() {
                c.write_record([
                    v.name.as_str(),
                    &format!("{q:.6}"),
                    &format!("{:.3}", h.value_at_quantile(q) as f64 / 1000.0),
                ])?;
            }
        }
    }
    c.flush()
}

pub fn flows(w: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record([
        "variant",
        "flow",
        "workload",
        "goodput_gbps",
        "wire_gbps",
        "bytes_delivered",
        "retransmits",
        "rtos",
    ])?;
    for v in &s.variants {
        for f in &v.flows {
            c.write_record([
                v.name.as_str(),
                &f.name,
                &f.workload,
                &f.goodput_gbps.to_string(),
                &f.wire_gbps.to_string(),
                &f.bytes_delivered.to_string(),
                &f.retransmits.to_string(),
                &f.rtos.to_string(),
            ])?;
        }
    }
    c.flush()
}
