//! What a person can look at after a run, besides the numbers: the event log (notable events
//! with their simulated time, one JSON object per line) and packet captures at chosen points
//! (written as pcap files by `report::pcap`). Both are bounded.

use crate::net::fabric::FiveTuple;
use crate::net::ip::FragInfo;
use crate::net::{SegKind, Segment};
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
