//! ENA Express and SRD as a user meets them: 25 Gbps single flows, the tail-latency comparison
//! of the flagship scenario, the silent fallbacks and the counters that reveal them.

mod common;
use common::*;
use nitrosim::scenario::BUNDLED;

const PAIR: &str = r#"
Scenario(
    name: "pair",
    duration: "20ms",
    fabric: (racks: 4, hosts_per_rack: 4, spines: 8, host_link: "100Gbps"),
    instances: [
        (name: "a", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true, ena_srd_udp_enabled: true)]),
        (name: "b", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true, ena_srd_udp_enabled: true)]),
    ],
    workloads: [Bulk((name: "bulk", from: "a", to: "b"))],
)
"#;

fn set_eni(inst: &str, mtu: u32, srd: bool, udp: bool) -> String {
    format!(
        r#"instances.{inst}.enis=[{{"name": "eth0", "mtu": {mtu}, "ena_srd_enabled": {srd}, "ena_srd_udp_enabled": {udp}}}]"#
    )
}

#[test]
fn a_single_flow_reaches_25_gbps_with_ena_express_and_5_without() {
    let x = run_text("pair", PAIR, &[]);
    let v = &x.variants[0];
    assert!((v.flows[0].wire_gbps / 25.0 - 1.0).abs() <= 0.05, "ENA Express single flow {} Gbps", v.flows[0].wire_gbps);
    let srd = v.srd.as_ref().expect("SRD ran");
    assert!(srd.spines_used > 1, "sprayed over {} spines", srd.spines_used);
    assert!(srd.reorder_max_occupancy <= srd.reorder_capacity_packets);
    let c = &v.counters["a"];
    assert_eq!(c.ena_srd_mode, 3);
    assert!(c.ena_srd_tx_pkts > 0 && c.ena_srd_tx_pkts == c.ena_srd_eligible_tx_pkts);
    assert!(v.counters["b"].ena_srd_rx_pkts > 0);
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);

    let plain = run_text("pair", PAIR, &[&set_eni("a", 8900, false, false), &set_eni("b", 8900, false, false)]);
    let p = &plain.variants[0];
    assert!((p.flows[0].wire_gbps / 5.0 - 1.0).abs() <= 0.03, "plain ENA {} Gbps", p.flows[0].wire_gbps);
    assert!(p.srd.is_none());
}

#[test]
fn silent_fallbacks_show_only_in_the_counters() {
    // One end disabled: not even eligible; plain ENA at 5 Gbps, no SRD at all.
    let one_end = run_text("pair", PAIR, &[&set_eni("b", 8900, false, false)]);
    let v = &one_end.variants[0];
    assert_eq!(v.counters["a"].ena_srd_eligible_tx_pkts, 0);
    assert!(v.srd.is_none() && v.flows[0].wire_gbps < 5.5);

    // Different Availability Zones of one Region: ENA Express engages (the current user guide),
    // over the cross-AZ path and its latency...
    let az = run_text("pair", PAIR, &["instances.b.availability_zone=use1-az2"]);
    let v = &az.variants[0];
    let c = &v.counters["a"];
    assert!(c.ena_srd_tx_pkts > 0 && c.ena_srd_tx_pkts == c.ena_srd_eligible_tx_pkts, "{c:?}");
    assert!(v.srd.is_some());
    // ...except in the Regions the guide excepts (São Paulo, Bahrain, UAE): plain ENA, silently.
    let sao_paulo = ["instances.a.availability_zone=sae1-az1", "instances.b.availability_zone=sae1-az2"];
    let v = &run_text("pair", PAIR, &sao_paulo).variants[0];
    assert_eq!(v.counters["a"].ena_srd_eligible_tx_pkts, 0);
    assert!(v.srd.is_none() && v.flows[0].wire_gbps < 5.5);
    // Within one AZ there it engages; between Regions never.
    let v =
        &run_text("pair", PAIR, &["instances.a.availability_zone=sae1-az1", "instances.b.availability_zone=sae1-az1"])
            .variants[0];
    assert!(v.srd.is_some());
    let v = &run_text("pair", PAIR, &["instances.b.availability_zone=usw2-az1"]).variants[0];
    assert!(v.srd.is_none());

    // MTU 9001: eligible, but every full-size packet is over 8900 B and goes over ENA.
    let big = run_text("pair", PAIR, &[&set_eni("a", 9001, true, false), &set_eni("b", 9001, true, false)]);
    let v = &big.variants[0];
    let c = &v.counters["a"];
    assert!(c.ena_srd_eligible_tx_pkts > 100 * c.ena_srd_tx_pkts.max(1), "{c:?}");
    assert!(v.warnings.iter().any(|w| w.contains("fell back to plain ENA")), "{:?}", v.warnings);
    assert!(v.flows[0].wire_gbps < 5.5);

    // UDP without ena_srd_udp_enabled: eligible, never SRD. With it: SRD.
    let udp_text = PAIR.replace(
        r#"Bulk((name: "bulk", from: "a", to: "b"))"#,
        r#"Datagrams((name: "dg", from: "a", to: "b", size: "1000B", mean_interval: "10us"))"#,
    );
    let off = run_text("pair", &udp_text, &[&set_eni("a", 8900, true, false), &set_eni("b", 8900, true, false)]);
    let c = &off.variants[0].counters["a"];
    assert!(c.ena_srd_eligible_tx_pkts > 1000 && c.ena_srd_tx_pkts == 0, "{c:?}");
    assert!(!off.variants[0].warnings.is_empty());
    let on = run_text("pair", &udp_text, &[]);
    let c = &on.variants[0].counters["a"];
    assert!(c.ena_srd_tx_pkts > 1000 && c.ena_srd_tx_pkts == c.ena_srd_eligible_tx_pkts, "{c:?}");
}

