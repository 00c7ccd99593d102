//! The model's IP layer: what happens to a packet too big for a gateway (fragmented, or dropped
//! with an ICMP "fragmentation needed" back to its sender), reassembly at the receiver, the
//! sender's path MTU cache, the VPC's filters (security groups, network ACLs) applied to each
//! connection. The event log and captures that let a person watch it happen are `trace.rs`.

use super::trace::LogEntry;
use super::{Attach, Event, Model, NONE, Proto, Reasm};
use crate::ec2::vpc::{Direction, EniView, Refusal};
use crate::net::fabric::FiveTuple;
use crate::net::ip::{self, FragInfo, ICMP_FRAG_NEEDED_WIRE_BYTES, IPV4_HEADER_BYTES, NO_MTU_LIMIT};
use crate::net::{DropReason, Packet, PacketId, PortId, Sink};
use crate::transport::Transport;

impl Model {
    // ------------------------------------------------------------ path MTU at connection open

    /// The largest packet `a` sends towards `b` through its ENI `eni`: that interface's MTU, or less if it has learnt a
    /// smaller path MTU to `b` that has not expired.
    pub(crate) fn send_mtu(&self, a: Attach, eni: u8, b: Attach) -> u32 {
        let own = self.eni_mtu(a, eni);
        match a {
            Attach::Instance(i) => {
                let dst = self.attach_ip(b);
                self.insts[i as usize].pmtu.get(dst, self.now()).map_or(own, |m| m.min(own))
            }
            Attach::Host(_) | Attach::Service(..) => own,
        }
    }

    /// MSS clamping by a gateway on the path, as the MTU whose MSS option it leaves (MSS + 40).
    pub(crate) fn mss_clamp_mtu(&self, a: Attach, b: Attach) -> u32 {
        let (Attach::Instance(i), Attach::Instance(j)) = (a, b) else { return NO_MTU_LIMIT };
        self.paths
            .get(&(i, j))
            .into_iter()
            .flatten()
            .filter_map(|h| match h {
                super::routing::Hop::Gateway(p) => self.gateways[self.gw_port[p].0 as usize].mss_clamp,
                super::routing::Hop::Router(_) => None,
            })
            .map(|mss| mss + crate::transport::tcp::IPV4_TCP_HEADER_BYTES)
            .min()
            .unwrap_or(NO_MTU_LIMIT)
    }

    // ------------------------------------------------------------ filters

    /// Evaluate the VPC's rules for a new connection i -> j once; every packet then meets the
    /// cached verdict (the rules do not change during a run).
    pub(crate) fn apply_filters(&mut self, proto: Proto, (i, j): (u32, u32), (c, s): (u32, u32), t: &FiveTuple) {
        if let Proto::Efa(_) = proto {
            // EFA's own rule: both ENIs in a group that allows all traffic to and from itself.
            let (gi, gj) = (&self.insts[i as usize].efa_groups, &self.insts[j as usize].efa_groups);
            if !gi.iter().any(|g| gj.contains(g)) {
                for (ep, to) in [(s, j), (c, i)] {
                    let name = format!(
                        "security groups of {}: none allows all traffic to and from itself (EFA)",
                        self.insts[to as usize].name
                    );
                    self.eps[ep as usize].rx_block = self.filter_id(name, DropReason::SecurityGroup);
                }
            }
            return;
        }
        // Connection tracking (ENIs with security groups track their connections, except the
        // flows their rules let through both ways without state): a full table refuses the new
        // connection's packets at that instance.
        let auto_tracked = self.auto_tracked(c) || self.auto_tracked(s);
        for (k, ep, outbound) in [(i, c, true), (j, s, false)] {
            let eni = &self.insts[k as usize].enis[self.eps[ep as usize].eni as usize].view;
            if eni.groups.is_empty() {
                continue;
            }
            let dir = if outbound { Direction::Outbound } else { Direction::Inbound };
            if !auto_tracked && self.vpc.untracked(eni, dir, t.protocol, t.dst_port) {
                continue;
            }
            if self.conntrack_admit(k) {
                self.conntrack_track(ep, k, outbound);
            } else {
                let f = self.conntrack_full_filter(k);
                if outbound {
                    self.eps[c as usize].tx_block = f;
                } else {
                    self.eps[s as usize].rx_block = f;
                }
            }
        }
        let (ea, eb) = (self.eni_view(c).clone(), self.eni_view(s).clone());
        let names = (self.insts[i as usize].name.clone(), self.insts[j as usize].name.clone());
        self.vpc_filters((c, s), (&ea, &eb), (&names.0, &names.1), t);
    }

