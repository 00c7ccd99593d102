//! Bring your own VPC: `nitrosim import terraform` and the `FlowLogs` workload, on fixtures
//! written from the documented formats (Terraform's JSON output format; AWS's flow log records).

mod common;
use common::*;
use nitrosim::import::terraform::{ImportOptions, import};
use nitrosim::scenario;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The options the README's "Import your VPC" command gives.
fn web_tier_options() -> ImportOptions {
    ImportOptions {
        flowlogs: Some("examples/flowlogs/web-tier.log".into()),
        flowlogs_path: Some(root().join("examples/flowlogs/web-tier.log")),
        speedup: 600.0,
        compare_ena_express: true,
        name: "imported-web-tier".into(),
        ..ImportOptions::default()
    }
}

#[test]
fn the_bundled_imported_scenario_is_what_the_importer_generates_now() {
    let plan = read("examples/terraform/web-tier.plan.json");
    let now = import("examples/terraform/web-tier.plan.json", &plan, &web_tier_options()).unwrap();
    let kept = read("scenarios/imported-web-tier.ron");
    assert!(
        kept == now.text,
        "scenarios/imported-web-tier.ron is stale: regenerate it with the README's `nitrosim import terraform` command"
    );
}

#[test]
fn the_web_tier_replays_under_ena_and_ena_express_side_by_side() {
    let text = read("scenarios/imported-web-tier.ron");
    let s = run_text("imported-web-tier.ron", &text, &[]);
    let (ena, express) = (variant(&s, "ena"), variant(&s, "ena-express"));
    for v in [ena, express] {
        assert_conserved(v);
        let f = &v.replays.flowlogs[0];
        // What the log holds besides flows is counted, never dropped silently.
        assert_eq!((f.nodata_records, f.skipdata_records, f.not_tcp_records), (1, 1, 1));
        assert_eq!((f.rejected_records, f.unmapped_address_records), (1, 1));
        // The SSH probe AWS rejected is refused by the imported network ACL too.
        let ssh = f.groups.iter().find(|g| g.group.ends_with(":22")).unwrap();
        assert_eq!((ssh.logged, ssh.established, ssh.verdict), ("REJECT", false, "as logged"));
        assert!(v.filter_drops.keys().any(|k| k.contains("network-private")), "{:?}", v.filter_drops);
        for g in f.groups.iter().filter(|g| g.logged == "ACCEPT") {
            assert_eq!(g.completed, g.exchanges, "{}: {}", v.name, g.group);
        }
    }
    // Web -> database result sets (40 MB per window): a single flow over plain ENA is held to the
    // 5 Gbps per-flow limit outside a cluster placement group (EC2 user guide); ENA Express
    // lifts it (up to 25 Gbps).
    let db = |v: &nitrosim::model::VariantResult| {
        v.replays.flowlogs[0].groups.iter().filter(|g| g.group.ends_with(":5432")).cloned().collect::<Vec<_>>()
    };
    let (a, b) = (db(ena), db(express));
    assert_eq!(a.len(), 3);
    for (x, y) in a.iter().zip(&b) {
        assert!(x.goodput_gbps <= 5.0 && x.goodput_gbps > 4.0, "ENA {}: {} Gbps", x.group, x.goodput_gbps);
        assert!(y.goodput_gbps > 3.0 * x.goodput_gbps, "ENA Express {}: {} Gbps", y.group, y.goodput_gbps);
        assert!(y.exchange_us_mean.unwrap() < x.exchange_us_mean.unwrap() / 3.0);
    }
    // Through the internet gateway nothing is eligible for SRD: those groups do not change.
    let web = |v: &nitrosim::model::VariantResult| {
        v.replays.flowlogs[0]
            .groups
            .iter()
            .filter(|g| g.group.ends_with(":443"))
            .map(|g| g.exchange_us_mean)
            .collect::<Vec<_>>()
    };
    // (Not to the nanosecond: the hosts' timing noise draws differ once their other traffic does.)
    for (x, y) in web(ena).iter().zip(web(express)) {
        let (x, y) = (x.unwrap(), y.unwrap());
        assert!((x / y - 1.0).abs() < 0.02, "internet group changed: {x} vs {y} us");
    }
    // The printed report puts the variants side by side per group.
    let table = nitrosim::report::table::render(&s);
    assert!(table.contains("10.0.0.10:40000 -> 10.0.1.10:5432"), "{table}");
    assert!(table.contains("refused, as logged"), "{table}");
}

