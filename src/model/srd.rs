//! SRD in the Nitro cards, glued into the packet path. One SRD connection per ordered pair of
//! instances (card to card), shared by every flow between them, as SRD multiplexes flows:
//!
//! host packet --(vCPU, 25 Gbps flow shaper, egress shaper)--> SrdSend: the sending card takes it
//!   -> SRD data packet on the path the sender picks --(fabric)--> SrdReceive: the receiving card
//!      acknowledges it (SRD ACK --(fabric)--> SrdAcked) and reorders it into sequence
//!   -> the inner packet, in order --(receive processing, ingress shaper, vCPU)--> the endpoint.
//!
//! A path is an entropy value: the outer UDP source port the switches hash on, so path k goes
//! over whichever spine ECMP gives that value (several paths may share a spine, as on EC2).

use super::{Event, Model, NONE};
use crate::engine::rng::StreamRng;
use crate::net::fabric::FiveTuple;
use crate::net::{DropReason, Packet, PacketId, PortId, Segment, Sink, SrdHeader};
use crate::transport::srd::{SrdAck, SrdReceiver, SrdSender};
use crate::units::{SimDuration, SimTime};

/// Outer UDP destination port of the encapsulation (any fixed value: ECMP hashes it).
pub(crate) const SRD_OUTER_PORT: u16 = 4791;
/// Packets an EFA connection may hold waiting for SRD's window: enough for any message the
/// scenario limits allow (validation caps messages at 1 GiB), so the device never drops.
const EFA_SEND_QUEUE_PACKETS: u32 = 1 << 20;
/// First entropy value; path k uses source port `SRD_ENTROPY_BASE + k`.
pub(crate) const SRD_ENTROPY_BASE: u16 = 49152;

/// What SRD carries for the host: the packet as it left the host, and where it goes after.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inner {
    pub seg: Segment,
    pub dst_endpoint: u32,
    pub dst_generation: u32,
    pub born: SimTime,
    pub then_route: u32,
}

impl Inner {
    fn of(p: &Packet) -> Inner {
        Inner {
            seg: p.seg,
            dst_endpoint: p.dst_endpoint,
            dst_generation: p.dst_generation,
            born: p.born,
            then_route: p.then_route,
        }
    }

    /// The packet that carries this payload on a leg: over `route` to `sink`, `wire_bytes` long.
    fn packet(&self, route: u32, sink: Sink, wire_bytes: u32, srd: SrdHeader, lossy: bool) -> Packet {
        Packet {
            seg: self.seg,
            wire_bytes,
            route,
            hop: 0,
            sink,
            dst_endpoint: self.dst_endpoint,
            dst_generation: self.dst_generation,
            born: self.born,
            then_route: self.then_route,
            srd,
            lossy,
            frag: Default::default(),
            ahead: Default::default(),
        }
    }
}

/// Payloads SRD holds, shared by every connection: the sending cards' until acknowledged (or
/// given up on), the receiving cards' while they reorder. Senders and reorder buffers keep 4-byte
/// handles, so memory follows the packets actually held rather than each connection's limits,
/// and a payload is written to the slot freed last, by any connection, a line still in cache,
/// where a connection's own ring would write lines it last touched a round trip ago (a miss per
/// packet at scale).
pub struct SrdPayloads {
    slots: Vec<Inner>,
    free: Vec<u32>,
}

impl Default for SrdPayloads {
    fn default() -> Self {
        SrdPayloads { slots: crate::engine::huge_vec(0), free: Vec::new() }
    }
}

impl SrdPayloads {
    fn hold(&mut self, inner: Inner) -> u32 {
        match self.free.pop() {
            Some(h) => {
                self.slots[h as usize] = inner;
                h
            }
            None => {
                crate::engine::reserve_huge(&mut self.slots, 1);
                self.slots.push(inner);
                u32::try_from(self.slots.len() - 1).expect("more than 2^32 SRD payloads held")
            }
        }
    }

    fn release(&mut self, h: u32) -> Inner {
        self.free.push(h);
        self.slots[h as usize]
    }

    fn get(&self, h: u32) -> &Inner {
        &self.slots[h as usize]
    }
}

/// One path's routes: its data packets' (send processing + fabric) and their ACKs'. An ACK
/// route id points one port into a stored route (the reverse connection's data route, after
/// its SRD stage), so these routes are never released: `Routes::release` (`model/routing.rs`)
/// takes the start of a stored route.
#[derive(Clone, Copy, Debug)]
pub struct PathRoutes {
    pub(crate) data: u32,
    pub(crate) ack: u32,
}

