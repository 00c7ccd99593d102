//! Placement groups, security groups, instances and their ENIs (and, through `super::vpc`,
//! the VPC they sit in).

use super::diag::{Ctx, reference, unique};
use super::limits::*;
use crate::ec2::{self, catalog};
use crate::scenario::error::Diagnostic;
use crate::scenario::spec::*;
use crate::units::SimDuration;
use std::collections::{BTreeMap, BTreeSet};

/// Checks the instances and their VPC; returns the instance names.
pub(super) fn check<'s>(cx: &Ctx, s: &'s ScenarioSpec, hosts: u64) -> Result<BTreeSet<&'s str>, Diagnostic> {
    let f = &s.fabric;
    // Placement groups, security groups and instances.
    let pgs = unique(cx, "placement group", s.placement_groups.iter().map(|p| p.name.as_str()))?;
    let sgs = unique(cx, "security group", s.security_groups.iter().map(|g| g.name.as_str()))?;
    for p in &s.placement_groups {
        if !["cluster", "spread", "partition"].contains(&p.strategy.as_str()) {
            return Err(cx.err(
                "strategy",
                &p.strategy,
                format!("unknown placement strategy {:?}", p.strategy),
                "\"cluster\", \"spread\" or \"partition\"".into(),
                "as in the EC2 API's CreatePlacementGroup".into(),
            ));
        }
        // EC2 user guide, placement group rules: a rack spread group has at most seven running
        // instances per AZ; a partition group at most seven partitions per AZ.
        if p.strategy == "partition" {
            cx.range("partitions", p.partitions.unwrap_or(2), 1, 7, "AWS: up to 7 partitions per Availability Zone")?;
        } else if p.partitions.is_some() {
            return Err(cx.err(
                "partitions",
                "",
                format!("placement group {:?}: `partitions` on a {} group", p.name, p.strategy),
                "only with strategy \"partition\"".into(),
                "remove it, or make the group a partition group".into(),
            ));
        }
        if p.strategy == "spread" {
            let mut per_az: BTreeMap<&str, u32> = BTreeMap::new();
            for i in s.instances.iter().filter(|i| i.placement_group.as_deref() == Some(p.name.as_str())) {
                *per_az.entry(i.availability_zone.as_str()).or_default() += i.count.unwrap_or(1);
            }
            if let Some((az, n)) = per_az.into_iter().find(|(_, n)| *n > 7) {
                return Err(cx.err(
                    "placement_group",
                    &p.name,
                    format!("spread placement group {:?} has {n} instances in {az}", p.name),
                    "at most 7 running instances per Availability Zone per spread group".into(),
                    "EC2 placement group rules: use another group or AZ, or a partition group".into(),
                ));
            }
        }
    }
    if s.instances.is_empty() || s.instances.len() > MAX_INSTANCES {
        return Err(cx.err(
            "instances",
            "",
            format!("{} instances", s.instances.len()),
            format!("1 ..= {MAX_INSTANCES} instances"),
            "every workload runs between instances".into(),
        ));
    }
    if s.instances.len() as u64 > hosts {
        return Err(cx.err(
            "instances",
            "",
            format!("{} instances do not fit on {hosts} fabric hosts", s.instances.len()),
            "at most one instance per host".into(),
            "add racks or hosts_per_rack".into(),
        ));
    }
    let inst_names = unique(cx, "instance", s.instances.iter().map(|i| i.name.as_str()))?;
    super::vpc::vpc(cx, s, &inst_names, &sgs)?;
    for i in &s.instances {
        let Some(ty) = catalog::lookup(&i.instance_type) else {
            let sugg = catalog::suggestions(&i.instance_type);
            return Err(cx.err(
                "instance_type",
                &i.instance_type,
                format!("unknown instance type {:?}", i.instance_type),
                format!("a type from the catalog (nitrosim list), e.g. {}", sugg.join(", ")),
                "the catalog covers current Nitro types; `nitrosim list` prints it".into(),
            ));
        };
        if let Some(pg) = &i.placement_group {
            reference(cx, "placement_group", pg, &pgs, "placement group")?;
        }
        if let Some(r) = i.rack
            && r >= f.racks
        {
            return Err(cx.err(
                "rack",
                &r.to_string(),
                format!("instance {:?} is placed in rack {r}, but the fabric has {} racks", i.name, f.racks),
                format!("0 ..= {}", f.racks - 1),
                "racks are numbered from 0".into(),
            ));
        }
        if let Some(p) = i.pps_allowance {
            cx.range("pps_allowance", p, 1_000, 1_000_000_000, "packets per second, in and out together")?;
        }
        if let Some(c) = i.conntrack_allowance {
            cx.range("conntrack_allowance", c, 1, 10_000_000, "tracked connections")?;
        }
        conntrack_timeouts(
            cx,
            [i.conntrack_tcp_established_timeout, i.conntrack_udp_timeout, i.conntrack_udp_stream_timeout],
        )?;
        if let Some(d) = i.network_credit_duration {
            if !ty.burstable() {
                return Err(cx.err(
                    "network_credit_duration",
                    "",
                    format!("instance {:?}: {} has no burst bandwidth (no network I/O credits)", i.name, ty.name),
                    "a burstable type (an \"up to\" bandwidth, 16 vCPUs or fewer)".into(),
                    "e.g. t3.micro, m5.large, c6in.large; or leave the field out".into(),
                ));
            }
            if d == SimDuration::ZERO || d > SimDuration::from_secs(3600) {
                return Err(cx.err(
                    "network_credit_duration",
                    "",
                    format!("network_credit_duration {d}"),
                    "more than 0 and at most 1h".into(),
                    "AWS: a full balance typically lasts 5 to 60 minutes at the burst rate".into(),
                ));
            }
        }
        if i.adapter != ec2::adapter::Adapter::Ena {
            let needs_ena = i.enis.iter().find(|e| e.ena_srd_enabled || e.interface_type == InterfaceType::Efa);
            if let Some(e) = needs_ena {
                return Err(cx.err(
                    "adapter",
                    i.adapter.driver(),
                    format!(
                        "instance {:?}: ENI {:?} needs ENA, but the adapter is {}",
                        i.name,
                        e.name,
                        i.adapter.driver()
                    ),
                    "adapter: \"ena\" for ENA Express or EFA".into(),
                    "ENA Express and EFA are features of the Elastic Network Adapter on Nitro".into(),
                ));
            }
        }
        if i.enis.len() > ty.max_enis as usize {
            return Err(cx.err(
                "enis",
                "",
                format!("instance {:?} has {} ENIs; {} allows {}", i.name, i.enis.len(), ty.name, ty.max_enis),
                format!("at most {} ENIs", ty.max_enis),
                "use a larger instance type or fewer ENIs".into(),
            ));
        }
        unique(cx, "ENI", i.enis.iter().map(|e| e.name.as_str()))?;
        for e in &i.enis {
            cx.range("mtu", e.mtu, MIN_MTU, MAX_MTU, "EC2 supports MTUs up to 9001 inside a VPC")?;
            if e.security_groups.len() > ec2::MAX_SECURITY_GROUPS_PER_ENI {
                return Err(cx.err(
                    "security_groups",
                    "",
                    format!("ENI {:?} has {} security groups", e.name, e.security_groups.len()),
                    format!("at most {} per ENI", ec2::MAX_SECURITY_GROUPS_PER_ENI),
                    "merge rules into fewer groups (the VPC quota is 5 per ENI)".into(),
                ));
            }
            if e.network_card_index >= ty.network_cards {
                return Err(cx.err(
                    "network_card_index",
                    &e.network_card_index.to_string(),
                    format!(
                        "ENI {:?} is on network card {}, but {} has {}",
                        e.name, e.network_card_index, ty.name, ty.network_cards
                    ),
                    format!("0 ..= {}", ty.network_cards - 1),
                    "only multi-card types (p5, trn1, c6in.32xlarge...) have more than card 0".into(),
                ));
            }
            if e.ena_srd_enabled && !ty.ena_express {
                return Err(cx.err(
                    "ena_srd_enabled",
                    "true",
                    format!("ENI {:?}: {} does not support ENA Express", e.name, ty.name),
                    "an instance type with ENA Express support (nitrosim list, column ENA-X)".into(),
                    "e.g. c6in.16xlarge, c7gn.16xlarge, m6i.32xlarge; or set ena_srd_enabled: false".into(),
                ));
            }
            for g in &e.security_groups {
                reference(cx, "security_groups", g, &sgs, "security group")?;
            }
            conntrack_timeouts(
                cx,
                [e.conntrack_tcp_established_timeout, e.conntrack_udp_timeout, e.conntrack_udp_stream_timeout],
            )?;
            if e.interface_type == InterfaceType::Efa && !ty.efa {
                return Err(cx.err(
                    "interface_type",
                    "efa",
                    format!("ENI {:?}: {} does not support EFA", e.name, ty.name),
                    "an instance type with EFA (nitrosim list, column EFA)".into(),
                    "e.g. c5n.18xlarge, hpc6a.48xlarge, p5.48xlarge; c5n.large has none".into(),
                ));
            }
            if e.ena_srd_udp_enabled && !e.ena_srd_enabled {
                return Err(cx.err(
                    "ena_srd_udp_enabled",
                    "true",
                    format!("ENI {:?} enables ENA Express UDP without ENA Express", e.name),
                    "ena_srd_enabled: true alongside ena_srd_udp_enabled".into(),
                    "AWS accepts EnaSrdUdpEnabled only when EnaSrdEnabled is true".into(),
                ));
            }
            if e.private_ip_count == 0 || e.private_ip_count > ty.ipv4_per_eni {
                return Err(cx.err(
                    "private_ip_count",
                    &e.private_ip_count.to_string(),
                    format!("ENI {:?} asks for {} private IPv4 addresses", e.name, e.private_ip_count),
                    format!("1 ..= {} for {}", ty.ipv4_per_eni, ty.name),
                    "see the type's IPv4-addresses-per-interface limit".into(),
                ));
            }
        }
    }
    // Cluster placement groups keep their members in one rack.
    for p in s.placement_groups.iter().filter(|p| p.strategy == "cluster") {
        let members = s.instances.iter().filter(|i| i.placement_group.as_deref() == Some(&p.name)).count();
        if members as u32 > f.hosts_per_rack {
            return Err(cx.err(
                "name",
                &p.name,
                format!("cluster placement group {:?} has {members} instances, more than one rack holds", p.name),
                format!("at most hosts_per_rack = {}", f.hosts_per_rack),
                "raise fabric.hosts_per_rack (cluster groups pack into one rack here)".into(),
            ));
        }
    }

    if let Err(e) = crate::scenario::placement::place(s) {
        return Err(cx.err(
            "rack",
            "",
            e,
            "every instance on a host of its rack".into(),
            "add hosts_per_rack, or spread instances over racks".into(),
        ));
    }
    Ok(inst_names)
}

