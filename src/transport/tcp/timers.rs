//! Timers: the retransmission timeout (RFC 6298 with Linux's floor, jiffies and timer-wheel
//! rounding, backoff, `tcp_retries1/2` and `tcp_syn_retries` measured as `tcp_write_timeout`
//! does), tail loss probes (`tcp_early_retrans`), RACK's reordering window, the delayed ACK,
//! and giving up (abort).

use super::config::{LINUX_TIMEOUT_MIN, linux_timer_expiry, model_timeout};
use super::{AbortReason, CaState, State, Tcp};
use crate::net::SegKind;
use crate::transport::congestion::Controller;
use crate::transport::{Note, Outbox};
use crate::units::{PackedOption, SimDuration, SimTime};

impl Tcp {
    pub(super) fn abort(&mut self, reason: AbortReason, out: &mut Outbox) {
        self.aborted = Some(reason);
        self.rto_deadline = PackedOption::NONE;
        self.rack_deadline = PackedOption::NONE;
        self.delack_deadline = PackedOption::NONE;
        self.tlp_deadline = PackedOption::NONE;
        out.notes.push(Note::Aborted { reason });
    }

    pub(super) fn arm_rto(&mut self, now: SimTime) {
        self.rto_deadline = PackedOption::some(linux_timer_expiry(now, self.rto, self.cfg.timer_hz));
    }

    /// RFC 6298 section 2 with Linux's floor: rto = srtt + max(4 * rttvar, rto_min).
    pub(super) fn rtt_sample(&mut self, r: SimDuration) {
        match self.srtt.get() {
            None => {
                self.srtt = PackedOption::some(r);
                self.rttvar = SimDuration(r.0 / 2);
            }
            Some(s) => {
                let diff = SimDuration(s.0.abs_diff(r.0));
                self.rttvar = SimDuration((3 * self.rttvar.0 + diff.0) / 4);
                self.srtt = PackedOption::some(SimDuration((7 * s.0 + r.0) / 8));
            }
        }
        let var = SimDuration(4 * self.rttvar.0).max(self.cfg.rto_min);
        let mut rto = self.srtt.get().unwrap() + var;
        if self.cfg.timer_hz > 0 {
            // __tcp_set_rto returns whole jiffies (usecs_to_jiffies rounds up).
            let jiffy = 1_000_000_000_000 / self.cfg.timer_hz as u64;
            rto = SimDuration(rto.ps().div_ceil(jiffy) * jiffy);
        }
        self.rto = rto.min(self.cfg.rto_max);
    }

    /// tcp_schedule_loss_probe: in the open state, with SACK and an RTT sample, probe two
    /// smoothed RTTs after the last send (plus TCP_TIMEOUT_MIN_US, or the minimum RTO when one
    /// segment is out, to ride out a delayed ACK), in jiffies on the timer wheel as the RTO;
    /// never later than the RTO would fire. Not while anything is SACKed: Linux is then in its
    /// Disorder state, where RACK's timer, not a probe, deals with the hole.
    pub(super) fn schedule_loss_probe(&mut self, now: SimTime) {
        self.tlp_deadline = PackedOption::NONE;
        if self.cfg.early_retrans < 3
            || !self.cfg.sack
            || self.recovery != CaState::Open
            || !self.sacked.is_empty()
            || self.tlp_high_seq.is_some()
            || self.snd_una >= self.snd_nxt
        {
            return;
        }
        let Some(srtt) = self.srtt.get() else { return };
        let one_out = self.snd_nxt - self.snd_una <= self.mss;
        let extra = if one_out { self.cfg.rto_min } else { LINUX_TIMEOUT_MIN };
        let pto = linux_timer_expiry(now, SimDuration(2 * srtt.0) + extra, self.cfg.timer_hz);
        self.tlp_deadline = PackedOption::some(match self.rto_deadline.get() {
            Some(rto) => pto.min(rto),
            None => pto,
        });
    }

