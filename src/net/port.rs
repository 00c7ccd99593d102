//! A port is the unit of the packet path: a FIFO queue bounded in bytes, a server that holds the
//! head-of-line packet for its service time, and a pipe that delays it afterwards.
//!
//! service time = `per_packet` + (bytes + `framing_bytes`) x 8 / `rate`   (either part may be zero)
//!
//! `framing_bytes` is what a physical Ethernet link adds to every IP packet in line time
//! ([`ETHERNET_FRAMING_BYTES`]: header, FCS, preamble and inter-frame gap); it is zero on internal
//! stages (shapers, vCPUs, card processing), which see IP packets, not frames. Queue limits and
//! byte counters stay in IP bytes: a switch buffers frames without preamble or gap, and the
//! 14 + 4 B difference is below what buffer sizes are known to.
//!
//! With `burst_bytes > 0` the rate part is a token bucket instead (a shaper, not a wire): a packet
//! leaves as soon as the bucket holds its bytes, so a burst up to `burst_bytes` passes at once and
//! only sustained traffic is held to `rate`. It is computed as the GCRA (ITU-T I.371): virtual time
//! `tat` advances by each packet's serialisation time, and a packet may start `burst_bytes / rate`
//! before `tat`. All integer picoseconds.
//!
//! One abstraction serves as a link (rate + propagation delay), a traffic shaper (rate, no delay),
//! a vCPU doing per-packet protocol work (`per_packet`, no rate) and a pure delay (neither).
//! A port is FIFO and a packet's service time is known when its service begins (on acceptance by
//! an idle server, or when the packet ahead finishes), so the port computes then when it finishes
//! and when it leaves the pipe; no event marks the end of service, and a waiting packet is timed
//! only when its service begins. The pipe's arrivals are in FIFO order too, so only the oldest packet's
//! arrival needs to be in the event queue (htsim's trick): the caller schedules it, and on
//! [`Port::pop_head`] learns when the next one arrives. One event per packet per port, none when
//! the port takes no time at all; the queue holds busy ports, not packets. Counters that an event
//! at the end of service would have updated are brought up to date by [`Port::settle`]. A rate
//! change applies to the packets that have not begun service, which are timed only then.
//!
//! The port does not own the clock: every call takes `now` and returns what to schedule.
//! `offer`/`complete` keep the classic interface (the caller schedules each service completion)
//! for callers that drive a port by hand, such as the queueing-theory tests.
//!
//! **Timing noise.** Real hosts and cards are not clocks: interrupts, scheduling and card firmware
//! make each packet's cost vary. A port may carry [`PortNoise`]: its per-packet cost and its delay
//! are then drawn per packet, uniformly within a relative half-width around the configured value
//! (the mean is kept, so capacities and mean latencies do not move), from the port's own seeded
//! stream. The delay stays FIFO, as a card processes its queue in order: a new latency is drawn
//! when the pipe has drained, and packets that follow one another closely share it.

use super::PacketId;
use super::packet::DropReason;
use crate::engine::rng::StreamRng;
use crate::units::{Bandwidth, SimDuration, SimTime};
use rand::RngExt;
use std::collections::VecDeque;

pub type PortId = u32;

/// Port ids stay below 2^31: the values above name a route's end (`model::dispatch::DELIVER`).
pub const MAX_PORTS: usize = 1 << 31;

/// Append `port` to the model's port array (kept in huge pages, see `engine::reserve_huge`) and
/// return its id.
pub fn push_port(ports: &mut Vec<Port>, port: Port) -> PortId {
    assert!(ports.len() < MAX_PORTS, "more than 2^31 ports");
    crate::engine::reserve_huge(ports, 1);
    ports.push(port);
    (ports.len() - 1) as PortId
}

/// Line time an Ethernet link spends on each IP packet besides the packet itself (IEEE 802.3,
/// clauses 3.1.1 and 4.4.2): 14 B MAC header (destination, source, EtherType) + 4 B frame check
/// sequence + 8 B preamble and start-of-frame delimiter + 12 B minimum inter-packet gap = 38 B.
/// A 64 B IP packet occupies 102 B of line time, a 1500 B one 1538 B.
pub const ETHERNET_FRAMING_BYTES: u32 = 14 + 4 + 8 + 12;

