//! VPC Flow Logs as a workload: read the records, group them per 5-tuple, and turn each group
//! into exchanges a TCP connection replays.
//!
//! The record formats are AWS's ("Flow log records", VPC user guide,
//! <https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html>, read 2026-11):
//! version 2, the default, is `version account-id interface-id srcaddr dstaddr srcport dstport
//! protocol packets bytes start end action log-status`, space separated, `-` for a missing
//! value. A custom format names its fields, in order, on a header line (as flow logs delivered to
//! S3 begin); versions 3 to 5 add `vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr
//! pkt-dstaddr`, `region az-id sublocation-type sublocation-id`, and `pkt-src-aws-service
//! pkt-dst-aws-service flow-direction traffic-path`. A file without a header line is read as
//! version 2. Gzip files (`.gz`, or starting with the gzip magic bytes) are decompressed as they
//! are read.
//!
//! # The reconstruction model (stated, because flow logs do not record flows)
//! - A record counts the packets and bytes one ENI saw for one 5-tuple during one aggregation
//!   window (up to 1 or 10 minutes). The same packets show up twice when both ends are ENIs that
//!   log: per window and direction the larger of the sender's and the receiver's counts is kept,
//!   never their sum. Windows are matched by `start` rounded down to `window`.
//! - A 5-tuple is one TCP connection (an ephemeral port is not reused within the span of a log).
//!   Its initiator is the side that sent a SYN without ACK (`tcp-flags`, OR-ed over the window by
//!   AWS) when the field is present, otherwise the side with the higher port.
//! - Each window with traffic is one exchange on that connection: the initiator writes the
//!   window's forward payload, the other side answers with the window's reverse payload once it
//!   has it all, issued at the window's first packet (`start`), in time order. Payload = bytes -
//!   52 B per packet (IP 20 + TCP 20 + timestamps 12); an ACK-only direction counts as 1 byte.
//! - Time is compressed by `speedup` (start offsets divided by it) and bytes multiplied by
//!   `scale`.
//! - REJECT records: a group whose every record is REJECT is replayed as a connection attempt
//!   that the scenario's security groups and network ACLs are expected to refuse (it must never
//!   be established); the report says whether they did.
//! - NODATA and SKIPDATA records carry no flow: counted and reported (SKIPDATA means AWS lost
//!   records in that window).
//! - Only TCP (protocol 6) is replayed; other protocols are counted and reported.
//!
//! Memory is bounded: the file is streamed line by line and only per-group state is kept, at
//! most `max_groups` groups and `max_exchanges` exchanges, each a clear error when exceeded.
//!
//! `format` holds the record format (field names, the version 2 layout, TCP flags); this file
//! reads records and reconstructs the groups.

mod format;

pub use format::{KNOWN_FIELDS, MAX_LINE_BYTES, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, V2_FIELDS};
use format::{ip_text, parse_ipv4};

use crate::ec2::vpc::Cidr;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// IP 20 B + TCP 20 B + the timestamps option 12 B (Linux default): the headers of every packet.
pub const HEADER_BYTES_PER_PACKET: u64 = 52;
/// Observers kept apart per window and direction (sender ENI, receiver ENI, a middlebox, ...);
/// more share the last slot.
const OBSERVERS: usize = 4;

/// Most bytes one record may count: an ENI at 400 Gbps moves 3.0e13 bytes in a 600 s window, so
/// 2^50 (1.1e15) is no real record, and sums of such records stay far from u64's end.
const MAX_RECORD_BYTES: u64 = 1 << 50;
/// Most packets one record may count (2^40: 64-byte packets at 400 Gbps for 600 s are 4.7e11).
const MAX_RECORD_PACKETS: u64 = 1 << 40;

/// A located error in a flow log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowLogError {
    pub file: String,
    /// 1-based; 0 = not about one line (the file cannot be opened, a limit).
    pub line: usize,
    pub field: String,
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for FlowLogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: field `{}`: {}", self.file, self.line, self.field, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// How records are mapped and replayed (the workload's settings).
#[derive(Clone, Debug)]
pub struct ReplayOptions<'a> {
    /// Interface ids and private IPv4 addresses -> instance names.
    pub interfaces: &'a BTreeMap<String, String>,
    /// The instance standing for addresses outside the VPC (the internet), if any.
    pub internet: Option<&'a str>,
    /// The VPC's block: an unmapped address inside it is an unknown host, not the internet.
    pub vpc: Cidr,
    pub window_s: u64,
    pub max_groups: usize,
    pub max_exchanges: usize,
}

