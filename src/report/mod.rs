//! Reports read finished results, never a live run: `summary.json`, CSV files, plots (SVG and
//! PNG) and the text table on stdout. Every file is written under a temporary name and renamed
//! into place once complete, so a crash never leaves a half-written output.

pub mod csv_out;
pub mod html;
pub mod ladder;
pub mod pcap;
pub mod plot;
pub mod summary;
pub mod sweep_data;
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
    // No empty file: a run without notable events has no event log.
    if s.variants.iter().any(|v| !v.events.is_empty()) {
        set.put("events.jsonl", &|w| write_events(w, s))?;
    }
    let svgs = plot::render_svgs(s)?;
    for (name, svg) in &svgs {
        set.put(name, &|w| w.write_all(svg.as_bytes()))?;
    }
    for (name, png) in plot::render_pngs(s)? {
        set.put(&name, &|w| w.write_all(&png))?;
    }
    let ladders = ladders(s);
    let mut ladder_svgs = Vec::new();
    for l in &ladders {
        let stem = format!("ladder-{}", safe_name(&l.variant));
        let svg = ladder::render_svg(l);
        set.put(&format!("{stem}.svg"), &|w| w.write_all(svg.as_bytes()))?;
        let png = ladder::render_png(l)?;
        set.put(&format!("{stem}.png"), &|w| w.write_all(&png))?;
        ladder_svgs.push((l.variant.clone(), svg));
    }
    let page = html::run_report(s, &svgs, &ladder_svgs);
    set.put("report.html", &|w| w.write_all(page.as_bytes()))?;
    Ok(())
}

/// The ladder diagram of each variant whose scenario asks for one.
pub fn ladders(s: &summary::Summary) -> Vec<ladder::Ladder> {
    let Some(ctx) = &s.context else { return Vec::new() };
    s.variants
        .iter()
        .filter_map(|v| {
            let spec = &ctx.specs.iter().find(|(n, _)| *n == v.name)?.1;
            let built = ladder::build(spec, v);
            if let (None, Some(l)) = (&built, &spec.report.ladder) {
                // Asked for and not drawn: the flow was not seen at two captured points in the
                // window (not started, a window after the end, or report.capture missing an end).
                eprintln!(
                    "warning: variant {}: no ladder diagram: flow {:?} was not seen at two captured points from {} to {} \
                     (`nitrosim check` says why when it can)",
                    v.name, l.flow, l.from, l.to
                );
            }
            built
        })
        .collect()
}

fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

/// What a report shows besides the numbers: the scenario as run, what `check` says of it, the
/// baseline each variant is compared with, and the variants' specs (for ladder diagrams).
#[derive(Clone, Debug, Default)]
pub struct ReportContext {
    pub file: String,
    pub description: String,
    /// The scenario text with `--set` overrides applied (the file itself when there are none).
    pub scenario_text: String,
    pub sets: Vec<String>,
    /// `nitrosim check`'s description of each variant.
    pub checks: Vec<String>,
    /// (variant, the variant it is compared with).
    pub baselines: Vec<(String, String)>,
    pub specs: Vec<(String, crate::scenario::ScenarioSpec)>,
}

impl ReportContext {
    /// From the loaded variants of `file` (text `text`, run with `sets`).
    pub fn new(file: &str, text: &str, sets: &[String], variants: &[crate::scenario::Variant]) -> Self {
        let spec = variants.first().map(|v| &v.spec);
        let scenario_text = if sets.is_empty() {
            text.to_string()
        } else {
            // The overrides applied to the file, written back as RON (the file's comments are lost).
            let mut t =
                format!("// {file} with {}\n", sets.iter().map(|s| format!("--set {s}")).collect::<Vec<_>>().join(" "));
            match crate::scenario::parse(file, text).and_then(|p| crate::scenario::apply_sets(file, p, sets)) {
                Ok(p) => t.push_str(
                    &ron::ser::to_string_pretty(&p, ron::ser::PrettyConfig::default())
                        .unwrap_or_else(|e| e.to_string()),
                ),
                Err(_) => t.push_str(text),
            }
            t
        };
        let parsed = crate::scenario::parse(file, text).ok();
        let baselines = match &parsed {
            Some(p) if !p.variants.is_empty() => p
                .variants
                .iter()
                .map(|v| (v.name.clone(), v.baseline.clone().unwrap_or_else(|| p.variants[0].name.clone())))
                .collect(),
            _ => Vec::new(),
        };
        ReportContext {
            file: file.to_string(),
            description: spec.map(|s| s.description.clone()).unwrap_or_default(),
            scenario_text,
            sets: sets.to_vec(),
            checks: variants.iter().map(|v| crate::scenario::validate::describe(&v.name, &v.spec)).collect(),
            baselines,
            specs: variants.iter().map(|v| (v.name.clone(), v.spec.clone())).collect(),
        }
    }
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
