//! The benchmark scripts under `benches/` still run against this binary and print what their
//! headers promise, on a fabric small and short enough to take a second. (Their figures are
//! measurements, never asserted: only the shape and the exact counts both sides must share.)

use std::path::Path;
use std::process::Command;

fn script(name: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("benches").join(name))
        .args(args)
        .envs(env.iter().copied())
        .env("BIN", env!("CARGO_BIN_EXE_nitrosim"))
        .output()
        .expect("bash runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn scale_curve_interleaves_rounds_and_reports_the_growth() {
    let (ok, out, err) = script("scale_curve.sh", &[], &[("HOSTS", "128 256"), ("DURATION", "5us"), ("RUNS", "2")]);
    assert!(ok, "{err}");
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("128 ") || l.starts_with("256 ")).collect();
    assert_eq!(rows.len(), 4, "one row per size and run:\n{out}");
    for row in &rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        // hosts run duration wall crossings/s M ev/cross ns RSS median
        assert_eq!(cols.len(), 10, "{row}");
        let ns: f64 = cols[7].parse().unwrap();
        let median: f64 = cols[9].parse().unwrap();
        assert!(ns > 0.0 && median >= ns, "the best round is the least cost, the median no less: {row}");
    }
    for run in ["srd-1-flow", "tcp-20-flows"] {
        assert!(out.contains(&format!("growth 128 -> 256 hosts, {run}: ")), "{out}");
    }
    let (ok, _, err) = script("scale_curve.sh", &[], &[("HOSTS", "100"), ("DURATION", "5us")]);
    assert!(!ok && err.contains("multiple of 32"), "{err}");
}

#[test]
fn ab_pairs_two_binaries_on_one_workload() {
    let bin = env!("CARGO_BIN_EXE_nitrosim");
    let (ok, out, err) = script(
        "ab.sh",
        &[bin, bin],
        &[("HOSTS", "128"), ("DURATION", "5us"), ("ROUNDS", "2"), ("RUN", "tcp-20-flows")],
    );
    assert!(ok, "{err}");
    let rounds: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && !l.contains("hosts"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rounds.len(), 2, "{out}");
    for r in &rounds {
        assert_eq!(r.len(), 6, "{r:?}");
        assert_eq!(r[4], r[5], "one binary, one scenario: the same link crossings");
    }
    assert!(out.contains("B/A over 2 rounds: mean "), "{out}");
    let (ok, _, err) = script("ab.sh", &[bin], &[]);
    assert!(!ok && err.contains("usage"), "{err}");
}
