//! A FIFO whose oldest `N` elements live in the structure itself, the rest on the heap.
//!
//! The SRD sender keeps three queues per connection (its unacknowledged slots, its deadlines and
//! the packets waiting for the window), and touches the ends of all three on every send and ACK.
//! As separate heap buffers they sit on three pages of their own, apart from the connection and
//! from each other; at 8192 hosts, where reaching a page not touched lately costs about a memory
//! access (`docs/performance.md`, "2026-12-03, night"), that is three such reaches per send.
//! Held in the connection itself, the common short queue costs none. Longer queues (a window
//! grown wide, EFA's deep send queue) continue in a `VecDeque`.

use std::collections::VecDeque;

/// Invariant: the ring holds the oldest `min(len, N)` elements, so `spill` is empty unless the
/// ring is full, and element `i` is in the ring when `i < N`.
#[derive(Clone, Debug)]
pub(super) struct InlineDeque<T, const N: usize> {
    ring: [T; N],
    /// Index in `ring` of the oldest element.
    head: usize,
    /// Elements in `ring` (at most `N`).
    held: usize,
    spill: VecDeque<T>,
}

impl<T: Copy + Default, const N: usize> Default for InlineDeque<T, N> {
    fn default() -> Self {
        const { assert!(N.is_power_of_two(), "a ring of a power of two: wrapping is a mask") };
        InlineDeque { ring: [T::default(); N], head: 0, held: 0, spill: VecDeque::new() }
    }
}

impl<T: Copy + Default, const N: usize> InlineDeque<T, N> {
    #[inline]
    fn at(&self, i: usize) -> usize {
        (self.head + i) & (N - 1)
    }

    pub fn len(&self) -> usize {
        self.held + self.spill.len()
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        if i < self.held { Some(&self.ring[self.at(i)]) } else { self.spill.get(i - self.held) }
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i < self.held {
            let k = self.at(i);
            Some(&mut self.ring[k])
        } else {
            self.spill.get_mut(i - self.held)
        }
    }

    pub fn front(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn back(&self) -> Option<&T> {
        self.spill.back().or_else(|| self.held.checked_sub(1).map(|i| &self.ring[self.at(i)]))
    }

    pub fn push_back(&mut self, x: T) {
        if self.held < N {
            debug_assert!(self.spill.is_empty());
            let k = self.at(self.held);
            self.ring[k] = x;
            self.held += 1;
        } else {
            self.spill.push_back(x);
        }
    }

    pub fn pop_front(&mut self) -> Option<T> {
        if self.held == 0 {
            return None;
        }
        let x = self.ring[self.head];
        self.head = self.at(1);
        self.held -= 1;
        // The oldest spilled element moves in, keeping the invariant.
        if let Some(y) = self.spill.pop_front() {
            let k = self.at(self.held);
            self.ring[k] = y;
            self.held += 1;
        }
        Some(x)
    }

    /// Insert `x` at position `i` (`i <= len`), shifting the elements from `i` on back by one.
    pub fn insert(&mut self, i: usize, x: T) {
        assert!(i <= self.len(), "insert at {i} beyond the end ({})", self.len());
        if i >= self.held {
            // At the end of a ring with room (nothing spilled), or among the spilled.
            if self.held < N {
                self.push_back(x);
            } else {
                self.spill.insert(i - self.held, x);
            }
            return;
        }
        if self.held == N {
            // The ring's newest element becomes the oldest spilled one.
            let last = self.ring[self.at(N - 1)];
            self.spill.push_front(last);
            self.held -= 1;
        }
        for k in (i..self.held).rev() {
            let (to, from) = (self.at(k + 1), self.at(k));
            self.ring[to] = self.ring[from];
        }
        let k = self.at(i);
        self.ring[k] = x;
        self.held += 1;
    }

    /// The first index whose element fails `pred`, for elements ordered so that `pred` holds for
    /// a prefix (as `slice::partition_point`).
    pub fn partition_point(&self, mut pred: impl FnMut(&T) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.get(mid).expect("in range")) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Elements beyond the ring: how much of the queue is off the structure's own lines.
    #[cfg(test)]
    pub fn spilled(&self) -> usize {
        self.spill.len()
    }
}

impl<T: Copy + Default, const N: usize> std::ops::Index<usize> for InlineDeque<T, N> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        let len = self.len();
        self.get(i).unwrap_or_else(|| panic!("index {i} beyond the end ({len})"))
    }
}

impl<T: Copy + Default, const N: usize> std::ops::IndexMut<usize> for InlineDeque<T, N> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        let len = self.len();
        self.get_mut(i).unwrap_or_else(|| panic!("index {i} beyond the end ({len})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Push(u32),
        Pop,
        Insert(usize, u32),
        Set(usize, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => any::<u32>().prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => (any::<usize>(), any::<u32>()).prop_map(|(i, x)| Op::Insert(i, x)),
            1 => (any::<usize>(), any::<u32>()).prop_map(|(i, x)| Op::Set(i, x)),
        ]
    }

    proptest! {
        /// Whatever the operations, it holds what a `VecDeque` would, in the same order, and the
        /// ring holds the oldest.
        #[test]
        fn behaves_as_a_vecdeque(ops in proptest::collection::vec(op(), 0..300)) {
            let mut d: InlineDeque<u32, 4> = InlineDeque::default();
            let mut model: VecDeque<u32> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(x) => { d.push_back(x); model.push_back(x); }
                    Op::Pop => prop_assert_eq!(d.pop_front(), model.pop_front()),
                    Op::Insert(i, x) => { let i = i % (model.len() + 1); d.insert(i, x); model.insert(i, x); }
                    Op::Set(i, x) => if !model.is_empty() { let i = i % model.len(); d[i] = x; model[i] = x; },
                }
                prop_assert_eq!(d.len(), model.len());
                prop_assert_eq!(d.spilled(), model.len().saturating_sub(4));
                prop_assert_eq!(d.front(), model.front());
                prop_assert_eq!(d.back(), model.back());
                for (i, x) in model.iter().enumerate() {
                    prop_assert_eq!(d[i], *x);
                }
                prop_assert_eq!(d.get(model.len()), None);
            }
        }
    }

    #[test]
    fn partition_point_finds_the_first_failing_element_across_ring_and_spill() {
        let mut d: InlineDeque<u32, 4> = InlineDeque::default();
        for x in [1, 3, 5, 7, 9, 11] {
            d.push_back(x);
        }
        assert_eq!(d.spilled(), 2);
        for (bound, at) in [(0, 0), (1, 1), (4, 2), (8, 4), (10, 5), (12, 6)] {
            assert_eq!(d.partition_point(|&x| x <= bound), at, "x <= {bound}");
        }
    }
}
