//! Building segments: headers and options (timestamps, SACK blocks, the SYN's MSS option),
//! the payload that fits one packet, and the bookkeeping every sent segment does (its ACK
//! field satisfies a pending delayed ACK, its window is the one now advertised).

use super::Tcp;
use super::config::{IPV4_TCP_HEADER_BYTES, SYN_WIRE_BYTES, TCP_IP_OVERHEAD_BYTES, TCP_TIMESTAMP_OPTION_BYTES};
use crate::net::{MAX_SACK_BLOCKS, SegKind, Segment};
use crate::transport::Outbox;
use crate::units::{PackedOption, SimTime};

/// Bytes of the SACK option with `n` blocks, padded to 4 bytes (RFC 2018 section 3).
fn sack_option_bytes(n: usize) -> u32 {
    if n == 0 { 0 } else { (2 + 8 * n as u32).div_ceil(4) * 4 }
}

impl Tcp {
    /// Payload that fits one packet now: the MSS less the SACK blocks our ACK field carries
    /// (Linux `tcp_current_mss`), so no segment outgrows the path MTU.
    pub(super) fn send_mss(&self) -> u64 {
        let blocks = if self.cfg.sack { self.ooo.len().min(MAX_SACK_BLOCKS) } else { 0 };
        self.mss - sack_option_bytes(blocks) as u64
    }

    pub(super) fn header_segment(&self, now: SimTime, kind: SegKind) -> Segment {
        let mut seg = Segment {
            kind,
            seq: self.snd_nxt,
            ack: self.rcv_nxt,
            payload_bytes: 0,
            wire_bytes: IPV4_TCP_HEADER_BYTES + TCP_TIMESTAMP_OPTION_BYTES,
            ts: now,
            ts_echo: self.ts_recent,
            retransmit: false,
            ect: self.cfg.ecn,
            ce: false,
            ece: self.ece_pending,
            fin: false,
            // Linux sends every TCP segment with DF (ip_no_pmtu_disc = 0).
            df: true,
            sack_count: 0,
            sack_offsets: [(0, 0); MAX_SACK_BLOCKS],
            wnd: self.select_window() as u32,
        };
        if self.cfg.sack && !self.ooo.is_empty() {
            // Most recent range first (RFC 2018 section 4), then the others from the lowest.
            // Every range lies above `rcv_nxt`, the segment's ACK: in-order data would have
            // advanced it.
            let recent = self.recent_ooo.get().and_then(|s| self.ooo.iter().find(|r| r.0 == s)).copied();
            if let Some(r) = recent {
                seg.push_sack_block(r);
            }
            for r in &self.ooo {
                if seg.sack_count as usize == MAX_SACK_BLOCKS {
                    break;
                }
                // Each range once: the most recent one is already first.
                if Some(*r) == recent {
                    continue;
                }
                seg.push_sack_block(*r);
            }
            seg.wire_bytes += sack_option_bytes(seg.sack_count as usize);
        }
        seg
    }

    /// A SYN or SYN-ACK: options make it 60 bytes; the MSS option offers the interface MTU
    /// less 40 (the timestamps come out of it later).
    pub(super) fn syn_segment(&self, now: SimTime, kind: SegKind) -> Segment {
        let mut syn = self.header_segment(now, kind);
        syn.wire_bytes = SYN_WIRE_BYTES;
        syn.set_mss_option(self.adv_mss.min(u16::MAX as u64) as u16);
        syn
    }

    pub(super) fn emit_data(&mut self, now: SimTime, seq: u64, len: u64, retransmit: bool, out: &mut Outbox) {
        let mut seg = self.header_segment(now, SegKind::Data);
        seg.seq = seq;
        seg.payload_bytes = len as u32;
        seg.wire_bytes += len as u32;
        seg.retransmit = retransmit;
        seg.fin = self.fin_wanted && seq + len == self.write_end;
        // Resending any part of the probe means the probe itself did not get through.
        if retransmit && self.mtup.probe.is_some_and(|(s, e, _)| seq < e && seq + len > s) {
            self.probe_failed(out);
        }
        debug_assert!(
            seg.wire_bytes as u64 <= self.mss.max(len) + TCP_IP_OVERHEAD_BYTES as u64,
            "segment of {} bytes outgrows MSS {}",
            seg.wire_bytes,
            self.mss
        );
        // tcp_event_data_sent: data sent within the delayed-ACK timeout of data received.
        if self.last_data_rcvd.get().is_some_and(|t| now.since(t) < self.cfg.delayed_ack_timeout) {
            self.pingpong = true;
        }
        self.note_ack_sent();
        self.sent.note(seq, now);
        self.stats.segments_sent += 1;
        self.stats.payload_bytes_sent += len;
        self.stats.data_segments_sent += 1;
        self.stats.data_wire_bytes_sent += seg.wire_bytes as u64;
        if retransmit {
            self.stats.retransmits += 1;
        }
        if self.rto_deadline.is_none() {
            self.arm_rto(now);
        }
        out.segments.push(seg);
    }

    pub(super) fn emit_ack(&mut self, now: SimTime, out: &mut Outbox) {
        let seg = self.header_segment(now, SegKind::Ack);
        self.note_ack_sent();
        self.stats.segments_sent += 1;
        out.segments.push(seg);
    }

    /// Every segment we send carries our cumulative ACK, so any pending delayed ACK is satisfied.
    /// One that acknowledges data not acknowledged before, alone or on data, spends a quick ACK
    /// (`tcp_event_ack_sent` -> `tcp_dec_quickack_mode`, since 2023 only for an ACK of new
    /// data): in pingpong mode the replies spend them too.
    pub(super) fn note_ack_sent(&mut self) {
        if self.rcv_nxt > self.last_ack_sent {
            self.quickacks = self.quickacks.saturating_sub(1);
        }
        self.rcv.advertised = self.select_window();
        self.last_ack_sent = self.rcv_nxt;
        self.unacked_segments = 0;
        self.delack_deadline = PackedOption::NONE;
        self.ece_pending = false;
    }
}
