//! Ladder (sequence) diagrams: the classic teaching figure for TCP and Path MTU Discovery. One
//! vertical lifeline per capture point on a flow's path (client, gateways, server), time flowing
//! down, one arrow per packet from the point that saw it leave to each point that saw it pass,
//! ending in a cross where it was dropped (with the reason and the rule), and RTO and MSS changes
//! as notes on the sender's lifeline.
//!
//! The diagram is built from the capture records that `report::pcap` turns into pcap files, plus
//! the drop records taken while capturing, so the diagram and the pcap always agree. Long quiet
//! stretches (an RTO backing off) are compressed and marked, so the packets stay readable.
//!
//! `build` produces the diagram's data (tested directly); `render_svg` and `render_png` draw the
//! same list of shapes, so the SVG (text, diffable, with hover titles) and the PNG match.

use crate::model::VariantResult;
use crate::model::trace::CaptureRecord;
use crate::net::SegKind;
use crate::net::fabric::FiveTuple;
use crate::scenario::spec::ScenarioSpec;
use std::collections::BTreeMap;
use std::fmt::Write;

mod draw;

pub use draw::{render_png, render_svg};

/// What kind of packet an arrow is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    Syn,
    SynAck,
    Data,
    Ack,
    /// ICMP destination unreachable, fragmentation needed (type 3 code 4).
    IcmpFragNeeded,
    Datagram,
}

/// Where a packet ended: `lifeline` is fractional when it was dropped between two points.
#[derive(Clone, Debug, PartialEq)]
pub struct LadderDrop {
    pub lifeline: f64,
    pub time_us: f64,
    pub reason: String,
    /// The network ACL or security group rule that refused it, when a rule did.
    pub rule: Option<String>,
}

/// One packet: each point that saw it, in order, and its end if it was dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct LadderArrow {
    pub kind: ArrowKind,
    pub label: String,
    /// (lifeline index, time in us) where the packet was seen, along its direction.
    pub hops: Vec<(usize, f64)>,
    pub drop: Option<LadderDrop>,
    pub df: bool,
    pub payload_bytes: u32,
    /// IP total length.
    pub wire_bytes: u32,
    /// Relative TCP sequence number (1 = first payload byte, as Wireshark shows it).
    pub seq: u64,
    pub retransmit: bool,
    /// ICMP: the next-hop MTU it announces.
    pub mtu: Option<u32>,
}

