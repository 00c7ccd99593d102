//! The send side: what the windows allow (congestion window, peer's window, RFC 6675 pipe),
//! processing the ACK field (RTT samples, the congestion controller's hooks, the SACK
//! scoreboard, duplicate ACKs), and loss recovery (fast retransmit, SACK/NewReno recovery,
//! RACK-style detection of lost retransmissions, ECN's once-per-window response).

use super::receiver::insert_range;
use super::{CaState, Retransmission, State, Tcp};
use crate::net::{SegKind, Segment};
use crate::transport::congestion::Controller;
use crate::transport::{MssCause, Outbox};
use crate::units::{PackedOption, SimDuration, SimTime};

impl Tcp {
    pub(super) fn sacked_bytes(&self) -> u64 {
        self.sacked.iter().map(|&(s, e)| e - s).sum()
    }

    pub(super) fn sacked_above(&self, seq: u64) -> u64 {
        self.sacked.iter().filter(|r| r.1 > seq).map(|&(s, e)| e - s.max(seq)).sum()
    }

    /// RFC 6675 `IsLost`: enough SACKed data above it, or (without SACK) the head after
    /// `dupack_threshold` duplicate ACKs, or anything outstanding after a timeout.
    pub(super) fn is_lost(&self, hole_end: u64, hole_start: u64) -> bool {
        match self.recovery {
            CaState::Open => false,
            CaState::Loss => hole_start < self.recover,
            CaState::Recovery => {
                let dupthresh = self.cfg.dupack_threshold as u64;
                let ranges_above = self.sacked.iter().filter(|r| r.0 >= hole_end).count() as u64;
                self.sacked_above(hole_end) > (dupthresh - 1) * self.mss
                    || ranges_above >= dupthresh
                    || hole_end <= self.rack_lost_below
                    || (hole_start == self.snd_una
                        && (self.sacked.is_empty() || self.dupacks >= self.cfg.dupack_threshold))
            }
        }
    }

    /// Visit the holes (un-SACKed ranges) in [snd_una, limit), in order.
    pub(super) fn for_each_hole(&self, limit: u64, mut f: impl FnMut(u64, u64) -> bool) {
        let mut cursor = self.snd_una;
        for &(s, e) in &self.sacked {
            if s >= limit {
                break;
            }
            if s > cursor && !f(cursor, s) {
                return;
            }
            cursor = cursor.max(e);
        }
        if cursor < limit {
            f(cursor, limit);
        }
    }

    /// The next lost, not yet retransmitted range to send, at most one MSS.
    pub(super) fn next_retransmission(&self) -> Option<(u64, u64)> {
        if let Some(r) = self.rtx_log.iter().find(|r| r.lost_again) {
            return Some((r.start, r.end.min(r.start + self.send_mss())));
        }
        let limit = match self.recovery {
            CaState::Open => return None,
            CaState::Loss => self.recover,
            // Without SACK, only the head can be known lost (NewReno).
            CaState::Recovery if self.sacked.is_empty() => (self.snd_una + self.send_mss()).min(self.snd_nxt),
            CaState::Recovery => self.sacked.last().map(|r| r.0).unwrap_or(self.snd_una),
        };
        let mut found = None;
        self.for_each_hole(limit.min(self.snd_nxt), |s, e| {
            let s = s.max(self.rtx_next);
            if s < e && self.is_lost(e, s) {
                found = Some((s, e.min(s + self.send_mss())));
                return false;
            }
            true
        });
        found
    }

    /// RFC 6675 `SetPipe`: bytes believed to be in the network.
    pub(super) fn pipe(&self) -> u64 {
        let outstanding = self.snd_nxt - self.snd_una;
        let mut lost_unsent = 0;
        if self.recovery != CaState::Open {
            for r in self.rtx_log.iter().filter(|r| r.lost_again) {
                lost_unsent += r.end - r.start;
            }
            let limit = if self.recovery == CaState::Loss {
                self.recover
            } else {
                self.sacked.last().map(|r| r.0).unwrap_or(self.snd_una)
            };
            self.for_each_hole(limit.min(self.snd_nxt), |s, e| {
                let s = s.max(self.rtx_next);
                if s < e && self.is_lost(e, s) {
                    lost_unsent += e - s;
                }
                true
            });
        }
        // Without SACK, each duplicate ACK says one more segment has left the network: the
        // equivalent of NewReno's window inflation (RFC 6582 section 3.2 step 4).
        let left = if self.cfg.sack { self.sacked_bytes() } else { self.dupacks as u64 * self.mss };
        outstanding.saturating_sub(left + lost_unsent)
    }

