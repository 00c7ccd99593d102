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

/// Write everything for one run into `dir`. Returns the files written.
pub fn write_all(dir: &Path, s: &summary::Summary) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create output folder {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut put = |name: &str, f: &dyn Fn(&mut dyn Write) -> std::io::Result<()>| -> anyhow::Result<()> {
        let p = dir.join(name);
        write_atomic(&p, f).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
        written.push(p);
        Ok(())
    };
    put("summary.json", &|w| summary::write_json(w, s))?;
    put("timeseries.csv", &|w| csv_out::timeseries(w, s))?;
    put("latency_cdf.csv", &|w| csv_out::latency_cdf(w, s))?;
    put("flows.csv", &|w| csv_out::flows(w, s))?;
    put("events.jsonl", &|w| write_events(w, s))?;
    for (name, svg) in plot::render_svgs(s)? {
        put(&name, &|w| w.write_all(svg.as_bytes()))?;
    }
    for (name, png) in plot::render_pngs(s)? {
        put(&name, &|w| w.write_all(&png))?;
    }
    Ok(written)
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

/// Write each variant's captures into `dir` as `VARIANT-POINT.pcap`. Returns the files written.
pub fn write_pcaps(dir: &Path, s: &summary::Summary) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create pcap folder {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for v in &s.variants {
        for point in &v.captures {
            let name = format!("{}-{}.pcap", v.name, point.name);
            let name: String =
                name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
            let p = dir.join(name);
            write_atomic(&p, |w| pcap::write(w, point))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?;
            written.push(p);
        }
    }
    Ok(written)
}
