//! What `nitrosim check` prints for a valid variant, without simulating.

use crate::ec2::{self, catalog, ena_express};
use crate::scenario::spec::*;
use std::collections::BTreeSet;

/// What `nitrosim check` prints for a valid variant: where instances sit and what limits each
/// communicating pair will meet, without simulating.
/// The gateways crossed from `a` to `b`, in order.
fn path_via<'a>(s: &'a ScenarioSpec, a: &str, b: &str) -> Vec<&'a GatewaySpec> {
    let gw = |n: &String| s.gateways.iter().find(|g| &g.name == n);
    for p in &s.paths {
        if p.between.0 == a && p.between.1 == b {
            return p.via.iter().filter_map(gw).collect();
        }
        if p.between.0 == b && p.between.1 == a {
            return p.via.iter().rev().filter_map(gw).collect();
        }
    }
    Vec::new()
}

/// A PMTUD black hole in the making: DF packets larger than the path MTU (TCP's full-size
/// segments, unless a gateway clamps the MSS) whose ICMP "fragmentation needed" cannot get back.
fn black_hole_risk(
    s: &ScenarioSpec,
    from: &InstanceSpec,
    via: &[&GatewaySpec],
    path_mtu: u32,
    udp: bool,
) -> Option<String> {
    let if_mtu = from.enis.first().map(|e| e.mtu).unwrap_or(ec2::MTU_VPC_JUMBO);
    if path_mtu >= if_mtu || udp {
        return None;
    }
    let clamp = via.iter().filter_map(|g| g.mss_clamp).min();
    if clamp.is_some_and(|c| c + 40 <= path_mtu) {
        return None;
    }
    let probing = match s.tcp.mtu_probing {
        0 => "tcp_mtu_probing = 0: the connection hangs until tcp_retries2 gives up (~924.6 s)",
        1 => {
            "tcp_mtu_probing = 1 recovers once tcp_retries1 (3 s) has passed since the first retransmission: about 6.5 s after the first send"
        }
        _ => "tcp_mtu_probing = 2 probes from tcp_base_mss and never stalls",
    };
    // The smallest-MTU gateway sends the ICMP; a gateway that discards ICMP stops it.
    if let Some(g) = via.iter().find(|g| g.drops_icmp) {
        return Some(format!(
            "PMTUD black hole: {} packets of up to {if_mtu} B cannot pass the path MTU {path_mtu}, and {} {} discards the ICMP \
             fragmentation-needed; {probing}; fixes: let ICMP through, clamp the MSS, or lower the MTU",
            from.name,
            g.kind.label(),
            g.name
        ));
    }
    let vpc = crate::ec2::vpc::Vpc::compile(&crate::scenario::lower::vpc(s)).ok()?;
    let subnet = from.subnet.as_ref().and_then(|n| s.subnets.iter().position(|x| &x.name == n)).unwrap_or(0);
    let setter = via.iter().position(|g| g.mtu.unwrap_or(g.kind.max_mtu()) == path_mtu)?;
    let gw_index = s.gateways.iter().position(|g| g.name == via[setter].name)? as u32;
    let eni = crate::ec2::vpc::EniView { ip: 0, subnet, groups: Vec::new() };
    let refusal = vpc.icmp_error_to(&eni, crate::ec2::gateway::GATEWAY_IP_BASE + gw_index)?;
    Some(format!(
        "PMTUD black hole: {} sends packets of up to {if_mtu} B (DF set) through a path MTU of {path_mtu}, and the ICMP \
         fragmentation-needed is refused by {refusal}; {probing}; fixes: an inbound ICMP type 3 code 4 rule, \
         MSS clamping on the gateway, or a smaller MTU",
        from.name
    ))
}

/// Why the ladder diagram the scenario asks for cannot be drawn, if it cannot (a warning, not an
/// error: shortening a bundled scenario with `--set duration=...` must still run it).
fn ladder_left_out(s: &ScenarioSpec) -> Option<String> {
    let l = s.report.ladder.as_ref()?;
    if l.from >= s.duration {
        return Some(format!("its window starts at {}, when the run ({}) has ended", l.from, s.duration));
    }
    let lifelines = s.flow_lifelines(&l.flow)?;
    if s.report.capture.is_empty() {
        return None;
    }
    let captured = lifelines.iter().filter(|n| s.report.capture.iter().any(|c| c == *n)).count();
    (captured < 2).then(|| {
        format!(
            "flow {:?} needs two of its lifelines ({}) captured, and report.capture lists {}",
            l.flow,
            lifelines.join(", "),
            s.report.capture.join(", ")
        )
    })
}

