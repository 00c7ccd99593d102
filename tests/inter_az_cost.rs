//! Cross-AZ latency and capacity as parameters, and what a design costs in data transfer
//! (price table: us-east-1, embedded with its date).

mod common;
use common::*;

const AZS: &str = r#"
Scenario(
    name: "azs",
    duration: "50ms",
    fabric: (racks: 2, hosts_per_rack: 2, spines: 1, host_link: "100Gbps"),
    instances: [
        (name: "a", instance_type: "c6i.8xlarge", availability_zone: "use1-az1"),
        (name: "b", instance_type: "c6i.8xlarge", availability_zone: "use1-az2"),
    ],
    workloads: [
        Bulk((name: "bulk", from: "a", to: "b", flows: 2)),
        Rpc((name: "rpc", client: "a", server: "b", connections: 1, request: Fixed("100B"), response: Fixed("100B"),
             arrival: Poisson(mean_interval: "1ms"), warmup: "5ms")),
    ],
)
"#;

#[test]
fn inter_az_latency_is_a_parameter() {
    let p50 = |sets: &[&str]| run_text("azs", AZS, sets).variants[0].workloads.rpc.as_ref().unwrap().latency_us.p50;
    let (near, far) = (p50(&[]), p50(&["inter_az.latency=2ms"]));
    // One round trip crosses twice: 2 x (2000 - 500) us more.
    assert!((far - near - 3000.0).abs() < 300.0, "{near} -> {far} us");
    let e = load_error("azs", AZS, &["inter_az.latency=1s"]);
    assert!(e.contains("latency"), "{e}");
}

#[test]
fn inter_az_capacity_is_shared_by_the_flows_between_two_azs() {
    let s = run_text("azs", AZS, &["inter_az.capacity=2Gbps"]);
    let v = &s.variants[0];
    assert_conserved(v);
    let bulk: f64 = v.flows.iter().filter(|f| f.workload == "bulk").map(|f| f.wire_gbps).sum();
    assert!(bulk <= 2.0 && bulk > 1.5, "{bulk} Gbps through a 2 Gbps inter-AZ link");
    let open = run_text("azs", AZS, &[]);
    let bulk_open: f64 = open.variants[0].flows.iter().filter(|f| f.workload == "bulk").map(|f| f.wire_gbps).sum();
    // Without the capacity the flows are held only by their windows: across a 1 ms round trip
    // Linux's receive autotuning (from tcp_rmem[1] = 128 KiB, at Linux 6.18's pace) opens them
    // over the run, well past the 2 Gbps the capacity allowed (2.55 Gbps here).
    assert!(bulk_open > 1.2 * 2.0, "{bulk_open} Gbps without the capacity vs {bulk}");
}

#[test]
fn cost_counts_inter_az_bytes_both_sides_and_nothing_within_an_az() {
    let s = run_text("azs", AZS, &[]);
    let c = &s.variants[0].cost;
    assert_eq!((c.region.as_str(), c.currency.as_str()), ("us-east-1", "USD"));
    let delivered: u64 = s.variants[0].flows.iter().map(|f| f.bytes_delivered).sum();
    // Every delivered byte crossed (plus headers, ACKs and the replies); $0.01/GB each way.
    assert!(c.inter_az_gb * (1u64 << 30) as f64 > delivered as f64, "{c:?}");
    assert!((c.inter_az_usd - c.inter_az_gb * 0.02).abs() < 1e-8);
    assert_eq!((c.nat_processed_gb, c.internet_egress_gb), (0.0, 0.0));
    assert!((c.total_usd_per_hour - c.total_usd * 3600.0 / 0.05).abs() < 1e-3 * c.total_usd_per_hour.max(1e-9));
    let same = run_text("azs", AZS, &["instances.b.availability_zone=use1-az1"]);
    assert_eq!(same.variants[0].cost.total_usd, 0.0);
}

#[test]
fn nat_gateway_traffic_is_charged_for_processing_and_egress() {
    let s = run_text("nat-gateway.ron", include_str!("../scenarios/nat-gateway.ron"), &["duration=150ms"]);
    let v = &s.variants[0];
    let nat = serde_json::to_value(&v.nat_gateways["natgw"]).unwrap();
    let gb = |k: &str| nat[k].as_u64().unwrap() as f64 / (1u64 << 30) as f64;
    let c = &v.cost;
    assert!((c.nat_processed_gb - gb("BytesInFromSource") - gb("BytesInFromDestination")).abs() < 1e-6);
    assert!((c.internet_egress_gb - gb("BytesOutToDestination")).abs() < 1e-6);
    assert!((c.nat_processing_usd - c.nat_processed_gb * 0.045).abs() < 1e-8);
    // One gateway for 150 ms at $0.045 an hour.
    assert!((c.nat_hourly_usd - 0.045 * 0.15 / 3600.0).abs() < 1e-9);
}
