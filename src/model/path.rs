//! The fabric path: a route is a list of ports (`store_route` recycles them), built once per
//! connection direction: sender host leg, the leaf-spine hops ECMP picks, the inter-AZ link,
//! gateways and forwarding instances (`routing.rs`), receiver host leg. `offer` hands a packet
//! to a port: closed ports and gateways first, ECN marking, then queue, serve or drop.

use super::*;

/// A gateway at run time.
pub struct GatewayRt {
    pub name: String,
    pub kind: crate::ec2::gateway::GatewayKind,
    pub mtu: u32,
    /// The address its ICMP messages come from.
    pub ip: u32,
    pub drops_icmp: bool,
    pub mss_clamp: Option<u32>,
    pub delay: SimDuration,
    /// A NAT gateway's translations, limits and metrics.
    pub nat: Option<Box<nat::NatRt>>,
}

impl Model {
    pub(crate) fn add_port(&mut self, config: PortConfig, owner: u32) -> PortId {
        self.port_owner.push(owner);
        let mut port = Port::new(config);
        port.count_waits_at_once = Model::counts_waits_at_once(&self.insts, owner);
        crate::net::push_port(&mut self.ports, port)
    }

    pub(crate) fn inter_az_port(&mut self, a: u32, b: u32) -> PortId {
        if let Some(&p) = self.inter_az.get(&(a, b)) {
            return p;
        }
        let p = self.add_port(self.inter_az_link, NONE);
        self.inter_az.insert((a, b), p);
        p
    }

    /// Fabric hops from a to b through the spine ECMP picks for `t`, plus the inter-AZ delay.
    pub(crate) fn push_fabric(&mut self, a: Attach, b: Attach, t: &FiveTuple, r: &mut Vec<PortId>) {
        let spine = self.fabric.ecmp_spine(self.attach_host(a), t);
        self.push_fabric_via(a, b, spine, r);
    }

    /// Fabric hops from a to b through `spine` (ignored within a rack), plus the inter-AZ delay.
    pub(crate) fn push_fabric_via(&mut self, a: Attach, b: Attach, spine: u32, r: &mut Vec<PortId>) {
        let (ha, hb) = (self.attach_host(a), self.attach_host(b));
        self.fabric.push_path(ha, hb, spine, r);
        if let (Attach::Instance(i), Attach::Instance(j)) = (a, b) {
            let (za, zb) = (self.insts[i as usize].az, self.insts[j as usize].az);
            if za != zb {
                let p = self.inter_az_port(za, zb);
                r.push(p);
            }
        }
    }

    /// Store a route built in `r` (recycling a freed one) and hand `r` back empty.
    pub(crate) fn store_route(&mut self, r: &mut Vec<PortId>) -> u32 {
        let id = self.routes.store(r);
        r.clear();
        id
    }

    /// The plain-ENA route a -> b for this 5-tuple: sender vCPU, Nitro per-flow shaper, instance
    /// egress shaper, fabric (ECMP), [inter-AZ], receiver ingress shaper, receiver vCPU.
    /// `enis`: the ENIs of a and b the connection uses.
    pub(crate) fn build_route(&mut self, a: Attach, enis: [u8; 2], b: Attach, t: &FiveTuple) -> u32 {
        let mut r = std::mem::take(&mut self.scratch_route);
        r.clear();
        // Link-local services live on the host: a vCPU, the ENI's allowance, the service.
        match (a, b) {
            (Attach::Instance(i), Attach::Service(..)) => {
                let inst = &self.insts[i as usize];
                let q = (t.hash_salted(inst.rss_salt) % inst.cpu_tx.len() as u64) as usize;
                r.extend([inst.cpu_tx[q], inst.enis[enis[0] as usize].linklocal, inst.linklocal_service]);
                let id = self.store_route(&mut r);
                self.scratch_route = r;
                return id;
            }
            (Attach::Service(..), Attach::Instance(j)) => {
                let inst = &self.insts[j as usize];
                let q = (t.hash_salted(inst.rss_salt) % inst.cpu_rx.len() as u64) as usize;
                r.push(inst.cpu_rx[q]);
                let id = self.store_route(&mut r);
                self.scratch_route = r;
                return id;
            }
            _ => {}
        }
        if let Attach::Instance(i) = a {
            let cap = self.ena_flow_cap(i, b);
            self.push_host_tx(i, enis[0], t, cap, &mut r);
        }
        let hops = match (a, b) {
            (Attach::Instance(i), Attach::Instance(j)) => self.paths.get(&(i, j)).cloned(),
            _ => None,
        };
        match hops {
            None => self.push_fabric(a, b, t, &mut r),
            Some(hops) => {
                let mut from = a;
                for h in hops {
                    match h {
                        routing::Hop::Gateway(p) => {
                            // Leaving for the internet or another Region: the sender's own
                            // allowance for that traffic first.
                            if let Attach::Instance(k) = from
                                && self.gateways[self.gw_port[&p].0 as usize].kind.leaves_vpc()
                            {
                                r.push(self.insts[k as usize].outside);
                            }
                            r.push(p);
                            if let Some(pps) = self.nat_packet_port(p) {
                                r.push(pps);
                            }
                        }
                        routing::Hop::Router(x) => {
                            self.push_fabric(from, Attach::Instance(x), t, &mut r);
                            self.push_router(x, t, &mut r);
                            from = Attach::Instance(x);
                        }
                    }
                }
                self.push_fabric(from, b, t, &mut r);
            }
        }
        if let Attach::Instance(j) = b {
            self.push_host_rx(j, enis[1], t, &mut r);
        }
        let id = self.store_route(&mut r);
        self.scratch_route = r;
        id
    }

