//! Hostile input, a second and a third round (a tester's findings of 2026-12-04 and 12-05): each
//! input below once panicked, filled the memory, ran forever, overwrote what it should not, or
//! gave a wrong result with exit 0. Each now ends with exit 2 and a located message, a warning,
//! or (a route to the destination's own ENI, an empty shard) a correct run.

mod common;

use std::path::Path;
use std::process::Command;

/// Run in `dir`; returns (exit code, stdout, stderr).
fn nitrosim(dir: &Path, args: &[&str]) -> (i32, String, String) {
    nitrosim_limited(dir, args, None)
}

/// [`nitrosim`], on a disk that fills after `limit_bytes` per file when given.
fn nitrosim_limited(dir: &Path, args: &[&str], limit_bytes: Option<u64>) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nitrosim"));
    c.args(args).current_dir(dir);
    if let Some(limit) = limit_bytes {
        common::limit_file_size(&mut c, limit);
    }
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

use common::assert_refused as refused;

const TWO: &str = r#"(name: "a", instance_type: "c6in.large"), (name: "b", instance_type: "c6in.large")"#;

/// A small scenario with `extra` fields and `instances`.
fn scenario(dir: &Path, name: &str, instances: &str, extra: &str) -> String {
    let body = format!(
        "Scenario(\n    name: \"{name}\",\n    duration: \"200us\",\n    fabric: (racks: 2, hosts_per_rack: 4, spines: 2),\n    \
         instances: [{instances}],\n    {extra}\n)\n"
    );
    let p = dir.join(format!("{name}.ron"));
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn traffic_from_an_instance_to_itself_is_refused_where_it_is_written() {
    let t = tempfile::tempdir().unwrap();
    let fleet = format!(r#"{TWO}, (name: "f", instance_type: "c6in.large", count: 2)"#);
    let cases: [(&str, &str, &str, &[&str]); 7] = [
        (
            "conn_self",
            TWO,
            r#"workloads: [Connections((name: "c", from: "a", to: "a", count: 10))],"#,
            &["sends from \"a\" to itself", "conn_self.ron:"],
        ),
        (
            // Named like an instance declared above it: the caret is on the workload (line 6),
            // not on the instance (line 5).
            "conn_self_named_like_an_instance",
            TWO,
            r#"workloads: [Connections((name: "a", from: "a", to: "a", count: 10))],"#,
            &["sends from \"a\" to itself", "conn_self_named_like_an_instance.ron:6:"],
        ),
        (
            "conn_fleet_self",
            &fleet,
            r#"workloads: [Connections((name: "c", from: "f", to: "f-0", count: 10))],"#,
            &["sends from \"f-0\" to itself"],
        ),
        (
            "clients_hold_the_service",
            &fleet,
            r#"services: [(name: "api", instance: "f-0", address: ElasticIp)],
    workloads: [ServiceClients((name: "s", clients: "f", service: "api", interval: "10us", timeout: "100us"))],"#,
            &["\"f-0\" is one of the clients and holds service \"api\"", "clients_hold_the_service.ron:"],
        ),
        (
            "clients_get_the_service",
            &fleet,
            r#"services: [(name: "api", instance: "a", address: Dns(ttl: "0s"))],
    workloads: [ServiceClients((name: "s", clients: "f", service: "api", interval: "10us", timeout: "100us"))],
    actions: [(at: "100us", action: Failover(service: "api", to: "f-1"))],"#,
            &["\"f-1\" is one of the clients and holds service \"api\" after an action"],
        ),
        (
            "a_timeout_of_picoseconds",
            TWO,
            r#"services: [(name: "api", instance: "a", address: ElasticIp)],
    workloads: [ServiceClients((name: "s", clients: "b", service: "api", interval: "1ps", timeout: "1ps", backoff: Immediate))],"#,
            &["a timeout of 1ps", "at least 1us", "a_timeout_of_picoseconds.ron:"],
        ),
        (
            "path_via_an_end",
            TWO,
            r#"paths: [(between: ("a", "b"), via: ["a"])],
    workloads: [Bulk((name: "x", from: "a", to: "b", bytes: "1MB"))],"#,
            &["goes via \"a\", one of its own ends"],
        ),
    ];
    for (name, instances, extra, needles) in cases {
        let f = scenario(t.path(), name, instances, extra);
        for args in [&["check", &f][..], &["run", &f, "--quiet", "--out", "o"]] {
            let (code, _, err) = nitrosim(t.path(), args);
            refused(code, &err, needles);
        }
        assert!(!t.path().join("o").exists(), "{name}: a refused run wrote its output folder");
    }
}

#[test]
fn a_route_table_that_loops_is_refused_and_one_to_the_destination_delivers() {
    let t = tempfile::tempdir().unwrap();
    let vpc = |target: &str| {
        format!(
            r#"vpc_cidr: "10.0.0.0/16",
    subnets: [(name: "s", cidr: "10.0.0.0/24", route_table: "r"), (name: "net", cidr: "198.51.100.0/24")],
    route_tables: [(name: "r", routes: [(destination: "0.0.0.0/0", target: "{target}")])],
    workloads: [Bulk((name: "x", from: "a", to: "b", bytes: "100KB"))],"#
        )
    };
    let instances = r#"(name: "a", instance_type: "c6in.large", subnet: "s"), (name: "b", instance_type: "c6in.large", subnet: "net")"#;
    // The sender's own subnet routes to the sender: a loop.
    let f = scenario(t.path(), "loop", instances, &vpc("a"));
    let (code, _, err) = nitrosim(t.path(), &["check", &f]);
    refused(code, &err, &["route table \"r\" sends 0.0.0.0/0 to \"a\"", "in a loop: a -> a", "loop.ron:"]);
    // Two tables that send the block to each other's routers.
    let f = scenario(
        t.path(),
        "two_tables",
        r#"(name: "r1", instance_type: "c6in.large", subnet: "s1"), (name: "r2", instance_type: "c6in.large", subnet: "s2"), (name: "b", instance_type: "c6in.large", subnet: "net")"#,
        r#"vpc_cidr: "10.0.0.0/16",
    subnets: [(name: "s1", cidr: "10.0.1.0/24", route_table: "t1"), (name: "s2", cidr: "10.0.2.0/24", route_table: "t2"), (name: "net", cidr: "198.51.100.0/24")],
    route_tables: [(name: "t1", routes: [(destination: "0.0.0.0/0", target: "r2")]), (name: "t2", routes: [(destination: "0.0.0.0/0", target: "r1")])],
    workloads: [Bulk((name: "x", from: "r1", to: "b", bytes: "100KB"))],"#,
    );
    let (code, _, err) = nitrosim(t.path(), &["check", &f]);
    refused(code, &err, &["in a loop: r2 -> r1 -> r2", "two_tables.ron:"]);
    // Routed to the destination's own ENI: it arrives, every byte.
    let f = scenario(t.path(), "to_dst", instances, &vpc("b"));
    let (code, out, err) = nitrosim(t.path(), &["run", &f, "--quiet", "--out", "o"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("o/summary.json")).unwrap()).unwrap();
    let flow = &summary["variants"][0]["flows"][0];
    assert_eq!(flow["bytes_delivered"], 100_000, "{flow}");
    assert!(flow["completed_us"].is_number(), "{flow}");
}

#[test]
fn a_validation_case_reads_its_scenario_up_to_the_same_limit() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("cases")).unwrap();
    std::fs::write(
        t.path().join("cases/zero.ron"),
        r#"(
    mechanism: "m", source: (title: "t", url: "u", read: "2026-01-01"),
    scenario: "/dev/zero", variant: "base", metric: "/packets/sent", reference: 1, unit: "G", tolerance: AtLeast(0),
)"#,
    )
    .unwrap();
    let (code, out, err) = nitrosim(t.path(), &["validate", "--cases", "cases", "--out", "v"]);
    // The case fails (exit 1, as a case that errs), quickly, instead of filling the memory.
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("larger than 4194304 bytes"), "{out}");
}

