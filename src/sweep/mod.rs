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
}

/// Load the scenario and its sweep definition; every parameter value is checked before anything
/// runs.
pub fn prepare(file: &str, src: &str, sets: &[String]) -> Result<(ScenarioSpec, Grid), Diagnostic> {
    let spec = scenario::load_spec(file, src, sets, None)?;
    let grid = Grid::build(file, src, &spec)?;
    Ok((spec, grid))
}

fn run_path(dir: &Path, run: &Run) -> PathBuf {
    dir.join(RUNS_DIR).join(format!("p{:05}-s{:04}.json", run.point, run.seed_index))
}

/// A run file, if it exists, is complete and belongs to this sweep.
fn load_run(path: &Path, sweep_hash: &str) -> Option<RunRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    let rec: RunRecord = serde_json::from_str(&text).ok()?;
    (rec.sweep_hash == sweep_hash).then_some(rec)
}

/// Run the sweep (or this shard of it) into `dir`, then write the outputs from every run file
/// present. Returns the records in (point, seed) order.
pub fn execute(
    file: &str,
    src: &str,
    spec: &ScenarioSpec,
    grid: &Grid,
    dir: &Path,
    opts: &SweepOptions,
) -> anyhow::Result<Vec<RunRecord>> {
    std::fs::create_dir_all(dir.join(RUNS_DIR))?;
    // Temporaries left by an interrupted sweep are never read; clear them away.
    for e in std::fs::read_dir(dir.join(RUNS_DIR))?.flatten() {
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
    let todo: Vec<&Run> =
        mine.iter().copied().filter(|r| !(opts.resume && load_run(&run_path(dir, r), &grid.hash).is_some())).collect();
    let sim_us_per_run: u64 = spec.duration.ps() / 1_000_000 * spec.variants.len().max(1) as u64;
    let progress = Progress::new(sim_us_per_run * todo.len() as u64, !opts.quiet);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.max(1)).build()?;
    let failures: Vec<String> = pool.install(|| {
        todo.par_iter()
            .filter_map(|run| {
                let result = run_one(file, src, spec, grid, run, &progress);
                match result {
                    Ok(rec) => {
                        let path = run_path(dir, run);
                        write_atomic(&path, |w| {
                            serde_json::to_writer(&mut *w, &rec)?;
                            w.write_all(b"\n")
                        })
                        .err()
                        .map(|e| format!("{}: {e}", path.display()))
                    }
                    Err(e) => Some(format!("point {} ({}), seed {}: {e}", run.point, run.label, run.seed_index)),
                }
            })
            .collect()
    });
    progress.finish();
    if let Some(first) = failures.first() {
        anyhow::bail!("{} run(s) failed; the first: {first}", failures.len());
    }
    let records = collect(dir, grid, opts.shard)?;
    output::write_all(dir, spec, grid, &records)?;
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
        let model = crate::model::build::build(&v.name, &v.spec)?;
        let mut last_us = 0;
        let mut tick = |t: crate::units::SimTime| {
            let us = (t.ps() / 1_000_000).min(v.spec.duration.ps() / 1_000_000);
            if us > last_us {
                progress.advance(us - last_us);
                last_us = us;
            }
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
        if let Some(rec) = load_run(&run_path(dir, run), &grid.hash) {
            out.push(rec);
        }
    }
    Ok(out)
}

/// The scenario and grid a sweep folder was made from (its `sweep.json`).
pub fn definition_of(dir: &Path) -> anyhow::Result<(ScenarioSpec, Grid)> {
    let path = dir.join("sweep.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("{}: not a sweep output folder ({e})", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let spec: ScenarioSpec = serde_json::from_value(v["spec"].clone())
        .map_err(|e| anyhow::anyhow!("{}: no usable sweep definition ({e})", path.display()))?;
    let grid = Grid::build(&path.display().to_string(), "", &spec).map_err(|d| anyhow::anyhow!("{d}"))?;
    if v["sweep_hash"].as_str() != Some(grid.hash.as_str()) {
        anyhow::bail!("{}: written by another nitrosim version (sweep hash differs)", path.display());
    }
    Ok((spec, grid))
}

/// Rebuild a folder's outputs (tables and plots) from its run files.
pub fn replot(dir: &Path) -> anyhow::Result<Vec<RunRecord>> {
    let (spec, grid) = definition_of(dir)?;
    let records = collect(dir, &grid, None)?;
    output::write_all(dir, &spec, &grid, &records)?;
    Ok(records)
}

/// Combine shard folders into `out`: refuses run files from another sweep definition.
pub fn merge(grid: &Grid, spec: &ScenarioSpec, shards: &[PathBuf], out: &Path) -> anyhow::Result<Vec<RunRecord>> {
    std::fs::create_dir_all(out.join(RUNS_DIR))?;
    for dir in shards {
        let runs = dir.join(RUNS_DIR);
        let entries = std::fs::read_dir(&runs)
            .map_err(|e| anyhow::anyhow!("{}: not a sweep output folder ({e})", dir.display()))?;
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names.into_iter().filter(|p| p.extension().is_some_and(|x| x == "json")) {
            let text = std::fs::read_to_string(&path)?;
            let rec: RunRecord = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: not a run record ({e})", path.display()))?;
            if rec.sweep_hash != grid.hash {
                anyhow::bail!(
                    "{} belongs to a different sweep definition (hash {}, expected {}): merge only shards of the same \
                     scenario, overrides and sweep",
                    path.display(),
                    rec.sweep_hash,
                    grid.hash
                );
            }
            let target = out.join(RUNS_DIR).join(path.file_name().expect("a file"));
            if target != path {
                write_atomic(&target, |w| w.write_all(text.as_bytes()))?;
            }
        }
    }
    let records = collect(out, grid, None)?;
    output::write_all(out, spec, grid, &records)?;
    Ok(records)
}
