//! Parameter sweeps: a grid of parameter values (the same paths `--set` takes) crossed with
//! `seeds` runs per point, run in parallel across runs, written one file per finished run so an
//! interrupted sweep resumes, sliced into shards for a cluster and merged back.
//!
//! A run's seed comes from (base seed, point label, seed index) only, so its result does not
//! depend on which machine, thread or shard ran it; every output is regenerated from the run files
//! in (point, seed) order, so a single-machine sweep and merged shards write identical files.

pub mod grid;
pub mod output;
pub mod stats;

pub use grid::{Grid, Run};

use crate::output_set::{self, Manifest, OutputSet};
use crate::progress::Progress;
use crate::report::write_atomic;
use crate::scenario::{self, Diagnostic, ScenarioSpec};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs in one sweep at most: a typo in a range cannot queue a million simulations.
pub const MAX_RUNS: usize = 100_000;
/// Folder, under the output folder, holding one JSON file per finished run.
pub const RUNS_DIR: &str = "runs";

/// What one finished run left behind: enough to rebuild every output, nothing that depends on
/// where it ran.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub sweep_hash: String,
    pub point: usize,
    pub label: String,
    pub seed_index: u32,
    pub seed: u64,
    /// Variant name -> metric path -> value.
    pub variants: Vec<(String, BTreeMap<String, f64>)>,
}

/// `--shard K/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 3/16")?;
        let (k, n): (usize, usize) =
            (k.trim().parse().map_err(|_| "K is not a number")?, n.trim().parse().map_err(|_| "N is not a number")?);
        if n == 0 || k >= n {
            return Err(format!("shard {k}/{n}: need 0 <= K < N"));
        }
        Ok(Shard { index: k, count: n })
    }
}

pub struct SweepOptions {
    pub jobs: usize,
    pub resume: bool,
    pub shard: Option<Shard>,
    pub quiet: bool,
    /// The `--set` overrides, for the manifest.
    pub sets: Vec<String>,
}

/// Load the scenario and its sweep definition; every parameter value is checked before anything
/// runs.
pub fn prepare(file: &str, src: &str, sets: &[String]) -> Result<(ScenarioSpec, Grid), Diagnostic> {
    let spec = scenario::load_spec(file, src, sets, None)?;
    let grid = Grid::build(file, src, &spec).map_err(|d| {
        // A sweep the file defines well, broken by an override: blame the override.
        let unset = scenario::load_spec(file, src, &[], None).ok();
        if !sets.is_empty() && unset.is_some_and(|u| Grid::build(file, src, &u).is_ok()) {
            d.blamed_on_sets(sets)
        } else {
            d
        }
    })?;
    Ok((spec, grid))
}

/// Largest `sweep.json` or run record read back: each is a few KiB to a few MiB; a link to
/// `/dev/zero` must not fill the memory.
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// A sweep folder's JSON file, read whole within [`MAX_RECORD_BYTES`].
fn read_record(path: &Path) -> Result<String, String> {
    crate::scenario::read_bounded(path, MAX_RECORD_BYTES).map_err(|f| f.to_string())
}

fn run_name(run: &Run) -> String {
    format!("{RUNS_DIR}/p{:05}-s{:04}.json", run.point, run.seed_index)
}

/// A run file, if it exists, is complete and is exactly the run its name says: same sweep, point,
/// label, seed index and seed. A record copied or renamed to another name is not used.
fn load_run(path: &Path, grid: &Grid, run: &Run) -> Option<RunRecord> {
    let text = read_record(path).ok()?;
    let rec: RunRecord = serde_json::from_str(&text).ok()?;
    let same = rec.sweep_hash == grid.hash
        && rec.point == run.point
        && rec.label == run.label
        && rec.seed_index == run.seed_index
        && rec.seed == run.seed;
    same.then_some(rec)
}

fn manifest(spec: &ScenarioSpec, grid: &Grid, command: &'static str, file: &str, sets: &[String]) -> Manifest {
    Manifest {
        command,
        scenario: spec.name.clone(),
        scenario_file: file.to_string(),
        scenario_hash: grid.hash.clone(),
        seed: spec.seed,
        sets: sets.to_vec(),
    }
}

/// Build a sweep folder as a set: every valid record of this sweep found in `sources` (the first
/// source holding a run wins) linked under `runs/`, and the outputs from those of `shard`.
fn assemble(
    mut set: OutputSet,
    sources: &[&Path],
    spec: &ScenarioSpec,
    grid: &Grid,
    shard: Option<Shard>,
    manifest: &Manifest,
) -> anyhow::Result<Vec<RunRecord>> {
    let mut records = Vec::new();
    let mut kept = 0usize;
    for (i, run) in grid.runs.iter().enumerate() {
        let name = run_name(run);
        let found = sources.iter().find_map(|dir| {
            let p = dir.join(&name);
            load_run(&p, grid, run).map(|rec| (p, rec))
        });
        if let Some((path, rec)) = found {
            set.link(&name, &path)?;
            kept += 1;
            if shard.is_none_or(|s| i % s.count == s.index) {
                records.push(rec);
            }
        }
    }
    output::write_all(&mut set, spec, grid, &records)?;
    set.commit(manifest, serde_json::json!({"sweep_hash": grid.hash, "run_records": kept}))?;
    Ok(records)
}

