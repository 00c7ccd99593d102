//! The command line as a user meets it: bad scenarios give a clear error with file, line,
//! column, what was expected and a hint, and exit code 2; good ones write complete outputs.

use std::path::Path;
use std::process::Command;

const BASE: &str = include_str!("../scenarios/single-flow-cap.ron");

fn nitrosim(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nitrosim")).args(args).current_dir(dir).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Write `text` as bad.ron, run it, and check the diagnostic's shape and content.
fn expect_error(text: &str, line: usize, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.ron"), text).unwrap();
    let (code, _, err) = nitrosim(&["run", "bad.ron", "--quiet"], dir.path());
    assert_eq!(code, 2, "exit code for:\n{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(&format!("--> bad.ron:{line}:")), "expected line {line}:\n{err}");
    assert!(err.contains("= expected: ") && err.contains("= hint: "), "{err}");
    assert!(err.contains(" ^"), "caret under the offending text:\n{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in:\n{err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("output").exists(), "no output may be written for a bad scenario");
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).expect("needle in base scenario") + 1
}

fn mutate(from: &str, to: &str) -> (String, usize) {
    assert!(BASE.contains(from), "{from}");
    (BASE.replacen(from, to, 1), line_of(BASE, from.lines().next().unwrap()))
}

#[test]
fn a_dozen_kinds_of_mistake_each_get_a_clear_error() {
    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        (
            "hosts_per_rack: 4,",
            "hosts_per_rak: 4,",
            vec!["unknown field `hosts_per_rak`", "did you mean `hosts_per_rack`"],
        ),
        ("duration: \"20ms\"", "duration: \"20 parsecs\"", vec!["invalid duration", "ps, ns, us, ms, s"]),
        ("host_link: \"100Gbps\"", "host_link: \"100 Gbits\"", vec!["invalid bandwidth", "Gbps"]),
        ("to: \"receiver\"", "to: \"reciever\"", vec!["unknown instance \"reciever\"", "did you mean \"receiver\""]),
        (
            "instance_type: \"c6in.16xlarge\"",
            "instance_type: \"c6in.16xlarg\"",
            vec!["unknown instance type", "c6in.16xlarge"],
        ),
        ("racks: 4,", "racks: 0,", vec!["`racks` is 0", "1 ..= 1024"]),
        ("Bulk((", "Bulkk((", vec!["unknown variant `Bulkk`", "did you mean `Bulk`"]),
        ("strategy: \"cluster\"", "strategy: \"clustered\"", vec!["unknown placement strategy", "\"cluster\""]),
        ("flows: 1)", "flows: 100000)", vec!["`flows` is 100000", "1 ..= 4096"]),
        (
            "(name: \"receiver\", instance_type: \"c6in.16xlarge\"),",
            "(name: \"sender\", instance_type: \"c6in.16xlarge\"),",
            vec!["two instances are named \"sender\""],
        ),
        (
            "\"instances.sender.placement_group\": \"pg1\"",
            "\"instances.sender.placement_grup\": \"pg1\"",
            vec!["variant `cluster-placement-group`", "placement_group"],
        ),
        ("seed: 1,", "seed: -1,", vec!["expected"]),
    ];
    for (from, to, needles) in cases {
        let (text, line) = mutate(from, to);
        expect_error(&text, line, &needles);
    }
}

#[test]
fn ec2_limits_are_scenario_errors() {
    let base = "Scenario(name: \"x\", duration: \"1ms\", instances: [\n    (name: \"a\", instance_type: \"c5n.large\", enis: [ENIS]),\n    (name: \"b\", instance_type: \"c5n.large\"),\n])";
    let eni = |n: usize, extra: &str| format!("(name: \"eni{n}\"{extra})");
    // c5n.large allows 3 ENIs.
    let four: Vec<String> = (0..4).map(|n| eni(n, "")).collect();
    expect_error(&base.replace("ENIS", &four.join(", ")), 2, &["has 4 ENIs", "c5n.large allows 3"]);
    // More than 5 security groups on one ENI.
    let sgs = eni(0, ", security_groups: [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\"]");
    expect_error(&base.replace("ENIS", &sgs), 2, &["6 security groups", "at most 5"]);
    // A network card the type does not have.
    expect_error(&base.replace("ENIS", &eni(0, ", network_card_index: 1")), 2, &["network card 1", "c5n.large has 1"]);
    // An MTU EC2 does not support.
    expect_error(&base.replace("ENIS", &eni(0, ", mtu: 9216")), 2, &["`mtu` is 9216", "576 ..= 9001"]);
}

#[test]
fn invalid_srd_settings_are_scenario_errors() {
    let base = "Scenario(name: \"x\", duration: \"1ms\",\n    srd: (SRD),\n    instances: [\n        (name: \"a\", instance_type: \"TYPE\", enis: [(name: \"eth0\", ena_srd_enabled: true)]),\n        (name: \"b\", instance_type: \"c6in.16xlarge\"),\n])";
    let ok = base.replace("TYPE", "c6in.16xlarge");
    expect_error(&ok.replace("SRD", "paths: 0"), 2, &["`paths` is 0", "1 ..= 256"]);
    expect_error(&ok.replace("SRD", "retransmit_timeout: \"0us\""), 2, &["retransmit_timeout", "longer than zero"]);
    expect_error(&ok.replace("SRD", "reorder_buffer: 0"), 2, &["`reorder_buffer` is 0", "smaller than one packet"]);
    let old_type = base.replace("TYPE", "c5n.18xlarge").replace("SRD", "paths: 8");
    expect_error(&old_type, 4, &["c5n.18xlarge does not support ENA Express", "c6in.16xlarge"]);
}

#[test]
fn missing_file_and_bad_set_exit_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = nitrosim(&["run", "nope.ron"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("nope.ron") && err.contains("hint"), "{err}");
    let (code, _, err) = nitrosim(&["run", "--set", "tcp.congestoin=NewReno"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("congestion") && err.contains("expected"), "{err}");
    let (code, _, err) = nitrosim(&["run", "--set", "tcp.congestion=Vegas"], dir.path());
    assert_eq!(code, 2, "{err}");
}

/// `memory-probe` names the machine, prints one time per size asked for, in order, and refuses
/// sizes it cannot measure with exit code 2 and the range.
#[test]
fn memory_probe_times_each_size_and_refuses_impossible_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = nitrosim(&["memory-probe", "--mib", "2", "--mib", "1", "--loads", "20000"], dir.path());
    assert_eq!(code, 0, "{err}");
    let machine = out.lines().next().unwrap_or_default();
    assert!(machine.starts_with("machine: "), "{out}");
    if cfg!(target_os = "linux") {
        // /proc/cpuinfo lists every CPU; the count says it was read.
        assert!(machine.contains(" CPU"), "{machine}");
    }
    let rows: Vec<(u64, f64)> = out
        .lines()
        .skip(2)
        .map(|l| {
            let mut f = l.split_whitespace();
            (f.next().unwrap().parse().unwrap(), f.next().unwrap().parse().unwrap())
        })
        .collect();
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 1], "{out}");
    assert!(rows.iter().all(|r| r.1 > 0.0 && r.1.is_finite()), "{out}");
    for bad in [["--mib", "0"], ["--mib", "4097"], ["--loads", "0"]] {
        let (code, out, err) = nitrosim(&[&["memory-probe"][..], &bad[..]].concat(), dir.path());
        assert_eq!(code, 2, "{bad:?}: {out}{err}");
        assert!(err.contains(bad[0]) && out.is_empty(), "{bad:?}: {err}");
    }
}