    /// Connections through a NAT gateway or a transit gateway attachment are tracked whatever
    /// the rules (the user guide's "automatically tracked connections"; the other services it
    /// lists are not modelled).
    fn auto_tracked(&self, ep: u32) -> bool {
        let route = self.eps[ep as usize].route;
        route != NONE
            && self.routes.get(route).iter().any(|p| {
                self.gw_port.get(p).is_some_and(|&(gw, _)| self.gateways[gw as usize].kind.tracks_connections())
            })
    }

    /// The ENI endpoint `ep` uses, as the VPC's rules see it (`ep` lives on an instance).
    pub(crate) fn eni_view(&self, ep: u32) -> &crate::ec2::vpc::EniView {
        let slot = &self.eps[ep as usize];
        &self.insts[slot.instance as usize].enis[slot.eni as usize].view
    }

    /// The idle timeout of the entry endpoint `ep` holds in instance `k`'s table (set on `ep`'s ENI).
    pub(crate) fn conntrack_timeout(&self, ep: u32, k: u32) -> crate::units::SimDuration {
        let slot = &self.eps[ep as usize];
        self.insts[k as usize].enis[slot.eni as usize].conntrack_timeouts.of(slot.tuple.protocol, slot.conntrack_turns)
    }

    fn conntrack_full_filter(&mut self, k: u32) -> u32 {
        let inst = &self.insts[k as usize];
        let name = format!(
            "connection tracking of {} full ({} connections)",
            inst.name,
            inst.conntrack_allowance.unwrap_or(0)
        );
        self.filter_id(name, DropReason::ConntrackAllowanceExceeded)
    }

    /// Room for one more entry in instance k's table? When full, entries idle past their
    /// timeout are removed first (their allowance freed).
    fn conntrack_admit(&mut self, k: u32) -> bool {
        let inst = &self.insts[k as usize];
        let Some(max) = inst.conntrack_allowance else { return true };
        if inst.conntrack_tracked < max {
            return true;
        }
        let now = self.now();
        if now <= inst.conntrack_next_expiry {
            return false;
        }
        // Sweep k's entries; remember the earliest expiry left so a full table is not swept
        // again before anything can have expired.
        let mut next = crate::units::SimTime(u64::MAX);
        for ep in 0..self.eps.len() as u32 {
            let slot = &self.eps[ep as usize];
            if !slot.live || slot.conntrack != k {
                continue;
            }
            let expiry = slot.conntrack_seen + self.conntrack_timeout(ep, k);
            if now > expiry {
                self.conntrack_forget(ep);
            } else {
                next = next.min(expiry);
            }
        }
        let inst = &mut self.insts[k as usize];
        inst.conntrack_next_expiry = next;
        inst.conntrack_tracked < max
    }

    /// Remove endpoint ep's entry (idle past its timeout); its flow is evaluated as new from now on.
    fn conntrack_forget(&mut self, ep: u32) {
        let slot = &mut self.eps[ep as usize];
        let k = slot.conntrack;
        debug_assert!(k != NONE);
        slot.conntrack = NONE;
        slot.conntrack_lapsed = k;
        let inst = &mut self.insts[k as usize];
        inst.conntrack_tracked -= 1;
        inst.counters.conntrack_idle_timeouts += 1;
    }