    /// tcp_send_loss_probe: new data if the window allows, else the last segment again; then
    /// the RTO runs from now. One probe until an ACK covers what it probed.
    pub(super) fn send_loss_probe(&mut self, now: SimTime, out: &mut Outbox) {
        self.tlp_deadline = PackedOption::NONE;
        if self.snd_una >= self.snd_nxt || self.recovery != CaState::Open {
            return;
        }
        let before = self.snd_nxt;
        if self.snd_nxt < self.write_end {
            let len = self.send_mss().min(self.write_end - self.snd_nxt);
            if self.snd_nxt + len <= self.snd_una + self.snd_wnd {
                self.emit_data(now, self.snd_nxt, len, false, out);
                self.snd_nxt += len;
            }
        }
        if self.snd_nxt == before {
            let len = (self.snd_nxt - self.snd_una).min(self.send_mss());
            self.emit_data(now, self.snd_nxt - len, len, true, out);
        }
        self.stats.loss_probes += 1;
        out.notes.push(Note::LossProbe);
        self.tlp_high_seq = PackedOption::some(self.snd_nxt);
        self.arm_rto(now);
    }

    /// RACK's reordering window (RFC 8985 section 6.2, Linux's tcp_rack_detect_loss): a hole
    /// below SACKed data that the duplicate-ACK rule cannot call lost yet (too few segments
    /// behind it) is lost once a reordering window, a quarter RTT, has passed since data sent
    /// after it was delivered: at once if the newest SACKed data left a window or more after
    /// the hole (a loss probe's, say), else when what is left of the window has passed. Linux
    /// (tcp_rack_mark_lost) arms a timer for what is left plus TCP_TIMEOUT_MIN_US, in jiffies on
    /// the wheel: 4-8 ms at HZ=250 with a short RTT. True: the hole is lost now. Linux rearms on
    /// each ACK; nitrosim keeps the first deadline, or calls the hole lost on a later ACK.
    pub(super) fn rack_lost_now(&mut self, now: SimTime) -> bool {
        // The highest SACKed range: the holes are below its start; its end is the newest data.
        let Some(&(top, newest_end)) = self.sacked.last() else {
            self.rack_deadline = PackedOption::NONE;
            return false;
        };
        // The first byte neither SACKed nor already called lost (holes below `rack_lost_below`
        // are, and that mark sits at the start of a SACKed range).
        let mut hole = self.rack_lost_below.max(self.snd_una);
        for &(start, end) in &self.sacked {
            if start <= hole && hole < end {
                hole = end;
            }
        }
        if top <= hole {
            // Every hole below the SACKed data is known lost already: in the open state (a
            // recovery ended above them) that starts recovery, as Linux's lost_out > 0 does
            // (tcp_time_to_recover); nothing else would resend them before the RTO.
            return self.recovery == CaState::Open && self.rack_lost_below > self.snd_una;
        }
        let reo_wnd = SimDuration(self.srtt.get().map_or(0, |s| s.0 / 4));
        // RACK.rtt + reo_wnd - (now - the hole's send), RACK.rtt being now - the newest SACKed
        // data's send: the window less how long after the hole that data left.
        let after = match (self.sent.sent_at(hole), self.sent.sent_at(newest_end - 1)) {
            (Some(h), Some(t)) => t.since(h.min(t)),
            _ => SimDuration::ZERO,
        };
        if after >= reo_wnd && after > SimDuration::ZERO {
            return true;
        }
        if self.rack_deadline.is_none() {
            let left = SimDuration(reo_wnd.0 - after.0);
            self.rack_deadline =
                PackedOption::some(linux_timer_expiry(now, left + LINUX_TIMEOUT_MIN, self.cfg.timer_hz));
            // Linux's Disorder state: no loss probe while RACK's timer stands for the hole.
            self.tlp_deadline = PackedOption::NONE;
        }
        false
    }

