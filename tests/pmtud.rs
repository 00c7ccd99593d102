//! MTU, fragmentation, Path MTU Discovery and its black hole; security groups and network ACLs.
//! The delays asserted here are derived from Linux's rules (RTO backoff from 200 ms,
//! `tcp_model_timeout` for tcp_retries1/2), not copied from a run.

mod common;
use common::*;
use nitrosim::model::VariantResult;
use nitrosim::model::trace::LogEntry;
use nitrosim::transport::tcp::{LINUX_RTO_MAX, LINUX_RTO_MIN, model_timeout};

const BLACKHOLE: &str = include_str!("../scenarios/pmtud-blackhole.ron");

fn events<'a>(v: &'a VariantResult, kind: &str) -> Vec<&'a LogEntry> {
    v.events.iter().filter(|e| e.event == kind).collect()
}

#[test]
fn the_four_black_hole_variants_behave_as_linux_would() {
    let s = run_text("pmtud-blackhole.ron", BLACKHOLE, &[]);
    for v in &s.variants {
        assert_conserved(v);
    }
    let first_data_us = |v: &VariantResult| events(v, "drop").first().map(|e| e.time_us);

    // ICMP allowed: one ICMP round trip after the first full-size segment, the MSS is 1448 and
    // the transfer completes without a single retransmission timeout.
    let ok = variant(&s, "icmp-allowed");
    let f = &ok.flows[0];
    assert_eq!(f.bytes_delivered, 4_000_000);
    assert_eq!((f.mss, f.rtos), (Some(1448), 0));
    let mss = events(ok, "mss");
    assert_eq!((mss[0].mss_from, mss[0].mss_to, mss[0].mtu), (Some(8949), Some(1448), Some(1500)));
    let dropped_at = first_data_us(ok).unwrap();
    assert!(mss[0].time_us - dropped_at < 10.0, "MSS lowered {} us after the first drop", mss[0].time_us - dropped_at);
    assert!(ok.ip.icmp_frag_needed_received > 0 && ok.ip.pmtu_learnt == 1);

    // ICMP blocked by the NACL, no probing: nothing beyond the handshake arrives; the RTO backs
    // off exponentially from 200 ms (+ the measured RTT); every ICMP is counted against the rule.
    let bh = variant(&s, "icmp-blocked");
    assert_eq!(bh.flows[0].bytes_delivered, 0);
    assert!(!bh.flows[0].aborted, "tcp_retries2 (~924.6 s) is far beyond the run");
    let rtos = events(bh, "rto");
    let t0 = first_data_us(bh).unwrap();
    // A tail loss probe goes first, two RTTs + TCP_TIMEOUT_MIN_US (2 ms) after the send in whole
    // jiffies (one, 4 ms at HZ=250), on a timer-wheel tick a jiffy later: 4-8 ms after the send;
    // the first RTO is srtt + max(4 rttvar, 200 ms) after the probe, in whole jiffies (204 ms)
    // and a timer-wheel bucket late; each next one waits about twice as long (RFC 6298 5.5).
    let tlp = events(bh, "loss_probe");
    assert_eq!(tlp.len(), 1, "one probe per episode");
    let probe_gap = tlp[0].time_us - t0;
    assert!((4000.0..=8000.0).contains(&probe_gap), "loss probe after {probe_gap} us");
    assert_eq!(tlp[0].time_us % 4000.0, 0.0, "a probe fires on a jiffy's tick: {} us", tlp[0].time_us);
    let mut gap_us = rtos[0].time_us - tlp[0].time_us;
    assert!((204_000.0..=212_000.0).contains(&gap_us), "first RTO {gap_us} us after the probe");
    for w in rtos.windows(2) {
        let next = w[1].time_us - w[0].time_us;
        assert!((1.9..2.2).contains(&(next / gap_us)), "RTO gaps {gap_us} then {next} us");
        gap_us = next;
    }
    assert_eq!(rtos.len(), 5, "RTOs at ~0.22, 0.64, 1.47, 3.14, 6.66 s fit in 12 s, the next (~13.3 s) does not");
    let rule = "network ACL client-acl inbound rule * (no rule allows it)";
    assert_eq!(bh.filter_drops[rule], bh.drops["network_acl"]);
    assert_eq!(bh.drops["network_acl"], bh.drops["fragmentation_needed"], "one ICMP per dropped segment, each refused");

    // tcp_mtu_probing = 1: black-hole detection at the first RTO at which the time since the
    // first retransmission (retrans_stamp, the 1st RTO) reaches tcp_model_timeout(tcp_retries1
    // = 3) = 3 s: not at the 4th RTO (~2.9 s after the 1st), at the 5th (~6.4 s after it).
    let pr = variant(&s, "blocked-probing");
    assert_eq!(pr.flows[0].bytes_delivered, 4_000_000);
    let budget = model_timeout(3, LINUX_RTO_MIN, LINUX_RTO_MAX).as_secs_f64() * 1e6;
    assert_eq!(budget, 3e6);
    let mss = events(pr, "mss");
    let fallback = mss.iter().find(|e| e.detail.as_deref().is_some_and(|d| d.contains("black hole"))).unwrap();
    assert_eq!(fallback.mss_to, Some(1024), "tcp_base_mss");
    let rtos = events(pr, "rto");
    assert_eq!(rtos.len(), 5);
    assert!(rtos[3].time_us - rtos[0].time_us < budget, "the 4th RTO is inside the budget");
    assert!(rtos[4].time_us - rtos[0].time_us >= budget);
    assert_eq!(fallback.time_us, rtos[4].time_us, "detected at the 5th RTO");
    let since_first_send = (fallback.time_us - first_data_us(pr).unwrap()) / 1e6;
    assert!(
        (5.5..7.5).contains(&since_first_send),
        "detected {since_first_send} s after the first send (Linux ~6.5 s)"
    );
    assert!(pr.flows[0].completed_us.unwrap() < fallback.time_us + 100_000.0, "done soon after the fallback");
    // Probes then search upward; every one above 1500 is lost (no ICMP), those below succeed.
    let probes = events(pr, "probe_sent");
    assert!(!probes.is_empty());
    for p in events(pr, "probe_failed") {
        assert!(p.mtu.unwrap() > 1500, "probe of {:?} failed though it fits", p.mtu);
    }
    let final_mss = pr.flows[0].mss.unwrap();
    assert!((1024..=1448).contains(&final_mss), "MSS {final_mss}");

    // MSS clamping: the VPN rewrites the SYN's MSS option to 1460; nothing is ever too big.
    let cl = variant(&s, "mss-clamping");
    assert_eq!(cl.flows[0].bytes_delivered, 4_000_000);
    assert_eq!(cl.flows[0].mss, Some(1448));
    assert!(!cl.drops.contains_key("fragmentation_needed"));
    // The only losses are the 5 Gbps flow limit's (congestion, which may cost a tail RTO with
    // timing noise); nothing is lost for its size.
    assert!(cl.drops.keys().all(|k| *k == "flow_cap_exceeded"), "{:?}", cl.drops);
    assert!(cl.flows[0].rtos <= 1, "{} RTOs", cl.flows[0].rtos);
}

