//! Validation cases for EFA and collectives (`validation/*.ron`), proven here until the
//! `nitrosim validate` command runs them: each file names a bundled scenario, a variant, a JSON
//! pointer into that variant's object in summary.json, a published reference value and a
//! tolerance. The test loads every case this branch owns, runs its scenario through the library,
//! resolves the pointer in the summary as `nitrosim run` writes it, and checks the tolerance.

mod common;
use common::*;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // the source is for readers and the validate command, not for this check
struct Source {
    title: String,
    url: String,
    read: String,
}

#[derive(Debug, Deserialize)]
enum Tolerance {
    Relative(f64),
    Absolute(f64),
    Range(f64, f64),
    AtMost(f64),
    AtLeast(f64),
}

impl Tolerance {
    fn accepts(&self, reference: f64, got: f64) -> bool {
        match *self {
            Tolerance::Relative(r) => (got - reference).abs() <= r * reference.abs(),
            Tolerance::Absolute(a) => (got - reference).abs() <= a,
            Tolerance::Range(lo, hi) => (lo..=hi).contains(&got),
            Tolerance::AtMost(x) => got <= x,
            Tolerance::AtLeast(x) => got >= x,
        }
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Case {
    mechanism: String,
    source: Source,
    scenario: String,
    #[serde(default)]
    set: Vec<String>,
    variant: String,
    metric: String,
    reference: f64,
    unit: String,
    tolerance: Tolerance,
    long: bool,
}

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Load a case, run its scenario (only the named variant), and return the metric's value.
fn measure(case: &Case) -> f64 {
    let text = std::fs::read_to_string(repo(&case.scenario)).unwrap_or_else(|e| panic!("{}: {e}", case.scenario));
    let variants = nitrosim::scenario::load(&case.scenario, &text, &case.set, None).unwrap_or_else(|d| panic!("{d}"));
    let chosen: Vec<_> = variants.into_iter().filter(|v| v.name == case.variant).collect();
    assert_eq!(chosen.len(), 1, "{}: no variant {:?}", case.scenario, case.variant);
    let progress = nitrosim::progress::Progress::new(1, false);
    let results = nitrosim::run::run_variants(&chosen, &progress).unwrap_or_else(|e| panic!("{e}"));
    let summary = nitrosim::report::summary::Summary::new(&chosen[0].spec.name, chosen[0].spec.seed, results);
    let doc: serde_json::Value = serde_json::from_str(&json(&summary)).unwrap();
    let variant = doc["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == case.variant.as_str())
        .unwrap_or_else(|| panic!("variant {} missing from summary.json", case.variant));
    variant
        .pointer(&case.metric)
        .and_then(|x| x.as_f64())
        .unwrap_or_else(|| panic!("{}: pointer {} does not resolve to a number", case.scenario, case.metric))
}

/// Cases the model does not yet bring within their tolerance, with the gap measured: the test
/// still runs them (the pointer must resolve) and insists they stay out of band, so that closing
/// a gap makes this list shrink instead of hiding it. Report these as FAIL in `nitrosim validate`.
const KNOWN_GAPS: &[&str] = &["efa-osu-latency-64k.ron", "nccl-p5-allreduce-512mb.ron"];

fn check_cases(prefix: &str) {
    let mut names: Vec<_> = std::fs::read_dir(repo("validation"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".ron"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no validation/{prefix}*.ron");
    let mut failures = Vec::new();
    for name in &names {
        let text = std::fs::read_to_string(repo(&format!("validation/{name}"))).unwrap();
        let case: Case = ron::from_str(&text).unwrap_or_else(|e| panic!("validation/{name}: {e}"));
        assert!(case.source.url.starts_with("https://"), "{name}: source needs a link");
        if case.long && std::env::var_os("NITROSIM_LONG").is_none() {
            println!("SKIPPED: {name} is a long case (set NITROSIM_LONG=1 to run it)");
            continue;
        }
        let got = measure(&case);
        let ok = case.tolerance.accepts(case.reference, got);
        if KNOWN_GAPS.contains(&name.as_str()) {
            println!("{name}: {} = {got:.3} {} (reference {}) KNOWN GAP", case.metric, case.unit, case.reference);
            assert!(!ok, "{name} now passes: remove it from KNOWN_GAPS");
            continue;
        }
        println!(
            "{name}: {} = {got:.3} {} (reference {} {}, {:?}) {}",
            case.metric,
            case.unit,
            case.reference,
            case.unit,
            case.tolerance,
            if ok { "PASS" } else { "FAIL" }
        );
        if !ok {
            failures.push(format!("{name}: {got} vs {} {:?}", case.reference, case.tolerance));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn efa_osu_latency_cases_hold() {
    check_cases("efa-osu-latency-");
}

#[test]
fn nccl_p5_allreduce_cases_hold() {
    check_cases("nccl-p5-allreduce-");
}

/// NCCL's bus bandwidth rises with the message size on a non-blocking fabric, and SRD neither
/// drops nor times out (issue 13: it fell from 32 MiB to 512 MiB with 2322 SRD timeouts).
#[test]
fn nccl_bus_bandwidth_rises_with_size_without_srd_timeouts() {
    let text = std::fs::read_to_string(repo("scenarios/nccl-allreduce-p5.ron")).unwrap();
    let s = run_text("nccl-allreduce-p5.ron", &text, &[]);
    let mut last = 0.0;
    for v in &s.variants {
        assert_conserved(v);
        let srd = v.srd.as_ref().unwrap();
        assert_eq!((srd.timeouts, srd.retransmits), (0, 0), "{}: SRD timeouts", v.name);
        assert!(v.drops.is_empty(), "{}: drops {:?}", v.name, v.drops);
        let c = &v.collectives[0];
        assert_eq!((c.members, c.ranks, c.channels), (8, 64, 32));
        println!("{}: {} B busbw {} GB/s", v.name, c.bytes, c.bus_gbyte_s);
        assert!(c.bus_gbyte_s > last, "{}: busbw {} after {}", v.name, c.bus_gbyte_s, last);
        last = c.bus_gbyte_s;
    }
}
