#![allow(dead_code)]
//! Helpers shared by the integration tests.

use nitrosim::model::VariantResult;
use nitrosim::progress::Progress;
use nitrosim::report::summary::{Summary, write_json};
use nitrosim::scenario;

/// Load, run every variant, and return the summary (conservation is checked inside `run`).
pub fn run_text(name: &str, text: &str, sets: &[&str]) -> Summary {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let variants = scenario::load(name, text, &sets, None).unwrap_or_else(|d| panic!("{d}"));
    let progress = Progress::new(1, false);
    let results = nitrosim::run::run_variants(&variants, &progress).unwrap_or_else(|e| panic!("{e}"));
    Summary::new(&variants[0].spec.name, variants[0].spec.seed, results)
}

pub fn json(s: &Summary) -> String {
    let mut v = Vec::new();
    write_json(&mut v, s).unwrap();
    String::from_utf8(v).unwrap()
}

pub fn variant<'a>(s: &'a Summary, name: &str) -> &'a VariantResult {
    s.variants.iter().find(|v| v.name == name).unwrap_or_else(|| panic!("no variant {name}"))
}

pub fn wire_total(v: &VariantResult) -> f64 {
    v.flows.iter().map(|f| f.wire_gbps).sum()
}

pub fn assert_conserved(v: &VariantResult) {
    let p = &v.packets;
    assert_eq!(p.sent, p.delivered + p.dropped + p.fragmented + p.in_flight, "variant {}: {p:?}", v.name);
    assert_eq!(p.dropped, v.drops.values().sum::<u64>(), "every drop has a reason");
}

/// The text of the error loading a scenario with these overrides ("" when it loads).
pub fn load_error(file: &str, text: &str, sets: &[&str]) -> String {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    scenario::load(file, text, &sets, None).err().map(|d| d.to_string()).unwrap_or_default()
}

/// Goodput of all a variant's flows together in time bin `i` (Gbps).
pub fn bin_total(v: &VariantResult, i: usize) -> f64 {
    v.series.iter().map(|(_, b)| b[i]).sum()
}

/// A test whose tool is missing: under CI (`CI` set, as `.ci/run` runs) that is a failure;
/// elsewhere it says `SKIPPED: <reason>` on the real stderr, past the test harness's capture,
/// so a passing run still shows what it did not test.
pub fn skip_or_fail(reason: &str, install: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!ci, "{reason} under CI=true: {install}");
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {reason} ({install})");
}

/// Every `<text>` of an SVG lies inside its canvas (its width estimated from the characters:
/// 0.62 em each, generous for DejaVu Sans). `what` names the plot in the failure.
pub fn assert_svg_text_inside(what: &str, svg: &str) {
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let k = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[k..].split('"').next()?.parse().ok()
    };
    let svg_tag = &svg[svg.find("<svg").expect("an svg")..];
    let svg_tag = &svg_tag[..svg_tag.find('>').unwrap()];
    let (w, h) = (attr(svg_tag, "width").unwrap(), attr(svg_tag, "height").unwrap());
    let mut rest = svg;
    let mut n = 0;
    while let Some(i) = rest.find("<text ") {
        let tag_end = i + rest[i..].find('>').unwrap();
        let tag = &rest[i..tag_end];
        let text_end = tag_end + rest[tag_end..].find("</text>").unwrap();
        let text = rest[tag_end + 1..text_end].trim().replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        rest = &rest[text_end..];
        let (x, y, size) = (attr(tag, "x").unwrap(), attr(tag, "y").unwrap(), attr(tag, "font-size").unwrap());
        let len = text.chars().count() as f64 * size * 0.62;
        let before = if tag.contains("text-anchor=\"middle\"") {
            len / 2.0
        } else if tag.contains("text-anchor=\"end\"") {
            len
        } else {
            0.0
        };
        let (lo, hi) = (-before, len - before);
        // Vertical extent: plotters hangs text below y (dy="0.76em"); otherwise y is the baseline.
        let top = if tag.contains("dy=\"0.76em\"") { y } else { y - size };
        let ok = if tag.contains("rotate(270") {
            // Rotated a quarter turn: the text runs up the page from (x, y).
            y - hi >= -1.0 && y - lo <= h + 1.0 && x - size >= -1.0 && x + size <= w + 1.0
        } else {
            x + lo >= -1.0 && x + hi <= w + 1.0 && top >= -1.0 && top + 1.25 * size <= h + 1.0
        };
        assert!(ok, "{what}: label {text:?} at ({x}, {y}), {size} px, leaves the {w} x {h} canvas");
        n += 1;
    }
    assert!(n > 0, "{what}: no labels at all");
}

/// A refusal the user can act on: exit 2, an `error: ` message with each of `needles`, no panic.
pub fn assert_refused(code: i32, err: &str, needles: &[&str]) {
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
}

/// Make `c` run as on a disk that fills after `limit_bytes` per file: `RLIMIT_FSIZE`, with
/// `SIGXFSZ` ignored so that a write past the limit fails with `EFBIG` ("File too large"), as one
/// on a full disk fails with `ENOSPC`, instead of killing the process. It binds root too, so it
/// makes a write fail where permissions cannot (CI runs as root).
pub fn limit_file_size(c: &mut std::process::Command, limit_bytes: u64) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls (setrlimit, signal).
    unsafe {
        c.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: limit_bytes, rlim_max: limit_bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0
                || libc::signal(libc::SIGXFSZ, libc::SIG_IGN) == libc::SIG_ERR
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Every file under `dir`, by its path relative to `dir` (sorted).
pub fn files_under(dir: &std::path::Path) -> std::collections::BTreeMap<String, std::path::PathBuf> {
    fn walk(
        root: &std::path::Path,
        d: &std::path::Path,
        out: &mut std::collections::BTreeMap<String, std::path::PathBuf>,
    ) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_string_lossy().into(), p);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
