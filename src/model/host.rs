//! The host: instances, their sockets and the path between socket and Nitro card.
//!
//! A connection is two endpoints (`EpSlot`, transport state and where its packets go) opened by a
//! workload; `drive` calls the transport sans-IO and `flush` turns its output into packets and
//! notifications. Outgoing packets pass the vCPU the flow's RSS hash picks (`push_host_tx`),
//! incoming ones the receiving vCPU (`push_host_rx`); IP fragments wait in `Reasm` slots.

use super::*;

/// An instance at run time: its type, where it sits, and the ports of its packet path.
pub struct InstanceRt {
    pub name: String,
    pub ty: &'static InstanceType,
    pub host: u32,
    pub az: u32,
    /// Its Region and whether ENA Express crosses AZs there (`ec2::region`).
    pub region: u32,
    pub region_cross_az: bool,
    /// Index of its cluster placement group, if any.
    pub cluster_pg: Option<u32>,
    pub ip: u32,
    /// One vCPU per RSS queue, as two servers: transmit and receive processing.
    pub cpu_tx: Vec<PortId>,
    pub cpu_rx: Vec<PortId>,
    /// Nitro card shapers for the instance allowance on the primary ENI's card (card 0).
    pub egress: PortId,
    pub ingress: PortId,
    /// Each network card's [egress, ingress] shapers, by card index (the type's bandwidth split
    /// evenly over its cards): card 0's are `egress`, `ingress`; another card's exist when one of
    /// the instance's ENIs sits on it (`NONE` otherwise).
    pub card_shapers: Vec<[PortId; 2]>,
    /// Further stages after the egress shaper and before the ingress one: the network I/O
    /// credit bucket of burstable types, the pps allowance, the hypervisor of a `vif` adapter.
    pub tx_extra: Vec<PortId>,
    pub rx_extra: Vec<PortId>,
    /// The shaper for traffic through an internet gateway or to another Region.
    pub outside: PortId,
    /// The link-local services behind its ENIs' link-local allowances.
    pub linklocal_service: PortId,
    /// Forwarded traffic crosses this gate: closed (every packet dropped as `source_dest_check`)
    /// while the primary ENI's source/destination check is on, open while it is off.
    pub forward_gate: PortId,
    /// Connection-tracking allowance and the connections tracked now.
    pub conntrack_allowance: Option<u32>,
    pub conntrack_tracked: u32,
    /// No entry of its table can have expired before this (a full table is swept after it).
    pub conntrack_next_expiry: SimTime,
    pub rss_salt: u64,
    pub port_rng: StreamRng,
    pub counters: InstanceCounters,
    /// Security groups of the primary ENI that allow all traffic within themselves (EFA's rule).
    pub efa_groups: Vec<String>,
    /// The Nitro card's per-packet processing on the send side, for traffic that reaches the card
    /// without a per-flow shaper (EFA); plain ENA and ENA Express pay it in that shaper.
    pub nitro_tx: PortId,
    /// Pure delays for SRD processing in this instance's card (send side, receive side).
    pub srd_tx_proc: PortId,
    pub srd_rx_proc: PortId,
    /// Path MTUs it has learnt, by destination address.
    pub pmtu: crate::net::ip::PmtuCache,
    /// Its ENIs, the primary (eth0) first; a connection leaves and enters through one of them.
    pub enis: Vec<EniRt>,
}

/// One ENI on the data path. The allowances that bound an instance's bandwidth, packets per
/// second and tracked connections are the instance's (EC2 user guide, "Monitor network
/// performance for your EC2 instance": "Amazon EC2 defines network maximums at the instance
/// level"), shared by its ENIs; what each ENI has of its own is its security groups, MTU, ENA
/// Express settings, connection-tracking timeouts (the API's `ConnectionTrackingSpecification`
/// is set "on an Elastic network interface"), its link-local allowance ("a maximum PPS per
/// network interface") and the ENA counters `ethtool -S` reports on it (re:Post, "Why is my
/// Amazon EC2 instance exceeding its network limits when average utilization is low?": "packets
/// queued or dropped on each network interface"), all read 2026-11-30.
pub struct EniRt {
    pub name: String,
    /// As the VPC's rules see it. nitrosim gives every ENI of an instance the instance's address
    /// and subnet (a secondary ENI's own address is not modelled).
    pub view: crate::ec2::vpc::EniView,
    pub mtu: u32,
    /// The network card it is attached to (`network_card_index`): whose bandwidth share its
    /// traffic uses.
    pub card: u32,
    pub ena_srd_enabled: bool,
    pub ena_srd_udp_enabled: bool,
    /// Idle timeouts of the connections tracked through it.
    pub conntrack_timeouts: crate::ec2::conntrack::Timeouts,
    /// Its link-local allowance (1024 packets/s) in front of the host's link-local services.
    pub linklocal: PortId,
    /// The counters ENA reports on this interface.
    pub counters: EniCounters,
}

