//! A deterministic future-event list.
//!
//! Ordering contract (what a component may rely on):
//! 1. Events fire in non-decreasing time; the queue refuses to schedule into the past.
//! 2. Events scheduled for the *same* picosecond fire in the order they were scheduled (FIFO).
//!    No other tie-break exists, so the result never depends on memory addresses, hash seeds or
//!    thread count.
//! 3. There is no cancel: a component that changes its mind bumps a generation number and ignores
//!    the stale event when it fires (see `model::timers`).
//!
//! Layout, for speed: a radix heap, the monotone priority queue a discrete-event simulation allows,
//! since no event is ever scheduled before `now`. Bucket `b > 0` holds the events whose time first
//! differs from the buckets' clock (`now`; with a lookahead, below, a little later) at bit `b - 1`
//! (from the least significant), bucket 0 those at the clock itself. A push appends to one bucket;
//! a pop takes the head of bucket 0 or, when it is empty, moves the clock to the earliest time of
//! the lowest non-empty bucket and spreads that bucket over the buckets below it. An event only
//! ever moves down: 7 to 10 times in the hold bench before the shortcut that follows; on the
//! permutation benches (counted with it) an event is written to a bucket above 0 5.5 times at 128
//! hosts, 7 at 1024, its first push included. A lowest bucket of one event (half the pops there) is
//! popped as it is, without spreading: 1.5% fewer instructions per link crossing.
//! Every access is an append or a sequential scan, which the CPU can run ahead of and prefetch,
//! where a heap's pop is a chain of dependent loads, one per level, each waiting for the last
//! comparison; the events travel in the buckets with their time (24 bytes), so there is no slab to
//! look them up in. Measured against the 4-ary heap of 16-byte keys this replaced: 1.2x the events
//! per second at 10 000 pending, 1.6x at 100 000, 10x at 1 000 000 (`cargo bench --bench engine`);
//! 5-30% less CPU per simulated ms on the permutation benches, the most on the largest fabrics.
//! Wider digits (4 to 8 bits per level, 2.7-4.2 moves) were tried: fewer instructions, more cache
//! misses, no faster.
//!
//! Contract 2 needs no sequence number: every bucket holds its events in the order they were
//! scheduled. Two events of the same time always sit in the same bucket (the bucket depends on
//! the time only), and a bucket is only ever spread, in order, into empty ones. So bucket 0 is
//! FIFO, and each bucket's earliest event is its first one of the smallest time, which the
//! bucket remembers so that the next event can be peeked without moving anything.
//!
//! Lookahead: a caller that prefetches what an event will touch wants to know it several events
//! before it fires, since one event's work is shorter than a trip to memory. With
//! [`EventQueue::with_lookahead`]`(k, horizon)` the queue takes up to `k` events out of the
//! buckets before their turn, those due within `horizon` of the event popped, into a small ring,
//! the stage, in firing order; [`EventQueue::ahead`] names the last one staged. The buckets'
//! clock (`base`) is then the time of the last event staged, not of the last popped. An event
//! scheduled before `base` is placed in the stage after the staged events of its time or earlier,
//! which were scheduled before it; one at or after `base` goes to the buckets, all of whose events
//! fire after every staged one. So the contract holds as without a stage. The horizon keeps such
//! placements few and short: without it, on a quiet stretch the last staged event could be
//! milliseconds ahead and every event scheduled meanwhile would be sorted into the stage. In the
//! usual pop one event moves from the buckets to the stage's tail and one leaves its head.

use crate::units::{SimDuration, SimTime};

/// Bucket 0 (time == now) and one bucket per bit of a 64-bit time.
const BUCKETS: usize = 65;

/// The most events [`EventQueue::with_lookahead`] stages ahead.
const MAX_LOOKAHEAD: usize = 8;

/// The stage's first size (a power of two); it doubles when events scheduled between staged
/// ones fill it.
const STAGE_SLOTS: usize = 16;

/// How many entries past a bucket's end [`EventQueue::push_to`] asks for.
const APPEND_AHEAD: usize = 8;

#[derive(Clone, Copy)]
struct Entry<E> {
    time: u64,
    event: E,
}