/// Laid out by side (`repr(C)`): the receiving card's state, then what both sides read, then the
/// sending card's state, so that the run loop can ask events ahead for the lines the coming
/// side touches and not the whole connection (24 lines: a data packet's receipt reads three; the
/// sending side's state about six more; the sender's queues after it are left out).
#[repr(C)]
pub struct SrdCtx {
    /// Holds handles into [`SrdPayloads`].
    pub receiver: SrdReceiver<u32>,
    pub src: u32,
    pub dst: u32,
    /// ENA Express (reordered in the card) rather than EFA (unordered).
    pub ordered: bool,
    /// The first ports of its data packets' and its ACKs' routes, the same on every path (the
    /// sending card's SRD stage, the receiving card's port onto the wire; checked as the
    /// connection is made): a new packet enters there without its route's line being read, and
    /// they are prefetched when the card is about to send either.
    data_first: PortId,
    ack_first: PortId,
    timer_gen: u32,
    timer_at: Option<SimTime>,
    /// Holds handles into [`SrdPayloads`].
    pub sender: SrdSender<u32, StreamRng>,
}

impl SrdCtx {
    /// Start loading what a data packet's receipt reads (`Model::srd_receive`). A hint.
    #[inline(always)]
    pub(crate) fn prefetch_receive_side(&self) {
        crate::engine::prefetch_bytes(self as *const Self as usize, std::mem::offset_of!(SrdCtx, sender));
    }

    /// Start loading what sending, an ACK's receipt and the timer read. A hint.
    #[inline(always)]
    pub(crate) fn prefetch_send_side(&self) {
        // Up to the sender's queues, held in its own lines. What says where their ends are (each
        // queue's cursors) is not among these lines: `SrdSender::prefetch_send` reads it when the
        // event runs and asks for the ends. Asking for the three cursors' lines here as well was
        // no faster (paired at 8192 hosts: 1.024, 0.987-1.081).
        let start = std::mem::offset_of!(SrdCtx, src);
        let end = std::mem::offset_of!(SrdCtx, sender) + SrdSender::<u32, StreamRng>::STATE_BYTES;
        crate::engine::prefetch_bytes(self as *const Self as usize + start, end - start);
    }
}

