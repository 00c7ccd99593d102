//! `nitrosim validate`: the model side by side with the outside world.
//!
//! Each case is a file under `validation/` (RON, schema in `validation/README.md`): a mechanism,
//! the source of its reference value (a document or a paper, with a link and the date it was
//! read), a scenario with its `--set` overrides, the variant and the `summary.json` field that
//! nitrosim's value is read from, the reference value and a tolerance that the case's comments
//! justify. A reference is a fact from its source or a formula from theory (`theory`), never a
//! number the model produced. Cases are grouped by run (scenario, overrides, seed), each run is
//! simulated once with only the variants its cases read, and runs go in parallel with rayon; the
//! table comes out in the cases' file-name order whatever the thread count.

mod case;

pub use case::{Case, Derive, MetricRef, Source, Theory, Tolerance};

use crate::progress::Progress;
use crate::report::summary::{Summary, write_json};
use crate::scenario::{self, Diagnostic};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Cases in one folder, sorted by file name.
pub struct Cases {
    pub cases: Vec<(String, Case)>,
}

/// Read every `*.ron` in `dir` (not recursive: scenarios used only by cases may sit in
/// subfolders). A mistake in a case is a positioned diagnostic, as for scenarios.
pub fn load_cases(dir: &Path) -> Result<Cases, Diagnostic> {
    let shown = dir.display().to_string();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Diagnostic::new(&shown, format!("cannot read the validation folder: {e}"))
            .expected("a folder of validation cases (*.ron)")
            .hint("run from the repository root, or pass --cases DIR")
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Diagnostic::new(&shown, "no validation cases (*.ron) in this folder")
            .hint("each case is a RON file; see validation/README.md"));
    }
    let mut cases = Vec::with_capacity(files.len());
    for f in files {
        let name = f.display().to_string();
        let text = scenario::read_text(&f)?;
        let case = case::parse(&name, &text)?;
        let stem = f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        cases.push((stem, case));
    }
    Ok(Cases { cases })
}

/// Before anything runs: every variant a chosen case reads exists in its scenario (with the
/// case's `set`), or the case file is wrong, an exit-2 error at its `variant`. A scenario that does
/// not load is left for the run to report in the case's row.
pub fn check_variants(root: &Path, dir: &Path, cases: &[&(String, Case)]) -> Result<(), Diagnostic> {
    for (name, c) in cases {
        let path = c.scenario_path(root, dir);
        let Ok(text) = scenario::read_text(&path) else { continue };
        let Ok(variants) = scenario::load(&path.display().to_string(), &text, &c.set, c.seed) else { continue };
        for wanted in c.variants_read() {
            if variants.iter().any(|v| v.name == wanted) {
                continue;
            }
            let file = dir.join(format!("{name}.ron"));
            let shown = file.display().to_string();
            let case_text = scenario::read_text(&file)?;
            let (l, col) = scenario::error::locate(&case_text, "variant", &wanted);
            let names: Vec<String> = variants.iter().map(|v| format!("{:?}", v.name)).collect();
            return Err(Diagnostic::new(&shown, format!("{} has no variant {wanted:?}", c.scenario))
                .at(&case_text, l, col)
                .expected(format!("one of its variants: {}", names.join(", ")))
                .hint("a scenario without `variants` has one, named \"base\""));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    /// The value could not be obtained (the scenario failed to load or run, or the metric is
    /// not in its summary): a failure too.
    Error,
}

/// One row of the table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub name: String,
    pub mechanism: String,
    pub source: Source,
    pub scenario: String,
    pub set: Vec<String>,
    pub variant: String,
    pub metric: String,
    /// Where the reference comes from: "cited" or the theory formula with its inputs.
    pub reference_kind: String,
    pub reference: f64,
    /// nitrosim's value: with `seeds` > 1, the mean of `per_seed`.
    pub value: Option<f64>,
    /// The value on each seed, when the case runs more than one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_seed: Vec<f64>,
    pub unit: String,
    pub tolerance: String,
    pub verdict: Verdict,
    /// Why a case errored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub long: bool,
}

/// Everything `validation.json` holds.
#[derive(Debug, Serialize)]
pub struct Report {
    pub nitrosim_version: &'static str,
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub long_included: bool,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn all_passed(&self) -> bool {
        self.passed == self.cases
    }
}

pub struct Options {
    /// Run the long cases too.
    pub long: bool,
    /// Only cases whose file name contains one of these.
    pub only: Vec<String>,
}

/// The cases that `opts` selects, in order.
pub fn select<'a>(cases: &'a Cases, opts: &Options) -> Vec<&'a (String, Case)> {
    cases
        .cases
        .iter()
        .filter(|(name, c)| opts.long || !c.long || opts.only.iter().any(|o| name == o))
        .filter(|(name, _)| opts.only.is_empty() || opts.only.iter().any(|o| name.contains(o.as_str())))
        .collect()
}

