//! A port is the unit of the packet path: a FIFO queue bounded in bytes, a server that holds the
//! head-of-line packet for its service time, and a pipe that delays it afterwards.
//!
//! service time = `per_packet` + bytes x 8 / `rate`   (either part may be zero)
//!
//! With `burst_bytes > 0` the rate part is a token bucket instead (a shaper, not a wire): a packet
//! leaves as soon as the bucket holds its bytes, so a burst up to `burst_bytes` passes at once and
//! only sustained traffic is held to `rate`. It is computed as the GCRA (ITU-T I.371): virtual time
//! `tat` advances by each packet's serialisation time, and a packet may start `burst_bytes / rate`
//! before `tat`. All integer picoseconds.
//!
//! One abstraction serves as a link (rate + propagation delay), a traffic shaper (rate, no delay),
//! a vCPU doing per-packet protocol work (`per_packet`, no rate) and a pure delay (neither).
//! Like htsim's queue + pipe, a port schedules only its head-of-line packet's completion: one event
//! per packet per port, never one per queued packet.
//!
//! The port does not own the clock: `offer` and `complete` take `now` and return what to schedule.

use super::PacketId;
use super::packet::DropReason;
use crate::units::{Bandwidth, SimDuration, SimTime};
use std::collections::VecDeque;

pub type PortId = u32;

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

pub struct Port {
    pub config: PortConfig,
    queue: VecDeque<(PacketId, u32)>,
    queued_bytes: u64,
    /// GCRA theoretical arrival time (token-bucket shapers only).
    tat: SimTime,
    pub stats: PortStats,
}

impl Port {
    pub fn new(config: PortConfig) -> Self {
        Port { config, queue: VecDeque::new(), queued_bytes: 0, tat: SimTime::ZERO, stats: PortStats::default() }
    }

    pub fn service_time(&self, bytes: u32) -> SimDuration {
        self.config.per_packet + self.config.rate.serialisation(bytes as u64)
    }

    pub fn queued_bytes(&self) -> u64 {
        self.queued_bytes
    }

    pub fn queued_packets(&self) -> usize {
        self.queue.len()
    }

    pub fn iter_queued(&self) -> impl Iterator<Item = PacketId> + '_ {
        self.queue.iter().map(|&(id, _)| id)
    }

    /// Would this packet be ECN-marked if it were accepted now?
    pub fn should_mark(&self) -> bool {
        matches!(self.config.ecn_threshold_bytes, Some(t) if self.queued_bytes > t)
    }

    pub fn offer(&mut self, now: SimTime, id: PacketId, bytes: u32) -> Offer {
        if self.queued_bytes + bytes as u64 > self.config.capacity_bytes {
            self.stats.drops += 1;
            return Offer::Dropped;
        }
        self.queue.push_back((id, bytes));
        self.queued_bytes += bytes as u64;
        // Invariant: queue bytes never exceed capacity.
        debug_assert!(self.queued_bytes <= self.config.capacity_bytes);
        self.stats.max_queued_bytes = self.stats.max_queued_bytes.max(self.queued_bytes);
        if self.queue.len() == 1 { Offer::Started(now + self.start_service(now, bytes)) } else { Offer::Queued }
    }

    fn start_service(&mut self, now: SimTime, bytes: u32) -> SimDuration {
        let t = if self.config.burst_bytes == 0 {
            self.service_time(bytes)
        } else {
            let rate = self.config.rate;
            // Limit chosen so that exactly `burst_bytes` pass back to back (tolerance = depth - size).
            let tau = rate.serialisation(self.config.burst_bytes.saturating_sub(bytes as u64));
            let depart = now.max(SimTime(self.tat.ps().saturating_sub(tau.ps())));
            self.tat = self.tat.max(depart) + rate.serialisation(bytes as u64);
            depart.since(now) + self.config.per_packet
        };
        self.stats.busy_ps += t.ps();
        t
    }

    /// The head-of-line packet finished service. Returns it, the time it leaves the pipe, and
    /// when the next head-of-line packet (if any) will finish.
    pub fn complete(&mut self, now: SimTime) -> (PacketId, SimTime, Option<SimTime>) {
        let (id, bytes) = self.queue.pop_front().expect("port completed with an empty queue");
        self.queued_bytes -= bytes as u64;
        self.stats.packets_out += 1;
        self.stats.bytes_out += bytes as u64;
        let next = self.queue.front().map(|&(_, b)| b).map(|b| now + self.start_service(now, b));
        (id, now + self.config.delay, next)
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
}
