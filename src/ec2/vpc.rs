//! The VPC's rules for which packets get through, as EC2 applies them (Amazon VPC user guide,
//! "Control traffic to subnets using network ACLs", "Security groups"):
//!
//! - a **subnet** owns an address range and is associated with one network ACL (the VPC's default
//!   ACL, which allows everything, when none is named);
//! - a **network ACL** is stateless: numbered rules, lowest first, the first match decides, an
//!   implicit final deny (`*`); inbound and outbound lists apply where traffic crosses the
//!   subnet's boundary, so return traffic needs its own rule (ephemeral ports) and so does ICMP;
//! - a **security group** is a stateful allow-list on an ENI (up to five): a connection an
//!   outbound rule let out gets its return traffic, and ICMP errors about it, back in without an
//!   inbound rule. An ENI that names no group is not filtered here (the model's shorthand for a
//!   group that allows everything).
//!
//! The rules do not change during a run, so the model evaluates them once per connection
//! direction and caches the verdict: exact, and free on the packet path.
//!
//! The rules arrive as `VpcConfig` (plain data: the scenario module lowers its file sections into
//! it, an importer could too) and `Vpc::compile` turns them into matchers.

use std::fmt;

/// The VPC's filtering rules as written: network ACLs, subnets, security groups.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VpcConfig {
    pub network_acls: Vec<NetworkAclConfig>,
    /// Empty: one implicit subnet (`DEFAULT_SUBNET_CIDR`, the default ACL).
    pub subnets: Vec<SubnetConfig>,
    pub security_groups: Vec<SecurityGroupConfig>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkAclConfig {
    pub name: String,
    pub inbound: Vec<AclRuleConfig>,
    pub outbound: Vec<AclRuleConfig>,
}

/// A network ACL rule, evaluated in `rule` number order; the first match allows or denies.
#[derive(Clone, Debug, PartialEq)]
pub struct AclRuleConfig {
    /// 1 ..= `ACL_RULE_NUMBER_MAX`.
    pub rule: u32,
    /// "tcp", "udp", "icmp", "all" or a protocol number.
    pub protocol: String,
    /// "443" or "1024-65535"; `None` = every port.
    pub ports: Option<String>,
    pub icmp_type: Option<i32>,
    pub icmp_code: Option<i32>,
    /// Source (inbound) or destination (outbound) block.
    pub cidr: String,
    /// "allow" or "deny".
    pub action: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubnetConfig {
    pub name: String,
    pub cidr: String,
    /// `None` = the VPC's default network ACL.
    pub network_acl: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SecurityGroupConfig {
    pub name: String,
    /// Inbound and outbound "all traffic" rules whose peer is the group itself.
    pub allow_all_within_group: bool,
    pub inbound: Vec<SgRuleConfig>,
    /// `None` = a new group's default, all traffic.
    pub outbound: Option<Vec<SgRuleConfig>>,
}

/// A security group rule: protocol, ports or ICMP type/code, and the peer (a CIDR block or
/// another group's name).
#[derive(Clone, Debug, PartialEq)]
pub struct SgRuleConfig {
    pub protocol: String,
    pub ports: Option<String>,
    pub icmp_type: Option<i32>,
    pub icmp_code: Option<i32>,
    pub peer: String,
}

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
/// Network ACL rule numbers run from 1 to 32766 (Amazon VPC quotas / API reference).
pub const ACL_RULE_NUMBER_MAX: u32 = 32766;
/// Rules per network ACL direction (VPC quota: 20 by default, 40 at most).
pub const ACL_RULES_MAX: usize = 40;
/// Rules per security group direction (VPC quota: 60 by default).
pub const SG_RULES_MAX: usize = 60;

/// An IPv4 CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    pub const ANY: Cidr = Cidr { base: 0, prefix: 0 };

    /// "10.0.1.0/24". Host bits must be zero, as the EC2 API requires.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = s.split_once('/').ok_or_else(|| format!("{s:?} is not a CIDR block (a.b.c.d/n)"))?;
        let prefix: u8 =
            prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| format!("bad prefix length in {s:?}"))?;
        let base = parse_ipv4(addr)?;
        let c = Cidr { base, prefix };
        if base & !c.mask() != 0 {
            return Err(format!("{s:?} has host bits set (did you mean {}?)", Cidr { base: base & c.mask(), prefix }));
        }
        Ok(c)
    }
    fn mask(&self) -> u32 {
        if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) }
    }
    pub fn contains(&self, ip: u32) -> bool {
        ip & self.mask() == self.base
    }
    /// Addresses in the block.
    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix)
    }
}