/// `memory-probe --small-pages` says so and gets what it asked for: its buffers have no huge
/// pages, where the kernel reports them, although this process asks glibc for huge pages (a
/// 64 MiB buffer without the flag usually has 97-99% on Linux with THP in `madvise` mode).
#[test]
fn memory_probe_on_small_pages_has_no_huge_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = nitrosim(&["memory-probe", "--mib", "64", "--loads", "20000", "--small-pages"], dir.path());
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert!(lines.next().unwrap_or_default().starts_with("machine: "), "{out}");
    assert!(lines.next().unwrap_or_default().starts_with("small pages only"), "{out}");
    let row: Vec<&str> = lines.nth(1).unwrap_or_default().split_whitespace().collect();
    // MiB, ns, its huge pages, ns a line per page, its huge pages, ns asked ahead.
    assert_eq!(row.len(), 6, "{out}");
    assert_eq!(row[0], "64", "{out}");
    let asked_ahead: f64 = row[5].parse().unwrap_or_else(|_| panic!("{out}"));
    assert!(asked_ahead > 0.0 && asked_ahead.is_finite(), "{out}");
    for share in [row[2], row[4]] {
        assert!(share == "0%" || share == "unknown", "a small-page buffer with {share} in huge pages:\n{out}");
    }
    if cfg!(target_os = "linux") {
        assert_eq!((row[2], row[4]), ("0%", "0%"), "Linux reports huge pages in /proc/self/smaps:\n{out}");
    }
}

