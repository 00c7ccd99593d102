//! Congestion control for host TCP: a small trait whose hooks take `now`, with no-op defaults,
//! chosen through an enum. Windows are in bytes; all arithmetic is integer.

use crate::units::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// Congestion window state shared by loss recovery (in `tcp`) and the controller.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub cwnd: u64,
    pub ssthresh: u64,
    pub mss: u64,
    /// The sender's `snd_nxt` and, during `on_ack`, the new `snd_una`: HyStart's rounds.
    pub snd_nxt: u64,
    pub snd_una: u64,
}

impl Window {
    pub fn in_slow_start(&self) -> bool {
        self.cwnd < self.ssthresh
    }
}

pub trait Controller {
    /// `acked` new bytes were cumulatively acknowledged outside loss recovery.
    fn on_ack(&mut self, _now: SimTime, _w: &mut Window, _acked: u64, _rtt: Option<SimDuration>) {}
    /// A loss was detected by duplicate ACKs or ECN: set `ssthresh` (recovery sets `cwnd`).
    fn on_congestion(&mut self, _now: SimTime, _w: &mut Window, _flight: u64) {}
    /// The retransmission timer fired.
    fn on_rto(&mut self, now: SimTime, w: &mut Window, flight: u64) {
        self.on_congestion(now, w, flight);
        // RFC 5681 section 3.1: after an RTO, cwnd is one segment (the loss window).
        w.cwnd = w.mss;
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CongestionKind {
    NewReno,
    /// Linux's default since 2.6.19 (RFC 9438).
    #[default]
    Cubic,
}

#[derive(Clone, Debug)]
pub enum Congestion {
    NewReno(NewReno),
    Cubic(Cubic),
}

impl Congestion {
    /// `hystart`: CUBIC's slow-start exit (Linux `tcp_cubic` module parameter `hystart`).
    pub fn new(kind: CongestionKind, hystart: bool) -> Self {
        match kind {
            CongestionKind::NewReno => Congestion::NewReno(NewReno::default()),
            CongestionKind::Cubic => Congestion::Cubic(Cubic { hystart: HyStart::new(hystart), ..Cubic::default() }),
        }
    }
}

impl Controller for Congestion {
    fn on_ack(&mut self, now: SimTime, w: &mut Window, acked: u64, rtt: Option<SimDuration>) {
        match self {
            Congestion::NewReno(c) => c.on_ack(now, w, acked, rtt),
            Congestion::Cubic(c) => c.on_ack(now, w, acked, rtt),
        }
    }
    fn on_congestion(&mut self, now: SimTime, w: &mut Window, flight: u64) {
        match self {
            Congestion::NewReno(c) => c.on_congestion(now, w, flight),
            Congestion::Cubic(c) => c.on_congestion(now, w, flight),
        }
    }
    fn on_rto(&mut self, now: SimTime, w: &mut Window, flight: u64) {
        match self {
            Congestion::NewReno(c) => c.on_rto(now, w, flight),
            Congestion::Cubic(c) => c.on_rto(now, w, flight),
        }
    }
}

/// RFC 5681 slow start: grow by the bytes acknowledged (appropriate byte counting, RFC 3465),
/// at most up to ssthresh. Returns the bytes left over for congestion avoidance.
fn slow_start(w: &mut Window, acked: u64) -> u64 {
    if !w.in_slow_start() {
        return acked;
    }
    let room = w.ssthresh - w.cwnd;
    let grow = acked.min(room);
    w.cwnd += grow;
    acked - grow
}

/// NewReno (RFC 5681 / RFC 6582): additive increase of one MSS per window, halve on loss.
#[derive(Clone, Debug, Default)]
pub struct NewReno {
    acked_accumulator: u64,
}

impl Controller for NewReno {
    fn on_ack(&mut self, _now: SimTime, w: &mut Window, acked: u64, _rtt: Option<SimDuration>) {
        let rest = slow_start(w, acked);
        self.acked_accumulator += rest;
        while self.acked_accumulator >= w.cwnd {
            self.acked_accumulator -= w.cwnd;
            w.cwnd += w.mss;
        }
    }
    fn on_congestion(&mut self, _now: SimTime, w: &mut Window, flight: u64) {
        // RFC 5681 equation (4): ssthresh = max(FlightSize / 2, 2 * SMSS).
        w.ssthresh = (flight / 2).max(2 * w.mss);
        self.acked_accumulator = 0;
    }
}

/// CUBIC (RFC 9438) in integer arithmetic: C = 0.4, beta = 0.7, fast convergence and the
/// Reno-friendly region. Time is kept in microseconds inside the cubic (as Linux keeps jiffies).
#[derive(Clone, Debug, Default)]
pub struct Cubic {
    hystart: HyStart,
    w_max: u64,
    epoch_start: Option<SimTime>,
    k_us: u64,
    w_est: u64,
    origin: u64,
    last_w_max: u64,
}

/// Integer cube root (floor), Newton's method on u128.
pub fn icbrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    let mut x: u128 = 1u128 << (128 - n.leading_zeros()).div_ceil(3);
    loop {
        let y = (2 * x + n / (x * x)) / 3;
        if y >= x {
            break;
        }
        x = y;
    }
    while (x + 1) * (x + 1) * (x + 1) <= n {
        x += 1;
    }
    while x * x * x > n {
        x -= 1;
    }
    x
}

impl Cubic {
    /// W_cubic(t) in bytes, t in microseconds since the epoch (RFC 9438 equation 1).
    fn w_cubic(&self, t_us: u64, mss: u64) -> u64 {
        let d = t_us as i128 - self.k_us as i128;
        // C = 0.4 segment/s^3 = 2 * mss / (5 * 10^18) bytes/us^3.
        let delta = 2 * mss as i128 * d * d * d / 5_000_000_000_000_000_000i128;
        (self.origin as i128 + delta).max(mss as i128) as u64
    }
}

/// Linux `hystart_low_window`: HyStart acts only from 16 segments of window.
const HYSTART_LOW_WINDOW_SEGMENTS: u64 = 16;
/// Linux `hystart_ack_delta_us`: ACKs closer than 2 ms belong to one train.
const HYSTART_ACK_DELTA_US: u64 = 2000;
/// Linux `HYSTART_MIN_SAMPLES`: RTT samples per round before the delay test.
const HYSTART_MIN_SAMPLES: u32 = 8;
/// Linux `HYSTART_DELAY_THRESH`: delay_min / 8, clamped to 4..16 ms.
const HYSTART_DELAY_MIN_US: u64 = 4000;
const HYSTART_DELAY_MAX_US: u64 = 16000;
/// Linux `hystart_ack_delay`: GSO bursts of up to 64 KiB, 4 of them, at the pacing rate; at most 1 ms.
const HYSTART_GSO_BYTES: u64 = 65_536;

/// HyStart as Linux's CUBIC runs it (tcp_cubic.c, both detectors on): a round lasts until
/// `snd_nxt` at its start is acknowledged; slow start ends (ssthresh = cwnd) when a train of
/// closely spaced ACKs spans more than half the minimum RTT, or when the smallest of a round's
/// first 8 RTT samples exceeds the minimum by delay_min/8 (4..16 ms).
#[derive(Clone, Debug, Default)]
pub struct HyStart {
    enabled: bool,
    found: bool,
    round_start_us: u64,
    last_ack_us: u64,
    end_seq: u64,
    curr_rtt_us: u64,
    sample_cnt: u32,
    delay_min_us: u64,
}

impl HyStart {
    fn new(enabled: bool) -> Self {
        HyStart { enabled, ..HyStart::default() }
    }

