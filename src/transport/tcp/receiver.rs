//! The receive side: in-order and out-of-order data, the ACK policy (quick-ack at start and for
//! a segment that grows the window, delayed ACK, immediate ACK for holes, duplicates, CE and
//! FIN), the receiver's RTT estimate, and the receive buffer and advertised window as Linux
//! sizes them (`tcp_select_initial_window`, `tcp_grow_window`, `tcp_rcv_space_adjust`,
//! `__tcp_select_window`).

use super::config::{
    GROW_WINDOW_MIN_BYTES, INITIAL_CWND_SEGMENTS, LINUX_MIN_MSS, LINUX_MSS_DEFAULT, MAX_OOO_RANGES, MAX_SYN_WINDOW,
    TCP_TIMESTAMP_OPTION_BYTES,
};
use super::{RcvSpace, State, Tcp};
use crate::net::Segment;
use crate::transport::Outbox;
use crate::units::{PackedOption, SimDuration, SimTime};

impl Tcp {
    /// tcp_select_initial_window: the buffer starts at tcp_rmem[1]; the SYN's window is its
    /// share, at most 65535 (unscaled in a SYN), rounded down to whole segments.
    pub(super) fn with_receive_buffer(mut self) -> Self {
        let rcvbuf = self.cfg.rmem_initial.0.min(self.cfg.receive_window.0);
        let seg = self.mss_max.max(1);
        let wnd = self.win_from_space(rcvbuf).min(MAX_SYN_WINDOW);
        let wnd = (wnd / seg * seg).max(seg);
        self.rcv = RcvSpace {
            rcvbuf,
            rcv_ssthresh: wnd,
            space: (INITIAL_CWND_SEGMENTS * seg).min(wnd),
            advertised: wnd,
            ..self.rcv
        };
        self.initialize_rcv_mss();
        self
    }

    /// tcp_initialize_rcv_mss: a guess of the peer's segment size that errs low: our MSS, at
    /// most half the window, at most 536, at least 88.
    pub(super) fn initialize_rcv_mss(&mut self) {
        let hint = self.advmss().min(self.mss_max).min(self.rcv.advertised / 2).min(LINUX_MSS_DEFAULT);
        self.rcv.rcv_mss = hint.max(LINUX_MIN_MSS);
    }

    /// `tp->advmss`: the payload our MSS option allows once timestamps are on.
    fn advmss(&self) -> u64 {
        self.adv_mss.saturating_sub(TCP_TIMESTAMP_OPTION_BYTES as u64)
    }

    /// tcp_measure_rcv_mss, the part that sizes the window (Linux 6.6+, with 6.15's
    /// "tcp: fix scaling_ratio update ..." clamp): a segment at least as long as `rcv_mss` and
    /// longer than it re-measures `scaling_ratio` as len x 256 / truesize (the driver's charge
    /// for it); when the ratio changes, the window clamp follows (`tcp_set_window_clamp`:
    /// `rcv_ssthresh` rises to the window offered if the clamp grew, falls to the clamp if it
    /// shrank) and `rcvq_space.space` is cut to the clamp. Then `rcv_mss` = min(len, advmss).
    /// With full-sized segments this happens once, on the first one.
    fn measure_rcv_mss(&mut self, len: u64) {
        if len < self.rcv.rcv_mss {
            return;
        }
        if len != self.rcv.rcv_mss
            && let Some(ratio) = self.cfg.rx_truesize.scaling_ratio(len)
        {
            let old_clamp = self.win_from_space(self.rcv.rcvbuf);
            self.rcv.scaling_ratio = ratio;
            let clamp = self.win_from_space(self.rcv.rcvbuf);
            if clamp < old_clamp {
                self.rcv.rcv_ssthresh = self.rcv.rcv_ssthresh.min(clamp);
            } else if clamp > old_clamp {
                self.rcv.rcv_ssthresh = self.rcv.rcv_ssthresh.max(self.rcv.advertised.min(clamp));
            }
            self.rcv.space = self.rcv.space.min(clamp);
        }
        self.rcv.rcv_mss = len.min(self.advmss());
    }