#[test]
fn check_explains_each_fallback() {
    use nitrosim::scenario::{self, validate::describe};
    let explain = |sets: &[String]| {
        let v = scenario::load("pair", PAIR, sets, None).unwrap();
        describe(&v[0].name, &v[0].spec)
    };
    assert!(explain(&[]).contains("ENA Express engages"));
    assert!(explain(&[set_eni("b", 8900, false, false)]).contains("not enabled on the receiving ENI"));
    let cross_az = explain(&["instances.a.availability_zone=use1-az2".into()]);
    assert!(cross_az.contains("ENA Express engages") && cross_az.contains("crosses availability zones"), "{cross_az}");
    let sao_paulo =
        explain(&["instances.a.availability_zone=sae1-az1".into(), "instances.b.availability_zone=sae1-az2".into()]);
    assert!(sao_paulo.contains("does not cross AZs in their Region"), "{sao_paulo}");
    assert!(explain(&["instances.a.availability_zone=usw2-az1".into()]).contains("different Regions"));
    let mtu = explain(&[set_eni("a", 9001, true, false), set_eni("b", 9001, true, false)]);
    assert!(mtu.contains("packets over 8900 B fall back"), "{mtu}");
    let udp_text = PAIR.replace(
        r#"Bulk((name: "bulk", from: "a", to: "b"))"#,
        r#"Datagrams((name: "dg", from: "a", to: "b", size: "1000B", mean_interval: "10us"))"#,
    );
    let v = scenario::load("pair", &udp_text, &[set_eni("a", 8900, true, false)], None).unwrap();
    assert!(describe(&v[0].name, &v[0].spec).contains("ena_srd_udp_enabled is off on the sending ENI"));
}