    /// Store a new packet at the start of its route, with its route's first ports and, after
    /// them, its delivery tag: worked out now, while the whole packet is at hand, so that the
    /// hop into its last port reads only the packet's first line (the tag needs `dst_endpoint`,
    /// in the second, a miss at scale). A packet's sink and destination never change once made.
    pub(crate) fn alloc_packet(&mut self, pkt: Packet) -> PacketId {
        self.alloc_packet_carrying(pkt, None)
    }

    /// [`Model::alloc_packet`], keeping `word` for the packet's sink where the route leaves room.
    fn alloc_packet_carrying(&mut self, mut pkt: Packet, word: Option<u32>) -> PacketId {
        debug_assert_eq!(pkt.hop, 0);
        let end = dispatch::delivery_tag(&pkt);
        self.routes.fill_ahead(pkt.route, &mut pkt.ahead, end);
        if let Some(word) = word {
            pkt.carry(word);
        }
        self.pool.alloc(pkt)
    }

    /// Create a packet at the start of its route.
    pub(crate) fn send_packet(&mut self, pkt: Packet) {
        self.send_packet_carrying(pkt, None);
    }

    /// Create a packet at the start of its route, with `word` for its sink in its first line
    /// when the route leaves room ([`Packet::carry`]).
    pub(crate) fn send_packet_carrying(&mut self, pkt: Packet, word: Option<u32>) {
        self.send_packet_entering(pkt, self.routes.port(pkt.route, 0), word);
    }

    /// [`Model::send_packet_carrying`] where the caller knows the route's first port without
    /// reading the route.
    pub(crate) fn send_packet_entering(&mut self, pkt: Packet, first: PortId, word: Option<u32>) {
        debug_assert_eq!(first, self.routes.port(pkt.route, 0));
        let id = self.alloc_packet_carrying(pkt, word);
        self.acct.sent += 1;
        self.offer(id, first);
    }

    pub(crate) fn offer(&mut self, id: PacketId, port: PortId) {
        let mtu = self.ports[port as usize].config.mtu;
        if mtu != crate::net::ip::NO_MTU_LIMIT {
            if mtu == crate::net::ip::PORT_CLOSED {
                let reason = self.ports[port as usize].config.drop_reason;
                self.drop_packet(id, reason, self.port_owner[port as usize]);
                return;
            }
            if !self.enter_gateway(id, port) {
                return;
            }
        }
        let now = self.q.now();
        let p = self.pool.get_mut(id);
        let port_ref = &mut self.ports[port as usize];
        port_ref.settle(now);
        // The port's question first: the packet's ECN bits lie beyond its first cache line.
        if port_ref.should_mark() && (p.seg.ect || p.srd.ect) {
            // An SRD packet is marked on its outer header; the inner one is the host's business.
            if p.srd.ect {
                p.srd.ce = true;
            } else {
                p.seg.ce = true;
            }
            port_ref.stats.ecn_marks += 1;
        }
        let (shaper, per_packet) = (port_ref.config.burst_bytes > 0, port_ref.config.per_packet);
        // The packet's next stop once it leaves: read now, while its route's line is at hand,
        // so the arrival event names the port it will touch and the run loop can prefetch it.
        let at = p.hop as usize + 1;
        // (Past the ports it carries, from the route table; the table's end marker becomes the
        // delivery tag the packet carries for shorter routes.)
        let next = match p.ahead.get(at) {
            Some(&next) => next,
            None => match self.routes.at(p.route + at as u32) {
                routing::Routes::END => dispatch::delivery_tag(p),
                next => next,
            },
        };
        match port_ref.enqueue_settled(now, id, p.wire_bytes, next) {
            Enqueued::Accepted { waited, finish, arrive, head } => {
                if head && let Some(arrive) = arrive {
                    if arrive == now {
                        // No time spent here: on to the next stage in this same dispatch.
                        port_ref.pop_head(now);
                        self.prefetch_next(next);
                        self.ready.push_back((id, next));
                    } else {
                        self.q.schedule_at(arrive, Event::PortDone(port, id, next));
                    }
                }
                // Behind another packet, or a token-bucket shaper holding it for its tokens.
                if waited || (shaper && finish.is_some_and(|f| f.since(now) > per_packet)) {
                    let port_ref = &mut self.ports[port as usize];
                    port_ref.stats.waited += 1;
                    if port_ref.count_waits_at_once {
                        self.count_allowance_queued(port, id);
                    }
                }
            }
            Enqueued::Dropped => {
                let reason = port_ref.config.drop_reason;
                self.drop_packet(id, reason, self.port_owner[port as usize]);
            }
        }
    }
}
