//! The receiving half of an SRD connection: the reorder ring (ENA Express) or unordered
//! delivery with duplicate detection (EFA), and moving past sequences the sender abandoned.

use super::SrdAck;
use crate::units::SimTime;
use serde::Serialize;

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
    ring: Vec<Option<P>>,
    /// For unordered delivery: which sequences in the window were already delivered.
    seen: Vec<bool>,
    occupancy: u32,
    stats: ReceiverStats,
}

impl<P: Copy> SrdReceiver<P> {
    pub fn new(capacity: u32, in_order: bool) -> Self {
        assert!(capacity >= 1, "a reorder buffer holds at least one packet");
        SrdReceiver {
            in_order,
            expected: 0,
            ring: vec![None; capacity as usize],
            seen: vec![false; capacity as usize],
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
        self.ring.len() as u32
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
        let cap = self.ring.len() as u64;
        if seq >= self.expected + cap {
            self.stats.refused += 1;
            out.refused = true;
            return;
        }
        let i = (seq % cap) as usize;
        let duplicate = seq < self.expected || if self.in_order { self.ring[i].is_some() } else { self.seen[i] };
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
            self.ring[i] = Some(payload);
            self.occupancy += 1;
            self.stats.max_occupancy = self.stats.max_occupancy.max(self.occupancy);
            self.drain_in_order(out);
        } else {
            self.seen[i] = true;
            out.deliver.push(payload);
            self.slide_seen();
        }
        debug_assert!(self.occupancy <= cap as u32);
    }

    /// Hand up, in order, what is held below `floor`, skip the holes there, and wait at `floor`
    /// (or beyond, if packets from there on are already held).
    fn skip_to(&mut self, floor: u64, out: &mut ReceiverOut<P>) {
        if floor <= self.expected {
            return;
        }
        let cap = self.ring.len() as u64;
        // Everything held lies in [expected, expected + cap): at most `cap` slots to look at.
        let span = (floor - self.expected).min(cap);
        let mut found = 0u64;
        for s in self.expected..self.expected + span {
            let i = (s % cap) as usize;
            if self.in_order {
                if let Some(p) = self.ring[i].take() {
                    out.deliver.push(p);
                    self.occupancy -= 1;
                    found += 1;
                }
            } else if std::mem::take(&mut self.seen[i]) {
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
        let cap = self.ring.len() as u64;
        while let Some(p) = self.ring[(self.expected % cap) as usize].take() {
            out.deliver.push(p);
            self.occupancy -= 1;
            self.expected += 1;
        }
    }

    /// Unordered: slide the duplicate-detection window over the delivered prefix.
    fn slide_seen(&mut self) {
        let cap = self.ring.len() as u64;
        while self.seen[(self.expected % cap) as usize] {
            self.seen[(self.expected % cap) as usize] = false;
            self.expected += 1;
        }
    }
}
