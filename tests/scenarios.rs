//! Every bundled scenario runs as-is; the foundation's acceptance figures come out of the model.

mod common;
use common::*;
use nitrosim::scenario::BUNDLED;
use std::path::Path;

fn scenario_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    v.sort();
    v
}

/// Every bundled scenario runs as-is, conserves packets, and produces exactly the summary kept in
/// tests/golden/ (plain JSON, diffable): an optimisation must not change results. After an
/// intended model change, regenerate with NITROSIM_UPDATE_GOLDEN=1 and review the diff.
#[test]
fn every_bundled_scenario_runs_as_is_conserves_packets_and_matches_its_golden_summary() {
    let files = scenario_files();
    assert!(!files.is_empty());
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let update = std::env::var_os("NITROSIM_UPDATE_GOLDEN").is_some();
    for (name, text) in &files {
        let s = run_text(name, text, &[]);
        for v in &s.variants {
            assert_conserved(v);
            assert!(v.events_processed > 0, "{name}/{}: nothing happened", v.name);
            // The cost counts of issue 17 add up: every port's packets out are a link crossing
            // or a stage pass, and events per crossing divides the two counts it names.
            assert_eq!(v.packet_hops, v.link_crossings + v.stage_passes, "{name}/{}", v.name);
            match v.events_per_crossing {
                Some(per) => {
                    let exact = v.events_processed as f64 / v.link_crossings as f64;
                    assert!((per - exact).abs() <= 0.0005, "{name}/{}: {per} for {exact}", v.name);
                }
                None => assert_eq!(v.link_crossings, 0, "{name}/{}", v.name),
            }
        }
        // Every plot of every bundled scenario renders, its labels inside the canvas.
        for (plot, svg) in nitrosim::report::plot::render_svgs(&s).unwrap() {
            assert_svg_text_inside(&format!("{name}: {plot}"), &svg);
        }
        nitrosim::report::plot::render_pngs(&s).unwrap();
        let golden = golden_dir.join(name.replace(".ron", ".summary.json"));
        let now = json(&s);
        assert!(!now.contains(": -0.0"), "{name}: a negative zero in the summary");
        if update {
            std::fs::create_dir_all(&golden_dir).unwrap();
            std::fs::write(&golden, &now).unwrap();
            continue;
        }
        let kept = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (NITROSIM_UPDATE_GOLDEN=1 writes it)", golden.display()));
        if kept != now {
            let first = kept.lines().zip(now.lines()).position(|(a, b)| a != b).unwrap_or(0);
            panic!(
                "{name}: summary differs from {} at line {}:\n  kept: {}\n  now:  {}",
                golden.display(),
                first + 1,
                kept.lines().nth(first).unwrap_or(""),
                now.lines().nth(first).unwrap_or("")
            );
        }
    }
}

#[test]
fn bundled_list_matches_the_folder() {
    let files: Vec<String> = scenario_files().into_iter().map(|(n, _)| n).collect();
    let mut bundled: Vec<String> = BUNDLED.iter().map(|(n, _)| n.to_string()).collect();
    bundled.sort();
    assert_eq!(files, bundled, "scenario::BUNDLED must list every file in scenarios/");
    for (n, text) in BUNDLED {
        let on_disk = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(n)).unwrap();
        assert_eq!(&on_disk, text);
    }
}

#[test]
fn same_seed_gives_byte_identical_summaries_whatever_the_threads() {
    let name = "rpc-under-load.ron";
    let text = BUNDLED.iter().find(|(n, _)| *n == name).unwrap().1;
    let one =
        rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| json(&run_text(name, text, &[])));
    let two =
        rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| json(&run_text(name, text, &[])));
    assert_eq!(one, two);
    let other_seed = json(&run_text(name, text, &["seed=8"]));
    assert_ne!(one, other_seed, "the seed must matter");
}

