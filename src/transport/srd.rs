//! SRD, the Scalable Reliable Datagram protocol of the Nitro card, as published in Shalev et al.,
//! "A Cloud-Optimized Transport Protocol for Elastic and Scalable HPC", IEEE Micro 40(6), 2020,
//! and AWS's ENA Express documentation:
//!
//! - **Spraying**: one connection's packets go over many fabric paths; the sender picks a path per
//!   packet by choosing the encapsulation entropy the switches hash on (`paths` values).
//! - **Congestion-aware path selection**: per-path RTT from ACKs and in-flight counts; paths
//!   that time out are avoided for a while. The policy is pluggable (`PathPolicy`).
//! - **Rate-based congestion control per connection**, driven by RTT: a window that grows while the
//!   best path's RTT stays near the fabric's base RTT and shrinks in proportion to the excess
//!   bounds the bytes in flight, and packets are paced at window / RTT, so they leave spread over
//!   the round trip instead of in bursts.
//! - **Retransmission in the card** after a timer near the fabric RTT (hundreds of microseconds,
//!   not TCP's 200 ms), on another path when there is one; after `max_retries` SRD gives up and the
//!   transport above sees the loss.
//! - **Moving past an abandoned sequence** (a model choice: the paper says SRD is a datagram
//!   service whose losses are the host's to repair, not how a reordering receiver learns of
//!   them). Every data packet carries the sender's `floor`: the lowest sequence it has neither
//!   seen acknowledged nor given up. Below it nothing will ever come again, so the receiver
//!   hands up what it holds there and skips the holes, as PR-SCTP's FORWARD TSN does (RFC 3758
//!   section 3.5). The sender knows exactly what it abandoned, so this needs no guess, no timer
//!   in the receiver and no extra packet: the next packet of the connection (the host's own
//!   retransmission, at the latest) carries the news, even when the give-up itself happened
//!   while the fabric was down. A receive-side timeout on holes was the alternative; it would
//!   either wait longer than the sender's retries (stalling every flow behind the hole) or
//!   skip holes the sender is still repairing (turning a late packet into a loss).
//! - **Delivery**: reliable but out of order on the wire. `SrdReceiver` either reorders into
//!   sequence in a bounded buffer (ENA Express) or hands packets up as they come (EFA).
//!
//! Both halves are sans-IO: payloads (`P`, opaque to SRD) and time in, transmissions, ACKs,
//! deliveries and a wake-up time out, so they are tested here with a hand-driven clock.

