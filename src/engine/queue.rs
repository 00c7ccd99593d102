//! A deterministic future-event list.
//!
//! Ordering contract (what a component may rely on):
//! 1. Events fire in non-decreasing time; the queue refuses to schedule into the past.
//! 2. Events scheduled for the *same* picosecond fire in the order they were scheduled (FIFO by a
//!    global insertion sequence number). No other tie-break exists, so the result never depends on
//!    memory addresses, hash seeds or thread count.
//! 3. There is no cancel: a component that changes its mind bumps a generation number and ignores
//!    the stale event when it fires (see `model::timers`).

use crate::units::{SimDuration, SimTime};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Time and insertion sequence packed into one key, so the heap compares one integer.
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    fn time(&self) -> SimTime {
        SimTime((self.key >> 64) as u64)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // BinaryHeap is a max-heap: invert so the earliest (time, seq) is on top.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    now: SimTime,
    next_seq: u64,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(1024)
    }

    pub fn with_capacity(n: usize) -> Self {
        EventQueue { heap: BinaryHeap::with_capacity(n), now: SimTime::ZERO, next_seq: 0, popped: 0 }
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
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn schedule_at(&mut self, time: SimTime, event: E) {
        // Invariant: time never goes back. A model bug, not user input, so fail loudly.
        assert!(time >= self.now, "event scheduled in the past: {:?} < now {:?}", time, self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { key: ((time.0 as u128) << 64) | seq as u128, event });
    }

    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.schedule_at(self.now + delay, event);
    }

    /// The next event, if any (to prefetch what it will touch).
    pub fn peek_event(&self) -> Option<&E> {
        self.heap.peek().map(|e| &e.event)
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time())
    }

    /// Pop the earliest event and advance the clock to it.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?;
        let time = e.time();
        debug_assert!(time >= self.now);
        self.now = time;
        self.popped += 1;
        Some((time, e.event))
    }

    /// Visit every pending event (order unspecified); used by end-of-run accounting.
    pub fn iter_pending(&self) -> impl Iterator<Item = &E> {
        self.heap.iter().map(|e| &e.event)
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
    #[should_panic(expected = "in the past")]
    fn refuses_the_past() {
        let mut q = EventQueue::new();
        q.schedule_at(SimTime(10), ());
        q.pop();
        q.schedule_at(SimTime(9), ());
    }
}