/// Run the sweep (or this shard of it) into `dir`, then write the outputs from every run file
/// present. Returns the records in (point, seed) order.
///
/// Finished runs are kept one file each in `.NAME.partial/runs/` beside the folder, so an
/// interrupted sweep resumes from them; the folder itself changes only at the end, as a set.
pub fn execute(
    file: &str,
    src: &str,
    spec: &ScenarioSpec,
    grid: &Grid,
    dir: &Path,
    opts: &SweepOptions,
) -> anyhow::Result<Vec<RunRecord>> {
    let (abs, lock) = output_set::prepare(dir)?;
    let partial = output_set::sibling(&abs, "partial");
    if !opts.resume {
        let _ = std::fs::remove_dir_all(&partial);
    }
    std::fs::create_dir_all(partial.join(RUNS_DIR))?;
    // Temporaries left by an interrupted sweep are never read; clear them away (we hold the lock).
    for e in std::fs::read_dir(partial.join(RUNS_DIR))?.flatten() {
        if e.file_name().to_string_lossy().starts_with('.') {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let mine: Vec<&Run> = grid
        .runs
        .iter()
        .enumerate()
        .filter(|(i, _)| opts.shard.is_none_or(|s| i % s.count == s.index))
        .map(|(_, r)| r)
        .collect();
    let done = |r: &Run| {
        let name = run_name(r);
        load_run(&partial.join(&name), grid, r).is_some() || load_run(&abs.join(&name), grid, r).is_some()
    };
    let todo: Vec<&Run> = mine.iter().copied().filter(|r| !(opts.resume && done(r))).collect();
    let sim_us_per_run: u64 = spec.duration.ps() / 1_000_000 * spec.variants.len().max(1) as u64;
    let progress = Progress::new(sim_us_per_run * todo.len() as u64, !opts.quiet);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.max(1)).build()?;
    let failures: Vec<String> = pool.install(|| {
        todo.par_iter()
            .filter_map(|run| {
                let result = run_one(file, src, spec, grid, run, &progress);
                match result {
                    Ok(rec) => {
                        let path = partial.join(run_name(run));
                        let r = write_atomic(&path, |w| {
                            serde_json::to_writer(&mut *w, &rec)?;
                            w.write_all(b"\n")
                        });
                        output_set::kill_point("sweep-after-record");
                        r.err().map(|e| format!("{}: {e}", path.display()))
                    }
                    Err(e) => Some(format!("point {} ({}), seed {}: {e}", run.point, run.label, run.seed_index)),
                }
            })
            .collect()
    });
    progress.finish();
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} run(s) failed; the first: {first} (finished runs are kept: --resume continues)",
            failures.len()
        );
    }
    let mut set = OutputSet::begin_locked(dir, abs.clone(), lock)?;
    set.remove_after_commit(partial.clone());
    let m = manifest(spec, grid, "sweep", file, &opts.sets);
    let records = assemble(set, &[&partial, &abs], spec, grid, opts.shard, &m)?;
    for metric in spec.sweep.iter().flat_map(|s| &s.plot) {
        if !records.is_empty() && !records.iter().any(|r| r.variants.iter().any(|(_, m)| m.contains_key(metric))) {
            eprintln!(
                "warning: sweep plot metric `{metric}` is in no run's results, so it is not plotted (results.csv lists the metrics)"
            );
        }
    }
    Ok(records)
}

fn run_one(
    file: &str,
    src: &str,
    spec: &ScenarioSpec,
    grid: &Grid,
    run: &Run,
    progress: &Progress,
) -> Result<RunRecord, String> {
    let point_spec = grid.spec_for(spec, run).map_err(|d| d.to_string())?;
    let variants = scenario::expand_variants(file, src, point_spec).map_err(|d| d.to_string())?;
    let mut out = Vec::with_capacity(variants.len());
    for v in &variants {
        let model = crate::scenario::build::build(&v.name, &v.spec)?;
        let mut last_us = 0;
        let mut tick = |t: crate::units::SimTime| {
            let us = (t.ps() / 1_000_000).min(v.spec.duration.ps() / 1_000_000);
            progress.advance_with(us.saturating_sub(last_us), crate::model::PROGRESS_EVERY_EVENTS);
            last_us = last_us.max(us);
        };
        let result = model.run(&mut tick)?;
        out.push((v.name.clone(), output::flatten_metrics(&result)));
    }
    Ok(RunRecord {
        sweep_hash: grid.hash.clone(),
        point: run.point,
        label: run.label.clone(),
        seed_index: run.seed_index,
        seed: run.seed,
        variants: out,
    })
}