/// An annotation on a lifeline: an RTO, an MSS change, an MTU probe, an abort.
#[derive(Clone, Debug, PartialEq)]
pub struct LadderNote {
    pub lifeline: usize,
    pub time_us: f64,
    /// rto, mss, probe_sent, probe_failed, aborted (as in events.jsonl).
    pub event: &'static str,
    pub text: String,
    pub rto_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ladder {
    pub variant: String,
    pub flow: String,
    pub lifelines: Vec<String>,
    /// In order of their first sighting.
    pub arrows: Vec<LadderArrow>,
    pub notes: Vec<LadderNote>,
    /// Packets of the flow in the window beyond `max_packets`, not drawn.
    pub omitted: usize,
    pub window_us: (f64, f64),
}

fn reverse(t: FiveTuple) -> FiveTuple {
    FiveTuple { src_ip: t.dst_ip, dst_ip: t.src_ip, src_port: t.dst_port, dst_port: t.src_port, protocol: t.protocol }
}

/// What identifies one packet across capture points (an MSS clamp rewrites the option, so the
/// option is left out).
type Key = ((u32, u32, u16, u16, u8), (u8, u64, u64, u32, u64, u64, u32, bool));

fn key(r: &CaptureRecord) -> Key {
    let t = r.tuple;
    (
        (t.src_ip, t.dst_ip, t.src_port, t.dst_port, t.protocol),
        (
            r.seg.kind as u8,
            r.seg.seq,
            r.seg.ack,
            r.seg.payload_bytes,
            r.seg.ts.ps(),
            r.seg.ts_echo.ps(),
            r.frag.offset(),
            r.icmp.is_some(),
        ),
    )
}

fn label(r: &CaptureRecord) -> (ArrowKind, String) {
    if let Some(i) = &r.icmp {
        return (ArrowKind::IcmpFragNeeded, format!("ICMP frag. needed, MTU {}", i.mtu));
    }
    let s = &r.seg;
    let frag = if r.frag.is_fragment() { format!(", fragment at {}", r.frag.offset()) } else { String::new() };
    let df = if s.df { ", DF" } else { "" };
    match s.kind {
        SegKind::Syn => (ArrowKind::Syn, format!("SYN, MSS {}{df}", s.mss_option())),
        SegKind::SynAck => (ArrowKind::SynAck, format!("SYN-ACK, MSS {}{df}", s.mss_option())),
        SegKind::Datagram => (ArrowKind::Datagram, format!("UDP {} B{df}{frag}", s.payload_bytes)),
        SegKind::Ack if s.payload_bytes == 0 => {
            let sack = match s.sack_blocks().next() {
                Some((a, b)) => format!(", SACK {}-{}", a + 1, b + 1),
                None => String::new(),
            };
            (ArrowKind::Ack, format!("ACK {}{sack}{}", s.ack + 1, if s.fin { ", FIN" } else { "" }))
        }
        _ => (
            ArrowKind::Data,
            format!(
                "seq {} len {} (IP {} B){df}{}{}{frag}",
                s.seq + 1,
                s.payload_bytes,
                r.wire_bytes,
                if s.retransmit { ", retransmission" } else { "" },
                if s.fin { ", FIN" } else { "" }
            ),
        ),
    }
}

/// The ladder of `v`'s run of `spec` (None when the scenario asks for none, or nothing of the
/// flow was captured in the window).
pub fn build(spec: &ScenarioSpec, v: &VariantResult) -> Option<Ladder> {
    let l = spec.report.ladder.as_ref()?;
    let (a, _, port) = spec.flow_ends(&l.flow)?;
    let lifelines: Vec<String> = spec
        .flow_lifelines(&l.flow)?
        .into_iter()
        .filter(|n| v.captures.iter().any(|c| c.name == *n))
        .map(str::to_string)
        .collect();
    if lifelines.len() < 2 {
        return None;
    }
    let index = |n: &str| lifelines.iter().position(|x| x == n);
    // The connection: the first packet the first endpoint sent to the workload's port.
    let first = v.captures.iter().find(|c| c.name == a)?;
    let t = first.records.iter().find(|r| r.icmp.is_none() && r.tuple.dst_port == port)?.tuple;
    let rt = reverse(t);
    // +1: towards the last lifeline, -1: back towards the first.
    let direction = |r: &CaptureRecord| -> Option<i32> {
        match &r.icmp {
            Some(i) if i.original == t => Some(-1),
            Some(i) if i.original == rt => Some(1),
            Some(_) => None,
            None if r.tuple == t => Some(1),
            None if r.tuple == rt => Some(-1),
            None => None,
        }
    };
    let mut sightings: Vec<(u64, i64, usize, &CaptureRecord, i32)> = Vec::new();
    for c in &v.captures {
        let Some(li) = index(&c.name) else { continue };
        for r in &c.records {
            if let Some(d) = direction(r) {
                sightings.push((r.time.ps(), li as i64 * d as i64, li, r, d));
            }
        }
    }
    // Time order; at one instant, along the packet's direction.
    sightings.sort_by_key(|s| (s.0, s.1));
    let mut arrows: Vec<(LadderArrow, i32)> = Vec::new();
    let mut open: BTreeMap<Key, usize> = BTreeMap::new();
    for (ps, _, li, r, d) in sightings {
        let k = key(r);
        let t_us = ps as f64 / 1e6;
        if let Some(&i) = open.get(&k) {
            let (arrow, dir) = &mut arrows[i];
            let last = arrow.hops.last().expect("an open arrow has a hop").0 as i64;
            if *dir as i64 * (li as i64 - last) > 0 {
                arrow.hops.push((li, t_us));
                continue;
            }
        }
        let (kind, label) = label(r);
        open.insert(k, arrows.len());
        arrows.push((
            LadderArrow {
                kind,
                label,
                hops: vec![(li, t_us)],
                drop: None,
                df: r.seg.df,
                payload_bytes: r.seg.payload_bytes,
                wire_bytes: r.wire_bytes,
                seq: r.seg.seq + 1,
                retransmit: r.seg.retransmit,
                mtu: r.icmp.map(|i| i.mtu),
            },
            d,
        ));
    }
    for d in &v.capture_drops {
        if direction(&d.record).is_none() {
            continue;
        }
        let Some(&i) = open.get(&key(&d.record)) else { continue };
        let (arrow, dir) = &mut arrows[i];
        let (last, last_t) = *arrow.hops.last().expect("an open arrow has a hop");
        let t_us = d.record.time.ps() as f64 / 1e6;
        let lifeline = match d.at.as_deref().and_then(index) {
            Some(at) if at != last => at as f64,
            // Dropped where it was last seen, at that moment (a gateway refusing it) ...
            _ if t_us <= last_t => last as f64,
            // ... or later, on its way to the next point.
            _ => (last as f64 + 0.5 * *dir as f64).clamp(0.0, (lifelines.len() - 1) as f64),
        };
        let place = d.at.clone().or_else(|| (lifeline.fract() == 0.0).then(|| lifelines[lifeline as usize].clone()));
        let rule = v
            .events
            .iter()
            .find(|e| {
                e.event == "drop"
                    && e.reason == Some(d.reason)
                    && e.at == place
                    && (e.time_us - t_us).abs() < 0.0015
                    && e.rule.is_some()
            })
            .and_then(|e| e.rule.clone());
        arrow.drop = Some(LadderDrop { lifeline, time_us: t_us, reason: d.reason.to_string(), rule });
    }
    let total = arrows.len();
    let mut arrows: Vec<LadderArrow> = arrows.into_iter().map(|a| a.0).collect();
    arrows.truncate(l.max_packets as usize);
    let omitted = total - arrows.len();
    let end_us = |a: &LadderArrow| a.drop.as_ref().map_or(a.hops.last().map_or(0.0, |h| h.1), |d| d.time_us);
    let shown_until = if omitted > 0 { arrows.iter().map(end_us).fold(0.0, f64::max) } else { f64::MAX };
    let (from_us, to_us) = (l.from.as_us_f64(), l.to.as_us_f64());
    let label_matches = |f: &Option<String>| {
        f.as_deref().is_some_and(|f| f == l.flow || f.strip_prefix(l.flow.as_str()).is_some_and(|r| r.starts_with('/')))
    };
    let notes = v
        .events
        .iter()
        .filter(|e| e.time_us >= from_us && e.time_us <= to_us && e.time_us <= shown_until && label_matches(&e.flow))
        .filter_map(|e| {
            let lifeline = index(e.at.as_deref()?)?;
            let text = match e.event {
                "rto" => format!(
                    "RTO fired: retransmit, backoff {}, next RTO {} ms",
                    e.backoff.unwrap_or(0),
                    fmt_num(e.rto_ms.unwrap_or(0.0))
                ),
                "mss" => format!(
                    "MSS {} -> {}{}",
                    e.mss_from.unwrap_or(0),
                    e.mss_to.unwrap_or(0),
                    e.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
                ),
                "probe_sent" => format!("MTU probe sent ({} B)", e.mtu.unwrap_or(0)),
                "probe_failed" => format!("MTU probe of {} B failed", e.mtu.unwrap_or(0)),
                "aborted" => "connection aborted (tcp_retries2)".to_string(),
                _ => return None,
            };
            Some(LadderNote { lifeline, time_us: e.time_us, event: e.event, text, rto_ms: e.rto_ms })
        })
        .collect();
    Some(Ladder {
        variant: v.name.clone(),
        flow: l.flow.clone(),
        lifelines,
        arrows,
        notes,
        omitted,
        window_us: (from_us, to_us),
    })
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A time for a reader: us below 10 ms, ms below 100 s, else s.
pub fn fmt_time_us(t_us: f64, range_us: f64) -> String {
    if range_us < 10_000.0 {
        format!("{t_us:.1} us")
    } else if range_us < 100e6 {
        format!("{:.3} ms", t_us / 1e3)
    } else {
        format!("{:.3} s", t_us / 1e6)
    }
}
