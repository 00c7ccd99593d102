//! A two-tier Clos (leaf-spine) fabric: racks of hosts under top-of-rack switches (ToRs), every
//! ToR linked to every spine. Between two racks there are `spines` equal-cost paths; a ToR picks
//! one per flow by hashing the 5-tuple with its own salt (ECMP, RFC 2992). Salting per switch keeps
//! hash decisions independent across switches (no polarisation).
//!
//! Switches are not objects here: a switch is the set of its output ports, and forwarding is
//! decided once per flow (or per entropy value) when the route is built, not per packet.

use super::packet::DropReason;
use super::port::{Port, PortConfig, PortId};
use crate::engine::rng::mix64;
use crate::units::{Bandwidth, SimDuration};

/// The fastest single switch port the fabric model assumes: EC2 network cards are 100 Gbps each
/// (EC2 instance types, network specifications: p5.48xlarge 32 x 100 Gbps). Faster links are
/// bundles of such ports, each with its own buffer.
pub const PHYSICAL_PORT_RATE: Bandwidth = Bandwidth::gbps(100);

#[derive(Clone, Debug)]
pub struct LeafSpineConfig {
    pub racks: u32,
    pub hosts_per_rack: u32,
    pub spines: u32,
    pub host_link: Bandwidth,
    pub spine_link: Bandwidth,
    /// Propagation + switching latency charged on every link.
    pub hop_delay: SimDuration,
    pub buffer_bytes: u64,
    pub ecn_threshold_bytes: Option<u64>,
}

impl LeafSpineConfig {
    /// Downlink capacity over uplink capacity at a ToR (1.0 = non-blocking).
    pub fn oversubscription(&self) -> f64 {
        (self.hosts_per_rack as f64 * self.host_link.bps() as f64) / (self.spines as f64 * self.spine_link.bps() as f64)
    }
    pub fn hosts(&self) -> u32 {
        self.racks * self.hosts_per_rack
    }
}

/// A 5-tuple as ECMP sees it (IPv4 addresses, ports, protocol number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    pub src_ip: u32,
    pub dst_ip: u32,
    pub src_port: u16,
    pub dst_port: u16,
    pub protocol: u8,
}

impl FiveTuple {
    /// A stable hash of the tuple with a per-switch salt.
    pub fn hash_salted(&self, salt: u64) -> u64 {
        let a = ((self.src_ip as u64) << 32) | self.dst_ip as u64;
        let b = ((self.src_port as u64) << 24) | ((self.dst_port as u64) << 8) | self.protocol as u64;
        mix64(mix64(a ^ salt) ^ b)
    }
}

pub struct LeafSpine {
    pub config: LeafSpineConfig,
    /// Per host: (host -> ToR, ToR -> host).
    pub host_up: Vec<PortId>,
    pub host_down: Vec<PortId>,
    /// `tor_up[rack * spines + spine]`, `spine_down[spine * racks + rack]`.
    pub tor_up: Vec<PortId>,
    pub spine_down: Vec<PortId>,
    tor_salt: Vec<u64>,
}

impl LeafSpine {
    /// Create the fabric's ports in `ports`. `host_rate(h)` lets a host's NIC port run faster
    /// than the default host link (a 200 Gbps instance on a 100 Gbps fabric).
    ///
    /// A link faster than [`PHYSICAL_PORT_RATE`] stands for a bundle of 100 Gbps ports, each with
    /// `buffer_bytes` of drop-tail buffer: a p5.48xlarge's 3200 Gbps is 32 cards, each on its own
    /// switch port. One 512 KiB buffer for the whole bundle would hold 1.3 us at 3200 Gbps, and
    /// the 32 card-level SRD flows of a ring all-reduce overflowed it at 17% load (issue 13).
    pub fn build(
        config: LeafSpineConfig,
        ports: &mut Vec<Port>,
        salt_seed: u64,
        host_rate: impl Fn(u32) -> Bandwidth,
    ) -> LeafSpine {
        // Every fabric port is a physical Ethernet link (NIC <-> ToR, ToR <-> spine): packets
        // pay the frame's line time on it.
        let mut add = |rate: Bandwidth| -> PortId {
            let bundled = rate.bps().div_ceil(PHYSICAL_PORT_RATE.bps()).max(1);
            super::push_port(
                ports,
                Port::ethernet(PortConfig {
                    rate,
                    per_packet: SimDuration::ZERO,
                    delay: config.hop_delay,
                    capacity_bytes: config.buffer_bytes.saturating_mul(bundled),
                    ecn_threshold_bytes: config.ecn_threshold_bytes,
                    drop_reason: DropReason::QueueFull,
                    burst_bytes: 0,
                    mtu: crate::net::ip::NO_MTU_LIMIT,
                }),
            )
        };
        let hosts = config.hosts();
        let mut host_up = Vec::with_capacity(hosts as usize);
        let mut host_down = Vec::with_capacity(hosts as usize);
        for h in 0..hosts {
            let rate = host_rate(h);
            host_up.push(add(rate));
            host_down.push(add(rate));
        }
        let tor_up = (0..config.racks * config.spines).map(|_| add(config.spine_link)).collect();
        let spine_down = (0..config.spines * config.racks).map(|_| add(config.spine_link)).collect();
        let tor_salt = (0..config.racks).map(|r| mix64(salt_seed ^ mix64(0x70_72 + r as u64))).collect();
        LeafSpine { config, host_up, host_down, tor_up, spine_down, tor_salt }
    }