pub fn describe(variant: &str, s: &ScenarioSpec) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let hosts = crate::scenario::placement::place(s).unwrap_or_default();
    let hpr = s.fabric.hosts_per_rack.max(1);
    let _ = writeln!(o, "variant {variant}:");
    const SHOWN: usize = 16;
    if s.instances.len() > SHOWN {
        let _ = writeln!(o, "  ({} instances; the first {SHOWN} shown)", s.instances.len());
    }
    for (k, i) in s.instances.iter().enumerate().take(SHOWN) {
        let ty = catalog::lookup(&i.instance_type);
        let h = hosts.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "  instance {:<12} {:<16} rack {:>3} host {:>5}  {} Gbps{}  az {}{}",
            i.name,
            i.instance_type,
            h / hpr,
            h,
            ty.map(|t| t.bandwidth_mbps as f64 / 1000.0).unwrap_or(0.0),
            if ty.is_some_and(|t| t.burstable()) { " (burst; baseline lower)" } else { "" },
            i.availability_zone,
            i.placement_group.as_ref().map(|p| format!("  placement group {p}")).unwrap_or_default()
        );
    }
    let find = |n: &str| s.instances.iter().find(|i| i.name == n);
    // `enis`: the ENIs the workload chose at each end (the primaries when `None`).
    let pair = |o: &mut String, w: &str, a: &str, b: &str, udp: bool, enis: [Option<&str>; 2]| {
        let (Some(ia), Some(ib)) = (find(a), find(b)) else {
            return;
        };
        let (ea, eb) = (chosen_eni(ia, enis[0]), chosen_eni(ib, enis[1]));
        fn cluster<'a>(s: &ScenarioSpec, i: &'a InstanceSpec) -> Option<&'a String> {
            i.placement_group
                .as_ref()
                .filter(|p| s.placement_groups.iter().any(|g| &&g.name == p && g.strategy == "cluster"))
        }
        let same_pg = cluster(s, ia).is_some() && cluster(s, ia) == cluster(s, ib);
        let mtu = |e: Option<&EniSpec>| e.map(|e| e.mtu).unwrap_or(ec2::MTU_VPC_JUMBO);
        let via = path_via(s, a, b);
        // The path MTU and the hop that sets it: the interfaces, then each gateway crossed.
        let mut setter = format!("{a}'s interface");
        let mut path_mtu = mtu(ea);
        if mtu(eb) < path_mtu {
            path_mtu = mtu(eb);
            setter = format!("{b}'s interface");
        }
        for g in &via {
            let m = g.mtu.unwrap_or(g.kind.max_mtu());
            if m < path_mtu {
                path_mtu = m;
                setter = format!("{} {}", g.kind.label(), g.name);
            }
        }
        let express = if via.is_empty() {
            ena_express::engages(&[ena_express_end(ia, ea), ena_express_end(ib, eb)], udp)
        } else {
            Err(ena_express::NotEngaged::NotDirect)
        };
        let cap = match (express, same_pg) {
            (Ok(()), _) => format!("{} (ENA Express)", ena_express::FLOW_CAP),
            (Err(_), true) => format!("{} (same cluster placement group)", ec2::FLOW_CAP_CLUSTER_PG),
            (Err(_), false) => format!("{} (not in one cluster placement group)", ec2::FLOW_CAP_DEFAULT),
        };
        let _ = writeln!(
            o,
            "  {w}: {a} -> {b} ({}): per-flow limit {cap}, path MTU {path_mtu} (set by {setter}){}{}",
            if udp { "UDP" } else { "TCP" },
            if via.is_empty() {
                String::new()
            } else {
                format!(", via {}", via.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", "))
            },
            if ia.availability_zone != ib.availability_zone { ", crosses availability zones" } else { "" }
        );
        if let Some(warning) = black_hole_risk(s, ia, &via, path_mtu, udp) {
            let _ = writeln!(o, "    warning: {warning}");
        }
        match express {
            Ok(()) if path_mtu > ena_express::MAX_PACKET_BYTES => {
                let _ = writeln!(
                    o,
                    "    warning: ENA Express engages, but packets over {} B fall back to ENA silently: with MTU {path_mtu} \
                     every full-size packet does; set the ENIs' mtu to {} (AWS's advice)",
                    ena_express::MAX_PACKET_BYTES,
                    ena_express::MAX_PACKET_BYTES
                );
            }
            Ok(()) => {
                let _ = writeln!(
                    o,
                    "    ENA Express engages: SRD carries this traffic (sprayed, retransmitted in the card)"
                );
            }
            Err(why) => {
                let enabled_somewhere = [ea, eb].iter().any(|e| e.is_some_and(|e| e.ena_srd_enabled));
                if enabled_somewhere {
                    let _ = writeln!(o, "    warning: ENA Express does not engage, silently: {why}");
                }
            }
        }
    };
    for svc in &s.services {
        let _ = writeln!(o, "  service {}: {:?} held by {}", svc.name, svc.address, svc.instance);
    }
    for a in &s.actions {
        let effect = match &a.action {
            Action::Failover { service, delay, .. } => {
                let kind = s.services.iter().find(|x| &x.name == service).map(|x| x.address);
                match (delay, kind) {
                    (Some(d), _) => format!(" (takes effect {d} later)"),
                    (None, Some(k)) => format!(
                        " (takes effect {} later, drawn per seed)",
                        crate::scenario::lower::service_address(k).failover_bounds()
                    ),
                    _ => String::new(),
                }
            }
            Action::DetachEni { .. } => format!(" (takes effect {} later)", crate::ec2::failover::ENI_DETACH),
            Action::AttachEni { .. } => format!(" (takes effect {} later)", crate::ec2::failover::ENI_ATTACH),
            _ => String::new(),
        };
        let _ = writeln!(o, "  at {}: {:?}{effect}", a.at, a.action);
    }
    if let Some(why) = ladder_left_out(s) {
        let _ = writeln!(o, "  warning: no ladder diagram: {why}");
    }
    for i in &s.instances {
        let routes_through = s.paths.iter().any(|p| p.via.contains(&i.name))
            || s.route_tables.iter().any(|t| t.routes.iter().any(|r| r.target == i.name));
        if routes_through && i.enis.first().is_none_or(|e| e.source_dest_check) {
            let _ = writeln!(
                o,
                "  warning: {} forwards others' traffic (a route or path goes through it) but its source/destination \
                 check is on: every forwarded packet is dropped (source_dest_check: false on its ENI)",
                i.name
            );
        }
    }
    for w in &s.workloads {
        match w {
            WorkloadSpec::FlowLogs(f) => {
                let ends: BTreeSet<&str> = f.interfaces.values().map(String::as_str).collect();
                let _ = writeln!(
                    o,
                    "  {}: replays {} ({} mapped interfaces/addresses on {} instances{}), speedup {}, scale {}",
                    f.name,
                    f.file,
                    f.interfaces.len(),
                    ends.len(),
                    f.internet.as_ref().map(|i| format!(", outside addresses -> {i}")).unwrap_or_default(),
                    f.speedup,
                    f.scale
                );
            }
            WorkloadSpec::Bulk(b) => {
                pair(&mut o, &b.name, &b.from, &b.to, false, [b.from_eni.as_deref(), b.to_eni.as_deref()])
            }
            WorkloadSpec::Rpc(r) => {
                pair(&mut o, &r.name, &r.client, &r.server, false, [r.client_eni.as_deref(), r.server_eni.as_deref()])
            }
            WorkloadSpec::Datagrams(d) => {
                pair(&mut o, &d.name, &d.from, &d.to, true, [d.from_eni.as_deref(), d.to_eni.as_deref()])
            }
            WorkloadSpec::Connections(c) => {
                let n = s.fleet(&c.from).count();
                let _ =
                    writeln!(o, "  {}: {n} client(s) x {} connections -> {} over {}", c.name, c.count, c.to, c.over);
            }
            WorkloadSpec::ServiceClients(c) => {
                let n = s.fleet(&c.clients).count();
                let _ = writeln!(o, "  {}: {n} client(s) -> service {} every {}", c.name, c.service, c.interval);
            }
            WorkloadSpec::LinkLocal(l) => {
                let rate = 1e12 / l.mean_interval.ps().max(1) as f64;
                let _ = writeln!(o, "  {}: {} -> link-local {:?}, {:.0} queries/s", l.name, l.from, l.service, rate);
                if rate > ec2::adapter::LINKLOCAL_PPS as f64 {
                    let _ = writeln!(
                        o,
                        "    warning: above the {} packets/s link-local allowance per ENI: queries will drop (linklocal_allowance_exceeded)",
                        ec2::adapter::LINKLOCAL_PPS
                    );
                }
            }
            WorkloadSpec::Background(b) => {
                let _ = writeln!(o, "  {}: background load {:.1}% of the free hosts' links", b.name, b.load * 100.0);
            }
            WorkloadSpec::AllReduce(a) | WorkloadSpec::AllToAll(a) => {
                let members: Vec<&InstanceSpec> = s.fleet(&a.instances).map(|(_, i)| i).collect();
                let _ = writeln!(
                    o,
                    "  {}: ring all-reduce of {} over {} instances ({:?})",
                    a.name,
                    a.bytes,
                    members.len(),
                    a.transport
                );
                if a.transport.bypasses_kernel()
                    && members.windows(2).any(|w| !efa_groups_allow(s, &w[0].name, &w[1].name))
                {
                    let _ = writeln!(
                        o,
                        "    warning: EFA traffic will be dropped: members share no security group that allows all traffic to and from itself"
                    );
                }
            }
            WorkloadSpec::PingPong(p) => {
                if p.transport.bypasses_kernel() {
                    let _ = writeln!(
                        o,
                        "  {}: {} -> {}: EFA {} (OS bypass, SRD in the card, unordered)",
                        p.name,
                        p.from,
                        p.to,
                        p.transport.label()
                    );
                    if !efa_groups_allow(s, &p.from, &p.to) {
                        let _ = writeln!(
                            o,
                            "    warning: EFA traffic will be dropped: {} and {} share no security group that allows all traffic to and from itself (EFA user guide)",
                            p.from, p.to
                        );
                    }
                    let pg = |n: &str| s.instances.iter().find(|i| i.name == n).and_then(|i| i.placement_group.clone());
                    let cluster = pg(&p.from)
                        .filter(|g| s.placement_groups.iter().any(|x| &x.name == g && x.strategy == "cluster"));
                    if cluster.is_none() || pg(&p.from) != pg(&p.to) {
                        let _ = writeln!(
                            o,
                            "    warning: EFA works best inside one cluster placement group; these instances are not in one"
                        );
                    }
                } else {
                    pair(&mut o, &p.name, &p.from, &p.to, false, [None, None]);
                }
            }
            WorkloadSpec::Permutation(p) => {
                let members: Vec<&InstanceSpec> = s.fleet(&p.instances).map(|(_, i)| i).collect();
                let _ = writeln!(
                    o,
                    "  {}: permutation over {} instances ({}), {} flow(s) each",
                    p.name,
                    members.len(),
                    p.instances,
                    p.flows_per_instance
                );
                if let [a, b, ..] = members[..] {
                    pair(&mut o, &p.name, &a.name, &b.name, false, [None, None]);
                }
            }
        }
    }
    o
}

