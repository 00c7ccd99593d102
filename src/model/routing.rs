//! Which way a connection's packets go between two instances: straight across the fabric, or
//! through gateways and instances acting as routers (a NAT instance, a firewall appliance). The
//! hops come from the scenario's explicit `paths`, else from the sending subnet's route table
//! (longest prefix; the VPC's local route wins ties). Routes are symmetric: the reply retraces
//! the hops backwards, as a NAT's translated replies do.

use super::{Model, NONE};
use crate::ec2::vpc::Cidr;
use crate::net::{DropReason, PortConfig, PortId};
use crate::units::{Bandwidth, SimDuration};

/// A hop as the scenario names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HopSpec {
    Gateway(u32),
    Router(u32),
}

/// A hop at run time: a gateway's port for this direction, or an instance forwarding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    Gateway(PortId),
    Router(u32),
}

/// A route table entry, compiled.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub destination: Cidr,
    pub target: HopSpec,
}

/// Bound on hops a lookup may chain (a routing loop is a scenario error; this is a backstop).
pub const MAX_HOPS: usize = 8;

impl Model {
    /// The hops between instances i and j, both directions, computed once per pair.
    pub(crate) fn ensure_path(&mut self, i: u32, j: u32) {
        if self.paths.contains_key(&(i, j)) || self.no_path.contains(&(i, j)) {
            return;
        }
        let specs = match self.path_specs.get(&(i, j)) {
            Some(s) => s.clone(),
            None => self.route_lookup(i, j),
        };
        if specs.is_empty() {
            self.no_path.insert((i, j));
            self.no_path.insert((j, i));
            return;
        }
        let mut forward = Vec::with_capacity(specs.len());
        let mut backward = vec![Hop::Router(NONE); specs.len()];
        let n = specs.len();
        for (k, h) in specs.iter().enumerate() {
            match *h {
                HopSpec::Router(x) => {
                    forward.push(Hop::Router(x));
                    backward[n - 1 - k] = Hop::Router(x);
                }
                HopSpec::Gateway(g) => {
                    // A NAT gateway is one shared server per direction; others are a delay per pair.
                    let (f, b) = match self.nat_ports(g) {
                        Some(fb) => fb,
                        None => (self.gateway_port(g), self.gateway_port(g)),
                    };
                    self.gw_port.insert(f, (g, b));
                    self.gw_port.insert(b, (g, f));
                    forward.push(Hop::Gateway(f));
                    backward[n - 1 - k] = Hop::Gateway(b);
                }
            }
        }
        self.paths.insert((i, j), forward);
        self.paths.insert((j, i), backward);
    }

    /// One direction of a gateway for one pair: a delay with the gateway's MTU.
    fn gateway_port(&mut self, g: u32) -> PortId {
        let gw = &self.gateways[g as usize];
        let config = PortConfig {
            rate: Bandwidth(0),
            per_packet: SimDuration::ZERO,
            delay: gw.delay,
            capacity_bytes: u64::MAX,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::QueueFull,
            burst_bytes: 0,
            mtu: gw.mtu,
        };
        self.add_port(config, NONE)
    }

    /// Follow route tables from i towards j: each router hop continues from its own subnet.
    fn route_lookup(&self, i: u32, j: u32) -> Vec<HopSpec> {
        let dst = self.insts[j as usize].ip;
        let mut hops = Vec::new();
        let mut at = i;
        while hops.len() < MAX_HOPS {
            let subnet = self.insts[at as usize].enis[0].view.subnet;
            let routes = self.subnet_routes[subnet].iter().map(|r| (r.destination, r));
            let Some(route) = crate::ec2::vpc::route_for(routes, dst, Some(self.vpc_cidr)) else { break };
            match route.target {
                // Routed to the destination's own ENI: it arrives there, no forwarding hop. (A
                // router sending back to itself, a loop, is refused when the scenario is checked;
                // were one to get here, it would go straight on rather than loop.)
                HopSpec::Router(x) if x == j || x == at => break,
                HopSpec::Router(x) => {
                    hops.push(route.target);
                    at = x;
                }
                HopSpec::Gateway(_) => {
                    hops.push(route.target);
                    break;
                }
            }
        }
        hops
    }

    /// The ports of a forwarding instance: in through its ENI and a vCPU, refused there if the
    /// ENI's source/destination check is on, out through a vCPU and its shapers.
    pub(crate) fn push_router(&self, x: u32, t: &crate::net::fabric::FiveTuple, r: &mut Vec<PortId>) {
        let inst = &self.insts[x as usize];
        let q = (t.hash_salted(inst.rss_salt) % inst.cpu_rx.len() as u64) as usize;
        r.extend_from_slice(&inst.rx_extra);
        r.extend([inst.ingress, inst.cpu_rx[q]]);
        r.push(inst.forward_gate);
        r.extend([inst.cpu_tx[q], inst.egress]);
        r.extend_from_slice(&inst.tx_extra);
    }
}

/// Every route's ports in one flat array: a route is the offset of its first port, and ends at
/// an [`Routes::END`] marker. A packet carries that offset and its hop count, so finding its next
/// port is one read in a dense array (no per-route allocation to chase). Freed routes are reused
/// by routes of the same length.
pub(crate) struct Routes {
    ports: Vec<PortId>,
    /// Freed offsets, by route length.
    free: Vec<Vec<u32>>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes { ports: crate::engine::huge_vec(0), free: Vec::new() }
    }
}

impl Routes {
    /// Marks the end of a route in the flat array.
    pub const END: PortId = PortId::MAX;

