//! Checks a spec before anything is simulated: references, EC2 limits, and the model's own limits
//! (so absurd inputs get an error, not an out-of-memory). Each failure is a `Diagnostic` pointing
//! at the offending text.

use super::error::{Diagnostic, did_you_mean, locate};
use super::spec::*;
use crate::ec2::{self, catalog, ena_express};
use crate::units::SimDuration;
use std::collections::{BTreeMap, BTreeSet};

/// Model limits. Generous for real use, small enough that a typo cannot exhaust memory.
pub mod limits {
    use crate::units::SimDuration;
    pub const MAX_DURATION: SimDuration = SimDuration::from_secs(3600);
    pub const MAX_RACKS: u32 = 1024;
    pub const MAX_HOSTS_PER_RACK: u32 = 256;
    pub const MAX_SPINES: u32 = 256;
    pub const MAX_HOSTS: u64 = 65_536;
    pub const MAX_INSTANCES: usize = 16_384;
    pub const MAX_PERMUTATION_FLOWS: u64 = 1_000_000;
    /// SRD keeps two routes per path per communicating instance pair (about 100 bytes each):
    /// 4 million is 400 MB, the most we accept before simulating.
    pub const MAX_SRD_PATH_ROUTES: u64 = 4_000_000;
    pub const MAX_FLOWS_PER_WORKLOAD: u32 = 4096;
    pub const MAX_WORKLOADS: usize = 256;
    pub const MAX_VARIANTS: usize = 64;
    pub const MAX_TIMESERIES_BINS: u32 = 10_000;
    /// Packets in a ladder diagram: beyond this it is no longer readable.
    pub const MAX_LADDER_PACKETS: u32 = 2_000;
    pub const MAX_BACKGROUND_CONCURRENT: u32 = 100_000;
    /// IPv4 minimum reassembly size (RFC 791) .. EC2's jumbo MTU.
    pub const MIN_MTU: u32 = 576;
    pub const MAX_MTU: u32 = 9001;
    pub const MAX_MESSAGE_BYTES: u64 = 1 << 40;
    /// Event-log entries kept per variant (about 320 bytes each: 1 GB at most).
    pub const MAX_EVENT_LOG_LIMIT: u32 = 3_000_000;
    /// Packets kept per capture point (about 200 bytes each in memory).
    pub const MAX_CAPTURE_LIMIT: u32 = 5_000_000;
    /// Slowest host copy rate: 1 Mbps copies a 64 KiB message in half a second.
    pub const MIN_COPY_RATE_BPS: u64 = 1_000_000;
}

/// EFA traffic needs an EFA interface at every end, one subnet (AZ), and for one-sided
/// operations an instance type whose EFA device offers them.
fn efa_ends(
    cx: &Ctx,
    s: &ScenarioSpec,
    kind: &str,
    name: &str,
    transport: MessageTransport,
    ends: &[&InstanceSpec],
) -> Result<(), Diagnostic> {
    if !transport.bypasses_kernel() {
        return Ok(());
    }
    let value = format!("{transport:?}");
    if let Some(p) = s
        .paths
        .iter()
        .find(|p| ends.iter().any(|e| e.name == p.between.0) && ends.iter().any(|e| e.name == p.between.1))
    {
        return Err(cx.err(
            "transport",
            &value,
            format!(
                "{kind} {name:?}: EFA between {} and {}, whose path crosses {}",
                p.between.0,
                p.between.1,
                p.via.join(", ")
            ),
            "EFA ends in one subnet, with no gateway between them".into(),
            "EFA's OS-bypass traffic is not routable; use transport: Tcp across gateways".into(),
        ));
    }
    for end in ends {
        if end.enis.first().map(|e| e.interface_type) != Some(InterfaceType::Efa) {
            return Err(cx.err(
                "transport",
                &value,
                format!("{kind} {name:?} uses EFA, but {:?} has no EFA interface", end.name),
                "interface_type: efa on the primary ENI of every end".into(),
                "EFA traffic needs an EFA interface at each end; TCP works on any ENI".into(),
            ));
        }
        if end.availability_zone != ends[0].availability_zone {
            return Err(cx.err(
                "transport",
                &value,
                format!("{kind} {name:?}: EFA between availability zones"),
                "every end in one subnet (one AZ)".into(),
                "EFA's OS-bypass traffic is not routable beyond its subnet".into(),
            ));
        }
        let needed = transport.rdma_needed();
        let has = catalog::lookup(&end.instance_type).map_or(ec2::EfaRdma::None, |t| t.efa_rdma);
        if has < needed {
            let capable: Vec<&str> = catalog::CATALOG.iter().filter(|t| t.efa_rdma >= needed).map(|t| t.name).collect();
            return Err(cx.err(
                "transport",
                &value,
                format!(
                    "{kind} {name:?}: {} offers {has:?} RDMA over EFA, {value} needs {needed:?}",
                    end.instance_type
                ),
                format!("an instance type with EFA RDMA {needed:?}: {}", capable.join(", ")),
                "the EFA user guide: RDMA read on Nitro v4 and later, write on most of those; or use transport: Efa (two-sided)".into(),
            ));
        }
    }
    Ok(())
}

