//! Writing the scenario: RON strings and comments, the records instances and ENIs become, and
//! the small translations of AWS rule fields (protocols, ports, ICMP, free subnet blocks).

use super::*;

/// A RON string literal.
pub fn ron_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Text safe inside a `//` comment (one line).
pub(super) fn comment(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

pub(super) struct Eni {
    pub(super) name: String,
    pub(super) source: String,
    pub(super) mtu: u32,
    pub(super) mtu_note: Option<String>,
    pub(super) groups: Vec<String>,
    pub(super) srd: bool,
    pub(super) srd_udp: bool,
    pub(super) efa: bool,
    pub(super) source_dest_check: bool,
    pub(super) subnet: Option<String>,
    /// Interface id and private addresses (for flow logs).
    pub(super) keys: Vec<String>,
}

pub(super) struct Inst {
    pub(super) name: String,
    pub(super) source: String,
    pub(super) notes: Vec<String>,
    pub(super) ty: String,
    pub(super) az: String,
    pub(super) pg: Option<String>,
    pub(super) subnet: Option<String>,
    pub(super) count: Option<u32>,
    pub(super) enis: Vec<Eni>,
}

pub(super) fn mtu_tag(values: &Map<String, Value>) -> Option<u32> {
    let tags = values.get("tags_all").or_else(|| values.get("tags"))?;
    tags.get("nitrosim:mtu")?.as_str()?.parse().ok()
}

pub(super) fn protocol(p: &str) -> String {
    match p {
        "-1" | "all" => "all".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Ports for a rule: none for all-protocol or ICMP rules, and for 0-0 / full ranges.
pub(super) fn ports(proto: &str, from: Option<i64>, to: Option<i64>) -> Option<String> {
    if proto != "tcp" && proto != "udp" {
        return None;
    }
    match (from, to) {
        (Some(a), Some(b)) if a == 0 && (b == 0 || b == 65535) => None,
        (Some(a), Some(b)) if a == b => Some(a.to_string()),
        (Some(a), Some(b)) if a >= 0 && b >= a => Some(format!("{a}-{b}")),
        _ => None,
    }
}

pub(super) fn icmp(proto: &str, from: Option<i64>, to: Option<i64>) -> String {
    if proto != "icmp" {
        return String::new();
    }
    let mut s = String::new();
    if let Some(t) = from.filter(|t| *t >= 0) {
        let _ = write!(s, ", icmp_type: {t}");
        if let Some(c) = to.filter(|c| *c >= 0) {
            let _ = write!(s, ", icmp_code: {c}");
        }
    }
    s
}

pub(super) struct SgRule {
    pub(super) source: String,
    pub(super) text: String,
}

/// A /24 inside the VPC's block that no known subnet overlaps (the `skip`-th such), for a subnet
/// whose block is known only after apply.
pub(super) fn free_block(vpc: &str, known: &[crate::ec2::vpc::Cidr], skip: usize) -> String {
    let Ok(v) = crate::ec2::vpc::Cidr::parse(vpc) else { return "10.0.0.0/24".into() };
    let blocks = if v.prefix <= 24 { 1u64 << (24 - v.prefix) } else { 1 };
    let free = (0..blocks.min(65_536)).map(|k| v.base + ((k as u32) << 8)).filter(|&b| {
        known.iter().all(|c| !c.contains(b) && !crate::ec2::vpc::Cidr { base: b, prefix: 24 }.contains(c.base))
    });
    match free.clone().nth(skip).or_else(|| free.clone().next()) {
        Some(b) => format!("{}/24", std::net::Ipv4Addr::from(b)),
        None => vpc.to_string(),
    }
}
