//! `nitrosim validate` as CI runs it: every case in validation/ (long ones aside) passes but the
//! open gaps listed below, and the table and JSON are written.

use std::process::Command;

fn nitrosim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nitrosim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Cases where the model and its reference still disagree: open gaps, reported as FAIL by
/// `nitrosim validate` (which then exits 1) and listed in the README. The test holds the rest to
/// passing and each gap to its listed state, so a fix (or a new failure) shows here.
/// None at present: the p5 all-reduce at 512 MiB, the last one, runs the algorithm NCCL's cost
/// model picks there (the tree; the ring it used to run is +32%: see
/// validation/nccl-p5-allreduce-512mb.ron).
const OPEN_GAPS: &[(&str, &str)] = &[];

#[test]
fn every_validation_case_passes_but_the_listed_open_gaps() {
    let out = tempfile::tempdir().unwrap();
    let run = nitrosim().args(["validate", "--out"]).arg(out.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("validation.json")).unwrap()).unwrap();
    let failed: Vec<String> = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["verdict"] != "pass")
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    let gaps: Vec<String> = OPEN_GAPS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(failed, gaps, "failing cases differ from the open gaps listed here\n{stdout}");
    // validate says so: exit 0 only when every case passes.
    assert_eq!(run.status.code(), Some(if gaps.is_empty() { 0 } else { 1 }), "{stdout}");
    assert!(json["cases"].as_u64().unwrap() >= 10);
    let md = std::fs::read_to_string(out.path().join("validation.md")).unwrap();
    assert!(md.starts_with("| case | mechanism | source |") && md.contains("pass"));
}

#[test]
fn bad_cases_and_filters_are_reported_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    // A filter that matches nothing.
    let run = nitrosim().args(["validate", "--only", "no-such-case", "--out"]).arg(out.path()).output().unwrap();
    assert_eq!(run.status.code(), Some(2), "{}", String::from_utf8_lossy(&run.stderr));
    // A case with a misspelt field: file, line, column, the field named.
    std::fs::write(
        dir.path().join("bad.ron"),
        "(\n    mechanism: \"m\",\n    sorce: (title: \"t\", url: \"u\", read: \"2026-11-30\"),\n)\n",
    )
    .unwrap();
    let run = nitrosim().args(["validate", "--cases"]).arg(dir.path()).arg("--out").arg(out.path()).output().unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.ron:3:") && err.contains("sorce"), "{err}");
    // A case whose value falls outside its tolerance: exit 1, the row marked FAIL.
    std::fs::write(
        dir.path().join("bad.ron"),
        r#"(
    mechanism: "one flow held to 5 Gbps, claimed to reach 50",
    source: (title: "t", url: "https://example.org", read: "2026-11-30"),
    scenario: "scenarios/single-flow-cap.ron",
    set: ["duration=5ms"],
    variant: "no-placement-group",
    metric: "/throughput/wire_gbps",
    reference: 50.0,
    unit: "Gbps",
    tolerance: Relative(0.1),
)"#,
    )
    .unwrap();
    let run = nitrosim().args(["validate", "--cases"]).arg(dir.path()).arg("--out").arg(out.path()).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stdout).contains("**FAIL**"));
}

#[test]
fn validate_writes_its_folder_as_a_set_and_never_into_a_foreign_one() {
    let t = tempfile::tempdir().unwrap();
    // A folder of the user's: refused before any case runs, and left as it was.
    std::fs::write(t.path().join("notes.txt"), "mine").unwrap();
    let o = nitrosim().args(["validate", "--only", "mathis", "--quiet", "--out"]).arg(t.path()).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("holds no nitrosim result"), "{err}");
    assert_eq!(std::fs::read_to_string(t.path().join("notes.txt")).unwrap(), "mine");
    // A new folder: the two files and a manifest that lists them, nothing left beside it.
    let out = t.path().join("v");
    let o = nitrosim().args(["validate", "--only", "mathis", "--quiet", "--out"]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(manifest["manifest"]["command"], "validate");
    let listed: Vec<&str> = manifest["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(listed, ["validation.json", "validation.md"]);
    let mut beside: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    beside.sort();
    assert_eq!(beside, ["notes.txt", "v"]);
    // A folder written by an older version (the two files, no run.json) is still its to replace.
    let old = t.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::write(old.join("validation.json"), "{}").unwrap();
    std::fs::write(old.join("validation.md"), "").unwrap();
    let o = nitrosim().args(["validate", "--only", "mathis", "--quiet", "--out"]).arg(&old).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(old.join("run.json").exists());
}