#[test]
fn without_probing_the_black_hole_ends_at_tcp_retries2() {
    // 15 retries: (2^10 - 1) x 200 ms + 6 x 120 s = 924.6 s after the first send.
    let s = run_text(
        "pmtud-blackhole.ron",
        BLACKHOLE,
        &[
            "duration=1000s",
            r#"variants=[{"name": "icmp-blocked", "set": {"network_acls.client-acl.inbound": "[{\"rule\": 100, \"protocol\": \"tcp\", \"ports\": \"1024-65535\", \"action\": \"allow\"}]"}}]"#,
        ],
    );
    let v = &s.variants[0];
    assert!(v.flows[0].aborted);
    let abort = events(v, "aborted")[0].time_us;
    let expected = model_timeout(15, LINUX_RTO_MIN, LINUX_RTO_MAX).as_secs_f64() * 1e6;
    assert_eq!(expected, 924.6e6);
    let t0 = v.events.iter().find(|e| e.event == "drop").unwrap().time_us;
    // Checked at an RTO: the first one at or after 924.6 s (the backoff is capped at 120 s).
    assert!(
        abort - t0 >= expected && abort - t0 < expected + 120e6 + 1e6,
        "aborted {} s after the first send",
        (abort - t0) / 1e6
    );
}

const JUMBO: &str = include_str!("../scenarios/jumbo-frames.ron");

