//! Hostile input (issue 15): each case the hostile tester found ends quickly with exit 2 and a
//! message naming the limit and the knob, or with a correct, complete result.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(scenario(name)).unwrap()
}

fn nitrosim_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nitrosim")).args(args).current_dir(dir).output().unwrap()
}

/// Run in a fresh folder; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let t = tempfile::tempdir().unwrap();
    let o = nitrosim_in(t.path(), args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

/// Write `body` as a scenario file in `dir`.
fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_string()
}

use common::assert_refused as refused;

#[test]
fn a_scenario_file_is_read_up_to_a_limit() {
    let (code, _, err) = run(&["check", "/dev/zero"]);
    refused(code, &err, &["larger than", "at most 4 MiB"]);
}

#[test]
fn sweep_sizes_are_computed_before_anything_is_expanded() {
    let sweep = scenario("srd-path-sweep.ron");
    for steps in ["4000000000", "20000000"] {
        let set = format!(r#"sweep.parameters.0.values={{"Linear": {{"from": 1, "to": 64, "steps": {steps}}}}}"#);
        for cmd in ["check", "sweep"] {
            let (code, _, err) = run(&[cmd, sweep.to_str().unwrap(), "--set", &set]);
            refused(code, &err, &[&format!("has {steps} values"), "at most 10000 values", "steps", "--set"]);
        }
    }
    // In the file: the error points at the parameter.
    let t = tempfile::tempdir().unwrap();
    let body = text("srd-path-sweep.ron").replace("to: 64, steps: 7", "to: 64, steps: 4000");
    let f = write(t.path(), "s.ron", &body);
    let (code, _, err) = run(&["check", &f, "--set", "sweep.seeds=100"]);
    refused(code, &err, &["runs", "at most 100000 runs"]);
}

#[test]
fn the_event_log_and_capture_limits_are_validated() {
    let f = scenario("single-flow-cap.ron");
    let (code, _, err) = run(&["check", f.to_str().unwrap(), "--set", "report.event_log_limit=4000000000"]);
    refused(code, &err, &["event_log_limit", "0 ..= 3000000", "--set"]);
    let (code, _, err) = run(&["check", f.to_str().unwrap(), "--set", "report.capture_limit=0"]);
    refused(code, &err, &["capture_limit"]);
}

#[test]
fn a_run_too_large_for_the_memory_budget_is_refused_before_it_starts() {
    let t = tempfile::tempdir().unwrap();
    let body = r#"Scenario(name: "perm", duration: "10ms",
    fabric: (racks: 64, hosts_per_rack: 256, spines: 16),
    instances: [(name: "h", instance_type: "c6in.16xlarge", count: 16384)],
    workloads: [Permutation((name: "p", instances: "h", flows_per_instance: 61))],
)"#;
    let f = write(t.path(), "perm.ron", body);
    for cmd in ["check", "run", "bench"] {
        let (code, _, err) = run(&[cmd, &f, "--max-memory", "1GiB"]);
        refused(code, &err, &["needs about", "GiB of memory", "--max-memory (1.0 GiB)", "flows_per_instance"]);
    }
    // The default budget is a share of this machine's memory, also printed by `check`.
    let (code, out, err) = run(&["check", scenario("single-flow-cap.ron").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("memory estimate: ") && out.contains("(--max-memory)"), "{out}");
    let (code, _, err) = run(&["check", &f, "--max-memory", "lots"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn progress_shows_as_lines_when_stderr_is_not_a_terminal() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario("single-flow-cap.ron");
    let o = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .args(["run", f.to_str().unwrap(), "--out", "o", "--set", "duration=4ms"])
        .env("NITROSIM_PROGRESS_SECS", "0")
        .current_dir(t.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err.lines().find(|l| l.starts_with("progress: ")).unwrap_or_else(|| panic!("no progress line: {err}"));
    assert!(line.contains("ms simulated") && line.contains("M events/s") && line.contains("ETA"), "{line}");
}

#[test]
fn warm_up_must_leave_something_to_measure() {
    let f = scenario("rpc-under-load.ron");
    let (code, _, err) = run(&["check", f.to_str().unwrap(), "--set", "duration=2ms"]);
    refused(code, &err, &["warm-up 2ms is not shorter than the run", "--set duration=2ms"]);
    let t = tempfile::tempdir().unwrap();
    let body = text("rpc-under-load.ron").replace("warmup: \"2ms\"", "warmup: \"20s\"");
    let file = write(t.path(), "w.ron", &body);
    let (code, _, err) = run(&["run", &file, "--quiet"]);
    refused(code, &err, &["warm-up 20s", "w.ron:", "warmup"]);
}

#[test]
fn output_folders_are_checked_before_simulating() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("a-file"), "x").unwrap();
    let f = scenario("single-flow-cap.ron");
    // A run of 20 simulated seconds would take minutes: refused at once instead.
    for flag in ["--out", "--pcap"] {
        let o =
            nitrosim_in(t.path(), &["run", f.to_str().unwrap(), flag, "a-file", "--quiet", "--set", "duration=20s"]);
        let err = String::from_utf8_lossy(&o.stderr);
        refused(o.status.code().unwrap_or(-1), &err, &["a-file", "not a folder"]);
    }
    assert_eq!(std::fs::read_to_string(t.path().join("a-file")).unwrap(), "x");
}

#[test]
fn a_scenario_named_dot_dot_stays_inside_output() {
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let body = text("single-flow-cap.ron").replace("name: \"single-flow-cap\"", "name: \"..\"");
    let f = write(t.path(), "dots.ron", &body);
    let o = nitrosim_in(&work, &["run", &f, "--quiet", "--set", "duration=1ms"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> =
        std::fs::read_dir(&work).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(names, vec!["output"], "nothing beside output/");
    assert!(work.join("output/__/summary.json").exists());
}

#[test]
fn pcap_packets_beyond_the_capture_limit_are_reported() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario("single-flow-cap.ron");
    let o = nitrosim_in(
        t.path(),
        &[
            "run",
            f.to_str().unwrap(),
            "--out",
            "o",
            "--pcap",
            "o/pcap",
            "--quiet",
            "--set",
            "duration=1ms",
            "--set",
            "report.capture_limit=10",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("not written to the pcap files") && err.contains("report.capture_limit"), "{err}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("o/summary.json")).unwrap()).unwrap();
    let c = &s["variants"][0]["capture"];
    assert!(c["entries"].as_u64().unwrap() <= 10 * 2 && c["omitted"].as_u64().unwrap() > 0, "{c}");
    assert!(t.path().join("o/pcap").read_dir().unwrap().count() > 0, "pcaps written inside the result set");
}

#[test]
fn check_validates_the_sweep_section() {
    let f = scenario("srd-path-sweep.ron");
    let (code, _, err) =
        run(&["check", f.to_str().unwrap(), "--set", r#"sweep.plot=["rpc.latency_us.p99", "rcp.p99"]"#]);
    refused(code, &err, &["unknown sweep plot metric `rcp.p99`", "results.csv"]);
    let (code, out, err) = run(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("points x 10 seeds") && out.contains("per run"), "{out}");
}

#[test]
fn error_columns_count_characters() {
    let t = tempfile::tempdir().unwrap();
    let body = text("single-flow-cap.ron")
        .replace("Bulk((name: \"bulk\"", "Bulk((name: \"débit—ünïcode\"")
        .replace("to: \"receiver\"", "to: \"reciever\"");
    let f = write(t.path(), "u.ron", &body);
    let (code, _, err) = run(&["check", &f]);
    refused(code, &err, &["unknown instance \"reciever\""]);
    let line = body.lines().find(|l| l.contains("reciever")).unwrap();
    let col = line[..line.find("\"reciever\"").unwrap()].chars().count() + 1;
    assert!(err.contains(&format!("u.ron:{}:{col}\n", body.lines().position(|l| l == line).unwrap() + 1)), "{err}");
    let caret = err.lines().find(|l| l.trim_start().starts_with('|') && l.ends_with('^')).unwrap();
    let code_line = err.lines().find(|l| l.contains("reciever") && l.contains(" | ")).unwrap();
    let at = |l: &str| l.chars().count() - 1;
    assert_eq!(code_line.chars().nth(at(caret)), Some('"'), "caret under the token:\n{err}");
}

#[test]
fn set_errors_name_the_set_and_odd_files_get_clear_errors() {
    let f = scenario("single-flow-cap.ron");
    let (code, _, err) = run(&["check", f.to_str().unwrap(), "--set", "fabric.racks=0"]);
    refused(code, &err, &["`racks` is 0", "after --set fabric.racks=0", "--> --set"]);
    assert!(!err.contains("single-flow-cap.ron:"), "not blamed on the file's line:\n{err}");
    // A byte-order mark and CRLF line ends load like the plain file.
    let t = tempfile::tempdir().unwrap();
    let crlf = format!("\u{feff}{}", text("single-flow-cap.ron").replace('\n', "\r\n"));
    let g = write(t.path(), "bom.ron", &crlf);
    let (code, _, err) = run(&["check", &g]);
    assert_eq!(code, 0, "{err}");
    // A huge line is shown as a window around the error.
    let long = text("single-flow-cap.ron")
        .replacen("    seed: 1,", &format!("    seed: 1, description: \"{}\", bogus: 1,", "x".repeat(200_000)), 1)
        .replacen("    description: \"Single", "    // \"Single", 1);
    let h = write(t.path(), "long.ron", &long);
    let (code, _, err) = run(&["check", &h]);
    refused(code, &err, &["unknown field `bogus`"]);
    assert!(err.len() < 2000, "{} bytes of error", err.len());
    let caret = err.lines().find(|l| l.ends_with('^')).unwrap();
    let code_line = err.lines().find(|l| l.contains("bogus: 1")).unwrap();
    assert_eq!(code_line.chars().nth(caret.chars().count() - 1), Some('b'), "caret under `bogus`:\n{err}");
    // A value of the wrong type gets a hint about types, not brackets.
    let ty =
        write(t.path(), "ty.ron", &text("single-flow-cap.ron").replace("hosts_per_rack: 4,", "hosts_per_rack: \"4\","));
    let (code, _, err) = run(&["check", &ty]);
    refused(code, &err, &["expected: a number", "bare numbers"]);
}

#[test]
fn small_cli_defects_are_refused_or_said() {
    let f = scenario("single-flow-cap.ron");
    for rate in ["0bps", "1bps"] {
        let (code, _, err) = run(&["check", f.to_str().unwrap(), "--set", &format!("host.copy_rate={rate}")]);
        refused(code, &err, &["copy_rate", "at least 1Mbps"]);
    }
    let (code, _, err) = run(&["sweep", scenario("srd-path-sweep.ron").to_str().unwrap(), "--jobs", "0"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--jobs"), "{err}");
    // A variant that sets the same path as --set wins, and says so.
    let (code, _, err) =
        run(&["run", f.to_str().unwrap(), "--quiet", "--set", "duration=1ms", "--set", "workloads.bulk.flows=2"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("variant `8-flows` sets `workloads.bulk.flows` itself"), "{err}");
    // `check` and `bench` say so too; not of a variant `--set variants=[]` leaves out.
    let f = f.to_str().unwrap();
    for args in [vec!["check", f], vec!["bench", f, "--set", "duration=100us"]] {
        let (code, _, err) = run(&[&args[..], &["--set", "workloads.bulk.flows=2"]].concat());
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("variant `8-flows` sets `workloads.bulk.flows` itself"), "{args:?}: {err}");
        let (code, _, err) = run(&[&args[..], &["--set", "workloads.bulk.flows=2", "--set", "variants=[]"]].concat());
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("sets `workloads.bulk.flows` itself"), "{args:?}: {err}");
    }
    // A finite workload that cannot finish is named in the warnings, not silently left out.
    let t = tempfile::tempdir().unwrap();
    let o = nitrosim_in(
        t.path(),
        &["run", scenario("efa-latency.ron").to_str().unwrap(), "--out", "o", "--quiet", "--set", "duration=2ms"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("o/summary.json")).unwrap()).unwrap();
    let warnings = s["variants"][0]["warnings"].to_string();
    assert!(warnings.contains("message sizes finished before the end of the run"), "{warnings}");
}

#[test]
fn merge_refuses_missing_runs_and_leaves_nothing_when_it_refuses() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario("srd-path-sweep.ron");
    let common = [
        "--quiet",
        "--set",
        "duration=2ms",
        "--set",
        "sweep.seeds=1",
        "--set",
        r#"sweep.parameters.0.values={"List": ["1", "8"]}"#,
        "--set",
        r#"sweep.parameters.1.values={"List": ["0.3"]}"#,
    ];
    for k in 0..2 {
        let shard = format!("{k}/2");
        let out = format!("s{k}");
        let o = nitrosim_in(
            t.path(),
            &[&["sweep", f.to_str().unwrap(), "--out", &out, "--shard", &shard][..], &common].concat(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = nitrosim_in(t.path(), &["merge", "--out", "m", "s0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    refused(o.status.code().unwrap_or(-1), &err, &["1 of the sweep's 2 runs", "--allow-partial"]);
    assert!(!t.path().join("m").exists());
    let o = nitrosim_in(t.path(), &["merge", "--out", "m", "s0", "--allow-partial"]);
    assert!(o.status.success());
    // Shards of another sweep definition: refused, and nothing written.
    let o = nitrosim_in(
        t.path(),
        &[&["sweep", f.to_str().unwrap(), "--out", "other", "--set", "seed=6"][..], &common].concat(),
    );
    assert!(o.status.success());
    let o = nitrosim_in(t.path(), &["merge", "--out", "m2", "s0", "s1", "other"]);
    assert_ne!(o.status.code(), Some(0));
    assert!(!t.path().join("m2").exists(), "a refused merge leaves nothing");
    let names: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
    let o = nitrosim_in(t.path(), &["merge", "--out", "m3", "s0", "s1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