#[derive(Clone, Copy, Debug)]
pub struct PortConfig {
    pub rate: Bandwidth,
    pub per_packet: SimDuration,
    pub delay: SimDuration,
    /// Drop-tail limit on queued bytes, including the packet in service.
    pub capacity_bytes: u64,
    /// Mark ECN-capable packets CE when the queue (before this packet) exceeds this many bytes.
    pub ecn_threshold_bytes: Option<u64>,
    /// Reason recorded when this port drops.
    pub drop_reason: DropReason,
    /// Token-bucket depth for shapers (0 = serialise every packet at `rate`).
    pub burst_bytes: u64,
    /// Largest IP packet the port carries ([`super::ip::NO_MTU_LIMIT`] but on gateways): the
    /// model checks it before offering, since what happens to a bigger packet is IP's business.
    pub mtu: u32,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PortStats {
    pub packets_out: u64,
    pub bytes_out: u64,
    pub drops: u64,
    pub ecn_marks: u64,
    pub max_queued_bytes: u64,
    /// Sum of service times: utilisation = busy / elapsed.
    pub busy_ps: u64,
    /// Packets that waited here, as the port's owner counts them (the model: behind another
    /// packet, or held by a token bucket beyond their own cost; ENA's allowance counters).
    pub waited: u64,
}

/// Outcome of offering a packet to a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offer {
    /// The port was idle: the packet is in service and completes at this time.
    Started(SimTime),
    /// Queued behind others.
    Queued,
    /// No room: the caller must account the drop (reason = `config.drop_reason`).
    Dropped,
}

/// Per-packet variation of a port's cost and delay (see the module docs). Spreads of zero are
/// no variation: nothing is drawn. The spreads come first, in the port's first cache line.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct PortNoise {
    /// Relative half-widths in parts per million: 1_000_000 = uniform in [0, 2 x mean].
    cost_spread_ppm: u32,
    delay_spread_ppm: u32,
    /// When the last packet leaves the pipe, and the pipe's current latency (delays stay FIFO).
    last_leave: SimTime,
    delay: SimDuration,
    rng: StreamRng,
}

/// Relative spreads are given in parts per million (integer state, no float in the model).
pub const PPM: u32 = 1_000_000;

impl PortNoise {
    /// `cost_spread_ppm` / `delay_spread_ppm`: relative half-width of the uniform draw around the
    /// per-packet cost / the delay, at most [`PPM`] (the value then ranges over [0, 2 x mean]).
    pub fn new(rng: StreamRng, cost_spread_ppm: u32, delay_spread_ppm: u32) -> Self {
        assert!(cost_spread_ppm <= PPM && delay_spread_ppm <= PPM, "a spread above 100% would go negative");
        PortNoise { rng, cost_spread_ppm, delay_spread_ppm, last_leave: SimTime::ZERO, delay: SimDuration::ZERO }
    }

    /// No variation: the configured cost and delay, and a generator never drawn from.
    fn none() -> Self {
        PortNoise::new(StreamRng::new(0), 0, 0)
    }

    /// `mean` scaled by a factor uniform in [1 - spread, 1 + spread], in integer picoseconds.
    fn draw(rng: &mut StreamRng, mean: SimDuration, spread_ppm: u32) -> SimDuration {
        if spread_ppm == 0 || mean == SimDuration::ZERO {
            return mean;
        }
        let factor = (PPM - spread_ppm) as u64 + rng.random_range(0..=2 * spread_ppm as u64);
        // 64 bits whenever they hold the product (a mean below 9 s): a 128-bit division is a call.
        match mean.ps().checked_mul(factor) {
            Some(scaled) => SimDuration(scaled / PPM as u64),
            None => SimDuration((mean.ps() as u128 * factor as u128 / PPM as u128) as u64),
        }
    }
}

/// A packet in a port: waiting for the server, or (the oldest `Port::n_timed`) in service or in
/// the pipe. Its finish (and so its arrival at the far end) is computed when its service begins: a
/// FIFO server with a known service time needs no event when service ends, only when the packet
/// reaches the far end.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    id: PacketId,
    bytes: u32,
    /// The caller's own word about the packet, handed back with it (the model: where its route
    /// goes to next), so the caller can prefetch what it will need before the packet arrives.
    tag: u32,
    /// Service ends: the packet leaves the queue and enters the pipe; and it leaves the pipe at
    /// the far end (`config.delay` later, or its own draw on a port with noise). Unset while it
    /// waits.
    finish: SimTime,
    arrive: SimTime,
}

/// Packets a port keeps in its own cache lines; more spill to a heap buffer. Most ports hold a
/// few packets at a time (a link's pipe holds about delay / service time of them), and a buffer
/// of their own would cost a dependent cache miss on every pass, which the run loop cannot
/// prefetch.
const INLINE_SLOTS: usize = 4;

