//! UDP: datagrams, no reliability, no congestion control. Without DF a message is one datagram
//! (up to 65 507 bytes) and IP fragments it to the path; with DF (`IP_PMTUDISC_DO`) the
//! application writes datagrams that fit the MTU, so a message is split into several.

use super::{Outbox, Transport, TransportStats};
use crate::net::{SegKind, Segment};
use crate::units::SimTime;

/// IPv4 (20) + UDP (8) header bytes (RFC 768).
pub const IPV4_UDP_HEADER_BYTES: u32 = 28;

/// Largest UDP payload in one IPv4 datagram: 65 535 - 20 - 8 (RFC 768, RFC 791).
pub const MAX_UDP_PAYLOAD_BYTES: u32 = 65_507;

#[derive(Clone, Debug)]
pub struct Udp {
    max_payload: u32,
    df: bool,
    next_datagram: u64,
    stats: TransportStats,
}

impl Udp {
    pub fn new(mtu: u32, df: bool) -> Self {
        assert!(mtu > IPV4_UDP_HEADER_BYTES, "MTU {mtu} too small for UDP");
        let max_payload = if df { mtu - IPV4_UDP_HEADER_BYTES } else { MAX_UDP_PAYLOAD_BYTES };
        Udp { max_payload, df, next_datagram: 0, stats: TransportStats::default() }
    }
}

impl Transport for Udp {
    fn send(&mut self, now: SimTime, mut bytes: u64, out: &mut Outbox) {
        while bytes > 0 {
            let len = bytes.min(self.max_payload as u64) as u32;
            bytes -= len as u64;
            out.segments.push(Segment {
                kind: SegKind::Datagram,
                seq: self.next_datagram,
                payload_bytes: len,
                wire_bytes: len + IPV4_UDP_HEADER_BYTES,
                ts: now,
                df: self.df,
                ..Segment::default()
            });
            self.next_datagram += 1;
            self.stats.segments_sent += 1;
            self.stats.payload_bytes_sent += len as u64;
            self.stats.data_segments_sent += 1;
            self.stats.data_wire_bytes_sent += (len + IPV4_UDP_HEADER_BYTES) as u64;
        }
    }

    fn on_segment(&mut self, _now: SimTime, seg: &Segment, out: &mut Outbox) {
        if seg.kind == SegKind::Datagram {
            out.delivered_bytes += seg.payload_bytes as u64;
            self.stats.bytes_delivered += seg.payload_bytes as u64;
        }
    }

    fn stats(&self) -> &TransportStats {
        &self.stats
    }
}
