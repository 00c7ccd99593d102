//! EFA endpoints as libfabric's RDM provider presents them: reliable datagram messages over SRD,
//! with no ordering between messages and no transport-level retransmission (SRD in the Nitro card
//! is the reliability). A message larger than one packet is cut into packets; the receiver hands
//! it up when its last byte has arrived, whatever order the packets came in.

use super::{Outbox, Transport, TransportStats};
use crate::net::{SegKind, Segment};
use crate::units::SimTime;

/// Per-packet EFA/RDM protocol header bytes on the wire (a model parameter: libfabric's RDM
/// header and EFA's own framing; SRD's encapsulation is added by SRD).
pub const EFA_HEADER_BYTES: u32 = 64;
/// Messages being reassembled at once; beyond that the oldest is forgotten (a bound, not a case
/// that arises with SRD's reliable delivery).
pub const MAX_PARTIAL_MESSAGES: usize = 4096;

#[derive(Clone, Debug)]
pub struct Efa {
    max_payload: u32,
    next_message: u64,
    /// (message id, size, bytes received so far).
    partial: Vec<(u64, u64, u64)>,
    stats: TransportStats,
}

impl Efa {
    pub fn new(mtu: u32) -> Self {
        assert!(mtu > EFA_HEADER_BYTES, "MTU {mtu} too small for EFA");
        Efa {
            max_payload: mtu - EFA_HEADER_BYTES,
            next_message: 0,
            partial: Vec::new(),
            stats: TransportStats::default(),
        }
    }
}

impl Transport for Efa {
    fn send(&mut self, now: SimTime, bytes: u64, out: &mut Outbox) {
        let id = self.next_message;
        self.next_message += 1;
        let mut offset = 0;
        // A zero-byte message still takes one packet.
        loop {
            let len = (bytes - offset).min(self.max_payload as u64) as u32;
            out.segments.push(Segment {
                kind: SegKind::Datagram,
                seq: id,
                // The message's size rides in the ack field: the receiver knows when it is whole.
                ack: bytes,
                payload_bytes: len,
                wire_bytes: len + EFA_HEADER_BYTES,
                ts: now,
                ..Segment::default()
            });
            self.stats.segments_sent += 1;
            self.stats.payload_bytes_sent += len as u64;
            self.stats.data_segments_sent += 1;
            self.stats.data_wire_bytes_sent += (len + EFA_HEADER_BYTES) as u64;
            offset += len as u64;
            if offset >= bytes {
                break;
            }
        }
    }

    fn on_segment(&mut self, _now: SimTime, seg: &Segment, out: &mut Outbox) {
        if seg.kind != SegKind::Datagram {
            return;
        }
        let (id, size) = (seg.seq, seg.ack);
        let i = match self.partial.iter().position(|p| p.0 == id) {
            Some(i) => i,
            None => {
                if self.partial.len() >= MAX_PARTIAL_MESSAGES {
                    self.partial.remove(0);
                }
                self.partial.push((id, size, 0));
                self.partial.len() - 1
            }
        };
        self.partial[i].2 += seg.payload_bytes as u64;
        if self.partial[i].2 >= size {
            self.partial.swap_remove(i);
            // The whole message is delivered at once (a completion in libfabric's queue).
            out.delivered_bytes += size.max(1);
            self.stats.bytes_delivered += size.max(1);
        }
    }

    fn stats(&self) -> &TransportStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_complete_whatever_the_packet_order() {
        let mut a = Efa::new(8900);
        let mut b = Efa::new(8900);
        let mut out = Outbox::default();
        a.send(SimTime(0), 20_000, &mut out);
        a.send(SimTime(0), 1, &mut out);
        assert_eq!(out.segments.len(), 4, "20 000 B in three packets, 1 B in one");
        let segs: Vec<Segment> = out.segments.iter().rev().copied().collect();
        let mut got = Outbox::default();
        for s in &segs {
            b.on_segment(SimTime(1), s, &mut got);
        }
        assert_eq!(got.delivered_bytes, 20_001);
        assert_eq!(b.stats().bytes_delivered, 20_001);
    }
}