#[test]
fn groups_whose_first_exchange_is_after_the_end_are_not_started_not_refused() {
    // 50 ms of the replay: the later groups never begin. They were once reported as "refused but
    // logged ACCEPT", a claim that the scenario's rules blocked what AWS accepted.
    let text = read("scenarios/imported-web-tier.ron");
    let s = run_text("imported-web-tier.ron", &text, &["duration=50ms"]);
    for v in &s.variants {
        let f = &v.replays.flowlogs[0];
        let not_started: Vec<_> =
            f.groups.iter().filter(|g| g.verdict == nitrosim::workload::replay::NOT_STARTED).collect();
        assert!(!not_started.is_empty(), "{}: every group started in 50 ms", v.name);
        for g in &not_started {
            assert_eq!((g.replayed_bytes, g.completed, g.established), (0, 0, false), "{}", g.group);
        }
        // Every group that did not start is one that sent nothing; the rest started.
        for g in &f.groups {
            assert_eq!(
                g.replayed_bytes == 0,
                g.verdict == nitrosim::workload::replay::NOT_STARTED,
                "{}: {}",
                g.group,
                g.verdict
            );
        }
        // The REJECT group (the SSH probe) comes late in the log: not started, not "refused, as logged".
        let ssh = f.groups.iter().find(|g| g.group.ends_with(":22")).unwrap();
        assert_eq!(ssh.verdict, nitrosim::workload::replay::NOT_STARTED);
    }
    let table = nitrosim::report::table::render(&s);
    assert!(table.contains("not started (run ended)"), "{table}");
    assert!(!table.contains("refused, as logged"), "{table}");
}

#[test]
fn a_plan_with_modules_counts_unknowns_and_every_mapped_type_imports_to_a_valid_scenario() {
    let plan = read("tests/fixtures/all-types.plan.json");
    let out = import("tests/fixtures/all-types.plan.json", &plan, &ImportOptions::default()).unwrap();
    let t = &out.text;
    let variants = scenario::load("all-types.ron", t, &[], None).unwrap_or_else(|d| panic!("{d}\n{t}"));
    let spec = &variants[0].spec;
    // Every resource is either mapped or listed as ignored.
    assert!(
        t.contains("//   aws_iam_role: aws_iam_role.node") && t.contains("//   aws_s3_bucket: aws_s3_bucket.logs"),
        "{t}"
    );
    assert_eq!(out.ignored, 2);
    // Comments name the source addresses, counted and for_each keys included.
    for a in ["module.app.aws_instance.web[2]", "module.hpc.aws_instance.node[\"left\"]", "module.net.aws_route.vpn"] {
        assert!(t.contains(&format!("// {a}")), "no comment for {a}");
    }
    // Unknown values get a stated default.
    assert!(t.contains("cidr_block known after apply"), "{t}");
    assert!(t.contains("t2.micro is not in nitrosim's catalog"), "{t}");
    let inst = |n: &str| spec.instances.iter().find(|i| i.name == n).unwrap_or_else(|| panic!("no {n}"));
    // Auto Scaling group: a fleet of desired_capacity from the launch template.
    assert_eq!(spec.fleet("app-workers").count(), 4);
    assert_eq!(inst("app-workers-0").instance_type, "c6i.8xlarge");
    // EFA with ENA Express, a cluster placement group, an attached second ENI, an EFA group.
    let node = inst("hpc-node-left");
    assert_eq!(node.placement_group.as_deref(), Some("hpc-pg"));
    assert_eq!(node.enis.len(), 2);
    assert!(
        node.enis[0].ena_srd_enabled && node.enis[0].interface_type == nitrosim::scenario::spec::InterfaceType::Efa
    );
    assert!(!node.enis[1].source_dest_check);
    let efa = spec.security_groups.iter().find(|g| g.name == "efa").unwrap();
    assert!(efa.allow_all_within_group);
    // A tag sets the MTU; source/destination check off on a router.
    assert_eq!((inst("app-router").enis[0].mtu, inst("app-router").enis[0].source_dest_check), (1500, false));
    // Network ACL: inline blocks and aws_network_acl_rule, in rule order.
    let acl = &spec.network_acls[0];
    assert_eq!(acl.inbound.iter().map(|r| r.rule).collect::<Vec<_>>(), vec![90, 110, 200]);
    // Routes to the internet gateway, a NAT gateway and a transit gateway.
    let targets: Vec<&str> =
        spec.route_tables.iter().flat_map(|t| t.routes.iter().map(|r| r.target.as_str())).collect();
    for g in ["net-gw", "net-ngw", "net-tgw"] {
        assert!(targets.contains(&g), "{targets:?}");
    }
    assert_eq!(spec.gateways.len(), 4);
    // Security group rules of all three resource kinds, with group peers.
    let app = spec.security_groups.iter().find(|g| g.name == "app").unwrap();
    assert_eq!(app.inbound.len(), 3);
    assert!(efa.inbound.iter().any(|r| r.peer == "app" && r.ports.as_deref() == Some("22")));
    // The placeholder workload runs.
    let s = run_text("all-types.ron", t, &["duration=50ms"]);
    assert!(s.variants[0].events_processed > 0);
}