/// The route of a table that carries `dst` (VPC user guide, "Route priority"): the most specific
/// one holding it, unless the VPC's own `local` route (`vpc_cidr`) is at least as specific. Both
/// the model (`model::routing`) and the scenario check (a loop through route tables) decide by it.
pub fn route_for<R>(routes: impl IntoIterator<Item = (Cidr, R)>, dst: u32, vpc_cidr: Option<Cidr>) -> Option<R> {
    let local = vpc_cidr.filter(|v| v.contains(dst)).map(|v| v.prefix);
    routes
        .into_iter()
        .filter(|(c, _)| c.contains(dst))
        .max_by_key(|(c, _)| c.prefix)
        .filter(|(c, _)| local.is_none_or(|l| c.prefix > l))
        .map(|(_, r)| r)
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", Ipv4(self.base), self.prefix)
    }
}

/// Dotted-quad display of an address.
pub struct Ipv4(pub u32);

impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let b = self.0.to_be_bytes();
        write!(f, "{}.{}.{}.{}", b[0], b[1], b[2], b[3])
    }
}

pub fn parse_ipv4(s: &str) -> Result<u32, String> {
    let parts: Vec<&str> = s.split('.').collect();
    let octets: Option<Vec<u8>> = parts.iter().map(|p| p.parse::<u8>().ok()).collect();
    match octets {
        Some(o) if o.len() == 4 => Ok(u32::from_be_bytes([o[0], o[1], o[2], o[3]])),
        _ => Err(format!("{s:?} is not an IPv4 address")),
    }
}

/// "tcp", "udp", "icmp", a protocol number, or "all" / "-1" (None).
pub fn parse_protocol(s: &str) -> Result<Option<u8>, String> {
    match s.to_ascii_lowercase().as_str() {
        "all" | "-1" => Ok(None),
        "tcp" => Ok(Some(PROTO_TCP)),
        "udp" => Ok(Some(PROTO_UDP)),
        "icmp" => Ok(Some(PROTO_ICMP)),
        n => n.parse::<u8>().map(Some).map_err(|_| format!("unknown protocol {s:?}")),
    }
}

