//! The subcommands behind `main`: one file per family of commands, sharing the failure type
//! (which decides the exit code) and the helpers below. Parsing and printing only: the work is
//! the library's.

use nitrosim::ec2::CATALOG;
use nitrosim::progress::Progress;
use nitrosim::report::{self, summary::Summary, table};
use nitrosim::scenario::{self, Diagnostic};
use std::path::{Path, PathBuf};

mod huge_pages;
mod import;
mod list;
mod run;
mod sweep;
mod validate;

pub(crate) use huge_pages::restart_with_huge_pages;
pub(crate) use import::cmd_import_terraform;
pub(crate) use list::{TypeFilter, cmd_list};
pub(crate) use run::{cmd_bench, cmd_check, cmd_memory_probe, cmd_run};
pub(crate) use sweep::{cmd_merge, cmd_sweep};
pub(crate) use validate::cmd_validate;

pub(crate) enum Failure {
    Scenario(Box<Diagnostic>),
    /// A mistake in the arguments or a refusal the user can act on (a busy or foreign output
    /// folder, an incomplete merge, folders `merge` or `plot` cannot use): exit 2.
    Usage(String),
    Invariant(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        use nitrosim::output_set::OutputError;
        if let Some(OutputError::Busy { .. } | OutputError::NotOurs { .. }) = e.downcast_ref::<OutputError>() {
            return Failure::Usage(e.to_string());
        }
        if e.downcast_ref::<nitrosim::sweep::Refused>().is_some() {
            return Failure::Usage(e.to_string());
        }
        Failure::Other(e)
    }
}

impl From<nitrosim::output_set::OutputError> for Failure {
    fn from(e: nitrosim::output_set::OutputError) -> Self {
        anyhow::Error::new(e).into()
    }
}

pub(crate) fn read_scenario(file: Option<&Path>) -> Result<(String, String), Failure> {
    match file {
        None => Ok((format!("<embedded {}>", scenario::DEFAULT_SCENARIO_NAME), scenario::DEFAULT_SCENARIO.to_string())),
        Some(p) => {
            let text = scenario::read_text(p).map_err(|d| Failure::Scenario(Box::new(d)))?;
            Ok((p.display().to_string(), text))
        }
    }
}

/// A scenario name as one folder name: never empty, never `.` or `..`, never hidden.
pub(crate) fn safe_dir_name(s: &str) -> String {
    let name: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    let trimmed = name.trim_start_matches('.');
    let name = format!("{}{trimmed}", "_".repeat(name.len() - trimmed.len()));
    if name.is_empty() { "_".into() } else { name }
}

pub(crate) fn budget(max_memory: Option<u64>) -> u64 {
    max_memory.unwrap_or_else(scenario::budget::default_budget)
}

pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Refuse a run whose memory estimate exceeds the budget; returns the estimate.
/// `parallel`: how many variants run at once (`run`: the threads; `bench`: one, to time it alone).
pub(crate) fn check_memory(
    name: &str,
    variants: &[scenario::Variant],
    capture: bool,
    parallel: usize,
    max_memory: Option<u64>,
) -> Result<u64, Failure> {
    let specs: Vec<&scenario::ScenarioSpec> = variants.iter().map(|v| &v.spec).collect();
    let (total, biggest) = scenario::budget::estimate_run(&specs, capture, parallel.min(specs.len()));
    scenario::budget::check(name, total, &biggest, budget(max_memory)).map_err(|d| Failure::Scenario(Box::new(d)))?;
    Ok(total)
}

/// The names of the variants loaded to run.
pub(crate) fn running_names(variants: &[scenario::Variant]) -> Vec<&str> {
    variants.iter().map(|v| v.name.as_str()).collect()
}

/// Warn when a variant overrides a path also given with `--set`: the variant's value wins.
/// `running`: the variants that will run (a `--set variants=[]` leaves the file's out).
pub(crate) fn warn_variant_overrides(file: &str, text: &str, sets: &[String], running: &[&str]) {
    let Ok(spec) = scenario::parse(file, text) else { return };
    for s in sets {
        let path = s.split_once('=').map(|(p, _)| p.trim()).unwrap_or(s);
        let overriding = |v: &&scenario::spec::VariantSpec| {
            running.contains(&v.name.as_str()) && v.set.iter().any(|(p, _)| p == path)
        };
        for v in spec.variants.iter().filter(overriding) {
            eprintln!(
                "warning: variant `{}` sets `{path}` itself; in that variant its value replaces `--set {s}`",
                v.name
            );
        }
    }
}

pub(crate) fn run_manifest(
    command: &'static str,
    spec: &scenario::ScenarioSpec,
    file: &str,
    text: &str,
    sets: &[String],
) -> nitrosim::output_set::Manifest {
    nitrosim::output_set::Manifest {
        command,
        scenario: spec.name.clone(),
        scenario_file: file.to_string(),
        scenario_hash: nitrosim::output_set::scenario_hash(text, sets, spec.seed),
        seed: spec.seed,
        sets: sets.to_vec(),
    }
}