#[test]
fn importing_nat_instance_rons_vpc_from_a_state_gives_the_same_summary() {
    // tests/fixtures/nat-instance.state.json describes scenarios/nat-instance.ron's VPC as a
    // Terraform state would (known ids, no configuration): subnets, the internet gateway, the
    // route tables (the private one through the NAT instance's primary ENI) and the two
    // instances (MTU 1500 by tag). What Terraform does not describe (the traffic, the run, the
    // server on the internet's name) is taken from the bundled scenario.
    let state = read("tests/fixtures/nat-instance.state.json");
    let o = ImportOptions { internet: "web".into(), name: "nat-instance".into(), ..ImportOptions::default() };
    let imported = import("nat-instance.state.json", &state, &o).unwrap();
    let mut spec = scenario::parse("imported.ron", &imported.text).unwrap_or_else(|d| panic!("{d}"));
    let bundled_text = read("scenarios/nat-instance.ron");
    let bundled = scenario::parse("nat-instance.ron", &bundled_text).unwrap();
    spec.name = bundled.name.clone();
    spec.description = bundled.description.clone();
    spec.seed = bundled.seed;
    spec.duration = bundled.duration;
    spec.fabric = bundled.fabric.clone();
    spec.workloads = bundled.workloads.clone();
    spec.variants = bundled.variants.clone();
    scenario::check("imported.ron", "", &spec).unwrap_or_else(|d| panic!("{d}"));
    let variants = scenario::expand_variants("imported.ron", "", spec).unwrap();
    let progress = nitrosim::progress::Progress::new(1, false);
    let results = nitrosim::run::run_variants(&variants, &progress).unwrap();
    let a = json(&nitrosim::report::summary::Summary::new(&variants[0].spec.name, variants[0].spec.seed, results));
    let b = json(&run_text("nat-instance.ron", &bundled_text, &[]));
    assert_eq!(a, b, "imported:\n{}", imported.text);
}

#[test]
fn flow_logs_v2_and_a_v5_custom_format_plain_or_gzip_reconstruct_the_same_groups() {
    use nitrosim::workload::flowlogs::{ReplayOptions, read as read_log};
    let map: std::collections::BTreeMap<String, String> =
        [("eni-aaa", "a"), ("10.0.0.10", "a"), ("eni-bbb", "b"), ("10.0.0.20", "b")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let o = ReplayOptions {
        interfaces: &map,
        internet: Some("internet"),
        vpc: nitrosim::ec2::vpc::Cidr::parse("10.0.0.0/16").unwrap(),
        window_s: 60,
        max_groups: 100,
        max_exchanges: 100,
    };
    let v2 = read_log(&root().join("tests/fixtures/flows-v2.log"), "v2", &o).unwrap();
    let v5 = read_log(&root().join("tests/fixtures/flows-v5.log"), "v5", &o).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("flows-v5.log.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, read("tests/fixtures/flows-v5.log").as_bytes()).unwrap();
    enc.finish().unwrap();
    let v5gz = read_log(&gz, "v5.gz", &o).unwrap();
    assert_eq!(v5.groups, v5gz.groups);
    assert_eq!(v5.stats, v5gz.stats);
    assert_eq!(v2.groups.len(), 2);
    // The same records in both formats: the same groups (v5 only adds flags and directions).
    let strip =
        |g: &nitrosim::workload::flowlogs::Group| (g.label.clone(), g.client.clone(), g.exchanges.clone(), g.rejected);
    assert_eq!(v2.groups.iter().map(strip).collect::<Vec<_>>(), v5.groups.iter().map(strip).collect::<Vec<_>>());
    // Seen at both ENIs, counted once: 2 windows of 5000 B up, 1 000 000 B down.
    let g = &v2.groups[0];
    assert_eq!(
        g.exchanges.iter().map(|x| (x.forward_bytes, x.reverse_bytes)).collect::<Vec<_>>(),
        vec![(5000, 1_000_000), (5000, 1_000_000)]
    );
    assert!(v2.groups[1].rejected);
    // eni-ccc is not in the map: counted (its address 10.0.0.99 maps nowhere either).
    assert_eq!((v2.stats.unknown_interface, v2.stats.unmapped_address), (1, 1));
    assert_eq!((v2.stats.nodata, v2.stats.skipdata), (1, 1));
    assert_eq!((v5.groups[0].syns, v5.groups[0].fins), (1, 1));
}

const FLOW_SCENARIO: &str = r#"Scenario(
    name: "replay",
    duration: "3s",
    vpc_cidr: "10.0.0.0/16",
    subnets: [(name: "s", cidr: "10.0.0.0/24")],
    security_groups: [(name: "srv", inbound: [(protocol: "tcp", ports: "443", peer: "10.0.0.0/16")])],
    instances: [
        (name: "a", instance_type: "c6in.16xlarge", subnet: "s"),
        (name: "b", instance_type: "c6in.16xlarge", subnet: "s", enis: [(name: "eth0", security_groups: ["srv"])]),
        (name: "internet", instance_type: "c6i.8xlarge", subnet: "s"),
    ],
    workloads: [FlowLogs((name: "t", file: "FILE", interfaces: {"eni-aaa": "a", "10.0.0.10": "a", "eni-bbb": "b", "10.0.0.20": "b"},
                          internet: "internet", speedup: 60.0))],
)"#;

#[test]
fn a_replayed_v2_log_reports_unknown_interfaces_and_checks_rejects_against_the_rules() {
    let file = root().join("tests/fixtures/flows-v2.log");
    let text = FLOW_SCENARIO.replace("FILE", &file.to_string_lossy());
    let s = run_text("replay.ron", &text, &[]);
    let f = &s.variants[0].replays.flowlogs[0];
    assert_eq!(f.unknown_interface_records, 1);
    assert_eq!(f.unknown_examples, vec!["eni-ccc".to_string(), "10.0.0.99".to_string()]);
    // The rejected SSH attempt comes from the internet; the group "srv" only allows 443.
    let ssh = f.groups.iter().find(|g| g.group.ends_with(":22")).unwrap();
    assert_eq!((ssh.established, ssh.verdict), (false, "as logged"));
    let web = f.groups.iter().find(|g| g.group.ends_with(":443")).unwrap();
    assert_eq!((web.completed, web.verdict), (2, "as logged"));
    // A scenario whose rules allow SSH disagrees with the log, and says so.
    let open = text.replace("ports: \"443\"", "ports: \"1-65535\"");
    let s = run_text("replay.ron", &open.replace("peer: \"10.0.0.0/16\"", "peer: \"0.0.0.0/0\""), &[]);
    let ssh = s.variants[0].replays.flowlogs[0].groups.iter().find(|g| g.group.ends_with(":22")).unwrap().clone();
    assert_eq!((ssh.established, ssh.verdict), (true, "allowed but logged REJECT"));
}

fn nitrosim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_nitrosim")).args(args).current_dir(root()).output().unwrap()
}

