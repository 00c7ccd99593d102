//! Adapter generations and the allowances beyond bandwidth (issue #7, first part): network I/O
//! credits of burstable types, packets-per-second and connection-tracking allowances, and the
//! bandwidth rule for traffic leaving the VPC.

mod common;
use common::*;

const BURST: &str = include_str!("../scenarios/burst-credits.ron");

/// When the aggregate rate falls for good: the first bin after the burst from which the next
/// 20 ms average below the midpoint of burst and baseline (single bins dip in loss recovery, and
/// after exhaustion refilled credits allow short bursts).
fn exhausted_at(v: &nitrosim::model::VariantResult, mid_gbps: f64) -> f64 {
    let n = v.series[0].1.len();
    let total: Vec<f64> = (0..n).map(|i| bin_total(v, i)).collect();
    let window = (20_000.0 / v.bin_us) as usize;
    let first_high = total.iter().position(|&g| g > mid_gbps).unwrap();
    let out = (first_high..n - window)
        .find(|&i| total[i] < mid_gbps && total[i..i + window].iter().sum::<f64>() / (window as f64) < mid_gbps)
        .expect("the credits run out within the run");
    out as f64 * v.bin_us / 1e6
}

#[test]
fn credits_run_out_when_the_bucket_says() {
    // m5.large: burst 10 Gbps, baseline 750 Mbps. The instance's own shaper holds it at the burst
    // rate from its first millisecond, so a balance worth D at the burst rate drains at
    // (burst - baseline) and lasts D: 400 ms here, 200 ms with half the balance.
    let (burst, baseline) = (10.0, 0.75);
    let mid = (burst + baseline) / 2.0;
    for d in [0.4, 0.2] {
        let s = run_text(
            "burst-credits.ron",
            BURST,
            &[&format!("instances.small.network_credit_duration={}ms", d * 1000.0)],
        );
        let v = &s.variants[0];
        assert_conserved(v);
        let observed = exhausted_at(v, mid);
        // Within 4%: CUBIC under the shaper dips in loss recovery, and a dip a few milliseconds
        // before the credits end can open the 20 ms window that finds their end.
        assert!((observed - d).abs() / d < 0.04, "credits for {d} s ran out at {observed} s");
        // Then the instance is held to its baseline; the excess is dropped and counted.
        let n = v.series[0].1.len();
        let tail = (n * 9 / 10)..n;
        let after: f64 = tail.clone().map(|i| bin_total(v, i)).sum::<f64>() / tail.len() as f64;
        assert!((after - baseline).abs() / baseline < 0.05, "after: {after} Gbps");
        // ENA counts packets queued or dropped: the drops are a part of it.
        let c = &v.counters["small"];
        assert_eq!(c.bw_out_allowance_dropped, v.drops["bw_out_allowance_exceeded"]);
        assert!(c.bw_out_allowance_exceeded > c.bw_out_allowance_dropped);
    }
}

const ADAPTERS: &str = include_str!("../scenarios/enhanced-networking.ron");

#[test]
fn adapter_generations_differ_as_the_explainer_says() {
    let s = run_text("enhanced-networking.ron", ADAPTERS, &[]);
    let (vif, ixgbevf, ena) = (variant(&s, "vif"), variant(&s, "ixgbevf"), variant(&s, "ena"));
    for v in [vif, ixgbevf, ena] {
        assert_conserved(v);
    }
    assert_eq!(
        (vif.counters["a"].driver, ixgbevf.counters["a"].driver, ena.counters["a"].driver),
        ("vif", "ixgbevf", "ena")
    );
    let bulk = |v: &nitrosim::model::VariantResult| -> f64 {
        v.flows.iter().filter(|f| f.workload == "bulk").map(|f| f.wire_gbps).sum()
    };
    // ENA: the type's 25 Gbps; the 82599 VF: its 10 Gbps; vif: the hypervisor's packet rate
    // (5 us per packet: 200 000 packets/s of 1500 bytes is 2.4 Gbps, ACKs share the path back).
    assert!((bulk(ena) - 25.0).abs() < 1.0, "ENA {}", bulk(ena));
    assert!((bulk(ixgbevf) - 10.0).abs() < 0.6, "ixgbevf {}", bulk(ixgbevf));
    assert!(bulk(vif) <= 2.41, "vif {}", bulk(vif));
    // Latency: every packet crosses the hypervisor twice more on vif (15 us each).
    let p50 = |v: &nitrosim::model::VariantResult| v.workloads.rpc.as_ref().unwrap().latency_us.p50;
    assert!(p50(vif) - p50(ena) > 60.0, "vif {} vs ENA {}", p50(vif), p50(ena));
    assert!((p50(ixgbevf) - p50(ena)).abs() < 2.0);
}

