//! The receiving half of an SRD connection: the reorder ring (ENA Express) or unordered
//! delivery with duplicate detection (EFA), and moving past sequences the sender abandoned.

use super::SrdAck;
use crate::units::SimTime;
use serde::Serialize;
use std::collections::VecDeque;

#[derive(Debug)]
pub struct ReceiverOut<P> {
    /// Acknowledge this packet (always, unless it was refused).
    pub ack: Option<SrdAck>,
    /// Payloads to hand to the host, in delivery order.
    pub deliver: Vec<P>,
    /// The packet was refused (reorder buffer full): no ACK, the sender will retransmit.
    pub refused: bool,
    pub duplicate: bool,
}

impl<P> Default for ReceiverOut<P> {
    fn default() -> Self {
        ReceiverOut { ack: None, deliver: Vec::new(), refused: false, duplicate: false }
    }
}

impl<P> ReceiverOut<P> {
    pub fn clear(&mut self) {
        self.ack = None;
        self.deliver.clear();
        self.refused = false;
        self.duplicate = false;
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ReceiverStats {
    pub packets: u64,
    pub duplicates: u64,
    /// Packets refused because they fell beyond the reorder buffer.
    pub refused: u64,
    pub max_occupancy: u32,
    /// Sequences the receiver moved past because the sender abandoned them (never delivered).
    pub skipped: u64,
}

/// The receiving half. With `in_order`, a ring of `capacity` slots holds packets that arrived
/// ahead of the next expected sequence (never more than `capacity`); a packet beyond the ring
/// is refused without an ACK. Without it (EFA), packets go up as they arrive, and the ring only
/// remembers what was delivered, to drop duplicates.
#[derive(Clone, Debug)]
pub struct SrdReceiver<P> {
    in_order: bool,
    expected: u64,
    /// The reorder buffer's limit in packets: sequences from `expected` up to this far ahead.
    capacity: u32,
    /// Held payloads of sequences `expected..expected + ring.len()` (in order), grown on demand
    /// up to `capacity`: a connection that sees little reordering holds little memory.
    ring: VecDeque<Option<P>>,
    /// For unordered delivery: which sequences from `expected` on were already delivered.
    seen: VecDeque<bool>,
    occupancy: u32,
    stats: ReceiverStats,
}

impl<P: Copy> SrdReceiver<P> {
    pub fn new(capacity: u32, in_order: bool) -> Self {
        assert!(capacity >= 1, "a reorder buffer holds at least one packet");
        SrdReceiver {
            in_order,
            expected: 0,
            capacity,
            ring: VecDeque::new(),
            seen: VecDeque::new(),
            occupancy: 0,
            stats: ReceiverStats::default(),
        }
    }

    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }
    pub fn occupancy(&self) -> u32 {
        self.occupancy
    }
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Where the receiver waits: the next sequence it will hand up (or remember) in order.
    pub fn expected(&self) -> u64 {
        self.expected
    }

    /// A data packet `seq`, sent when everything below `floor` was acknowledged or abandoned.
    #[allow(clippy::too_many_arguments)]
    pub fn on_data(
        &mut self,
        seq: u64,
        floor: u64,
        path: u16,
        sent_at: SimTime,
        ce: bool,
        payload: P,
        out: &mut ReceiverOut<P>,
    ) {
        debug_assert!(floor <= seq, "a sender's floor never passes what it sends");
        // First move past what the sender gave up on: this packet may then fit the buffer.
        self.skip_to(floor, out);
        let cap = self.capacity as u64;
        if seq >= self.expected + cap {
            self.stats.refused += 1;
            out.refused = true;
            return;
        }
        let i = seq.wrapping_sub(self.expected) as usize;
        let duplicate = seq < self.expected
            || if self.in_order {
                self.ring.get(i).is_some_and(|h| h.is_some())
            } else {
                self.seen.get(i).is_some_and(|&d| d)
            };
        out.ack = Some(SrdAck { seq, path, sent_at, ce });
        if duplicate {
            // Already here or delivered (or abandoned and skipped): acknowledge again (the first
            // ACK may be lost), keep nothing.
            self.stats.duplicates += 1;
            out.duplicate = true;
            return;
        }
        self.stats.packets += 1;
        if self.in_order {
            if self.ring.len() <= i {
                self.ring.resize(i + 1, None);
            }
            self.ring[i] = Some(payload);
            self.occupancy += 1;
            self.stats.max_occupancy = self.stats.max_occupancy.max(self.occupancy);
            self.drain_in_order(out);
        } else {
            if self.seen.len() <= i {
                self.seen.resize(i + 1, false);
            }
            self.seen[i] = true;
            out.deliver.push(payload);
            self.slide_seen();
        }
        debug_assert!(self.occupancy as u64 <= cap && self.ring.len() as u64 <= cap && self.seen.len() as u64 <= cap);
    }

    /// Hand up, in order, what is held below `floor`, skip the holes there, and wait at `floor`
    /// (or beyond, if packets from there on are already held).
    fn skip_to(&mut self, floor: u64, out: &mut ReceiverOut<P>) {
        if floor <= self.expected {
            return;
        }
        // Everything held lies in [expected, expected + ring.len()).
        let span = (floor - self.expected).min(self.ring.len().max(self.seen.len()) as u64);
        let mut found = 0u64;
        for _ in 0..span {
            if self.in_order {
                if let Some(Some(p)) = self.ring.pop_front() {
                    out.deliver.push(p);
                    self.occupancy -= 1;
                    found += 1;
                }
            } else if self.seen.pop_front() == Some(true) {
                found += 1;
            }
        }
        self.stats.skipped += floor - self.expected - found;
        self.expected = floor;
        if self.in_order {
            self.drain_in_order(out);
        } else {
            self.slide_seen();
        }
    }

    fn drain_in_order(&mut self, out: &mut ReceiverOut<P>) {
        while let Some(Some(p)) = self.ring.front() {
            out.deliver.push(*p);
            self.ring.pop_front();
            self.occupancy -= 1;
            self.expected += 1;
        }
    }

    /// Unordered: slide the duplicate-detection window over the delivered prefix.
    fn slide_seen(&mut self) {
        while self.seen.front() == Some(&true) {
            self.seen.pop_front();
            self.expected += 1;
        }
    }
}