    pub(super) fn win_from_space(&self, space: u64) -> u64 {
        space * self.rcv.scaling_ratio as u64 / 256
    }

    pub(super) fn space_from_win(&self, win: u64) -> u64 {
        win * 256 / self.rcv.scaling_ratio.max(1) as u64
    }

    /// __tcp_select_window: the share of the free buffer (less the segment being taken, still
    /// queued when its ACK leaves), no more than `rcv_ssthresh`, never below one segment (the
    /// persist timer is not modelled) and never shrinking what was offered. Linux rounds the
    /// result up to its window scale's unit (`ALIGN`); this does not.
    pub(super) fn select_window(&self) -> u64 {
        if self.state != State::Established {
            return self.rcv.advertised;
        }
        let free = self.tcp_space();
        let right_edge_kept = self.rcv.advertised.saturating_sub(self.rcv_nxt - self.last_ack_sent);
        free.min(self.rcv.rcv_ssthresh).max(self.mss_max).max(right_edge_kept).min(u32::MAX as u64)
    }

    /// tcp_space: the window the buffer's free part is worth, with what is queued held back (the
    /// out-of-order ranges and the segment being taken, `unread`).
    fn tcp_space(&self) -> u64 {
        let held: u64 = self.ooo.iter().map(|&(s, e)| e - s).sum::<u64>() + self.rcv.unread;
        self.win_from_space(self.rcv.rcvbuf.saturating_sub(held))
    }

    /// tcp_grow_window's step for an in-order segment of `len` bytes charging the buffer `charge`
    /// (its truesize): two advertised MSS when that is worth no more window than it carries (a
    /// full segment: `scaling_ratio` was measured on one); for a smaller one (__tcp_grow_window),
    /// two received MSS while `rcv_ssthresh` is small beside `tcp_rmem[2]`'s window, halving that
    /// bound for each halving of the charge it takes to fit, else none. (Linux first deducts the
    /// skb head from the charge of a frame held in page fragments, `truesize_adjust`; the charge
    /// here is the driver's whole.)
    fn grow_window_step(&self, len: u64, charge: u64) -> u64 {
        let charge = self.win_from_space(charge);
        if charge <= len {
            return 2 * self.advmss();
        }
        let (mut charge, mut window) = (charge / 2, self.win_from_space(self.cfg.receive_window.0) / 2);
        while self.rcv.rcv_ssthresh <= window {
            if charge <= len {
                return 2 * self.rcv.rcv_mss;
            }
            charge /= 2;
            window /= 2;
        }
        0
    }

    /// tcp_grow_window (one in-order segment of `len` bytes arrived; Linux calls it for segments
    /// of `GROW_WINDOW_MIN_BYTES` or more, tcp_event_data_recv) and tcp_rcv_space_adjust (once per
    /// receiver RTT estimate: what the application read in it becomes `space`, and the buffer
    /// grows to hold twice that, more while the sender is still speeding up). The application
    /// reads at once, so only the segment being taken (and the out-of-order bytes it joined) is
    /// queued (`unread`). The quick ACK below is ignored in pingpong mode, as Linux's. Not
    /// modelled: the growth Linux also makes on out-of-order segments with SACK
    /// (tcp_data_queue_ofo).
    pub(super) fn grow_receive_space(&mut self, now: SimTime, len: u64, charge: u64) {
        let room =
            if len >= GROW_WINDOW_MIN_BYTES { self.tcp_space().saturating_sub(self.rcv.rcv_ssthresh) } else { 0 };
        if room > 0 {
            let step = self.grow_window_step(len, charge);
            if step > 0 {
                self.rcv.rcv_ssthresh += room.min(step.max(2 * len));
                // `icsk_ack.quick |= 1`: the segment that grew the window is acknowledged at
                // once, alone. While the window grows that is every segment; over a bulk
                // transfer's life about one ACK in ten (tests/linux/README.md, the bulk receiver).
                self.quickacks |= 1;
            }
        }
        let Some(rtt) = self.rcv.rtt else { return };
        if now.since(self.rcv.time) < rtt {
            return;
        }
        let copied = self.rcv_nxt - self.rcv.seq;
        if copied > self.rcv.space {
            self.rcvbuf_grow(copied);
        }
        self.rcv.seq = self.rcv_nxt;
        self.rcv.time = now;
    }