#[test]
fn single_flow_caps_come_from_the_nitro_shaper() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "single-flow-cap.ron").unwrap().1;
    let s = run_text("single-flow-cap.ron", text, &[]);
    let within = |x: f64, target: f64, tol: f64| (x / target - 1.0).abs() <= tol;
    // One flow: 5 Gbps (within 3%); 10 Gbps in a cluster placement group.
    let one = wire_total(variant(&s, "no-placement-group"));
    assert!(within(one, 5.0, 0.03), "single flow {one} Gbps");
    let pg = wire_total(variant(&s, "cluster-placement-group"));
    assert!(within(pg, 10.0, 0.03), "single flow in a cluster placement group {pg} Gbps");
    // Eight flows on a 100 Gbps instance: ~40 Gbps; on a 12.5 Gbps instance they share 12.5.
    let eight = wire_total(variant(&s, "8-flows"));
    assert!(within(eight, 40.0, 0.05), "8 flows {eight} Gbps");
    let small = variant(&s, "8-flows-12.5G-instance");
    assert!(within(wire_total(small), 12.5, 0.05), "8 flows on 12.5 Gbps {}", wire_total(small));
    // ... and the limits show where they bite: per-flow shaper vs instance allowance. HyStart
    // (on by default, as in Linux's CUBIC) leaves slow start before the shaper's buffer
    // overflows, so the single flow is held at 5 Gbps by the shaper's rate, and never by the
    // instance's allowance (which at most queues a rare burst: AWS counts queued packets too,
    // but drops none). Without a loss CUBIC then grows 5% per round trip, as Linux's does,
    // until the shaper's buffer overflows: a handful of drops (4 of 2199 packets here, under
    // 1%), recovered without a timeout; slow start without HyStart lost thousands.
    let single = variant(&s, "no-placement-group");
    let c = &single.counters["sender"];
    assert_eq!(c.bw_out_allowance_dropped, 0);
    assert!(c.bw_out_allowance_exceeded * 1000 <= single.packets.sent, "{c:?}");
    let shaper_drops = single.drops.get("flow_cap_exceeded").copied().unwrap_or(0);
    assert!(shaper_drops * 100 <= single.packets.sent, "{:?} of {}", single.drops, single.packets.sent);
    assert!(single.flows.iter().all(|f| f.rtos == 0), "no retransmission timeout");
    // Eight flows want 40 Gbps and get 12.5: the instance's allowance holds them (it queues
    // packets, which AWS counts in bw_out_allowance_exceeded), not the per-flow shapers, which
    // drop at most a handful of packets of slow start (timing noise can bunch a burst).
    let c = &small.counters["sender"];
    assert!(c.bw_out_allowance_exceeded > 0, "the allowance queues packets: {c:?}");
    assert!(
        c.flow_cap_exceeded * 1000 <= small.packets.sent,
        "per-flow shaper drops {} of {}",
        c.flow_cap_exceeded,
        small.packets.sent
    );
}

const TWO_INSTANCES: &str = r#"
Scenario(
    name: "probe",
    duration: "10ms",
    // Exact arithmetic: every stage at its configured cost, no timing noise.
    noise: (enabled: false),
    fabric: (racks: 2, hosts_per_rack: 4, spines: 2, host_link: "100Gbps", hop_delay: "1us"),
    instances: [
        (name: "a", instance_type: "c6in.16xlarge", rack: 0),
        (name: "b", instance_type: "c6in.16xlarge", rack: 0),
    ],
    workloads: [
        Datagrams((name: "probe", from: "a", to: "b", size: "1000B", mean_interval: "500us", count: 10)),
    ],
)
"#;

#[test]
fn one_way_latency_is_exact_to_the_picosecond() {
    use nitrosim::ec2::defaults::*;
    use nitrosim::units::{Bandwidth, SimDuration};
    let s = run_text("probe", TWO_INSTANCES, &[]);
    let d = s.variants[0].workloads.datagrams.as_ref().unwrap();
    let wire = 1000 + 28; // UDP/IPv4 headers
    let ser = |g: u64| Bandwidth::gbps(g).serialisation(wire);
    // The two fabric links are Ethernet: they carry the frame (+ 38 B of line time per packet);
    // the Nitro shapers meter IP bytes.
    let frame = |g: u64| Bandwidth::gbps(g).serialisation(wire + nitrosim::net::ETHERNET_FRAMING_BYTES as u64);
    let hop = SimDuration::from_us(1);
    // vCPU tx, per-flow shaper (a token bucket: an idle one passes the packet at once) + Nitro
    // delay, egress shaper, host up, host down, ingress shaper (+ Nitro delay), vCPU rx.
    let expected = HOST_TX_COST
        + NITRO_PROCESSING_DELAY
        + ser(100)
        + (frame(100) + hop)
        + (frame(100) + hop)
        + (ser(100) + NITRO_PROCESSING_DELAY)
        + HOST_RX_COST;
    assert_eq!(d.min_ps, Some(expected.ps()));
    assert_eq!(d.count, 10);
}

