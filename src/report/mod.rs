//! Reports read finished results, never a live run: `summary.json`, CSV files, plots (SVG and
//! PNG) and the text table on stdout. Every file is written under a temporary name and renamed
//! into place once complete, so a crash never leaves a half-written output.

pub mod csv_out;
pub mod pcap;
pub mod plot;
pub mod summary;
pub mod table;

use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `path` atomically: a temporary sibling, flushed and synced, then renamed.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let tmp = temp_name(path);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        write(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `dir/name.ext` -> `dir/.name.ext.tmp-PID`: hidden, and never mistaken for a result.
pub fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Add everything for one run to an output set (committed by the caller, with the manifest).
pub fn write_all(set: &mut crate::output_set::OutputSet, s: &summary::Summary) -> anyhow::Result<()> {
    set.put("summary.json", &|w| summary::write_json(w, s))?;
    set.put("timeseries.csv", &|w| csv_out::timeseries(w, s))?;
    set.put("latency_cdf.csv", &|w| csv_out::latency_cdf(w, s))?;
    set.put("flows.csv", &|w| csv_out::flows(w, s))?;
    set.put("events.jsonl", &|w| write_events(w, s))?;
    for (name, svg) in plot::render_svgs(s)? {
        set.put(&name, &|w| w.write_all(svg.as_bytes()))?;
    }
    for (name, png) in plot::render_pngs(s)? {
        set.put(&name, &|w| w.write_all(&png))?;
    }
    Ok(())
}

/// `events.jsonl`: one JSON object per notable event, each tagged with its variant, in time order
/// within a variant.
pub fn write_events(w: &mut dyn Write, s: &summary::Summary) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        variant: &'a str,
        #[serde(flatten)]
        entry: &'a crate::model::trace::LogEntry,
    }
    for v in &s.variants {
        for e in &v.events {
            serde_json::to_writer(&mut *w, &Line { variant: &v.name, entry: e })?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Add each variant's captures to an output set as `PREFIX/VARIANT-POINT.pcap` (`prefix` empty
/// for a set of its own). Returns how many packets were left out (beyond the per-point limit).
pub fn write_pcaps(set: &mut crate::output_set::OutputSet, prefix: &Path, s: &summary::Summary) -> anyhow::Result<u64> {
    let mut omitted = 0;
    for v in &s.variants {
        for point in &v.captures {
            let name = format!("{}-{}.pcap", v.name, point.name);
            let name: String =
                name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
            set.put(&prefix.join(name).to_string_lossy(), &|w| pcap::write(w, point))?;
            omitted += point.omitted;
        }
    }
    Ok(omitted)
}
