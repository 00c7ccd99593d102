//! Security-group connection tracking (issue 14): untracked flows, idle timeouts and their
//! ranges, as the EC2 user guide ("Amazon EC2 security group connection tracking", read
//! 2026-11-30) and the API's `ConnectionTrackingSpecification` describe them.

mod common;
use common::*;

/// Six connections from a to b's port 8080, opened in the first 100 ms and held open; both
/// instances may track ten. `{RULES}` is b's group's inbound list (a's group allows nothing in:
/// a opens every connection).
const HELD: &str = r#"
Scenario(
    name: "held",
    duration: "1s",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    security_groups: [
        (name: "sg-a", inbound: []),
        (name: "sg-b", inbound: {RULES}),
    ],
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", conntrack_allowance: 10,
         enis: [(name: "eth0", security_groups: ["sg-a"])]),
        (name: "b", instance_type: "c6i.8xlarge", conntrack_allowance: 10,
         enis: [(name: "eth0", security_groups: ["sg-b"])]),
    ],
    workloads: [Connections((name: "held", from: "a", to: "b", count: 6, over: "100ms", port: 8080))],
)
"#;

fn held(rules: &str) -> nitrosim::model::VariantResult {
    let s = run_text("held", &HELD.replace("{RULES}", rules), &[]);
    let v = s.variants[0].clone();
    assert_conserved(&v);
    assert!(v.drops.is_empty(), "{:?}", v.drops);
    v
}

