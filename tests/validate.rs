//! `nitrosim validate` as CI runs it: every case in validation/ (long ones aside) passes, and the
//! table and JSON are written.

use std::process::Command;

fn nitrosim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nitrosim"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn every_validation_case_passes() {
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
        .map(|r| format!("{} ({}): {} vs {}", r["name"], r["verdict"], r["value"], r["reference"]))
        .collect();
    assert!(run.status.success(), "validate failed: {failed:?}\n{stdout}");
    assert!(failed.is_empty());
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
