//! A NAT gateway at run time (the `Connections` workload that exercises its limits is in
//! `workload::connections`).
//!
//! The gateway is one shared pair of servers per direction (bandwidth, then packets per second)
//! for every connection through it, so its capacity is shared as AWS's is. Each connection gets a
//! translation when its first packet (a TCP SYN, or any UDP datagram) reaches the gateway: a
//! source port for its destination (IP, port, protocol), at most 55,000 per destination; a SYN that
//! finds none is dropped and counted in `ErrorPortAllocation` (the client's SYN retries try again).
//! A translation is released when the connection closes or after 350 s idle; a packet of an idle
//! connection that has lost its translation is dropped (AWS answers it with an RST, which the
//! model does not send yet). Limits and scaling: `ec2::nat`. Metrics carry CloudWatch's names
//! ("Monitor NAT gateways with Amazon CloudWatch").

use super::trace::LogEntry;
use super::{Model, NONE};
use crate::ec2::nat::{self as limits, Scaler};
use crate::net::{DropReason, PacketId, Port, PortConfig, PortId, SegKind, Sink};
use crate::units::{Bandwidth, SimDuration, SimTime};
use std::collections::BTreeMap;

/// A translation: whose connection and to which destination (IP, port, protocol).
#[derive(Clone, Copy, Debug)]
struct Translation {
    destination: (u32, u16, u8),
    last_active: SimTime,
    established: bool,
}

/// CloudWatch metrics of a NAT gateway over the run (sums; `ActiveConnectionCount` is the
/// maximum, as CloudWatch's Maximum statistic reports it).
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NatMetrics {
    pub active_connection_count: u64,
    pub connection_attempt_count: u64,
    pub connection_established_count: u64,
    pub error_port_allocation: u64,
    pub idle_timeout_count: u64,
    pub packets_drop_count: u64,
    pub bytes_in_from_source: u64,
    pub bytes_out_to_destination: u64,
    pub bytes_in_from_destination: u64,
    pub bytes_out_to_source: u64,
    pub packets_in_from_source: u64,
    pub packets_out_to_destination: u64,
    pub packets_in_from_destination: u64,
    pub packets_out_to_source: u64,
}

pub struct NatRt {
    /// Bandwidth server then packet server, towards the destination and back to the source
    /// (`NONE` until a path first crosses the gateway).
    pub to_destination: [PortId; 2],
    pub to_source: [PortId; 2],
    pub scaler: Scaler,
    pub idle_timeout: SimDuration,
    /// Translations by the connection's server endpoint.
    translations: BTreeMap<u32, Translation>,
    per_destination: BTreeMap<(u32, u16, u8), u32>,
    active: u64,
    last_sweep: Option<SimTime>,
    pub metrics: NatMetrics,
    /// Drops the gateway decided itself (port allocation, no translation); queue drops are the
    /// ports' own.
    pub own_drops: u64,
    /// (time, step) of each scaling step.
    pub steps: Vec<(SimTime, u32)>,
}

impl NatRt {
    pub fn new(scale_interval: SimDuration, idle_timeout: SimDuration) -> Self {
        NatRt {
            to_destination: [NONE; 2],
            to_source: [NONE; 2],
            scaler: Scaler::new(scale_interval),
            idle_timeout,
            translations: BTreeMap::new(),
            per_destination: BTreeMap::new(),
            active: 0,
            last_sweep: None,
            metrics: NatMetrics::default(),
            own_drops: 0,
            steps: Vec::new(),
        }
    }

    fn release(&mut self, server_ep: u32) -> Option<Translation> {
        let t = self.translations.remove(&server_ep)?;
        let n = self.per_destination.get_mut(&t.destination).expect("counted when allocated");
        *n -= 1;
        if *n == 0 {
            self.per_destination.remove(&t.destination);
        }
        self.active -= t.established as u64;
        Some(t)
    }

    /// Translations idle past the timeout at `now` (not yet released: nothing has touched them).
    pub fn idle_at(&self, now: SimTime) -> usize {
        self.translations.values().filter(|t| now.since(t.last_active) > self.idle_timeout).count()
    }