const PAIR: &str = r#"
Scenario(
    name: "pair",
    duration: "100ms",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    security_groups: [(name: "sg", inbound: [(protocol: "all", peer: "sg")])],
    gateways: [(name: "igw", kind: InternetGateway)],
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", enis: [(name: "eth0", mtu: 1500, security_groups: ["sg"])]),
        (name: "b", instance_type: "m5.24xlarge", enis: [(name: "eth0", mtu: 1500, security_groups: ["sg"])]),
    ],
    workloads: [Bulk((name: "bulk", from: "a", to: "b", flows: 8))],
)
"#;

#[test]
fn leaving_the_vpc_gets_half_the_bandwidth_or_5_gbps() {
    let via_igw = r#"paths=[{"between": ["a", "b"], "via": ["igw"]}]"#;
    let wire = |sets: &[&str]| wire_total(&run_text("pair", PAIR, sets).variants[0]);
    // c6i.8xlarge: 32 vCPUs, 12.5 Gbps: half of it through the internet gateway.
    assert!((wire(&[]) - 12.5).abs() < 0.5);
    assert!((wire(&[via_igw]) - 6.25).abs() < 0.3, "{}", wire(&[via_igw]));
    // Fewer than 32 vCPUs: 5 Gbps (m5.xlarge's burst is 10 Gbps).
    let small = "instances.a.instance_type=m5.xlarge";
    assert!((wire(&[via_igw, small]) - 5.0).abs() < 0.3, "{}", wire(&[via_igw, small]));
}