/// "80" or "1024-65535".
pub fn parse_ports(s: &str) -> Result<(u16, u16), String> {
    let bad = || format!("{s:?} is not a port or a port range (\"443\", \"1024-65535\")");
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a.trim().parse::<u16>().map_err(|_| bad())?, b.trim().parse::<u16>().map_err(|_| bad())?),
        None => {
            let p = s.trim().parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// A packet as a rule sees it: protocol, the address on the far side, and the destination port
/// (TCP, UDP) or the ICMP type and code.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    pub protocol: u8,
    pub remote_ip: u32,
    pub dst_port: u16,
    pub icmp: (u8, u8),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// What a rule matches besides the address: protocol, ports or ICMP type/code.
#[derive(Clone, Copy, Debug)]
struct Match {
    protocol: Option<u8>,
    ports: Option<(u16, u16)>,
    icmp_type: Option<u8>,
    icmp_code: Option<u8>,
}

impl Match {
    fn compile(
        protocol: &str,
        ports: &Option<String>,
        icmp_type: Option<i32>,
        icmp_code: Option<i32>,
    ) -> Result<Match, String> {
        let protocol = parse_protocol(protocol)?;
        let ports = ports.as_deref().map(parse_ports).transpose()?;
        // -1 means "any", as in the EC2 API.
        let icmp = |v: Option<i32>, what: &str| match v {
            None | Some(-1) => Ok(None),
            Some(v) if (0..=255).contains(&v) => Ok(Some(v as u8)),
            Some(v) => Err(format!("ICMP {what} {v} is outside 0..=255 (or -1 for any)")),
        };
        Ok(Match { protocol, ports, icmp_type: icmp(icmp_type, "type")?, icmp_code: icmp(icmp_code, "code")? })
    }
    fn matches(&self, p: &Probe) -> bool {
        if self.protocol.is_some_and(|x| x != p.protocol) {
            return false;
        }
        match p.protocol {
            PROTO_TCP | PROTO_UDP => self.ports.is_none_or(|(a, b)| (a..=b).contains(&p.dst_port)),
            PROTO_ICMP => self.icmp_type.is_none_or(|t| t == p.icmp.0) && self.icmp_code.is_none_or(|c| c == p.icmp.1),
            _ => true,
        }
    }
}

#[derive(Clone, Debug)]
struct AclRule {
    number: u32,
    m: Match,
    cidr: Cidr,
    allow: bool,
}

#[derive(Clone, Debug)]
pub struct Acl {
    pub name: String,
    inbound: Vec<AclRule>,
    outbound: Vec<AclRule>,
}

impl Acl {
    pub fn compile(name: &str, inbound: &[AclRuleConfig], outbound: &[AclRuleConfig]) -> Result<Acl, String> {
        let list = |rules: &[AclRuleConfig]| -> Result<Vec<AclRule>, String> {
            let mut v: Vec<AclRule> = rules
                .iter()
                .map(|r| {
                    Ok(AclRule {
                        number: r.rule,
                        m: Match::compile(&r.protocol, &r.ports, r.icmp_type, r.icmp_code)?,
                        cidr: Cidr::parse(&r.cidr)?,
                        allow: match r.action.to_ascii_lowercase().as_str() {
                            "allow" => true,
                            "deny" => false,
                            a => return Err(format!("action {a:?} is neither \"allow\" nor \"deny\"")),
                        },
                    })
                })
                .collect::<Result<_, String>>()?;
            v.sort_by_key(|r| r.number);
            Ok(v)
        };
        Ok(Acl { name: name.to_string(), inbound: list(inbound)?, outbound: list(outbound)? })
    }

    /// The first rule (lowest number) that matches decides; none matching is the default deny.
    /// `Err(Some(n))`: denied by rule n; `Err(None)`: by the default rule `*`.
    pub fn evaluate(&self, dir: Direction, p: &Probe) -> Result<(), Option<u32>> {
        let rules = if dir == Direction::Inbound { &self.inbound } else { &self.outbound };
        for r in rules {
            if r.cidr.contains(p.remote_ip) && r.m.matches(p) {
                return if r.allow { Ok(()) } else { Err(Some(r.number)) };
            }
        }
        Err(None)
    }

    /// The VPC's default network ACL: every packet in and out.
    pub fn default_allow_all() -> Acl {
        let all = AclRule {
            number: 100,
            m: Match { protocol: None, ports: None, icmp_type: None, icmp_code: None },
            cidr: Cidr::ANY,
            allow: true,
        };
        Acl { name: "default".into(), inbound: vec![all.clone()], outbound: vec![all] }
    }
}

#[derive(Clone, Copy, Debug)]
enum Peer {
    Cidr(Cidr),
    Group(usize),
}

#[derive(Clone, Copy, Debug)]
struct SgRule {
    m: Match,
    peer: Peer,
}

#[derive(Clone, Debug)]
pub struct SecurityGroup {
    pub name: String,
    inbound: Vec<SgRule>,
    outbound: Vec<SgRule>,
}

/// One end of a connection as the rules see it: its address, subnet and security groups.
#[derive(Clone, Debug, Default)]
pub struct EniView {
    pub ip: u32,
    pub subnet: usize,
    /// Indices into `Vpc::groups`; empty = not filtered by security groups.
    pub groups: Vec<usize>,
}

/// What refused a packet: a network ACL's rule (or its default deny), or an ENI's security groups
/// (no rule allowed it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    Nacl { acl: String, direction: Direction, rule: Option<u32> },
    SecurityGroup { eni: String, groups: Vec<String>, direction: Direction },
}

impl Refusal {
    pub fn is_nacl(&self) -> bool {
        matches!(self, Refusal::Nacl { .. })
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Refusal::Nacl { acl, direction, rule: Some(n) } => {
                write!(f, "network ACL {acl} {} rule {n} (deny)", direction.name())
            }
            Refusal::Nacl { acl, direction, rule: None } => {
                write!(f, "network ACL {acl} {} rule * (no rule allows it)", direction.name())
            }
            Refusal::SecurityGroup { eni, groups, direction } => {
                write!(f, "security groups of {eni} ({}) {}: no rule allows it", groups.join(", "), direction.name())
            }
        }
    }
}