/// Every run file of this sweep in `dir` (all of them, or those of one shard), in order.
pub fn collect(dir: &Path, grid: &Grid, shard: Option<Shard>) -> anyhow::Result<Vec<RunRecord>> {
    let mut out = Vec::new();
    for (i, run) in grid.runs.iter().enumerate() {
        if shard.is_some_and(|s| i % s.count != s.index) {
            continue;
        }
        if let Some(rec) = load_run(&dir.join(run_name(run)), grid, run) {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The scenario and grid a sweep folder was made from (its `sweep.json`).
pub fn definition_of(dir: &Path) -> anyhow::Result<(ScenarioSpec, Grid)> {
    let path = dir.join("sweep.json");
    let text =
        read_record(&path).map_err(|e| Refused(format!("{}: not a sweep output folder ({e})", path.display())))?;
    // A damaged definition is the user's to mend or remove (exit 2), as a missing one is.
    let unusable = |why: String| Refused(format!("{}: no usable sweep definition ({why})", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| unusable(e.to_string()))?;
    let spec: ScenarioSpec = serde_json::from_value(v["spec"].clone()).map_err(|e| unusable(e.to_string()))?;
    let grid = Grid::build(&path.display().to_string(), "", &spec).map_err(|d| unusable(d.message.clone()))?;
    if v["sweep_hash"].as_str() != Some(grid.hash.as_str()) {
        return Err(
            Refused(format!("{}: written by another nitrosim version (sweep hash differs)", path.display())).into()
        );
    }
    Ok((spec, grid))
}

/// Rebuild a folder's outputs (tables and plots) from its run files. Returns the records read
/// and the number of runs the sweep defines: fewer records means missing or unreadable files.
pub fn replot(dir: &Path) -> anyhow::Result<(Vec<RunRecord>, usize)> {
    let (spec, grid) = definition_of(dir)?;
    let set = OutputSet::begin(dir)?;
    let src = set.final_dir().to_path_buf();
    let m = manifest(&spec, &grid, "plot", &dir.display().to_string(), &[]);
    Ok((assemble(set, &[&src], &spec, &grid, None, &m)?, grid.runs.len()))
}

/// Combine shard folders into `out`: refuses run files from another sweep definition, and a
/// result with runs missing unless `allow_partial`. Nothing is written when it refuses.
pub fn merge(
    grid: &Grid,
    spec: &ScenarioSpec,
    shards: &[PathBuf],
    out: &Path,
    allow_partial: bool,
) -> anyhow::Result<Vec<RunRecord>> {
    for dir in shards {
        let runs = dir.join(RUNS_DIR);
        let entries = match std::fs::read_dir(&runs) {
            Ok(entries) => entries,
            // A shard that drew no run (`--shard 50/100` of a sweep of 6 runs) has a definition and
            // no runs folder: it adds nothing, and is no reason to refuse the others.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir.join("sweep.json").is_file() => {
                let (_, theirs) = definition_of(dir)?;
                if theirs.hash != grid.hash {
                    return Err(Refused(format!(
                        "{} is a shard of a different sweep definition (hash {}, expected {}): merge only shards of \
                         the same scenario, overrides and sweep",
                        dir.display(),
                        theirs.hash,
                        grid.hash
                    ))
                    .into());
                }
                continue;
            }
            Err(e) => return Err(Refused(format!("{}: not a sweep output folder ({e})", dir.display())).into()),
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let text =
                read_record(&path).map_err(|e| Refused(format!("{}: not a run record ({e})", path.display())))?;
            let rec: RunRecord = serde_json::from_str(&text)
                .map_err(|e| Refused(format!("{}: not a run record ({e})", path.display())))?;
            if rec.sweep_hash != grid.hash {
                return Err(Refused(format!(
                    "{} belongs to a different sweep definition (hash {}, expected {}): merge only shards of the same \
                     scenario, overrides and sweep",
                    path.display(),
                    rec.sweep_hash,
                    grid.hash
                ))
                .into());
            }
        }
    }
    let present = grid
        .runs
        .iter()
        .filter(|run| shards.iter().any(|d| load_run(&d.join(run_name(run)), grid, run).is_some()))
        .count();
    if present < grid.runs.len() && !allow_partial {
        return Err(Refused(format!(
            "the shards hold {present} of the sweep's {} runs: a shard is missing or unfinished (finish it with \
             `sweep --resume --shard K/N`, or pass --allow-partial to merge what there is)",
            grid.runs.len()
        ))
        .into());
    }
    let set = OutputSet::begin(out)?;
    let sources: Vec<&Path> = shards.iter().map(PathBuf::as_path).collect();
    let m = manifest(spec, grid, "merge", &shards[0].display().to_string(), &[]);
    assemble(set, &sources, spec, grid, None, &m)
}

/// `merge` or `plot` refused what it was given: a folder that is not a sweep's or another
/// version's, shards of different sweep definitions, or (for `merge`) runs missing. Nothing is
/// written; the user can act on it (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);