#[test]
fn flagship_ena_express_cuts_the_tail_and_costs_a_little_when_idle() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "ena-vs-express.ron").unwrap().1;
    let s = run_text("ena-vs-express.ron", text, &[]);
    let lat = |name: &str| variant(&s, name).workloads.rpc.as_ref().unwrap().latency_us.clone();
    // AWS: "up to" -50% at P99 and -85% at P99.9. Since the host TCP leaves slow start by
    // HyStart and its receive buffer grows at Linux 6.18's pace from 128 KiB (issue 12), plain
    // ENA loses far fewer packets in this fabric and the cuts are smaller than AWS's best case. The tail of one seed's ~15,000
    // RPCs is a handful of samples: the ENA Express / ENA ratio at P99.9 ranges 0.44-0.98 over
    // seeds 1-14 (issue 17), so the claim is checked on the mean ratio of three seeds.
    let mut ratios = [0.0f64; 2];
    for seed in ["11", "12", "13"] {
        let run =
            if seed == "11" { None } else { Some(run_text("ena-vs-express.ron", text, &[&format!("seed={seed}")])) };
        let s = run.as_ref().unwrap_or(&s);
        let lat = |name: &str| variant(s, name).workloads.rpc.as_ref().unwrap().latency_us.clone();
        let (ena, x) = (lat("ena"), lat("ena-express"));
        ratios[0] += x.p99 / ena.p99 / 3.0;
        ratios[1] += x.p999 / ena.p999 / 3.0;
    }
    assert!(ratios[0] < 0.75, "P99 ENA Express / ENA, mean of 3 seeds: {}", ratios[0]);
    assert!(ratios[1] < 0.75, "P99.9 ENA Express / ENA, mean of 3 seeds: {}", ratios[1]);
    let (ena_idle, x_idle) = (lat("ena-idle"), lat("ena-express-idle"));
    assert!(
        x_idle.p50 > ena_idle.p50 && x_idle.p50 < 1.5 * ena_idle.p50,
        "idle P50 {} vs {}",
        x_idle.p50,
        ena_idle.p50
    );
    // Single-flow throughput under load: 25 Gbps class against 5.
    let bulk = |name: &str| variant(&s, name).flows.iter().find(|f| f.name == "bulk").unwrap().wire_gbps;
    assert!(bulk("ena-express") > 4.0 * bulk("ena"));
    // The host's TCP did not have to recover what SRD repaired in the card.
    let rpc_retx =
        |name: &str| variant(&s, name).flows.iter().filter(|f| f.workload == "rpc").map(|f| f.retransmits).sum::<u64>();
    assert!(
        rpc_retx("ena-express") * 10 < rpc_retx("ena").max(1),
        "{} vs {}",
        rpc_retx("ena-express"),
        rpc_retx("ena")
    );
    for v in &s.variants {
        assert_conserved(v);
        if let Some(r) = &v.srd {
            assert!(r.reorder_max_occupancy <= r.reorder_capacity_packets);
        }
    }
}

#[test]
fn one_path_without_fast_retransmission_is_single_path_behaviour() {
    // Idle fabric, one RPC connection: ENA Express with one path and a TCP-like timer sends
    // everything over one spine, in order, and lands next to plain ENA (plus SRD's overhead).
    let text = BUNDLED.iter().find(|(n, _)| *n == "ena-vs-express.ron").unwrap().1;
    let common = [
        "workloads.cross-traffic.load=0.001",
        "workloads.rpc.connections=1",
        "workloads.rpc.arrival={\"Poisson\": {\"mean_interval\": \"100us\"}}",
        "duration=30ms",
    ];
    let degenerate = run_text(
        "ena-vs-express.ron",
        text,
        &[&common[..], &["variants=[{\"name\": \"x\"}]", "srd.paths=1", "srd.retransmit_timeout=200ms"]].concat(),
    );
    let v = &degenerate.variants[0];
    let r = v.srd.as_ref().unwrap();
    assert_eq!(r.spines_used, 1);
    assert!(r.reorder_max_occupancy <= 1, "one path delivers in order: {}", r.reorder_max_occupancy);
    let plain = run_text("ena-vs-express.ron", text, &[&common[..], &["variants=[{\"name\": \"ena\", \"set\": {\"instances.client.enis.eth0.ena_srd_enabled\": \"false\", \"instances.server.enis.eth0.ena_srd_enabled\": \"false\"}}]"]].concat());
    let (a, b) =
        (&v.workloads.rpc.as_ref().unwrap().latency_us, &plain.variants[0].workloads.rpc.as_ref().unwrap().latency_us);
    assert!(a.p50 >= b.p50 && a.p50 < 1.3 * b.p50, "P50 {} vs {}", a.p50, b.p50);
}

