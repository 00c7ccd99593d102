//! When the data in flight was sent, for RACK (RFC 8985 section 6.2): Linux stamps every skb
//! (`skb_mstamp_ns`); nitrosim keeps a few bursts, each the first sequence of data sent at one
//! time, so that an endpoint stays small and a send writes no allocation.

use crate::units::SimTime;

/// Bursts remembered. With all in use, the newest burst absorbs later sends and keeps its
/// earlier time: the newest data then looks older than it is, so RACK waits longer than Linux
/// would, never less.
const SEND_BURSTS: usize = 8;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct SendTimes {
    /// Ascending, each with a later time than the one before.
    start: [u64; SEND_BURSTS],
    at: [SimTime; SEND_BURSTS],
    len: usize,
}

impl SendTimes {
    /// Data from `seq` on was sent at `now`. New data, or a resend of the newest burst's data
    /// (a loss probe resending the last segment: its time is now the resend's, as Linux
    /// restamps a retransmitted skb); a resend of older data is RACK's retransmission log's
    /// business, not this.
    pub(super) fn note(&mut self, seq: u64, now: SimTime) {
        match self.len.checked_sub(1) {
            Some(last) if seq < self.start[last] => {}
            Some(last) if self.at[last] == now => {}
            Some(last) if seq == self.start[last] => self.at[last] = now,
            _ if self.len == SEND_BURSTS => {}
            _ => {
                self.start[self.len] = seq;
                self.at[self.len] = now;
                self.len += 1;
            }
        }
        debug_assert!(self.start[..self.len].is_sorted() && self.at[..self.len].is_sorted());
    }

    /// Everything below `una` is acknowledged: forget the bursts that hold nothing else.
    pub(super) fn acknowledged(&mut self, una: u64) {
        let gone = (1..self.len).take_while(|&k| self.start[k] <= una).count();
        if gone > 0 {
            self.start.copy_within(gone..self.len, 0);
            self.at.copy_within(gone..self.len, 0);
            self.len -= gone;
        }
    }

    /// When the burst holding `seq` was sent, if one does.
    pub(super) fn sent_at(&self, seq: u64) -> Option<SimTime> {
        let k = self.start[..self.len].partition_point(|&s| s <= seq);
        k.checked_sub(1).map(|k| self.at[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_give_each_sequence_its_send_time_and_go_as_they_are_acknowledged() {
        let t = SimTime;
        let mut s = SendTimes::default();
        assert_eq!(s.sent_at(0), None);
        s.note(0, t(10));
        s.note(1000, t(10)); // the same burst
        s.note(3000, t(20));
        s.note(500, t(30)); // a resend of older data: not this record's
        assert_eq!(
            (s.sent_at(0), s.sent_at(2999), s.sent_at(3000), s.sent_at(9999)),
            (Some(t(10)), Some(t(10)), Some(t(20)), Some(t(20)))
        );
        // A loss probe resends the newest burst's first (last) segment: restamped.
        s.note(3000, t(40));
        assert_eq!(s.sent_at(3000), Some(t(40)));
        s.acknowledged(2999);
        assert_eq!(s.sent_at(2999), Some(t(10)), "the burst holding 2999 stays");
        s.acknowledged(3000);
        assert_eq!((s.len, s.sent_at(3000)), (1, Some(t(40))));
        // Full: the newest burst absorbs later sends, at its earlier time.
        for k in 1..20u64 {
            s.note(3000 + 100 * k, t(40 + k));
        }
        assert_eq!(s.len, SEND_BURSTS);
        assert_eq!(s.sent_at(3000 + 100 * 19), Some(t(40 + SEND_BURSTS as u64 - 1)));
    }
}