#[test]
fn bad_input_gets_located_errors_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    // Malformed JSON: file, line and column.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"format_version\": \"1.2\",\n  \"planned_values\": {\n    \"root_module\": [1,]\n}\n")
        .unwrap();
    let o = nitrosim(&["import", "terraform", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.json:4:") && err.contains("malformed JSON"), "{err}");
    // An unsupported major format version is refused, as the format document says.
    std::fs::write(&bad, "{\"format_version\": \"2.0\", \"values\": {\"root_module\": {}}}").unwrap();
    let o = nitrosim(&["import", "terraform", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("format_version"));
    // A malformed flow log record: the log's file, line and field.
    let log = dir.path().join("flows.log");
    let good = read("tests/fixtures/flows-v2.log");
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen(" 6 200 ", " 6 2x0 ", 1);
    std::fs::write(&log, lines.join("\n")).unwrap();
    let scen = dir.path().join("replay.ron");
    std::fs::write(&scen, FLOW_SCENARIO.replace("FILE", "flows.log")).unwrap();
    let o = nitrosim(&["check", scen.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("flows.log:3:") && err.contains("`packets`"), "{err}");
    // Nothing is written when the import fails.
    let out = dir.path().join("never.ron");
    std::fs::write(&bad, "not json").unwrap();
    let o = nitrosim(&["import", "terraform", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn a_bad_flow_log_record_is_reported_at_the_log_line_not_at_the_plan() {
    let dir = tempfile_dir("bad-flowlog");
    let log = dir.join("bad.log");
    let good = read("examples/flowlogs/web-tier.log");
    let mut lines: Vec<&str> = good.lines().collect();
    // The third line's source port (field 6) is not a number.
    let mut fields: Vec<&str> = lines[2].split(' ').collect();
    fields[5] = "port";
    let broken = fields.join(" ");
    lines[2] = &broken;
    std::fs::write(&log, lines.join("\n")).unwrap();
    let plan = read("examples/terraform/web-tier.plan.json");
    let options =
        ImportOptions { flowlogs: Some("bad.log".into()), flowlogs_path: Some(log.clone()), ..web_tier_options() };
    let d = import("examples/terraform/web-tier.plan.json", &plan, &options).expect_err("a malformed record");
    assert!(d.file.ends_with("bad.log"), "blames the log: {d}");
    assert_eq!(d.line, 3, "{d}");
    assert!(d.message.starts_with("--flowlogs: "), "{d}");
    // The plan's own line 3 must not be shown as if it were the log's.
    assert!(d.snippet.is_none(), "{d}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("nitrosim-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