use crate::engine::rng::StreamRng;
use crate::units::{SimDuration, SimTime};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How the sender picks a path for each packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathPolicy {
    /// Least expected drain time: (in-flight + 1) x smoothed RTT; SRD's congestion-aware choice.
    #[default]
    Adaptive,
    RoundRobin,
    Random,
    LeastRtt,
    LeastInflight,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Srd", deny_unknown_fields, default)]
pub struct SrdConfig {
    /// Entropy values (paths) a connection sprays over (1..=256).
    pub paths: u32,
    pub policy: PathPolicy,
    /// Paths the comparing policies look at per packet (from a rotating start); 0 = all. A few
    /// suffice to steer around hot paths (the power of d choices) and keep the cost per packet flat.
    pub candidates: u32,
    /// Retransmission timer, near the fabric RTT (a model parameter; the paper gives no figure).
    /// A path whose smoothed RTT grows beyond half of it gets twice its RTT instead, so a slow
    /// path does not cause spurious retransmissions.
    pub retransmit_timeout: SimDuration,
    /// Retransmissions of one packet before SRD gives up and the loss reaches the host.
    pub max_retries: u32,
    /// A path whose packet timed out is avoided for this long.
    pub path_holddown: SimDuration,
    /// Reorder buffer of the receiving card, in packets (ENA Express).
    pub reorder_buffer: u32,
    /// Reorder in the receiving card before the host sees the packets (ENA Express). `false`
    /// hands them up as they arrive, as EFA does; for TCP above, that shows what reordering buys.
    pub deliver_in_order: bool,
    /// Encapsulation bytes SRD adds to each packet on the fabric.
    pub header_bytes: u32,
    /// Size of an SRD acknowledgement on the wire.
    pub ack_bytes: u32,
    /// Per-packet SRD processing in each card (send and receive side).
    pub processing_delay: SimDuration,
    /// Congestion window at start, its floor and its ceiling, in bytes.
    pub initial_window: crate::units::Bytes,
    pub min_window: crate::units::Bytes,
    pub max_window: crate::units::Bytes,
    /// Queueing delay over the base RTT that the window aims for.
    pub target_queueing: SimDuration,
    /// Packets waiting in the card for the window (beyond: the card drops, the host retransmits).
    pub send_queue: u32,
    /// Mark SRD packets ECN-capable; a path whose ACKs echo Congestion Experienced looks slower
    /// to path selection, and the window backs off as it does for a high RTT.
    pub ecn: bool,
}

impl Default for SrdConfig {
    fn default() -> Self {
        SrdConfig {
            paths: 16,
            policy: PathPolicy::Adaptive,
            candidates: 8,
            retransmit_timeout: SimDuration::from_us(250),
            max_retries: 7,
            path_holddown: SimDuration::from_us(500),
            reorder_buffer: 512,
            deliver_in_order: true,
            header_bytes: 32,
            ack_bytes: 64,
            processing_delay: SimDuration::from_ns(1500),
            initial_window: crate::units::Bytes(256 * 1024),
            min_window: crate::units::Bytes(64 * 1024),
            max_window: crate::units::Bytes(4 * 1024 * 1024),
            target_queueing: SimDuration::from_us(50),
            send_queue: 4096,
            ecn: false,
        }
    }
}

/// One packet on the wire as SRD sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission<P> {
    pub seq: u64,
    /// The sender's floor when it sent this: every sequence below is acknowledged or abandoned.
    pub floor: u64,
    pub path: u16,
    pub bytes: u32,
    pub retransmit: bool,
    pub payload: P,
}

/// An acknowledgement, echoing what the sender needs for its RTT sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrdAck {
    pub seq: u64,
    pub path: u16,
    pub sent_at: SimTime,
    /// The data packet arrived marked Congestion Experienced (with `ecn` on).
    pub ce: bool,
}

#[derive(Debug)]
pub struct SenderOut<P> {
    pub transmit: Vec<Transmission<P>>,
    /// Payloads SRD gave up on (or could not queue): lost for the host.
    pub gave_up: Vec<P>,
}

impl<P> Default for SenderOut<P> {
    fn default() -> Self {
        SenderOut { transmit: Vec::new(), gave_up: Vec::new() }
    }
}