/// The ENI a workload named on an instance, or its primary.
fn chosen_eni<'a>(i: &'a InstanceSpec, name: Option<&str>) -> Option<&'a EniSpec> {
    match name {
        Some(n) => i.enis.iter().find(|e| e.name == n),
        None => i.enis.first(),
    }
}

/// ENA Express's view of an instance's ENI, for `describe`.
fn ena_express_end(i: &InstanceSpec, eni: Option<&EniSpec>) -> ena_express::End {
    ena_express::End {
        type_supports: catalog::lookup(&i.instance_type).is_some_and(|t| t.ena_express),
        enabled: eni.is_some_and(|e| e.ena_srd_enabled),
        udp_enabled: eni.is_some_and(|e| e.ena_srd_udp_enabled),
        // Zone and Region names compare by identity; the hash only turns them into the rule's index.
        az: ena_express::End::located(&i.availability_zone).0,
        region: ena_express::End::located(&i.availability_zone).1,
        region_cross_az: ena_express::End::located(&i.availability_zone).2,
    }
}

/// EFA's security-group rule: the two primary ENIs share a group that allows all traffic to and
/// from itself.
fn efa_groups_allow(s: &ScenarioSpec, a: &str, b: &str) -> bool {
    let groups = |n: &str| -> Vec<&String> {
        s.instances
            .iter()
            .find(|i| i.name == n)
            .and_then(|i| i.enis.first())
            .map(|e| {
                e.security_groups
                    .iter()
                    .filter(|g| s.security_groups.iter().any(|d| &&d.name == g && d.allow_all_within_group))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (ga, gb) = (groups(a), groups(b));
    ga.iter().any(|g| gb.contains(g))
}
