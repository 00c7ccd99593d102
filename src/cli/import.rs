//! `nitrosim import terraform`: a Terraform plan or state as a scenario.

use super::*;

/// Largest Terraform JSON read: a state of thousands of resources is tens of MiB, and parsed into
/// a JSON tree it takes several times its size.
const MAX_JSON_BYTES: u64 = 256 << 20;

pub(crate) fn cmd_import_terraform(
    file: PathBuf,
    out: Option<PathBuf>,
    flowlogs: Option<String>,
    speedup: f64,
    compare_ena_express: bool,
    name: Option<String>,
    internet: String,
) -> Result<(), Failure> {
    let shown = file.display().to_string();
    let unreadable = |e: String| {
        Failure::Scenario(Box::new(
            Diagnostic::new(&shown, format!("cannot read the Terraform JSON: {e}"))
                .expected("a file written by `terraform show -json PLAN_OR_STATE > plan.json`"),
        ))
    };
    let text = scenario::read_bounded(&file, MAX_JSON_BYTES).map_err(|f| match f {
        scenario::ReadFailure::Unreadable(e) => unreadable(e),
        scenario::ReadFailure::TooLarge => unreadable(format!("larger than {} MiB", MAX_JSON_BYTES >> 20)),
    })?;
    if !(speedup.is_finite() && speedup > 0.0) {
        return Err(Failure::Scenario(Box::new(
            Diagnostic::new("--speedup", format!("--speedup {speedup}")).expected("a number above 0"),
        )));
    }
    let stem = file.file_stem().map(|s| s.to_string_lossy().replace(".plan", "").replace(".state", ""));
    let options = nitrosim::import::terraform::ImportOptions {
        flowlogs,
        flowlogs_path: None,
        speedup,
        compare_ena_express,
        internet,
        name: name.or(stem).unwrap_or_else(|| "imported".into()),
    };
    let imported =
        nitrosim::import::terraform::import(&shown, &text, &options).map_err(|d| Failure::Scenario(Box::new(d)))?;
    // The scenario must load and check like any other before it is written.
    let target = out.as_ref().map_or("<generated>".to_string(), |p| p.display().to_string());
    scenario::load(&target, &imported.text, &[], None).map_err(|mut d| {
        // Nothing is written: the plan describes something nitrosim cannot run as it stands.
        d.message = format!("the scenario imported from {shown} does not check: {}", d.message);
        d.hint = format!("{} (print it without --out to see and edit it)", d.hint);
        Failure::Scenario(Box::new(d))
    })?;
    match out {
        Some(p) => {
            let tmp = p.with_extension("ron.tmp");
            std::fs::write(&tmp, &imported.text)
                .and_then(|_| std::fs::rename(&tmp, &p))
                .map_err(|e| Failure::Other(anyhow::anyhow!("cannot write {}: {e}", p.display())))?;
            eprintln!(
                "imported {} resources ({} ignored, listed at the top), {} instances -> {}",
                imported.resources,
                imported.ignored,
                imported.instances,
                p.display()
            );
        }
        None => out!("{}", imported.text),
    }
    Ok(())
}