    pub fn rack_of(&self, host: u32) -> u32 {
        host / self.config.hosts_per_rack
    }

    /// The spine a ToR picks for this flow (meaningful only between different racks).
    pub fn ecmp_spine(&self, src_host: u32, tuple: &FiveTuple) -> u32 {
        let rack = self.rack_of(src_host);
        (tuple.hash_salted(self.tor_salt[rack as usize]) % self.config.spines as u64) as u32
    }

    /// Append the fabric ports from `src` to `dst` through `spine` (ignored within a rack).
    pub fn push_path(&self, src: u32, dst: u32, spine: u32, out: &mut Vec<PortId>) {
        assert!(src != dst, "a fabric path needs two distinct hosts");
        let (rs, rd) = (self.rack_of(src), self.rack_of(dst));
        out.push(self.host_up[src as usize]);
        if rs != rd {
            let c = &self.config;
            out.push(self.tor_up[(rs * c.spines + spine) as usize]);
            out.push(self.spine_down[(spine * c.racks + rd) as usize]);
        }
        out.push(self.host_down[dst as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fabric(spines: u32) -> (LeafSpine, Vec<Port>) {
        let mut ports = Vec::new();
        let cfg = LeafSpineConfig {
            racks: 4,
            hosts_per_rack: 4,
            spines,
            host_link: Bandwidth::gbps(100),
            spine_link: Bandwidth::gbps(100),
            hop_delay: SimDuration::from_us(1),
            buffer_bytes: 1 << 20,
            ecn_threshold_bytes: None,
        };
        let f = LeafSpine::build(cfg, &mut ports, 1, |_| Bandwidth::gbps(100));
        (f, ports)
    }

    #[test]
    fn paths_have_the_right_hops() {
        let (f, ports) = fabric(4);
        assert_eq!(ports.len(), 16 * 2 + 4 * 4 * 2);
        let mut p = Vec::new();
        f.push_path(0, 1, 0, &mut p);
        assert_eq!(p.len(), 2, "same rack: up and down only");
        p.clear();
        f.push_path(0, 5, 3, &mut p);
        assert_eq!(p.len(), 4);
        assert_eq!(f.config.oversubscription(), 1.0);
    }

    #[test]
    fn ecmp_spreads_flows_over_all_spines() {
        let (f, _) = fabric(8);
        let mut counts = [0u32; 8];
        for port in 0..8000u16 {
            let t = FiveTuple { src_ip: 1, dst_ip: 2, src_port: 32768 + port, dst_port: 80, protocol: 6 };
            counts[f.ecmp_spine(0, &t) as usize] += 1;
        }
        for c in counts {
            assert!((850..1150).contains(&c), "uneven ECMP: {counts:?}");
        }
    }

    #[test]
    fn salts_differ_per_switch() {
        let (f, _) = fabric(8);
        let t = FiveTuple { src_ip: 1, dst_ip: 2, src_port: 40000, dst_port: 80, protocol: 6 };
        let picks: Vec<u32> = (0..4).map(|r| f.ecmp_spine(r * 4, &t)).collect();
        // Same tuple, different ToRs: with independent salts, not all four agree.
        let hashes: Vec<u64> = (0..4).map(|r| t.hash_salted(f.tor_salt[r])).collect();
        assert!(hashes.windows(2).all(|w| w[0] != w[1]), "{picks:?}");
    }
}