    /// tcp_rcvbuf_grow as of Linux 6.18 ("tcp: fix too slow tcp_rcvbuf_grow() action", Oct 2025,
    /// after the 6.16 receive-side series): `space` becomes `new_space`; the window wanted is
    /// twice it ("DRS is always one RTT late"), plus twice its growth ratio for a sender still in
    /// slow start, plus what the out-of-order queue spans; the buffer follows, up to tcp_rmem[2].
    /// (Before 6.16 a cushion of 16 segments was added; 6.16-6.17 dropped the growth term.)
    pub(super) fn rcvbuf_grow(&mut self, new_space: u64) {
        let old_space = self.rcv.space.max(1);
        self.rcv.space = new_space;
        if !self.cfg.moderate_rcvbuf {
            return;
        }
        let mut rcvwin = 2 * new_space;
        rcvwin += 2 * (rcvwin * new_space.saturating_sub(old_space) / old_space);
        if let Some(&(_, ooo_end)) = self.ooo.last() {
            rcvwin += ooo_end - self.rcv_nxt;
        }
        let rcvbuf = self.space_from_win(rcvwin).min(self.cfg.receive_window.0);
        if rcvbuf > self.rcv.rcvbuf {
            self.rcv.rcvbuf = rcvbuf;
        }
    }

    /// tcp_rcv_rtt_update: a smaller sample is taken at once ("always seek for minimal rtt",
    /// Linux 6.16); a larger one is averaged in (1/8) when it came from a timestamp, ignored
    /// when it came from the window-based measure (`window_based`, an upper bound).
    fn rcv_rtt_update(&mut self, sample: SimDuration, window_based: bool) {
        self.rcv.rtt = match self.rcv.rtt {
            None => Some(sample),
            Some(r) if sample < r => Some(sample),
            Some(r) if window_based => Some(r),
            Some(r) => Some(SimDuration(r.0 - r.0 / 8 + sample.0 / 8)),
        };
    }

    /// tcp_rcv_rtt_measure (every in-order data segment): the time one advertised window's worth
    /// of data takes to arrive bounds the RTT from above.
    fn rcv_rtt_measure_window(&mut self, now: SimTime) {
        if let Some((seq, since)) = self.rcv.rtt_window {
            if self.rcv_nxt < seq {
                return;
            }
            let sample = now.since(since).max(SimDuration::from_us(1));
            self.rcv_rtt_update(sample, true);
        }
        self.rcv.rtt_window = Some((self.rcv_nxt + self.rcv.advertised, now));
    }

    /// tcp_rcv_rtt_measure_ts: the echo of our timestamp dates a round trip, in the timestamp
    /// clock's whole milliseconds (TCP_TS_HZ = 1000). A zero difference says only "under 1 ms"
    /// and is dropped ("tcp: remove zero TCP TS samples for autotuning", Linux 6.16): on a
    /// sub-millisecond path the window-based measure gives the estimate.
    fn rcv_rtt_measure_ts(&mut self, now: SimTime, seg: &Segment) {
        if seg.ts_echo == self.rcv.rtt_last_tsecr {
            return;
        }
        self.rcv.rtt_last_tsecr = seg.ts_echo;
        if (seg.payload_bytes as u64) < self.mss_max.min(536) {
            return;
        }
        let tick = SimDuration::from_ms(1).0;
        let ticks = (now.0 / tick).saturating_sub(seg.ts_echo.0 / tick);
        if ticks > 0 {
            self.rcv_rtt_update(SimDuration(ticks * tick), false);
        }
    }