    pub(super) fn on_rack_timeout(&mut self, now: SimTime, out: &mut Outbox) {
        self.rack_deadline = PackedOption::NONE;
        let Some(&(top, _)) = self.sacked.last() else { return };
        self.rack_lost_below = self.rack_lost_below.max(top);
        if self.recovery == CaState::Open && self.snd_una < self.snd_nxt {
            self.enter_recovery(now, out);
        }
    }

    /// Fire whatever is due: delayed ACK, RACK reordering window, loss probe, RTO (with
    /// `tcp_write_timeout`'s give-up and black-hole checks, then the backoff).
    pub(super) fn on_timers_due(&mut self, now: SimTime, out: &mut Outbox) {
        if let Some(d) = self.delack_deadline.get()
            && now >= d
        {
            // A delayed ACK that had to fire: the reply did not come in time (Linux leaves
            // pingpong mode here).
            self.pingpong = false;
            self.emit_ack(now, out);
        }
        if let Some(d) = self.rack_deadline.get()
            && now >= d
        {
            self.on_rack_timeout(now, out);
            self.push(now, out);
        }
        if let Some(d) = self.tlp_deadline.get()
            && now >= d
            && !self.aborted()
        {
            self.send_loss_probe(now, out);
        }
        let Some(deadline) = self.rto_deadline.get() else { return };
        if now < deadline || self.aborted() {
            return;
        }
        self.tlp_deadline = PackedOption::NONE;
        if self.state == State::SynSent && self.backoff >= self.cfg.syn_retries + self.cfg.syn_linear_timeouts {
            // tcp_write_timeout in SYN_SENT: icsk_retransmits >= syn_retries (+ linear ones).
            self.abort(AbortReason::SynRetries, out);
            return;
        }
        if self.state == State::Established && self.snd_una < self.snd_nxt {
            // tcp_write_timeout, before this retransmission: measured from the first
            // retransmission (retrans_stamp); before there was one, nothing has timed out.
            let elapsed = self.retrans_stamp.get().map(|stamp| now.since(stamp));
            let timed_out = |n: u32| elapsed.is_some_and(|e| e >= model_timeout(n, self.cfg.rto_min, self.cfg.rto_max));
            if timed_out(self.cfg.retries2) {
                self.abort(AbortReason::Retries2, out);
                return;
            }
            if timed_out(self.cfg.retries1) {
                self.black_hole_detected(out);
            }
            if self.mtup.probe.is_some() {
                self.probe_failed(out);
            }
        }
        self.stats.rtos += 1;
        self.backoff += 1;
        self.stats.max_backoff = self.stats.max_backoff.max(self.backoff);
        // Exponential backoff (RFC 6298 5.5), capped at rto_max; a SYN's first
        // tcp_syn_linear_timeouts retransmissions keep the initial RTO (tcp_retransmit_timer).
        let linear = self.state == State::SynSent && self.backoff <= self.cfg.syn_linear_timeouts;
        if !linear {
            self.rto = SimDuration(self.rto.0.saturating_mul(2)).min(self.cfg.rto_max);
        }
        out.notes.push(Note::Rto { backoff: self.backoff, rto: self.rto });
        self.arm_rto(now);
        if self.state == State::SynSent {
            let mut syn = self.syn_segment(now, SegKind::Syn);
            syn.retransmit = true;
            self.stats.segments_sent += 1;
            self.stats.retransmits += 1;
            out.segments.push(syn);
            self.syn_sent_at = now;
            return;
        }
        if self.snd_una >= self.snd_nxt {
            self.rto_deadline = PackedOption::NONE;
            return;
        }
        let flight = self.pipe();
        self.cc.on_rto(now, &mut self.window, flight);
        // Everything outstanding and not SACKed is now lost (Linux's Loss state).
        self.recovery = CaState::Loss;
        self.recover = self.snd_nxt;
        self.rtx_next = self.snd_una;
        self.rtx_log.clear();
        self.rack_rtx_delivered = PackedOption::NONE;
        self.rack_deadline = PackedOption::NONE;
        self.dupacks = 0;
        self.push(now, out);
    }
}