pub struct EventQueue<E> {
    /// The next events, taken from the buckets `lookahead` pops ahead of their turn, in firing
    /// order (module docs): a ring of `staged` events from `stage[stage_head]` on. Its length is
    /// a power of two once the first event is staged (empty before: an entry is needed to fill
    /// it). Every staged event is due no later than `base`, every bucketed one no earlier.
    stage: Vec<Entry<E>>,
    stage_head: usize,
    staged: usize,
    lookahead: usize,
    /// Only events due within this long after the one popped are staged (ps).
    horizon_ps: u64,
    /// `buckets[0][head..]`: the events at `base`; `buckets[b]`, `b > 0`: the events whose time's
    /// highest bit differing from `base` is bit `b - 1`. Each in scheduling order.
    buckets: [Vec<Entry<E>>; BUCKETS],
    head: usize,
    /// Where the earliest event of each non-empty bucket `b > 0` is (the first of its smallest
    /// time), and that time.
    min_time: [u64; BUCKETS],
    min_index: [u32; BUCKETS],
    /// Bit `b - 1` set when bucket `b > 0` is not empty.
    occupied: u64,
    len: usize,
    /// The buckets' clock: the time of the last event taken from them (staged or popped).
    base: u64,
    /// The time of the last event popped.
    now: SimTime,
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

    /// `n`: the events expected to be pending at once; buckets grow beyond it as needed.
    pub fn with_capacity(n: usize) -> Self {
        let mut buckets: [Vec<Entry<E>>; BUCKETS] = std::array::from_fn(|_| Vec::new());
        // Events are mostly scheduled 0.1 to 10 us ahead: 2^17 to 2^24 ps, buckets 18 to 24.
        for bucket in &mut buckets[18..25] {
            bucket.reserve(n / 4);
        }
        EventQueue {
            stage: Vec::new(),
            stage_head: 0,
            staged: 0,
            lookahead: 0,
            horizon_ps: 0,
            buckets,
            head: 0,
            min_time: [u64::MAX; BUCKETS],
            min_index: [0; BUCKETS],
            occupied: 0,
            len: 0,
            base: 0,
            now: SimTime::ZERO,
            popped: 0,
        }
    }

    /// Stage up to `events` events past the one popped, those due within `horizon` of it, for
    /// [`Self::ahead`] (module docs).
    pub fn with_lookahead(mut self, events: usize, horizon: SimDuration) -> Self {
        assert!(events <= MAX_LOOKAHEAD, "lookahead of {events} events (at most {MAX_LOOKAHEAD})");
        self.lookahead = events;
        self.horizon_ps = horizon.ps();
        self
    }

    /// The bucket of an event at `time` while the buckets' clock reads `now`.
    #[inline(always)]
    fn bucket(time: u64, now: u64) -> usize {
        (64 - (time ^ now).leading_zeros()) as usize
    }

    /// Append to bucket `b > 0`, remembering where its earliest event is.
    #[inline(always)]
    fn push_to(&mut self, b: usize, entry: Entry<E>) {
        let bucket = &mut self.buckets[b];
        // Strictly earlier only: of equal times, the first scheduled stays the earliest.
        if bucket.is_empty() || entry.time < self.min_time[b] {
            self.min_time[b] = entry.time;
            self.min_index[b] = u32::try_from(bucket.len()).expect("more than 2^32 pending events");
        }
        bucket.push(entry);
        // The lines a bucket's later appends write were last written long ago (a spread bucket
        // keeps its buffer): ask for one a few appends ahead, so that an append does not wait
        // for a line to be read in before it can be written.
        crate::engine::prefetch_write(
            bucket.as_ptr() as usize + (bucket.len() + APPEND_AHEAD) * std::mem::size_of::<Entry<E>>(),
        );
        self.occupied |= 1 << (b - 1);
    }

    /// The earliest pending event, if any.
    #[inline(always)]
    fn first(&self) -> Option<&Entry<E>> {
        if self.staged > 0 { Some(&self.stage[self.stage_head]) } else { self.bucket_first() }
    }

    /// Where the `k`-th staged event is in the ring (only while something is staged or being).
    #[inline(always)]
    fn stage_slot(&self, k: usize) -> usize {
        (self.stage_head + k) & (self.stage.len() - 1)
    }