    /// Give endpoint ep's connection an entry in instance k's table (room checked).
    fn conntrack_track(&mut self, ep: u32, k: u32, outbound: bool) {
        let now = self.now();
        let slot = &mut self.eps[ep as usize];
        slot.conntrack = k;
        slot.conntrack_lapsed = NONE;
        slot.conntrack_seen = now;
        slot.conntrack_turns = 0;
        slot.conntrack_last_out = outbound;
        let timeout = self.conntrack_timeout(ep, k);
        let inst = &mut self.insts[k as usize];
        inst.conntrack_tracked += 1;
        inst.conntrack_next_expiry = inst.conntrack_next_expiry.min(now + timeout);
        if let Some(max) = inst.conntrack_allowance {
            let left = max.saturating_sub(inst.conntrack_tracked) as u64;
            let c = &mut inst.counters;
            c.conntrack_allowance_available_min =
                Some(c.conntrack_allowance_available_min.map_or(left, |m| m.min(left)));
        }
    }

    /// A packet of endpoint ep's connection leaves (`out`) or reaches its instance: refresh the
    /// tracking entry, or, when it idled past its timeout, remove it and evaluate the packet by
    /// the security groups as a new flow. Returns the filter that refuses the packet, if any.
    pub(crate) fn conntrack_touch(&mut self, ep: u32, out: bool) -> Option<u32> {
        let slot = &self.eps[ep as usize];
        let (k, lapsed) = (slot.conntrack, slot.conntrack_lapsed);
        if k == NONE && lapsed == NONE {
            return None;
        }
        let now = self.now();
        if k != NONE {
            if now.since(slot.conntrack_seen) <= self.conntrack_timeout(ep, k) {
                let slot = &mut self.eps[ep as usize];
                slot.conntrack_seen = now;
                if slot.conntrack_last_out != out {
                    slot.conntrack_last_out = out;
                    slot.conntrack_turns = slot.conntrack_turns.saturating_add(1);
                }
                return None;
            }
            self.conntrack_forget(ep);
        }
        let slot = &self.eps[ep as usize];
        let k = slot.conntrack_lapsed;
        let t = slot.tuple;
        let peer_inst = self.eps[slot.peer as usize].instance;
        let (dir, dst_port) = if out { (Direction::Outbound, t.dst_port) } else { (Direction::Inbound, t.src_port) };
        let peer = if peer_inst != NONE { self.eni_view(slot.peer).clone() } else { EniView::default() };
        let me = &self.insts[k as usize].enis[slot.eni as usize].view;
        if !self.vpc.allows_new(me, dir, t.protocol, t.dst_ip, dst_port, &peer) {
            let name = format!(
                "security groups of {} {}: tracking entry idled out, no rule allows the flow as new",
                self.insts[k as usize].name,
                dir.name()
            );
            return Some(self.filter_id(name, DropReason::ConntrackExpired));
        }
        if self.vpc.untracked(me, dir, t.protocol, dst_port) {
            self.eps[ep as usize].conntrack_lapsed = NONE;
            return None;
        }
        if !self.conntrack_admit(k) {
            return Some(self.conntrack_full_filter(k));
        }
        self.conntrack_track(ep, k, out);
        None
    }

    /// The security groups and network ACLs on a connection between two ENIs (the server's may
    /// be a service's secondary ENI, whose groups moved with it): refusals become blocks on the
    /// endpoint where the packets stop.
    pub(crate) fn vpc_filters(
        &mut self,
        (c, s): (u32, u32),
        (ea, eb): (&EniView, &EniView),
        names: (&str, &str),
        t: &FiveTuple,
    ) {
        if let Some(r) = self.vpc.forward(names, ea, eb, t.protocol, t.dst_port) {
            let (f, outbound) = self.refusal_id(&r);
            if outbound {
                self.eps[c as usize].tx_block = f;
            } else {
                self.eps[s as usize].rx_block = f;
            }
        }
        if let Some(r) = self.vpc.reverse(ea, eb, t.protocol, t.src_port) {
            let (f, outbound) = self.refusal_id(&r);
            if outbound {
                self.eps[s as usize].tx_block = f;
            } else {
                self.eps[c as usize].rx_block = f;
            }
        }
    }