#[test]
fn a_lost_response_segment_shows_linux_recovery_in_the_tail() {
    // 64 KiB responses (8 segments), one RPC at a time per connection: most losses are repaired
    // by fast retransmit within a round trip. A lost last segment (or a lost one-segment request)
    // has no duplicate ACKs behind it: without tail loss probes it waits for the 200 ms RTO;
    // with them (Linux's default, tcp_early_retrans=3) a probe about two round trips later
    // repairs it, and the RTO-sized tail goes.
    let text = r#"
Scenario(
    name: "rpc-loss",
    duration: "1500ms",
    fabric: (racks: 2, hosts_per_rack: 2, spines: 2, host_link: "100Gbps", loss_rate: 0.002),
    instances: [
        (name: "client", instance_type: "c6in.16xlarge"),
        (name: "server", instance_type: "c6in.16xlarge"),
    ],
    workloads: [
        Rpc((name: "rpc", client: "client", server: "server", connections: 16,
             arrival: ClosedLoop(outstanding: 1), request: Fixed("1KiB"), response: Fixed("64KiB"),
             count: 5000)),
    ],
)
"#;
    let no_tlp = run_text("rpc-loss", text, &["tcp.early_retrans=0"]);
    let v = &no_tlp.variants[0];
    let r = v.workloads.rpc.as_ref().unwrap();
    let fast: u64 = v.flows.iter().map(|f| f.fast_retransmits).sum();
    let rtos: u64 = v.flows.iter().map(|f| f.rtos).sum();
    assert!(fast > 0 && rtos > 0, "without TLP: fast retransmits {fast}, RTOs {rtos}");
    assert!(fast > rtos, "dupacks repair most losses: fast {fast} vs RTO {rtos}");
    assert!(r.latency_us.p50 < 1000.0, "median unaffected: {:?}", r.latency_us);
    assert!(r.latency_us.max >= 200_000.0, "an RTO of at least 200 ms sits in the tail: {:?}", r.latency_us);
    assert_eq!(r.completed, 5000);
    assert!(v.drops["injected_loss"] > 0);

    let tlp = run_text("rpc-loss", text, &[]);
    let v = &tlp.variants[0];
    let r_tlp = v.workloads.rpc.as_ref().unwrap();
    let rtos_tlp: u64 = v.flows.iter().map(|f| f.rtos).sum();
    assert_eq!(r_tlp.completed, 5000);
    assert!(rtos_tlp < rtos, "tail loss probes repair tails before the RTO: {rtos_tlp} vs {rtos} RTOs");
    assert!(
        r_tlp.latency_us.p999 < r.latency_us.p999,
        "the RTO-sized tail shrinks: p99.9 {} vs {} us",
        r_tlp.latency_us.p999,
        r.latency_us.p999
    );
}

#[test]
fn one_rss_queue_makes_the_receiving_vcpu_the_bottleneck() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "single-flow-cap.ron").unwrap().1;
    // 1500-byte MTU and 2 us of receive work per packet: one vCPU can take 1500 B / 2 us = 6 Gbps.
    let base = [
        "variants=[]",
        "duration=10ms",
        "workloads.bulk.flows=8",
        "host.rx_cost=2us",
        r#"instances.receiver.enis=[{"name": "eth0", "mtu": 1500}]"#,
    ];
    let one = run_text("single-flow-cap.ron", text, &[&base[..], &["host.rss_queues=1"]].concat());
    let many = run_text("single-flow-cap.ron", text, &[&base[..], &["host.rss_queues=16"]].concat());
    let (t1, t16) = (one.variants[0].throughput.wire_gbps, many.variants[0].throughput.wire_gbps);
    assert!(t1 <= 6.0 * 1.01 && t1 > 5.0, "one queue: {t1} Gbps");
    assert!(t16 > 2.0 * t1, "sixteen queues: {t16} Gbps vs one: {t1}");
}

