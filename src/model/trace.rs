//! What a person can look at after a run, besides the numbers: the event log (notable events
//! with their simulated time, one JSON object per line) and packet captures at chosen points
//! (written as pcap files by `report::pcap`). Both are bounded. The model's side (what it logs and
//! records as packets pass) is the `impl Model` at the end.

use super::{Model, NONE};
use crate::ec2::vpc::PROTO_ICMP;
use crate::net::fabric::FiveTuple;
use crate::net::ip::FragInfo;
use crate::net::{DropReason, Packet, PacketId, SegKind, Segment, Sink};
use crate::transport::{MssCause, Note};
use crate::units::SimTime;
use serde::Serialize;

/// One line of `events.jsonl`. Fields that do not apply are left out.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LogEntry {
    pub time_us: f64,
    /// drop, icmp_sent, icmp_received, pmtu, rto, mss, probe_sent, probe_failed, loss_probe, aborted,
    /// fragmented, reassembly_failed.
    pub event: &'static str,
    /// The flow (or workload) concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
    /// Where: an instance or gateway name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The network ACL or security group rule that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rto_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss_from: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss_to: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Entries up to a limit, then a count of what was left out.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    pub entries: Vec<LogEntry>,
    pub limit: usize,
    pub omitted: u64,
}

impl EventLog {
    pub fn new(limit: usize) -> Self {
        EventLog { entries: Vec::new(), limit, omitted: 0 }
    }
    /// False once the limit is reached: callers skip building an entry (its strings) at all.
    pub fn has_room(&mut self) -> bool {
        if self.entries.len() < self.limit {
            return true;
        }
        self.omitted += 1;
        false
    }
    pub fn push(&mut self, now: SimTime, e: LogEntry) {
        if self.entries.len() < self.limit {
            self.entries.push(LogEntry { time_us: (now.as_us_f64() * 1000.0).round() / 1000.0, ..e });
        } else {
            self.omitted += 1;
        }
    }
}

/// The ICMP part of a captured packet: the next-hop MTU and the offending packet's headers.
#[derive(Clone, Copy, Debug)]
pub struct IcmpInfo {
    pub mtu: u32,
    pub original: FiveTuple,
    pub original_seg: Segment,
    pub original_wire_bytes: u32,
}

/// One packet as seen at a capture point: enough to rebuild its headers.
#[derive(Clone, Copy, Debug)]
pub struct CaptureRecord {
    pub time: SimTime,
    pub tuple: FiveTuple,
    pub seg: Segment,
    /// IP total length of this packet (a fragment's own length).
    pub wire_bytes: u32,
    pub frag: FragInfo,
    pub icmp: Option<IcmpInfo>,
}

impl CaptureRecord {
    pub fn is_tcp(&self) -> bool {
        !matches!(self.seg.kind, SegKind::Datagram) && self.icmp.is_none()
    }
}

/// A packet dropped while captures were on: the record it would have had, why it was dropped,
/// and the instance that dropped it (None: a fabric or gateway port).
#[derive(Clone, Debug)]
pub struct DropRecord {
    pub record: CaptureRecord,
    pub reason: &'static str,
    pub at: Option<String>,
}

/// Packets kept per capture point by default (`report.capture_limit`): a trace to read, not a
/// full dump.
pub const MAX_CAPTURED_PACKETS: usize = 200_000;

#[derive(Clone, Debug)]
pub struct CapturePoint {
    /// Instance or gateway name; also the file name.
    pub name: String,
    pub records: Vec<CaptureRecord>,
    pub omitted: u64,
    /// Packets kept at most (`report.capture_limit`).
    pub limit: usize,
}

impl CapturePoint {
    pub fn record(&mut self, r: CaptureRecord) {
        if self.records.len() < self.limit {
            self.records.push(r);
        } else {
            self.omitted += 1;
        }
    }
}

// ---------------------------------------------------------------- recording, as the model runs

impl Model {
    pub(crate) fn log_event(&mut self, e: LogEntry) {
        let now = self.now();
        self.log.push(now, e);
    }

    /// A flow's name, or its workload's, for the log.
    pub(crate) fn endpoint_label(&self, ep: u32) -> Option<String> {
        let slot = self.eps.get(ep as usize)?;
        if slot.flow != NONE {
            return Some(self.flows[slot.flow as usize].name.clone());
        }
        Some(self.app_name(slot.owner.app).to_string())
    }

