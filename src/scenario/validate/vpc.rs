//! The VPC: subnets, network ACLs, security-group rules, gateways, paths, and the IP and TCP
//! knobs that go with them.

use super::diag::{Ctx, reference, unique};
use super::limits::{self};
use crate::ec2::catalog;
use crate::scenario::error::{Diagnostic, did_you_mean};
use crate::scenario::spec::*;
use crate::units::SimDuration;
use std::collections::BTreeSet;

/// Subnets, network ACLs, security-group rules, gateways, paths, and the IP and TCP knobs that
/// go with them.
pub(super) fn vpc(
    cx: &Ctx,
    s: &ScenarioSpec,
    inst_names: &BTreeSet<&str>,
    sgs: &BTreeSet<&str>,
) -> Result<(), Diagnostic> {
    use super::limits::{MAX_MTU, MIN_MTU};
    use crate::ec2::vpc::{self as v, Cidr};
    let acls = unique(cx, "network ACL", s.network_acls.iter().map(|a| a.name.as_str()))?;
    let subnets = unique(cx, "subnet", s.subnets.iter().map(|n| n.name.as_str()))?;
    let cidr = |value: &str| {
        Cidr::parse(value).map_err(|e| {
            cx.err(
                "cidr",
                value,
                e,
                "an IPv4 CIDR block such as \"10.0.1.0/24\"".into(),
                "host bits must be zero".into(),
            )
        })
    };
    let mut blocks: Vec<(&str, Cidr)> = Vec::new();
    for n in &s.subnets {
        let c = cidr(&n.cidr)?;
        if c.prefix < 16 || c.prefix > 28 {
            return Err(cx.err(
                "cidr",
                &n.cidr,
                format!("subnet {:?}: /{} block", n.name, c.prefix),
                "a /16 to /28 block (the VPC limits)".into(),
                "e.g. \"10.0.1.0/24\"".into(),
            ));
        }
        if let Some((other, _)) = blocks.iter().find(|(_, b)| b.contains(c.base) || c.contains(b.base)) {
            return Err(cx.err(
                "cidr",
                &n.cidr,
                format!("subnet {:?} ({c}) overlaps subnet {other:?}", n.name),
                "subnet blocks that do not overlap".into(),
                "give each subnet its own block of the VPC".into(),
            ));
        }
        blocks.push((&n.name, c));
        if let Some(a) = &n.network_acl {
            reference(cx, "network_acl", a, &acls, "network ACL")?;
        }
    }
    for i in &s.instances {
        if let Some(n) = &i.subnet {
            reference(cx, "subnet", n, &subnets, "subnet")?;
        }
    }
    for (k, n) in s.subnets.iter().enumerate() {
        let members: Vec<&InstanceSpec> =
            s.instances.iter().filter(|i| i.subnet.as_ref().map_or(k == 0, |x| x == &n.name)).collect();
        if let Some(i) = members.iter().find(|i| i.availability_zone != members[0].availability_zone) {
            return Err(cx.err(
                "availability_zone",
                &i.availability_zone,
                format!("subnet {:?} holds instances in two availability zones", n.name),
                "one availability zone per subnet".into(),
                format!("a subnet lives in one AZ; put {:?} in a subnet of its own AZ", i.name),
            ));
        }
        let room = blocks[k].1.size() - v::SUBNET_RESERVED_TOTAL;
        if members.len() as u64 > room {
            return Err(cx.err(
                "cidr",
                &n.cidr,
                format!("subnet {:?} has {room} usable addresses for {} instances", n.name, members.len()),
                "a block with room for every instance in it".into(),
                "EC2 reserves 5 addresses of every subnet; use a larger block".into(),
            ));
        }
    }
    let proto = |value: &str| {
        v::parse_protocol(value).map_err(|e| {
            cx.err(
                "protocol",
                value,
                e,
                "\"tcp\", \"udp\", \"icmp\", \"all\" or a protocol number".into(),
                "as in the EC2 API (-1 = all)".into(),
            )
        })
    };
    let ports = |value: &Option<String>, protocol: Option<u8>| -> Result<(), Diagnostic> {
        let Some(p) = value else { return Ok(()) };
        v::parse_ports(p).map_err(|e| {
            cx.err("ports", p, e, "\"443\" or \"1024-65535\"".into(), "a port or an inclusive range".into())
        })?;
        if !matches!(protocol, Some(v::PROTO_TCP) | Some(v::PROTO_UDP)) {
            return Err(cx.err(
                "ports",
                p,
                "ports on a rule that is not TCP or UDP".into(),
                "no `ports` for ICMP or all-protocol rules".into(),
                "ICMP rules match `icmp_type` / `icmp_code` instead".into(),
            ));
        }
        Ok(())
    };
    let icmp = |t: Option<i32>, key: &str| -> Result<(), Diagnostic> {
        match t {
            Some(x) if !(-1..=255).contains(&x) => Err(cx.err(
                key,
                &x.to_string(),
                format!("ICMP {key} {x}"),
                "-1 (any) or 0 ..= 255".into(),
                "fragmentation needed is icmp_type 3, icmp_code 4".into(),
            )),
            _ => Ok(()),
        }
    };
    for a in &s.network_acls {
        for (dir, rules) in [("inbound", &a.inbound), ("outbound", &a.outbound)] {
            if rules.len() > v::ACL_RULES_MAX {
                return Err(cx.err(
                    dir,
                    "",
                    format!("network ACL {:?} has {} {dir} rules", a.name, rules.len()),
                    format!("at most {} rules per direction", v::ACL_RULES_MAX),
                    "the VPC quota is 20 per direction, 40 at most".into(),
                ));
            }
            let mut numbers = BTreeSet::new();
            for r in rules {
                cx.range("rule", r.rule, 1, v::ACL_RULE_NUMBER_MAX, "network ACL rule numbers run 1 ..= 32766")?;
                if !numbers.insert(r.rule) {
                    let (l, c) = cx.locate_nth("rule", &r.rule.to_string(), 1);
                    return Err(Diagnostic::new(
                        cx.file,
                        format!("network ACL {:?} has two {dir} rules numbered {}", a.name, r.rule),
                    )
                    .at(cx.src, l, c)
                    .expected("one rule per number in each direction")
                    .hint("rules are evaluated in number order; leave gaps (100, 110, 120) to insert later"));
                }
                let p = proto(&r.protocol)?;
                ports(&r.ports, p)?;
                icmp(r.icmp_type, "icmp_type")?;
                icmp(r.icmp_code, "icmp_code")?;
                cidr(&r.cidr)?;
                if !["allow", "deny"].contains(&r.action.to_ascii_lowercase().as_str()) {
                    return Err(cx.err(
                        "action",
                        &r.action,
                        format!("network ACL action {:?}", r.action),
                        "\"allow\" or \"deny\"".into(),
                        "network ACLs can deny; security groups only allow".into(),
                    ));
                }
            }
        }
    }
    for g in &s.security_groups {
        let rules = g.inbound.iter().chain(g.outbound.iter().flatten());
        if g.inbound.len() > v::SG_RULES_MAX || g.outbound.as_ref().is_some_and(|o| o.len() > v::SG_RULES_MAX) {
            return Err(cx.err(
                "inbound",
                "",
                format!("security group {:?} has more than {} rules in a direction", g.name, v::SG_RULES_MAX),
                format!("at most {} per direction", v::SG_RULES_MAX),
                "the VPC quota is 60 rules per direction".into(),
            ));
        }
        for r in rules {
            let p = proto(&r.protocol)?;
            ports(&r.ports, p)?;
            icmp(r.icmp_type, "icmp_type")?;
            icmp(r.icmp_code, "icmp_code")?;
            if Cidr::parse(&r.peer).is_err() && !sgs.contains(r.peer.as_str()) {
                let list: Vec<String> = sgs.iter().map(|k| format!("{k:?}")).collect();
                return Err(cx.err(
                    "peer",
                    &r.peer,
                    format!(
                        "security group {:?}: rule names {:?}, neither a CIDR block nor a security group",
                        g.name, r.peer
                    ),
                    format!("a CIDR block (\"10.0.0.0/16\") or one of the groups: {}", list.join(", ")),
                    match did_you_mean(&r.peer, sgs.iter().copied()) {
                        Some(m) => format!("did you mean {m:?}?"),
                        None => "define the group, or write a CIDR block".into(),
                    },
                ));
            }
        }
    }
    let gws = unique(cx, "gateway", s.gateways.iter().map(|g| g.name.as_str()))?;
    for g in &s.gateways {
        if let Some(m) = g.mtu {
            let max = g.kind.max_mtu();
            if !(MIN_MTU..=max).contains(&m) {
                return Err(cx.err(
                    "mtu",
                    &m.to_string(),
                    format!("gateway {:?}: MTU {m} for a {}", g.name, g.kind.label()),
                    format!("{MIN_MTU} ..= {max}"),
                    format!("a {} carries at most {max}-byte packets (EC2 network MTU page)", g.kind.label()),
                ));
            }
        }
        if let Some(m) = g.mss_clamp {
            cx.range("mss_clamp", m, 88, MAX_MTU - 40, "an MSS such as 1460 (1500 - 40) or 1360 for a VPN")?;
        }
        for (key, d) in [("scale_interval", g.scale_interval), ("idle_timeout", g.idle_timeout)] {
            let Some(d) = d else { continue };
            if g.kind != crate::ec2::gateway::GatewayKind::NatGateway {
                return Err(cx.err(
                    key,
                    "",
                    format!("gateway {:?}: `{key}` is a NAT gateway setting, not a {}'s", g.name, g.kind.label()),
                    "no such field on this gateway".into(),
                    "remove it, or make the gateway `kind: NatGateway`".into(),
                ));
            }
            if d < SimDuration::from_ms(1) || d > SimDuration::from_secs(432_000) {
                return Err(cx.err(
                    key,
                    "",
                    format!("gateway {:?}: `{key}` {d}", g.name),
                    "1ms ..= 432000s".into(),
                    "AWS: idle timeout 350 s; the scaling interval is a model choice (60 s)".into(),
                ));
            }
        }
        if let Some(d) = g.delay
            && d > SimDuration::from_secs(1)
        {
            return Err(cx.err(
                "delay",
                "",
                format!("gateway {:?} delay {d}", g.name),
                "at most 1 s".into(),
                "a crossing takes microseconds (or tens of ms between Regions)".into(),
            ));
        }
    }
    let mut pairs = BTreeSet::new();
    for p in &s.paths {
        let (a, b) = (&p.between.0, &p.between.1);
        reference(cx, "between", a, inst_names, "instance")?;
        reference(cx, "between", b, inst_names, "instance")?;
        if a == b || !pairs.insert((a.min(b), a.max(b))) {
            return Err(cx.err(
                "between",
                "",
                format!("path between {a:?} and {b:?} is {}", if a == b { "a loop" } else { "given twice" }),
                "one path per pair of distinct instances".into(),
                "list every gateway of the route in one `via`".into(),
            ));
        }
        if p.via.is_empty() {
            return Err(cx.err(
                "via",
                "",
                format!("path between {a:?} and {b:?} crosses no gateway"),
                "one or more gateway names".into(),
                "instances with no path entry talk directly".into(),
            ));
        }
        for g in &p.via {
            if g == a || g == b {
                return Err(cx.err(
                    "via",
                    g,
                    format!("path between {a:?} and {b:?} goes via {g:?}, one of its own ends"),
                    "gateways or router instances other than the two ends".into(),
                    "an end needs no hop to reach itself; list only what lies between".into(),
                ));
            }
            if !inst_names.contains(g.as_str()) {
                let hops: BTreeSet<&str> = gws.iter().chain(inst_names.iter()).copied().collect();
                reference(cx, "via", g, &hops, "gateway or router instance")?;
            }
        }
    }
    cidr(&s.vpc_cidr)?;
    unique(cx, "service", s.services.iter().map(|x| x.name.as_str()))?;
    for svc in &s.services {
        reference(cx, "instance", &svc.instance, inst_names, "instance")?;
        let holder = s.instances.iter().find(|i| i.name == svc.instance).expect("checked reference");
        if let Some(e) = &svc.eni
            && holder.enis.iter().skip(1).all(|x| &x.name != e)
        {
            let secondary: Vec<String> = holder.enis.iter().skip(1).map(|x| format!("{:?}", x.name)).collect();
            return Err(cx.err(
                "eni",
                e,
                format!("service {:?}: {e:?} is not a secondary ENI of {}", svc.name, holder.name),
                format!(
                    "one of its secondary ENIs: {}",
                    if secondary.is_empty() { "none".into() } else { secondary.join(", ") }
                ),
                "the primary ENI (the first) cannot be detached".into(),
            ));
        }
        if svc.address == ServiceAddress::SecondaryEni && holder.enis.len() < 2 {
            return Err(cx.err(
                "address",
                "SecondaryEni",
                format!("service {:?} lives on a secondary ENI, but {} has only its primary", svc.name, holder.name),
                "a second ENI on the instance (the primary ENI cannot be detached)".into(),
                "add e.g. (name: \"service\") to its enis".into(),
            ));
        }
        if let ServiceAddress::Dns { ttl } = svc.address
            && ttl > SimDuration::from_secs(86_400)
        {
            return Err(cx.err("ttl", "", format!("a DNS TTL of {ttl}"), "at most 1 day".into(), "".into()));
        }
    }
    let tables = unique(cx, "route table", s.route_tables.iter().map(|t| t.name.as_str()))?;
    for n in &s.subnets {
        if let Some(t) = &n.route_table {
            reference(cx, "route_table", t, &tables, "route table")?;
        }
    }
    for t in &s.route_tables {
        let mut seen = BTreeSet::new();
        for r in &t.routes {
            let c = cidr(&r.destination)?;
            if !seen.insert((c.base, c.prefix)) {
                return Err(cx.err(
                    "destination",
                    &r.destination,
                    format!("route table {:?} has two routes to {c}", t.name),
                    "one route per destination block".into(),
                    "the most specific block wins; give each target its own block".into(),
                ));
            }
            if r.target != "local" && !gws.contains(r.target.as_str()) && !inst_names.contains(r.target.as_str()) {
                let hops: BTreeSet<&str> = gws.iter().chain(inst_names.iter()).copied().collect();
                reference(cx, "target", &r.target, &hops, "gateway or router instance")?;
            }
            // Follow the block's traffic from the router through the route tables (as the model
            // does, for the block's first address): reaching a router twice is a loop, not a route.
            if let Some(first) = s.instances.iter().find(|i| i.name == r.target) {
                let vpc_block = Cidr::parse(&s.vpc_cidr).ok();
                let mut seen = vec![first.name.as_str()];
                let mut at = first;
                while let Some(next) = next_router(s, at, c.base, vpc_block) {
                    if seen.contains(&next.name.as_str()) {
                        seen.push(&next.name);
                        return Err(cx.err(
                            "target",
                            &r.target,
                            format!(
                                "route table {:?} sends {c} to {:?}, and the route tables send it on in a loop: {}",
                                t.name,
                                r.target,
                                seen.join(" -> ")
                            ),
                            format!("routes that lead {c} out of the loop"),
                            format!(
                                "give the subnet of {:?} a table that sends {c} on (an internet gateway, as a NAT \
                                 instance's public subnet does)",
                                seen[seen.len() - 2]
                            ),
                        ));
                    }
                    seen.push(&next.name);
                    at = next;
                }
            }
        }
    }
    for c in &s.report.capture {
        if !inst_names.contains(c.as_str()) && !gws.contains(c.as_str()) {
            return Err(cx.err(
                "capture",
                c,
                format!("capture point {c:?} is neither an instance nor a gateway"),
                "instance or gateway names".into(),
                "leave `capture` empty to capture at every instance and gateway".into(),
            ));
        }
    }
    if s.actions.len() > 10_000 {
        return Err(cx.err("actions", "", format!("{} actions", s.actions.len()), "at most 10000".into(), "".into()));
    }
    for a in &s.actions {
        if a.at > s.duration {
            return Err(cx.err(
                "at",
                "",
                format!("an action at {} comes after the end of the run ({})", a.at, s.duration),
                format!("0 ..= {}", s.duration),
                "lengthen `duration` or move the action earlier".into(),
            ));
        }
        match &a.action {
            Action::SetNetworkAcl { acl, inbound, outbound } => {
                let names: BTreeSet<&str> = s.network_acls.iter().map(|x| x.name.as_str()).collect();
                reference(cx, "acl", acl, &names, "network ACL")?;
                // The new rules must pass the same checks as the file's own.
                let mut changed = s.clone();
                changed.actions.clear();
                let a = changed.network_acls.iter_mut().find(|x| &x.name == acl).expect("checked reference");
                (a.inbound, a.outbound) = (inbound.clone(), outbound.clone());
                vpc(cx, &changed, inst_names, sgs)?;
            }
            Action::SetSecurityGroup { group, inbound, outbound } => {
                reference(cx, "group", group, sgs, "security group")?;
                let mut changed = s.clone();
                changed.actions.clear();
                let g = changed.security_groups.iter_mut().find(|x| &x.name == group).expect("checked reference");
                (g.inbound, g.outbound) = (inbound.clone(), outbound.clone());
                vpc(cx, &changed, inst_names, sgs)?;
            }
            Action::SetEnaExpress { instance, enabled } => {
                reference(cx, "instance", instance, inst_names, "instance")?;
                let i = s.instances.iter().find(|x| &x.name == instance).expect("checked reference");
                if *enabled && !catalog::lookup(&i.instance_type).is_some_and(|t| t.ena_express) {
                    return Err(cx.err(
                        "enabled",
                        "true",
                        format!("{} does not support ENA Express", i.instance_type),
                        "an instance type with ENA Express support (nitrosim list, column ENA-X)".into(),
                        "e.g. c6in.16xlarge, c7gn.16xlarge".into(),
                    ));
                }
            }
            Action::SetMtu { instance, mtu } => {
                reference(cx, "instance", instance, inst_names, "instance")?;
                cx.range("mtu", *mtu, limits::MIN_MTU, limits::MAX_MTU, "EC2 supports MTUs up to 9001 inside a VPC")?;
            }
            Action::SetSourceDestCheck { instance, .. }
            | Action::FailInstance { instance }
            | Action::RestoreInstance { instance } => reference(cx, "instance", instance, inst_names, "instance")?,
            Action::DetachEni { service } | Action::AttachEni { service, .. } => {
                let names: BTreeSet<&str> = s.services.iter().map(|x| x.name.as_str()).collect();
                reference(cx, "service", service, &names, "service")?;
                let svc = s.services.iter().find(|x| &x.name == service).expect("checked reference");
                if svc.address != ServiceAddress::SecondaryEni {
                    return Err(cx.err(
                        "service",
                        service,
                        format!("service {service:?} is not on a secondary ENI"),
                        "a service with address: SecondaryEni".into(),
                        "Elastic IPs and DNS records move with Failover".into(),
                    ));
                }
                if let Action::AttachEni { to, .. } = &a.action {
                    reference(cx, "to", to, inst_names, "instance")?;
                    let find = |n: &str| s.instances.iter().find(|i| i.name == n).expect("checked reference");
                    if find(&svc.instance).availability_zone != find(to).availability_zone {
                        return Err(cx.err(
                            "to",
                            to,
                            format!("attaching {service:?}'s ENI to {to}, in another availability zone"),
                            "an instance in the ENI's availability zone".into(),
                            "an ENI lives in one subnet, hence one AZ".into(),
                        ));
                    }
                }
            }
            Action::Failover { service, to, delay } => {
                let names: BTreeSet<&str> = s.services.iter().map(|x| x.name.as_str()).collect();
                reference(cx, "service", service, &names, "service")?;
                reference(cx, "to", to, inst_names, "instance")?;
                let svc = s.services.iter().find(|x| &x.name == service).expect("checked reference");
                let find = |n: &str| s.instances.iter().find(|i| i.name == n).expect("checked reference");
                let (from, dest) = (find(&svc.instance), find(to));
                if svc.address == ServiceAddress::SecondaryEni {
                    if from.availability_zone != dest.availability_zone {
                        return Err(cx.err(
                            "to",
                            to,
                            format!(
                                "failover of {service:?} moves a secondary ENI from {} ({}) to {to} ({})",
                                from.name, from.availability_zone, dest.availability_zone
                            ),
                            "a standby in the same availability zone".into(),
                            "an ENI lives in one subnet, hence one AZ; across AZs use an Elastic IP or DNS".into(),
                        ));
                    }
                    let ty = catalog::lookup(&dest.instance_type);
                    if ty.is_some_and(|t| dest.enis.len().max(1) + 1 > t.max_enis as usize) {
                        return Err(cx.err(
                            "to",
                            to,
                            format!(
                                "{to} has no room for another ENI ({} allows {})",
                                dest.instance_type,
                                ty.map_or(0, |t| t.max_enis)
                            ),
                            "a standby below its type's ENI limit".into(),
                            "remove an ENI from the standby or use a larger type".into(),
                        ));
                    }
                }
                if delay.is_some_and(|d| d > SimDuration::from_secs(3600)) {
                    return Err(cx.err("delay", "", "a failover delay over 1h".into(), "at most 1h".into(), "".into()));
                }
            }
            Action::FailLink { rack, spine } | Action::RestoreLink { rack, spine } => {
                cx.range("rack", *rack, 0, s.fabric.racks.saturating_sub(1), "racks are numbered from 0")?;
                cx.range("spine", *spine, 0, s.fabric.spines.saturating_sub(1), "spines are numbered from 0")?;
            }
            Action::FailSpine { spine } | Action::RestoreSpine { spine } | Action::DegradeSpine { spine, .. } => {
                cx.range("spine", *spine, 0, s.fabric.spines.saturating_sub(1), "spines are numbered from 0")?;
                if let Action::DegradeSpine { rate, .. } = &a.action
                    && rate.bps() == 0
                {
                    return Err(cx.err(
                        "rate",
                        "",
                        "a degraded spine at 0 bit/s".into(),
                        "a positive rate".into(),
                        "use FailSpine for a link that is down".into(),
                    ));
                }
            }
        }
    }
    let t = &s.tcp;
    cx.range("mtu_probing", t.mtu_probing, 0, 2, "Linux tcp_mtu_probing: 0 off, 1 after a black hole, 2 always")?;
    cx.range("base_mss", t.base_mss, 48, MAX_MTU - 52, "Linux tcp_base_mss (1024)")?;
    cx.range("retries1", t.retries1, 1, 255, "Linux tcp_retries1 (3)")?;
    cx.range("retries2", t.retries2, 1, 255, "Linux tcp_retries2 (15)")?;
    cx.range("probe_threshold", t.probe_threshold, 1, 4096, "Linux tcp_probe_threshold (8 bytes)")?;
    cx.positive("ipfrag_time", s.ip.ipfrag_time)?;
    let ms = |d: SimDuration| d.ps() / 1_000_000_000;
    cx.range(
        "latency",
        ms(s.inter_az.latency),
        0,
        100,
        "inter-AZ one-way latency in ms (AWS: single-digit ms round trips)",
    )?;
    if let Some(c) = s.inter_az.capacity {
        cx.range("capacity", c.bps() / 1_000_000, 1, 100_000_000, "inter-AZ capacity in Mbps (e.g. \"400Gbps\")")?;
        cx.range("buffer", s.inter_az.buffer.0, 9001, 1 << 34, "bytes queued in front of the inter-AZ link")?;
    }
    cx.positive("pmtu_expires", s.ip.pmtu_expires)?;
    if s.ip.ipfrag_high_thresh.0 < 65_536 {
        return Err(cx.err(
            "ipfrag_high_thresh",
            "",
            format!("ipfrag_high_thresh {}", s.ip.ipfrag_high_thresh),
            "at least 64KiB (one largest datagram)".into(),
            "Linux's default is 4MiB".into(),
        ));
    }
    Ok(())
}

/// The instance that `at`'s subnet's route table sends `dst` to, if any (chosen as the model
/// chooses, [`crate::ec2::vpc::route_for`]).
fn next_router<'a>(
    s: &'a ScenarioSpec,
    at: &InstanceSpec,
    dst: u32,
    vpc_block: Option<crate::ec2::vpc::Cidr>,
) -> Option<&'a InstanceSpec> {
    let subnet = match &at.subnet {
        Some(name) => s.subnets.iter().find(|n| &n.name == name),
        None => s.subnets.first(),
    };
    let table = subnet?.route_table.as_deref()?;
    let table = s.route_tables.iter().find(|t| t.name == table)?;
    let routes = table
        .routes
        .iter()
        .filter(|r| r.target != "local")
        .filter_map(|r| crate::ec2::vpc::Cidr::parse(&r.destination).ok().map(|c| (c, r)));
    let best = crate::ec2::vpc::route_for(routes, dst, vpc_block)?;
    s.instances.iter().find(|i| i.name == best.target)
}