    /// Send what the window allows: lost data first, then new data.
    pub(super) fn push(&mut self, now: SimTime, out: &mut Outbox) {
        if self.state != State::Established || self.aborted() {
            return;
        }
        let limit = self.window.cwnd;
        self.try_probe(now, limit.min(self.snd_wnd), out);
        loop {
            let pipe = self.pipe();
            if let Some((s, e)) = self.next_retransmission() {
                if pipe > 0 && pipe + (e - s) > limit && !self.fast_retransmit_due {
                    break;
                }
                self.fast_retransmit_due = false;
                // tcp_retransmit_skb: the time budgets of tcp_retries1/2 start here.
                if self.retrans_stamp.is_none() {
                    self.retrans_stamp = PackedOption::some(now);
                }
                self.emit_data(now, s, e - s, true, out);
                self.rtx_next = self.rtx_next.max(e);
                let entry =
                    Retransmission { start: s, end: e, sent_at: now, nxt_at_send: self.snd_nxt, lost_again: false };
                match self.rtx_log.iter_mut().find(|r| r.start == s) {
                    Some(r) => *r = entry,
                    None => self.rtx_log.push(entry),
                }
                continue;
            }
            if self.snd_nxt >= self.write_end {
                break;
            }
            let len = self.send_mss().min(self.write_end - self.snd_nxt);
            // Always allow one segment when nothing is in flight (a window below one MSS must not stall).
            if pipe > 0 && (pipe + len > limit || self.snd_nxt + len > self.snd_una + self.snd_wnd) {
                break;
            }
            self.emit_data(now, self.snd_nxt, len, false, out);
            self.snd_nxt += len;
        }
        self.schedule_loss_probe(now);
    }

    pub(super) fn update_scoreboard(&mut self, seg: &Segment) {
        for (s, e) in seg.sack_blocks() {
            let (s, e) = (s.max(self.snd_una), e.min(self.snd_nxt));
            if s < e {
                insert_range(&mut self.sacked, s, e);
            }
        }
        let una = self.snd_una;
        self.sacked.retain(|r| r.1 > una);
        if let Some(first) = self.sacked.first_mut() {
            first.0 = first.0.max(una);
        }
    }

    /// RACK, simplified: a retransmission is lost if data sent after it has been SACKed and a
    /// quarter of an RTT (the reordering window) has passed since it was sent.
    pub(super) fn detect_lost_retransmissions(&mut self, now: SimTime) {
        let highest_sacked = self.sacked.last().map(|r| r.1).unwrap_or(0);
        let reorder = SimDuration(self.srtt.get().map(|s| s.0 / 4).unwrap_or(0));
        let una = self.snd_una;
        let sacked = &self.sacked;
        let delivered = |r: &Retransmission| r.end <= una || sacked.iter().any(|&(s, e)| s <= r.start && e >= r.end);
        // RACK orders by transmission time (RFC 8985 section 6.2): a retransmission delivered
        // that was sent after another one says the other is lost too, even when no new data
        // could follow (a receive window full of out-of-order data).
        let latest = self.rtx_log.iter().filter(|r| delivered(r)).map(|r| r.sent_at).max();
        self.rack_rtx_delivered = self.rack_rtx_delivered.get().max(latest).into();
        self.rtx_log.retain(|r| !delivered(r));
        let rtx_delivered = self.rack_rtx_delivered.get();
        for r in &mut self.rtx_log {
            let later_delivered = highest_sacked > r.nxt_at_send || rtx_delivered.is_some_and(|t| t > r.sent_at);
            if !r.lost_again && later_delivered && now >= r.sent_at + reorder {
                r.lost_again = true;
            }
        }
    }

    pub(super) fn enter_recovery(&mut self, now: SimTime, out: &mut Outbox) {
        // A lost MTU probe at the head is a failed probe, not congestion (tcp_fastretrans_alert:
        // tcp_mtup_probe_failed + tcp_simple_retransmit).
        if self.mtup.probe.is_some_and(|p| p.0 == self.snd_una) {
            self.probe_failed(out);
            self.simple_retransmit();
            self.fast_retransmit_due = true;
            return;
        }
        let flight = self.pipe();
        self.cc.on_congestion(now, &mut self.window, flight);
        // RFC 6675 section 5: cwnd = ssthresh on entering recovery.
        self.window.cwnd = self.window.ssthresh;
        self.recovery = CaState::Recovery;
        self.recover = self.snd_nxt;
        // Holes below `rtx_next` were resent in a recovery that ended above them (RACK starts a
        // new one while such a resend may still be in flight): not again, as Linux skips what it
        // has already retransmitted (tcp_xmit_retransmit_queue). Otherwise from `snd_una`.
        self.rtx_next = self.rtx_next.max(self.snd_una);
        self.rtx_log.clear();
        self.rack_rtx_delivered = PackedOption::NONE;
        self.fast_retransmit_due = true;
        self.stats.fast_retransmits += 1;
    }