    pub(crate) fn packet_flow(&self, id: PacketId) -> Option<String> {
        let p = self.pool.get(id);
        if p.dst_endpoint == NONE { None } else { self.endpoint_label(p.dst_endpoint) }
    }

    /// A transport's note becomes a log line.
    pub(crate) fn log_note(&mut self, ep: u32, note: Note) {
        if !self.log.has_room() {
            return;
        }
        let flow = self.endpoint_label(ep);
        let inst = self.eps[ep as usize].instance;
        let at = (inst != NONE).then(|| self.insts[inst as usize].name.clone());
        let e = match note {
            Note::Rto { backoff, rto } => LogEntry {
                event: "rto",
                backoff: Some(backoff),
                rto_ms: Some((rto.as_secs_f64() * 1e6).round() / 1e3),
                ..LogEntry::default()
            },
            Note::MssChanged { from, to, cause } => LogEntry {
                event: "mss",
                mss_from: Some(from),
                mss_to: Some(to),
                mtu: match cause {
                    MssCause::PathMtu(m) => Some(m),
                    _ => None,
                },
                detail: Some(
                    match cause {
                        MssCause::PathMtu(_) => "ICMP fragmentation needed",
                        MssCause::BlackHole => "black hole detected after tcp_retries1: tcp_base_mss",
                        MssCause::ProbeAcked => "MTU probe acknowledged",
                    }
                    .into(),
                ),
                ..LogEntry::default()
            },
            Note::ProbeSent { mtu } => LogEntry { event: "probe_sent", mtu: Some(mtu), ..LogEntry::default() },
            Note::ProbeFailed { mtu } => LogEntry { event: "probe_failed", mtu: Some(mtu), ..LogEntry::default() },
            Note::LossProbe => LogEntry { event: "loss_probe", ..LogEntry::default() },
            Note::Aborted { reason } => {
                LogEntry { event: "aborted", detail: Some(reason.describe().into()), ..LogEntry::default() }
            }
        };
        self.log_event(LogEntry { flow, at, ..e });
    }

    pub(crate) fn capture_at_instance(&mut self, inst: u32, p: &Packet) {
        self.capture_packet(self.capture_inst[inst as usize], p);
    }

    /// Record `p` at capture point `point` (if it is one), with the headers it would carry.
    pub(crate) fn capture_packet(&mut self, point: u32, p: &Packet) {
        if point == NONE {
            return;
        }
        let Some(rec) = self.capture_record(p) else { return };
        if let Some(points) = &mut self.capture {
            points[point as usize].record(rec);
        }
    }

    /// `p` as a capture record, now; None outside the capture window or for a packet that no
    /// endpoint will receive.
    fn capture_record(&self, p: &Packet) -> Option<CaptureRecord> {
        let now = self.now();
        if p.dst_endpoint == NONE || now < self.capture_window.0 || now > self.capture_window.1 {
            return None;
        }
        let dst = &self.eps[p.dst_endpoint as usize];
        let (tuple, icmp) = match p.sink {
            Sink::Icmp { gateway: gw, mtu } => {
                // To the endpoint that sent the offending packet, about its own tuple.
                let original = dst.tuple;
                let t = FiveTuple {
                    src_ip: self.gateways[gw as usize].ip,
                    dst_ip: original.src_ip,
                    src_port: 0,
                    dst_port: 0,
                    protocol: PROTO_ICMP,
                };
                let info =
                    IcmpInfo { mtu: mtu as u32, original, original_seg: p.seg, original_wire_bytes: p.seg.wire_bytes };
                (t, Some(info))
            }
            _ => (self.eps[dst.peer as usize].tuple, None),
        };
        Some(CaptureRecord { time: now, tuple, seg: p.seg, wire_bytes: p.wire_bytes, frag: p.frag, icmp })
    }

    /// While capturing, a dropped packet is recorded with its reason, so a ladder diagram shows
    /// where each packet ended (the same records as the pcap files, plus their end).
    pub(crate) fn capture_drop(&mut self, id: PacketId, reason: DropReason, instance: u32) {
        let p = *self.pool.get(id);
        let Some(record) = self.capture_record(&p) else { return };
        if self.capture_drops.len() >= super::trace::MAX_CAPTURED_PACKETS {
            return;
        }
        let at = (instance != NONE).then(|| self.insts[instance as usize].name.clone());
        self.capture_drops.push(super::trace::DropRecord { record, reason: reason.name(), at });
    }
}