/// Connection-tracking idle timeouts (an instance's, or one ENI's) within the API's ranges.
fn conntrack_timeouts(cx: &Ctx, [tcp, udp, udp_stream]: [Option<u32>; 3]) -> Result<(), Diagnostic> {
    use crate::ec2::conntrack::*;
    let timeouts = [
        (
            "conntrack_tcp_established_timeout",
            tcp,
            TCP_ESTABLISHED_TIMEOUT_S_MIN,
            TCP_ESTABLISHED_TIMEOUT_S_MAX,
            "seconds (AWS API TcpEstablishedTimeout: 60 to 432000, default 432000)",
        ),
        (
            "conntrack_udp_timeout",
            udp,
            UDP_TIMEOUT_S_MIN,
            UDP_TIMEOUT_S_MAX,
            "seconds (AWS API UdpTimeout: 30 to 60, default 30)",
        ),
        (
            "conntrack_udp_stream_timeout",
            udp_stream,
            UDP_STREAM_TIMEOUT_S_MIN,
            UDP_STREAM_TIMEOUT_S_MAX,
            "seconds (AWS API UdpStreamTimeout: 60 to 180, default 180)",
        ),
    ];
    for (key, v, lo, hi, hint) in timeouts {
        if let Some(v) = v {
            cx.range(key, v, lo, hi, hint)?;
        }
    }
    Ok(())
}