    pub(super) fn on_data(&mut self, now: SimTime, seg: &Segment, out: &mut Outbox) {
        let start = seg.seq;
        let end = seg.seq + seg.payload_bytes as u64;
        if seg.ce {
            self.ece_pending = true;
            self.pingpong = false;
        }
        if start <= self.last_ack_sent {
            self.ts_recent = seg.ts;
        }
        if end <= self.rcv_nxt {
            // Duplicate (a spurious retransmission): ACK at once (RFC 5681 section 4.2).
            self.pingpong = false;
            self.emit_ack(now, out);
            return;
        }
        if start > self.rcv_nxt {
            // A hole: remember the range and send a duplicate ACK at once.
            if end - self.rcv_nxt <= self.rcv.rcvbuf {
                self.recent_ooo = insert_range(&mut self.ooo, start, end).into();
                // tcp_data_queue_ofo -> tcp_rcvbuf_grow: room for what the holes hold up (6.16).
                self.rcvbuf_grow(self.rcv.space);
            }
            self.emit_ack(now, out);
            return;
        }
        if seg.ts_echo > SimTime::ZERO {
            self.rcv_rtt_measure_ts(now, seg);
        }
        let filled_hole = !self.ooo.is_empty();
        let before = self.rcv_nxt;
        self.rcv_nxt = end;
        let mut merged = 0;
        for &(s, e) in &self.ooo {
            if s > self.rcv_nxt {
                break;
            }
            self.rcv_nxt = self.rcv_nxt.max(e);
            merged += 1;
        }
        self.ooo.drain(..merged);
        let new = self.rcv_nxt - before;
        self.last_data_rcvd = PackedOption::some(now);
        // The segment's charge, and the out-of-order bytes it joined (no longer in `ooo`, still
        // queued until the reader runs).
        let len = end - start;
        let charge = self.cfg.rx_truesize.charge(len);
        self.rcv.unread = charge + (new - len.min(new));
        self.measure_rcv_mss(len);
        self.rcv_rtt_measure_window(now);
        self.grow_receive_space(now, len, charge);
        out.delivered_bytes += new;
        self.stats.bytes_delivered += new;
        self.unacked_segments += 1;
        // A FIN is acknowledged at once (Linux, in ESTABLISHED, enters pingpong mode and delays
        // it: not modelled). An end in pingpong mode leaves its ACK to its reply, quick ACKs or
        // not.
        let ack_now = !self.cfg.delayed_ack
            || filled_hole
            || (self.quickacks > 0 && !self.pingpong)
            || self.unacked_segments >= 2
            || seg.ce
            || seg.fin;
        if ack_now {
            self.emit_ack(now, out);
        } else if self.delack_deadline.is_none() {
            self.delack_deadline = PackedOption::some(now + self.cfg.delayed_ack_timeout);
        }
        // The application reads it.
        self.rcv.unread = 0;
    }
}

/// Insert [s, e) into sorted, disjoint ranges, merging neighbours; bounded by `MAX_OOO_RANGES`.
/// Returns the start of the range now holding [s, e), if it was stored.
pub(super) fn insert_range(ranges: &mut Vec<(u64, u64)>, s: u64, e: u64) -> Option<u64> {
    let i = ranges.partition_point(|&(_, re)| re < s);
    let mut j = i;
    let (mut ns, mut ne) = (s, e);
    while j < ranges.len() && ranges[j].0 <= ne {
        ns = ns.min(ranges[j].0);
        ne = ne.max(ranges[j].1);
        j += 1;
    }
    if i == j && ranges.len() >= MAX_OOO_RANGES {
        return None; // out of memory for more holes: the data will be retransmitted
    }
    if i == j {
        ranges.insert(i, (ns, ne));
    } else {
        ranges[i] = (ns, ne);
        ranges.drain(i + 1..j);
    }
    Some(ns)
}