#[test]
fn run_writes_complete_outputs_and_check_explains_limits() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/single-flow-cap.ron");
    let out = dir.path().join("out");
    let (code, stdout, err) = nitrosim(
        &["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap(), "--set", "duration=5ms"],
        dir.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("variant cluster-placement-group"), "{stdout}");
    for f in ["summary.json", "timeseries.csv", "flows.csv", "throughput.svg", "throughput.png"] {
        assert!(out.join(f).metadata().unwrap().len() > 0, "{f}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["variants"].as_array().unwrap().len(), 5);
    let v = &summary["variants"][0];
    for k in ["name", "flows", "drops", "packets", "counters"] {
        assert!(!v[k].is_null(), "variant field {k}");
    }
    for k in ["name", "goodput_gbps", "wire_gbps", "bytes_delivered", "retransmits", "rtos"] {
        assert!(!v["flows"][0][k].is_null(), "flow field {k}");
    }
    let png = std::fs::read(out.join("throughput.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    let (code, stdout, _) = nitrosim(&["check", scenario.to_str().unwrap()], dir.path());
    assert_eq!(code, 0);
    assert!(stdout.contains("per-flow limit 10Gbps (same cluster placement group)"), "{stdout}");
    assert!(stdout.contains("per-flow limit 5Gbps"), "{stdout}");

    let (code, stdout, _) = nitrosim(&["list"], dir.path());
    assert_eq!(code, 0);
    assert!(stdout.contains("p5.48xlarge") && stdout.contains("single-flow-cap.ron"), "{stdout}");
}

/// A run where no packet crosses a physical link (link-local queries only: the instance's DNS
/// resolver lives on its host): events per crossing means nothing, and every place that reports
/// it says so instead of dividing by zero or printing the event count.
#[test]
fn events_per_crossing_is_not_applicable_without_a_crossing() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
Scenario(
    name: "dns-only",
    duration: "20ms",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    instances: [(name: "a", instance_type: "c6i.8xlarge")],
    workloads: [LinkLocal((name: "dns", from: "a", service: Dns, mean_interval: "1ms"))],
)
"#;
    std::fs::write(dir.path().join("dns.ron"), text).unwrap();

    let (code, stdout, err) = nitrosim(&["bench", "dns.ron"], dir.path());
    assert_eq!(code, 0, "{err}");
    let row = stdout.lines().find(|l| l.starts_with("base ")).expect("a row for the variant");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert!(cells[1].parse::<u64>().unwrap() > 0, "events: {row}");
    assert_eq!(cells[2], "0", "link crossings: {row}");
    assert_eq!(cells[3], "n/a", "events per crossing: {row}");
    assert!(cells[4].parse::<u64>().unwrap() > 0, "the queries pass internal stages: {row}");

    let (code, stdout, err) = nitrosim(&["run", "dns.ron", "--out", "out"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains(" 0 link crossings (n/a events per crossing)"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap();
    let v = &summary["variants"][0];
    assert_eq!(v["link_crossings"], 0);
    assert!(v["events_processed"].as_u64().unwrap() > 0);
    assert!(v["events_per_crossing"].is_null(), "{}", v["events_per_crossing"]);
}