/// The compiled rules of one scenario.
#[derive(Clone, Debug)]
pub struct Vpc {
    pub subnets: Vec<(String, Cidr, usize)>,
    pub acls: Vec<Acl>,
    pub groups: Vec<SecurityGroup>,
}

/// The implicit subnet when a scenario declares none (the VPC's CIDR, default ACL): instances
/// at 10.0.0.1 + host index, up to the fabric's 65 536 hosts.
pub const DEFAULT_SUBNET_CIDR: Cidr = Cidr { base: 0x0A00_0000, prefix: 15 };
/// EC2 reserves the first four addresses of a subnet and the last (VPC user guide, "Subnet CIDR
/// blocks").
pub const SUBNET_RESERVED_LOW: u32 = 4;
pub const SUBNET_RESERVED_TOTAL: u64 = 5;

impl Vpc {
    /// Compile validated rules (validation reports the same errors with positions first).
    pub fn compile(spec: &VpcConfig) -> Result<Vpc, String> {
        let mut acls = vec![Acl::default_allow_all()];
        for a in &spec.network_acls {
            acls.push(
                Acl::compile(&a.name, &a.inbound, &a.outbound).map_err(|e| format!("network ACL {}: {e}", a.name))?,
            );
        }
        let subnets = if spec.subnets.is_empty() {
            vec![("default".to_string(), DEFAULT_SUBNET_CIDR, 0)]
        } else {
            spec.subnets
                .iter()
                .map(|s| {
                    let acl = match &s.network_acl {
                        None => 0,
                        Some(n) => acls
                            .iter()
                            .position(|a| &a.name == n)
                            .ok_or_else(|| format!("unknown network ACL {n:?}"))?,
                    };
                    Ok((s.name.clone(), Cidr::parse(&s.cidr)?, acl))
                })
                .collect::<Result<_, String>>()?
        };
        let group_index = |n: &str| spec.security_groups.iter().position(|g| g.name == n);
        let mut groups = Vec::new();
        for (gi, g) in spec.security_groups.iter().enumerate() {
            let list = |rules: &[SgRuleConfig]| -> Result<Vec<SgRule>, String> {
                rules
                    .iter()
                    .map(|r| {
                        let peer = match Cidr::parse(&r.peer) {
                            Ok(c) => Peer::Cidr(c),
                            Err(_) => Peer::Group(
                                group_index(&r.peer).ok_or_else(|| format!("unknown security group {:?}", r.peer))?,
                            ),
                        };
                        Ok(SgRule { m: Match::compile(&r.protocol, &r.ports, r.icmp_type, r.icmp_code)?, peer })
                    })
                    .collect()
            };
            let mut inbound = list(&g.inbound)?;
            let mut outbound = match &g.outbound {
                Some(rules) => list(rules)?,
                // A new group's default: all outbound traffic allowed.
                None => vec![SgRule { m: Match::compile("all", &None, None, None)?, peer: Peer::Cidr(Cidr::ANY) }],
            };
            if g.allow_all_within_group {
                let all = SgRule { m: Match::compile("all", &None, None, None)?, peer: Peer::Group(gi) };
                inbound.push(all);
                outbound.push(all);
            }
            groups.push(SecurityGroup { name: g.name.clone(), inbound, outbound });
        }
        Ok(Vpc { subnets, acls, groups })
    }

    /// The subnet whose block holds `ip`.
    pub fn subnet_of(&self, ip: u32) -> Option<usize> {
        self.subnets.iter().position(|s| s.1.contains(ip))
    }

    fn acl_of(&self, subnet: usize) -> &Acl {
        &self.acls[self.subnets[subnet].2]
    }

    fn sg_allows(&self, me: &EniView, dir: Direction, p: &Probe, peer: Option<&EniView>) -> bool {
        me.groups.is_empty()
            || me.groups.iter().any(|&g| {
                let g = &self.groups[g];
                let rules = if dir == Direction::Inbound { &g.inbound } else { &g.outbound };
                rules.iter().any(|r| {
                    r.m.matches(p)
                        && match r.peer {
                            Peer::Cidr(c) => c.contains(p.remote_ip),
                            Peer::Group(k) => peer.is_some_and(|e| e.groups.contains(&k)),
                        }
                })
            })
    }

    fn sg_refusal(&self, name: &str, me: &EniView, direction: Direction) -> Refusal {
        Refusal::SecurityGroup {
            eni: name.to_string(),
            groups: me.groups.iter().map(|&g| self.groups[g].name.clone()).collect(),
            direction,
        }
    }