#[test]
fn a_tiny_reorder_buffer_refuses_and_srd_recovers() {
    // Cross traffic makes the sprayed paths' delays differ, so packets arrive out of order.
    let loaded = PAIR.replace(
        r#"Bulk((name: "bulk", from: "a", to: "b"))"#,
        r#"Bulk((name: "bulk", from: "a", to: "b")), Background((name: "bg", load: 0.5))"#,
    );
    let s = run_text("pair", &loaded, &["srd.reorder_buffer=2", "workloads.bulk.bytes=20MB", "duration=200ms"]);
    let v = &s.variants[0];
    let r = v.srd.as_ref().unwrap();
    assert!(r.reorder_max_occupancy <= 2);
    assert!(r.reorder_refused > 0 && v.drops["reorder_buffer_full"] == r.reorder_refused);
    assert!(r.retransmits > 0, "refused packets come back by SRD's timer");
    // It keeps going, slowly: every refusal costs a retransmission timer. The default buffer
    // finishes the same transfer.
    assert!(v.flows[0].bytes_delivered > 1_000_000, "{}", v.flows[0].bytes_delivered);
    assert_conserved(v);
    let roomy = run_text("pair", &loaded, &["workloads.bulk.bytes=20MB", "duration=200ms"]);
    let w = &roomy.variants[0];
    assert_eq!(w.flows[0].bytes_delivered, 20_000_000);
    assert_eq!(w.srd.as_ref().unwrap().reorder_refused, 0);
}

#[test]
fn flagship_is_deterministic_across_threads() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "ena-vs-express.ron").unwrap().1;
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| json(&run_text("ena-vs-express.ron", text, &["duration=20ms"])))
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn srd_reads_ecn_where_enabled() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "ena-vs-express.ron").unwrap().1;
    let run = |ecn: &str| {
        let s = run_text(
            "ena-vs-express.ron",
            text,
            &["duration=30ms", "fabric.ecn_threshold=100KiB", &format!("srd.ecn={ecn}"), r#"variants=[{"name": "x"}]"#],
        );
        s.variants[0].srd.as_ref().unwrap().ecn_marks
    };
    assert_eq!(run("false"), 0, "no ECN-capable SRD packets, nothing to mark");
    assert!(run("true") > 0, "marked SRD packets come back as ECN echoes");
}

#[test]
fn ena_express_recovers_from_an_outage_of_every_spine() {
    // scenarios/srd-outage.ron: every spine down from 100 to 110 ms, bins of 10 ms. SRD gives up
    // on what it could not deliver; the receiving card must move past those sequences and the
    // host's TCP repair the loss, as it does over plain ENA.
    let text = BUNDLED.iter().find(|(n, _)| *n == "srd-outage.ron").unwrap().1;
    let s = run_text("srd-outage.ron", text, &[]);
    let x = variant(&s, "ena-express");
    assert_conserved(x);
    let srd = x.srd.as_ref().unwrap();
    assert!(srd.gave_up > 0, "the outage outlasts SRD's retries: {srd:?}");
    assert!(srd.receiver_skipped > 0, "the receiver moved past the abandoned sequences: {srd:?}");
    assert!(x.drops["link_down"] > 0);
    let (before, during) = (bin_total(x, 5), bin_total(x, 10));
    assert!(before > 0.95 * 25.0, "before the outage {before} Gbps");
    assert!(during < 1.0, "during the outage {during} Gbps");
    // The first flow is back near 25 Gbps within a second of the restore (110 ms): in some bin
    // before 1.11 s, and it stays there until the second flow opens at 1.11 s.
    let back = (11..111).find(|&i| bin_total(x, i) > 0.95 * 25.0);
    assert!(back.is_some(), "not back near 25 Gbps within a second");
    for i in back.unwrap()..111 {
        assert!(bin_total(x, i) > 0.95 * 25.0, "bin {i}: {} Gbps", bin_total(x, i));
    }
    // A flow opened then on the same pair (the same SRD connection) gets its 25 Gbps as well.
    let late = x.flows.iter().find(|f| f.name == "late").unwrap();
    assert!(late.goodput_gbps > 0.95 * 25.0, "late flow {} Gbps", late.goodput_gbps);
    // Plain ENA recovers too (after its RTO), to its 5 Gbps flow limit.
    let e = variant(&s, "ena");
    assert!(bin_total(e, 100) > 0.95 * 5.0, "plain ENA {} Gbps", bin_total(e, 100));
}