    /// The filter's index, and whether it refuses packets leaving (rather than arriving).
    pub(crate) fn refusal_id(&mut self, r: &Refusal) -> (u32, bool) {
        let (reason, dir) = match r {
            Refusal::Nacl { direction, .. } => (DropReason::NetworkAcl, *direction),
            Refusal::SecurityGroup { direction, .. } => (DropReason::SecurityGroup, *direction),
        };
        (self.filter_id(r.to_string(), reason), dir == Direction::Outbound)
    }

    pub(crate) fn filter_id(&mut self, name: String, reason: DropReason) -> u32 {
        if let Some(k) = self.filters.iter().position(|f| f.0 == name) {
            return k as u32;
        }
        self.filters.push((name, reason));
        self.filter_drops.push(0);
        (self.filters.len() - 1) as u32
    }

    /// Drop a packet a filter refused, counting it against the filter and logging it.
    pub(crate) fn drop_filtered(&mut self, id: PacketId, filter: u32, inst: u32) {
        let reason = self.filters[filter as usize].1;
        self.filter_drops[filter as usize] += 1;
        if !self.log.has_room() {
            self.drop_packet(id, reason, inst);
            return;
        }
        let name = self.filters[filter as usize].0.clone();
        let flow = self.packet_flow(id);
        let bytes = self.pool.get(id).wire_bytes;
        self.drop_packet(id, reason, inst);
        let at = (inst != NONE).then(|| self.insts[inst as usize].name.clone());
        self.log_event(LogEntry {
            event: "drop",
            flow,
            at,
            reason: Some(reason.name()),
            rule: Some(name),
            bytes: Some(bytes),
            ..LogEntry::default()
        });
    }

    // ------------------------------------------------------------ gateways

    /// A packet is about to enter a gateway's port: capture it there, discard ICMP if the
    /// gateway drops ICMP, and deal with packets larger than its MTU. Returns true when the
    /// packet may go on into the port.
    pub(crate) fn enter_gateway(&mut self, id: PacketId, port: PortId) -> bool {
        let (gw, twin) = self.gw_port[&port];
        let p = *self.pool.get(id);
        if self.capture.is_some() {
            self.capture_packet(self.capture_gw[gw as usize], &p);
        }
        let g = &self.gateways[gw as usize];
        if matches!(p.sink, Sink::Icmp { .. }) && g.drops_icmp {
            if self.log.has_room() {
                let e = LogEntry {
                    event: "drop",
                    flow: self.packet_flow(id),
                    at: Some(self.gateways[gw as usize].name.clone()),
                    reason: Some(DropReason::IcmpBlocked.name()),
                    detail: Some("the gateway discards ICMP".into()),
                    ..LogEntry::default()
                };
                self.log_event(e);
            }
            self.drop_packet(id, DropReason::IcmpBlocked, NONE);
            return false;
        }
        if let Some(clamp) = g.mss_clamp
            && matches!(p.seg.kind, crate::net::SegKind::Syn | crate::net::SegKind::SynAck)
        {
            // MSS clamping rewrites the option of SYNs passing through (the endpoints were
            // built with the clamped MSS when the connection opened: the same outcome).
            let seg = &mut self.pool.get_mut(id).seg;
            seg.set_mss_option(seg.mss_option().min(clamp.min(u16::MAX as u32) as u16));
        }
        if g.nat.is_some() && !self.nat_translate(id, gw, port) {
            return false;
        }
        let g = &self.gateways[gw as usize];
        if p.wire_bytes <= g.mtu {
            return true;
        }
        let mtu = g.mtu;
        if p.seg.df {
            let drops_icmp = g.drops_icmp;
            if self.log.has_room() {
                let e = LogEntry {
                    event: "drop",
                    flow: self.packet_flow(id),
                    at: Some(self.gateways[gw as usize].name.clone()),
                    reason: Some(DropReason::FragmentationNeeded.name()),
                    mtu: Some(mtu),
                    bytes: Some(p.wire_bytes),
                    ..LogEntry::default()
                };
                self.log_event(e);
            }
            if drops_icmp && self.log.has_room() {
                let e = LogEntry {
                    event: "icmp_suppressed",
                    flow: self.packet_flow(id),
                    at: Some(self.gateways[gw as usize].name.clone()),
                    mtu: Some(mtu),
                    detail: Some("the gateway discards ICMP: no fragmentation-needed is sent".into()),
                    ..LogEntry::default()
                };
                self.log_event(e);
            }
            self.drop_packet(id, DropReason::FragmentationNeeded, NONE);
            if !drops_icmp {
                self.send_icmp(gw, twin, &p, mtu);
            }
        } else {
            self.fragment_into(id, port, mtu);
        }
        false
    }

