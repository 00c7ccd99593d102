//! The sending half of an SRD connection: spraying over paths with a pluggable policy, the
//! RTT-driven window and pacing, per-packet retransmission timers and the give-up after
//! `max_retries`. Randomness (the `Random` policy's draws) comes from a generator the caller
//! hands in (any `rand::Rng`; the model gives each connection its own seeded stream), so the
//! transport depends on no engine type, as it gets its time from the caller.

use super::inline_deque::InlineDeque;
use super::{PathPolicy, SrdAck, SrdConfig, Transmission};
use crate::units::{SimDuration, SimTime};
use rand::{Rng, RngExt};
use serde::Serialize;

#[derive(Debug)]
pub struct SenderOut<P> {
    pub transmit: Vec<Transmission<P>>,
    /// Payloads SRD gave up on (or could not queue): lost for the host.
    pub gave_up: Vec<P>,
    /// Payloads the sender holds no longer: acknowledged, or given up on (those also in
    /// `gave_up`, now or in an earlier call). A caller whose payloads are handles frees them here;
    /// one it could not queue appears in `gave_up` only.
    pub released: Vec<P>,
}

impl<P> Default for SenderOut<P> {
    fn default() -> Self {
        SenderOut { transmit: Vec::new(), gave_up: Vec::new(), released: Vec::new() }
    }
}