    /// The earliest event in the buckets, if any.
    #[inline(always)]
    fn bucket_first(&self) -> Option<&Entry<E>> {
        if let Some(entry) = self.buckets[0].get(self.head) {
            Some(entry)
        } else if self.occupied != 0 {
            let b = self.occupied.trailing_zeros() as usize + 1;
            Some(&self.buckets[b][self.min_index[b] as usize])
        } else {
            None
        }
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
        self.len += 1;
        let entry = Entry { time: time.0, event };
        if time.0 < self.base {
            // Due before an event already staged: after the staged ones of its time or earlier
            // (scheduled before it), before the later ones.
            self.stage_insert(entry);
            return;
        }
        match Self::bucket(time.0, self.base) {
            0 => self.buckets[0].push(entry),
            b => self.push_to(b, entry),
        }
    }

    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.schedule_at(self.now + delay, event);
    }

    /// The next event, if any (to prefetch what it will touch).
    pub fn peek_event(&self) -> Option<&E> {
        self.first().map(|entry| &entry.event)
    }

    /// The event `lookahead` events past the one last popped, staged by that pop (or the next
    /// event, without lookahead), to prefetch what it will touch.
    #[inline(always)]
    pub fn ahead(&self) -> Option<&E> {
        if self.staged > 0 { Some(&self.stage[self.stage_slot(self.staged - 1)].event) } else { self.peek_event() }
    }

    /// Time of the next event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.first().map(|entry| SimTime(entry.time))
    }

    /// Pop the earliest event and advance the clock to it.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = if self.staged != self.lookahead {
            self.pop_unsteady()?
        } else if self.staged == 0 {
            // No lookahead.
            self.take_first(u64::MAX)?
        } else {
            // The usual case: one event in from the buckets, due within the horizon of the one
            // popped, and one out of the stage.
            let out = self.stage[self.stage_head];
            match self.take_first(out.time.saturating_add(self.horizon_ps)) {
                Some(next) => {
                    let tail = self.stage_slot(self.staged);
                    self.stage[tail] = next;
                    self.stage_head = self.stage_slot(1);
                    out
                }
                None => self.pop_unsteady()?,
            }
        };
        self.len -= 1;
        debug_assert!(entry.time >= self.now.0);
        self.now = SimTime(entry.time);
        self.popped += 1;
        Some((self.now, entry.event))
    }

    /// The stage holds fewer than `lookahead` events (the first pops, a quiet stretch, an empty
    /// queue), or more (events scheduled between staged ones), or the next event in the buckets
    /// is beyond the horizon: pop the earliest, then top the stage up with the events due within
    /// the horizon of it.
    #[cold]
    fn pop_unsteady(&mut self) -> Option<Entry<E>> {
        let entry = if self.staged > 0 {
            let out = self.stage[self.stage_head];
            self.stage_head = self.stage_slot(1);
            self.staged -= 1;
            out
        } else {
            self.take_first(u64::MAX)?
        };
        let limit = entry.time.saturating_add(self.horizon_ps);
        while self.staged < self.lookahead {
            let Some(next) = self.take_first(limit) else { break };
            self.stage_push(next);
        }
        Some(entry)
    }

    /// Append to the stage (every staged event is due no later than this one).
    #[inline(always)]
    fn stage_push(&mut self, entry: Entry<E>) {
        if self.staged == self.stage.len() {
            self.grow_stage(entry);
        }
        let tail = self.stage_slot(self.staged);
        self.stage[tail] = entry;
        self.staged += 1;
    }

    /// Place an event due before `base` among the staged ones: after those of its time or earlier
    /// (scheduled before it), before the later ones.
    #[cold]
    fn stage_insert(&mut self, entry: Entry<E>) {
        debug_assert!(self.staged > 0 && entry.time < self.base);
        if self.staged == self.stage.len() {
            self.grow_stage(entry);
        }
        let mut at = self.staged;
        while at > 0 && self.stage[self.stage_slot(at - 1)].time > entry.time {
            let (to, from) = (self.stage_slot(at), self.stage_slot(at - 1));
            self.stage[to] = self.stage[from];
            at -= 1;
        }
        let slot = self.stage_slot(at);
        self.stage[slot] = entry;
        self.staged += 1;
    }

    /// The stage is full: double it (or make it, filled with copies of `filler`), its events
    /// moved to the front in order.
    #[cold]
    fn grow_stage(&mut self, filler: Entry<E>) {
        let slots = (self.stage.len() * 2).max(STAGE_SLOTS);
        let mut grown = vec![filler; slots];
        for (k, slot) in grown.iter_mut().take(self.staged).enumerate() {
            *slot = self.stage[self.stage_slot(k)];
        }
        self.stage = grown;
        self.stage_head = 0;
    }

    /// Take the earliest event from the buckets if it is due by `limit` (ps), moving their clock
    /// to it.
    #[inline(always)]
    fn take_first(&mut self, limit: u64) -> Option<Entry<E>> {
        let entry = if self.head < self.buckets[0].len() {
            if self.base > limit {
                return None;
            }
            self.head += 1;
            self.buckets[0][self.head - 1]
        } else if self.occupied == 0 {
            return None;
        } else {
            // Bucket 0 is spent: the earliest events are in the lowest non-empty bucket.
            let from = self.occupied.trailing_zeros() as usize + 1;
            if self.min_time[from] > limit {
                return None;
            }
            if self.buckets[from].len() == 1 {
                self.take_lone(from)
            } else {
                self.advance(from);
                self.head = 1;
                self.buckets[0][0]
            }
        };
        debug_assert_eq!(entry.time, self.base);
        Some(entry)
    }

    /// Bucket 0 is spent and `from`, the lowest non-empty bucket, holds a single event: that is
    /// the earliest (every other bucket's times are later); the buckets' clock moves to it
    /// without spreading anything.
    #[inline(always)]
    fn take_lone(&mut self, from: usize) -> Entry<E> {
        debug_assert_eq!(self.buckets[from].len(), 1);
        let entry = self.buckets[from][0];
        self.buckets[from].clear();
        debug_assert!(entry.time > self.base);
        self.base = entry.time;
        self.occupied &= !(1 << (from - 1));
        self.buckets[0].clear();
        self.head = 0;
        entry
    }

    /// Bucket 0 is spent: move the buckets' clock to their earliest time, in bucket `from`, and
    /// spread that bucket over the buckets below (each of its events now first differs from the
    /// new `base` at a lower bit). Inlined into `pop`: fewer instructions per event (Cachegrind).
    #[inline(always)]
    fn advance(&mut self, from: usize) {
        debug_assert_eq!(from, self.occupied.trailing_zeros() as usize + 1);
        let now = self.min_time[from];
        debug_assert!(now > self.base);
        self.base = now;
        self.buckets[0].clear();
        self.head = 0;
        self.occupied &= !(1 << (from - 1));
        let mut spread = std::mem::take(&mut self.buckets[from]);
        for &entry in &spread {
            match Self::bucket(entry.time, now) {
                0 => self.buckets[0].push(entry),
                b => {
                    debug_assert!(b < from);
                    self.push_to(b, entry);
                }
            }
        }
        spread.clear();
        self.buckets[from] = spread;
    }

    /// Visit every pending event (order unspecified); used by end-of-run accounting.
    pub fn iter_pending(&self) -> impl Iterator<Item = &E> {
        let staged = (0..self.staged).map(|k| &self.stage[self.stage_slot(k)]);
        let at_base = self.buckets[0][self.head..].iter();
        staged.chain(at_base).chain(self.buckets[1..].iter().flatten()).map(|entry| &entry.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

    /// What the queue must do, written the obvious way: pending events in a list, popped by
    /// smallest (time, insertion number).
    #[derive(Default)]
    struct Reference {
        pending: Vec<(u64, u64, u32)>,
        next: u64,
    }

    impl Reference {
        fn push(&mut self, time: u64, id: u32) {
            self.pending.push((time, self.next, id));
            self.next += 1;
        }
        fn min(&self) -> Option<usize> {
            (0..self.pending.len()).min_by_key(|&i| (self.pending[i].0, self.pending[i].1))
        }
        fn pop(&mut self) -> Option<(u64, u32)> {
            self.min().map(|i| {
                let (t, _, id) = self.pending.remove(i);
                (t, id)
            })
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        /// Schedule this far after `now` (clamped to the end of time).
        Push(u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => Just(Op::Push(0)),
            3 => (0..4u64).prop_map(Op::Push),
            3 => (0..3_000_000u64).prop_map(Op::Push),
            1 => (0..1u64 << 40).prop_map(Op::Push),
            1 => any::<u64>().prop_map(Op::Push),
            6 => Just(Op::Pop),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Any interleaving of pushes and pops, with ties, far futures and times near the end of
        /// `u64`, pops what the reference does.
        #[test]
        fn matches_the_reference_ordering(
            ops in proptest::collection::vec(op(), 0..400),
            lookahead in 0..=MAX_LOOKAHEAD,
            horizon_ps in prop_oneof![Just(0u64), 0..8u64, 0..4_000_000u64, Just(u64::MAX)],
        ) {
            let mut q = EventQueue::new().with_lookahead(lookahead, SimDuration(horizon_ps));
            let mut reference = Reference::default();
            for (id, op) in ops.into_iter().enumerate() {
                match op {
                    Op::Push(delta) => {
                        let t = q.now().ps().saturating_add(delta);
                        q.schedule_at(SimTime(t), id as u32);
                        reference.push(t, id as u32);
                    }
                    Op::Pop => {
                        let want = reference.pop();
                        prop_assert_eq!(q.pop().map(|(t, e)| (t.ps(), e)), want);
                        if let Some((t, _)) = want {
                            prop_assert_eq!(q.now(), SimTime(t));
                        }
                    }
                }
                let next = reference.min().map(|i| reference.pending[i]);
                prop_assert_eq!(q.peek_time().map(|t| t.ps()), next.map(|n| n.0));
                prop_assert_eq!(q.peek_event().copied(), next.map(|n| n.2));
                // What `ahead` names is pending (a hint: which one, the stage decides).
                let ahead = q.ahead().copied();
                prop_assert_eq!(ahead.is_some(), !reference.pending.is_empty());
                prop_assert!(ahead.is_none_or(|a| reference.pending.iter().any(|p| p.2 == a)));
                prop_assert_eq!(q.len(), reference.pending.len());
                let mut pending: Vec<u32> = q.iter_pending().copied().collect();
                pending.sort_unstable();
                let mut want: Vec<u32> = reference.pending.iter().map(|p| p.2).collect();
                want.sort_unstable();
                prop_assert_eq!(pending, want);
            }
            // Draining pops the rest in order.
            while let Some(want) = reference.pop() {
                prop_assert_eq!(q.pop().map(|(t, e)| (t.ps(), e)), Some(want));
            }
            prop_assert!(q.pop().is_none());
            prop_assert!(q.is_empty());
        }
    }

    /// Events scheduled between staged ones: each after the staged events of its time (scheduled
    /// before it), before the later ones; enough of them to make the stage grow.
    #[test]
    fn events_scheduled_between_staged_ones_fire_in_order() {
        // Events named by number: 1..=5 first (a to e), then b2 = 22, d2 = 44, a2 = 11, and
        // forty at 25: 100.. .
        let mut q = EventQueue::new().with_lookahead(3, SimDuration(u64::MAX));
        for (t, e) in [(10, 1), (20, 2), (30, 3), (40, 4), (50, 5)] {
            q.schedule_at(SimTime(t), e);
        }
        assert_eq!(q.pop().map(|(t, e)| (t.ps(), e)), Some((10, 1)));
        // Staged: 2, 3, 4; the buckets' clock is at 40. The one staged three ahead is 4.
        assert_eq!(q.ahead(), Some(&4));
        for k in 0..40 {
            q.schedule_at(SimTime(25), 100 + k);
        }
        q.schedule_at(SimTime(20), 22);
        q.schedule_at(SimTime(40), 44);
        q.schedule_at(SimTime(10), 11);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        let mut want = vec![11, 2, 22];
        want.extend(100..140);
        want.extend([3, 4, 44, 5]);
        assert_eq!(order, want);
        assert!(q.is_empty());
    }

    /// A lookahead changes what the caller may prefetch, never what fires when.
    #[test]
    fn a_lookahead_does_not_change_the_order() {
        use crate::engine::RngStreams;
        use rand::RngExt;
        let orders: Vec<Vec<(u64, u32)>> = (0..=MAX_LOOKAHEAD)
            .flat_map(|lookahead| [(lookahead, 5), (lookahead, u64::MAX)])
            .map(|(lookahead, horizon_ps)| {
                let mut rng = RngStreams::new(9).stream("q");
                let mut q = EventQueue::new().with_lookahead(lookahead, SimDuration(horizon_ps));
                let mut fired = Vec::new();
                for id in 0..50u32 {
                    q.schedule_at(SimTime(rng.random_range(0..100u64)), id);
                }
                let mut id = 50;
                while let Some((t, e)) = q.pop() {
                    fired.push((t.ps(), e));
                    // Each event schedules up to three more, some at its own time, some soon
                    // after, until 5 000 have been scheduled.
                    for _ in 0..rng.random_range(0..4) {
                        if id < 5_000 {
                            q.schedule_at(SimTime(t.ps() + rng.random_range(0..30u64)), id);
                            id += 1;
                        }
                    }
                }
                fired
            })
            .collect();
        assert!(orders[0].len() > 1_000);
        for order in &orders[1..] {
            assert_eq!(order, &orders[0]);
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