    fn reset_round(&mut self, now_us: u64, w: &Window) {
        self.round_start_us = now_us;
        self.last_ack_us = now_us;
        self.end_seq = w.snd_nxt;
        self.curr_rtt_us = u64::MAX;
        self.sample_cnt = 0;
    }

    /// cubictcp_acked + hystart_update: one ACK with an RTT sample.
    fn on_rtt(&mut self, now_us: u64, w: &mut Window, rtt: SimDuration) {
        let delay = (rtt.ps() / 1_000_000).max(1);
        if self.delay_min_us == 0 || delay < self.delay_min_us {
            self.delay_min_us = delay;
        }
        if !self.enabled || self.found || !w.in_slow_start() || w.cwnd < HYSTART_LOW_WINDOW_SEGMENTS * w.mss {
            return;
        }
        if now_us.saturating_sub(self.last_ack_us) <= HYSTART_ACK_DELTA_US {
            self.last_ack_us = now_us;
            // Pacing at twice the window per RTT in slow start (tcp_update_pacing_rate).
            let rate_bytes_per_s = (2 * w.cwnd * 1_000_000 / self.delay_min_us.max(1)).max(1);
            let ack_delay_us = (4 * HYSTART_GSO_BYTES * 1_000_000 / rate_bytes_per_s).min(1000);
            // Without fq's pacing (SK_PACING_NONE, the default qdisc) Linux halves the threshold.
            let threshold = (self.delay_min_us + ack_delay_us) / 2;
            if now_us - self.round_start_us > threshold {
                self.found = true;
                w.ssthresh = w.cwnd;
                return;
            }
        }
        self.curr_rtt_us = self.curr_rtt_us.min(delay);
        if self.sample_cnt < HYSTART_MIN_SAMPLES {
            self.sample_cnt += 1;
        } else {
            let thresh = (self.delay_min_us / 8).clamp(HYSTART_DELAY_MIN_US, HYSTART_DELAY_MAX_US);
            if self.curr_rtt_us > self.delay_min_us + thresh {
                self.found = true;
                w.ssthresh = w.cwnd;
            }
        }
    }
}

impl Controller for Cubic {
    fn on_ack(&mut self, now: SimTime, w: &mut Window, acked: u64, rtt: Option<SimDuration>) {
        let now_us = now.ps() / 1_000_000;
        if let Some(r) = rtt {
            self.hystart.on_rtt(now_us, w, r);
        }
        // bictcp_cong_avoid: a new round once the previous one's data is acknowledged.
        if w.in_slow_start() && w.snd_una > self.hystart.end_seq {
            self.hystart.reset_round(now_us, w);
        }
        let rest = slow_start(w, acked);
        if rest == 0 {
            return;
        }
        let epoch = *self.epoch_start.get_or_insert_with(|| {
            // A new epoch without a prior loss: grow from the current window (RFC 9438 4.2).
            self.k_us = 0;
            self.origin = w.cwnd.max(self.w_max);
            if self.w_max > w.cwnd {
                let diff = (self.w_max - w.cwnd) as u128;
                self.k_us = icbrt(diff * 5_000_000_000_000_000_000 / (2 * w.mss as u128)) as u64;
            }
            self.w_est = w.cwnd;
            now
        });
        let rtt_us = rtt.map(|r| r.ps() / 1_000_000).unwrap_or(0);
        let t_us = now.since(epoch).ps() / 1_000_000 + rtt_us;
        let target = self.w_cubic(t_us, w.mss);
        // Reno-friendly estimate: alpha = 3(1-beta)/(1+beta) = 9/17 segments per window.
        self.w_est += rest * w.mss * 9 / 17 / w.cwnd.max(1);
        let target = target.max(self.w_est);
        let mut inc = if target > w.cwnd {
            // cwnd grows by (target - cwnd) / cwnd per MSS acknowledged.
            ((target - w.cwnd) * rest / w.cwnd.max(1)).max(1)
        } else {
            // Above the curve: creep up by one MSS per 100 windows, as Linux does (cnt = 100 * cwnd).
            w.mss * rest / (100 * w.cwnd.max(1))
        };
        if self.w_max == 0 {
            // No loss yet (slow start left by HyStart): the bandwidth is still unknown and the
            // cubic from the current window too timid, so Linux grows at least one segment per
            // 20 acknowledged, 5% per round trip (bictcp_update: `last_max_cwnd == 0 && cnt > 20`).
            inc = inc.max(rest / 20);
        }
        // At most one segment per two acknowledged: 1.5x per round trip (`cnt >= 2`).
        w.cwnd += inc.min(rest / 2 + 1);
    }