/// A scenario run that one or more cases read: the file, its overrides, and the variants read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RunKey {
    scenario: PathBuf,
    set: Vec<String>,
    seed: Option<u64>,
    /// Added to the seed (the case's, or else the scenario's): the runs of a multi-seed case.
    seed_offset: u32,
}

/// Run the selected cases of `dir` (the folder case paths starting with `./` are relative to;
/// others are relative to `root`, the repository root).
pub fn run(root: &Path, dir: &Path, cases: &[&(String, Case)], progress: &Progress) -> Report {
    // Group the cases by run; each run simulates only the variants its cases read.
    let mut runs: BTreeMap<RunKey, Vec<String>> = BTreeMap::new();
    let keys_of = |c: &Case| -> Vec<RunKey> {
        (0..c.seeds)
            .map(|seed_offset| RunKey {
                scenario: c.scenario_path(root, dir),
                set: c.set.clone(),
                seed: c.seed,
                seed_offset,
            })
            .collect()
    };
    for (_, c) in cases {
        for key in keys_of(c) {
            let v = runs.entry(key).or_default();
            for name in c.variants_read() {
                if !v.contains(&name) {
                    v.push(name);
                }
            }
        }
    }
    let keys: Vec<(RunKey, Vec<String>)> = runs.into_iter().collect();
    let results: Vec<Result<serde_json::Value, String>> =
        keys.par_iter().map(|(k, variants)| simulate(k, variants, progress)).collect();
    let by_key: BTreeMap<&RunKey, &Result<serde_json::Value, String>> =
        keys.iter().map(|(k, _)| k).zip(results.iter()).collect();
    let rows: Vec<Row> = cases
        .iter()
        .map(|(name, c)| {
            let per_seed: Result<Vec<f64>, String> =
                keys_of(c).iter().map(|k| by_key[k].as_ref().map_err(Clone::clone).and_then(|s| c.value(s))).collect();
            let value = per_seed.as_ref().map(|v| v.iter().sum::<f64>() / v.len() as f64).map_err(Clone::clone);
            let per_seed = if c.seeds > 1 { per_seed.unwrap_or_default() } else { Vec::new() };
            let (reference, reference_kind) = c.reference_value();
            let (verdict, value, error) = match value {
                Ok(v) if c.tolerance.accepts(v, reference) => (Verdict::Pass, Some(v), None),
                Ok(v) => (Verdict::Fail, Some(v), None),
                Err(e) => (Verdict::Error, None, Some(e)),
            };
            Row {
                name: name.clone(),
                mechanism: c.mechanism.clone(),
                source: c.source.clone(),
                scenario: c.scenario.clone(),
                set: c.set.clone(),
                variant: c.variant.clone(),
                metric: c.metric.clone(),
                reference_kind,
                reference,
                value,
                per_seed,
                unit: c.unit.clone(),
                tolerance: c.tolerance.describe(&c.unit),
                verdict,
                error,
                long: c.long,
            }
        })
        .collect();
    let passed = rows.iter().filter(|r| r.verdict == Verdict::Pass).count();
    Report {
        nitrosim_version: env!("CARGO_PKG_VERSION"),
        cases: rows.len(),
        passed,
        failed: rows.len() - passed,
        long_included: cases.iter().any(|(_, c)| c.long),
        rows,
    }
}