#[test]
fn jumbo_frames_cut_packets_and_header_overhead() {
    let s = run_text("jumbo-frames.ron", JUMBO, &[]);
    let mib = 1u64 << 20;
    let flow = |v: &str, f: &str| variant(&s, v).flows.iter().find(|x| x.name == f).unwrap().clone();
    for (v, mss) in [("vpc-1500", 1448u64), ("vpc-9001", 8949), ("tgw-1500", 1448)] {
        let f = flow(v, "one-mib");
        assert_eq!(f.mss, Some(mss));
        // New segments (retransmissions aside): ceil(1 MiB / MSS); 725 at 1500 and 118 at 9001,
        // next to the ~718 and ~117 of a stack without TCP timestamps (MSS 1460, 8961).
        assert_eq!(f.packets_sent - f.retransmits, mib.div_ceil(mss), "{v}");
        let headers = 52.0 / (mss as f64 + 52.0);
        assert!((f.header_overhead - headers).abs() < 0.002, "{v}: {}", f.header_overhead);
    }
    // Through the transit gateway, a 9001 sender learns the 8500 path MTU from ICMP.
    let t = variant(&s, "tgw-9001");
    assert_eq!(flow("tgw-9001", "large").mss, Some(8500 - 52));
    assert!(t.ip.icmp_frag_needed_received > 0);
    // Seven times fewer packets for the same bytes.
    let (p1500, p9001) = (flow("vpc-1500", "large").packets_sent, flow("vpc-9001", "large").packets_sent);
    assert!(p1500 as f64 / p9001 as f64 > 5.5, "{p1500} vs {p9001}");
    for v in &s.variants {
        assert_conserved(v);
    }
}

const FRAG: &str = r#"
Scenario(
    name: "frag",
    duration: "200ms",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1),
    ip: (ipfrag_time: "20ms"),
    gateways: [(name: "fw", kind: Middlebox, mtu: 1500)],
    paths: [(between: ("a", "b"), via: ["fw"])],
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", enis: [(name: "eth0", mtu: 9001)]),
        (name: "b", instance_type: "c6i.8xlarge", enis: [(name: "eth0", mtu: 9001)]),
    ],
    workloads: [Datagrams((name: "dg", from: "a", to: "b", size: "4000B", mean_interval: "1ms", count: 100))],
)
"#;