#[test]
fn a_bulk_transfer_for_a_duration_stops_writing_and_completes() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "single-flow-cap.ron").unwrap().1;
    let s = run_text("single-flow-cap.ron", text, &["variants=[]", "duration=1s", "workloads.bulk.duration=5ms"]);
    let v = &s.variants[0];
    let f = &v.flows[0];
    // It wrote for 5 ms at the 5 Gbps cap (plus what slow start queued in the shaper), then
    // completes once that has arrived: at once, or after one RTO if the tail was lost.
    let done = f.completed_us.expect("completes after it stops writing");
    assert!((5000.0..5000.0 + 250_000.0).contains(&done), "completed at {done} us");
    assert_eq!(v.simulated_us, done, "the run ends when the only workload is done");
    let at_cap = 5e9 / 8.0 * 0.005;
    assert!(
        (f.bytes_delivered as f64) > 0.9 * at_cap && (f.bytes_delivered as f64) < 1.3 * at_cap,
        "{}",
        f.bytes_delivered
    );
}

#[test]
fn memory_is_bounded_by_packets_in_flight_not_time() {
    let text = BUNDLED.iter().find(|(n, _)| *n == "rpc-under-load.ron").unwrap().1;
    // Light-tailed cross traffic with buffers deep enough to avoid losses reaches its steady
    // state within a millisecond or two. (With losses, connections waiting out 200 ms RTOs and
    // 1 s SYN timeouts legitimately pile up for that long.)
    let sizes = r#"workloads.cross-traffic.sizes={"Exponential": {"mean": "64KiB"}}"#;
    let steady = ["variants=[]", sizes, "workloads.cross-traffic.load=0.3", "fabric.buffer=16MiB"];
    let short = run_text("rpc-under-load.ron", text, &[&steady[..], &["duration=10ms"]].concat());
    let long = run_text("rpc-under-load.ron", text, &[&steady[..], &["duration=40ms"]].concat());
    assert!(!long.variants[0].drops.contains_key("queue_full"), "{:?}", long.variants[0].drops);
    let (a, b) = (&short.variants[0], &long.variants[0]);
    assert!(b.packets.sent > 3 * a.packets.sent);
    // Peak packets are set by buffers; slots by concurrency. Neither scales with time.
    assert!(b.memory.peak_packets < 2 * a.memory.peak_packets, "{:?} -> {:?}", a.memory, b.memory);
    assert!(b.memory.endpoint_slots < 2 * a.memory.endpoint_slots, "{:?} -> {:?}", a.memory, b.memory);
}

#[test]
fn bench_scenarios_load_and_the_permutation_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches");
    for f in ["permutation-1024.ron", "scale-8192.ron"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        nitrosim::scenario::load(f, &text, &[], None).unwrap_or_else(|d| panic!("{d}"));
    }
    // A small permutation: every member sends to distinct others, nobody to itself.
    let text = std::fs::read_to_string(dir.join("permutation-1024.ron")).unwrap();
    let s = run_text(
        "permutation-1024.ron",
        &text,
        &[
            "instances.h.count=32",
            "fabric.racks=4",
            "fabric.hosts_per_rack=8",
            "workloads.perm.flows_per_instance=3",
            // Long enough for the receive windows to open beyond the SYN's 62643 B and to be past
            // SRD's ramp, which timing noise slows by a few microseconds.
            "duration=300us",
        ],
    );
    for v in &s.variants {
        let p = v.workloads.permutation.as_ref().unwrap();
        assert_eq!(p.flows, 32 * 3);
        assert!(p.flow_goodput_gbps_min > 0.0, "every flow moved data: {p:?}");
        assert_conserved(v);
        // Every host sends, so every host link carried something: the 32 links together carried
        // at least the payload delivered (plus headers, framing, ACKs) and at most their rate.
        let carried_gbps = v.fabric.host_uplink_gbps_mean * 32.0;
        assert!(carried_gbps > p.goodput_gbps, "{carried_gbps} Gbps on the host links, {} delivered", p.goodput_gbps);
        assert!(v.fabric.host_uplink_gbps_mean <= 100.0, "{:?}", v.fabric);
    }
    let srd = variant(&s, "srd-128-paths").workloads.permutation.as_ref().unwrap().goodput_gbps;
    let tcp = variant(&s, "tcp-ecmp").workloads.permutation.as_ref().unwrap().goodput_gbps;
    assert!(srd > 2.0 * tcp, "ENA Express flows are not held to 5 Gbps: {srd} vs {tcp}");
}