    /// RFC 1191: tell the sender of `p` the next-hop MTU. The message goes back along the
    /// reverse path from this gateway (the rest of the peer's route after the gateway's twin
    /// port), to the sender's IP layer.
    fn send_icmp(&mut self, gw: u32, twin: PortId, p: &Packet, mtu: u32) {
        let dst = p.dst_endpoint;
        let slot = &self.eps[dst as usize];
        if !slot.live || slot.generation != p.dst_generation || slot.route == NONE {
            return; // the connection is gone: nobody to tell
        }
        let sender = slot.peer;
        let back = self.routes.get(slot.route);
        let Some(k) = back.iter().position(|&q| q == twin) else { return };
        let mut r = std::mem::take(&mut self.scratch_route);
        r.clear();
        r.extend_from_slice(&back[k + 1..]);
        let route = self.store_route(&mut r);
        self.scratch_route = r;
        let icmp = Packet {
            seg: p.seg,
            wire_bytes: ICMP_FRAG_NEEDED_WIRE_BYTES,
            route,
            hop: 0,
            sink: Sink::Icmp { gateway: gw as u16, mtu: mtu.min(u16::MAX as u32) as u16 },
            dst_endpoint: sender,
            dst_generation: self.eps[sender as usize].generation,
            born: self.now(),
            lossy: true,
            ..Packet::default()
        };
        self.ip_counters.icmp_frag_needed_sent += 1;
        if self.capture.is_some() {
            self.capture_packet(self.capture_gw[gw as usize], &icmp);
        }
        if self.log.has_room() {
            let e = LogEntry {
                event: "icmp_sent",
                flow: self.endpoint_label(sender),
                at: Some(self.gateways[gw as usize].name.clone()),
                mtu: Some(mtu),
                detail: Some("ICMP type 3 code 4: fragmentation needed and DF set".into()),
                ..LogEntry::default()
            };
            self.log_event(e);
        }
        let id = self.alloc_packet(icmp);
        self.acct.sent += 1;
        let first = self.routes.port(route, 0);
        self.offer(id, first);
    }

    /// An ICMP packet's route was built for it alone: recycle it when the packet ends.
    pub(crate) fn free_icmp_route(&mut self, id: PacketId) {
        let p = self.pool.get(id);
        if matches!(p.sink, Sink::Icmp { .. }) {
            let route = p.route;
            self.routes.release(route);
        }
    }

