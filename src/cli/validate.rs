//! `nitrosim validate`: the reference cases, run and tabulated.

use super::*;

/// Ok(true) when every case passed.
pub(crate) fn cmd_validate(
    out: PathBuf,
    cases: PathBuf,
    long: bool,
    only: Vec<String>,
    quiet: bool,
) -> Result<bool, Failure> {
    use nitrosim::validate;
    let all = validate::load_cases(&cases).map_err(|d| Failure::Scenario(Box::new(d)))?;
    let opts = validate::Options { long, only };
    let chosen = validate::select(&all, &opts);
    if chosen.is_empty() {
        let shown = cases.display().to_string();
        return Err(Failure::Scenario(Box::new(if opts.only.is_empty() {
            // Every case in the folder is a long one, and --long was not given.
            Diagnostic::new(&shown, "every case here is a long one (`long: true`)")
                .hint("add --long to run them, or --only NAME for one of them")
        } else {
            Diagnostic::new(&shown, format!("no case matches --only {}", opts.only.join(", ")))
                .hint("case names are the file names in the validation folder, without .ron")
        })));
    }
    validate::check_variants(Path::new("."), &cases, &chosen).map_err(|d| Failure::Scenario(Box::new(d)))?;
    // The folder is checked and locked before any case runs, and written as a set like a run's.
    let (abs, lock) = nitrosim::output_set::prepare(&out).map_err(anyhow::Error::from)?;
    let clock = nitrosim::progress::Stopwatch::start();
    let progress = Progress::new(0, false);
    let report = validate::run(Path::new("."), &cases, &chosen, &progress);
    let mut set = nitrosim::output_set::OutputSet::begin_locked(&out, abs, lock).map_err(anyhow::Error::from)?;
    validate::write(&mut set, &report)?;
    let names: Vec<&str> = chosen.iter().map(|(name, _)| name.as_str()).collect();
    let manifest = nitrosim::output_set::Manifest {
        command: "validate",
        scenario: "validation".into(),
        scenario_file: cases.display().to_string(),
        scenario_hash: nitrosim::output_set::scenario_hash(&names.join("\n"), &[], 0),
        seed: 0,
        sets: Vec::new(),
    };
    let written = set.commit(&manifest, serde_json::Value::Null)?;
    if !quiet {
        out!("{}", validate::markdown(&report));
        outln!(
            "{:.1} s wall; wrote {}",
            clock.seconds(),
            written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(report.all_passed())
}
