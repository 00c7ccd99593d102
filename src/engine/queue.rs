//! A deterministic future-event list.
//!
//! Ordering contract (what a component may rely on):
//! 1. Events fire in non-decreasing time; the queue refuses to schedule into the past.
//! 2. Events scheduled for the *same* picosecond fire in the order they were scheduled (FIFO by a
//!    global insertion sequence number). No other tie-break exists, so the result never depends on
//!    memory addresses, hash seeds or thread count.
//! 3. There is no cancel: a component that changes its mind bumps a generation number and ignores
//!    the stale event when it fires (see `model::timers`).
//!
//! Layout, for speed (the queue is a large share of a run's cache misses): a 4-ary min-heap of
//! 16-byte keys, `time << 64 | seq << 32 | slot`, one comparison of one integer; the four children
//! of a node share one 64-byte cache line, so a pop reads one line per level and the heap is half
//! as deep as a binary one. The events themselves wait in a slab (`slot`), untouched while the
//! heap moves keys. The sequence number has 32 bits: when it runs out (every 2^32 events) the
//! pending keys are renumbered by rank, which keeps their order, so contract 2 holds for ever.

use crate::units::{SimDuration, SimTime};

/// Bits of a key that hold the event's slot; the sequence number sits above them.
const SLOT_BITS: u32 = 32;

/// Four keys: the children of one node, on one cache line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([u128; 4]);