/// One exchange of a group, at a time offset from the log's first record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Seconds since the first record's start (before `speedup`).
    pub offset_s: u64,
    pub forward_bytes: u64,
    pub reverse_bytes: u64,
}

/// A 5-tuple group: one connection of the original traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// "10.0.1.10:43512 -> 10.0.2.20:443" (initiator first), the original addresses.
    pub label: String,
    pub client: String,
    pub server: String,
    pub server_port: u16,
    /// Every record of the group was REJECT.
    pub rejected: bool,
    /// Some records were REJECT and others ACCEPT.
    pub partly_rejected: bool,
    pub packets: u64,
    pub bytes: u64,
    pub syns: u64,
    pub fins: u64,
    pub exchanges: Vec<Exchange>,
}

/// What reading the log found besides the groups (reported, never silently dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub lines: u64,
    pub records: u64,
    pub nodata: u64,
    pub skipdata: u64,
    pub unknown_interface: u64,
    /// Records whose addresses map to no instance (inside the VPC, not in `interfaces`).
    pub unmapped_address: u64,
    pub not_tcp: u64,
    pub rejected_records: u64,
    /// First few unknown interface ids / addresses, for the report.
    pub unknown_examples: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Replay {
    pub groups: Vec<Group>,
    pub stats: ReadStats,
    pub format: String,
}

#[derive(Clone, Copy, Debug, Default)]
struct Window {
    start: u64,
    /// [forward, reverse] x observers (interface ids): (observer hash, bytes, packets). The
    /// sender's and the receiver's ENI (and a middlebox's) each count the same packets.
    seen: [[(u64, u64, u64); OBSERVERS]; 2],
    /// TCP flags OR-ed per direction (both observers see the same packets).
    flags: [u32; 2],
}

#[derive(Clone, Debug)]
struct GroupAcc {
    client: u32,
    server: u32,
    /// The initiator is `b` (a SYN came from the side the port heuristic called the server).
    swapped: bool,
    accepted: u64,
    rejected: u64,
    windows: BTreeMap<u64, Window>,
}

/// Endpoint of a record: (ip, port).
type End = (u32, u16);

/// Resolve a scenario-relative path: next to the scenario file if it exists there, else as given
/// (relative to the working directory).
pub fn resolve(scenario_file: &str, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    if let Some(dir) = Path::new(scenario_file).parent() {
        let near = dir.join(p);
        if near.exists() {
            return near;
        }
    }
    p.to_path_buf()
}

fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let mut f = std::fs::File::open(path)?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic)?;
    drop(f);
    let f = std::fs::File::open(path)?;
    // RFC 1952: a gzip member starts with 0x1f 0x8b.
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(1 << 16, flate2::read::MultiGzDecoder::new(f))))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
    }
}

/// Read the log a `FlowLogs` workload names (its `file` already resolved), with its settings.
pub fn read_for(w: &super::config::FlowLogsConfig, vpc_cidr: &str) -> Result<Replay, String> {
    read_config(w, vpc_cidr).map_err(|e| e.to_string())
}

/// As `read_for`, keeping the located error.
pub fn read_config(w: &super::config::FlowLogsConfig, vpc_cidr: &str) -> Result<Replay, FlowLogError> {
    let o = ReplayOptions {
        interfaces: &w.interfaces,
        internet: w.internet.as_deref(),
        vpc: Cidr::parse(vpc_cidr).unwrap_or(Cidr { base: 0x0A00_0000, prefix: 8 }),
        window_s: w.window_s.max(1),
        max_groups: w.max_groups as usize,
        max_exchanges: w.max_exchanges as usize,
    };
    read(Path::new(&w.file), &w.file, &o)
}