    /// A stateless check of one direction a -> b through the network ACLs (only where the
    /// packet crosses a subnet boundary): a's outbound list, then b's inbound list.
    fn nacls(&self, a: &EniView, b_subnet: Option<usize>, p_out: Probe, p_in: Probe) -> Option<Refusal> {
        if b_subnet == Some(a.subnet) {
            return None;
        }
        let acl = self.acl_of(a.subnet);
        if let Err(rule) = acl.evaluate(Direction::Outbound, &p_out) {
            return Some(Refusal::Nacl { acl: acl.name.clone(), direction: Direction::Outbound, rule });
        }
        if let Some(bs) = b_subnet {
            let acl = self.acl_of(bs);
            if let Err(rule) = acl.evaluate(Direction::Inbound, &p_in) {
                return Some(Refusal::Nacl { acl: acl.name.clone(), direction: Direction::Inbound, rule });
            }
        }
        None
    }

    /// The network ACLs alone on the packets of a connection a opened to b: forward (b's port)
    /// and return (a's port). After an ACL changes, live connections meet the new rules at once;
    /// security groups track their connections, so a changed group affects only new ones.
    pub fn nacls_of_connection(
        &self,
        a: &EniView,
        b: &EniView,
        protocol: u8,
        ports: (u16, u16),
    ) -> [Option<Refusal>; 2] {
        let fwd = Probe { protocol, remote_ip: b.ip, dst_port: ports.1, icmp: (0, 0) };
        let back = Probe { protocol, remote_ip: a.ip, dst_port: ports.0, icmp: (0, 0) };
        [
            self.nacls(a, Some(b.subnet), fwd, Probe { remote_ip: a.ip, ..fwd }),
            self.nacls(b, Some(a.subnet), back, Probe { remote_ip: b.ip, ..back }),
        ]
    }

    /// Packets of a connection a opens to b (protocol, a's source port, b's port): what refuses
    /// them leaving a (a's security groups, a's subnet ACL) and arriving at b (b's subnet ACL,
    /// b's security groups), in the order EC2 applies them.
    pub fn forward(
        &self,
        names: (&str, &str),
        a: &EniView,
        b: &EniView,
        protocol: u8,
        dst_port: u16,
    ) -> Option<Refusal> {
        let out = Probe { protocol, remote_ip: b.ip, dst_port, icmp: (0, 0) };
        let inb = Probe { remote_ip: a.ip, ..out };
        if !self.sg_allows(a, Direction::Outbound, &out, Some(b)) {
            return Some(self.sg_refusal(names.0, a, Direction::Outbound));
        }
        if let Some(r) = self.nacls(a, Some(b.subnet), out, inb) {
            return Some(r);
        }
        if !self.sg_allows(b, Direction::Inbound, &inb, Some(a)) {
            return Some(self.sg_refusal(names.1, b, Direction::Inbound));
        }
        None
    }

    /// Return traffic b -> a of a connection a opened (a's source port now the destination):
    /// the security groups are stateful and let it through; the ACLs are not.
    pub fn reverse(&self, a: &EniView, b: &EniView, protocol: u8, a_port: u16) -> Option<Refusal> {
        let out = Probe { protocol, remote_ip: a.ip, dst_port: a_port, icmp: (0, 0) };
        let inb = Probe { remote_ip: b.ip, ..out };
        self.nacls(b, Some(a.subnet), out, inb)
    }

    /// Would `me`'s security groups allow a packet of a new flow in direction `dir`
    /// (`remote_ip` the far end's address, `dst_port` the packet's destination port)? What a
    /// packet meets once its connection-tracking entry is gone.
    pub fn allows_new(
        &self,
        me: &EniView,
        dir: Direction,
        protocol: u8,
        remote_ip: u32,
        dst_port: u16,
        peer: &EniView,
    ) -> bool {
        self.sg_allows(me, dir, &Probe { protocol, remote_ip, dst_port, icmp: (0, 0) }, Some(peer))
    }