impl Model {
    /// The SRD connection from instance `i` to `j`, created on first use: for ENA Express
    /// (`efa_card` None: the receiving card reorders), or for EFA on one network card of each end
    /// (unordered: libfabric copes; paced to the card's line rate, as nothing else shapes it).
    pub(crate) fn srd_context(&mut self, i: u32, j: u32, efa_card: Option<u16>) -> u32 {
        if let Some(&c) = self.srd_index.get(&(i, j, efa_card)) {
            return c;
        }
        let ordered = efa_card.is_none();
        let paths = self.srd_cfg.paths;
        let mut r = std::mem::take(&mut self.scratch_route);
        // The paths' RTT with empty queues: a full-size SRD packet out, an ACK back.
        let mut unloaded = SimDuration(u64::MAX);
        let data_bytes = crate::ec2::ena_express::MAX_PACKET_BYTES + self.srd_cfg.header_bytes;
        let ack_bytes = self.srd_cfg.ack_bytes;
        // Every route is stored led by the sending card's SRD stage: [stage, fabric..]. A data
        // packet takes all of it; an ACK, sent by the card at the other end, takes the same
        // route after the stage, so the ACKs of path k from j to i ride on what is the data
        // route of path k of the connection j -> i (the same entropy hashed from the same ToR
        // picks the same spine). Whichever of the two connections comes first stores both, and
        // the second shares them: half the route memory of a two-way pair.
        let reverse = self.srd_index.get(&(j, i, efa_card)).copied();
        // A route between two hosts is fixed by the spine it crosses (the only hop ECMP picks), so
        // paths whose entropy hashes to the same spine share one stored route and its unloaded
        // transit (128 paths over 32 spines: a quarter of the route memory, fewer cache lines on
        // the hop path), each built once, in the order the paths first reach it.
        let spines = self.fabric.config.spines.max(1) as usize;
        let mut data_by_spine: Vec<Option<(u32, SimDuration)>> = vec![None; spines];
        let mut ack_by_spine: Vec<Option<(u32, SimDuration)>> = vec![None; spines];
        for k in 0..paths {
            let (spine_out, spine_back) = self.srd_path_spines(i, j, k);
            let (data, there) = *data_by_spine[spine_out as usize].get_or_insert_with(|| {
                let data = match reverse {
                    Some(rc) => self.path_routes(rc, k as u16).ack - 1,
                    None => self.store_srd_route(i, j, spine_out, &mut r),
                };
                (data, self.unloaded_transit(self.routes.get(data), data_bytes))
            });
            let (ack, back) = *ack_by_spine[spine_back as usize].get_or_insert_with(|| {
                let ack = match reverse {
                    Some(rc) => self.path_routes(rc, k as u16).data + 1,
                    None => self.store_srd_route(j, i, spine_back, &mut r) + 1,
                };
                (ack, self.unloaded_transit(self.routes.get(ack), ack_bytes))
            });
            unloaded = unloaded.min(there + back);
            crate::engine::reserve_huge(&mut self.srd_path_routes, 1);
            self.srd_path_routes.push(PathRoutes { data, ack });
        }
        // Where data and ACKs enter, on path 0 and so on every path (a new packet is offered
        // there, `srd_flush` and `srd_receive`); a scenario has at least one path, and every
        // route at least one port.
        let connection_paths = &self.srd_path_routes[self.srd_path_routes.len() - paths as usize..];
        let first = [self.routes.at(connection_paths[0].data), self.routes.at(connection_paths[0].ack)];
        assert!(
            connection_paths.iter().all(|p| [self.routes.at(p.data), self.routes.at(p.ack)] == first),
            "an SRD connection's paths start at different ports"
        );
        self.scratch_route = r;
        let kind = efa_card.map(|k| format!("/efa{k}")).unwrap_or_default();
        let name = format!("srd/{}->{}{kind}", self.insts[i as usize].name, self.insts[j as usize].name);
        let rng: StreamRng = self.streams.stream(&name);
        let cfg = self.srd_cfg.clone();
        crate::engine::reserve_huge(&mut self.srd_ctxs, 1);
        self.srd_ctxs.push(SrdCtx {
            src: i,
            dst: j,
            receiver: SrdReceiver::new(cfg.reorder_buffer, ordered && cfg.deliver_in_order),
            sender: SrdSender::new(cfg, rng),
            ordered,
            timer_at: None,
            timer_gen: 0,
            data_first: first[0],
            ack_first: first[1],
        });
        let c = (self.srd_ctxs.len() - 1) as u32;
        debug_assert_eq!(self.srd_path_routes.len(), self.srd_ctxs.len() * paths as usize);
        self.srd_ctxs[c as usize].sender.set_unloaded_rtt(unloaded);
        if efa_card.is_some() {
            let t = self.insts[i as usize].ty;
            let card_rate = crate::units::Bandwidth(t.bandwidth_mbps * 1_000_000 / t.network_cards as u64);
            self.srd_ctxs[c as usize].sender.set_max_rate(card_rate);
            self.srd_ctxs[c as usize].sender.set_send_queue(EFA_SEND_QUEUE_PACKETS);
        }
        self.srd_index.insert((i, j, efa_card), c);
        c
    }

    /// The sending card takes a host packet into SRD.
    pub(crate) fn srd_take(&mut self, id: PacketId, ctx: u32) {
        self.srd_prefetch_send(ctx);
        let now = self.now();
        let p = self.pool.get(id);
        let bytes = p.wire_bytes + self.srd_cfg.header_bytes;
        let held = self.srd_payloads.hold(Inner::of(p));
        let mut out = std::mem::take(&mut self.srd_send_out);
        out.clear();
        self.srd_ctxs[ctx as usize].sender.send(now, held, bytes, &mut out);
        if out.gave_up.is_empty() {
            self.pool.free(id);
            self.acct.delivered += 1;
        } else {
            // The card's SRD queue is full: the host packet is dropped, TCP will recover.
            debug_assert_eq!(out.gave_up, [held]);
            self.srd_payloads.release(held);
            out.gave_up.clear();
            let owner = self.srd_ctxs[ctx as usize].src;
            self.drop_packet(id, DropReason::SrdQueueFull, owner);
        }
        self.srd_send_out = out;
        self.srd_flush(ctx);
    }

    /// Start loading what the sender of `ctx` reads when it may send (its queues' heads, the
    /// paths its next pick looks at) and what sending then reads here: those paths' routes and
    /// the first port of a data route. The routes' ids are a miss of their own at scale (one
    /// entry per connection and path), which otherwise waits for the pick. Hints only.
    fn srd_prefetch_send(&self, ctx: u32) {
        let c = &self.srd_ctxs[ctx as usize];
        self.prefetch_port(c.data_first);
        c.sender.prefetch_send();
        if let Some(routes) = self.connection_path_routes(ctx).get(c.sender.next_pick_window()) {
            crate::engine::prefetch_slice(routes);
        }
    }