/// Read a flow log and reconstruct its groups.
pub fn read(path: &Path, display: &str, o: &ReplayOptions) -> Result<Replay, FlowLogError> {
    let err = |line: usize, field: &str, message: String, hint: &str| FlowLogError {
        file: display.to_string(),
        line,
        field: field.to_string(),
        message,
        hint: hint.to_string(),
    };
    let mut r = open(path).map_err(|e| {
        err(0, "", format!("cannot read the flow log: {e}"), "the path is relative to the scenario file's folder")
    })?;
    // Instance names <-> indices, and the address map.
    let mut names: Vec<String> = Vec::new();
    let mut name_index: BTreeMap<String, u32> = BTreeMap::new();
    let mut intern = |n: &str, names: &mut Vec<String>| -> u32 {
        *name_index.entry(n.to_string()).or_insert_with(|| {
            names.push(n.to_string());
            (names.len() - 1) as u32
        })
    };
    let mut by_eni: BTreeMap<&str, u32> = BTreeMap::new();
    let mut by_ip: BTreeMap<u32, u32> = BTreeMap::new();
    for (k, v) in o.interfaces {
        let idx = intern(v, &mut names);
        match parse_ipv4(k) {
            Some(ip) => {
                by_ip.insert(ip, idx);
            }
            None => {
                by_eni.insert(k.as_str(), idx);
            }
        }
    }
    let internet = o.internet.map(|n| intern(n, &mut names));

    let mut fields: Vec<String> = V2_FIELDS.iter().map(|s| s.to_string()).collect();
    let mut format = "version 2 (default)".to_string();
    let mut groups: BTreeMap<(End, End), GroupAcc> = BTreeMap::new();
    let mut exchanges = 0usize;
    let mut stats = ReadStats::default();
    let mut buf = String::new();
    let mut lineno = 0usize;
    let mut col: BTreeMap<&'static str, usize> = BTreeMap::new();
    let set_cols = |fields: &[String], col: &mut BTreeMap<&'static str, usize>| {
        col.clear();
        for (i, f) in fields.iter().enumerate() {
            if let Some(k) = KNOWN_FIELDS.iter().find(|k| **k == f) {
                col.insert(k, i);
            }
        }
    };
    set_cols(&fields, &mut col);
    loop {
        buf.clear();
        let n = r.by_ref().take(MAX_LINE_BYTES as u64 + 1).read_line(&mut buf).map_err(|e| {
            err(lineno + 1, "", format!("cannot read: {e}"), "a plain or gzip text file of flow log records")
        })?;
        if n == 0 {
            break;
        }
        lineno += 1;
        if n > MAX_LINE_BYTES {
            return Err(err(lineno, "", format!("line longer than {MAX_LINE_BYTES} bytes"), "one record per line"));
        }
        stats.lines += 1;
        let line = buf.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let toks: Vec<&str> = line.split_ascii_whitespace().collect();
        // A header line: field names, not values (a record starts with a version number).
        if toks[0].parse::<u32>().is_err() && toks.iter().all(|t| t.contains(|c: char| c.is_ascii_alphabetic())) {
            if stats.records > 0 {
                return Err(err(lineno, toks[0], "a header line after records".into(), "one header line, first"));
            }
            for t in &toks {
                if !KNOWN_FIELDS.contains(t) {
                    let hint = match crate::names::did_you_mean(t, KNOWN_FIELDS.iter().copied()) {
                        Some(m) => format!("did you mean `{m}`?"),
                        None => "field names as in AWS's flow log record documentation".to_string(),
                    };
                    return Err(err(lineno, t, format!("unknown flow log field `{t}`"), &hint));
                }
            }
            for need in ["srcaddr", "dstaddr", "srcport", "dstport", "protocol", "bytes", "start"] {
                if !toks.contains(&need) {
                    return Err(err(
                        lineno,
                        need,
                        format!("the header line has no `{need}` field"),
                        "a replay needs srcaddr dstaddr srcport dstport protocol packets bytes start",
                    ));
                }
            }
            fields = toks.iter().map(|s| s.to_string()).collect();
            set_cols(&fields, &mut col);
            format = format!("custom: {}", fields.join(" "));
            continue;
        }
        if toks.len() != fields.len() {
            return Err(err(
                lineno,
                "",
                format!("{} fields, the format has {}", toks.len(), fields.len()),
                "every record has the fields of the header line (or the 14 of version 2), `-` for none",
            ));
        }
        stats.records += 1;
        let get = |f: &str| col.get(f).map(|&i| toks[i]).filter(|v| *v != "-");
        if let Some(status) = get("log-status") {
            match status {
                "OK" => {}
                "NODATA" => {
                    stats.nodata += 1;
                    continue;
                }
                "SKIPDATA" => {
                    stats.skipdata += 1;
                    continue;
                }
                other => {
                    return Err(err(
                        lineno,
                        "log-status",
                        format!("unknown log status {other:?}"),
                        "OK, NODATA or SKIPDATA",
                    ));
                }
            }
        }
        let num = |f: &str| -> Result<Option<u64>, FlowLogError> {
            match get(f) {
                None => Ok(None),
                Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
                    err(lineno, f, format!("{v:?} is not a number"), "a non-negative integer, or `-` for none")
                }),
            }
        };
        let addr = |f: &str| -> Result<Option<u32>, FlowLogError> {
            match get(f) {
                None => Ok(None),
                Some(v) => parse_ipv4(v).map(Some).ok_or_else(|| {
                    err(lineno, f, format!("{v:?} is not an IPv4 address"), "dotted quad; IPv6 is not replayed")
                }),
            }
        };
        let port = |f: &str| -> Result<u16, FlowLogError> {
            let v = num(f)?.unwrap_or(0);
            u16::try_from(v).map_err(|_| err(lineno, f, format!("port {v} above 65535"), "0 ..= 65535"))
        };
        // The packet-level addresses (through a NAT gateway or a middlebox ENI) are the real ends.
        let src = match addr("pkt-srcaddr")? {
            Some(a) => a,
            None => addr("srcaddr")?.ok_or_else(|| err(lineno, "srcaddr", "missing".into(), "an IPv4 address"))?,
        };
        let dst = match addr("pkt-dstaddr")? {
            Some(a) => a,
            None => addr("dstaddr")?.ok_or_else(|| err(lineno, "dstaddr", "missing".into(), "an IPv4 address"))?,
        };
        let (sport, dport) = (port("srcport")?, port("dstport")?);
        let proto = num("protocol")?.unwrap_or(0);
        let bytes = num("bytes")?.unwrap_or(0);
        let packets = num("packets")?.unwrap_or(0);
        for (field, v, max, why) in [
            ("bytes", bytes, MAX_RECORD_BYTES, "an ENI at 400 Gbps moves 3.0e13 bytes in a 600 s window"),
            ("packets", packets, MAX_RECORD_PACKETS, "64-byte packets at 400 Gbps for 600 s are 4.7e11"),
        ] {
            if v > max {
                return Err(err(
                    lineno,
                    field,
                    format!("{field} {v} in one record"),
                    &format!("at most {max} ({why})"),
                ));
            }
        }
        let start = num("start")?.ok_or_else(|| err(lineno, "start", "missing".into(), "Unix seconds"))?;
        if let Some(end) = num("end")?
            && end < start
        {
            return Err(err(lineno, "end", format!("end {end} before start {start}"), "end >= start (Unix seconds)"));
        }
        let flags = match get("tcp-flags") {
            None => None,
            Some(_) => num("tcp-flags")?.map(|f| f as u32),
        };
        let action = get("action").unwrap_or("ACCEPT");
        let rejected = match action {
            "ACCEPT" => false,
            "REJECT" => true,
            other => return Err(err(lineno, "action", format!("unknown action {other:?}"), "ACCEPT or REJECT")),
        };
        if proto != 6 {
            stats.not_tcp += 1;
            continue;
        }
        // Who saw it (the interface id, else the direction): records of one window and
        // direction from different observers describe the same packets.
        let observer = get("interface-id").or(get("flow-direction")).unwrap_or("?");
        let observer_hash =
            observer.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        let (mut src_i, mut dst_i) = (by_ip.get(&src).copied(), by_ip.get(&dst).copied());
        if let Some(eni) = get("interface-id") {
            match by_eni.get(eni) {
                // An address not in the map belongs to the interface that logged it.
                Some(&i) => {
                    let ingress = get("flow-direction") == Some("ingress");
                    if src_i.is_none() && !ingress && dst_i != Some(i) {
                        src_i = Some(i);
                    } else if dst_i.is_none() && src_i != Some(i) {
                        dst_i = Some(i);
                    }
                }
                // With no interface id in the map (a plan: ids are known after apply), records are
                // mapped by address and the id only tells observers apart.
                None if by_eni.is_empty() => {}
                None => {
                    // Counted; the record is still used if its addresses map to instances.
                    stats.unknown_interface += 1;
                    if stats.unknown_examples.len() < 5 && !stats.unknown_examples.iter().any(|x| x == eni) {
                        stats.unknown_examples.push(eni.to_string());
                    }
                }
            }
        }
        let outside = |ip: u32, known: Option<u32>| match known {
            Some(i) => Some(i),
            None if !o.vpc.contains(ip) => internet,
            None => None,
        };
        let (Some(si), Some(di)) = (outside(src, src_i), outside(dst, dst_i)) else {
            stats.unmapped_address += 1;
            if stats.unknown_examples.len() < 5 {
                let ip = if outside(src, src_i).is_none() { src } else { dst };
                stats.unknown_examples.push(ip_text(ip));
            }
            continue;
        };
        if si == di {
            stats.unmapped_address += 1;
            continue;
        }
        if rejected {
            stats.rejected_records += 1;
        }
        // Canonical key: the lower port is the server (ties: the lower address).
        let a: End = (src, sport);
        let b: End = (dst, dport);
        let src_is_server = (sport, src) < (dport, dst);
        let (client_end, server_end, forward) = if src_is_server { (b, a, false) } else { (a, b, true) };
        let (ci, sv) = if forward { (si, di) } else { (di, si) };
        let key = (client_end, server_end);
        if !groups.contains_key(&key) && groups.len() >= o.max_groups {
            return Err(err(
                lineno,
                "",
                format!("more than {} 5-tuple groups", o.max_groups),
                "raise the workload's `max_groups` (memory grows with it), or filter the log",
            ));
        }
        let g = groups.entry(key).or_insert_with(|| GroupAcc {
            client: ci,
            server: sv,
            swapped: false,
            accepted: 0,
            rejected: 0,
            windows: BTreeMap::new(),
        });
        if rejected {
            g.rejected += 1;
        } else {
            g.accepted += 1;
        }
        if let Some(f) = flags
            && f & TCP_SYN != 0
            && f & TCP_ACK == 0
            && !forward
        {
            // The side the ports called the server opened the connection.
            g.swapped = true;
        }
        let wkey = start / o.window_s.max(1);
        if !g.windows.contains_key(&wkey) {
            if exchanges >= o.max_exchanges {
                return Err(err(
                    lineno,
                    "",
                    format!("more than {} exchanges (group x aggregation window)", o.max_exchanges),
                    "raise the workload's `max_exchanges`, or a longer `window`",
                ));
            }
            exchanges += 1;
        }
        let w = g.windows.entry(wkey).or_insert(Window { start, ..Window::default() });
        w.start = w.start.min(start);
        let d = !forward as usize;
        w.flags[d] |= flags.unwrap_or(0);
        let slots = &mut w.seen[d];
        let k = slots.iter().position(|o| o.0 == observer_hash || o.1 == 0 && o.2 == 0).unwrap_or(OBSERVERS - 1);
        slots[k].0 = observer_hash;
        slots[k].1 = slots[k].1.saturating_add(bytes);
        slots[k].2 = slots[k].2.saturating_add(packets);
    }
    let t0 = groups.values().flat_map(|g| g.windows.values().map(|w| w.start)).min().unwrap_or(0);
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|((c, s), g)| {
            let (c, s, client, server) =
                if g.swapped { (s, c, g.server, g.client) } else { (c, s, g.client, g.server) };
            // Windows where the initiator sent a SYN without ACK (a connection opened) and where
            // either side sent FIN or RST (one closed).
            let init = g.swapped as usize;
            let syns =
                g.windows.values().filter(|w| w.flags[init] & TCP_SYN != 0 && w.flags[init] & TCP_ACK == 0).count();
            let fins = g.windows.values().filter(|w| (w.flags[0] | w.flags[1]) & (TCP_FIN | TCP_RST) != 0).count();
            let mut total_packets = 0;
            let mut total_bytes = 0;
            let exchanges = g
                .windows
                .values()
                .map(|w| {
                    let mut dir = |d: usize| {
                        // The larger of the two observations: the same packets seen at both ends.
                        let (_, b, p) = w.seen[d].iter().copied().max_by_key(|o| (o.1, o.2)).unwrap_or_default();
                        total_packets = p.saturating_add(total_packets);
                        total_bytes = b.saturating_add(total_bytes);
                        b.saturating_sub(p.saturating_mul(HEADER_BYTES_PER_PACKET)).max(1)
                    };
                    let (f, r) = (dir(0), dir(1));
                    let (f, r) = if g.swapped { (r, f) } else { (f, r) };
                    Exchange { offset_s: w.start - t0, forward_bytes: f, reverse_bytes: r }
                })
                .collect();
            Group {
                label: format!("{}:{} -> {}:{}", ip_text(c.0), c.1, ip_text(s.0), s.1),
                client: names[client as usize].clone(),
                server: names[server as usize].clone(),
                server_port: s.1,
                rejected: g.accepted == 0,
                partly_rejected: g.accepted > 0 && g.rejected > 0,
                packets: total_packets,
                bytes: total_bytes,
                syns: syns as u64,
                fins: fins as u64,
                exchanges,
            }
        })
        .collect();
    // Time order (then the label), so replay and report do not depend on the key's layout.
    out.sort_by(|a, b| {
        let t = |g: &Group| g.exchanges.first().map_or(0, |e| e.offset_s);
        (t(a), &a.label).cmp(&(t(b), &b.label))
    });
    Ok(Replay { groups: out, stats, format })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(map: &BTreeMap<String, String>) -> ReplayOptions<'_> {
        ReplayOptions {
            interfaces: map,
            internet: Some("internet"),
            vpc: Cidr::parse("10.0.0.0/16").unwrap(),
            window_s: 60,
            max_groups: 100,
            max_exchanges: 1000,
        }
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    fn map() -> BTreeMap<String, String> {
        [("eni-a", "a"), ("10.0.0.10", "a"), ("eni-b", "b"), ("10.0.0.20", "b")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn both_ends_seen_count_once_and_directions_pair() {
        // The client's ENI and the server's ENI both log the request and the response.
        let log = "\
2 1 eni-a 10.0.0.10 10.0.0.20 40000 443 6 10 5520 100 160 ACCEPT OK
2 1 eni-b 10.0.0.10 10.0.0.20 40000 443 6 10 5520 101 160 ACCEPT OK
2 1 eni-b 10.0.0.20 10.0.0.10 443 40000 6 20 21040 101 160 ACCEPT OK
2 1 eni-a 10.0.0.20 10.0.0.10 443 40000 6 20 21040 102 160 ACCEPT OK
";
        let f = write(log);
        let m = map();
        let r = read(f.path(), "t.log", &opts(&m)).unwrap();
        assert_eq!(r.groups.len(), 1);
        let g = &r.groups[0];
        assert_eq!((g.client.as_str(), g.server.as_str(), g.server_port), ("a", "b", 443));
        assert_eq!(g.exchanges, vec![Exchange { offset_s: 0, forward_bytes: 5000, reverse_bytes: 20000 }]);
        assert_eq!(g.bytes, 5520 + 21040);
    }

    #[test]
    fn syn_decides_the_initiator_and_unknown_eni_is_counted() {
        let log = "version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags flow-direction
5 eni-b 10.0.0.20 10.0.0.10 80 90 6 1 60 0 10 ACCEPT OK 2 egress
5 eni-zz 10.0.0.20 10.0.0.10 80 90 6 1 60 0 10 ACCEPT OK 2 egress
5 - 10.0.0.20 10.0.0.10 - - - - - - - - NODATA - -
";
        let f = write(log);
        let m = map();
        let r = read(f.path(), "t.log", &opts(&m)).unwrap();
        assert_eq!(r.groups[0].client, "b");
        assert_eq!(r.groups[0].label, "10.0.0.20:80 -> 10.0.0.10:90");
        assert_eq!((r.stats.unknown_interface, r.stats.nodata), (1, 1));
    }

    #[test]
    fn outside_addresses_go_to_the_internet_and_errors_are_located() {
        let f = write("2 1 eni-a 10.0.0.10 93.184.216.34 40000 443 6 1 100 0 10 ACCEPT OK\n");
        let m = map();
        let r = read(f.path(), "t.log", &opts(&m)).unwrap();
        assert_eq!(r.groups[0].server, "internet");
        let bad = write("2 1 eni-a 10.0.0.10 10.0.0.20 40000 443 6 x 100 0 10 ACCEPT OK\n");
        let e = read(bad.path(), "bad.log", &opts(&m)).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, "packets"));
        let short = write("\n2 1 eni-a 10.0.0.10\n");
        assert_eq!(read(short.path(), "s.log", &opts(&m)).unwrap_err().line, 2);
    }

    #[test]
    fn the_group_limit_names_its_knob() {
        let mut log = String::new();
        for p in 0..5 {
            log += &format!("2 1 eni-a 10.0.0.10 10.0.0.20 {} 443 6 1 100 0 10 ACCEPT OK\n", 40000 + p);
        }
        let f = write(&log);
        let m = map();
        let o = ReplayOptions { max_groups: 3, ..opts(&m) };
        let e = read(f.path(), "t.log", &o).unwrap_err();
        assert!(e.hint.contains("max_groups"), "{e:?}");
        assert_eq!(e.line, 4);
    }
}