    /// Release every translation idle past the timeout (bounded: at most once per second).
    fn sweep(&mut self, now: SimTime) {
        if self.last_sweep.is_some_and(|t| now.since(t) < SimDuration::from_secs(1)) {
            return;
        }
        self.last_sweep = Some(now);
        let idle: Vec<u32> = self
            .translations
            .iter()
            .filter(|(_, t)| now.since(t.last_active) > self.idle_timeout)
            .map(|(&ep, _)| ep)
            .collect();
        for ep in idle {
            self.release(ep);
            self.metrics.idle_timeout_count += 1;
        }
    }
}

/// What a NAT gateway does with a packet.
enum Verdict {
    Pass,
    Drop(DropReason, &'static str),
}

impl Model {
    /// The NAT gateway's shared ports (creating them when a path first crosses it), or `None` for
    /// other gateways.
    pub(crate) fn nat_ports(&mut self, g: u32) -> Option<(PortId, PortId)> {
        let gw = &self.gateways[g as usize];
        let nat = gw.nat.as_ref()?;
        if nat.to_destination[0] != NONE {
            return Some((nat.to_destination[0], nat.to_source[0]));
        }
        let (bw, pps) = limits::capacity(0);
        let bandwidth = PortConfig {
            rate: bw,
            per_packet: SimDuration::ZERO,
            delay: gw.delay,
            capacity_bytes: limits::BUFFER_BYTES,
            ecn_threshold_bytes: None,
            drop_reason: DropReason::NatGatewayCapacity,
            burst_bytes: 0,
            mtu: gw.mtu,
        };
        let packets = PortConfig {
            rate: Bandwidth(0),
            per_packet: limits::per_packet(pps),
            delay: SimDuration::ZERO,
            mtu: crate::net::ip::NO_MTU_LIMIT,
            ..bandwidth
        };
        let mut add = |c: PortConfig| {
            self.port_owner.push(NONE);
            crate::net::push_port(&mut self.ports, Port::new(c))
        };
        let to_destination = [add(bandwidth), add(packets)];
        let to_source = [add(bandwidth), add(packets)];
        let nat = self.gateways[g as usize].nat.as_mut().expect("checked");
        (nat.to_destination, nat.to_source) = (to_destination, to_source);
        Some((to_destination[0], to_source[0]))
    }

    /// The packet server that follows a NAT gateway's bandwidth server on a route.
    pub(crate) fn nat_packet_port(&self, p: PortId) -> Option<PortId> {
        let nat = self.gateways[self.gw_port[&p].0 as usize].nat.as_ref()?;
        if p == nat.to_destination[0] { Some(nat.to_destination[1]) } else { Some(nat.to_source[1]) }
    }

    /// A connection is gone: its translations are released.
    pub(crate) fn nat_forget(&mut self, server_ep: u32) {
        for g in &mut self.gateways {
            if let Some(nat) = g.nat.as_mut() {
                nat.release(server_ep);
            }
        }
    }