pub struct EventQueue<E> {
    /// The heap: logical node `k` at flat index `k + 3`, so the children of node `k`
    /// (`4k + 1 ..= 4k + 4`) are exactly line `k + 1`.
    lines: Vec<Line>,
    len: usize,
    /// Pending events by slot, and the free slots (reused last-freed first, so the slab stays hot).
    events: Vec<E>,
    free: Vec<u32>,
    now: SimTime,
    next_seq: u64,
    /// The sequence number at which pending keys are renumbered (2^32; smaller in tests).
    seq_end: u64,
    popped: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(1024)
    }

    pub fn with_capacity(n: usize) -> Self {
        let mut lines = Vec::with_capacity(n.div_ceil(4) + 1);
        lines.push(Line::default());
        EventQueue {
            lines,
            len: 0,
            events: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            now: SimTime::ZERO,
            next_seq: 0,
            seq_end: 1 << (64 - SLOT_BITS),
            popped: 0,
        }
    }

    #[inline(always)]
    fn key(&self, k: usize) -> u128 {
        let i = k + 3;
        self.lines[i >> 2].0[i & 3]
    }

    #[inline(always)]
    fn set(&mut self, k: usize, key: u128) {
        let i = k + 3;
        self.lines[i >> 2].0[i & 3] = key;
    }

    #[inline(always)]
    fn slot(key: u128) -> usize {
        (key as u64 & ((1u64 << SLOT_BITS) - 1)) as usize
    }

    /// The time of the event being processed (or last processed).
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events popped so far: the "events processed" figure reported by runs and benches.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        // Invariant: time never goes back. A model bug, not user input, so fail loudly.
        assert!(time >= self.now, "event scheduled in the past: {:?} < now {:?}", time, self.now);
        if self.next_seq == self.seq_end {
            self.renumber();
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.events[s as usize] = event;
                s
            }
            None => {
                let s = u32::try_from(self.events.len()).expect("more than 2^32 pending events");
                self.events.push(event);
                s
            }
        };
        let key = ((time.0 as u128) << 64) | ((self.next_seq as u128) << SLOT_BITS) | slot as u128;
        self.next_seq += 1;
        if (self.len + 3) >> 2 == self.lines.len() {
            self.lines.push(Line::default());
        }
        self.len += 1;
        self.sift_up(self.len - 1, key);
    }

    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.schedule_at(self.now + delay, event);
    }

    /// The next event, if any (to prefetch what it will touch).
    pub fn peek_event(&self) -> Option<&E> {
        (self.len > 0).then(|| &self.events[Self::slot(self.key(0))])
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        (self.len > 0).then(|| SimTime((self.key(0) >> 64) as u64))
    }

    /// Pop the earliest event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.len == 0 {
            return None;
        }
        let top = self.key(0);
        self.len -= 1;
        if self.len > 0 {
            // Move the hole left by the root down to a leaf along the smaller children, then
            // put the last key there and let it rise: fewer comparisons than a plain sift-down,
            // as the last key nearly always belongs near the bottom.
            let last = self.key(self.len);
            let len = self.len;
            let mut hole = 0;
            loop {
                let first = 4 * hole + 1;
                if first >= len {
                    break;
                }
                let c = &self.lines[hole + 1].0;
                let best = if first + 3 < len {
                    let (a, ia) = if c[0] <= c[1] { (c[0], 0) } else { (c[1], 1) };
                    let (b, ib) = if c[2] <= c[3] { (c[2], 2) } else { (c[3], 3) };
                    if a <= b { ia } else { ib }
                } else {
                    (1..len - first).fold(0, |m, j| if c[j] < c[m] { j } else { m })
                };
                let key = c[best];
                self.set(hole, key);
                hole = first + best;
            }
            self.sift_up(hole, last);
        }
        let time = SimTime((top >> 64) as u64);
        debug_assert!(time >= self.now);
        let slot = Self::slot(top);
        self.free.push(slot as u32);
        self.now = time;
        self.popped += 1;
        Some((time, self.events[slot]))
    }

    /// Put `key` at node `k` (a hole) or above it, wherever it belongs.
    #[inline(always)]
    fn sift_up(&mut self, mut k: usize, key: u128) {
        while k > 0 {
            let parent = (k - 1) / 4;
            let pk = self.key(parent);
            if pk <= key {
                break;
            }
            self.set(k, pk);
            k = parent;
        }
        self.set(k, key);
    }

    /// The sequence numbers ran out: give the pending keys new ones by rank (same order), so new
    /// events still sort after every pending one of the same time.
    #[cold]
    fn renumber(&mut self) {
        let mut keys: Vec<u128> = (0..self.len).map(|k| self.key(k)).collect();
        keys.sort_unstable();
        // A sorted array is a valid heap (every parent sits before its children).
        for (rank, key) in keys.into_iter().enumerate() {
            let time = key >> 64;
            let slot = Self::slot(key) as u128;
            self.set(rank, (time << 64) | ((rank as u128) << SLOT_BITS) | slot);
        }
        self.next_seq = self.len as u64;
    }

    /// Visit every pending event (order unspecified); used by end-of-run accounting.
    pub fn iter_pending(&self) -> impl Iterator<Item = &E> {
        (0..self.len).map(|k| &self.events[Self::slot(self.key(k))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_fire_in_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(10), 'b');
        q.schedule_at(SimTime(5), 'a');
        q.schedule_at(SimTime(10), 'c');
        q.schedule_at(SimTime(10), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
        assert_eq!(q.now(), SimTime(10));
        assert_eq!(q.events_processed(), 4);
    }

    #[test]
    fn pops_in_key_order_like_a_sort() {
        use crate::engine::RngStreams;
        use rand::RngExt;
        let mut rng = RngStreams::new(5).stream("q");
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        let mut id = 0u32;
        // Interleave pushes and pops, with many equal times, and check against a sorted model.
        for round in 0..200 {
            for _ in 0..rng.random_range(0..50) {
                let t = q.now().ps() + rng.random_range(0..20u64);
                q.schedule_at(SimTime(t), id);
                expected.push((t, id));
                id += 1;
            }
            expected.sort();
            for _ in 0..rng.random_range(0..40) {
                let Some((t, e)) = q.pop() else { break };
                let (et, eid) = expected.remove(0);
                assert_eq!((t.ps(), e), (et, eid), "round {round}");
            }
        }
        assert_eq!(q.len(), expected.len());
    }

    #[test]
    fn renumbering_keeps_the_order() {
        use crate::engine::RngStreams;
        use rand::RngExt;
        let mut rng = RngStreams::new(9).stream("renumber");
        // Renumber every 7 events, with ties and a growing and shrinking backlog.
        let mut q = EventQueue { seq_end: 7, ..EventQueue::new() };
        let mut expected = Vec::new();
        let mut id = 0u32;
        for round in 0..300 {
            for _ in 0..rng.random_range(0..12) {
                let t = q.now().ps() + rng.random_range(0..4u64);
                q.schedule_at(SimTime(t), id);
                expected.push((t, id));
                id += 1;
            }
            expected.sort();
            for _ in 0..rng.random_range(0..12) {
                let Some((t, e)) = q.pop() else { break };
                let (et, eid) = expected.remove(0);
                assert_eq!((t.ps(), e), (et, eid), "round {round}");
            }
            let mut pending: Vec<u32> = q.iter_pending().copied().collect();
            pending.sort();
            let mut want: Vec<u32> = expected.iter().map(|&(_, e)| e).collect();
            want.sort();
            assert_eq!(pending, want);
        }
    }

    #[test]
    #[should_panic(expected = "in the past")]
    fn refuses_the_past() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(10), ());
        q.pop();
        q.schedule_at(SimTime(9), ());
    }
}
