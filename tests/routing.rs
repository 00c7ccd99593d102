//! Route tables with instance targets, and the source/destination check (issue #7).

mod common;
use common::*;

const NAT: &str = include_str!("../scenarios/nat-instance.ron");

#[test]
fn a_nat_instance_forwards_only_with_the_check_off() {
    let s = run_text("nat-instance.ron", NAT, &[]);
    let (on, off) = (variant(&s, "check-on"), variant(&s, "check-off"));
    for v in [on, off] {
        assert_conserved(v);
    }
    // Check on: every packet the NAT instance would forward is dropped there, counted.
    assert!(on.flows.iter().all(|f| f.bytes_delivered == 0));
    assert_eq!(on.drops["source_dest_check"], on.packets.sent);
    // Check off: the download and the RPCs go through.
    assert_eq!(off.flows.iter().find(|f| f.name == "download").unwrap().bytes_delivered, 20_000_000);
    assert!(!off.drops.contains_key("source_dest_check"));
    // The NAT instance (2 vCPUs) sends to the internet gateway: at most 5 Gbps.
    assert!(off.flows[0].wire_gbps < 5.05);
}

#[test]
fn the_most_specific_route_wins_and_the_local_route_cannot_be_overridden_by_a_wider_one() {
    // A /24 straight to the internet gateway beats 0.0.0.0/0 via the NAT instance: traffic no
    // longer meets the NAT's source/destination check.
    let direct = r#"route_tables.private-rt.routes=[{"destination": "0.0.0.0/0", "target": "nat"}, {"destination": "198.51.100.0/24", "target": "igw"}]"#;
    let s = run_text("nat-instance.ron", NAT, &[direct, r#"variants=[{"name": "check-on"}]"#]);
    let v = &s.variants[0];
    assert!(!v.drops.contains_key("source_dest_check"));
    assert!(v.flows.iter().all(|f| f.bytes_delivered > 0));
    // A route for the VPC's own block (as wide as the local route) does not capture in-VPC
    // traffic: app -> nat's neighbour stays local. Here: send to the NAT instance itself.
    let to_nat = r#"workloads=[{"Bulk": {"name": "b", "from": "app", "to": "nat", "bytes": "1MB"}}]"#;
    let wide = r#"route_tables.private-rt.routes=[{"destination": "10.0.0.0/16", "target": "igw"}]"#;
    let s = run_text("nat-instance.ron", NAT, &[to_nat, wide, r#"variants=[{"name": "x"}]"#]);
    let v = &s.variants[0];
    assert_eq!(v.flows[0].bytes_delivered, 1_000_000);
    assert!(v.ip.is_empty() && !v.drops.contains_key("source_dest_check"));
}

#[test]
fn routing_mistakes_are_errors() {
    use nitrosim::scenario;
    let err = |sets: &[&str]| load_error("n.ron", NAT, sets);
    let e = err(&[r#"route_tables.private-rt.routes=[{"destination": "0.0.0.0/0", "target": "natt"}]"#]);
    assert!(e.contains("unknown gateway or router instance \"natt\"") && e.contains("did you mean \"nat\""), "{e}");
    let e = err(&["subnets.private.route_table=private"]);
    assert!(e.contains("unknown route table"), "{e}");
    let e = err(&[
        r#"route_tables.public-rt.routes=[{"destination": "0.0.0.0/0", "target": "igw"}, {"destination": "0.0.0.0/0", "target": "nat"}]"#,
    ]);
    assert!(e.contains("two routes to 0.0.0.0/0"), "{e}");
    // `check` warns before anything is simulated.
    let v = scenario::load("n.ron", NAT, &[], None).unwrap();
    let text = scenario::validate::describe(&v[0].name, &v[0].spec);
    assert!(text.contains("nat forwards others' traffic") && text.contains("source/destination check is on"), "{text}");
}

#[test]
fn forwarded_packets_drop_only_while_the_check_is_on() {
    let s = run_text("nat-instance.ron", NAT, &[]);
    let v = variant(&s, "turned-off-at-100ms");
    assert_conserved(v);
    // Only the three SYNs sent at 0 (one per connection) met the closed gate; their retries after
    // the initial RTO (1 s, Linux TCP_TIMEOUT_INIT) went through.
    assert_eq!(v.drops["source_dest_check"], 3);
    let download = v.flows.iter().find(|f| f.name == "download").unwrap();
    assert_eq!(download.bytes_delivered, 20_000_000);
    assert!(download.completed_us.unwrap() > 1_000_000.0);
    assert!(v.events.iter().any(|e| e.event == "action" && e.time_us == 100_000.0));
}

const FABRIC: &str = r#"
Scenario(
    name: "fabric-failure",
    duration: "1s",
    fabric: (racks: 2, hosts_per_rack: 4, spines: 2, host_link: "25Gbps"),
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", rack: 0),
        (name: "b", instance_type: "c6i.8xlarge", rack: 1),
    ],
    workloads: [Bulk((name: "bulk", from: "a", to: "b", flows: 8))],
    report: (timeseries_bins: 100),
    actions: [
        (at: "100ms", action: FailSpine(spine: 0)),
        (at: "200ms", action: RestoreSpine(spine: 0)),
    ],
)
"#;

#[test]
fn a_failed_spine_drops_its_flows_until_restored() {
    let s = run_text("fabric-failure", FABRIC, &[]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert!(v.drops["link_down"] > 0);
    let total = |i: usize| bin_total(v, i);
    // Bins of 10 ms: before, during (flows hashed onto spine 0 stall), and after their next
    // retransmission timeout following the restore (RTO backoff: they come back later).
    let (before, during, after) = (total(5), total(15), total(90));
    assert!(during < before * 0.9, "before {before} during {during}");
    assert!(after > during, "after {after} during {during}");
    // An instance failure: everything to and from it drops, then retransmissions recover.
    let fail = r#"actions=[{"at": "100ms", "action": {"FailInstance": {"instance": "b"}}}, {"at": "150ms", "action": {"RestoreInstance": {"instance": "b"}}}]"#;
    let s = run_text("fabric-failure", FABRIC, &[fail]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert!(v.drops["instance_down"] > 0);
    let total = |i: usize| bin_total(v, i);
    assert!(total(12) < 0.01 && total(90) > 1.0, "{} {}", total(12), total(90));
    // Mistakes: an action after the end, an unknown instance, a spine that does not exist.
    let err = |sets: &[&str]| load_error("f.ron", FABRIC, sets);
    assert!(err(&["duration=50ms"]).contains("after the end of the run"));
    assert!(
        err(&[r#"actions=[{"at": "1ms", "action": {"FailInstance": {"instance": "c"}}}]"#])
            .contains("unknown instance")
    );
    assert!(err(&[r#"actions=[{"at": "1ms", "action": {"FailSpine": {"spine": 2}}}]"#]).contains("0 ..= 1"));
}

#[test]
fn an_mtu_change_takes_effect_under_live_connections() {
    // At 50 ms the sender's MTU drops from 9001 to 1500 (ip link set mtu): its TCP lowers the MSS
    // at once and resends what no longer fits; the transfer goes on.
    let s = run_text(
        "fabric-failure",
        FABRIC,
        &[
            "workloads.bulk.flows=1",
            r#"actions=[{"at": "50ms", "action": {"SetMtu": {"instance": "a", "mtu": 1500}}}]"#,
        ],
    );
    let v = &s.variants[0];
    assert_conserved(v);
    assert_eq!(v.flows[0].mss, Some(1448));
    let mss = v.events.iter().find(|e| e.event == "mss").unwrap();
    assert_eq!((mss.time_us, mss.mss_from, mss.mss_to), (50_000.0, Some(8949), Some(1448)));
    let total = |i: usize| bin_total(v, i);
    assert!(total(20) > 4.0, "still 5 Gbps after: {}", total(20));
}

#[test]
fn ena_express_turned_on_during_a_run_serves_new_connections() {
    let text = r#"
Scenario(
    name: "toggle",
    duration: "40ms",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    instances: [
        (name: "a", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900)]),
        (name: "b", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
    ],
    workloads: [
        Bulk((name: "before", from: "a", to: "b", bytes: "20MB")),
        Bulk((name: "after", from: "a", to: "b", bytes: "20MB", start: "10ms")),
    ],
    actions: [(at: "5ms", action: SetEnaExpress(instance: "a", enabled: true))],
)"#;
    let s = run_text("toggle", text, &[]);
    let v = &s.variants[0];
    let f = |n: &str| v.flows.iter().find(|x| x.name == n).unwrap().goodput_gbps;
    // The first connection opened as plain ENA (5 Gbps); the second, after the change, over SRD.
    assert!(f("before") < 5.1 && f("after") > 15.0, "{} {}", f("before"), f("after"));
    assert_eq!(v.counters["a"].ena_srd_mode & 1, 1);
}

#[test]
fn one_failed_link_drops_only_what_crosses_it() {
    // Rack 0's link to spine 0 fails: flows from rack 0 hashed to spine 0 drop; the others pass.
    let link = r#"actions=[{"at": "100ms", "action": {"FailLink": {"rack": 0, "spine": 0}}}, {"at": "200ms", "action": {"RestoreLink": {"rack": 0, "spine": 0}}}]"#;
    let s = run_text("fabric-failure", FABRIC, &[link]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert!(v.drops["link_down"] > 0);
    let total = |i: usize| bin_total(v, i);
    assert!(total(15) > 0.5, "the flows on spine 1 go on: {}", total(15));
}