    /// Is a TCP or UDP flow that starts in direction `initiating` at `me` (to port `dst_port`)
    /// untracked? The user guide ("security group connection tracking", read 2026-11-30): a rule
    /// permits the flow for all traffic (0.0.0.0/0) and a rule in the other direction permits
    /// all response traffic (0.0.0.0/0) on all ports (0-65535). ICMP and other protocols are
    /// always tracked; an ENI without groups is not filtered (and not tracked) at all.
    pub fn untracked(&self, me: &EniView, initiating: Direction, protocol: u8, dst_port: u16) -> bool {
        if !matches!(protocol, PROTO_TCP | PROTO_UDP) || me.groups.is_empty() {
            return false;
        }
        let everywhere = |r: &SgRule| matches!(r.peer, Peer::Cidr(c) if c.prefix == 0);
        let rules = |dir: Direction| {
            me.groups.iter().flat_map(move |&g| {
                let g = &self.groups[g];
                if dir == Direction::Inbound { g.inbound.iter() } else { g.outbound.iter() }
            })
        };
        let probe = Probe { protocol, remote_ip: 0, dst_port, icmp: (0, 0) };
        let back = if initiating == Direction::Inbound { Direction::Outbound } else { Direction::Inbound };
        rules(initiating).any(|r| everywhere(r) && r.m.matches(&probe))
            && rules(back).any(|r| {
                everywhere(r)
                    && r.m.protocol.is_none_or(|p| p == protocol)
                    && r.m.ports.is_none_or(|(a, b)| a == 0 && b == u16::MAX)
            })
    }

    /// An ICMP "fragmentation needed" from a gateway at `from_ip` about one of a's connections:
    /// a's security groups let related ICMP in; a's subnet ACL needs an inbound ICMP rule.
    pub fn icmp_error_to(&self, a: &EniView, from_ip: u32) -> Option<Refusal> {
        let p = Probe {
            protocol: PROTO_ICMP,
            remote_ip: from_ip,
            dst_port: 0,
            icmp: (crate::net::ip::ICMP_DEST_UNREACHABLE, crate::net::ip::ICMP_FRAG_NEEDED),
        };
        let acl = self.acl_of(a.subnet);
        acl.evaluate(Direction::Inbound, &p).err().map(|rule| Refusal::Nacl {
            acl: acl.name.clone(),
            direction: Direction::Inbound,
            rule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(n: u32, proto: &str, ports: Option<&str>, cidr: &str, action: &str) -> AclRuleConfig {
        AclRuleConfig {
            rule: n,
            protocol: proto.into(),
            ports: ports.map(String::from),
            icmp_type: None,
            icmp_code: None,
            cidr: cidr.into(),
            action: action.into(),
        }
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let c = Cidr::parse("10.0.1.0/24").unwrap();
        assert!(c.contains(parse_ipv4("10.0.1.77").unwrap()));
        assert!(!c.contains(parse_ipv4("10.0.2.1").unwrap()));
        assert_eq!(c.to_string(), "10.0.1.0/24");
        assert!(Cidr::parse("10.0.1.5/24").unwrap_err().contains("10.0.1.0/24"));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(12345));
        assert!(Cidr::parse("10.0.1.0").is_err());
    }

    #[test]
    fn acl_rules_are_evaluated_lowest_number_first() {
        // Rule 100 denies port 22 from one host; 200 allows all TCP: the deny wins for that
        // host because it comes first, whatever order the rules were written in.
        let acl = Acl::compile(
            "a",
            &[rule(200, "tcp", None, "0.0.0.0/0", "allow"), rule(100, "tcp", Some("22"), "10.0.9.9/32", "deny")],
            &[],
        )
        .unwrap();
        let p = |ip: &str, port| Probe {
            protocol: PROTO_TCP,
            remote_ip: parse_ipv4(ip).unwrap(),
            dst_port: port,
            icmp: (0, 0),
        };
        assert_eq!(acl.evaluate(Direction::Inbound, &p("10.0.9.9", 22)), Err(Some(100)));
        assert_eq!(acl.evaluate(Direction::Inbound, &p("10.0.9.8", 22)), Ok(()));
        assert_eq!(acl.evaluate(Direction::Inbound, &p("10.0.9.9", 80)), Ok(()));
        // No outbound rules at all: the default deny.
        assert_eq!(acl.evaluate(Direction::Outbound, &p("10.0.9.9", 80)), Err(None));
        // ICMP needs its own rule: an all-TCP rule does not match it.
        let icmp = Probe { protocol: PROTO_ICMP, remote_ip: 1, dst_port: 0, icmp: (3, 4) };
        assert_eq!(acl.evaluate(Direction::Inbound, &icmp), Err(None));
    }
}