/// Laid out by what a visit touches (`repr(C)`): the slot's own fields and the transport's hot groups
/// first, so that the run loop asks for [`EpSlot::VISIT_BYTES`] of it, not all of it.
#[repr(C, align(64))]
pub struct EpSlot {
    // --- Read by every visit: the slot's own fields, then the transport (laid out by visit) ---
    /// What this endpoint sent while eligible, and how much of it went over SRD: its part of
    /// its instance's `ena_srd_eligible_tx_pkts` and `ena_srd_tx_pkts`, kept here because the
    /// slot is at hand as a segment leaves, where the instance's counters at scale are a miss.
    /// Added to the instance's when the connection closes, or at the run's end.
    pub ena_srd_eligible_tx_pkts: u64,
    pub ena_srd_tx_pkts: u64,
    timer_at: Option<SimTime>,
    pub owner: Owner,
    pub generation: u32,
    pub peer: u32,
    /// The peer slot's generation, as packets to it carry it: fixed while both ends live (a
    /// connection's ends close together), and read from here as a segment leaves, where the
    /// peer's own slot at scale is a miss.
    pub peer_generation: u32,
    pub route: u32,
    /// Index into `Model::flows` for reported flows, `NONE` for background flows.
    pub flow: u32,
    timer_gen: u32,
    /// ENA Express: the SRD connection this endpoint's packets may take, the host route to the
    /// card's SRD engine and the receiving host's route after it (all `NONE` when not eligible).
    pub srd: SrdPath,
    /// The sending instance (for counters), or `NONE`.
    pub instance: u32,
    /// MTU of the sending interface: larger datagrams without DF are fragmented at the source.
    pub if_mtu: u32,
    /// What this endpoint sends is refused as it leaves (filter index), or `NONE`.
    pub tx_block: u32,
    /// What arrives for this endpoint is refused on the way in (filter index), or `NONE`.
    pub rx_block: u32,
    /// The instance whose connection-tracking table holds this connection (`NONE`: untracked).
    pub conntrack: u32,
    /// The instance whose entry for this connection idled out (`NONE`: none did): each packet
    /// is then evaluated by its security groups as a new flow, until one is allowed again.
    pub conntrack_lapsed: u32,
    /// The first port of the route its segments mostly take ([`EpSlot::tx_route`]): a segment
    /// on that route enters there without the route's line being read, and it is prefetched as
    /// a segment arrives, so that the answer it provokes finds its first port at hand.
    pub tx_first: PortId,
    pub live: bool,
    /// Both ENIs are ENA Express eligible (counted in `ena_srd_eligible_tx_pkts`).
    pub ena_express_eligible: bool,
    /// An EFA endpoint: every packet goes over SRD, whatever its size.
    pub efa: bool,
    pub transport: Endpoint,
    // --- Not read by a plain visit: connection tracking, NAT, capture, path MTU, actions ---
    /// The addresses and ports of what this endpoint sends.
    pub tuple: FiveTuple,
    /// When the entry last saw a packet, and how often the flow's direction turned (UDP streams).
    pub conntrack_seen: SimTime,
    pub conntrack_turns: u8,
    pub conntrack_last_out: bool,
    /// Index of the ENI (in its instance's `enis`) this endpoint sends and receives through.
    pub eni: u8,
}

impl EpSlot {
    /// Bytes from a slot's start that a visit reads: [an ACK's or a timer's, a data segment's].
    pub const VISIT_BYTES: [usize; 2] = [
        std::mem::offset_of!(EpSlot, transport) + Endpoint::VISIT_BYTES[0],
        std::mem::offset_of!(EpSlot, transport) + Endpoint::VISIT_BYTES[1],
    ];