    /// Put the sender's transmissions on the wire and re-arm its timer.
    fn srd_flush(&mut self, ctx: u32) {
        let now = self.now();
        let mut out = std::mem::take(&mut self.srd_send_out);
        // All the routes first, so that their misses overlap.
        for t in &out.transmit {
            self.routes.prefetch(self.path_routes(ctx, t.path).data);
            crate::engine::prefetch(self.srd_payloads.get(t.payload), usize::MAX);
        }
        // Every path's data route starts at the sending card's SRD stage: named here, the offer
        // need not wait for the route's line, which the packet's copy of its route then reads.
        let first = self.srd_ctxs[ctx as usize].data_first;
        for t in out.transmit.drain(..) {
            let routes = self.path_routes(ctx, t.path);
            let floor_behind = u32::try_from(t.seq - t.floor).unwrap_or(u32::MAX);
            let header =
                SrdHeader { seq: t.seq, floor_behind, path: t.path, sent_at: now, ect: self.srd_cfg.ecn, ce: false };
            // The ACK's route rides along (same entry, at hand): the receiving card would
            // otherwise read it from the table, a miss per packet at scale.
            let pkt =
                self.srd_payloads.get(t.payload).packet(routes.data, Sink::SrdReceive(ctx), t.bytes, header, true);
            self.send_packet_entering(pkt, first, Some(routes.ack));
        }
        // Payloads SRD gave up on after its retries: the host transport will see the loss.
        out.gave_up.clear();
        for &held in &out.released {
            self.srd_payloads.release(held);
        }
        out.released.clear();
        self.srd_send_out = out;
        let c = &mut self.srd_ctxs[ctx as usize];
        let Some(want) = c.sender.poll_at() else { return };
        if c.timer_at.is_some_and(|t| t <= want) {
            return;
        }
        c.timer_gen = c.timer_gen.wrapping_add(1);
        c.timer_at = Some(want);
        let generation = c.timer_gen;
        self.q.schedule_at(want.max(now), Event::SrdTimer { ctx, generation });
    }

    pub(crate) fn srd_timer(&mut self, ctx: u32, generation: u32) {
        let c = &mut self.srd_ctxs[ctx as usize];
        if c.timer_gen != generation {
            return;
        }
        c.timer_at = None;
        self.srd_prefetch_send(ctx);
        let now = self.q.now();
        let mut out = std::mem::take(&mut self.srd_send_out);
        out.clear();
        self.srd_ctxs[ctx as usize].sender.on_timer(now, &mut out);
        self.srd_send_out = out;
        self.srd_flush(ctx);
    }

    /// The receiving card gets an SRD data packet: acknowledge, reorder, hand up in sequence.
    pub(crate) fn srd_receive(&mut self, id: PacketId, ctx: u32) {
        let p = self.pool.get(id);
        let srd = p.srd;
        // What the ACK and the packets handed up will need once the receiver has decided: the
        // ACK's first port and route, the receiving host's route (most likely this packet's).
        self.prefetch_port(self.srd_ctxs[ctx as usize].ack_first);
        self.routes.prefetch(p.then_route);
        // An ACK goes back on its data packet's path: the route the packet carries, unless its
        // own route was too long to leave room (`srd_flush`).
        let ack_route = p.carried().unwrap_or_else(|| self.path_routes(ctx, srd.path).ack);
        debug_assert_eq!(ack_route, self.path_routes(ctx, srd.path).ack);
        self.routes.prefetch(ack_route);
        let held = self.srd_payloads.hold(Inner::of(p));
        let mut out = std::mem::take(&mut self.srd_recv_out);
        out.clear();
        let floor = srd.seq - srd.floor_behind as u64;
        self.srd_ctxs[ctx as usize].receiver.on_data(srd.seq, floor, srd.path, srd.sent_at, srd.ce, held, &mut out);
        // Kept only if the buffer took it and it is not handed up below.
        if out.refused || out.duplicate {
            self.srd_payloads.release(held);
        }
        let dst = self.srd_ctxs[ctx as usize].dst;
        if out.refused {
            self.drop_packet(id, DropReason::ReorderBufferFull, dst);
        } else {
            // ENA Express's `ena_srd_rx_pkts` is the receivers' count of the packets they took,
            // added up per instance at the run's end (`Model::fold_hot_counters`): an increment
            // here, on a per-instance counter, was a miss of its own per packet at scale.
            self.pool.free(id);
            self.acct.delivered += 1;
        }
        if let Some(ack) = out.ack {
            debug_assert_eq!(ack.path, srd.path, "an ACK goes back on its data packet's path");
            let ack_bytes = self.srd_cfg.ack_bytes;
            // Every path's ACK route starts at the receiving card's port onto the wire.
            let first = self.srd_ctxs[ctx as usize].ack_first;
            self.send_packet_entering(
                Packet {
                    seg: Segment::default(),
                    wire_bytes: ack_bytes,
                    route: ack_route,
                    hop: 0,
                    sink: Sink::SrdAcked(ctx),
                    dst_endpoint: NONE,
                    dst_generation: 0,
                    born: self.now(),
                    then_route: NONE,
                    srd: SrdHeader {
                        seq: ack.seq,
                        path: ack.path,
                        sent_at: ack.sent_at,
                        ce: ack.ce,
                        ..SrdHeader::default()
                    },
                    lossy: true,
                    ..Packet::default()
                },
                first,
                None,
            );
        }
        for i in 0..out.deliver.len() {
            let inner = self.srd_payloads.release(out.deliver[i]);
            let pkt = inner.packet(inner.then_route, Sink::Endpoint, inner.seg.wire_bytes, SrdHeader::default(), false);
            self.send_packet(Packet { then_route: NONE, ..pkt });
        }
        out.clear();
        self.srd_recv_out = out;
    }