#[test]
fn udp_without_df_is_fragmented_by_the_hop_and_reassembled() {
    let s = run_text("frag", FRAG, &[]);
    let v = &s.variants[0];
    assert_conserved(v);
    let d = v.workloads.datagrams.as_ref().unwrap();
    assert!(d.count >= 95, "{} datagrams arrived", d.count);
    // 4028-byte packets cut at 1500: 1480 + 1480 + 1048 data bytes.
    assert_eq!(v.ip.fragments_created, 3 * v.ip.packets_fragmented);
    assert_eq!(v.ip.datagrams_reassembled, d.count);
    assert_eq!(v.ip.fragment_header_bytes, 2 * 20 * v.ip.packets_fragmented);
    assert_eq!(v.packets.fragmented, v.ip.packets_fragmented);

    // Larger than the sender's own MTU: the sender fragments (9001: 20000 + 28 -> 3 fragments).
    let s = run_text("frag", FRAG, &["workloads.dg.size=20000B", r#"paths=[]"#]);
    let v = &s.variants[0];
    assert_eq!(v.ip.fragments_created, 3 * v.ip.packets_fragmented);
    assert_eq!(v.ip.datagrams_reassembled, v.workloads.datagrams.as_ref().unwrap().count);

    // Lose fragments on the way: each incomplete datagram waits ipfrag_time, then its
    // fragments are dropped (counted) and the datagram is lost.
    let s = run_text("frag", FRAG, &["fabric.loss_rate=0.1"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let got = v.workloads.datagrams.as_ref().unwrap().count;
    assert!(v.ip.reassembly_failed > 0 && got < 100);
    assert!(v.drops["reassembly_timeout"] >= v.ip.reassembly_failed);
    assert!(got + v.ip.reassembly_failed <= 100);
    assert!(v.events.iter().any(|e| e.event == "reassembly_failed"));

    // DF set and too big for the hop: dropped there, ICMP to the sender, nothing arrives.
    let s = run_text("frag", FRAG, &["workloads.dg.dont_fragment=true"]);
    let v = &s.variants[0];
    assert_eq!(v.workloads.datagrams.as_ref().unwrap().count, 0);
    assert_eq!(v.drops["fragmentation_needed"], v.ip.icmp_frag_needed_sent);
}

const FILTERS: &str = r#"
Scenario(
    name: "filters",
    duration: "2s",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1),
    subnets: [
        (name: "app", cidr: "10.0.1.0/24", network_acl: "app-acl"),
        (name: "db", cidr: "10.0.2.0/24"),
    ],
    network_acls: [
        (name: "app-acl",
         inbound: [
             (rule: 100, protocol: "tcp", ports: "1024-65535", cidr: "10.0.2.0/24", action: "deny"),
             (rule: 200, protocol: "all", action: "allow"),
         ],
         outbound: [(rule: 100, protocol: "all", action: "allow")]),
    ],
    security_groups: [
        (name: "client-sg"),
        (name: "db-sg", inbound: [(protocol: "tcp", ports: "5201", peer: "client-sg")]),
    ],
    instances: [
        (name: "client", instance_type: "c6i.8xlarge", subnet: "app", enis: [(name: "eth0", security_groups: ["client-sg"])]),
        (name: "db", instance_type: "c6i.8xlarge", subnet: "db", enis: [(name: "eth0", security_groups: ["db-sg"])]),
    ],
    workloads: [Bulk((name: "query", from: "client", to: "db", bytes: "1MB"))],
)
"#;

#[test]
fn network_acls_are_stateless_and_ordered() {
    // Rule 100 denies the return traffic (the db's replies to ephemeral ports) before rule 200
    // can allow it: the SYN gets through, the SYN-ACK does not.
    let s = run_text("filters", FILTERS, &[]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert_eq!(v.flows[0].bytes_delivered, 0);
    assert!(v.filter_drops["network ACL app-acl inbound rule 100 (deny)"] > 0);
    // Renumber the deny after the allow: the first match is now the allow, and it works.
    let s = run_text("filters", FILTERS, &["network_acls.app-acl.inbound.0.rule=300"]);
    assert_eq!(s.variants[0].flows[0].bytes_delivered, 1_000_000);
    // No rule for the ephemeral ports at all: the default `*` refuses the return traffic.
    let s = run_text(
        "filters",
        FILTERS,
        &[r#"network_acls.app-acl.inbound=[{"rule": 100, "protocol": "tcp", "ports": "22", "action": "allow"}]"#],
    );
    assert!(s.variants[0].filter_drops["network ACL app-acl inbound rule * (no rule allows it)"] > 0);
    assert_eq!(s.variants[0].flows[0].bytes_delivered, 0);
}

#[test]
fn security_groups_are_stateful() {
    let fix = ["network_acls.app-acl.inbound.0.rule=300"];
    // client-sg has no inbound rule at all, yet the replies of the connection it opened come
    // back in; db-sg allows port 5201 from members of client-sg.
    let s = run_text("filters", FILTERS, &fix);
    assert_eq!(s.variants[0].flows[0].bytes_delivered, 1_000_000);
    assert!(s.variants[0].filter_drops.is_empty());
    // Without that rule the SYN is refused at the db, counted against its groups.
    let s = run_text("filters", FILTERS, &[fix[0], "security_groups.db-sg.inbound=[]"]);
    let v = &s.variants[0];
    assert_eq!(v.flows[0].bytes_delivered, 0);
    assert!(v.filter_drops["security groups of db (db-sg) inbound: no rule allows it"] > 0);
    assert_eq!(v.drops["security_group"], v.filter_drops.values().sum::<u64>());
    // An outbound rule list that does not include the db: refused as it leaves the client.
    let s = run_text(
        "filters",
        FILTERS,
        &[fix[0], r#"security_groups.client-sg.outbound=[{"protocol": "udp", "peer": "0.0.0.0/0"}]"#],
    );
    assert!(s.variants[0].filter_drops["security groups of client (client-sg) outbound: no rule allows it"] > 0);
}

#[test]
fn scenario_mistakes_in_the_ip_layer_are_errors_with_positions() {
    let err = |text: &str, sets: &[&str]| load_error("f.ron", text, sets);
    // MTUs outside IPv4 / EC2, and above what a gateway carries.
    let e = err(FILTERS, &["instances.client.enis.eth0.mtu=9216"]);
    // The file is fine; the override made it wrong, so the error names the override (issue 15).
    assert!(e.contains("576 ..= 9001") && e.contains("--> --set") && !e.contains("f.ron:"), "{e}");
    let e = err(BLACKHOLE, &["gateways.vpn.mtu=9001"]);
    assert!(e.contains("VPN connection carries at most 1500"), "{e}");
    // A rule naming an unknown group, and an unknown ACL.
    let e = err(FILTERS, &[r#"security_groups.db-sg.inbound=[{"protocol": "tcp", "peer": "clinet-sg"}]"#]);
    assert!(e.contains("neither a CIDR block nor a security group") && e.contains("client-sg"), "{e}");
    let e = err(FILTERS, &["subnets.app.network_acl=app-acll"]);
    assert!(e.contains("unknown network ACL") && e.contains("did you mean"), "{e}");
    // Two rules with one number.
    let text = FILTERS.replace("(rule: 200, protocol: \"all\"", "(rule: 100, protocol: \"all\"");
    let e = err(&text, &[]);
    assert!(e.contains("two inbound rules numbered 100") && e.contains("f.ron:"), "{e}");
    // The position points at the offending text.
    let e = err(&FILTERS.replace(r#"(name: "db", cidr: "10.0.2.0/24")"#, r#"(name: "db", cidr: "10.0.2.7/24")"#), &[]);
    assert!(e.contains("host bits") && e.contains("10.0.2.0/24"), "{e}");
}

#[test]
fn check_names_the_path_mtu_and_the_rule_behind_a_black_hole() {
    use nitrosim::scenario;
    let v = scenario::load("pmtud-blackhole.ron", BLACKHOLE, &[], None).unwrap();
    let text = |name: &str| {
        let v = v.iter().find(|x| x.name == name).unwrap();
        scenario::validate::describe(&v.name, &v.spec)
    };
    let ok = text("icmp-allowed");
    assert!(ok.contains("path MTU 1500 (set by VPN connection vpn)") && !ok.contains("black hole"), "{ok}");
    let bh = text("icmp-blocked");
    assert!(bh.contains("PMTUD black hole") && bh.contains("network ACL client-acl inbound rule *"), "{bh}");
    assert!(!text("mss-clamping").contains("black hole"));
}

#[test]
fn a_learnt_path_mtu_serves_later_connections_until_it_expires() {
    // A second connection to the same server, 100 ms later, starts below the path MTU: the
    // host's cache remembers 1500 for 10 minutes (net.ipv4.route.mtu_expires).
    let second = r#"workloads=[{"Bulk": {"name": "first", "from": "client", "to": "server", "bytes": "1MB"}}, {"Bulk": {"name": "second", "from": "client", "to": "server", "bytes": "1MB", "start": "100ms"}}]"#;
    let only_allowed = r#"variants=[{"name": "icmp-allowed"}]"#;
    // The scenario's ladder diagram names the workload replaced here.
    let no_ladder = "report.ladder=None";
    let s = run_text("pmtud-blackhole.ron", BLACKHOLE, &[second, no_ladder, only_allowed]);
    let v = &s.variants[0];
    let first_drops = v.events.iter().filter(|e| e.event == "drop" && e.flow.as_deref() == Some("first")).count();
    // The first window: 10 segments of cwnd, but the SYN-ACK offers 62643 B (tcp_rmem[1]'s
    // share, at most 65535, in whole 8949 B segments): 7 segments, as Linux sends.
    assert_eq!(first_drops, 7, "the first window of the first connection");
    assert!(v.events.iter().all(|e| e.flow.as_deref() != Some("second") || e.event != "drop"));
    assert_eq!(v.flows[1].mss, Some(1448));
    assert_eq!(v.ip.pmtu_learnt, 1);
    // With the entry expiring after 50 ms, the second connection discovers the MTU again.
    let s = run_text("pmtud-blackhole.ron", BLACKHOLE, &[second, no_ladder, only_allowed, "ip.pmtu_expires=50ms"]);
    let v = &s.variants[0];
    assert!(v.events.iter().any(|e| e.event == "drop" && e.flow.as_deref() == Some("second")));
    assert_eq!(v.ip.pmtu_learnt, 2);
}

#[test]
fn rule_changes_during_a_run_follow_stateless_and_stateful_semantics() {
    let fix = "network_acls.app-acl.inbound.0.rule=300";
    // The ACL gains a deny for the return traffic at 10 ms: stateless, the live connection is cut
    // at once (the 1 MB transfer, started at 0, would otherwise finish).
    let acl = r#"actions=[{"at": "10ms", "action": {"SetNetworkAcl": {"acl": "app-acl", "inbound": [{"rule": 100, "protocol": "tcp", "ports": "1024-65535", "cidr": "10.0.2.0/24", "action": "deny"}, {"rule": 200, "protocol": "all", "action": "allow"}], "outbound": [{"rule": 100, "protocol": "all", "action": "allow"}]}}}]"#;
    let big = "workloads.query.bytes=100MB";
    let s = run_text("filters", FILTERS, &[fix, big, acl]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert!(v.flows[0].bytes_delivered > 0 && v.flows[0].bytes_delivered < 100_000_000);
    assert!(v.filter_drops["network ACL app-acl inbound rule 100 (deny)"] > 0);
    // The db's group loses its only inbound rule at 10 ms: stateful, the tracked connection
    // carries on to the end.
    let sg = r#"actions=[{"at": "10ms", "action": {"SetSecurityGroup": {"group": "db-sg", "inbound": []}}}]"#;
    let s = run_text("filters", FILTERS, &[fix, big, sg]);
    assert_eq!(s.variants[0].flows[0].bytes_delivered, 100_000_000);
    // A bad rule in an action is an error like any other.
    let bad = r#"actions=[{"at": "10ms", "action": {"SetNetworkAcl": {"acl": "app-acl", "inbound": [{"rule": 100, "protocol": "tcp", "cidr": "10.0.2.7/24", "action": "allow"}]}}}]"#;
    let e = load_error("f.ron", FILTERS, &[fix, bad]);
    assert!(e.contains("host bits"), "{e}");
}
