//! `nitrosim sweep` and `merge`: a parameter grid over seeds, run in shards and merged.

use super::*;

/// The largest memory estimate of one sweep run (its variants run one after another), over the
/// grid's first and last points (all of them when there are few).
pub(crate) fn sweep_run_memory(
    name: &str,
    text: &str,
    spec: &scenario::ScenarioSpec,
    grid: &nitrosim::sweep::Grid,
) -> Result<(u64, scenario::budget::Estimate), Failure> {
    let seeds = grid.seeds.max(1) as usize;
    let points: Vec<usize> = if grid.points <= 256 { (0..grid.points).collect() } else { vec![0, grid.points - 1] };
    let mut worst = (0, scenario::budget::Estimate::default());
    for p in points {
        let point_spec = grid.spec_for(spec, &grid.runs[p * seeds]).map_err(|d| Failure::Scenario(Box::new(d)))?;
        let variants = scenario::expand_variants(name, text, point_spec).map_err(|d| Failure::Scenario(Box::new(d)))?;
        for v in &variants {
            let e = scenario::budget::estimate(&v.spec, false);
            if e.total() > worst.0 {
                worst = (e.total(), e);
            }
        }
    }
    Ok(worst)
}

#[allow(clippy::too_many_arguments)] // one per command-line option
pub(crate) fn cmd_sweep(
    file: PathBuf,
    out: Option<PathBuf>,
    jobs: Option<u16>,
    resume: bool,
    shard: Option<nitrosim::sweep::Shard>,
    sets: Vec<String>,
    quiet: bool,
    max_memory: Option<u64>,
) -> Result<(), Failure> {
    let (name, text) = read_scenario(Some(&file))?;
    let (spec, grid) = nitrosim::sweep::prepare(&name, &text, &sets).map_err(|d| Failure::Scenario(Box::new(d)))?;
    let running: Vec<&str> = spec.variants.iter().map(|v| v.name.as_str()).collect();
    warn_variant_overrides(&name, &text, &sets, &running);
    let dir = out.unwrap_or_else(|| Path::new("output").join(format!("{}-sweep", safe_dir_name(&spec.name))));
    let jobs = jobs.map(usize::from).unwrap_or_else(threads);
    let per_run = sweep_run_memory(&name, &text, &spec, &grid)?;
    scenario::budget::check(&name, per_run.0.saturating_mul(jobs as u64), &per_run.1, budget(max_memory))
        .map_err(|d| Failure::Scenario(Box::new(d)))?;
    let opts = nitrosim::sweep::SweepOptions { jobs, resume, shard, quiet, sets: sets.clone() };
    let clock = nitrosim::progress::Stopwatch::start();
    let records = nitrosim::sweep::execute(&name, &text, &spec, &grid, &dir, &opts)?;
    if !quiet {
        outln!(
            "sweep {}: {} points x {} seeds = {} runs{}; {} finished in {}; {:.1} s wall, {} jobs",
            grid.hash,
            grid.points,
            grid.seeds,
            grid.runs.len(),
            shard.map(|s| format!(" (shard {}/{})", s.index, s.count)).unwrap_or_default(),
            records.len(),
            dir.display(),
            clock.seconds(),
            jobs
        );
    }
    Ok(())
}

pub(crate) fn cmd_merge(out: PathBuf, shards: Vec<PathBuf>, allow_partial: bool) -> Result<(), Failure> {
    let (spec, grid) = nitrosim::sweep::definition_of(&shards[0])?;
    let records = nitrosim::sweep::merge(&grid, &spec, &shards, &out, allow_partial)?;
    outln!("merged {} of {} runs into {}", records.len(), grid.runs.len(), out.display());
    Ok(())
}