#[test]
fn pps_and_conntrack_allowances_drop_and_count() {
    // 100 000 packets/s in and out together: data one way, ACKs the other. HyStart off
    // (tcp.hystart = false): slow start runs on until it overflows the allowance's queue, so
    // the drops show; with it on, the flows settle below the overflow in this 100 ms run.
    let s = run_text("pair", PAIR, &["instances.a.pps_allowance=100000", "tcp.hystart=false"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let c = &v.counters["a"];
    assert!(c.pps_allowance_exceeded > 0);
    assert_eq!(c.pps_allowance_dropped, v.drops["pps_allowance_exceeded"]);
    assert!(c.pps_allowance_exceeded >= c.pps_allowance_dropped);
    // Delivered data packets (1448 bytes each) plus their ACKs stay within the allowance.
    let data_pps: f64 = v.flows.iter().map(|f| f.bytes_delivered as f64 / 1448.0).sum::<f64>() / 0.1;
    assert!(data_pps < 100_000.0 && data_pps > 50_000.0, "{data_pps} data packets/s");
    // Two tracked connections allowed on a; the other six fail to open.
    let s = run_text("pair", PAIR, &["instances.a.conntrack_allowance=2"]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert_eq!(v.flows.iter().filter(|f| f.bytes_delivered > 0).count(), 2);
    assert_eq!(v.counters["a"].conntrack_allowance_exceeded, v.drops["conntrack_allowance_exceeded"]);
    assert!(v.filter_drops["connection tracking of a full (2 connections)"] > 0);
    assert_eq!(v.counters["a"].conntrack_allowance_available, Some(0));
    assert_eq!(v.counters["a"].conntrack_allowance_available_min, Some(0));
    // Untracked (no security groups): no limit applies.
    let no_groups = ["instances.a.enis.eth0.security_groups=[]", "instances.b.enis.eth0.security_groups=[]"];
    let s = run_text("pair", PAIR, &["instances.a.conntrack_allowance=2", no_groups[0], no_groups[1]]);
    assert_eq!(s.variants[0].flows.iter().filter(|f| f.bytes_delivered > 0).count(), 8);
}

#[test]
fn adapter_and_allowance_mistakes_are_errors() {
    let err = |sets: &[&str]| load_error("p.ron", PAIR, sets);
    let e = err(&[
        "instances.a.adapter=vif",
        "instances.a.instance_type=c6in.16xlarge",
        "instances.a.enis.eth0.ena_srd_enabled=true",
    ]);
    assert!(e.contains("needs ENA, but the adapter is vif"), "{e}");
    let e = err(&["instances.a.adapter=e1000"]);
    assert!(e.contains("unknown adapter"), "{e}");
    let e = err(&["instances.a.network_credit_duration=1s"]);
    assert!(e.contains("c6i.8xlarge has no burst bandwidth"), "{e}");
    let e = err(&["instances.a.pps_allowance=10"]);
    assert!(e.contains("1000 ..= 1000000000"), "{e}");
}

#[test]
fn link_local_queries_beyond_1024_per_second_drop() {
    let dns = |interval: &str| {
        format!(
            r#"workloads=[{{"LinkLocal": {{"name": "dns", "from": "a", "service": "Dns", "mean_interval": "{interval}"}}}}]"#
        )
    };
    // 2000 queries/s offered: the ENI passes 1024 a second, the rest is dropped and counted.
    let s = run_text("pair", PAIR, &["duration=1s", &dns("500us")]);
    let v = &s.variants[0];
    assert_conserved(v);
    let got = v.workloads.datagrams.as_ref().unwrap().count as f64;
    assert!((got - 1024.0).abs() < 1024.0 * 0.03, "{got} queries answered in 1 s");
    let c = &v.counters["a"];
    assert!(c.linklocal_allowance_exceeded > 800);
    assert_eq!(c.linklocal_allowance_exceeded, v.drops["linklocal_allowance_exceeded"]);
    // 500 queries/s: all through.
    let s = run_text("pair", PAIR, &["duration=1s", &dns("2ms")]);
    assert!(!s.variants[0].drops.contains_key("linklocal_allowance_exceeded"));
}

#[test]
fn allowance_counters_count_packets_queued_as_well_as_dropped() {
    // AWS: bw_out_allowance_exceeded counts packets "queued or dropped". Eight flows offer far more
    // than c6i.8xlarge's 12.5 Gbps; with a shaper queue deep enough to hold every window nothing is
    // dropped, yet the counter rises for each packet that waited.
    let s = run_text("pair", PAIR, &["nitro.instance_buffer=256MiB", "duration=30ms"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let c = &v.counters["a"];
    assert_eq!(c.bw_out_allowance_dropped, 0);
    assert!(!v.drops.contains_key("bw_out_allowance_exceeded"));
    let over = c.bw_out_allowance_exceeded;
    assert!(over > c.tx_pkts / 2, "{over} of {} packets", c.tx_pkts);
    // Below the allowance (one 5 Gbps flow into 12.5 Gbps) only the per-flow shaper's bursts,
    // briefly faster than the allowance, wait: a few packets in a thousand.
    let s = run_text("pair", PAIR, &["workloads.bulk.flows=1", "duration=30ms"]);
    let c = &s.variants[0].counters["a"];
    assert_eq!(c.bw_out_allowance_dropped, 0);
    assert!(c.bw_out_allowance_exceeded * 100 < c.tx_pkts, "{} of {}", c.bw_out_allowance_exceeded, c.tx_pkts);
}

#[test]
fn allowance_waits_before_an_instance_fails_still_count() {
    // The waits counted until `a` fails at 20 ms stay counted though its allowances are down
    // (dropping with another reason) when the run ends: at least what a run stopped at 20 ms has.
    let until = run_text("pair", PAIR, &["nitro.instance_buffer=256MiB", "duration=20ms"]);
    let fail = r#"actions=[{"at": "20ms", "action": {"FailInstance": {"instance": "a"}}}]"#;
    let failed = run_text("pair", PAIR, &["nitro.instance_buffer=256MiB", "duration=30ms", fail]);
    let (before, after) = (&until.variants[0].counters["a"], &failed.variants[0].counters["a"]);
    assert!(before.bw_out_allowance_exceeded > 1000, "{} waits in 20 ms", before.bw_out_allowance_exceeded);
    assert!(
        after.bw_out_allowance_exceeded >= before.bw_out_allowance_exceeded,
        "{} counted with the failure, {} until it",
        after.bw_out_allowance_exceeded,
        before.bw_out_allowance_exceeded
    );
}

/// `a` has two ENIs in different groups; `b` lets in what either sends. The allowances are a's
/// (c6i.8xlarge: 12.5 Gbps); ENA reports its counters on each interface.
const TWO_ENIS: &str = r#"
Scenario(
    name: "two-enis",
    duration: "30ms",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    security_groups: [
        (name: "sg-eth0", inbound: []),
        (name: "sg-eth1", inbound: []),
        (name: "sg-b", inbound: [(protocol: "all", peer: "sg-eth0"), (protocol: "all", peer: "sg-eth1")]),
    ],
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", enis: [
            (name: "eth0", mtu: 1500, security_groups: ["sg-eth0"]),
            (name: "eth1", mtu: 1500, security_groups: ["sg-eth1"]),
        ]),
        (name: "b", instance_type: "m5.24xlarge", enis: [(name: "eth0", mtu: 1500, security_groups: ["sg-b"])]),
    ],
    workloads: [Bulk((name: "bulk", from: "a", to: "b", flows: 8, from_eni: "eth1"))],
)
"#;

fn eni<'a>(v: &'a nitrosim::model::VariantResult, inst: &str, eni: &str) -> &'a nitrosim::model::EniCounters {
    &v.counters[inst].enis[eni]
}