/// Load and run one scenario (only `variants`), and return its summary as JSON.
fn simulate(k: &RunKey, variants: &[String], progress: &Progress) -> Result<serde_json::Value, String> {
    let file = k.scenario.display().to_string();
    let text = scenario::read_text(&k.scenario).map_err(|d| d.to_string())?;
    let mut all = scenario::load(&file, &text, &k.set, k.seed).map_err(|d| d.to_string())?;
    if k.seed_offset > 0 {
        let base = all.first().map(|v| v.spec.seed).unwrap_or_default();
        let seed = base
            .checked_add(u64::from(k.seed_offset))
            .ok_or_else(|| format!("{file}: seed {base} + offset overflows"))?;
        all = scenario::load(&file, &text, &k.set, Some(seed)).map_err(|d| d.to_string())?;
    }
    let seed = all.first().map(|v| v.spec.seed).unwrap_or_default();
    let chosen: Vec<_> = all.into_iter().filter(|v| variants.contains(&v.name)).collect();
    if let Some(missing) = variants.iter().find(|n| !chosen.iter().any(|v| &v.name == *n)) {
        return Err(format!("{file} has no variant \"{missing}\""));
    }
    let name = chosen[0].spec.name.clone();
    let results = crate::run::run_variants(&chosen, progress).map_err(|e| format!("{file}: {e}"))?;
    let summary = Summary::new(&name, seed, results);
    let mut bytes = Vec::new();
    write_json(&mut bytes, &summary).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

/// A number printed with about four significant figures.
pub fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    // Beyond any reference of ours (432000 s is the largest): not a row of 309 digits.
    if x.abs() >= 1e12 {
        return format!("{x:e}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// The Markdown table (also what `validate` prints).
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    s.push_str("| case | mechanism | source | reference | nitrosim | tolerance | verdict |\n");
    s.push_str("|---|---|---|---|---|---|---|\n");
    for row in &r.rows {
        let mut value = row.value.map_or_else(|| "—".to_string(), |v| format!("{} {}", num(v), row.unit));
        if let (Some(lo), Some(hi)) =
            (row.per_seed.iter().copied().reduce(f64::min), row.per_seed.iter().copied().reduce(f64::max))
        {
            value.push_str(&format!(" (mean of {} seeds, {} to {})", row.per_seed.len(), num(lo), num(hi)));
        }
        let verdict = match row.verdict {
            Verdict::Pass => "pass".to_string(),
            Verdict::Fail => "**FAIL**".to_string(),
            Verdict::Error => format!("**ERROR**: {}", row.error.as_deref().unwrap_or("").lines().next().unwrap_or("")),
        };
        let reference = if row.reference_kind == "cited" {
            format!("{} {}", num(row.reference), row.unit)
        } else {
            format!("{} {} ({})", num(row.reference), row.unit, row.reference_kind)
        };
        s.push_str(&format!(
            "| {} | {} | [{}]({}), read {} | {} | {} | {} | {} |\n",
            row.name,
            row.mechanism.replace('|', "/"),
            row.source.title.replace('|', "/"),
            row.source.url,
            row.source.read,
            reference,
            value,
            row.tolerance,
            verdict
        ));
    }
    s.push_str(&format!(
        "\n{} of {} cases pass{}.\n",
        r.passed,
        r.cases,
        if r.long_included { " (long cases included)" } else { " (long cases not run: `--long`)" }
    ));
    s
}

/// Add `validation.json` and `validation.md` to an output set (committed by the caller).
pub fn write(set: &mut crate::output_set::OutputSet, r: &Report) -> anyhow::Result<()> {
    set.put("validation.json", &|w| {
        serde_json::to_writer_pretty(&mut *w, r)?;
        w.write_all(b"\n")
    })?;
    let table = markdown(r);
    set.put("validation.md", &|w| w.write_all(table.as_bytes()))
}