/// Laid out in whole cache lines, in the order a packet's pass touches them: cursors and server
/// state, the oldest packets, then the configuration and the counters. The run loop prefetches
/// all of it one event ahead, or three on large models (`model::dispatch`'s `LOOKAHEAD_EVENTS`).
#[repr(C, align(64))]
pub struct Port {
    /// Packets held (waiting, in service or in the pipe), in FIFO order: the oldest
    /// `min(len, INLINE_SLOTS)` in `inline`, a ring starting at `head`, the rest in `spill`
    /// (but while `hole` is set the ring holds one fewer and `spill` starts with the next).
    len: u32,
    head: u32,
    /// The oldest `n_timed` packets have begun service (their `finish` is known); the rest wait.
    n_timed: u32,
    /// The oldest `finished` have finished service (in the pipe), as of the last [`Port::settle`].
    finished: u32,
    /// Bytes queued or in service (not yet in the pipe).
    queued_bytes: u64,
    /// When the last packet taken into service finishes (the server is busy until then).
    busy_until: SimTime,
    /// GCRA theoretical arrival time (token-bucket shapers only).
    tat: SimTime,
    /// Line-time bytes added to each packet's serialisation (0 = not a physical link).
    framing_bytes: u32,
    /// The oldest packet's leaving freed the ring's last cell while others wait in `spill`: the
    /// first of those moves in at [`Port::fill_hole`], which every pass calls before reading a
    /// slot. Deferred so that its line, asked for as the head left, loads while the caller
    /// hands the head on (a deep queue's spilled packets are a miss nothing earlier can name).
    hole: bool,
    /// Its owner counts each packet that waits here as it waits, against something the port
    /// does not know (`model`: the ENI of the packet, for the allowances of an instance with
    /// several); otherwise it reads `stats.waited` when the run ends, with no miss per packet.
    pub(crate) count_waits_at_once: bool,
    /// Kept in line, not boxed: in the default scenarios most internal stages (vCPUs, card
    /// delays, per-flow shapers) have noise, and a box would be one more miss per pass. Not an
    /// `Option` either: spreads of zero are no noise (nothing is drawn), and the option's tag
    /// cost 16 bytes (the generator's alignment).
    noise: PortNoise,
    inline: [Slot; INLINE_SLOTS],
    spill: VecDeque<Slot>,
    pub config: PortConfig,
    pub stats: PortStats,
}

/// Outcome of [`Port::enqueue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// No room: the caller must account the drop (reason = `config.drop_reason`).
    Dropped,
    Accepted {
        /// It waits behind a packet in service: `finish` and `arrive` are not known yet (`None`).
        waited: bool,
        /// When its service ends and when it reaches the far end (an idle port serves it now).
        finish: Option<SimTime>,
        arrive: Option<SimTime>,
        /// It is the port's only packet: nothing is scheduled for this port yet, the caller
        /// must schedule its arrival (or take it at once with [`Port::pop_head`] when `arrive`
        /// is now). Always served at once, so `arrive` is known.
        head: bool,
    },
}

impl Port {
    pub fn new(config: PortConfig) -> Self {
        Port {
            len: 0,
            head: 0,
            n_timed: 0,
            finished: 0,
            queued_bytes: 0,
            busy_until: SimTime::ZERO,
            tat: SimTime::ZERO,
            framing_bytes: 0,
            hole: false,
            count_waits_at_once: false,
            noise: PortNoise::none(),
            inline: [Slot::default(); INLINE_SLOTS],
            spill: VecDeque::new(),
            config,
            stats: PortStats::default(),
        }
    }

    /// A physical Ethernet link: each packet also pays [`ETHERNET_FRAMING_BYTES`] of line time.
    pub fn ethernet(config: PortConfig) -> Self {
        Port { framing_bytes: ETHERNET_FRAMING_BYTES, ..Port::new(config) }
    }

    /// Vary this port's per-packet cost and delay (see [`PortNoise`]).
    pub fn with_noise(mut self, noise: PortNoise) -> Self {
        self.set_noise(noise);
        self
    }

    pub fn set_noise(&mut self, noise: PortNoise) {
        assert!(self.queued_packets() == 0, "noise is set before a port carries packets");
        self.noise = noise;
    }

    /// Bytes of line time per packet besides the IP packet (0 on internal stages).
    pub fn framing_bytes(&self) -> u32 {
        self.framing_bytes
    }

    pub fn service_time(&self, bytes: u32) -> SimDuration {
        self.config.per_packet + self.config.rate.serialisation(bytes as u64 + self.framing_bytes as u64)
    }

    /// Packet `k` in FIFO order (0 = oldest).
    #[inline]
    fn slot(&self, k: usize) -> &Slot {
        debug_assert!(k < self.len as usize);
        debug_assert!(!self.hole || k < INLINE_SLOTS - 1, "a slot read before the spilled packet moved in");
        if k < INLINE_SLOTS {
            &self.inline[(self.head as usize + k) % INLINE_SLOTS]
        } else {
            &self.spill[k - INLINE_SLOTS]
        }
    }

    #[inline]
    fn slot_mut(&mut self, k: usize) -> &mut Slot {
        debug_assert!(k < self.len as usize);
        debug_assert!(!self.hole || k < INLINE_SLOTS - 1, "a slot written before the spilled packet moved in");
        if k < INLINE_SLOTS {
            &mut self.inline[(self.head as usize + k) % INLINE_SLOTS]
        } else {
            &mut self.spill[k - INLINE_SLOTS]
        }
    }

    #[inline]
    fn push_back(&mut self, s: Slot) {
        if (self.len as usize) < INLINE_SLOTS {
            self.inline[(self.head as usize + self.len as usize) % INLINE_SLOTS] = s;
        } else {
            self.spill.push_back(s);
        }
        self.len += 1;
    }

