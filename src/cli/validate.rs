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
    let clock = nitrosim::progress::Stopwatch::start();
    let progress = Progress::new(0, false);
    let report = validate::run(Path::new("."), &cases, &chosen, &progress);
    let written = validate::write(&out, &report).map_err(|e| Failure::Other(e.into()))?;
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
