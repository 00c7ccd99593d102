//! Hop path: packets through chains of links on the port and event-queue machinery alone.
//! Packet path throughput: whole-model runs of a bulk-flow scenario and of `rpc-under-load.ron`.
//! Criterion's "elements" are link crossings (one packet over one physical link: NIC <-> ToR,
//! ToR <-> spine), so its thrpt line reads as link crossings per wall second; events per second,
//! events per crossing and internal stage passes (vCPUs, shapers, card stages) are printed once
//! per scenario.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nitrosim::scenario::build::build;
use nitrosim::scenario::{self, BUNDLED};
use std::time::Instant;

fn scenario_text(name: &str) -> &'static str {
    BUNDLED.iter().find(|(n, _)| *n == name).unwrap().1
}

/// One bulk flow between two ENA Express instances on an otherwise idle fabric.
const SRD_PAIR: &str = r#"
Scenario(
    name: "srd-pair",
    duration: "20ms",
    fabric: (racks: 4, hosts_per_rack: 4, spines: 16, host_link: "100Gbps"),
    srd: (paths: 64),
    instances: [
        (name: "a", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
        (name: "b", instance_type: "c6in.16xlarge", enis: [(name: "eth0", mtu: 8900, ena_srd_enabled: true)]),
    ],
    workloads: [Bulk((name: "bulk", from: "a", to: "b"))],
)
"#;

fn bench_scenario(c: &mut Criterion, label: &str, file: &str, sets: &[&str]) {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let text = if file == "srd-pair" { SRD_PAIR } else { scenario_text(file) };
    let variants = scenario::load(file, text, &sets, None).unwrap();
    let variant = variants[0].clone();
    let probe = Instant::now();
    let r = build(&variant.name, &variant.spec).unwrap().run(&mut |_| {}).unwrap();
    let secs = probe.elapsed().as_secs_f64();
    eprintln!(
        "{label}: {} events, {} link crossings ({} events per crossing), {} stage passes, {} packets per run; \
         {:.2} M events/s, {:.2} M link crossings/s, {:.2} M packets/s (one probe run)",
        r.events_processed,
        r.link_crossings,
        nitrosim::model::results::events_per_crossing_text(r.events_processed, r.link_crossings),
        r.stage_passes,
        r.packets.sent,
        r.events_processed as f64 / secs / 1e6,
        r.link_crossings as f64 / secs / 1e6,
        r.packets.sent as f64 / secs / 1e6
    );
    let mut g = c.benchmark_group("packet_path");
    g.throughput(Throughput::Elements(r.link_crossings));
    g.sample_size(10);
    g.bench_function(label, |b| b.iter(|| build(&variant.name, &variant.spec).unwrap().run(&mut |_| {}).unwrap()));
    g.finish();
}

fn packet_path(c: &mut Criterion) {
    // One 5 Gbps bulk flow and eight of them (variant sets applied by hand: the bench runs one variant).
    bench_scenario(c, "bulk_1_flow", "single-flow-cap.ron", &["variants=[]"]);
    bench_scenario(c, "bulk_8_flows", "single-flow-cap.ron", &["variants=[]", "workloads.bulk.flows=8"]);
    bench_scenario(c, "rpc_under_load", "rpc-under-load.ron", &["variants=[]"]);
    // A 25 Gbps ENA Express flow sprayed over 64 paths, against the same flow over plain ENA.
    bench_scenario(c, "srd_25g_64_paths", "srd-pair", &[]);
    let plain = r#"instances.b.enis=[{"name": "eth0", "mtu": 8900}]"#;
    bench_scenario(c, "plain_ena_same_pair", "srd-pair", &[plain]);
}

/// The hop path alone: a train of packets through a chain of `links` 100 Gbps Ethernet links
/// with 1 us of propagation each, driven the way the model drives its ports (one event per
/// packet per link, the arrival at the far end; only each link's oldest packet in the queue).
/// Criterion's elements are link crossings.
fn hop_chain(links: usize, packets: u32) -> u64 {
    use nitrosim::engine::EventQueue;
    use nitrosim::net::{DropReason, Enqueued, Port, PortConfig};
    use nitrosim::units::{Bandwidth, SimDuration};
    let config = PortConfig {
        rate: Bandwidth::gbps(100),
        per_packet: SimDuration::ZERO,
        delay: SimDuration::from_us(1),
        capacity_bytes: u64::MAX,
        ecn_threshold_bytes: None,
        drop_reason: DropReason::QueueFull,
        burst_bytes: 0,
        mtu: nitrosim::net::ip::NO_MTU_LIMIT,
    };
    let mut ports: Vec<Port> = (0..links).map(|_| Port::ethernet(config)).collect();
    // (link, packet): the packet at the head of that link reaches its far end.
    let mut q: EventQueue<(u32, u32)> = EventQueue::with_capacity(links + 1);
    let mut crossings = 0u64;
    let offer = |q: &mut EventQueue<(u32, u32)>, ports: &mut [Port], link: usize, id: u32| {
        let now = q.now();
        if let Enqueued::Accepted { arrive: Some(arrive), head: true, .. } = ports[link].enqueue(now, id, 8900, 0) {
            q.schedule_at(arrive, (link as u32, id));
        }
    };
    for id in 0..packets {
        offer(&mut q, &mut ports, 0, id);
    }
    while let Some((now, (link, id))) = q.pop() {
        let (got, next) = ports[link as usize].pop_head(now);
        debug_assert_eq!(got, id);
        if let Some((t, next, _)) = next {
            q.schedule_at(t, (link, next));
        }
        crossings += 1;
        if (link as usize) + 1 < links {
            offer(&mut q, &mut ports, link as usize + 1, id);
        }
    }
    assert_eq!(crossings, links as u64 * packets as u64);
    crossings
}

fn hop_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("hop_path");
    g.sample_size(20);
    for (links, packets) in [(4usize, 10_000u32), (64, 1_000), (1024, 100)] {
        g.throughput(Throughput::Elements(links as u64 * packets as u64));
        g.bench_function(format!("{packets}_packets_through_{links}_links"), |b| {
            b.iter(|| std::hint::black_box(hop_chain(links, packets)))
        });
    }
    g.finish();
}

criterion_group!(benches, hop_path, packet_path);
criterion_main!(benches);