    /// The ICMP reaches the sender's host: its subnet's network ACL must let ICMP in (security
    /// groups let related ICMP in by themselves); then the host learns the path MTU and tells
    /// the socket.
    pub(crate) fn deliver_icmp(&mut self, id: PacketId, p: Packet, gw: u32, mtu: u32) {
        let ep = p.dst_endpoint;
        let slot = &self.eps[ep as usize];
        if !slot.live || slot.generation != p.dst_generation {
            self.drop_packet(id, DropReason::NoSocket, NONE);
            return;
        }
        let inst = slot.instance;
        if inst != NONE
            && let Some(r) = self.vpc.icmp_error_to(self.eni_view(ep), self.gateways[gw as usize].ip)
        {
            let (f, _) = self.refusal_id(&r);
            self.drop_filtered(id, f, inst);
            return;
        }
        if self.capture.is_some() && inst != NONE {
            self.capture_packet(self.capture_inst[inst as usize], &p);
        }
        self.free_icmp_route(id);
        self.pool.free(id);
        self.acct.delivered += 1;
        self.ip_counters.icmp_frag_needed_received += 1;
        let at = (inst != NONE).then(|| self.insts[inst as usize].name.clone());
        if self.log.has_room() {
            let e = LogEntry {
                event: "icmp_received",
                flow: self.endpoint_label(ep),
                at: at.clone(),
                mtu: Some(mtu),
                ..LogEntry::default()
            };
            self.log_event(e);
        }
        if inst != NONE {
            let (dst, now, expires) = (self.eps[ep as usize].tuple.dst_ip, self.now(), self.ip_cfg.pmtu_expires);
            if self.insts[inst as usize].pmtu.learn(dst, mtu, now, expires) {
                self.ip_counters.pmtu_learnt += 1;
                self.log_event(LogEntry {
                    event: "pmtu",
                    at,
                    mtu: Some(mtu),
                    detail: Some(format!(
                        "path MTU to {} cached for {} s",
                        crate::ec2::vpc::Ipv4(dst),
                        expires.as_secs_f64()
                    )),
                    ..LogEntry::default()
                });
            }
        }
        self.drive(ep, None, |t, now, out| t.on_path_mtu(now, mtu, out));
    }

    // ------------------------------------------------------------ fragmentation

    /// The next IPv4 identification (16 bits, never 0: 0 marks "not a fragment" here).
    fn next_datagram_id(&mut self) -> u16 {
        self.next_ip_id = self.next_ip_id.wrapping_add(1).max(1);
        self.next_ip_id
    }

    /// Cut `pkt` into fragments of at most `mtu` (RFC 791), calling `f` with each.
    fn fragments_of(&mut self, pkt: &Packet, mtu: u32, mut f: impl FnMut(&mut Model, Packet)) {
        let id = if pkt.frag.is_fragment() { pkt.frag.id() } else { self.next_datagram_id() };
        let offset = pkt.frag.offset();
        let more = pkt.frag.more();
        let mut pieces = Vec::new();
        let n = ip::fragment(pkt.wire_bytes, offset, more, mtu, |o, len, m| pieces.push((o, len, m)));
        self.ip_counters.packets_fragmented += 1;
        self.ip_counters.fragments_created += n as u64;
        self.ip_counters.fragment_header_bytes += (n as u64 - 1) * IPV4_HEADER_BYTES as u64;
        for (o, len, m) in pieces {
            f(self, Packet { wire_bytes: IPV4_HEADER_BYTES + len, frag: FragInfo::new(id, o, m), ..*pkt });
        }
    }

    /// A hop fragments a packet without DF: the fragments go on from this port.
    fn fragment_into(&mut self, id: PacketId, port: PortId, mtu: u32) {
        let pkt = *self.pool.get(id);
        self.pool.free(id);
        self.acct.fragmented += 1;
        self.fragments_of(&pkt, mtu, |m, frag| {
            let fid = m.pool.alloc(frag);
            m.acct.sent += 1;
            m.offer(fid, port);
        });
    }

    /// The sender's IP layer fragments a datagram larger than its interface.
    pub(crate) fn fragment_at_source(&mut self, ep: u32, pkt: Packet, mtu: u32, tx_block: u32) {
        self.fragments_of(&pkt, mtu, |m, frag| m.emit_packet(ep, frag, tx_block));
    }

