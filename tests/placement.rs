//! Placement groups change where instances land (EC2 user guide, "Placement groups"): spread
//! puts each member on its own rack (at most 7 per AZ per group), partition puts each partition
//! on its own rack (at most 7 partitions per AZ).

mod common;
use common::*;

const FLEET: &str = r#"
Scenario(
    name: "pg",
    duration: "1ms",
    fabric: (racks: 8, hosts_per_rack: 4, spines: 1, host_link: "25Gbps"),
    placement_groups: [(name: "pg", strategy: "spread")],
    instances: [(name: "web", instance_type: "m5.large", count: 6, placement_group: "pg")],
)
"#;

fn racks(sets: &[&str]) -> Vec<u32> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let spec = nitrosim::scenario::load("pg", FLEET, &sets, None).unwrap_or_else(|d| panic!("{d}"))[0].spec.clone();
    nitrosim::scenario::placement::place(&spec).unwrap().iter().map(|h| h / spec.fabric.hosts_per_rack).collect()
}

#[test]
fn spread_and_partition_groups_use_distinct_racks() {
    let r = racks(&[]);
    let mut distinct = r.clone();
    distinct.dedup();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 6, "spread: one rack each: {r:?}");
    // Partition with 3 partitions: members round-robin, each partition on its own rack.
    let r = racks(&["placement_groups=[{\"name\": \"pg\", \"strategy\": \"partition\", \"partitions\": 3}]"]);
    assert_eq!((r[0], r[1], r[2]), (r[3], r[4], r[5]), "{r:?}");
    assert!(r[0] != r[1] && r[1] != r[2] && r[0] != r[2], "{r:?}");
}

#[test]
fn placement_group_limits_are_errors() {
    let e = load_error("pg", FLEET, &["instances.web.count=8"]);
    assert!(e.contains("at most 7 running instances"), "{e}");
    let e = load_error(
        "pg",
        FLEET,
        &["placement_groups=[{\"name\": \"pg\", \"strategy\": \"partition\", \"partitions\": 8}]"],
    );
    assert!(e.contains("partitions"), "{e}");
}