impl<P> SenderOut<P> {
    pub fn clear(&mut self) {
        self.transmit.clear();
        self.gave_up.clear();
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

#[derive(Clone, Copy, Debug)]
struct PathState {
    srtt: Option<SimDuration>,
    inflight: u32,
    holddown_until: SimTime,
    sent: u64,
    /// Fraction of recent ACKs echoing CE, in 1/1024 (an EWMA with gain 1/8).
    ce_frac: u32,
}

#[derive(Clone, Copy, Debug)]
struct Slot<P> {
    payload: P,
    bytes: u32,
    sent_at: SimTime,
    path: u16,
    transmissions: u32,
    done: bool,
}

/// The sending half of one SRD connection (one direction between two Nitro cards).
#[derive(Clone, Debug)]
pub struct SrdSender<P> {
    cfg: SrdConfig,
    rng: StreamRng,
    paths: Vec<PathState>,
    next_path: usize,
    /// Unacknowledged packets by sequence: slot i holds `una + i`.
    slots: VecDeque<Slot<P>>,
    una: u64,
    next_seq: u64,
    waiting: VecDeque<(P, u32)>,
    /// (deadline, seq, transmission number), kept sorted by deadline.
    timeline: VecDeque<(SimTime, u64, u32)>,
    inflight_bytes: u64,
    window: u64,
    /// Pacing: the next packet may not leave before this time.
    next_tx: SimTime,
    /// The card's line rate, if this connection must not exceed it (0 = no cap).
    max_rate: crate::units::Bandwidth,
    base_rtt: Option<SimDuration>,
    last_decrease: SimTime,
    stats: SrdStats,
}

impl<P: Copy> SrdSender<P> {
    pub fn new(cfg: SrdConfig, rng: StreamRng) -> Self {
        let n = cfg.paths.max(1) as usize;
        let window = cfg.initial_window.0;
        SrdSender {
            paths: vec![PathState { srtt: None, inflight: 0, holddown_until: SimTime::ZERO, sent: 0, ce_frac: 0 }; n],
            next_path: 0,
            slots: VecDeque::new(),
            una: 0,
            next_seq: 0,
            waiting: VecDeque::new(),
            timeline: VecDeque::new(),
            inflight_bytes: 0,
            window,
            next_tx: SimTime::ZERO,
            max_rate: crate::units::Bandwidth(0),
            base_rtt: None,
            last_decrease: SimTime::ZERO,
            stats: SrdStats { max_window_bytes: window, min_window_bytes: window, ..SrdStats::default() },
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
    /// Packets (with retransmissions) sent on each path.
    pub fn path_sent(&self) -> impl Iterator<Item = u64> + '_ {
        self.paths.iter().map(|p| p.sent)
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
        p.sent += 1;
        let timeout = self.cfg.retransmit_timeout.max(SimDuration(2 * p.srtt.map_or(0, |s| s.0)));
        let entry = (now + timeout, seq, slot.transmissions);
        // Nearly always an append: deadlines grow with time.
        let at = self.timeline.partition_point(|e| e.0 <= entry.0);
        self.timeline.insert(at, entry);
        // `una` may trail the true floor by slots given up in this very timer pass: conservative.
        let floor = self.una;
        debug_assert!(floor <= seq);
        out.transmit.push(Transmission { seq, floor, path, bytes: slot.bytes, retransmit, payload: slot.payload });
    }

    fn usable(&self, p: usize, now: SimTime, avoid: Option<u16>) -> bool {
        self.paths[p].holddown_until <= now && avoid != Some(p as u16)
    }

    /// Choose a path by policy among those not held down (and not `avoid`); if every path is
    /// excluded, fall back to any path but `avoid`, then to any path.
    fn pick_path(&mut self, now: SimTime, avoid: Option<u16>) -> u16 {
        let n = self.paths.len();
        if n == 1 {
            return 0;
        }
        let mut candidates = (0..n).filter(|&p| self.usable(p, now, avoid)).count();
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
            PathPolicy::LeastRtt => self.least_by(&ok, |s| (s.srtt.unwrap_or(base).ps(), s.inflight as u64)),
            PathPolicy::LeastInflight => self.least_by(&ok, |s| (0, s.inflight as u64)),
            PathPolicy::Adaptive => self.least_by(&ok, |s| {
                // ECN marks make a path look up to five times slower.
                let drain = (s.inflight as u64 + 1).saturating_mul(s.srtt.unwrap_or(base).ps());
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
        let best = |span: usize| {
            (0..span).map(|i| (start + i) % n).filter(|&p| ok(self, p)).min_by_key(|&p| key(&self.paths[p]))
        };
        // If every candidate is excluded (held down), look at them all.
        best(d).or_else(|| best(n)).unwrap_or(0)
    }

    pub fn on_ack(&mut self, now: SimTime, ack: SrdAck, out: &mut SenderOut<P>) {
        let path = &mut self.paths[ack.path as usize];
        path.ce_frac = (7 * path.ce_frac + if ack.ce { 1024 } else { 0 }) / 8;
        self.stats.ecn_marks += ack.ce as u64;
        let rtt = now.since(ack.sent_at);
        path.srtt = Some(match path.srtt {
            None => rtt,
            Some(s) => SimDuration((7 * s.0 + rtt.0) / 8),
        });
        self.base_rtt = Some(self.base_rtt.map_or(rtt, |b| b.min(rtt)));
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
        self.advance();
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
        let rtt = if sample <= target {
            sample
        } else {
            (0..self.paths.len())
                .filter(|&p| self.paths[p].holddown_until <= now)
                .filter_map(|p| self.paths[p].srtt)
                .min()
                .unwrap_or(sample)
        };
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

    fn advance(&mut self) {
        while self.slots.front().is_some_and(|s| s.done) {
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

    /// Smoothed RTT of the best path not held down.
    fn best_rtt(&self, now: SimTime) -> Option<SimDuration> {
        self.paths.iter().filter(|p| p.holddown_until <= now).filter_map(|p| p.srtt).min()
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
            p.holddown_until = now + self.cfg.path_holddown;
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
        self.advance();
        self.pump(now, out);
    }
}

#[derive(Debug)]
pub struct ReceiverOut<P> {
    /// Acknowledge this packet (always, unless it was refused).
    pub ack: Option<SrdAck>,
    /// Payloads to hand to the host, in delivery order.
    pub deliver: Vec<P>,
    /// The packet was refused (reorder buffer full): no ACK, the sender will retransmit.
    pub refused: bool,
    pub duplicate: bool,
}

impl<P> Default for ReceiverOut<P> {
    fn default() -> Self {
        ReceiverOut { ack: None, deliver: Vec::new(), refused: false, duplicate: false }
    }
}

impl<P> ReceiverOut<P> {
    pub fn clear(&mut self) {
        self.ack = None;
        self.deliver.clear();
        self.refused = false;
        self.duplicate = false;
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ReceiverStats {
    pub packets: u64,
    pub duplicates: u64,
    /// Packets refused because they fell beyond the reorder buffer.
    pub refused: u64,
    pub max_occupancy: u32,
    /// Sequences the receiver moved past because the sender abandoned them (never delivered).
    pub skipped: u64,
}

/// The receiving half. With `in_order`, a ring of `capacity` slots holds packets that arrived
/// ahead of the next expected sequence (never more than `capacity`); a packet beyond the ring
/// is refused without an ACK. Without it (EFA), packets go up as they arrive, and the ring only
/// remembers what was delivered, to drop duplicates.
#[derive(Clone, Debug)]
pub struct SrdReceiver<P> {
    in_order: bool,
    expected: u64,
    /// The reorder buffer's limit in packets: sequences from `expected` up to this far ahead.
    capacity: u32,
    /// Held payloads of sequences `expected..expected + ring.len()` (in order), grown on demand
    /// up to `capacity`: a connection that sees little reordering holds little memory.
    ring: VecDeque<Option<P>>,
    /// For unordered delivery: which sequences from `expected` on were already delivered.
    seen: VecDeque<bool>,
    occupancy: u32,
    stats: ReceiverStats,
}

impl<P: Copy> SrdReceiver<P> {
    pub fn new(capacity: u32, in_order: bool) -> Self {
        assert!(capacity >= 1, "a reorder buffer holds at least one packet");
        SrdReceiver {
            in_order,
            expected: 0,
            capacity,
            ring: VecDeque::new(),
            seen: VecDeque::new(),
            occupancy: 0,
            stats: ReceiverStats::default(),
        }
    }

    pub fn stats(&self) -> &ReceiverStats {
        &self.stats
    }
    pub fn occupancy(&self) -> u32 {
        self.occupancy
    }
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Where the receiver waits: the next sequence it will hand up (or remember) in order.
    pub fn expected(&self) -> u64 {
        self.expected
    }

    /// A data packet `seq`, sent when everything below `floor` was acknowledged or abandoned.
    #[allow(clippy::too_many_arguments)]
    pub fn on_data(
        &mut self,
        seq: u64,
        floor: u64,
        path: u16,
        sent_at: SimTime,
        ce: bool,
        payload: P,
        out: &mut ReceiverOut<P>,
    ) {
        debug_assert!(floor <= seq, "a sender's floor never passes what it sends");
        // First move past what the sender gave up on: this packet may then fit the buffer.
        self.skip_to(floor, out);
        let cap = self.capacity as u64;
        if seq >= self.expected + cap {
            self.stats.refused += 1;
            out.refused = true;
            return;
        }
        let i = seq.wrapping_sub(self.expected) as usize;
        let duplicate = seq < self.expected
            || if self.in_order {
                self.ring.get(i).is_some_and(|h| h.is_some())
            } else {
                self.seen.get(i).is_some_and(|&d| d)
            };
        out.ack = Some(SrdAck { seq, path, sent_at, ce });
        if duplicate {
            // Already here or delivered (or abandoned and skipped): acknowledge again (the first
            // ACK may be lost), keep nothing.
            self.stats.duplicates += 1;
            out.duplicate = true;
            return;
        }
        self.stats.packets += 1;
        if self.in_order {
            if self.ring.len() <= i {
                self.ring.resize(i + 1, None);
            }
            self.ring[i] = Some(payload);
            self.occupancy += 1;
            self.stats.max_occupancy = self.stats.max_occupancy.max(self.occupancy);
            self.drain_in_order(out);
        } else {
            if self.seen.len() <= i {
                self.seen.resize(i + 1, false);
            }
            self.seen[i] = true;
            out.deliver.push(payload);
            self.slide_seen();
        }
        debug_assert!(self.occupancy as u64 <= cap && self.ring.len() as u64 <= cap && self.seen.len() as u64 <= cap);
    }

    /// Hand up, in order, what is held below `floor`, skip the holes there, and wait at `floor`
    /// (or beyond, if packets from there on are already held).
    fn skip_to(&mut self, floor: u64, out: &mut ReceiverOut<P>) {
        if floor <= self.expected {
            return;
        }
        // Everything held lies in [expected, expected + ring.len()).
        let span = (floor - self.expected).min(self.ring.len().max(self.seen.len()) as u64);
        let mut found = 0u64;
        for _ in 0..span {
            if self.in_order {
                if let Some(Some(p)) = self.ring.pop_front() {
                    out.deliver.push(p);
                    self.occupancy -= 1;
                    found += 1;
                }
            } else if self.seen.pop_front() == Some(true) {
                found += 1;
            }
        }
        self.stats.skipped += floor - self.expected - found;
        self.expected = floor;
        if self.in_order {
            self.drain_in_order(out);
        } else {
            self.slide_seen();
        }
    }

    fn drain_in_order(&mut self, out: &mut ReceiverOut<P>) {
        while let Some(Some(p)) = self.ring.front() {
            out.deliver.push(*p);
            self.ring.pop_front();
            self.occupancy -= 1;
            self.expected += 1;
        }
    }

    /// Unordered: slide the duplicate-detection window over the delivered prefix.
    fn slide_seen(&mut self) {
        while self.seen.front() == Some(&true) {
            self.seen.pop_front();
            self.expected += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn sender(paths: u32, policy: PathPolicy) -> SrdSender<u32> {
        let cfg = SrdConfig { paths, policy, ..SrdConfig::default() };
        SrdSender::new(cfg, RngStreams::new(1).stream("srd"))
    }

    fn ack_of(t: &Transmission<u32>, sent_at: SimTime) -> SrdAck {
        SrdAck { seq: t.seq, path: t.path, sent_at, ce: false }
    }

    #[test]
    fn sprays_over_all_paths() {
        let mut s = sender(8, PathPolicy::RoundRobin);
        let mut out = SenderOut::default();
        for i in 0..16 {
            s.send(SimTime(0), i, 1000, &mut out);
        }
        let mut used = [0; 8];
        for t in &out.transmit {
            used[t.path as usize] += 1;
        }
        assert_eq!(used, [2; 8]);
    }

    #[test]
    fn loss_on_one_path_is_retransmitted_on_another_after_the_timer() {
        let mut s = sender(4, PathPolicy::Adaptive);
        let mut out = SenderOut::default();
        for i in 0..4 {
            s.send(SimTime(0), i, 1000, &mut out);
        }
        let sent = out.transmit.clone();
        let lost = sent[1];
        let t1 = SimTime(0) + SimDuration::from_us(20);
        out.clear();
        for t in sent.iter().filter(|t| t.seq != lost.seq) {
            s.on_ack(t1, ack_of(t, SimTime(0)), &mut out);
        }
        assert!(out.transmit.is_empty(), "no retransmission before the timer");
        let deadline = s.poll_at().unwrap();
        assert_eq!(deadline, SimTime(0) + SrdConfig::default().retransmit_timeout);
        s.on_timer(deadline, &mut out);
        assert_eq!(out.transmit.len(), 1);
        let r = out.transmit[0];
        assert!(r.retransmit && r.seq == lost.seq && r.payload == lost.payload);
        assert_ne!(r.path, lost.path, "retransmitted on another path");
        assert_eq!(s.stats().timeouts, 1);
    }

    #[test]
    fn a_slow_path_is_avoided() {
        let mut s = sender(2, PathPolicy::Adaptive);
        let mut out = SenderOut::default();
        let mut now = SimTime(0);
        // Path 0 answers in 10 us, path 1 in 200 us.
        for round in 0..20u32 {
            out.clear();
            s.send(now, round, 1000, &mut out);
            let t = out.transmit[0];
            let rtt = if t.path == 0 { SimDuration::from_us(10) } else { SimDuration::from_us(200) };
            s.on_ack(now + rtt, ack_of(&t, now), &mut out);
            now += SimDuration::from_us(300);
        }
        let mut picks = [0; 2];
        for round in 0..20u32 {
            out.clear();
            s.send(now, round, 1000, &mut out);
            let t = out.transmit[0];
            picks[t.path as usize] += 1;
            s.on_ack(now + SimDuration::from_us(10), ack_of(&t, now), &mut out);
            now += SimDuration::from_us(300);
        }
        assert!(picks[0] > 3 * picks[1], "slow path still chosen: {picks:?}");
    }

    #[test]
    fn a_failed_path_is_held_down_and_traffic_moves_away() {
        let mut s = sender(2, PathPolicy::RoundRobin);
        let mut out = SenderOut::default();
        s.send(SimTime(0), 0, 1000, &mut out);
        let first = out.transmit[0];
        out.clear();
        // Nothing comes back: the timer fires and the path is held down.
        let t = s.poll_at().unwrap();
        s.on_timer(t, &mut out);
        assert_ne!(out.transmit[0].path, first.path);
        out.clear();
        for i in 1..5 {
            s.send(t, i, 1000, &mut out);
        }
        assert!(out.transmit.iter().all(|x| x.path != first.path), "held-down path used: {:?}", out.transmit);
    }

    #[test]
    fn duplicate_acks_are_harmless_and_give_up_after_max_retries() {
        let mut s = sender(2, PathPolicy::RoundRobin);
        let mut out = SenderOut::default();
        s.send(SimTime(0), 7, 1000, &mut out);
        let t = out.transmit[0];
        s.on_ack(SimTime(10), ack_of(&t, SimTime(0)), &mut out);
        s.on_ack(SimTime(11), ack_of(&t, SimTime(0)), &mut out);
        assert_eq!(s.inflight_bytes(), 0);
        assert_eq!(s.poll_at().map(|d| s.clone().on_timer_count(d)), Some(0));
        // A packet that is never acknowledged: 1 + max_retries transmissions, then given up.
        let mut s = sender(2, PathPolicy::RoundRobin);
        let mut out = SenderOut::default();
        s.send(SimTime(0), 9, 1000, &mut out);
        while let Some(d) = s.poll_at() {
            s.on_timer(d, &mut out);
        }
        assert_eq!(out.transmit.len() as u32, 1 + SrdConfig::default().max_retries);
        assert_eq!(out.gave_up, vec![9]);
        assert_eq!(s.inflight_bytes(), 0);
    }

    impl SrdSender<u32> {
        fn on_timer_count(&mut self, at: SimTime) -> usize {
            let mut out = SenderOut::default();
            self.on_timer(at, &mut out);
            out.transmit.len()
        }
    }

    #[test]
    fn ecn_marks_steer_traffic_away_and_shrink_the_window() {
        let mut s = sender(2, PathPolicy::Adaptive);
        let mut out = SenderOut::default();
        let mut now = SimTime(0);
        let start = s.window();
        let mut picks = [0; 2];
        for i in 0..200u32 {
            out.clear();
            s.send(now, i, 1000, &mut out);
            let t = out.transmit[0];
            picks[t.path as usize] += 1;
            // Same RTT on both paths, but path 1 marks everything.
            let sent_at = now;
            now += SimDuration::from_us(20);
            s.on_ack(now, SrdAck { seq: t.seq, path: t.path, sent_at, ce: t.path == 1 }, &mut out);
        }
        assert!(picks[0] > 3 * picks[1], "marked path still chosen: {picks:?}");
        assert!(s.stats().ecn_marks > 0);
        assert!(s.stats().min_window_bytes < start, "the window backed off");
    }

    #[test]
    fn packets_are_paced_at_window_over_rtt() {
        let cfg = SrdConfig {
            initial_window: crate::units::Bytes(90_000),
            min_window: crate::units::Bytes(90_000),
            ..SrdConfig::default()
        };
        let mut s: SrdSender<u32> = SrdSender::new(cfg, RngStreams::new(1).stream("srd"));
        let mut out = SenderOut::default();
        // One RTT sample of 90 us: the rate becomes about 90 000 B per 90 us, 9000 B every 9 us.
        s.send(SimTime(0), 0, 9000, &mut out);
        let t = out.transmit[0];
        let t0 = SimTime(0) + SimDuration::from_us(90);
        s.on_ack(t0, ack_of(&t, SimTime(0)), &mut out);
        out.clear();
        for i in 1..=4 {
            s.send(t0, i, 9000, &mut out);
        }
        assert_eq!(out.transmit.len(), 1, "the first goes at once, the rest wait for their slot");
        // (The ACK also grew the window a little: the gap is 9000 B x 90 us / window.)
        let next = s.poll_at().unwrap();
        let gap = 9000 * SimDuration::from_us(90).ps() / s.window();
        assert_eq!(next.since(t0), SimDuration(gap));
        assert!((8_500_000..=9_000_000).contains(&gap));
        s.on_timer(next, &mut out);
        assert_eq!(out.transmit.len(), 2);
    }

    #[test]
    fn window_shrinks_when_rtt_exceeds_the_target() {
        let mut s = sender(1, PathPolicy::Adaptive);
        let mut out = SenderOut::default();
        let start = s.window();
        let mut now = SimTime(0);
        for i in 0..50u32 {
            out.clear();
            s.send(now, i, 9000, &mut out);
            let t = out.transmit[0];
            let rtt = if i < 5 { SimDuration::from_us(20) } else { SimDuration::from_us(500) };
            let sent = now;
            now += rtt;
            s.on_ack(now, ack_of(&t, sent), &mut out);
        }
        assert!(s.window() < start / 2, "window {} from {start}", s.window());
    }

    #[test]
    fn reorder_buffer_delivers_in_order_and_never_exceeds_its_bound() {
        let mut r: SrdReceiver<u64> = SrdReceiver::new(4, true);
        let mut out = ReceiverOut::default();
        let t = SimTime(0);
        for seq in [1, 2, 3] {
            out.clear();
            r.on_data(seq, 0, 0, t, false, seq, &mut out);
            assert!(out.deliver.is_empty() && out.ack.is_some());
        }
        assert_eq!(r.occupancy(), 3);
        // Beyond the buffer: refused, not acknowledged.
        out.clear();
        r.on_data(4, 0, 0, t, false, 4, &mut out);
        assert!(out.refused && out.ack.is_none());
        assert_eq!(r.occupancy(), 3);
        // The hole fills: everything goes up in order.
        out.clear();
        r.on_data(0, 0, 0, t, false, 0, &mut out);
        assert_eq!(out.deliver, vec![0, 1, 2, 3]);
        assert_eq!(r.occupancy(), 0);
        // Duplicates are acknowledged again but not delivered twice.
        out.clear();
        r.on_data(2, 0, 0, t, false, 2, &mut out);
        assert!(out.duplicate && out.ack.is_some() && out.deliver.is_empty());
        assert!(r.stats().max_occupancy <= r.capacity());
    }

    #[test]
    fn unordered_delivery_goes_up_at_once_without_duplicates() {
        let mut r: SrdReceiver<u64> = SrdReceiver::new(8, false);
        let mut out = ReceiverOut::default();
        for seq in [2, 0, 2, 1] {
            r.on_data(seq, 0, 0, SimTime(0), false, seq, &mut out);
        }
        assert_eq!(out.deliver, vec![2, 0, 1]);
        assert_eq!(r.stats().duplicates, 1);
    }

    #[test]
    fn the_receiver_moves_past_a_sequence_the_sender_gave_up_on() {
        // A sender gives up on sequence 0 after its retries; 1 and 2 arrived and wait behind it.
        let cfg = SrdConfig { paths: 2, policy: PathPolicy::RoundRobin, max_retries: 2, ..SrdConfig::default() };
        let mut s: SrdSender<u32> = SrdSender::new(cfg, RngStreams::new(1).stream("srd"));
        let mut r: SrdReceiver<u32> = SrdReceiver::new(4, true);
        let (mut so, mut ro) = (SenderOut::default(), ReceiverOut::default());
        for i in 0..3 {
            s.send(SimTime(0), i, 1000, &mut so);
        }
        let sent = std::mem::take(&mut so.transmit);
        for t in sent.iter().filter(|t| t.seq != 0) {
            ro.clear();
            r.on_data(t.seq, t.floor, t.path, SimTime(0), false, t.payload, &mut ro);
            assert!(ro.deliver.is_empty(), "held behind the hole at 0");
            s.on_ack(SimTime(10), ro.ack.unwrap(), &mut so);
        }
        assert_eq!(r.expected(), 0);
        // Sequence 0 is lost on every try: the sender gives up on it.
        while so.gave_up.is_empty() {
            let d = s.poll_at().unwrap();
            s.on_timer(d, &mut so);
        }
        assert_eq!(so.gave_up, vec![0]);
        // The next packet (here the host's own retransmission of the lost payload, with a new
        // sequence number) carries the floor past the hole: the receiver hands up 1 and 2, then it.
        so.clear();
        let now = s.poll_at().unwrap_or(SimTime(0) + SimDuration::from_ms(1));
        s.send(now, 100, 1000, &mut so);
        let t = so.transmit[0];
        assert_eq!((t.seq, t.floor), (3, 3));
        ro.clear();
        r.on_data(t.seq, t.floor, t.path, now, false, t.payload, &mut ro);
        assert_eq!(ro.deliver, vec![1, 2, 100]);
        assert_eq!((r.expected(), r.occupancy(), r.stats().skipped), (4, 0, 1));
        // The abandoned packet turning up late is a duplicate, acknowledged and not delivered.
        ro.clear();
        r.on_data(0, 0, sent[0].path, SimTime(0), false, 0, &mut ro);
        assert!(ro.duplicate && ro.deliver.is_empty() && ro.ack.is_some());
    }

    #[test]
    fn a_floor_far_beyond_the_buffer_delivers_what_is_held_and_lets_new_packets_in() {
        let mut r: SrdReceiver<u64> = SrdReceiver::new(4, true);
        let mut out = ReceiverOut::default();
        for seq in [2, 3] {
            r.on_data(seq, 0, 0, SimTime(0), false, seq, &mut out);
        }
        // Sequence 10 would be refused (beyond 0 + 4), but its floor says 0..9 are settled.
        out.clear();
        r.on_data(10, 9, 0, SimTime(0), false, 10, &mut out);
        assert!(!out.refused);
        assert_eq!(out.deliver, vec![2, 3]);
        assert_eq!((r.expected(), r.occupancy(), r.stats().skipped), (9, 1, 7));
        out.clear();
        r.on_data(9, 9, 0, SimTime(0), false, 9, &mut out);
        assert_eq!(out.deliver, vec![9, 10]);
        // Unordered delivery (EFA) slides its duplicate window the same way.
        let mut u: SrdReceiver<u64> = SrdReceiver::new(4, false);
        u.on_data(1, 0, 0, SimTime(0), false, 1, &mut out);
        u.on_data(7, 6, 0, SimTime(0), false, 7, &mut out);
        assert_eq!((u.expected(), u.stats().skipped, u.stats().refused), (6, 5, 0));
    }
}