    pub(crate) fn path_routes(&self, ctx: u32, path: u16) -> PathRoutes {
        self.connection_path_routes(ctx)[path as usize]
    }

    /// Connection `ctx`'s routes, one entry per path.
    fn connection_path_routes(&self, ctx: u32) -> &[PathRoutes] {
        let paths = self.srd_cfg.paths as usize;
        &self.srd_path_routes[ctx as usize * paths..][..paths]
    }

    /// Store the route from instance a's SRD stage to b through `spine`: the data route of a
    /// path from a to b, and after its first port the ACK route of a path from b to a. `r`:
    /// scratch.
    fn store_srd_route(&mut self, a: u32, b: u32, spine: u32, r: &mut Vec<PortId>) -> u32 {
        r.clear();
        r.push(self.insts[a as usize].srd_tx_proc);
        self.push_fabric_via(super::Attach::Instance(a), super::Attach::Instance(b), spine, r);
        self.store_route(r)
    }

    /// The spines path `k` of the SRD connection i -> j crosses: its data packets' and its
    /// ACKs' (0 within a rack, where none is crossed). Its entropy is the outer source port,
    /// hashed by the sending host's ToR in each direction.
    pub(crate) fn srd_path_spines(&self, i: u32, j: u32, k: u32) -> (u32, u32) {
        let (ha, hb) = (self.insts[i as usize].host, self.insts[j as usize].host);
        if self.fabric.rack_of(ha) == self.fabric.rack_of(hb) {
            return (0, 0);
        }
        let (ip_a, ip_b) = (self.insts[i as usize].ip, self.insts[j as usize].ip);
        let entropy = SRD_ENTROPY_BASE.wrapping_add(k as u16);
        let out = FiveTuple { src_ip: ip_a, dst_ip: ip_b, src_port: entropy, dst_port: SRD_OUTER_PORT, protocol: 17 };
        let back = FiveTuple { src_ip: ip_b, dst_ip: ip_a, ..out };
        (self.fabric.ecmp_spine(ha, &out), self.fabric.ecmp_spine(hb, &back))
    }

    /// Time a packet of `bytes` takes over `route` when every queue on it is empty: each port's
    /// line time and delay (noise-free).
    fn unloaded_transit(&self, route: &[PortId], bytes: u32) -> SimDuration {
        route.iter().fold(SimDuration::ZERO, |t, &p| {
            let port = &self.ports[p as usize];
            t + port.service_time(bytes) + port.config.delay
        })
    }

    /// The sending card gets an SRD acknowledgement.
    pub(crate) fn srd_acked(&mut self, id: PacketId, ctx: u32) {
        self.srd_prefetch_send(ctx);
        let srd = self.pool.get(id).srd;
        self.pool.free(id);
        self.acct.delivered += 1;
        let now = self.now();
        let ack = SrdAck { seq: srd.seq, path: srd.path, sent_at: srd.sent_at, ce: srd.ce };
        self.srd_ctxs[ctx as usize].sender.prefetch_ack(&ack);
        let mut out = std::mem::take(&mut self.srd_send_out);
        out.clear();
        self.srd_ctxs[ctx as usize].sender.on_ack(now, ack, &mut out);
        self.srd_send_out = out;
        self.srd_flush(ctx);
    }
}