#[test]
fn sweeps_refuse_a_path_swept_twice_or_set_by_a_variant() {
    let t = tempfile::tempdir().unwrap();
    let sweep = |params: &str, variants: &str| {
        format!(
            r#"workloads: [Bulk((name: "bulk", from: "a", to: "b", bytes: "100KB"))],
    {variants}
    sweep: (parameters: [{params}], seeds: 1, plot: ["throughput.wire_gbps"]),"#
        )
    };
    let flows = |v: &str| format!(r#"(path: "workloads.bulk.flows", values: List([{v}]))"#);
    let twice = scenario(t.path(), "twice", TWO, &sweep(&format!(r#"{}, {}"#, flows(r#""1""#), flows(r#""2""#)), ""));
    let set = scenario(
        t.path(),
        "set",
        TWO,
        &sweep(&flows(r#""1", "2""#), r#"variants: [(name: "v8", set: {"workloads.bulk.flows": "8"})],"#),
    );
    let parent = scenario(
        t.path(),
        "parent",
        TWO,
        &sweep(
            &flows(r#""1", "2""#),
            r#"variants: [(name: "w", set: {"workloads.bulk": "Bulk((name: \"bulk\", from: \"a\", to: \"b\", bytes: \"100KB\", flows: 8))"})],"#,
        ),
    );
    for (f, needles) in [
        // The error points at the repeat, the second of the two on line 8.
        (&twice, &["`workloads.bulk.flows` is given twice", "twice.ron:8:86"][..]),
        (&parent, &["variant \"w\" sets `workloads.bulk`, which the sweep varies (`workloads.bulk.flows`)"][..]),
        (&set, &["variant \"v8\" sets `workloads.bulk.flows`, which the sweep varies"][..]),
    ] {
        let (code, _, err) = nitrosim(t.path(), &["sweep", f, "--out", "s", "--jobs", "1"]);
        refused(code, &err, needles);
        assert!(!t.path().join("s").exists());
    }
}

#[test]
fn terraform_imports_without_instances_or_with_too_many_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let state = |resources: &str| {
        format!(r#"{{"format_version": "1.0", "values": {{"root_module": {{"resources": [{resources}]}}}}}}"#)
    };
    let igw = r#"{"address": "aws_internet_gateway.gw", "mode": "managed", "type": "aws_internet_gateway", "name": "gw", "values": {"vpc_id": "vpc-1"}}"#;
    let asg = r#"{"address": "aws_launch_template.lt", "mode": "managed", "type": "aws_launch_template", "name": "lt", "values": {"name": "lt", "instance_type": "c6in.large"}},
 {"address": "aws_autoscaling_group.g", "mode": "managed", "type": "aws_autoscaling_group", "name": "g", "values": {"desired_capacity": 4294967298, "launch_template": [{"name": "lt"}]}}"#;
    std::fs::write(t.path().join("igw.json"), state(igw)).unwrap();
    // With a byte-order mark, as Windows tools write: read as JSON all the same.
    std::fs::write(t.path().join("asg.json"), format!("\u{feff}{}", state(asg))).unwrap();
    let (code, _, err) = nitrosim(t.path(), &["import", "terraform", "igw.json"]);
    refused(code, &err, &["no instances among the 1 resources"]);
    let (code, _, err) = nitrosim(t.path(), &["import", "terraform", "asg.json"]);
    refused(code, &err, &["4294967295 or more instances", "at most 16384 instances"]);
}

#[test]
fn a_flow_log_record_beyond_any_eni_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let record = |start: u64| {
        format!(
            "2 123456789012 eni-a 10.0.0.10 10.0.0.20 40000 443 6 10 18446744073709551615 {start} {} ACCEPT OK\n",
            start + 59
        )
    };
    std::fs::write(t.path().join("f.log"), record(1_700_000_000) + &record(1_700_000_100)).unwrap();
    let f = scenario(
        t.path(),
        "replay",
        TWO,
        r#"vpc_cidr: "10.0.0.0/16",
    workloads: [FlowLogs((name: "traffic", file: "f.log", interfaces: {"10.0.0.10": "a", "10.0.0.20": "b"}, speedup: 1000.0))],"#,
    );
    let (code, _, err) = nitrosim(t.path(), &["check", &f]);
    refused(code, &err, &["bytes 18446744073709551615 in one record", "f.log:1", "at most 1125899906842624"]);
}

#[test]
fn a_pcap_folder_holding_the_output_folder_is_refused_before_anything_is_made() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario(t.path(), "min", TWO, r#"workloads: [Bulk((name: "x", from: "a", to: "b", bytes: "100KB"))],"#);
    let (code, _, err) = nitrosim(t.path(), &["run", &f, "--out", "p1/sub", "--pcap", "p1", "--quiet"]);
    refused(code, &err, &["holds the --out folder"]);
    assert!(!t.path().join("p1").exists(), "a refused run left p1 behind");
    // The same through `..`: the paths are compared as `prepare` names folders.
    let (code, _, err) = nitrosim(t.path(), &["run", &f, "--out", "a/b", "--pcap", "a/b/..", "--quiet"]);
    refused(code, &err, &["holds the --out folder"]);
    assert!(!t.path().join("a").exists(), "a refused run left a behind");
    // And apart, once `..` is resolved: both written.
    let (code, out, err) = nitrosim(t.path(), &["run", &f, "--out", "a/../c", "--pcap", "a", "--quiet"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(t.path().join("c/summary.json").is_file() && t.path().join("a").is_dir());
}

#[test]
fn memory_probe_loads_are_bounded() {
    let t = tempfile::tempdir().unwrap();
    let (code, _, err) = nitrosim(t.path(), &["memory-probe", "--mib", "1", "--loads", "18446744073709551615"]);
    refused(code, &err, &["--loads 18446744073709551615", "1 to 100000000"]);
}

#[test]
fn validation_cases_that_cannot_pass_or_fail_are_refused_where_written() {
    let t = tempfile::tempdir().unwrap();
    let case = |tolerance: &str, reference: &str| {
        format!(
            r#"(
    mechanism: "m", source: (title: "t", url: "u", read: "2026-01-01"),
    scenario: "s.ron", variant: "base", metric: "/packets/sent", reference: {reference}, unit: "G", tolerance: {tolerance},
)"#
        )
    };
    for (k, (tolerance, reference, needle)) in [
        ("Relative(-1)", "1", "tolerance Relative(-1.0) cannot be met or missed"),
        ("Absolute(NaN)", "1", "cannot be met or missed"),
        ("Relative(0.05)", "NaN", "reference NaN is not a number"),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = t.path().join(format!("cases{k}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("c.ron"), case(tolerance, reference)).unwrap();
        let (code, _, err) = nitrosim(t.path(), &["validate", "--cases", dir.to_str().unwrap(), "--out", "v"]);
        refused(code, &err, &[needle, "c.ron:"]);
    }
    // A folder of long cases only, without --long: said as it is, not as an --only mismatch.
    let dir = t.path().join("long");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("c.ron"), case("Relative(0.05)", "1").replace("\n)", "\n    long: true,\n)")).unwrap();
    let (code, _, err) = nitrosim(t.path(), &["validate", "--cases", dir.to_str().unwrap(), "--out", "v"]);
    refused(code, &err, &["every case here is a long one", "--long"]);
    // A variant the scenario lacks is the case's mistake: exit 2 at its `variant`, before any run
    // (it was an ERROR row and exit 1); so is a `relative_to` scale of 0 (it compared with "inf").
    // The cases' scenario (`s.ron`, next to where validate runs).
    scenario(t.path(), "s", TWO, r#"workloads: [Bulk((name: "x", from: "a", to: "b", bytes: "100KB"))],"#);
    for (k, (edit, needle)) in [
        (r#"variant: "nope""#, r#"s.ron has no variant "nope""#),
        (
            r#"variant: "base", relative_to: (metric: "/packets/sent", scale: 0.0)"#,
            "relative_to's scale 0 leaves nothing",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = t.path().join(format!("bad{k}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("c.ron"), case("Relative(0.05)", "1").replace(r#"variant: "base""#, edit)).unwrap();
        let (code, _, err) = nitrosim(t.path(), &["validate", "--cases", dir.to_str().unwrap(), "--out", "v"]);
        refused(code, &err, &[needle, "c.ron:3:"]);
        assert!(!t.path().join("v").exists(), "a refused validation writes nothing");
    }
}

#[test]
fn a_damaged_sweep_definition_is_refused_with_exit_2() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("s")).unwrap();
    std::fs::write(t.path().join("s/sweep.json"), "{ not json").unwrap();
    let (code, _, err) = nitrosim(t.path(), &["plot", "s"]);
    refused(code, &err, &["sweep.json: no usable sweep definition"]);
    assert!(!err.contains("error: error:"), "{err}");
}

#[test]
fn an_output_folder_name_too_long_for_its_siblings_is_refused_by_name() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario(t.path(), "min", TWO, r#"workloads: [Bulk((name: "x", from: "a", to: "b", bytes: "100KB"))],"#);
    let long = "x".repeat(300);
    let (code, _, err) = nitrosim(t.path(), &["run", &f, "--quiet", "--out", &long]);
    refused(code, &err, &[&long, "its name is 300 bytes long; at most 200"]);
}

#[test]
fn plot_says_when_run_files_are_missing() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario(
        t.path(),
        "sw",
        TWO,
        r#"workloads: [Bulk((name: "bulk", from: "a", to: "b", bytes: "100KB"))],
    sweep: (parameters: [(path: "workloads.bulk.flows", values: List(["1", "2"]))], seeds: 1, plot: ["throughput.wire_gbps"]),"#,
    );
    let (code, out, err) = nitrosim(t.path(), &["sweep", &f, "--out", "s", "--jobs", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, _, err) = nitrosim(t.path(), &["plot", "s"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    let runs = t.path().join("s/runs");
    let first = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    std::fs::remove_file(first).unwrap();
    let (code, _, err) = nitrosim(t.path(), &["plot", "s"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: 1 of the sweep's 2 runs have no readable run file"), "{err}");
}

#[test]
fn open_loop_rpcs_faster_than_any_server_count_in_the_memory_estimate() {
    let t = tempfile::tempdir().unwrap();
    let rpc = |interval: &str| {
        format!(
            r#"workloads: [Rpc((name: "r", client: "a", server: "b", arrival: Poisson(mean_interval: "{interval}"), request: Fixed("1KiB"), response: Fixed("1KiB")))],"#
        )
    };
    // One RPC per picosecond for the run's 200 us: 2e8 RPCs queued at 32 B, 6 GiB, over a 1 GiB budget.
    let f = scenario(t.path(), "flood", TWO, &rpc("1ps"));
    let (code, _, err) = nitrosim(t.path(), &["run", &f, "--quiet", "--out", "o", "--max-memory", "1GiB"]);
    refused(code, &err, &["open-loop RPCs (Poisson)", "mean_interval"]);
    assert!(!t.path().join("o").exists());
    // At 10 us apart it runs.
    let f = scenario(t.path(), "calm", TWO, &rpc("10us"));
    let (code, out, err) = nitrosim(t.path(), &["run", &f, "--quiet", "--out", "o", "--max-memory", "1GiB"]);
    assert_eq!(code, 0, "{out}\n{err}");
}

#[test]
fn a_huge_number_is_shown_in_scientific_notation() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario(t.path(), "min", TWO, r#"workloads: [Bulk((name: "x", from: "a", to: "b", bytes: "100KB"))],"#);
    let (code, _, err) = nitrosim(t.path(), &["check", &f, "--set", "fabric.oversubscription=1e308"]);
    refused(code, &err, &["oversubscription 1e308 is out of range", "0.01 ..= 100"]);
}

/// A sweep of 2 points x 2 seeds of a small bulk transfer, in `dir/out`.
fn small_sweep(dir: &Path, out: &str, extra: &[&str]) -> (i32, String, String) {
    let f = small_sweep_file(dir);
    nitrosim(dir, &[&["sweep", &f, "--out", out, "--jobs", "1"][..], extra].concat())
}

/// [`small_sweep`] on a disk that fills after `limit_bytes` per file.
fn small_sweep_on_a_full_disk(dir: &Path, out: &str, extra: &[&str], limit_bytes: u64) -> (i32, String, String) {
    let f = small_sweep_file(dir);
    nitrosim_limited(dir, &[&["sweep", &f, "--out", out, "--jobs", "1"][..], extra].concat(), Some(limit_bytes))
}

/// The scenario of [`small_sweep`], written to `dir/sw.ron`; returns its path.
fn small_sweep_file(dir: &Path) -> String {
    scenario(
        dir,
        "sw",
        TWO,
        r#"workloads: [Bulk((name: "bulk", from: "a", to: "b", bytes: "100KB"))],
    sweep: (parameters: [(path: "workloads.bulk.flows", values: List(["1", "2"]))], seeds: 2, plot: ["throughput.wire_gbps"]),"#,
    )
}

/// A disk that fills during a sweep: the previous sweep stays whole, the runs that finished wait
/// in `.NAME.partial`, and `--resume` with room finishes a result identical to a clean sweep's.
#[test]
fn a_sweep_that_fills_the_disk_keeps_the_old_result_and_resume_finishes_it() {
    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = small_sweep(t.path(), "s", &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let before = listing(&t.path().join("s"));
    // 64 bytes: no run record fits; 20 000: the records do, a table does not.
    for limit in [64, 20_000] {
        let (code, _, err) = small_sweep_on_a_full_disk(t.path(), "s", &["--set", "seed=99"], limit);
        assert_eq!(code, 1, "limit {limit}: {err}");
        assert!(err.contains("File too large"), "limit {limit}: {err}");
        assert_eq!(listing(&t.path().join("s")), before, "limit {limit}: the previous sweep, whole");
        assert!(t.path().join(".s.partial").is_dir(), "limit {limit}: the finished runs kept for --resume");
    }
    let (code, out, err) = small_sweep(t.path(), "s", &["--set", "seed=99", "--resume"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = small_sweep(t.path(), "clean", &["--set", "seed=99"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(listing(&t.path().join("s")), listing(&t.path().join("clean")), "resumed = clean");
    let mut names: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    assert_eq!(names, ["clean", "s", "sw.ron"], "nothing left beside the folders");
}

#[test]
fn run_files_edited_to_absurd_values_or_linked_to_endless_ones_are_refused_or_left_out() {
    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = small_sweep(t.path(), "s", &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    // One seed's throughput edited to 1e200: the spread overflows to infinity, on which the
    // plotting library's axis arithmetic looped forever. The chart is left out, with a warning.
    let first = t.path().join("s/runs/p00000-s0000.json");
    let mut rec: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    rec["variants"][0][1]["throughput.wire_gbps"] = serde_json::json!(1e200);
    std::fs::write(&first, serde_json::to_string(&rec).unwrap()).unwrap();
    let (code, _, err) = nitrosim(t.path(), &["plot", "s"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: sweep plot of `throughput.wire_gbps` (base) left out: a point at x = 1 has mean 5e199 and 95% half-width inf; values must be finite and within 1e100"),
        "{err}"
    );
    assert!(
        !std::fs::read_dir(t.path().join("s"))
            .unwrap()
            .any(|e| { e.unwrap().file_name().to_string_lossy().starts_with("sweep_throughput.wire_gbps") })
    );
    // A run file that is a link to /dev/zero: read within a bound, not into all the memory.
    std::fs::remove_file(&first).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &first).unwrap();
    let (code, _, err) = nitrosim(t.path(), &["merge", "--out", "m", "s"]);
    refused(code, &err, &["p00000-s0000.json: not a run record (larger than 64 MiB)"]);
    // (`plot` rebuilds the folder from the runs it can read: the link is left behind.)
    let (code, _, err) = nitrosim(t.path(), &["plot", "s"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 of the sweep's 4 runs have no readable run file"), "{err}");
    let sweep_json = t.path().join("s/sweep.json");
    std::fs::remove_file(&sweep_json).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &sweep_json).unwrap();
    let (code, _, err) = nitrosim(t.path(), &["plot", "s"]);
    refused(code, &err, &["sweep.json: not a sweep output folder (larger than 64 MiB)"]);
}

#[test]
fn a_shard_that_drew_no_run_merges_with_the_others() {
    let t = tempfile::tempdir().unwrap();
    // 4 runs in 100 shards: shard 50 has none, and writes a definition but no runs folder.
    for (out, shard) in [("e", "50/100"), ("s0", "0/2"), ("s1", "1/2")] {
        let (code, out, err) = small_sweep(t.path(), out, &["--shard", shard]);
        assert_eq!(code, 0, "{out}\n{err}");
    }
    assert!(!t.path().join("e/runs").exists() && t.path().join("e/sweep.json").exists());
    let (code, _, err) = nitrosim(t.path(), &["merge", "--out", "m", "s0", "e", "s1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_dir(t.path().join("m/runs")).unwrap().count(), 4);
    // An empty shard of another sweep definition is still refused.
    let (code, out, err) = small_sweep(t.path(), "other", &["--shard", "50/100", "--set", "seed=6"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, _, err) = nitrosim(t.path(), &["merge", "--out", "m2", "s0", "other", "s1"]);
    refused(code, &err, &["other is a shard of a different sweep definition"]);
    assert!(!t.path().join("m2").exists());
}

/// Shards on another filesystem (a tmpfs at /dev/shm) cannot be hard-linked into the merge: their
/// run files are copied. A copy that fails (a full disk: a file-size limit) leaves the previous
/// merge whole and nothing beside it, and names both files and the cause.
#[test]
fn a_merge_copies_shards_from_another_filesystem_and_a_failed_copy_keeps_the_old_merge() {
    use std::os::unix::fs::MetadataExt;
    let t = tempfile::tempdir().unwrap();
    let Ok(shm) = tempfile::tempdir_in("/dev/shm") else {
        return common::skip_or_fail("no /dev/shm to hold shards on another filesystem", "mount a tmpfs at /dev/shm");
    };
    if std::fs::metadata(shm.path()).unwrap().dev() == std::fs::metadata(t.path()).unwrap().dev() {
        return common::skip_or_fail("/dev/shm is the temporary folder's filesystem", "mount a tmpfs at /dev/shm");
    }
    for (out, shard) in [("s0", "0/2"), ("s1", "1/2")] {
        let (code, out, err) = small_sweep(shm.path(), out, &["--shard", shard]);
        assert_eq!(code, 0, "{out}\n{err}");
    }
    let (s0, s1) = (shm.path().join("s0"), shm.path().join("s1"));
    let args = ["merge", "--out", "m", s0.to_str().unwrap(), s1.to_str().unwrap()];
    let (code, _, err) = nitrosim(t.path(), &args);
    assert_eq!(code, 0, "{err}");
    let merged = listing(&t.path().join("m"));
    let runs: Vec<&(String, Vec<u8>)> = merged.iter().filter(|(n, _)| n.starts_with("runs/")).collect();
    assert_eq!(runs.len(), 4, "{:?}", merged.iter().map(|f| &f.0).collect::<Vec<_>>());
    for (name, bytes) in runs {
        let shard = [&s0, &s1].into_iter().map(|s| s.join(name)).find(|p| p.exists()).unwrap();
        assert_eq!(&std::fs::read(&shard).unwrap(), bytes, "{name}: a copy of the shard's");
    }
    let (code, _, err) = nitrosim_limited(t.path(), &args, Some(64));
    assert_eq!(code, 1, "{err}");
    let first = s0.join("runs/p00000-s0000.json");
    let expected = format!("cannot copy {} into m/runs/p00000-s0000.json: File too large", first.display());
    assert!(err.contains(&expected), "{err}");
    assert_eq!(listing(&t.path().join("m")), merged, "the previous merge, whole");
    let names: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(names, ["m"], "nothing beside the merge");
}

/// A disk that fills while `plot` redraws a sweep folder, or while `validate` writes its table:
/// the previous folder stays whole, byte for byte, nothing is left beside it, and the error names
/// the file and the cause.
#[test]
fn plot_and_validate_on_a_full_disk_keep_the_previous_folder() {
    let t = tempfile::tempdir().unwrap();
    let (code, out, err) = small_sweep(t.path(), "s", &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    let before = listing(&t.path().join("s"));
    let (code, _, err) = nitrosim_limited(t.path(), &["plot", "s"], Some(64));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot write s/") && err.contains("File too large"), "{err}");
    assert_eq!(listing(&t.path().join("s")), before, "the sweep folder, whole");
    // Validation cases name scenarios relative to the repository root, so validate runs there.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let v = t.path().join("v");
    let args = ["validate", "--only", "mathis", "--quiet", "--out", v.to_str().unwrap()];
    let (code, _, err) = nitrosim_limited(root, &args, None);
    assert_eq!(code, 0, "{err}");
    let before_v = listing(&v);
    let (code, _, err) = nitrosim_limited(root, &args, Some(64));
    assert_eq!(code, 1, "{err}");
    let named = format!("cannot write {}/validation", v.display());
    assert!(err.contains(&named) && err.contains("File too large"), "{err}");
    assert_eq!(listing(&v), before_v, "the validation folder, whole");
    let mut names: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    names.sort();
    assert_eq!(names, ["s", "sw.ron", "v"], "nothing beside the folders");
}

/// Every file under `dir` (relative name, content), sorted.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    common::files_under(dir).into_iter().map(|(name, p)| (name, std::fs::read(p).unwrap())).collect()
}

#[test]
fn import_terraform_replaces_only_a_regular_file_and_only_whole() {
    let t = tempfile::tempdir().unwrap();
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/terraform/web-tier.plan.json");
    let plan = plan.to_str().unwrap();
    let fifo = t.path().join("fifo.ron");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    std::fs::create_dir(t.path().join("adir.ron")).unwrap();
    std::fs::write(t.path().join("target.ron"), "mine").unwrap();
    std::os::unix::fs::symlink("target.ron", t.path().join("link.ron")).unwrap();
    for (out, what) in [("fifo.ron", "not a regular file"), ("adir.ron", "a folder"), ("link.ron", "a symbolic link")] {
        let (code, _, err) = nitrosim(t.path(), &["import", "terraform", plan, "--out", out]);
        refused(code, &err, &[&format!("--out {out}: it is {what}")]);
    }
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type()));
    assert!(std::fs::symlink_metadata(t.path().join("link.ron")).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(t.path().join("target.ron")).unwrap(), "mine");
    // A regular file is replaced whole, through a hidden temporary that does not stay.
    let (code, _, err) = nitrosim(t.path(), &["import", "terraform", plan, "--out", "target.ron"]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(t.path().join("target.ron")).unwrap().starts_with("//"));
    let names: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
    // A write that fails (a disk that fills: a file-size limit) leaves the old file and no
    // temporary, and says why.
    std::fs::write(t.path().join("target.ron"), "mine").unwrap();
    let (code, _, err) = nitrosim_limited(t.path(), &["import", "terraform", plan, "--out", "target.ron"], Some(64));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot write target.ron") && err.contains("File too large"), "{err}");
    assert_eq!(std::fs::read_to_string(t.path().join("target.ron")).unwrap(), "mine");
    let names: Vec<String> =
        std::fs::read_dir(t.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
}

#[test]
fn a_ladder_that_cannot_be_drawn_is_said_not_silently_left_out() {
    let t = tempfile::tempdir().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/single-flow-cap.ron");
    let file = file.to_str().unwrap();
    // Warnings, not errors: shortening a bundled scenario must still run it.
    for (sets, needle) in [
        (
            &["--set", r#"report.capture=["sender"]"#][..],
            r#"no ladder diagram: flow "bulk" needs two of its lifelines (sender, receiver) captured"#,
        ),
        (
            &["--set", "report.ladder.from=10ms", "--set", "report.ladder.to=20ms"][..],
            "no ladder diagram: its window starts at 10ms, when the run (5ms) has ended",
        ),
    ] {
        let (code, out, err) = nitrosim(t.path(), &[&["check", file, "--set", "duration=5ms"][..], sets].concat());
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(needle), "{out}");
        let (code, _, err) =
            nitrosim(t.path(), &[&["run", file, "--set", "duration=5ms", "--out", "o", "--quiet"][..], sets].concat());
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("warning: variant") && err.contains("no ladder diagram"), "{err}");
        assert!(
            !std::fs::read_dir(t.path().join("o")).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("ladder"))
        );
    }
}

#[test]
fn sweeps_and_workloads_that_would_do_nothing_are_refused_where_written() {
    let t = tempfile::tempdir().unwrap();
    let bulk = r#"workloads: [Bulk((name: "bulk", from: "a", to: "b", bytes: "100KB"))],"#;
    let sweep = |parameter: &str| format!("{bulk}\n    sweep: (parameters: [{parameter}], seeds: 2),");
    let cases: [(&str, String, &[&str]); 7] = [
        (
            "repeated",
            sweep(r#"(path: "workloads.bulk.flows", values: List(["1", "1"]))"#),
            &["sweep parameter `workloads.bulk.flows` gives the value 1 twice", "repeated.ron:7:"],
        ),
        (
            "repeated_linear",
            sweep(r#"(path: "workloads.bulk.flows", values: Linear(from: 2, to: 2, steps: 3))"#),
            &["gives the value 2 twice"],
        ),
        ("seeds", sweep(r#"(path: "sweep.seeds", values: List(["1", "2"]))"#), &["`sweep.seeds` changes no run"]),
        ("name", sweep(r#"(path: "name", values: List(["x", "y"]))"#), &["`name` changes no run", "one folder"]),
        (
            "rpc_count_0",
            r#"workloads: [Rpc((name: "r", client: "a", server: "b", arrival: ClosedLoop(outstanding: 1), request: Fixed("1KiB"), response: Fixed("1KiB"), count: Some(0)))],"#.into(),
            &["workload \"r\": count 0 sends nothing", "rpc_count_0.ron:6:"],
        ),
        (
            "port_0",
            r#"workloads: [Bulk((name: "bulk", from: "a", to: "b", bytes: "100KB", port: 0))],"#.into(),
            &["workload \"bulk\" uses port 0", "a port from 1 to 65535"],
        ),
        (
            "no_acl_defined",
            format!(
                r#"vpc_cidr: "10.0.0.0/16",
    subnets: [(name: "s", cidr: "10.0.0.0/24", network_acl: "nacl")],
    {bulk}"#
            ),
            &["the name of a network ACL; the scenario defines none"],
        ),
    ];
    for (name, extra, needles) in cases {
        let f = scenario(t.path(), name, TWO, &extra);
        let cmd = if extra.contains("sweep:") { "sweep" } else { "check" };
        let (code, _, err) = nitrosim(t.path(), &[cmd, &f, "--out", "o"][..if cmd == "sweep" { 4 } else { 2 }]);
        refused(code, &err, needles);
    }
    assert!(!t.path().join("o").exists());
}

#[test]
fn set_paths_that_miss_say_what_the_level_holds() {
    let t = tempfile::tempdir().unwrap();
    let f = scenario(t.path(), "s", TWO, r#"workloads: [Bulk((name: "copy", from: "a", to: "b", bytes: "100KB"))],"#);
    for (set, needles) in [
        // Inside a workload: its fields, not the enum's tag ("one of: Bulk").
        ("workloads.copy.flowz=3", &["no field `flowz` at `workloads.copy`", "one of: bytes, duration, flows,"][..]),
        ("instances.a=x", &["`instances.a` is a whole list entry; set one of its fields", "instance_type"][..]),
    ] {
        let (code, _, err) = nitrosim(t.path(), &["check", &f, "--set", set]);
        refused(code, &err, needles);
    }
}
