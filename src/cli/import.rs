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
    if let Some(p) = &out {
        refuse_special_output(p)?;
    }
    let shown = file.display().to_string();
    let text = scenario::read_bounded(&file, MAX_JSON_BYTES).map_err(|f| {
        Failure::Scenario(Box::new(
            Diagnostic::new(&shown, format!("cannot read the Terraform JSON: {f}"))
                .expected("a file written by `terraform show -json PLAN_OR_STATE > plan.json`"),
        ))
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
            // A hidden temporary beside it, renamed over it when complete (removed on failure).
            nitrosim::report::write_atomic(&p, |w| w.write_all(imported.text.as_bytes()))
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

/// `--out` may name a new file or replace a regular one; anything else (a device such as
/// `/dev/null`, a FIFO, a folder, a symbolic link) would be replaced by the rename, so it is refused.
fn refuse_special_output(p: &Path) -> Result<(), Failure> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if !m.file_type().is_file() => {
            let what = if m.file_type().is_dir() {
                "a folder"
            } else if m.file_type().is_symlink() {
                "a symbolic link"
            } else {
                "not a regular file (a device, FIFO or socket)"
            };
            Err(Failure::Usage(format!(
                "--out {}: it is {what}, which writing the scenario would replace; name a new or regular .ron file",
                p.display()
            )))
        }
        _ => Ok(()),
    }
}