    /// Take out the oldest packet; the oldest spilled one, if any, will take its place in the
    /// ring at [`Port::fill_hole`] (its line is asked for now).
    #[inline]
    fn pop_slot(&mut self) -> Slot {
        assert!(self.len > 0, "a port's head left an empty port");
        debug_assert!(!self.hole);
        let h = self.head as usize;
        let s = self.inline[h];
        if let Some(next) = self.spill.front() {
            crate::engine::prefetch(next, 1);
            self.hole = true;
        }
        self.head = ((h + 1) % INLINE_SLOTS) as u32;
        self.len -= 1;
        s
    }

    /// Ask for the spilled slots this port's next pass will touch, which its own lines must
    /// arrive to name (so the run loop's prefetch events ahead cannot): the next waiting
    /// packet's, which begins service when the head leaves, and the cell after the newest, where
    /// an arrival is appended. Called as the pass begins, so both load while the head is handed
    /// on. A hint: at the buffer's end the append wraps to its start, and the line asked for is
    /// not used.
    #[inline(always)]
    pub(crate) fn prefetch_spill(&self) {
        if let Some(last) = self.spill.back() {
            if let Some(waiting) = self.spill.get((self.n_timed as usize).wrapping_sub(INLINE_SLOTS)) {
                crate::engine::prefetch(waiting, 1);
            }
            let after = (last as *const Slot).wrapping_add(1);
            crate::engine::prefetch_bytes(after as usize, std::mem::size_of::<Slot>());
        }
    }

    /// The oldest spilled packet moves into the ring's last cell, freed when the head left
    /// (nothing to do when no packet was waiting there). Called first by every pass that reads a
    /// slot; the model calls it once it has handed the leaving packet on.
    #[inline(always)]
    pub(crate) fn fill_hole(&mut self) {
        if self.hole {
            self.hole = false;
            let next = self.spill.pop_front().expect("a hole is left only while packets are spilled");
            self.inline[(self.head as usize + INLINE_SLOTS - 1) % INLINE_SLOTS] = next;
        }
    }

    /// When timed packet `k` leaves the pipe.
    #[inline]
    fn arrive(&self, k: usize) -> SimTime {
        debug_assert!(k < self.n_timed as usize);
        self.slot(k).arrive
    }

    /// Bytes queued or in service as of the last [`Port::settle`].
    pub fn queued_bytes(&self) -> u64 {
        self.queued_bytes
    }

    /// Packets the port holds: waiting, in service or in its pipe.
    pub fn queued_packets(&self) -> usize {
        self.len as usize
    }