    /// The route its segments mostly take: over SRD when it may, else its own.
    pub fn tx_route(&self) -> u32 {
        if self.srd.host_route != NONE { self.srd.host_route } else { self.route }
    }
}

/// A datagram being reassembled: its fragments are held (still packets, still in the pool).
pub struct Reasm {
    pub generation: u32,
    pub live: bool,
    pub endpoint: u32,
    pub instance: u32,
    pub id: u16,
    pub received: u32,
    /// Data bytes of the whole datagram, known once the last fragment arrived.
    pub total: Option<u32>,
    pub held: Vec<PacketId>,
}

impl Model {
    pub(crate) fn attach_host(&self, a: Attach) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].host,
            Attach::Host(h) => h,
            Attach::Service(i, _) => self.insts[i as usize].host,
        }
    }

    pub(crate) fn attach_ip(&self, a: Attach) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].ip,
            Attach::Host(h) => self.host_ip_base + h,
            Attach::Service(_, svc) => svc.ip(),
        }
    }

    /// The MTU of the interface a connection end uses: instance `i`'s ENI `eni`.
    pub(crate) fn eni_mtu(&self, a: Attach, eni: u8) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].enis[eni as usize].mtu,
            Attach::Host(_) | Attach::Service(..) => self.attach_mtu(a),
        }
    }

    pub(crate) fn attach_mtu(&self, a: Attach) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].enis[0].mtu,
            Attach::Host(_) | Attach::Service(..) => self.fabric_mtu,
        }
    }

    pub(crate) fn ephemeral_port(&mut self, a: Attach) -> u16 {
        let rng = match a {
            Attach::Instance(i) => &mut self.insts[i as usize].port_rng,
            Attach::Host(_) | Attach::Service(..) => &mut self.bg_port_rng,
        };
        rng.random_range(EPHEMERAL_PORTS)
    }

    /// A workload's name.
    pub(crate) fn app_name(&self, app: u32) -> &str {
        &self.app_names[app as usize]
    }

    /// Sender side of an instance's path: the vCPU RSS picks, a Nitro per-flow shaper at `cap`,
    /// the egress (allowance) shaper of the card ENI `eni` is on.
    pub(crate) fn push_host_tx(&mut self, i: u32, eni: u8, t: &FiveTuple, cap: Bandwidth, r: &mut Vec<PortId>) {
        let inst = &self.insts[i as usize];
        let q = (t.hash_salted(inst.rss_salt) % inst.cpu_tx.len() as u64) as usize;
        let (cpu, egress) = (inst.cpu_tx[q], inst.card_shapers[inst.enis[eni as usize].card as usize][0]);
        let shaper = self.add_port(PortConfig { rate: cap, ..self.flow_shaper }, i);
        if self.flow_shaper_noise_ppm > 0 {
            // Named after the flow's 5-tuple: its own stream whatever the order flows open in.
            let name = format!(
                "instance/{}/noise/flow/{}:{}-{}:{}/{}",
                self.insts[i as usize].name, t.src_ip, t.src_port, t.dst_ip, t.dst_port, t.protocol
            );
            let rng = self.streams.stream(&name);
            self.ports[shaper as usize].set_noise(crate::net::PortNoise::new(rng, 0, self.flow_shaper_noise_ppm));
        }
        r.extend([cpu, shaper, egress]);
        r.extend_from_slice(&self.insts[i as usize].tx_extra);
    }

    /// Receiver side: the ingress (allowance) shaper of the card ENI `eni` is on, then the vCPU
    /// RSS picks.
    pub(crate) fn push_host_rx(&self, j: u32, eni: u8, t: &FiveTuple, r: &mut Vec<PortId>) {
        let inst = &self.insts[j as usize];
        let q = (t.hash_salted(inst.rss_salt) % inst.cpu_rx.len() as u64) as usize;
        r.extend_from_slice(&inst.rx_extra);
        r.extend([inst.card_shapers[inst.enis[eni as usize].card as usize][1], inst.cpu_rx[q]]);
    }

    pub(crate) fn new_endpoint(
        &mut self,
        transport: Endpoint,
        route: u32,
        owner: Owner,
        flow: u32,
        tuple: FiveTuple,
    ) -> u32 {
        let slot = |generation| EpSlot {
            generation,
            live: true,
            transport,
            peer: NONE,
            peer_generation: 0,
            route,
            owner,
            flow,
            timer_at: None,
            timer_gen: 0,
            srd: SrdPath::NONE,
            ena_express_eligible: false,
            ena_srd_eligible_tx_pkts: 0,
            ena_srd_tx_pkts: 0,
            instance: NONE,
            efa: false,
            tuple,
            if_mtu: crate::net::ip::NO_MTU_LIMIT,
            tx_block: NONE,
            rx_block: NONE,
            conntrack: NONE,
            conntrack_lapsed: NONE,
            conntrack_seen: SimTime::ZERO,
            conntrack_turns: 0,
            conntrack_last_out: true,
            eni: 0,
            tx_first: self.routes.first_port(route),
        };
        match self.ep_free.pop() {
            Some(id) => {
                let g = self.eps[id as usize].generation;
                self.eps[id as usize] = slot(g);
                id
            }
            None => {
                crate::engine::reserve_huge(&mut self.eps, 1);
                self.eps.push(slot(0));
                (self.eps.len() - 1) as u32
            }
        }
    }

    /// Open a connection a -> b. Returns (client endpoint, server endpoint). TCP starts its
    /// handshake at once; the app is told when it is established.
    pub(crate) fn open(&mut self, a: Attach, b: Attach, proto: Proto, tag: ConnTag, dst_port: u16) -> (u32, u32) {
        let ConnTag { app, conn, flow } = tag;
        // The ENIs the workload chose for its two ends (the primaries unless it said otherwise).
        let [ea, eb] = self.app_enis.get(app as usize).copied().unwrap_or([0, 0]);
        if let (Attach::Instance(i), Attach::Instance(j)) = (a, b) {
            self.ensure_path(i, j);
        }
        let tuple = FiveTuple {
            src_ip: self.attach_ip(a),
            dst_ip: self.attach_ip(b),
            src_port: self.ephemeral_port(a),
            dst_port,
            protocol: match proto {
                Proto::Tcp => crate::ec2::vpc::PROTO_TCP,
                _ => crate::ec2::vpc::PROTO_UDP,
            },
        };
        let reverse = FiveTuple {
            src_ip: tuple.dst_ip,
            dst_ip: tuple.src_ip,
            src_port: tuple.dst_port,
            dst_port: tuple.src_port,
            ..tuple
        };
        // EFA traffic never takes the plain-ENA route: it goes to SRD from the device.
        let (r_ab, r_ba) = if matches!(proto, Proto::Efa(_)) {
            (NONE, NONE)
        } else {
            (self.build_route(a, [ea, eb], b, &tuple), self.build_route(b, [eb, ea], a, &reverse))
        };
        // Each side sends at most what its path MTU (interface, learnt PMTU) allows; TCP also
        // at most what the peer's MSS option says, which a gateway may have clamped.
        let (mtu_a, mtu_b) = (self.send_mtu(a, ea, b), self.send_mtu(b, eb, a));
        let (tc, ts) = match proto {
            Proto::Tcp => {
                let clamp = self.mss_clamp_mtu(a, b);
                let (ma, mb) = (mtu_a.min(self.eni_mtu(b, eb)).min(clamp), mtu_b.min(self.eni_mtu(a, ea)).min(clamp));
                (
                    Endpoint::Tcp(
                        crate::transport::Tcp::new(self.tcp.clone(), ma, true).advertising(self.eni_mtu(a, ea)),
                    ),
                    Endpoint::Tcp(
                        crate::transport::Tcp::new(self.tcp.clone(), mb, false).advertising(self.eni_mtu(b, eb)),
                    ),
                )
            }
            Proto::Udp { df } => (
                Endpoint::Udp(crate::transport::Udp::new(mtu_a, df)),
                Endpoint::Udp(crate::transport::Udp::new(mtu_b, df)),
            ),
            Proto::Efa(_) => {
                let mtu = self.eni_mtu(a, ea).min(self.eni_mtu(b, eb)).min(crate::ec2::ena_express::MAX_PACKET_BYTES);
                (
                    Endpoint::Efa(crate::transport::efa::Efa::new(mtu)),
                    Endpoint::Efa(crate::transport::efa::Efa::new(mtu)),
                )
            }
        };
        let c = self.new_endpoint(tc, r_ab, Owner { app, conn, side: Side::Client }, flow, tuple);
        let s = self.new_endpoint(ts, r_ba, Owner { app, conn, side: Side::Server }, flow, reverse);
        self.eps[c as usize].peer = s;
        self.eps[s as usize].peer = c;
        self.eps[c as usize].peer_generation = self.eps[s as usize].generation;
        self.eps[s as usize].peer_generation = self.eps[c as usize].generation;
        self.eps[c as usize].if_mtu = self.eni_mtu(a, ea);
        self.eps[s as usize].if_mtu = self.eni_mtu(b, eb);
        for (ep, from, to, t, enis) in [(c, a, b, tuple, [ea, eb]), (s, b, a, reverse, [eb, ea])] {
            let srd = if let Proto::Efa(card) = proto {
                self.build_efa_path(from, to, card)
            } else {
                self.build_srd_path(from, to, enis, &t, proto)
            };
            let (instance, eligible) = match (from, to) {
                (Attach::Instance(i), Attach::Instance(j)) => (
                    i,
                    crate::ec2::ena_express::eligible(&self.ena_express_ends([i, j], enis)).is_ok()
                        && !self.paths.contains_key(&(i, j)),
                ),
                (Attach::Instance(i), _) => (i, false),
                _ => (NONE, false),
            };
            self.eps[ep as usize].srd = srd;
            let tx_first = self.routes.first_port(self.eps[ep as usize].tx_route());
            let slot = &mut self.eps[ep as usize];
            slot.tx_first = tx_first;
            slot.instance = instance;
            slot.ena_express_eligible = eligible && !matches!(proto, Proto::Efa(_));
            slot.efa = matches!(proto, Proto::Efa(_));
            slot.eni = enis[0];
        }
        if let (Attach::Instance(i), Attach::Instance(j)) = (a, b) {
            self.apply_filters(proto, (i, j), (c, s), &tuple);
        }
        if proto == Proto::Tcp {
            self.drive(c, None, |t, now, out| t.connect(now, out));
        }
        (c, s)
    }

    /// Start loading where endpoint `ep`'s next segment will go: its route and first port.
    #[inline(always)]
    fn prefetch_tx(&self, ep: u32) {
        let slot = &self.eps[ep as usize];
        self.routes.prefetch(slot.tx_route());
        self.prefetch_port(slot.tx_first);
    }

    /// Call one of endpoint `ep`'s transport entry points with the shared outbox, then turn its
    /// output into packets and notifications. `born` is the arriving packet's birth, if any.
    pub(crate) fn drive(
        &mut self,
        ep: u32,
        born: Option<SimTime>,
        call: impl FnOnce(&mut Endpoint, SimTime, &mut Outbox),
    ) {
        let now = self.now();
        let mut out = std::mem::take(&mut self.outbox);
        out.clear();
        call(&mut self.eps[ep as usize].transport, now, &mut out);
        self.outbox = out;
        self.flush(ep, born.unwrap_or(now));
    }

    /// Close a connection and recycle its slots; packets still in flight to it are dropped
    /// on arrival as `no_socket` (the generation check).
    pub(crate) fn close(&mut self, c: u32, s: u32) {
        self.nat_forget(s);
        for ep in [c, s] {
            let tracked_by = self.eps[ep as usize].conntrack;
            if tracked_by != NONE {
                self.insts[tracked_by as usize].conntrack_tracked -= 1;
            }
            self.fold_ena_srd_tx(ep);
            let slot = &mut self.eps[ep as usize];
            debug_assert!(slot.live);
            slot.live = false;
            slot.generation = slot.generation.wrapping_add(1);
            slot.timer_gen = slot.timer_gen.wrapping_add(1);
            if slot.route != NONE {
                self.routes.release(slot.route);
            }
            if slot.srd.ctx != NONE {
                self.routes.release(slot.srd.host_route);
                self.routes.release(slot.srd.then_route);
            }
            self.ep_free.push(ep);
        }
    }

    /// The application on endpoint `ep` will write nothing more.
    pub(crate) fn ep_close(&mut self, ep: u32) {
        self.drive(ep, None, |t, now, out| t.close(now, out));
    }

    /// The application on endpoint `ep` writes `bytes`.
    pub(crate) fn ep_send(&mut self, ep: u32, bytes: u64) {
        self.drive(ep, None, |t, now, out| t.send(now, bytes, out));
    }

    /// Turn the transport's output into packets and app notifications, then re-arm its timer.
    pub(crate) fn flush(&mut self, ep: u32, born: SimTime) {
        let mut out = std::mem::take(&mut self.outbox);
        for i in 0..out.notes.len() {
            let note = out.notes[i];
            self.log_note(ep, note);
        }
        for i in 0..out.segments.len() {
            let seg = out.segments[i];
            self.inject(ep, seg);
        }
        let (delivered, established) = (out.delivered_bytes, out.established);
        out.clear();
        self.outbox = out;
        let owner = self.eps[ep as usize].owner;
        if established {
            self.app_established(owner, ep);
        }
        if delivered > 0 {
            self.account_delivery(ep, delivered);
            self.app_delivered(owner, ep, delivered, born);
        } else if owner.side == Side::Client && matches!(self.apps[owner.app as usize], App::Background(_)) {
            // The last ACK of a background flow frees its connection.
            self.background_maybe_close(owner);
        }
        self.rearm_timer(ep);
    }

    pub(crate) fn rearm_timer(&mut self, ep: u32) {
        let slot = &mut self.eps[ep as usize];
        if !slot.live {
            return;
        }
        let Some(want) = slot.transport.poll_at() else {
            return;
        };
        if slot.timer_at.is_some_and(|t| t <= want) {
            return; // an earlier wake-up is pending; it will re-arm for `want`
        }
        slot.timer_gen = slot.timer_gen.wrapping_add(1);
        slot.timer_at = Some(want);
        let generation = slot.timer_gen;
        let at = want.max(self.q.now());
        self.q.schedule_at(at, Event::Timer { ep, generation });
    }

    pub(crate) fn on_timer(&mut self, ep: u32, generation: u32) {
        let slot = &mut self.eps[ep as usize];
        if !slot.live || slot.timer_gen != generation {
            return; // stale: superseded or the connection is gone
        }
        slot.timer_at = None;
        self.prefetch_tx(ep);
        self.drive(ep, None, |t, now, out| t.on_timer(now, out));
    }

    /// A segment from endpoint `ep` enters the network: over SRD when ENA Express engages for
    /// this connection and the packet is small enough, otherwise over plain ENA (silently).
    pub(crate) fn inject(&mut self, ep: u32, seg: Segment) {
        let slot = &mut self.eps[ep as usize];
        let peer = slot.peer;
        // A datagram bigger than the interface is fragmented first, and fragments go plain ENA.
        let via_srd = slot.srd.ctx != NONE
            && (slot.efa
                || (seg.wire_bytes <= crate::ec2::ena_express::MAX_PACKET_BYTES && seg.wire_bytes <= slot.if_mtu));
        if slot.ena_express_eligible {
            slot.ena_srd_eligible_tx_pkts += 1;
            slot.ena_srd_tx_pkts += via_srd as u64;
        }
        let slot = &self.eps[ep as usize];
        let (route, sink, then_route) = if via_srd {
            (slot.srd.host_route, Sink::SrdSend(slot.srd.ctx), slot.srd.then_route)
        } else {
            (slot.route, Sink::Endpoint, NONE)
        };
        let (tx_block, if_mtu) = (slot.tx_block, slot.if_mtu);
        debug_assert!(
            !slot.live || self.eps[peer as usize].generation == slot.peer_generation,
            "a live endpoint's peer keeps the generation it had when they connected"
        );
        let pkt = Packet {
            seg,
            wire_bytes: seg.wire_bytes,
            route,
            hop: 0,
            sink,
            dst_endpoint: peer,
            dst_generation: slot.peer_generation,
            born: self.q.now(),
            then_route,
            srd: SrdHeader::default(),
            lossy: !via_srd,
            ..Packet::default()
        };
        if !via_srd && seg.wire_bytes > if_mtu {
            // Larger than the interface: the sender's IP layer fragments it (DF is never set on
            // such a packet: TCP keeps to its MSS and UDP with DF to the MTU).
            debug_assert!(!seg.df, "a DF packet larger than its interface");
            self.fragment_at_source(ep, pkt, if_mtu, tx_block);
            return;
        }
        self.emit_packet(ep, pkt, tx_block);
    }

    /// A packet leaves endpoint `ep`'s instance: captured there, refused by its outbound filters
    /// or sent on its route.
    pub(crate) fn emit_packet(&mut self, ep: u32, pkt: Packet, tx_block: u32) {
        let inst = self.eps[ep as usize].instance;
        if self.capture.is_some() && inst != NONE {
            self.capture_at_instance(inst, &pkt);
        }
        let id = self.alloc_packet(pkt);
        self.acct.sent += 1;
        if tx_block != NONE {
            self.drop_filtered(id, tx_block, inst);
            return;
        }
        if let Some(f) = self.conntrack_touch(ep, true) {
            self.drop_filtered(id, f, inst);
            return;
        }
        // The first port as the endpoint keeps it for the route its segments mostly take: the
        // offer then does not wait for the route's line, which the new packet's copy reads.
        let slot = &self.eps[ep as usize];
        let first = if pkt.route == slot.tx_route() { slot.tx_first } else { self.routes.port(pkt.route, 0) };
        debug_assert_eq!(first, self.routes.port(pkt.route, 0));
        self.offer(id, first);
    }

    pub(crate) fn deliver_to_endpoint(&mut self, id: PacketId, p: Packet) {
        let ep = p.dst_endpoint;
        let slot = &self.eps[ep as usize];
        if !slot.live || slot.generation != p.dst_generation {
            self.drop_packet(id, DropReason::NoSocket, NONE);
            return;
        }
        // An endpoint lives on the instance it sends from.
        let receiver = slot.instance;
        if slot.rx_block != NONE {
            self.drop_filtered(id, slot.rx_block, receiver);
            return;
        }
        if let Some(f) = self.conntrack_touch(ep, false) {
            self.drop_filtered(id, f, receiver);
            return;
        }
        if self.capture.is_some() && receiver != NONE {
            self.capture_at_instance(receiver, &p);
        }
        if p.frag.is_fragment() {
            self.reassemble(id, p, receiver);
            return;
        }
        self.pool.free(id);
        self.acct.delivered += 1;
        self.hand_to_endpoint(ep, p);
    }

    /// A whole packet (or a reassembled datagram) reaches its endpoint's transport.
    pub(crate) fn hand_to_endpoint(&mut self, ep: u32, p: Packet) {
        let slot = &self.eps[ep as usize];
        if p.seg.payload_bytes > 0 && matches!(p.seg.kind, SegKind::Data | SegKind::Datagram) {
            let f = slot.flow;
            self.prefetch_delivery(slot.owner);
            if f != NONE {
                self.flows[f as usize].wire_rx += p.seg.wire_bytes as u64;
            }
        }
        self.prefetch_tx(ep);
        self.drive(ep, Some(p.born), |t, now, out| t.on_segment(now, &p.seg, out));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_asks_for_fewer_lines_than_the_slot_holds() {
        let lines = std::mem::size_of::<EpSlot>() / 64;
        let [ack, data] = EpSlot::VISIT_BYTES.map(|b: usize| b.div_ceil(64));
        assert_eq!(std::mem::size_of::<EpSlot>() % 64, 0, "slots start on a line");
        // 1 080 bytes before the layout by visit, 17 or 18 lines as a slot fell; 1 024 since the
        // TCP state's options are packed: a field added to the hot groups should be weighed
        // against the lines every visit asks for.
        assert!(lines <= 16, "an endpoint slot grew to {lines} lines");
        assert!(data < ack && ack < lines, "a visit asks for {ack} (ACK) or {data} (data) of {lines} lines");
        // What `Tcp`'s layout comment and the docs state (a data visit's prefix has 3 bytes to
        // spare): a change here should be measured and the comment mended.
        assert!(data <= 10 && ack <= 15, "a visit asks for {ack} (ACK) or {data} (data) lines, not 15 or 10");
    }
}