#[test]
fn untracked_flows_leave_the_allowance_alone() {
    let available = |v: &nitrosim::model::VariantResult, i: &str| {
        (v.counters[i].conntrack_allowance_available, v.counters[i].conntrack_allowance_available_min)
    };
    // Inbound allowed from a's group only: tracked at b (and at a, whose group lets no response
    // in without state): six entries each.
    let v = held(r#"[(protocol: "tcp", ports: "8080", peer: "sg-a")]"#);
    assert_eq!(available(&v, "b"), (Some(4), Some(4)));
    assert_eq!(available(&v, "a"), (Some(4), Some(4)));
    // The guide's example: TCP 80 from everywhere in, all traffic out (a new group's default):
    // not tracked at b. a's outbound flows stay tracked (its inbound allows no response without
    // state).
    let v = held(r#"[(protocol: "tcp", ports: "8080", peer: "0.0.0.0/0")]"#);
    assert_eq!(available(&v, "b"), (Some(10), Some(10)));
    assert_eq!(available(&v, "a"), (Some(4), Some(4)));
    // Both ways from everywhere on every TCP port at a too: untracked at both ends.
    let s = run_text(
        "held",
        &HELD.replace("{RULES}", r#"[(protocol: "tcp", ports: "8080", peer: "0.0.0.0/0")]"#).replace(
            r#"(name: "sg-a", inbound: [])"#,
            r#"(name: "sg-a", inbound: [(protocol: "tcp", ports: "0-65535", peer: "0.0.0.0/0")])"#,
        ),
        &[],
    );
    assert_eq!(available(&s.variants[0], "a"), (Some(10), Some(10)));
    assert_eq!(available(&s.variants[0], "b"), (Some(10), Some(10)));
    // From everywhere, but only a /8 allowed out: the response rule is not "all": tracked.
    let s = run_text(
        "held",
        &HELD.replace("{RULES}", r#"[(protocol: "tcp", ports: "8080", peer: "0.0.0.0/0")]"#).replace(
            r#"(name: "sg-b", inbound:"#,
            r#"(name: "sg-b", outbound: [(protocol: "all", peer: "10.0.0.0/8")], inbound:"#,
        ),
        &[],
    );
    assert_eq!(s.variants[0].counters["b"].conntrack_allowance_available, Some(4));
}

/// RPCs from a to b about every 100 s over one connection; at 1 s b's group loses its inbound
/// rule. AWS: "When you change a security group rule, its tracked connections are not
/// immediately interrupted" - they carry on until they time out.
const IDLE: &str = r#"
Scenario(
    name: "idle",
    duration: "2000s",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    security_groups: [
        (name: "sg-a", inbound: []),
        (name: "sg-b", inbound: [(protocol: "tcp", ports: "8080", peer: "sg-a")]),
    ],
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", enis: [(name: "eth0", security_groups: ["sg-a"])]),
        (name: "b", instance_type: "c6i.8xlarge", enis: [(name: "eth0", security_groups: ["sg-b"])]),
    ],
    workloads: [Rpc((name: "rpc", client: "a", server: "b", arrival: Poisson(mean_interval: "100s"),
                     request: Fixed("100B"), response: Fixed("1KiB"), count: 12))],
    actions: [(at: "1s", action: SetSecurityGroup(group: "sg-b", inbound: []))],
)
"#;

#[test]
fn an_entry_idle_past_its_timeout_is_gone_and_the_next_packet_meets_the_rules() {
    // Default timeout (432000 s): the connection stays tracked, every RPC completes.
    let s = run_text("idle", IDLE, &[]);
    let v = &s.variants[0];
    assert_conserved(v);
    let rpc = v.workloads.rpc.as_ref().unwrap();
    assert_eq!((rpc.issued, rpc.completed), (12, 12), "{rpc:?}");
    assert!(v.drops.is_empty(), "{:?}", v.drops);
    assert_eq!(v.counters["b"].conntrack_idle_timeouts, 0);
    // 60 s on b: the first gap longer than that removes b's entry; the next request is a new
    // flow to b, which its group no longer allows: refused and counted as `conntrack_expired`.
    let s = run_text("idle", IDLE, &["instances.b.conntrack_tcp_established_timeout=60"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let rpc = v.workloads.rpc.as_ref().unwrap();
    assert!(rpc.completed < rpc.issued, "{rpc:?}");
    let refused = v.drops["conntrack_expired"];
    assert!(refused > 0);
    assert_eq!(v.counters["b"].conntrack_expired_drops, refused);
    assert!(v.counters["b"].conntrack_idle_timeouts >= 1);
    let rule = "security groups of b inbound: tracking entry idled out, no rule allows the flow as new";
    assert_eq!(v.filter_drops[rule], refused);
    // Still allowed as new (no rule change): the entry is simply made again, nothing refused.
    let s = run_text("idle", IDLE, &["instances.b.conntrack_tcp_established_timeout=60", "actions=[]"]);
    let v = &s.variants[0];
    assert_eq!(v.workloads.rpc.as_ref().unwrap().completed, 12);
    assert!(v.drops.is_empty(), "{:?}", v.drops);
    assert!(v.counters["b"].conntrack_idle_timeouts >= 1);
}

#[test]
fn idle_entries_free_their_allowance() {
    // b may track two connections; a opens six, one every 100 s, each then idle. With the
    // default timeout the third and later ones find the table full; with 60 s the earlier
    // entries have gone by then.
    let sets = |t: &'static str| {
        [
            "duration=700s",
            "workloads.held.over=600s",
            "instances.b.conntrack_allowance=2",
            "instances.a.conntrack_allowance=100",
            t,
        ]
    };
    let text = HELD.replace("{RULES}", r#"[(protocol: "tcp", ports: "8080", peer: "sg-a")]"#);
    let s = run_text("held", &text, &sets("instances.b.conntrack_tcp_established_timeout=432000"));
    let v = &s.variants[0];
    assert!(v.counters["b"].conntrack_allowance_exceeded > 0);
    assert_eq!(v.counters["b"].conntrack_allowance_available, Some(0));
    let s = run_text("held", &text, &sets("instances.b.conntrack_tcp_established_timeout=60"));
    let v = &s.variants[0];
    assert_conserved(v);
    assert_eq!(v.counters["b"].conntrack_allowance_exceeded, 0, "{:?}", v.drops);
    assert!(v.counters["b"].conntrack_idle_timeouts >= 4);
    // At the end the last connection (opened at 500 s, idle since) has timed out too.
    assert_eq!(v.counters["b"].conntrack_allowance_available, Some(2));
}

#[test]
fn timeouts_outside_the_api_ranges_are_errors() {
    let text = HELD.replace("{RULES}", "[]");
    let err = |set: &str| load_error("held.ron", &text, &[set]);
    for (set, range) in [
        ("instances.b.conntrack_tcp_established_timeout=59", "60 ..= 432000"),
        ("instances.b.conntrack_tcp_established_timeout=432001", "60 ..= 432000"),
        ("instances.a.conntrack_udp_timeout=29", "30 ..= 60"),
        ("instances.a.conntrack_udp_timeout=61", "30 ..= 60"),
        ("instances.a.conntrack_udp_stream_timeout=59", "60 ..= 180"),
        ("instances.a.conntrack_udp_stream_timeout=181", "60 ..= 180"),
    ] {
        let e = err(set);
        assert!(e.contains(range), "{set}: {e}");
        let key = set.split('.').nth(2).unwrap().split('=').next().unwrap();
        assert!(e.contains(key), "{set}: {e}");
    }
    // In range: used, and shown with the allowance.
    let s = run_text("held", &text, &["instances.b.conntrack_tcp_established_timeout=350"]);
    let t = s.variants[0].counters["b"].conntrack_timeouts_s.unwrap();
    assert_eq!((t.tcp_established, t.udp, t.udp_stream), (350, 30, 180));
    // In the file itself: file, line and column point at the value.
    let bad = text.replace("conntrack_allowance: 10,\n         enis: [(name: \"eth0\", security_groups: [\"sg-b\"])]",
        "conntrack_allowance: 10, conntrack_udp_timeout: 90,\n         enis: [(name: \"eth0\", security_groups: [\"sg-b\"])]");
    assert_ne!(bad, text);
    let e = load_error("held.ron", &bad, &[]);
    assert!(e.contains("held.ron:13:"), "{e}");
    assert!(e.contains("30 ..= 60"), "{e}");
}

#[test]
fn udp_entries_time_out_after_udp_timeout() {
    // One-way datagrams about every 20 s on one flow to b's port 9000, allowed from a's group
    // until 1 s; b keeps UDP entries 30 s by default (a flow seen one way), so after the first
    // gap over 30 s the datagrams are new flows b no longer allows. At 60 s (the API's maximum)
    // more of them arrive.
    let text = IDLE
        .replace(r#"ports: "8080""#, r#"protocol_placeholder"#)
        .replace(r#"(protocol: "tcp", protocol_placeholder"#, r#"(protocol: "udp", ports: "9000""#)
        .replace(
            r#"Rpc((name: "rpc", client: "a", server: "b", arrival: Poisson(mean_interval: "100s"),
                     request: Fixed("100B"), response: Fixed("1KiB"), count: 12))"#,
            r#"Datagrams((name: "dgram", from: "a", to: "b", size: "100B", mean_interval: "20s", count: 80, port: 9000))"#,
        );
    assert!(text.contains("Datagrams") && text.contains(r#"(protocol: "udp", ports: "9000""#), "{text}");
    let got = |sets: &[&str]| {
        let s = run_text("udp", &text, sets);
        let v = s.variants[0].clone();
        assert_conserved(&v);
        (v.workloads.datagrams.as_ref().map_or(0, |d| d.count), v.drops.get("conntrack_expired").copied().unwrap_or(0))
    };
    let (delivered_30, refused_30) = got(&[]);
    assert!(refused_30 > 0 && delivered_30 >= 1, "{delivered_30} delivered, {refused_30} refused");
    let (delivered_60, refused_60) = got(&["instances.b.conntrack_udp_timeout=60"]);
    // The same datagrams were sent (same seed): each either arrived or was refused.
    assert_eq!(delivered_60 + refused_60, delivered_30 + refused_30);
    eprintln!("30 s: {delivered_30} delivered, {refused_30} refused; 60 s: {delivered_60}, {refused_60}");
    assert!(delivered_60 > delivered_30, "30 s: {delivered_30}, 60 s: {delivered_60}");
}

#[test]
fn timeouts_are_set_per_eni() {
    // AWS sets the timeouts on a network interface (`ConnectionTrackingSpecification`): b's
    // ENI's 60 s does what the instance-wide 60 s does, and overrides the instance's value.
    let s = run_text("idle", IDLE, &["instances.b.enis.eth0.conntrack_tcp_established_timeout=60"]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert!(v.drops["conntrack_expired"] > 0);
    let s = run_text(
        "idle",
        IDLE,
        &[
            "instances.b.conntrack_tcp_established_timeout=60",
            "instances.b.enis.eth0.conntrack_tcp_established_timeout=432000",
        ],
    );
    let v = &s.variants[0];
    assert_eq!(v.workloads.rpc.as_ref().unwrap().completed, 12);
    assert!(v.drops.is_empty(), "{:?}", v.drops);
    // Shown on the ENI with the allowance.
    let text = HELD.replace("{RULES}", "[]");
    let s = run_text("held", &text, &["instances.b.enis.eth0.conntrack_udp_timeout=45"]);
    let t = s.variants[0].counters["b"].enis["eth0"].conntrack_timeouts_s.unwrap();
    assert_eq!((t.tcp_established, t.udp, t.udp_stream), (432000, 45, 180));
    // Out of range on an ENI: the same error as on the instance.
    let e = load_error("held.ron", &text, &["instances.b.enis.eth0.conntrack_udp_stream_timeout=59"]);
    assert!(e.contains("60 ..= 180") && e.contains("conntrack_udp_stream_timeout"), "{e}");
}

#[test]
fn connections_through_a_transit_gateway_are_tracked_whatever_the_rules() {
    // The guide's untracked case (TCP from everywhere in, all traffic out) stays tracked when
    // the connection crosses a transit gateway attachment ("automatically tracked connections").
    let text = HELD.replace("{RULES}", r#"[(protocol: "tcp", ports: "8080", peer: "0.0.0.0/0")]"#);
    let direct = run_text("held", &text, &[]);
    assert_eq!(direct.variants[0].counters["b"].conntrack_allowance_available, Some(10));
    let via = [
        r#"gateways=[{"name": "tgw", "kind": "TransitGateway"}]"#,
        r#"paths=[{"between": ["a", "b"], "via": ["tgw"]}]"#,
    ];
    let s = run_text("held", &text, &via);
    let v = &s.variants[0];
    assert_conserved(v);
    assert_eq!(v.counters["b"].conntrack_allowance_available, Some(4));
}