    pub fn iter_queued(&self) -> impl Iterator<Item = PacketId> + '_ {
        // The ring's packets (one cell short while a spilled packet waits to move in), then the
        // spilled ones.
        let in_ring = (self.len as usize).min(INLINE_SLOTS) - self.hole as usize;
        let ring = (0..in_ring).map(|k| self.inline[(self.head as usize + k) % INLINE_SLOTS].id);
        ring.chain(self.spill.iter().map(|s| s.id))
    }

    /// Would this packet be ECN-marked if it were accepted now? (Settle the port first.)
    pub fn should_mark(&self) -> bool {
        matches!(self.config.ecn_threshold_bytes, Some(t) if self.queued_bytes > t)
    }

    /// Take the oldest waiting packet into service at `start`: time it (cost and noise drawn in
    /// service order, as a server would) and count its service as busy time.
    fn begin_service(&mut self, start: SimTime) -> (SimTime, SimTime) {
        let k = self.n_timed as usize;
        let t = self.service(start, self.slot(k).bytes);
        self.stats.busy_ps += t.ps();
        let finish = start + t;
        let arrive = self.leave_pipe(finish);
        debug_assert!(k == 0 || self.arrive(k - 1) <= arrive, "a port's pipe is FIFO");
        let s = self.slot_mut(k);
        (s.finish, s.arrive) = (finish, arrive);
        self.n_timed += 1;
        self.busy_until = finish;
        (finish, arrive)
    }

    /// Bring the port up to `now`: a waiting packet begins service when the one ahead finishes;
    /// packets whose service has ended leave the queue (`packets_out`, `bytes_out`). What an
    /// event per service completion would have done, done when someone looks.
    pub fn settle(&mut self, now: SimTime) {
        self.fill_hole();
        while self.busy_until <= now && self.n_timed < self.len {
            self.begin_service(self.busy_until);
        }
        self.count_finished(now);
    }

    /// The timed packets whose service has ended by `now` leave the queue (half of
    /// [`Port::settle`], all that is left to do once no packet can begin service).
    #[inline]
    fn count_finished(&mut self, now: SimTime) {
        while self.finished < self.n_timed {
            let s = *self.slot(self.finished as usize);
            if s.finish > now {
                break;
            }
            self.queued_bytes -= s.bytes as u64;
            self.stats.packets_out += 1;
            self.stats.bytes_out += s.bytes as u64;
            self.finished += 1;
        }
    }

    /// Accept a packet at `now` (drop-tail on bytes queued or in service): served at once on an
    /// idle server (its finish and arrival are then known), else it waits. Settles the port to
    /// `now` first.
    pub fn enqueue(&mut self, now: SimTime, id: PacketId, bytes: u32, tag: u32) -> Enqueued {
        self.settle(now);
        self.enqueue_settled(now, id, bytes, tag)
    }

    /// [`Port::enqueue`] on a port its caller has just settled to `now` (to ask
    /// [`Port::should_mark`] first): the same, without settling twice.
    pub(crate) fn enqueue_settled(&mut self, now: SimTime, id: PacketId, bytes: u32, tag: u32) -> Enqueued {
        debug_assert!(!self.hole, "settled: the spilled packet has moved in");
        debug_assert!(self.busy_until > now || self.n_timed == self.len, "settled: an idle server has nobody waiting");
        if self.queued_bytes + bytes as u64 > self.config.capacity_bytes {
            self.stats.drops += 1;
            return Enqueued::Dropped;
        }
        self.queued_bytes += bytes as u64;
        // Invariant: queue bytes never exceed capacity.
        debug_assert!(self.queued_bytes <= self.config.capacity_bytes);
        self.stats.max_queued_bytes = self.stats.max_queued_bytes.max(self.queued_bytes);
        self.push_back(Slot { id, bytes, tag, finish: SimTime::ZERO, arrive: SimTime::ZERO });
        if self.busy_until > now {
            return Enqueued::Accepted { waited: true, finish: None, arrive: None, head: false };
        }
        debug_assert!(self.n_timed + 1 == self.len, "an idle server has nobody waiting");
        let (finish, arrive) = self.begin_service(now);
        // Served in no time: it has left the queue already. Nothing else can begin service.
        self.count_finished(now);
        let head = self.len == 1;
        Enqueued::Accepted { waited: false, finish: Some(finish), arrive: Some(arrive), head }
    }

    /// The head packet reached the far end at `now`: take it out. Returns it and, if the port
    /// holds another, when that one arrives, which it is and its tag.
    pub fn pop_head(&mut self, now: SimTime) -> (PacketId, Option<(SimTime, PacketId, u32)>) {
        self.settle(now);
        debug_assert!(self.finished > 0 && self.arrive(0) <= now, "the head left before its time");
        let s = self.pop_front();
        // The next packet began service when this one finished (<= now): settle timed it.
        debug_assert!(self.n_timed > 0 || self.len == 0);
        let following = match self.n_timed {
            0 => None,
            _ => {
                let h = self.slot(0);
                Some((self.arrive(0), h.id, h.tag))
            }
        };
        (s.id, following)
    }

    /// The configuration's rate or per-packet cost changed at `now`: packets that have not begun
    /// service will be timed with the new one when they do; the one in service keeps its time.
    pub fn retime(&mut self, now: SimTime, _old: PortConfig) {
        self.settle(now);
    }

    /// Classic interface (a caller that schedules service completions itself, as the theory
    /// tests do): accept a packet and say whether it went straight into service.
    pub fn offer(&mut self, now: SimTime, id: PacketId, bytes: u32) -> Offer {
        match self.enqueue(now, id, bytes, 0) {
            Enqueued::Dropped => Offer::Dropped,
            Enqueued::Accepted { finish: Some(finish), .. } if self.queued_packets() == 1 => Offer::Started(finish),
            Enqueued::Accepted { .. } => Offer::Queued,
        }
    }

    /// Classic interface: the head-of-line packet finished service at `now`. Returns it, the
    /// time it leaves the pipe, and when the next packet (if any) will finish.
    pub fn complete(&mut self, now: SimTime) -> (PacketId, SimTime, Option<SimTime>) {
        self.settle(now);
        let arrive = self.arrive(0);
        let s = self.pop_front();
        debug_assert!(s.finish <= now);
        (s.id, arrive, (self.n_timed > 0).then(|| self.slot(0).finish))
    }

    /// Take out the oldest packet, which has finished service.
    fn pop_front(&mut self) -> Slot {
        debug_assert!(self.finished > 0 && self.n_timed > 0);
        self.finished -= 1;
        self.n_timed -= 1;
        self.pop_slot()
    }

    /// This packet's per-packet cost: the configured one, or a draw around it with noise.
    fn per_packet(&mut self) -> SimDuration {
        PortNoise::draw(&mut self.noise.rng, self.config.per_packet, self.noise.cost_spread_ppm)
    }

    /// Service time of a packet whose service starts at `start`.
    fn service(&mut self, start: SimTime, bytes: u32) -> SimDuration {
        if self.config.burst_bytes == 0 {
            self.per_packet() + self.config.rate.serialisation(bytes as u64 + self.framing_bytes as u64)
        } else {
            let rate = self.config.rate;
            // Limit chosen so that exactly `burst_bytes` pass back to back (tolerance = depth - size).
            let bytes = bytes as u64 + self.framing_bytes as u64;
            let tau = rate.serialisation(self.config.burst_bytes.saturating_sub(bytes));
            let depart = start.max(SimTime(self.tat.ps().saturating_sub(tau.ps())));
            self.tat = self.tat.max(depart) + rate.serialisation(bytes);
            depart.since(start) + self.per_packet()
        }
    }

    /// When a packet finishing service at `finish` leaves the pipe.
    fn leave_pipe(&mut self, finish: SimTime) -> SimTime {
        let n = &mut self.noise;
        if n.delay_spread_ppm == 0 {
            return finish + self.config.delay;
        }
        // A card's pipeline has one latency at a time: a new one is drawn once the packets ahead
        // have left. Back-to-back packets share it, so order is kept without pushing any packet
        // later than its draw (a clamp would inflate the mean under load).
        if finish >= n.last_leave {
            n.delay = PortNoise::draw(&mut n.rng, self.config.delay, n.delay_spread_ppm);
        }
        n.last_leave = finish + n.delay;
        n.last_leave
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(rate_gbps: u64, delay_ns: u64, cap: u64) -> Port {
        Port::new(PortConfig {
            rate: Bandwidth::gbps(rate_gbps),
            per_packet: SimDuration::ZERO,
            delay: SimDuration::from_ns(delay_ns),
            capacity_bytes: cap,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::QueueFull,
            burst_bytes: 0,
            mtu: crate::net::ip::NO_MTU_LIMIT,
        })
    }

    #[test]
    fn a_port_is_six_cache_lines() {
        // What the run loop prefetches; a field added carelessly would add a line to every pass.
        assert_eq!(std::mem::size_of::<Port>(), 6 * 64);
    }

    #[test]
    fn serialisation_then_propagation_exact() {
        let mut p = link(100, 1000, 100_000);
        assert_eq!(p.offer(SimTime(0), 1, 9001), Offer::Started(SimTime(720_080)));
        assert_eq!(p.offer(SimTime(10), 2, 9001), Offer::Queued);
        let (id, leaves, next) = p.complete(SimTime(720_080));
        assert_eq!((id, leaves, next), (1, SimTime(720_080 + 1_000_000), Some(SimTime(1_440_160))));
        let (id, leaves, next) = p.complete(SimTime(1_440_160));
        assert_eq!((id, leaves, next), (2, SimTime(2_440_160), None));
        assert_eq!(p.stats.bytes_out, 18_002);
    }

    /// Saturate a 1 Gbps Ethernet link with `ip_bytes` packets and return the IP goodput in bit/s.
    fn saturated_ethernet_bps(ip_bytes: u32) -> f64 {
        let mut p = Port::ethernet(link(1, 0, u64::MAX).config);
        let n = 10_000u32;
        let mut next = match p.offer(SimTime(0), 0, ip_bytes) {
            Offer::Started(t) => Some(t),
            other => panic!("{other:?}"),
        };
        for id in 1..n {
            assert_eq!(p.offer(SimTime(0), id, ip_bytes), Offer::Queued);
        }
        let mut last = SimTime(0);
        while let Some(t) = next {
            last = t;
            next = p.complete(t).2;
        }
        p.stats.bytes_out as f64 * 8.0 / last.since(SimTime(0)).as_secs_f64()
    }

    #[test]
    fn ethernet_framing_limits_small_packet_goodput() {
        // IEEE 802.3 arithmetic: 64 / 102 x 1 Gbps = 0.6275 Gbps, 1500 / 1538 = 0.9753 Gbps.
        let small = saturated_ethernet_bps(64);
        let large = saturated_ethernet_bps(1500);
        assert!((small / 0.627e9 - 1.0).abs() < 0.02, "64 B: {small:.4e} bit/s");
        assert!((large / 0.975e9 - 1.0).abs() < 0.02, "1500 B: {large:.4e} bit/s");
        // Exactly: each 64 B packet takes 102 B x 8 ns of line time.
        let p = Port::ethernet(link(1, 0, 1 << 20).config);
        assert_eq!(p.service_time(64), SimDuration::from_ns(816));
        assert_eq!(Port::new(link(1, 0, 1 << 20).config).service_time(64), SimDuration::from_ns(512));
    }

    #[test]
    fn noise_keeps_the_mean_and_the_order() {
        let rng = |n: &str| crate::engine::RngStreams::new(1).stream(n);
        let config = PortConfig { per_packet: SimDuration::from_ns(500), ..link(0, 2000, u64::MAX).config };
        // Spaced packets (10 us apart, the pipe drains): each draws its own cost and delay.
        let mut p = Port::new(config).with_noise(PortNoise::new(rng("spaced"), PPM, PPM / 2));
        let n = 100_000u64;
        let (mut cost, mut delay) = (0u128, 0u128);
        let (mut costs, mut delays) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
        for id in 0..n {
            let at = SimTime(id * 10_000_000);
            let Offer::Started(done) = p.offer(at, id as u32, 100) else { panic!("the port was idle") };
            let (_, leaves, next) = p.complete(done);
            assert!(next.is_none());
            cost += done.since(at).ps() as u128;
            delay += leaves.since(done).ps() as u128;
            costs.insert(done.since(at).ps());
            delays.insert(leaves.since(done).ps());
        }
        let (mean_cost, mean_delay) = (cost as f64 / n as f64, delay as f64 / n as f64);
        assert!((mean_cost / 500_000.0 - 1.0).abs() < 0.01, "mean cost {mean_cost} ps");
        assert!((mean_delay / 2_000_000.0 - 1.0).abs() < 0.01, "mean delay {mean_delay} ps");
        assert!(costs.len() > 1000 && delays.len() > 1000, "both vary");
        assert!(*delays.first().unwrap() >= 1_000_000 && *delays.last().unwrap() <= 3_000_000, "within +-50%");

        // Back to back: never out of order, and no packet later than the largest draw.
        let mut p = Port::new(config).with_noise(PortNoise::new(rng("busy"), PPM, PPM));
        let mut next = match p.offer(SimTime(0), 0, 100) {
            Offer::Started(t) => Some(t),
            other => panic!("{other:?}"),
        };
        for id in 1..10_000 {
            p.offer(SimTime(0), id, 100);
        }
        let mut last = SimTime(0);
        while let Some(t) = next {
            let (_, leaves, nx) = p.complete(t);
            assert!(leaves >= last && leaves.since(t) <= SimDuration::from_us(4), "FIFO within the spread");
            (last, next) = (leaves, nx);
        }
    }

    /// A deep queue: packets spill beyond the port's own lines, and each head that leaves lets
    /// the oldest spilled one move in at the port's next pass (`enqueue`'s or `pop_head`'s
    /// settle) or when the model calls `fill_hole`. Packets leave in FIFO order and
    /// `iter_queued` lists what is held, hole or not.
    #[test]
    fn spilled_packets_move_in_and_leave_in_order() {
        let mut port = link(100, 1000, u64::MAX);
        let mut held: std::collections::VecDeque<PacketId> = Default::default();
        let (mut next_id, mut holes_seen, mut deepest) = (0, 0, 0);
        let mut now = SimTime::ZERO;
        for round in 0..400u64 {
            // Bursts of arrivals, then a few departures; the model's fill only in some rounds,
            // so that the next arrival or departure meets the hole in the others.
            for _ in 0..(round % 7) {
                if let Enqueued::Accepted { .. } = port.enqueue(now, next_id, 1500, next_id) {
                    held.push_back(next_id);
                }
                next_id += 1;
            }
            deepest = deepest.max(port.queued_packets());
            for _ in 0..(round % 5) {
                let Some(&oldest) = held.front() else { break };
                // The head is timed (served at once or when the one ahead finished): wait for it.
                now = now.max(port.slot(0).arrive);
                let (id, _) = port.pop_head(now);
                assert_eq!(id, oldest, "round {round}");
                held.pop_front();
                holes_seen += port.hole as u32;
                let listed: Vec<PacketId> = port.iter_queued().collect();
                assert_eq!(listed, held.iter().copied().collect::<Vec<_>>(), "round {round}");
            }
            if round % 3 == 0 {
                port.fill_hole();
                assert!(!port.hole);
            }
            assert_eq!(port.queued_packets(), held.len());
            now += SimDuration::from_ns(20);
        }
        assert!(deepest > 2 * INLINE_SLOTS, "the queue spilled: {deepest} packets at most");
        assert!(holes_seen > 100, "departures left holes: {holes_seen}");
    }

    #[test]
    fn drop_tail_counts_bytes_including_head() {
        let mut p = link(1, 0, 20_000);
        assert!(matches!(p.offer(SimTime(0), 1, 9001), Offer::Started(_)));
        assert_eq!(p.offer(SimTime(0), 2, 9001), Offer::Queued);
        assert_eq!(p.offer(SimTime(0), 3, 9001), Offer::Dropped);
        assert_eq!(p.offer(SimTime(0), 4, 1000), Offer::Queued);
        assert_eq!(p.queued_bytes(), 19_002);
        assert_eq!(p.stats.drops, 1);
    }

    #[test]
    fn token_bucket_passes_a_burst_then_holds_the_rate() {
        // 1 Gbps shaper with a 3000-byte bucket: two 1500-byte packets pass at once, the third
        // waits 12 us for its tokens, and the long-run rate is exactly 1 Gbps.
        let mut p = Port::new(PortConfig { burst_bytes: 3000, delay: SimDuration::ZERO, ..link(1, 0, 1 << 30).config });
        let t = |us: u64| SimTime(us * 1_000_000);
        assert_eq!(p.offer(t(0), 1, 1500), Offer::Started(t(0)));
        let (_, _, _) = p.complete(t(0));
        assert_eq!(p.offer(t(0), 2, 1500), Offer::Started(t(0)));
        let (_, _, _) = p.complete(t(0));
        assert_eq!(p.offer(t(0), 3, 1500), Offer::Started(t(12)));
        for id in 4..104 {
            p.offer(t(12), id, 1500);
        }
        let (_, _, mut next) = p.complete(t(12));
        let mut last = t(12);
        while let Some(n) = next {
            last = n;
            next = p.complete(n).2;
        }
        // 100 more packets of 12 us each after the third.
        assert_eq!(last, t(12 + 100 * 12));
    }

    /// The port as it was timed before packets were timed on acceptance: a server that computes
    /// each packet's service when it takes it up and an event per completion. Completions due at
    /// an offer's time are handled first.
    struct EventDrivenPort {
        config: PortConfig,
        framing: u64,
        queue: VecDeque<(PacketId, u32)>,
        queued: u64,
        tat: SimTime,
        /// When the head finishes, if any.
        head_done: Option<SimTime>,
        out: Vec<(PacketId, SimTime, SimTime)>,
        drops: u64,
        busy: u64,
    }

    impl EventDrivenPort {
        fn start(&mut self, now: SimTime, bytes: u32) -> SimTime {
            let bytes = bytes as u64 + self.framing;
            let t = if self.config.burst_bytes == 0 {
                self.config.per_packet + self.config.rate.serialisation(bytes)
            } else {
                let rate = self.config.rate;
                let tau = rate.serialisation(self.config.burst_bytes.saturating_sub(bytes));
                let depart = now.max(SimTime(self.tat.ps().saturating_sub(tau.ps())));
                self.tat = self.tat.max(depart) + rate.serialisation(bytes);
                depart.since(now) + self.config.per_packet
            };
            self.busy += t.ps();
            now + t
        }
        fn run_until(&mut self, now: SimTime) {
            while let Some(done) = self.head_done.filter(|&d| d <= now) {
                let (id, bytes) = self.queue.pop_front().unwrap();
                self.queued -= bytes as u64;
                self.out.push((id, done, done + self.config.delay));
                self.head_done = self.queue.front().map(|&(_, b)| b).map(|b| self.start(done, b));
            }
        }
        fn offer(&mut self, now: SimTime, id: PacketId, bytes: u32) {
            self.run_until(now);
            if self.queued + bytes as u64 > self.config.capacity_bytes {
                self.drops += 1;
                return;
            }
            self.queue.push_back((id, bytes));
            self.queued += bytes as u64;
            if self.queue.len() == 1 {
                self.head_done = Some(self.start(now, bytes));
            }
        }
    }

    #[test]
    fn timing_on_acceptance_matches_an_event_per_completion() {
        use crate::engine::RngStreams;
        for (case, burst) in [(0u32, 0u64), (1, 20_000), (2, 0), (3, 3_000)] {
            let mut rng = RngStreams::new(3).stream(&format!("port-ref-{case}"));
            let config = PortConfig {
                per_packet: SimDuration::from_ns(if case == 2 { 300 } else { 0 }),
                burst_bytes: burst,
                ..link(10, 1500, 40_000).config
            };
            let mut port = if case % 2 == 0 { Port::ethernet(config) } else { Port::new(config) };
            let mut reference = EventDrivenPort {
                config,
                framing: port.framing_bytes() as u64,
                queue: VecDeque::new(),
                queued: 0,
                tat: SimTime::ZERO,
                head_done: None,
                out: Vec::new(),
                drops: 0,
                busy: 0,
            };
            let mut got = Vec::new();
            let mut now = SimTime::ZERO;
            for id in 0..20_000u32 {
                // Bursts at one instant, gaps shorter and longer than a service time.
                now += SimDuration(rng.random_range(0..3u64) * rng.random_range(0..2_000_000u64));
                let bytes = rng.random_range(64..9001u32);
                reference.offer(now, id, bytes);
                // Packets due out before this offer leave first, as the reference's events would.
                port.settle(now);
                while port.n_timed > 0 && port.arrive(0) < now {
                    let (s, arrive) = (*port.slot(0), port.arrive(0));
                    port.pop_head(arrive);
                    port.settle(now);
                    got.push((s.id, s.finish, arrive));
                }
                if let Enqueued::Accepted { finish, .. } = port.enqueue(now, id, bytes, 0) {
                    assert!(finish.is_none_or(|f| f >= now));
                }
                // A packet served in no time has left both by the end of this instant.
                reference.run_until(now);
                assert_eq!(port.queued_bytes(), reference.queued, "case {case}: bytes queued at {now:?}");
            }
            reference.run_until(SimTime(u64::MAX / 2));
            port.settle(SimTime(u64::MAX / 2));
            while port.n_timed > 0 {
                let s = *port.slot(0);
                let arrive = port.arrive(0);
                port.pop_head(arrive);
                got.push((s.id, s.finish, arrive));
            }
            assert_eq!(got, reference.out, "case {case}");
            assert_eq!((port.stats.drops, port.stats.busy_ps), (reference.drops, reference.busy), "case {case}");
            assert!(
                reference.drops > 0 && reference.out.len() > 1_000,
                "case {case}: {} drops, {} out",
                reference.drops,
                reference.out.len()
            );
        }
    }
}