#[test]
fn a_card_out_of_srd_connections_falls_back_silently_and_counts_it() {
    // a talks ENA Express with b, c and d; each pair takes one SRD connection per direction at
    // both cards, and a's card holds 4 (nitro.srd_connections): the third pair falls back.
    let text = r#"
Scenario(
    name: "srd-resources",
    duration: "10ms",
    fabric: (racks: 4, hosts_per_rack: 4, spines: 8, host_link: "100Gbps"),
    nitro: (srd_connections: 4),
    instances: [
        (name: "a", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
        (name: "b", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
        (name: "c", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
        (name: "d", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
    ],
    workloads: [
        Bulk((name: "ab", from: "a", to: "b")),
        Bulk((name: "ac", from: "a", to: "c")),
        Bulk((name: "ad", from: "a", to: "d")),
    ],
)"#;
    let s = run_text("srd-resources", text, &[]);
    let v = &s.variants[0];
    let (a, b, d) = (&v.counters["a"], &v.counters["b"], &v.counters["d"]);
    assert_eq!((a.nitrosim_srd_connections, a.ena_srd_resource_utilization), (4, 100), "{a:?}");
    assert_eq!((b.nitrosim_srd_connections, b.ena_srd_resource_utilization), (2, 50), "{b:?}");
    assert_eq!((a.nitrosim_srd_resource_fallbacks, d.nitrosim_srd_resource_fallbacks), (1, 1));
    assert_eq!(d.nitrosim_srd_connections, 0);
    // The fallen-back flow is plain ENA: eligible, not over SRD, held to 5 Gbps, no warning
    // beyond the counters' (a's eligible packets still mostly went over SRD).
    let rate = |n: &str| v.flows.iter().find(|f| f.name == n).unwrap().wire_gbps;
    assert!(rate("ad") < 5.5 && rate("ab") > 15.0, "ab {} ad {}", rate("ab"), rate("ad"));
    assert!(a.ena_srd_eligible_tx_pkts > a.ena_srd_tx_pkts);
    // The summary names nitrosim's own counters as its own.
    let j: serde_json::Value = serde_json::from_str(&json(&s)).unwrap();
    let counters = &j["variants"][0]["counters"]["a"];
    assert!(counters.get("nitrosim_flow_cap_exceeded").is_some() && counters.get("flow_cap_exceeded").is_none());
    assert!(counters.get("nitrosim_srd_resource_fallbacks").is_some() && counters.get("tx_pkts").is_none());
}

#[test]
fn ena_express_is_set_per_eni_and_a_flow_gets_it_over_the_eni_that_has_it() {
    // eth0 without ENA Express, eth1 with it, at both ends: a flow over the eth1s goes over SRD
    // (25 Gbps per flow), one over the primaries does not (5 Gbps), and `check` says which.
    let enis = |inst: &str| {
        format!(
            r#"instances.{inst}.enis=[{{"name": "eth0", "mtu": 8900}}, {{"name": "eth1", "mtu": 8900, "ena_srd_enabled": true}}]"#
        )
    };
    let over_eth1 =
        r#"workloads=[{"Bulk": {"name": "bulk", "from": "a", "to": "b", "from_eni": "eth1", "to_eni": "eth1"}}]"#;
    let (ea, eb) = (enis("a"), enis("b"));
    let s = run_text("pair", PAIR, &[&ea, &eb, over_eth1]);
    let v = &s.variants[0];
    assert!((v.flows[0].wire_gbps / 25.0 - 1.0).abs() <= 0.05, "over eth1: {} Gbps", v.flows[0].wire_gbps);
    assert!(v.counters["a"].ena_srd_tx_pkts > 0);
    let s = run_text("pair", PAIR, &[&ea, &eb]);
    let v = &s.variants[0];
    assert!((v.flows[0].wire_gbps / 5.0 - 1.0).abs() <= 0.05, "over eth0: {} Gbps", v.flows[0].wire_gbps);
    assert_eq!(v.counters["a"].ena_srd_tx_pkts, 0);
    use nitrosim::scenario::{self, validate::describe};
    let explain = |sets: &[&str]| {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let v = scenario::load("pair", PAIR, &sets, None).unwrap();
        describe(&v[0].name, &v[0].spec)
    };
    assert!(explain(&[&ea, &eb, over_eth1]).contains("ENA Express engages"));
    assert!(!explain(&[&ea, &eb]).contains("ENA Express engages"));
}