#[test]
fn allowance_counters_count_on_the_eni_whose_packets_queued_or_dropped() {
    // Eight flows over eth1 offer far more than the instance's 12.5 Gbps. With a shaper queue
    // deep enough for every window nothing is dropped: eth1 counts the packets that waited,
    // eth0 (idle) counts nothing.
    let s = run_text("two-enis", TWO_ENIS, &["nitro.instance_buffer=256MiB"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let (eth0, eth1) = (eni(v, "a", "eth0"), eni(v, "a", "eth1"));
    assert_eq!(eth1.bw_out_allowance_dropped, 0);
    assert!(eth1.bw_out_allowance_exceeded > v.counters["a"].tx_pkts / 2, "{eth1:?}");
    assert_eq!((eth0.bw_out_allowance_exceeded, eth0.bw_out_allowance_dropped), (0, 0));
    // The instance's own field is the sum over its interfaces.
    assert_eq!(v.counters["a"].bw_out_allowance_exceeded, eth1.bw_out_allowance_exceeded);
    // The default queue overflows: the drops are counted on eth1 too, as a part of "queued or
    // dropped".
    let s = run_text("two-enis", TWO_ENIS, &["tcp.hystart=false"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let (eth0, eth1) = (eni(v, "a", "eth0"), eni(v, "a", "eth1"));
    assert_eq!(eth1.bw_out_allowance_dropped, v.drops["bw_out_allowance_exceeded"]);
    assert!(eth1.bw_out_allowance_exceeded > eth1.bw_out_allowance_dropped);
    assert_eq!(eth0.bw_out_allowance_exceeded, 0);
    // Over the primary ENI (the default) the same traffic counts on eth0 instead.
    let s = run_text("two-enis", TWO_ENIS, &["nitro.instance_buffer=256MiB", "workloads.bulk.from_eni=eth0"]);
    let v = &s.variants[0];
    assert!(eni(v, "a", "eth0").bw_out_allowance_exceeded > 0);
    assert_eq!(eni(v, "a", "eth1").bw_out_allowance_exceeded, 0);
}

#[test]
fn the_allowance_is_the_instances_so_a_quiet_eni_queues_behind_a_busy_one() {
    // One RPC connection over eth0 beside the bulk over eth1: its packets wait in the same
    // instance shaper, and are counted on eth0 (AWS: the maximums are per instance; the
    // counters per interface).
    let rpc = r#"workloads=[{"Bulk": {"name": "bulk", "from": "a", "to": "b", "flows": 8, "from_eni": "eth1"}},
        {"Rpc": {"name": "rpc", "client": "a", "server": "b", "arrival": {"Poisson": {"mean_interval": "100us"}},
                 "request": {"Fixed": "1KiB"}, "response": {"Fixed": "100B"}}}]"#;
    let s = run_text("two-enis", TWO_ENIS, &["nitro.instance_buffer=256MiB", rpc]);
    let v = &s.variants[0];
    assert_conserved(v);
    let (eth0, eth1) = (eni(v, "a", "eth0"), eni(v, "a", "eth1"));
    assert!(eth0.bw_out_allowance_exceeded > 0, "{eth0:?}");
    assert!(eth1.bw_out_allowance_exceeded > 10 * eth0.bw_out_allowance_exceeded, "{eth0:?} {eth1:?}");
    // Alone, the same RPCs stay far below the allowance: (almost) nothing waits.
    let alone =
        rpc.replace(r#"{"Bulk": {"name": "bulk", "from": "a", "to": "b", "flows": 8, "from_eni": "eth1"}},"#, "");
    let s = run_text("two-enis", TWO_ENIS, &["nitro.instance_buffer=256MiB", &alone]);
    let quiet = eni(&s.variants[0], "a", "eth0").bw_out_allowance_exceeded;
    assert!(
        quiet * 20 < eth0.bw_out_allowance_exceeded,
        "alone {quiet}, beside the bulk {}",
        eth0.bw_out_allowance_exceeded
    );
}

#[test]
fn each_eni_has_its_own_link_local_allowance() {
    // 800 queries/s on each ENI: within each interface's 1024/s; both through one ENI, 1600/s,
    // beyond it, and that ENI alone counts the drops.
    let dns = |eni0: &str, eni1: &str| {
        format!(
            r#"workloads=[{{"LinkLocal": {{"name": "dns0", "from": "a", "service": "Dns", "mean_interval": "1250us", "eni": "{eni0}"}}}},
                {{"LinkLocal": {{"name": "dns1", "from": "a", "service": "Dns", "mean_interval": "1250us", "eni": "{eni1}"}}}}]"#
        )
    };
    let s = run_text("two-enis", TWO_ENIS, &["duration=1s", &dns("eth0", "eth1")]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert!(!v.drops.contains_key("linklocal_allowance_exceeded"), "{:?}", v.drops);
    let s = run_text("two-enis", TWO_ENIS, &["duration=1s", &dns("eth1", "eth1")]);
    let v = &s.variants[0];
    assert_conserved(v);
    let dropped = v.drops["linklocal_allowance_exceeded"];
    assert!(dropped > 300, "{dropped}");
    assert_eq!(eni(v, "a", "eth1").linklocal_allowance_exceeded, dropped);
    assert_eq!(eni(v, "a", "eth0").linklocal_allowance_exceeded, 0);
}

#[test]
fn a_connection_meets_the_security_groups_of_the_eni_it_uses() {
    // b lets in only eth0's group: the flows over eth1 are refused at b.
    let only_eth0 = r#"security_groups=[{"name": "sg-eth0", "inbound": []}, {"name": "sg-eth1", "inbound": []},
        {"name": "sg-b", "inbound": [{"protocol": "all", "peer": "sg-eth0"}]}]"#;
    let s = run_text("two-enis", TWO_ENIS, &[only_eth0]);
    let v = &s.variants[0];
    assert!(v.flows.iter().all(|f| f.bytes_delivered == 0));
    assert!(v.drops["security_group"] > 0);
    let s = run_text("two-enis", TWO_ENIS, &[only_eth0, "workloads.bulk.from_eni=eth0"]);
    let v = &s.variants[0];
    assert!(v.flows.iter().all(|f| f.bytes_delivered > 0));
    assert!(!v.drops.contains_key("security_group"));
}

#[test]
fn conntrack_drops_count_on_the_eni_and_availability_is_the_instances() {
    // a may track two connections; eight flows over eth1: six fail, counted on eth1; both
    // interfaces report the instance's availability (0).
    let s = run_text("two-enis", TWO_ENIS, &["instances.a.conntrack_allowance=2"]);
    let v = &s.variants[0];
    assert_conserved(v);
    assert_eq!(v.flows.iter().filter(|f| f.bytes_delivered > 0).count(), 2);
    let (eth0, eth1) = (eni(v, "a", "eth0"), eni(v, "a", "eth1"));
    assert_eq!(eth1.conntrack_allowance_exceeded, v.drops["conntrack_allowance_exceeded"]);
    assert_eq!(eth0.conntrack_allowance_exceeded, 0);
    assert_eq!((eth0.conntrack_allowance_available, eth1.conntrack_allowance_available), (Some(0), Some(0)));
}

#[test]
fn choosing_an_eni_the_instance_lacks_is_an_error() {
    let e = load_error("two-enis.ron", TWO_ENIS, &["workloads.bulk.to_eni=eth1"]);
    assert!(e.contains("instance \"b\" has no ENI \"eth1\""), "{e}");
    assert!(e.contains("\"eth0\""), "{e}");
    let e = load_error("two-enis.ron", &TWO_ENIS.replace(r#"from_eni: "eth1""#, r#"from_eni: "eht1""#), &[]);
    assert!(e.contains("two-enis.ron:18:"), "{e}");
    assert!(e.contains("did you mean \"eth1\""), "{e}");
}

const TWO_CARDS: &str = include_str!("../validation/scenarios/catalog-bandwidth.ron");

#[test]
fn an_enis_network_card_carries_its_share_of_the_bandwidth() {
    // c6in.32xlarge: 200 Gbps over two network cards. Flows over ENIs on both cards reach it;
    // the same flows all over the primary ENIs get card 0's share, and each ENI counts the
    // packets its card's shaper queued.
    let s = run_text("catalog-bandwidth.ron", TWO_CARDS, &[]);
    let (two, one) = (variant(&s, "two-cards"), variant(&s, "one-card"));
    for v in [two, one] {
        assert_conserved(v);
    }
    assert!((wire_total(two) - 200.0).abs() < 6.0, "{}", wire_total(two));
    assert!((wire_total(one) - 100.0).abs() < 3.0, "{}", wire_total(one));
    assert!(eni(two, "a", "eth1").bw_out_allowance_exceeded > 0);
    assert_eq!(eni(one, "a", "eth1").bw_out_allowance_exceeded, 0);
}