/// Subnets, network ACLs, security-group rules, gateways, paths, and the IP and TCP knobs that
/// go with them.
fn vpc(cx: &Ctx, s: &ScenarioSpec, inst_names: &BTreeSet<&str>, sgs: &BTreeSet<&str>) -> Result<(), Diagnostic> {
    use crate::ec2::vpc::{self as v, Cidr};
    use limits::{MAX_MTU, MIN_MTU};
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
                    let (l, c) = super::error::locate_nth(cx.src, "rule", &r.rule.to_string(), 1);
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
            if !inst_names.contains(g.as_str()) || g == a || g == b {
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

struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
}

impl Ctx<'_> {
    fn err(&self, key: &str, value: &str, message: String, expected: String, hint: String) -> Diagnostic {
        let (l, c) = locate(self.src, key, value);
        Diagnostic::new(self.file, message).at(self.src, l, c).expected(expected).hint(hint)
    }
    fn range<T: PartialOrd + std::fmt::Display + Copy>(
        &self,
        key: &str,
        v: T,
        lo: T,
        hi: T,
        hint: &str,
    ) -> Result<(), Diagnostic> {
        if v < lo || v > hi {
            return Err(self.err(
                key,
                &v.to_string(),
                format!("`{key}` is {v}, out of range"),
                format!("{lo} ..= {hi}"),
                hint.into(),
            ));
        }
        Ok(())
    }
    fn positive(&self, key: &str, d: SimDuration) -> Result<(), Diagnostic> {
        if d == SimDuration::ZERO {
            return Err(self.err(
                key,
                "0",
                format!("`{key}` must be longer than zero"),
                "a positive duration such as \"10us\"".into(),
                "zero would make events pile up at one instant".into(),
            ));
        }
        Ok(())
    }
}

fn unique<'a>(cx: &Ctx, what: &str, names: impl IntoIterator<Item = &'a str>) -> Result<BTreeSet<&'a str>, Diagnostic> {
    let mut seen = BTreeSet::new();
    for n in names {
        if n.is_empty() {
            return Err(cx.err(
                "name",
                "",
                format!("a {what} has an empty name"),
                "a non-empty name".into(),
                "names are how the rest of the file refers to it".into(),
            ));
        }
        if !seen.insert(n) {
            let (l, c) = super::error::locate_nth(cx.src, "name", n, 1);
            return Err(Diagnostic::new(cx.file, format!("two {what}s are named {n:?}"))
                .at(cx.src, l, c)
                .expected(format!("unique {what} names"))
                .hint("rename one of them"));
        }
    }
    Ok(seen)
}

fn reference(cx: &Ctx, key: &str, name: &str, known: &BTreeSet<&str>, what: &str) -> Result<(), Diagnostic> {
    if known.contains(name) {
        return Ok(());
    }
    let list: Vec<String> = known.iter().map(|k| format!("{k:?}")).collect();
    let hint = match did_you_mean(name, known.iter().copied()) {
        Some(m) => format!("did you mean {m:?}?"),
        None => format!("define {what} {name:?} first, or fix the name"),
    };
    Err(cx.err(
        key,
        name,
        format!("unknown {what} {name:?}"),
        format!("one of the {what}s defined: {}", list.join(", ")),
        hint,
    ))
}

fn size_dist(cx: &Ctx, key: &str, d: &SizeDist) -> Result<(), Diagnostic> {
    use limits::MAX_MESSAGE_BYTES as M;
    let bad = |v: u64| v == 0 || v > M;
    match d {
        SizeDist::Fixed(b) if bad(b.0) => Err(cx.err(
            key,
            "",
            format!("`{key}` size {b} out of range"),
            format!("1B ..= {}", crate::units::Bytes(M)),
            "sizes must be positive".into(),
        )),
        SizeDist::Exponential { mean } if bad(mean.0) => Err(cx.err(
            key,
            "",
            format!("`{key}` mean {mean} out of range"),
            "a positive mean".into(),
            "sizes must be positive".into(),
        )),
        SizeDist::Uniform { min, max } if min.0 == 0 || min > max || max.0 > M => Err(cx.err(
            key,
            "",
            format!("`{key}` uniform range {min}..{max} is empty or invalid"),
            "0 < min <= max".into(),
            "swap min and max?".into(),
        )),
        _ => Ok(()),
    }
}