    pub(super) fn on_ack_field(&mut self, now: SimTime, seg: &Segment, out: &mut Outbox) {
        let ack = seg.ack.min(self.snd_nxt);
        let advanced = ack > self.snd_una;
        if ack >= self.snd_una {
            // RFC 9293 section 3.10.7.4: the window update (ordering by SND.WL1/WL2 is moot here:
            // segments of one connection are not reordered relative to their ACK field's progress).
            self.snd_wnd = (seg.wnd as u64).max(1);
        }
        if self.tlp_high_seq.get().is_some_and(|h| ack >= h) {
            self.tlp_high_seq = PackedOption::NONE;
        }
        if advanced {
            let acked = ack - self.snd_una;
            self.snd_una = ack;
            self.sent.acknowledged(ack);
            self.window.snd_una = ack;
            self.window.snd_nxt = self.snd_nxt;
            self.rtx_next = self.rtx_next.max(ack);
            let rtt = (seg.ts_echo > SimTime::ZERO).then(|| now.since(seg.ts_echo));
            if let Some(r) = rtt {
                self.rtt_sample(r);
            }
            self.backoff = 0;
            self.dupacks = 0;
            self.retrans_stamp = PackedOption::NONE;
            if let Some((_, end, mtu)) = self.mtup.probe
                && ack >= end
            {
                // tcp_mtup_probe_success: the probe's size is proven.
                self.mtup.probe = None;
                self.mtup.search_low = mtu;
                if self.mtup.search_high - mtu < self.cfg.probe_threshold {
                    self.mtup.converged_at = now;
                }
                self.set_mss_for(self.mtup.search_high, MssCause::ProbeAcked, out);
            }
            match self.recovery {
                CaState::Recovery if ack >= self.recover => {
                    self.recovery = CaState::Open;
                    self.window.cwnd = self.window.ssthresh.max(self.mss);
                }
                // Linux's Loss state grows cwnd in slow start as the holes are refilled.
                CaState::Loss if ack >= self.recover => {
                    self.recovery = CaState::Open;
                    self.cc.on_ack(now, &mut self.window, acked, rtt);
                }
                CaState::Loss => self.cc.on_ack(now, &mut self.window, acked, rtt),
                // NewReno partial ACK: the next hole is retransmitted at once (RFC 6582 3.2 step 5).
                CaState::Recovery => self.fast_retransmit_due = !self.cfg.sack,
                CaState::Open => self.cc.on_ack(now, &mut self.window, acked, rtt),
            }
            self.rto_deadline = PackedOption::NONE;
            if self.snd_una < self.snd_nxt {
                self.arm_rto(now);
            }
        }
        if self.cfg.sack {
            self.update_scoreboard(seg);
        }
        let duplicate = !advanced
            && ack == self.snd_una
            && seg.kind == SegKind::Ack
            && seg.payload_bytes == 0
            && self.snd_una < self.snd_nxt;
        if duplicate {
            self.dupacks += 1;
        }
        if self.recovery == CaState::Open && self.snd_una < self.snd_nxt {
            let sack_loss = self.cfg.sack && self.is_lost_open(self.snd_una);
            if (duplicate && self.dupacks >= self.cfg.dupack_threshold && self.snd_una >= self.recover) || sack_loss {
                self.enter_recovery(now, out);
            }
        }
        if self.recovery != CaState::Open {
            self.detect_lost_retransmissions(now);
        }
        if self.rack_lost_now(now) {
            self.on_rack_timeout(now, out);
        }
        if seg.ece && self.recovery == CaState::Open && self.snd_una >= self.cwr_until {
            // RFC 3168 section 6.1.2: react to congestion at most once per window.
            let flight = self.pipe();
            self.cc.on_congestion(now, &mut self.window, flight);
            self.window.cwnd = self.window.ssthresh;
            self.cwr_until = self.snd_nxt;
        }
    }

    /// Would the head be lost by the SACK rule if we were in recovery?
    pub(super) fn is_lost_open(&self, head: u64) -> bool {
        let dupthresh = self.cfg.dupack_threshold as u64;
        self.sacked_above(head) > (dupthresh - 1) * self.mss || self.sacked.len() as u64 >= dupthresh
    }
}