    /// Store a route; returns its id (offset).
    pub fn store(&mut self, r: &[PortId]) -> u32 {
        debug_assert!(!r.contains(&Self::END));
        if let Some(off) = self.free.get_mut(r.len()).and_then(|f| f.pop()) {
            self.ports[off as usize..off as usize + r.len()].copy_from_slice(r);
            return off;
        }
        let off = u32::try_from(self.ports.len()).ok().filter(|o| o.checked_add(r.len() as u32 + 1).is_some());
        let off = off.expect("route table beyond 2^32 ports");
        crate::engine::reserve_huge(&mut self.ports, r.len() + 1);
        self.ports.extend_from_slice(r);
        self.ports.push(Self::END);
        off
    }

    /// Recycle a route no packet or endpoint refers to any more; `off` is what [`Routes::store`]
    /// returned (not an id into a route's middle, as SRD's ACK routes are: those stay).
    pub fn release(&mut self, off: u32) {
        let n = self.get(off).len();
        if self.free.len() <= n {
            self.free.resize_with(n + 1, Vec::new);
        }
        self.free[n].push(off);
    }

    /// The ports of route `off`.
    pub fn get(&self, off: u32) -> &[PortId] {
        let tail = &self.ports[off as usize..];
        let n = tail.iter().position(|&p| p == Self::END).expect("a route ends with its marker");
        &tail[..n]
    }

    /// Start loading route `off`'s first ports (a hint: out of range is ignored).
    #[inline(always)]
    pub fn prefetch(&self, off: u32) {
        if let Some(p) = self.ports.get(off as usize) {
            crate::engine::prefetch(p, 1);
        }
    }

    /// Copy route `off`'s first ports into `ahead`, and `end` (the packet's delivery tag, from
    /// `MAX_PORTS` up: never a port) in every entry from the route's end on.
    pub fn fill_ahead(&self, off: u32, ahead: &mut [PortId; crate::net::packet::AHEAD_PORTS], end: u32) {
        debug_assert!(end as usize >= crate::net::MAX_PORTS, "an end tag that names a port");
        let mut ended = false;
        for (k, a) in ahead.iter_mut().enumerate() {
            if !ended {
                *a = self.ports[off as usize + k];
                ended = *a == Self::END;
            }
            if ended {
                *a = end;
            }
        }
    }

    /// The port at flat index `at` (a route's offset plus a hop), or [`Routes::END`].
    #[inline]
    pub fn at(&self, at: u32) -> PortId {
        self.ports[at as usize]
    }

    /// Ports stored, end markers included (freed routes too).
    #[cfg(test)]
    pub fn stored_ports(&self) -> usize {
        self.ports.len()
    }

    /// The first port of route `off`, or `NONE` for no route.
    pub fn first_port(&self, off: u32) -> PortId {
        if off == NONE { NONE } else { self.port(off, 0) }
    }

    /// Port `hop` of route `off`, or [`Routes::END`] past its last port.
    #[inline]
    pub fn port(&self, off: u32, hop: u16) -> PortId {
        self.ports[off as usize + hop as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::Routes;
    use crate::net::packet::AHEAD_PORTS;

    /// A packet carries its route's first ports and, from the route's end on, its delivery tag
    /// (never a port); a route longer than it carries leaves the rest to the table, whose end
    /// marker is still there for the hop that reaches it.
    #[test]
    fn a_packet_carries_its_first_ports_then_its_delivery_tag() {
        let tag = crate::net::MAX_PORTS as u32 | 7;
        let mut routes = Routes::default();
        let short = routes.store(&[10, 11, 12]);
        let long_ports: Vec<u32> = (100..100 + AHEAD_PORTS as u32 + 2).collect();
        let long = routes.store(&long_ports);
        let mut ahead = [0; AHEAD_PORTS];
        routes.fill_ahead(short, &mut ahead, tag);
        assert_eq!(&ahead[..3], &[10, 11, 12]);
        assert!(ahead[3..].iter().all(|&a| a == tag), "{ahead:?}");
        routes.fill_ahead(long, &mut ahead, tag);
        assert_eq!(&ahead[..], &long_ports[..AHEAD_PORTS]);
        assert_eq!(routes.at(long + long_ports.len() as u32), Routes::END);
        // From the middle of a route (SRD's ACK routes start there), as from its start.
        routes.fill_ahead(short + 1, &mut ahead, tag);
        assert_eq!(&ahead[..2], &[11, 12]);
        assert!(ahead[2..].iter().all(|&a| a == tag), "{ahead:?}");
    }

    /// A word for the sink is kept only in an entry no hop reads: routes up to two entries
    /// shorter than what a packet carries (the last port's next entry is its delivery tag).
    #[test]
    fn a_packet_keeps_a_word_for_its_sink_only_where_no_hop_reads() {
        let tag = crate::net::MAX_PORTS as u32 | 7;
        let word = 0xdead_beef;
        for len in 1..=AHEAD_PORTS + 1 {
            let mut routes = Routes::default();
            let ports: Vec<u32> = (0..len as u32).collect();
            let off = routes.store(&ports);
            let mut p = crate::net::Packet::default();
            routes.fill_ahead(off, &mut p.ahead, tag);
            let read_by_hops = p.ahead;
            let kept = p.carry(word);
            assert_eq!(kept, len + 2 <= AHEAD_PORTS, "route of {len} ports");
            let hops = (len + 1).min(AHEAD_PORTS);
            assert_eq!(p.ahead[..hops], read_by_hops[..hops], "route of {len} ports");
            if kept {
                assert_eq!(p.carried(), Some(word));
            }
        }
    }
}