    /// A fragment arrives: held until its datagram is whole, then the datagram goes up.
    pub(crate) fn reassemble(&mut self, id: PacketId, p: Packet, inst: u32) {
        let ep = p.dst_endpoint;
        let data = p.wire_bytes - IPV4_HEADER_BYTES;
        let k = match self.reasm.iter().position(|r| r.live && r.endpoint == ep && r.id == p.frag.id()) {
            Some(k) => k,
            None => {
                let held_bytes = if inst != NONE { self.reasm_bytes[inst as usize] } else { 0 };
                if held_bytes + p.wire_bytes as u64 > self.ip_cfg.ipfrag_high_thresh.0 {
                    self.drop_packet(id, DropReason::ReassemblyBufferFull, inst);
                    return;
                }
                let k = match self.reasm_free.pop() {
                    Some(k) => k as usize,
                    None => {
                        self.reasm.push(Reasm {
                            generation: 0,
                            live: false,
                            endpoint: NONE,
                            instance: NONE,
                            id: 0,
                            received: 0,
                            total: None,
                            held: Vec::new(),
                        });
                        self.reasm.len() - 1
                    }
                };
                let r = &mut self.reasm[k];
                r.live = true;
                r.endpoint = ep;
                r.instance = inst;
                r.id = p.frag.id();
                r.received = 0;
                r.total = None;
                r.held.clear();
                let generation = r.generation;
                self.q.schedule_in(self.ip_cfg.ipfrag_time, Event::ReassemblyExpire { slot: k as u32, generation });
                k
            }
        };
        if inst != NONE {
            self.reasm_bytes[inst as usize] += p.wire_bytes as u64;
        }
        let r = &mut self.reasm[k];
        r.held.push(id);
        r.received += data;
        if !p.frag.more() {
            r.total = Some(p.frag.offset() + data);
        }
        if r.total.is_some_and(|t| r.received >= t) {
            let held = std::mem::take(&mut r.held);
            for &f in &held {
                let bytes = self.pool.get(f).wire_bytes as u64;
                if inst != NONE {
                    self.reasm_bytes[inst as usize] -= bytes;
                }
                self.pool.free(f);
                self.acct.delivered += 1;
            }
            self.release_reasm(k, held);
            self.ip_counters.datagrams_reassembled += 1;
            self.hand_to_endpoint(ep, Packet { wire_bytes: p.seg.wire_bytes, frag: FragInfo::default(), ..p });
        }
    }

    fn release_reasm(&mut self, k: usize, mut held: Vec<PacketId>) {
        held.clear();
        let r = &mut self.reasm[k];
        r.held = held;
        r.live = false;
        r.generation = r.generation.wrapping_add(1);
        self.reasm_free.push(k as u32);
    }

    /// `ipfrag_time` passed and the datagram is still incomplete: its fragments are dropped.
    pub(crate) fn reassembly_expire(&mut self, slot: u32, generation: u32) {
        let k = slot as usize;
        if !self.reasm[k].live || self.reasm[k].generation != generation {
            return;
        }
        let (inst, ep) = (self.reasm[k].instance, self.reasm[k].endpoint);
        let held = std::mem::take(&mut self.reasm[k].held);
        let missing = self.reasm[k].total.map(|t| t.saturating_sub(self.reasm[k].received));
        for &f in &held {
            if inst != NONE {
                self.reasm_bytes[inst as usize] -= self.pool.get(f).wire_bytes as u64;
            }
            self.drop_packet(f, DropReason::ReassemblyTimeout, inst);
        }
        self.ip_counters.reassembly_failed += 1;
        self.log_event(LogEntry {
            event: "reassembly_failed",
            flow: self.endpoint_label(ep),
            at: (inst != NONE).then(|| self.insts[inst as usize].name.clone()),
            reason: Some(DropReason::ReassemblyTimeout.name()),
            detail: Some(format!(
                "{} fragment(s) held {} s, {}",
                held.len(),
                self.ip_cfg.ipfrag_time.as_secs_f64(),
                missing.map_or("the last fragment never came".to_string(), |b| format!("{b} bytes missing"))
            )),
            ..LogEntry::default()
        });
        self.release_reasm(k, held);
    }
}