impl<P> SenderOut<P> {
    pub fn clear(&mut self) {
        self.transmit.clear();
        self.gave_up.clear();
        self.released.clear();
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct SrdStats {
    pub packets: u64,
    /// ACKs that echoed Congestion Experienced.
    pub ecn_marks: u64,
    pub retransmits: u64,
    pub timeouts: u64,
    pub gave_up: u64,
    pub send_queue_drops: u64,
    pub max_window_bytes: u64,
    pub min_window_bytes: u64,
}

/// 16 bytes: a connection has up to 256 paths (128 in the large benches) and choosing one reads 8
/// of them, so their size is much of SRD's memory and cache footprint at scale. (Hold-downs,
/// rare, are kept apart: [`SrdSender::holddown_until`].)
#[derive(Clone, Copy, Debug)]
struct PathState {
    /// Smoothed RTT in picoseconds, [`NO_RTT`] before the first sample.
    srtt_ps: u64,
    inflight: u32,
    /// Fraction of recent ACKs echoing CE, in 1/1024 (an EWMA with gain 1/8).
    ce_frac: u16,
    /// A packet has been sent on it.
    used: bool,
}

const _: () = assert!(std::mem::size_of::<PathState>() == 16);

/// A path's smoothed RTT before any sample.
const NO_RTT: u64 = u64::MAX;

impl PathState {
    fn srtt(&self) -> Option<SimDuration> {
        (self.srtt_ps != NO_RTT).then_some(SimDuration(self.srtt_ps))
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Slot<P> {
    payload: P,
    bytes: u32,
    sent_at: SimTime,
    path: u16,
    transmissions: u32,
    done: bool,
}

/// Packets in flight a connection holds in its own lines (24 bytes each with the model's 4-byte
/// payload handles); more spill to the heap. 16: the 1024-host permutation bench's senders never
/// held more (their buffers' capacities were 8 or 16 at the end of a run, `docs/performance.md`).
const SLOTS_INLINE: usize = 16;
/// Deadlines held in its own lines (24 bytes each): one per packet in flight, as a rule.
const DEADLINES_INLINE: usize = 16;
/// Packets waiting for the window held in its own lines (8 bytes each with 4-byte handles).
const WAITING_INLINE: usize = 8;

/// The sending half of one SRD connection (one direction between two Nitro cards). Laid out
/// (`repr(C)`) with its three queues last, so that a caller prefetching the connection's state
/// can stop before them ([`Self::STATE_BYTES`]): [`Self::prefetch_send`] asks for their ends.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct SrdSender<P, R> {
    cfg: SrdConfig,
    /// This connection's own random stream, handed in by the caller.
    rng: R,
    paths: Vec<PathState>,
    /// Until when each path is held down after a timeout on it; empty until the first one (most
    /// connections never time out, and 8 bytes a path would be a third of their path state).
    holddown_until: Vec<SimTime>,
    next_path: usize,
    una: u64,
    next_seq: u64,
    inflight_bytes: u64,
    window: u64,
    /// Pacing: the next packet may not leave before this time.
    next_tx: SimTime,
    /// The card's line rate, if this connection must not exceed it (0 = no cap).
    max_rate: crate::units::Bandwidth,
    base_rtt: Option<SimDuration>,
    /// The path's RTT with every queue empty, as the fabric's layout gives it (`SimDuration::MAX`
    /// when unknown): the base RTT never exceeds it (see [`Self::set_unloaded_rtt`]).
    unloaded_rtt: SimDuration,
    last_decrease: SimTime,
    stats: SrdStats,
    /// What [`Self::best_rtt`] answers, kept up to date instead of scanning every path per packet
    /// (128 paths are 32 cache lines): exact, rescanned only when it may have grown.
    best: BestRtt,
    /// The latest end of any path's hold-down: from then on every path is usable again, and
    /// choosing one needs no scan of them all.
    holddown_max: SimTime,
    /// Unacknowledged packets by sequence: slot i holds `una + i`.
    slots: InlineDeque<Slot<P>, SLOTS_INLINE>,
    /// (deadline, seq, transmission number), kept sorted by deadline.
    timeline: InlineDeque<(SimTime, u64, u32), DEADLINES_INLINE>,
    waiting: InlineDeque<(P, u32), WAITING_INLINE>,
}

/// The smallest smoothed RTT among the paths not held down, as of the last scan, and what makes
/// it stale: that path's RTT growing, a path held down (`stale`), or a hold-down ending (`until`).
#[derive(Clone, Copy, Debug)]
struct BestRtt {
    rtt: Option<SimDuration>,
    path: usize,
    stale: bool,
    /// The earliest end of a hold-down after the scan: from then on a path may be back.
    until: SimTime,
}

impl<P, R> SrdSender<P, R> {
    /// Bytes from the start up to the queues: what every send, ACK and timer pass reads.
    pub const STATE_BYTES: usize = std::mem::offset_of!(Self, slots);
}

impl<P: Copy + Default, R: Rng> SrdSender<P, R> {
    pub fn new(cfg: SrdConfig, rng: R) -> Self {
        let n = cfg.paths.max(1) as usize;
        let window = cfg.initial_window.0;
        SrdSender {
            paths: vec![PathState { srtt_ps: NO_RTT, inflight: 0, ce_frac: 0, used: false }; n],
            holddown_until: Vec::new(),
            next_path: 0,
            slots: InlineDeque::default(),
            una: 0,
            next_seq: 0,
            waiting: InlineDeque::default(),
            timeline: InlineDeque::default(),
            inflight_bytes: 0,
            window,
            next_tx: SimTime::ZERO,
            max_rate: crate::units::Bandwidth(0),
            base_rtt: None,
            unloaded_rtt: SimDuration(u64::MAX),
            last_decrease: SimTime::ZERO,
            stats: SrdStats { max_window_bytes: window, min_window_bytes: window, ..SrdStats::default() },
            best: BestRtt { rtt: None, path: 0, stale: true, until: SimTime::ZERO },
            holddown_max: SimTime::ZERO,
            rng,
            cfg,
        }
    }

    pub fn stats(&self) -> &SrdStats {
        &self.stats
    }
    /// Never send faster than `rate` (a card's line rate, when nothing else shapes the traffic).
    pub fn set_max_rate(&mut self, rate: crate::units::Bandwidth) {
        self.max_rate = rate;
    }
    /// The RTT of this connection's paths with every queue empty, from the fabric's layout (hop
    /// delays and line times). The base RTT the window judges queueing against is the smaller of
    /// this and the least RTT measured: a connection that opens while a queue stands on its
    /// path (a tree all-reduce's broadcast starting into its reduce traffic) never measures the
    /// true base, so a base from measurement alone puts its target a whole standing queue
    /// higher, and such late-comers keep the queue up (delay-based control's late-comer
    /// problem). Swift takes its target from the hop count for this reason rather than from a
    /// per-flow minimum (Kumar et al., "Swift: Delay is Simple and Effective for Congestion
    /// Control in the Datacenter", SIGCOMM 2020, section 3.2, topology-based scaling).
    pub fn set_unloaded_rtt(&mut self, rtt: SimDuration) {
        self.unloaded_rtt = rtt;
        self.base_rtt = self.base_rtt.map(|b| b.min(rtt));
    }
    /// Packets that may wait for the window. EFA's device queue pushes back on the application
    /// instead of dropping (libfabric returns EAGAIN and the library retries), so EFA connections
    /// get a bound this large rather than a drop.
    pub fn set_send_queue(&mut self, packets: u32) {
        self.cfg.send_queue = packets;
    }
    pub fn window(&self) -> u64 {
        self.window
    }
    pub fn inflight_bytes(&self) -> u64 {
        self.inflight_bytes
    }
    pub fn path_inflight(&self, path: u16) -> u32 {
        self.paths[path as usize].inflight
    }
    /// Whether each path has carried a packet (or a retransmission).
    pub fn paths_used(&self) -> impl Iterator<Item = bool> + '_ {
        self.paths.iter().map(|p| p.used)
    }

    /// The card has a packet from the host for this connection.
    pub fn send(&mut self, now: SimTime, payload: P, bytes: u32, out: &mut SenderOut<P>) {
        if self.waiting.len() >= self.cfg.send_queue as usize {
            self.stats.send_queue_drops += 1;
            out.gave_up.push(payload);
            return;
        }
        self.waiting.push_back((payload, bytes));
        self.pump(now, out);
    }

    /// Send waiting packets while the window allows (at least one when nothing is in flight).
    fn pump(&mut self, now: SimTime, out: &mut SenderOut<P>) {
        while let Some(&(payload, bytes)) = self.waiting.front() {
            if self.inflight_bytes > 0 && self.inflight_bytes + bytes as u64 > self.window {
                break;
            }
            if now < self.next_tx {
                break; // paced: the timer brings us back at `next_tx`
            }
            // Rate = window / RTT of the best path: packets leave spread over the RTT, not in
            // bursts (no pacing before the first RTT sample).
            let by_window = self
                .best_rtt(now)
                .map_or(0, |rtt| (bytes as u128 * rtt.ps() as u128 / self.window.max(1) as u128) as u64);
            let gap = by_window.max(self.max_rate.serialisation(bytes as u64).ps());
            if gap > 0 {
                self.next_tx = now.max(self.next_tx) + SimDuration(gap);
            }
            self.waiting.pop_front();
            let seq = self.next_seq;
            self.next_seq += 1;
            let path = self.pick_path(now, None);
            self.slots.push_back(Slot { payload, bytes, sent_at: now, path, transmissions: 1, done: false });
            self.inflight_bytes += bytes as u64;
            self.transmit(now, seq, path, false, out);
            self.stats.packets += 1;
        }
    }

    fn transmit(&mut self, now: SimTime, seq: u64, path: u16, retransmit: bool, out: &mut SenderOut<P>) {
        let i = (seq - self.una) as usize;
        let slot = &mut self.slots[i];
        slot.path = path;
        slot.sent_at = now;
        let p = &mut self.paths[path as usize];
        p.inflight += 1;
        p.used = true;
        let timeout = self.cfg.retransmit_timeout.max(SimDuration(2 * p.srtt().map_or(0, |s| s.0)));
        let entry = (now + timeout, seq, slot.transmissions);
        // Nearly always an append (deadlines grow with time): check the back before searching.
        if self.timeline.back().is_none_or(|e| e.0 <= entry.0) {
            self.timeline.push_back(entry);
        } else {
            let at = self.timeline.partition_point(|e| e.0 <= entry.0);
            self.timeline.insert(at, entry);
        }
        // `una` may trail the true floor by slots given up in this very timer pass: conservative.
        let floor = self.una;
        debug_assert!(floor <= seq);
        out.transmit.push(Transmission { seq, floor, path, bytes: slot.bytes, retransmit, payload: slot.payload });
    }

    /// Until when path `p` is held down (the past: it is not).
    #[inline]
    fn held_until(&self, p: usize) -> SimTime {
        self.holddown_until.get(p).copied().unwrap_or(SimTime::ZERO)
    }

    fn usable(&self, p: usize, now: SimTime, avoid: Option<u16>) -> bool {
        self.held_until(p) <= now && avoid != Some(p as u16)
    }

    /// Choose a path by policy among those not held down (and not `avoid`); if every path is
    /// excluded, fall back to any path but `avoid`, then to any path.
    fn pick_path(&mut self, now: SimTime, avoid: Option<u16>) -> u16 {
        let n = self.paths.len();
        if n == 1 {
            return 0;
        }
        let mut candidates = if now >= self.holddown_max {
            n - avoid.is_some_and(|a| (a as usize) < n) as usize
        } else {
            (0..n).filter(|&p| self.usable(p, now, avoid)).count()
        };
        debug_assert_eq!(candidates, (0..n).filter(|&p| self.usable(p, now, avoid)).count());
        let strict = candidates > 0;
        if !strict {
            candidates = n;
        }
        let ok = |s: &Self, p: usize| if strict { s.usable(p, now, avoid) } else { avoid != Some(p as u16) || n == 1 };
        let base = self.base_rtt.unwrap_or(SimDuration::ZERO);
        let chosen = match self.cfg.policy {
            PathPolicy::RoundRobin => {
                let mut p = self.next_path;
                for _ in 0..n {
                    if ok(self, p % n) {
                        break;
                    }
                    p += 1;
                }
                self.next_path = (p + 1) % n;
                p % n
            }
            PathPolicy::Random => {
                let k = self.rng.random_range(0..candidates.max(1));
                (0..n).filter(|&p| ok(self, p)).nth(k).unwrap_or(0)
            }
            PathPolicy::LeastRtt => self.least_by(&ok, |s| (s.srtt().unwrap_or(base).ps(), s.inflight as u64)),
            PathPolicy::LeastInflight => self.least_by(&ok, |s| (0, s.inflight as u64)),
            PathPolicy::Adaptive => self.least_by(&ok, |s| {
                // ECN marks make a path look up to five times slower.
                let drain = (s.inflight as u64 + 1).saturating_mul(s.srtt().unwrap_or(base).ps());
                (0, drain.saturating_mul(1024 + 4 * s.ce_frac as u64) / 1024)
            }),
        };
        chosen as u16
    }

    /// The allowed path with the smallest key; ties go to the first after a rotating start, so
    /// equal paths share the load.
    fn least_by<K: Ord>(&mut self, ok: &impl Fn(&Self, usize) -> bool, key: impl Fn(&PathState) -> K) -> usize {
        let n = self.paths.len();
        let start = self.next_path;
        self.next_path = (self.next_path + 1) % n;
        let d = if self.cfg.candidates == 0 { n } else { (self.cfg.candidates as usize).min(n) };
        // The window wraps past the last path once at most (start < n, span <= n): a subtraction,
        // not a division per path looked at.
        let best = |span: usize| {
            (start..start + span)
                .map(|p| if p >= n { p - n } else { p })
                .filter(|&p| ok(self, p))
                .min_by_key(|&p| key(&self.paths[p]))
        };
        // If every candidate is excluded (held down), look at them all.
        best(d).or_else(|| best(n)).unwrap_or(0)
    }

    /// Start loading what [`SrdSender::on_ack`] reads for `ack` besides what
    /// [`SrdSender::prefetch_send`] asks for (its path and its slot), so that the misses overlap
    /// with each other and with the caller's work. A hint only.
    pub fn prefetch_ack(&self, ack: &SrdAck) {
        if let Some(path) = self.paths.get(ack.path as usize) {
            crate::engine::prefetch(path, 1);
        }
        if let Some(slot) = ack.seq.checked_sub(self.una).and_then(|i| self.slots.get(i as usize)) {
            crate::engine::prefetch(slot, 1);
        }
    }

    /// Start loading what every call that may send reads: the heads of the queues (the next
    /// packet waiting, the next deadline), where the next transmission's slot goes, and the
    /// paths the next pick looks at. A hint only.
    pub fn prefetch_send(&self) {
        if let Some(window) = self.paths.get(self.next_pick_window()) {
            crate::engine::prefetch_slice(window);
        }
        if let Some(head) = self.waiting.front() {
            crate::engine::prefetch(head, usize::MAX);
        }
        if let Some(deadline) = self.timeline.front() {
            crate::engine::prefetch(deadline, 1);
        }
        if let Some(last) = self.slots.back() {
            crate::engine::prefetch(last, 1);
        }
    }

    /// The paths the next pick starts from (up to the last path; the rest wrap to path 0): the
    /// caller may prefetch what it keeps per path for them.
    pub fn next_pick_window(&self) -> std::ops::Range<usize> {
        let n = self.paths.len();
        let d = if self.cfg.candidates == 0 { n } else { (self.cfg.candidates as usize).min(n) };
        self.next_path..(self.next_path + d).min(n)
    }

    pub fn on_ack(&mut self, now: SimTime, ack: SrdAck, out: &mut SenderOut<P>) {
        let path = &mut self.paths[ack.path as usize];
        path.ce_frac = (7 * path.ce_frac + if ack.ce { 1024 } else { 0 }) / 8;
        self.stats.ecn_marks += ack.ce as u64;
        let rtt = now.since(ack.sent_at);
        let srtt = match path.srtt() {
            None => rtt,
            Some(s) => SimDuration((7 * s.0 + rtt.0) / 8),
        };
        assert!(srtt.0 != NO_RTT, "an RTT of 2^64 ps");
        path.srtt_ps = srtt.0;
        // Keep the best RTT exact: a path in the scanned set (not held down) changed.
        let k = ack.path as usize;
        if self.held_until(k) <= now {
            match self.best.rtt {
                Some(b) if k == self.best.path && srtt > b => self.best.stale = true,
                Some(b) if srtt > b => {}
                _ => self.best = BestRtt { rtt: Some(srtt), path: k, ..self.best },
            }
        }
        self.base_rtt = Some(self.base_rtt.map_or(rtt, |b| b.min(rtt)).min(self.unloaded_rtt));
        if ack.seq >= self.una && ack.seq < self.next_seq {
            let i = (ack.seq - self.una) as usize;
            if !self.slots[i].done {
                self.slots[i].done = true;
                self.inflight_bytes -= self.slots[i].bytes as u64;
                // The latest transmission leaves its path; earlier ones left at their timeout.
                let p = &mut self.paths[self.slots[i].path as usize];
                p.inflight = p.inflight.saturating_sub(1);
                self.adjust_window(now, rtt, ack.ce);
            }
        }
        self.advance(out);
        self.prune_timeline();
        self.pump(now, out);
    }

    /// Delay-based window (in the spirit of SRD's RTT-driven rate control): additive increase
    /// while the RTT is within `target_queueing` of the base RTT, otherwise a decrease in
    /// proportion to the excess, at most once per RTT. The RTT judged is that of the best path
    /// in use: congestion on some paths is for path selection to route around; only when even
    /// the best path is slow is the bottleneck shared (the receiver, or every path), and then
    /// the connection itself must slow down.
    fn adjust_window(&mut self, now: SimTime, sample: SimDuration, ce: bool) {
        let base = self.base_rtt.unwrap_or(sample);
        let target = base + self.cfg.target_queueing;
        // The best path is at least as fast as this sample: only a slow sample needs the scan.
        let rtt = if sample <= target { sample } else { self.best_rtt(now).unwrap_or(sample) };
        let mtu = 9000u64;
        if ce {
            // Congestion Experienced: back off by an eighth, at most once per RTT.
            if now.since(self.last_decrease) >= base {
                self.window -= self.window / 8;
                self.last_decrease = now;
            }
        } else if rtt <= target {
            self.window += (mtu * mtu / self.window.max(1)).max(1);
        } else if now.since(self.last_decrease) >= base {
            let excess = (rtt.0 - target.0) as u128;
            // Cut by excess/rtt, at most by half.
            let cut = (self.window as u128 * excess / rtt.0.max(1) as u128).min(self.window as u128 / 2) as u64;
            self.window -= cut;
            self.last_decrease = now;
        }
        self.window = self.window.clamp(self.min_window(), self.cfg.max_window.0.max(mtu));
        self.stats.max_window_bytes = self.stats.max_window_bytes.max(self.window);
        self.stats.min_window_bytes = self.stats.min_window_bytes.min(self.window);
    }

    fn min_window(&self) -> u64 {
        self.cfg.min_window.0.max(9000)
    }

    fn advance(&mut self, out: &mut SenderOut<P>) {
        while let Some(slot) = self.slots.front().filter(|s| s.done) {
            out.released.push(slot.payload);
            self.slots.pop_front();
            self.una += 1;
        }
    }

    pub fn poll_at(&self) -> Option<SimTime> {
        // Wake for pacing only when the window would let the next packet go: otherwise an ACK
        // opens the window and pumps.
        let window_open =
            |&&(_, b): &&(P, u32)| self.inflight_bytes == 0 || self.inflight_bytes + b as u64 <= self.window;
        let pacing = self.waiting.front().filter(window_open).map(|_| self.next_tx);
        [self.timeline.front().map(|t| t.0), pacing].into_iter().flatten().min()
    }

    /// The smallest smoothed RTT among the paths not held down.
    fn best_rtt(&mut self, now: SimTime) -> Option<SimDuration> {
        if self.best.stale || now >= self.best.until {
            let mut best = BestRtt { rtt: None, path: 0, stale: false, until: SimTime(u64::MAX) };
            for (k, p) in self.paths.iter().enumerate() {
                let held = self.held_until(k);
                if held > now {
                    best.until = best.until.min(held);
                } else if let Some(s) = p.srtt()
                    && best.rtt.is_none_or(|b| s < b)
                {
                    (best.rtt, best.path) = (Some(s), k);
                }
            }
            self.best = best;
        }
        debug_assert_eq!(
            self.best.rtt,
            (self.paths.iter().enumerate())
                .filter(|&(k, _)| self.held_until(k) <= now)
                .filter_map(|(_, p)| p.srtt())
                .min()
        );
        self.best.rtt
    }

    pub fn on_timer(&mut self, now: SimTime, out: &mut SenderOut<P>) {
        while let Some(&(deadline, seq, nth)) = self.timeline.front() {
            if deadline > now {
                break;
            }
            self.timeline.pop_front();
            if seq < self.una {
                continue;
            }
            let i = (seq - self.una) as usize;
            let slot = self.slots[i];
            if slot.done || slot.transmissions != nth {
                continue; // acknowledged, or superseded by a later retransmission
            }
            self.stats.timeouts += 1;
            let old = slot.path;
            let p = &mut self.paths[old as usize];
            p.inflight = p.inflight.saturating_sub(1);
            if self.holddown_until.is_empty() {
                self.holddown_until = vec![SimTime::ZERO; self.paths.len()];
            }
            let until = now + self.cfg.path_holddown;
            self.holddown_until[old as usize] = until;
            self.holddown_max = self.holddown_max.max(until);
            self.best.stale = true;
            if now.since(self.last_decrease) >= self.base_rtt.unwrap_or(SimDuration::ZERO) {
                self.window = (self.window / 2).max(self.min_window());
                self.stats.min_window_bytes = self.stats.min_window_bytes.min(self.window);
                self.last_decrease = now;
            }
            if slot.transmissions > self.cfg.max_retries {
                self.slots[i].done = true;
                self.inflight_bytes -= slot.bytes as u64;
                self.stats.gave_up += 1;
                out.gave_up.push(slot.payload);
                continue;
            }
            self.slots[i].transmissions += 1;
            let path = self.pick_path(now, Some(old));
            self.stats.retransmits += 1;
            self.transmit(now, seq, path, true, out);
        }
        self.advance(out);
        self.prune_timeline();
        self.pump(now, out);
    }

    /// Drop the timeline's leading deadlines that can no longer fire (their packet acknowledged
    /// or given up on, or sent again since), so that [`Self::poll_at`] names the earliest live
    /// one: otherwise the caller's timer wakes at each acknowledged packet's old deadline, one
    /// wake per packet sent, to do nothing (SRD's timer events were 4.8% of the permutation
    /// bench's events, each reading the sender's state, a few pages, at scale). Dead deadlines
    /// behind a live one stay until it leaves the front; [`Self::on_timer`] skips any it meets,
    /// so when each packet is retransmitted is unchanged.
    fn prune_timeline(&mut self) {
        while let Some(&(_, seq, nth)) = self.timeline.front() {
            if seq >= self.una {
                let slot = &self.slots[(seq - self.una) as usize];
                if !slot.done && slot.transmissions == nth {
                    break;
                }
            }
            self.timeline.pop_front();
        }
    }
}