    fn on_congestion(&mut self, _now: SimTime, w: &mut Window, _flight: u64) {
        let cwnd = w.cwnd;
        // Fast convergence (RFC 9438 4.7).
        self.w_max = if cwnd < self.last_w_max { cwnd * 17 / 20 } else { cwnd };
        self.last_w_max = cwnd;
        // beta_cubic = 0.7 (RFC 9438 4.6).
        w.ssthresh = (cwnd * 7 / 10).max(2 * w.mss);
        self.epoch_start = None;
    }

    fn on_rto(&mut self, now: SimTime, w: &mut Window, flight: u64) {
        self.on_congestion(now, w, flight);
        w.cwnd = w.mss;
        // cubictcp_state(TCP_CA_Loss): bictcp_reset + bictcp_hystart_reset, HyStart may act again.
        self.hystart.found = false;
        self.hystart.reset_round(now.ps() / 1_000_000, w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_root_is_exact() {
        for n in [0u128, 1, 7, 8, 9, 26, 27, 28, 1_000_000, 999_999, u64::MAX as u128] {
            let r = icbrt(n);
            assert!(r * r * r <= n && (r + 1) * (r + 1) * (r + 1) > n, "{n} -> {r}");
        }
    }

    #[test]
    fn newreno_halves_and_grows_one_mss_per_window() {
        let mut w = Window { cwnd: 100_000, ssthresh: 50_000, mss: 1000, snd_nxt: 0, snd_una: 0 };
        let mut c = NewReno::default();
        c.on_ack(SimTime(0), &mut w, 100_000, None);
        assert_eq!(w.cwnd, 101_000);
        c.on_congestion(SimTime(0), &mut w, 80_000);
        assert_eq!(w.ssthresh, 40_000);
    }

    /// Slow start over a 100 Mbit/s bottleneck with a 40 ms RTT: each round's ACKs come one
    /// segment's serialisation (115.84 us) apart. Returns ssthresh in segments after 12 rounds.
    fn slow_start_exit(hystart: bool) -> u64 {
        let mss = 1448;
        let mut w = Window { cwnd: 10 * mss, ssthresh: u64::MAX, mss, snd_nxt: 0, snd_una: 0 };
        let mut c = Congestion::new(CongestionKind::Cubic, hystart);
        let rtt = SimDuration::from_ms(40);
        let gap = SimDuration(115_840_000);
        let (mut now, mut acked) = (SimTime(0), 0u64);
        for _ in 0..12 {
            let start = now;
            w.snd_nxt = acked + w.cwnd;
            for _ in 0..w.cwnd / mss {
                now += gap;
                acked += mss;
                w.snd_una = acked;
                c.on_ack(now, &mut w, mss, Some(rtt));
            }
            now = now.max(start + rtt);
        }
        w.ssthresh.checked_div(mss).unwrap_or(0)
    }

    #[test]
    fn hystart_leaves_slow_start_when_an_ack_train_spans_half_the_rtt() {
        // Rounds of 10, 20, 40 ... segments. The 160-segment round's train lasts 18.5 ms, under
        // (delay_min + ack delay) / 2 = (40 + ~0.8) / 2 ms; the 320-segment round's passes it
        // after ~176 ACKs, when cwnd = 320 + 176: ssthresh = cwnd there (Linux tcp_cubic.c).
        let exit = slow_start_exit(true);
        assert!((490..=500).contains(&exit), "HyStart exit at {exit} segments");
        // Switched off (tcp.hystart = false), slow start runs until a loss.
        assert_eq!(slow_start_exit(false), u64::MAX / 1448);
    }

    #[test]
    fn cubic_recovers_towards_w_max_concavely() {
        let mss = 1000;
        // 10 000 segments: large enough that the cubic, not the Reno-friendly line, drives growth.
        let mut w = Window { cwnd: 10_000_000, ssthresh: u64::MAX, mss, snd_nxt: 0, snd_una: 0 };
        let mut c = Cubic::default();
        c.on_congestion(SimTime(0), &mut w, 10_000_000);
        assert_eq!(w.ssthresh, 7_000_000);
        w.cwnd = w.ssthresh;
        let rtt = SimDuration::from_ms(100);
        let mut now = SimTime(0);
        let mut grew = Vec::new();
        for _ in 0..400 {
            now += rtt;
            let before = w.cwnd;
            let acked = w.cwnd;
            c.on_ack(now, &mut w, acked, Some(rtt));
            grew.push(w.cwnd - before);
        }
        // It passes W_max eventually, and growth slows near W_max (the plateau).
        assert!(w.cwnd > 10_000_000, "cwnd {}", w.cwnd);
        assert!(grew[1] > grew[25], "{:?}", &grew[..30]);
    }

    #[test]
    fn without_a_loss_cubic_grows_five_percent_per_round_trip() {
        // Slow start left by HyStart at 50 segments, no loss: Linux's bictcp_update caps cnt at
        // 20 (one segment per 20 acknowledged) while last_max_cwnd is 0.
        let mss = 1448;
        let mut w = Window { cwnd: 50 * mss, ssthresh: 50 * mss, mss, snd_nxt: 0, snd_una: 0 };
        let mut c = Cubic::default();
        let rtt = SimDuration::from_ms(3);
        let mut now = SimTime(0);
        for _ in 0..10 {
            let before = w.cwnd;
            for _ in 0..before / mss {
                now += SimDuration(rtt.0 / (before / mss));
                c.on_ack(now, &mut w, mss, Some(rtt));
            }
            assert!(w.cwnd >= before + before / 20 - mss, "{} -> {}", before, w.cwnd);
            assert!(w.cwnd <= before + before / 10, "{} -> {}", before, w.cwnd);
        }
    }
}