    /// A packet enters NAT gateway `gw` through `port`: scale, translate, count. False: dropped.
    pub(crate) fn nat_translate(&mut self, id: PacketId, gw: u32, port: PortId) -> bool {
        let now = self.now();
        self.nat_scale(gw, now);
        let p = *self.pool.get(id);
        if !matches!(p.sink, Sink::Endpoint) {
            return true;
        }
        let ep = p.dst_endpoint;
        if self.eps[ep as usize].generation != p.dst_generation || !self.eps[ep as usize].live {
            return true; // for a connection that is gone: dropped at the far end as no_socket
        }
        let nat = self.gateways[gw as usize].nat.as_ref().expect("a NAT gateway");
        let outbound = port == nat.to_destination[0];
        let server_ep = if outbound { ep } else { self.eps[ep as usize].peer };
        let client_ep = self.eps[server_ep as usize].peer;
        let t = self.eps[client_ep as usize].tuple;
        let destination = (t.dst_ip, t.dst_port, t.protocol);
        let bytes = p.wire_bytes as u64;
        let tcp = t.protocol == crate::ec2::vpc::PROTO_TCP;
        let nat = self.gateways[gw as usize].nat.as_mut().expect("a NAT gateway");
        let verdict = match nat.translations.get(&server_ep).copied() {
            Some(tr) if now.since(tr.last_active) > nat.idle_timeout => {
                nat.release(server_ep);
                nat.metrics.idle_timeout_count += 1;
                Verdict::Drop(DropReason::NatNoTranslation, "idle past the timeout: translation gone")
            }
            Some(_) => Verdict::Pass,
            None if !outbound || (tcp && p.seg.kind != SegKind::Syn) => {
                Verdict::Drop(DropReason::NatNoTranslation, "no translation for this connection")
            }
            None => {
                nat.metrics.connection_attempt_count += 1;
                if nat.per_destination.get(&destination).copied().unwrap_or(0) >= limits::CONNECTIONS_PER_DESTINATION {
                    nat.sweep(now);
                }
                let n = nat.per_destination.entry(destination).or_insert(0);
                if *n >= limits::CONNECTIONS_PER_DESTINATION {
                    nat.metrics.error_port_allocation += 1;
                    Verdict::Drop(DropReason::NatPortAllocation, "no source port left for the destination")
                } else {
                    *n += 1;
                    nat.translations
                        .insert(server_ep, Translation { destination, last_active: now, established: false });
                    Verdict::Pass
                }
            }
        };
        match verdict {
            Verdict::Pass => {
                let tr = nat.translations.get_mut(&server_ep).expect("translated");
                tr.last_active = now;
                let m = &mut nat.metrics;
                if outbound {
                    (m.packets_in_from_source, m.bytes_in_from_source) =
                        (m.packets_in_from_source + 1, m.bytes_in_from_source + bytes);
                    (m.packets_out_to_destination, m.bytes_out_to_destination) =
                        (m.packets_out_to_destination + 1, m.bytes_out_to_destination + bytes);
                } else {
                    (m.packets_in_from_destination, m.bytes_in_from_destination) =
                        (m.packets_in_from_destination + 1, m.bytes_in_from_destination + bytes);
                    (m.packets_out_to_source, m.bytes_out_to_source) =
                        (m.packets_out_to_source + 1, m.bytes_out_to_source + bytes);
                    if !tr.established && (!tcp || p.seg.kind == SegKind::SynAck) {
                        tr.established = true;
                        m.connection_established_count += 1;
                        nat.active += 1;
                        m.active_connection_count = m.active_connection_count.max(nat.active);
                    }
                }
                true
            }
            Verdict::Drop(reason, why) => {
                nat.own_drops += 1;
                if self.log.has_room() {
                    let e = LogEntry {
                        event: "drop",
                        flow: self.packet_flow(id),
                        at: Some(self.gateways[gw as usize].name.clone()),
                        reason: Some(reason.name()),
                        detail: Some(why.into()),
                        ..LogEntry::default()
                    };
                    self.log_event(e);
                }
                self.drop_packet(id, reason, NONE);
                false
            }
        }
    }

    /// Let the gateway scale up if the last interval was busy; new capacity applies to packets
    /// served from now on.
    fn nat_scale(&mut self, gw: u32, now: SimTime) {
        let nat = self.gateways[gw as usize].nat.as_ref().expect("a NAT gateway");
        for k in 0..2 {
            for p in [nat.to_destination[k], nat.to_source[k]] {
                self.ports[p as usize].settle(now);
            }
        }
        let busy = |k: usize| {
            let (a, b) = (nat.to_destination[k], nat.to_source[k]);
            self.ports[a as usize].stats.busy_ps.max(self.ports[b as usize].stats.busy_ps)
        };
        let busy = [busy(0), busy(1)];
        let nat = self.gateways[gw as usize].nat.as_mut().expect("a NAT gateway");
        let Some(step) = nat.scaler.observe(now, busy) else { return };
        nat.steps.push((now, step));
        let (bw, pps) = limits::capacity(step);
        let pairs = [nat.to_destination, nat.to_source];
        for [b, p] in pairs {
            self.set_port_rate(b, bw);
            let port = &mut self.ports[p as usize];
            let old = port.config;
            port.config.per_packet = limits::per_packet(pps);
            port.retime(now, old);
        }
        let detail = format!("scaled to {} Gbps, {} packets/s", bw.bps() / 1_000_000_000, pps);
        let at = Some(self.gateways[gw as usize].name.clone());
        self.log_event(LogEntry { event: "nat_scaled", at, detail: Some(detail), ..LogEntry::default() });
    }
}