pub fn validate(file: &str, src: &str, s: &ScenarioSpec) -> Result<(), Diagnostic> {
    use limits::*;
    let cx = Ctx { file, src };
    if s.name.trim().is_empty() {
        return Err(cx.err(
            "name",
            "",
            "the scenario has an empty name".into(),
            "a name (used for the output folder)".into(),
            "e.g. name: \"my-test\"".into(),
        ));
    }
    cx.positive("duration", s.duration)?;
    if s.duration > MAX_DURATION {
        return Err(cx.err(
            "duration",
            "",
            format!("duration {} is longer than the limit", s.duration),
            format!("at most {MAX_DURATION}"),
            "split long experiments into shorter runs or seeds".into(),
        ));
    }

    // Fabric.
    let f = &s.fabric;
    cx.range("racks", f.racks, 1, MAX_RACKS, "a leaf-spine needs at least one rack")?;
    cx.range("hosts_per_rack", f.hosts_per_rack, 1, MAX_HOSTS_PER_RACK, "hosts under one ToR")?;
    cx.range("spines", f.spines, 1, MAX_SPINES, "spines = equal-cost paths between racks")?;
    let hosts = f.racks as u64 * f.hosts_per_rack as u64;
    if hosts > MAX_HOSTS {
        return Err(cx.err(
            "racks",
            &f.racks.to_string(),
            format!("{hosts} hosts exceed the limit"),
            format!("racks x hosts_per_rack <= {MAX_HOSTS}"),
            "use fewer racks or hosts per rack".into(),
        ));
    }
    if f.host_link.0 == 0 || f.spine_link.is_some_and(|b| b.0 == 0) {
        return Err(cx.err(
            "host_link",
            "",
            "link rates must be above zero".into(),
            "e.g. \"100Gbps\"".into(),
            "a zero-rate link would never deliver".into(),
        ));
    }
    if f.spine_link.is_none() && !(f.oversubscription.is_finite() && (0.01..=100.0).contains(&f.oversubscription)) {
        return Err(cx.err(
            "oversubscription",
            "",
            format!("oversubscription {} is out of range", f.oversubscription),
            "0.01 ..= 100 (1.0 = non-blocking)".into(),
            "or give spine_link directly".into(),
        ));
    }
    if f.buffer.0 < MAX_MTU as u64 || f.buffer.0 > 1 << 32 {
        return Err(cx.err(
            "buffer",
            "",
            format!("switch buffer {} cannot hold a jumbo frame or is absurd", f.buffer),
            "9001B ..= 4GiB per port".into(),
            "real ToR buffers are tens of KiB to a few MiB per port".into(),
        ));
    }
    cx.range("mtu", f.mtu, MIN_MTU, MAX_MTU, "EC2 MTUs run from 576 to 9001")?;
    if !(f.loss_rate.is_finite() && (0.0..1.0).contains(&f.loss_rate)) {
        return Err(cx.err(
            "loss_rate",
            "",
            format!("loss_rate {} is not a probability below 1", f.loss_rate),
            "0.0 <= loss_rate < 1.0".into(),
            "0.001 = one packet in a thousand".into(),
        ));
    }

    // Nitro and host.
    let n = &s.nitro;
    if n.flow_buffer.0 < MAX_MTU as u64
        || n.instance_buffer.0 < MAX_MTU as u64
        || n.flow_buffer.0 > 1 << 32
        || n.instance_buffer.0 > 1 << 32
    {
        return Err(cx.err(
            "flow_buffer",
            "",
            "Nitro shaper buffers must hold at least one jumbo frame".into(),
            "9001B ..= 4GiB".into(),
            "the defaults are 512KiB per flow and 2MiB per instance".into(),
        ));
    }
    cx.range(
        "srd_connections",
        n.srd_connections,
        1,
        1 << 20,
        "SRD connections a card holds (one per direction of each ENA Express pair, at both ends)",
    )?;
    if let Some(q) = s.host.rss_queues {
        cx.range(
            "rss_queues",
            q,
            1,
            ec2::ENA_MAX_QUEUES,
            "the ENA driver handles up to 128 queues; leave it out to use the type's ENA queue count",
        )?;
    }
    for (key, v) in [("host_cost_spread", s.noise.host_cost_spread), ("card_delay_spread", s.noise.card_delay_spread)] {
        let v = if v.is_finite() { v } else { -1.0 };
        cx.range(key, v, 0.0, 1.0, "a relative half-width: 0 = exact, 1 = uniform over [0, 2 x mean]")?;
    }
    if s.host.copy_rate.0 < limits::MIN_COPY_RATE_BPS {
        return Err(cx.err(
            "copy_rate",
            "",
            format!("`copy_rate` is {}: too slow for messages to complete", s.host.copy_rate),
            "at least 1Mbps".into(),
            "the default is a kernel memcpy rate of tens of Gbps; leave it out to use it".into(),
        ));
    }
    if s.host.backlog.0 < MAX_MTU as u64 {
        return Err(cx.err(
            "backlog",
            "",
            "host backlog must hold at least one jumbo frame".into(),
            "at least 9001B".into(),
            "Linux's netdev_max_backlog is 1000 packets".into(),
        ));
    }

    // TCP.
    let t = &s.tcp;
    cx.positive("rto_min", t.rto_min)?;
    if t.rto_initial < t.rto_min || t.rto_max < t.rto_min {
        return Err(cx.err(
            "rto_max",
            "",
            "RTO bounds are inconsistent".into(),
            "rto_min <= rto_initial and rto_min <= rto_max".into(),
            "Linux: 200ms, 1s, 120s".into(),
        ));
    }
    cx.range("dupack_threshold", t.dupack_threshold, 1, 1000, "RFC 5681 uses 3")?;
    cx.range("initial_cwnd_segments", t.initial_cwnd_segments, 1, 1000, "RFC 6928 uses 10")?;
    if t.receive_window.0 < MAX_MTU as u64 || t.receive_window.0 > 1 << 32 {
        return Err(cx.err(
            "receive_window",
            "",
            format!("receive window {} out of range", t.receive_window),
            "9001B ..= 4GiB".into(),
            "Linux's tcp_rmem maximum is 6MiB".into(),
        ));
    }
    if t.rmem_initial.0 < 4096 || t.rmem_initial.0 > t.receive_window.0 {
        return Err(cx.err(
            "rmem_initial",
            "",
            format!("initial receive buffer {} out of range", t.rmem_initial),
            format!("4KiB ..= receive_window ({})", t.receive_window),
            "Linux's tcp_rmem[1] is 128KiB".into(),
        ));
    }
    cx.range(
        "scaling_ratio",
        t.scaling_ratio,
        1,
        255,
        "share of the buffer advertised, in 1/256 (Linux starts at 128)",
    )?;
    // Linux MAX_TCP_SYNCNT = 127 bounds both SYN knobs.
    cx.range("syn_retries", t.syn_retries, 1, 127, "Linux tcp_syn_retries (6)")?;
    cx.range("syn_linear_timeouts", t.syn_linear_timeouts, 0, 127, "Linux tcp_syn_linear_timeouts (4)")?;
    cx.range(
        "early_retrans",
        t.early_retrans,
        0,
        4,
        "Linux tcp_early_retrans: 0 off, 3 (default) and 4 send tail loss probes",
    )?;
    if ![0, 100, 250, 300, 1000].contains(&t.timer_hz) {
        return Err(cx.err(
            "timer_hz",
            &t.timer_hz.to_string(),
            format!("timer_hz {} is not a Linux CONFIG_HZ", t.timer_hz),
            "0 (exact timers), 100, 250, 300 or 1000".into(),
            "250 is Debian's and Ubuntu's kernel configuration".into(),
        ));
    }

    // SRD.
    let r = &s.srd;
    cx.range("paths", r.paths, 1, 256, "SRD sprays over 1 to 256 paths")?;
    if r.retransmit_timeout == SimDuration::ZERO {
        return Err(cx.err(
            "retransmit_timeout",
            "",
            "SRD's retransmit_timeout must be longer than zero".into(),
            "a duration near the fabric RTT, e.g. \"250us\"".into(),
            "zero would resend every packet at once, forever".into(),
        ));
    }
    cx.range(
        "reorder_buffer",
        r.reorder_buffer,
        1,
        1 << 20,
        "a reorder buffer smaller than one packet cannot reorder anything",
    )?;
    cx.range("max_retries", r.max_retries, 0, 1000, "SRD gives up after this many retransmissions")?;
    cx.range("header_bytes", r.header_bytes, 0, 200, "encapsulation bytes per packet")?;
    cx.range("ack_bytes", r.ack_bytes, 40, 1500, "an SRD acknowledgement on the wire")?;
    cx.range("send_queue", r.send_queue, 1, 1 << 20, "packets waiting in the card for SRD's window")?;
    if r.min_window.0 < 9000
        || r.initial_window < r.min_window
        || r.max_window < r.initial_window
        || r.max_window.0 > 1 << 32
    {
        return Err(cx.err(
            "initial_window",
            "",
            "SRD windows are inconsistent".into(),
            "9000B <= min_window <= initial_window <= max_window <= 4GiB".into(),
            "the defaults are 64KiB, 256KiB and 4MiB".into(),
        ));
    }

    // Placement groups, security groups and instances.
    let pgs = unique(&cx, "placement group", s.placement_groups.iter().map(|p| p.name.as_str()))?;
    let sgs = unique(&cx, "security group", s.security_groups.iter().map(|g| g.name.as_str()))?;
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
    let inst_names = unique(&cx, "instance", s.instances.iter().map(|i| i.name.as_str()))?;
    vpc(&cx, s, &inst_names, &sgs)?;
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
            reference(&cx, "placement_group", pg, &pgs, "placement group")?;
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
        {
            use crate::ec2::conntrack::*;
            let timeouts = [
                (
                    "conntrack_tcp_established_timeout",
                    i.conntrack_tcp_established_timeout,
                    TCP_ESTABLISHED_TIMEOUT_S_MIN,
                    TCP_ESTABLISHED_TIMEOUT_S_MAX,
                    "seconds (AWS API TcpEstablishedTimeout: 60 to 432000, default 432000)",
                ),
                (
                    "conntrack_udp_timeout",
                    i.conntrack_udp_timeout,
                    UDP_TIMEOUT_S_MIN,
                    UDP_TIMEOUT_S_MAX,
                    "seconds (AWS API UdpTimeout: 30 to 60, default 30)",
                ),
                (
                    "conntrack_udp_stream_timeout",
                    i.conntrack_udp_stream_timeout,
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
        }
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
        unique(&cx, "ENI", i.enis.iter().map(|e| e.name.as_str()))?;
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
                reference(&cx, "security_groups", g, &sgs, "security group")?;
            }
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

    if let Err(e) = super::placement::place(s) {
        return Err(cx.err(
            "rack",
            "",
            e,
            "every instance on a host of its rack".into(),
            "add hosts_per_rack, or spread instances over racks".into(),
        ));
    }

    // Workloads.
    if s.workloads.len() > MAX_WORKLOADS {
        return Err(cx.err(
            "workloads",
            "",
            format!("{} workloads", s.workloads.len()),
            format!("at most {MAX_WORKLOADS}"),
            "combine flows into fewer workloads with `flows:`".into(),
        ));
    }
    unique(&cx, "workload", s.workloads.iter().map(|w| w.name()))?;
    let free_hosts = hosts - s.instances.len() as u64;
    for w in &s.workloads {
        match w {
            WorkloadSpec::FlowLogs(f) => flowlogs(&cx, f, &inst_names)?,
            WorkloadSpec::Bulk(b) => {
                reference(&cx, "from", &b.from, &inst_names, "instance")?;
                reference(&cx, "to", &b.to, &inst_names, "instance")?;
                same_end(&cx, &b.name, &b.from, &b.to)?;
                cx.range("flows", b.flows, 1, MAX_FLOWS_PER_WORKLOAD, "parallel TCP connections")?;
                if let Some(d) = b.duration {
                    cx.positive("duration", d)?;
                }
                if b.bytes.is_some_and(|x| x.0 == 0) {
                    return Err(cx.err(
                        "bytes",
                        "",
                        "a bulk transfer of zero bytes".into(),
                        "a positive size, or leave `bytes` out to send until the end".into(),
                        "e.g. bytes: \"1GB\"".into(),
                    ));
                }
            }
            WorkloadSpec::Rpc(r) => {
                reference(&cx, "client", &r.client, &inst_names, "instance")?;
                reference(&cx, "server", &r.server, &inst_names, "instance")?;
                same_end(&cx, &r.name, &r.client, &r.server)?;
                cx.range("connections", r.connections, 1, MAX_FLOWS_PER_WORKLOAD, "persistent TCP connections")?;
                match r.arrival {
                    Arrival::Poisson { mean_interval } => cx.positive("mean_interval", mean_interval)?,
                    Arrival::ClosedLoop { outstanding } => {
                        cx.range("outstanding", outstanding, 1, 1024, "RPCs in flight per connection")?
                    }
                }
                size_dist(&cx, "request", &r.request)?;
                size_dist(&cx, "response", &r.response)?;
                if r.warmup >= s.duration {
                    return Err(cx.err(
                        "warmup",
                        &r.warmup.to_string(),
                        format!("RPC workload {:?}: warm-up {} is not shorter than the run ({})", r.name, r.warmup, s.duration),
                        format!("a warm-up shorter than `duration` ({})", s.duration),
                        "RPCs issued during the warm-up are not measured; with nothing left to measure every percentile would be 0".into(),
                    ));
                }
            }
            WorkloadSpec::ServiceClients(c) => {
                if s.fleet(&c.clients).next().is_none() {
                    reference(&cx, "clients", &c.clients, &inst_names, "instance or fleet")?;
                }
                let names: BTreeSet<&str> = s.services.iter().map(|x| x.name.as_str()).collect();
                reference(&cx, "service", &c.service, &names, "service")?;
                cx.positive("interval", c.interval)?;
                cx.positive("timeout", c.timeout)?;
                cx.range("request", c.request.0, 1, 1 << 20, "request bytes")?;
                cx.range("response", c.response.0, 1, 1 << 20, "response bytes")?;
            }
            WorkloadSpec::Connections(c) => {
                if s.fleet(&c.from).next().is_none() {
                    reference(&cx, "from", &c.from, &inst_names, "instance or fleet")?;
                }
                reference(&cx, "to", &c.to, &inst_names, "instance")?;
                let ports = crate::model::EPHEMERAL_PORTS.len() as u32;
                cx.range(
                    "count",
                    c.count,
                    1,
                    ports,
                    "connections per client: one ephemeral port each (Linux 32768-60999)",
                )?;
                cx.positive("over", c.over)?;
            }
            WorkloadSpec::LinkLocal(l) => {
                reference(&cx, "from", &l.from, &inst_names, "instance")?;
                cx.positive("mean_interval", l.mean_interval)?;
                cx.range("size", l.size.0, 1, 1472, "a query fits one packet (1 ..= 1472 bytes)")?;
            }
            WorkloadSpec::Datagrams(d) => {
                reference(&cx, "from", &d.from, &inst_names, "instance")?;
                reference(&cx, "to", &d.to, &inst_names, "instance")?;
                same_end(&cx, &d.name, &d.from, &d.to)?;
                cx.positive("mean_interval", d.mean_interval)?;
                if d.size.0 == 0 || d.size.0 > 65_507 {
                    return Err(cx.err(
                        "size",
                        "",
                        format!("datagram size {}", d.size),
                        "1B ..= 65507B (the UDP maximum)".into(),
                        "larger messages belong in a TCP workload".into(),
                    ));
                }
                let from = s.instances.iter().find(|i| i.name == d.from).expect("checked reference");
                let mtu = from.enis.first().map_or(ec2::MTU_VPC_JUMBO, |e| e.mtu) as u64;
                if d.dont_fragment && d.size.0 + 28 > mtu {
                    return Err(cx.err(
                        "size",
                        "",
                        format!(
                            "datagrams {:?}: {} + 28 header bytes with DF set exceed {}'s MTU {mtu}",
                            d.name, d.size, d.from
                        ),
                        format!("at most {}B with dont_fragment", mtu - 28),
                        "the kernel refuses such a send (EMSGSIZE); clear dont_fragment to let IP fragment it".into(),
                    ));
                }
            }
            WorkloadSpec::Permutation(p) => {
                let members = s.fleet(&p.instances).count();
                if members < 2 {
                    let list: Vec<&str> = s.instances.iter().map(|i| i.name.as_str()).take(8).collect();
                    return Err(cx.err(
                        "instances",
                        &p.instances,
                        format!(
                            "permutation {:?}: {} instance(s) named {:?} or {:?}-N",
                            p.name, members, p.instances, p.instances
                        ),
                        "a fleet of at least two instances (an instance with `count: N`)".into(),
                        format!("instances defined: {}", list.join(", ")),
                    ));
                }
                cx.range(
                    "flows_per_instance",
                    p.flows_per_instance as u64,
                    1,
                    members as u64 - 1,
                    "each flow goes to a distinct other member",
                )?;
                let flows = members as u64 * p.flows_per_instance as u64;
                if flows > MAX_PERMUTATION_FLOWS {
                    return Err(cx.err(
                        "flows_per_instance",
                        "",
                        format!("{flows} permutation flows"),
                        format!("at most {MAX_PERMUTATION_FLOWS}"),
                        "fewer members or flows per member".into(),
                    ));
                }
                if p.bytes.is_some_and(|x| x.0 == 0) {
                    return Err(cx.err(
                        "bytes",
                        "",
                        "zero bytes per flow".into(),
                        "a positive size, or no `bytes` to send until the end".into(),
                        "e.g. bytes: \"1MB\"".into(),
                    ));
                }
            }
            WorkloadSpec::AllReduce(a) | WorkloadSpec::AllToAll(a) => {
                let members: Vec<&InstanceSpec> = s.fleet(&a.instances).map(|(_, i)| i).collect();
                if members.len() < 2 {
                    return Err(cx.err(
                        "instances",
                        &a.instances,
                        format!("all-reduce {:?}: {} member(s)", a.name, members.len()),
                        "a fleet of at least two instances (`count: N`)".into(),
                        "name an instance fleet, e.g. instances: \"gpu\"".into(),
                    ));
                }
                if a.bytes.0 == 0 || a.bytes.0 > 1 << 34 {
                    return Err(cx.err(
                        "bytes",
                        "",
                        format!("all-reduce {:?}: {} bytes", a.name, a.bytes),
                        "1B ..= 16GiB".into(),
                        "the gradient buffer reduced per collective".into(),
                    ));
                }
                cx.range("iterations", a.iterations, 1, 10_000, "collectives measured")?;
                cx.range("warmup", a.warmup, 0, 10_000, "collectives not measured")?;
                cx.range("gpus_per_node", a.gpus_per_node, 1, 16, "ranks (GPUs) per instance")?;
                if let Some(c) = a.channels {
                    cx.range("channels", c, 1, 64, "NCCL channels (rings side by side)")?;
                }
                if a.gpus_per_node > 1
                    && (a.nvlink.bps() == 0 || matches!(w, WorkloadSpec::AllToAll(_)) || !a.transport.bypasses_kernel())
                {
                    return Err(cx.err(
                        "gpus_per_node",
                        "",
                        format!("{:?}: several GPUs per node need NVLink bandwidth and a ring all-reduce", a.name),
                        "nvlink > 0, in an AllReduce over EFA".into(),
                        "e.g. gpus_per_node: 8, nvlink: \"3600Gbps\"".into(),
                    ));
                }
                if a.transport == MessageTransport::EfaRdmaRead {
                    return Err(cx.err(
                        "transport",
                        "EfaRdmaRead",
                        format!("collective {:?}: RDMA read", a.name),
                        "Tcp, Efa or EfaRdmaWrite".into(),
                        "collectives push each chunk to the next member (NCCL writes); RDMA read is for PingPong"
                            .into(),
                    ));
                }
                efa_ends(&cx, s, "collective", &a.name, a.transport, &members)?;
            }
            WorkloadSpec::PingPong(p) => {
                reference(&cx, "from", &p.from, &inst_names, "instance")?;
                reference(&cx, "to", &p.to, &inst_names, "instance")?;
                same_end(&cx, &p.name, &p.from, &p.to)?;
                if p.sizes.is_empty() || p.sizes.iter().any(|b| b.0 == 0 || b.0 > 1 << 30) {
                    return Err(cx.err(
                        "sizes",
                        "",
                        format!("ping-pong {:?}: message sizes", p.name),
                        "1B ..= 1GiB each, at least one".into(),
                        "osu_latency sweeps 1B to 4MiB".into(),
                    ));
                }
                cx.range("iterations", p.iterations, 1, 1_000_000, "measured round trips per size")?;
                cx.range("window", p.window, 1, 4096, "messages in flight (osu_bw uses 64)")?;
                cx.range("warmup", p.warmup, 0, 1_000_000, "unmeasured round trips per size")?;
                let find = |n: &str| s.instances.iter().find(|i| i.name == n).expect("checked reference");
                efa_ends(&cx, s, "ping-pong", &p.name, p.transport, &[find(&p.from), find(&p.to)])?;
            }
            WorkloadSpec::Background(b) => {
                if !(b.load.is_finite() && b.load > 0.0 && b.load < 1.0) {
                    return Err(cx.err(
                        "load",
                        "",
                        format!("background load {} is not a fraction", b.load),
                        "0 < load < 1 (0.5 = half of the hosts' link capacity)".into(),
                        "loads at or above 1 never reach a steady state".into(),
                    ));
                }
                size_dist(&cx, "sizes", &b.sizes)?;
                cx.range(
                    "max_concurrent",
                    b.max_concurrent,
                    1,
                    MAX_BACKGROUND_CONCURRENT,
                    "flows in progress at once",
                )?;
                if free_hosts < 2 {
                    return Err(cx.err(
                        "load",
                        "",
                        "background traffic needs at least two fabric hosts without instances".into(),
                        format!("{free_hosts} free hosts"),
                        "add racks or hosts_per_rack".into(),
                    ));
                }
            }
        }
    }
    // SRD memory grows with communicating pairs x paths: refuse what would not fit, before running.
    if s.instances.iter().any(|i| i.enis.first().is_some_and(|e| e.ena_srd_enabled)) {
        let pairs: u64 = s
            .workloads
            .iter()
            .map(|w| match w {
                WorkloadSpec::Permutation(p) => {
                    let members = s.fleet(&p.instances).count();
                    2 * members as u64 * p.flows_per_instance as u64
                }
                WorkloadSpec::Background(_) => 0,
                _ => 2,
            })
            .sum();
        let routes = pairs * s.srd.paths as u64;
        if routes > MAX_SRD_PATH_ROUTES {
            return Err(cx.err(
                "paths",
                &s.srd.paths.to_string(),
                format!("SRD would keep {routes} path routes ({pairs} instance pairs x {} paths)", s.srd.paths),
                format!("at most {MAX_SRD_PATH_ROUTES} (about 400 MB)"),
                "use fewer SRD paths or fewer flows per instance; ENA Express needs its paths per pair".into(),
            ));
        }
    }
    if s.variants.len() > MAX_VARIANTS {
        return Err(cx.err(
            "variants",
            "",
            format!("{} variants", s.variants.len()),
            format!("at most {MAX_VARIANTS}"),
            "use a sweep for larger grids".into(),
        ));
    }
    unique(&cx, "variant", s.variants.iter().map(|v| v.name.as_str()))?;
    for v in &s.variants {
        if let Some(b) = &v.baseline
            && !s.variants.iter().any(|o| o.name == *b)
        {
            let names: BTreeSet<&str> = s.variants.iter().map(|o| o.name.as_str()).collect();
            reference(&cx, "baseline", b, &names, "variant")?;
        }
    }
    if let Some(l) = &s.report.ladder {
        let ends = s.workloads.iter().find_map(|w| match w {
            WorkloadSpec::Bulk(b) if b.name == l.flow => Some(()),
            WorkloadSpec::Rpc(r) if r.name == l.flow => Some(()),
            _ => None,
        });
        if ends.is_none() {
            let names: BTreeSet<&str> = s
                .workloads
                .iter()
                .filter(|w| matches!(w, WorkloadSpec::Bulk(_) | WorkloadSpec::Rpc(_)))
                .map(|w| w.name())
                .collect();
            if names.is_empty() {
                return Err(cx.err(
                    "flow",
                    &l.flow,
                    format!("ladder flow {:?}: the scenario has no Bulk or Rpc workload", l.flow),
                    "the name of a Bulk or Rpc workload".into(),
                    "ladder diagrams show one TCP connection; add such a workload, or --set report.ladder=None".into(),
                ));
            }
            reference(&cx, "flow", &l.flow, &names, "Bulk or Rpc workload").map_err(|mut d| {
                d.hint = format!("{}; or drop the diagram with --set report.ladder=None", d.hint);
                d
            })?;
        }
        if l.to <= l.from {
            return Err(cx.err(
                "to",
                &l.to.to_string(),
                format!("ladder window ends ({}) at or before it starts ({})", l.to, l.from),
                "`to` later than `from`".into(),
                "e.g. ladder: (flow: \"upload\", from: \"0s\", to: \"4s\")".into(),
            ));
        }
        cx.range("max_packets", l.max_packets, 1, MAX_LADDER_PACKETS, "packets drawn in the ladder diagram")?;
    }
    cx.range(
        "timeseries_bins",
        s.report.timeseries_bins,
        1,
        MAX_TIMESERIES_BINS,
        "points in the throughput time series",
    )?;
    cx.range(
        "event_log_limit",
        s.report.event_log_limit,
        0,
        limits::MAX_EVENT_LOG_LIMIT,
        "events kept per variant in events.jsonl; the rest are counted as `omitted`",
    )?;
    cx.range(
        "capture_limit",
        s.report.capture_limit,
        1,
        limits::MAX_CAPTURE_LIMIT,
        "packets kept per capture point with --pcap; the rest are counted as `omitted`",
    )?;
    Ok(())
}

/// A `FlowLogs` workload's settings and the instances its map names (the log itself is read by
/// `scenario::check_flow_logs`, once, where its errors get the log's file and line).
fn flowlogs(cx: &Ctx, f: &FlowLogsSpec, inst_names: &BTreeSet<&str>) -> Result<(), Diagnostic> {
    for (k, v) in &f.interfaces {
        reference(cx, k, v, inst_names, "instance")?;
    }
    if let Some(i) = &f.internet {
        reference(cx, "internet", i, inst_names, "instance")?;
    }
    for (key, v) in [("speedup", f.speedup), ("scale", f.scale)] {
        if !(v.is_finite() && v > 0.0 && v <= 1e9) {
            return Err(cx.err(
                key,
                &v.to_string(),
                format!("`{key}` is {v}"),
                "a number above 0 (1.0 = as logged)".into(),
                "speedup divides the log's time offsets; scale multiplies its bytes".into(),
            ));
        }
    }
    cx.range("window_s", f.window_s, 1, 3600, "the flow log's aggregation interval: 60 or 600 seconds")?;
    cx.range("max_groups", f.max_groups, 1, 1_000_000, "5-tuple groups kept in memory while streaming")?;
    cx.range("max_exchanges", f.max_exchanges, 1, 10_000_000, "group x window exchanges kept in memory")?;
    Ok(())
}

fn same_end(cx: &Ctx, workload: &str, a: &str, b: &str) -> Result<(), Diagnostic> {
    if a == b {
        return Err(cx.err(
            "name",
            workload,
            format!("workload {workload:?} sends from {a:?} to itself"),
            "two different instances".into(),
            "loopback traffic never touches the network".into(),
        ));
    }
    Ok(())
}

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
    let vpc = crate::ec2::vpc::Vpc::compile(&super::lower::vpc(s)).ok()?;
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

pub fn describe(variant: &str, s: &ScenarioSpec) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let hosts = super::placement::place(s).unwrap_or_default();
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
    let pair = |o: &mut String, w: &str, a: &str, b: &str, udp: bool| {
        let (Some(ia), Some(ib)) = (find(a), find(b)) else {
            return;
        };
        fn cluster<'a>(s: &ScenarioSpec, i: &'a InstanceSpec) -> Option<&'a String> {
            i.placement_group
                .as_ref()
                .filter(|p| s.placement_groups.iter().any(|g| &&g.name == p && g.strategy == "cluster"))
        }
        let same_pg = cluster(s, ia).is_some() && cluster(s, ia) == cluster(s, ib);
        let mtu = |i: &InstanceSpec| i.enis.first().map(|e| e.mtu).unwrap_or(ec2::MTU_VPC_JUMBO);
        let via = path_via(s, a, b);
        // The path MTU and the hop that sets it: the interfaces, then each gateway crossed.
        let mut setter = format!("{a}'s interface");
        let mut path_mtu = mtu(ia);
        if mtu(ib) < path_mtu {
            path_mtu = mtu(ib);
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
            ena_express::engages(&[ena_express_end(ia), ena_express_end(ib)], udp)
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
                let enabled_somewhere = [ia, ib].iter().any(|i| i.enis.first().is_some_and(|e| e.ena_srd_enabled));
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
                    (None, Some(k)) => format!(" (takes effect {} later, drawn per seed)", k.failover_bounds()),
                    _ => String::new(),
                }
            }
            Action::DetachEni { .. } => format!(" (takes effect {} later)", crate::ec2::failover::ENI_DETACH),
            Action::AttachEni { .. } => format!(" (takes effect {} later)", crate::ec2::failover::ENI_ATTACH),
            _ => String::new(),
        };
        let _ = writeln!(o, "  at {}: {:?}{effect}", a.at, a.action);
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
            WorkloadSpec::Bulk(b) => pair(&mut o, &b.name, &b.from, &b.to, false),
            WorkloadSpec::Rpc(r) => pair(&mut o, &r.name, &r.client, &r.server, false),
            WorkloadSpec::Datagrams(d) => pair(&mut o, &d.name, &d.from, &d.to, true),
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
                    pair(&mut o, &p.name, &p.from, &p.to, false);
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
                    pair(&mut o, &p.name, &a.name, &b.name, false);
                }
            }
        }
    }
    o
}

/// ENA Express's view of an instance (its primary ENI), for `describe`.
fn ena_express_end(i: &InstanceSpec) -> ena_express::End {
    let eni = i.enis.first();
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
