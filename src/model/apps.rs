//! Workloads at run time: they open connections, write bytes and watch bytes arrive. Each app
//! reacts to three things: its own clock (`App` events), a connection becoming established, and
//! in-order bytes delivered to one of its endpoints. Their state is `app_state`; here are bulk,
//! RPC, datagrams, background, permutation, ping-pong and collectives, and the dispatch to the
//! others (`failover`, `nat`, `replay`).

use super::app_state::*;
use super::{Attach, ConnTag, FlowRt, Model, NONE, Owner, Proto, Side};
use crate::net::fabric::LeafSpine;
use crate::transport::Transport;
use crate::units::{SimDuration, SimTime};
use crate::workload::config::{Arrival, MessageTransport};
use crate::workload::{Interarrival, RpcBook};
use rand::RngExt;

/// What one message costs the host outside the network: the kernel socket path, or OS bypass.
#[derive(Clone, Copy, Debug)]
pub struct HostCosts {
    pub syscall: SimDuration,
    pub socket: SimDuration,
    pub copy_rate: crate::units::Bandwidth,
    pub wakeup: SimDuration,
    pub idle_exit: SimDuration,
    pub bypass_post: SimDuration,
    pub bypass_poll: SimDuration,
}

impl HostCosts {
    /// Handing a message to the network: send() through the socket layer, or a work request.
    pub fn send(&self, t: MessageTransport, bytes: u64) -> SimDuration {
        match t {
            MessageTransport::Tcp => self.syscall + self.socket + self.copy_rate.serialisation(bytes),
            _ => self.bypass_post,
        }
    }
    /// Taking a message in: the kernel wakes the reader and copies out; OS bypass polls its
    /// completion queue (or, for an RDMA write, the target memory). Two-sided EFA messages are
    /// copied out of libfabric's bounce buffers by the EFA transport itself, packet by packet as
    /// they arrive (eager, medium, long-CTS; long-read is zero copy): by the time the completion
    /// is polled the data is in place.
    pub fn receive(&self, t: MessageTransport, bytes: u64) -> SimDuration {
        match t {
            MessageTransport::Tcp => {
                self.wakeup + self.idle_exit + self.socket + self.syscall + self.copy_rate.serialisation(bytes)
            }
            MessageTransport::Efa | MessageTransport::EfaRdmaWrite | MessageTransport::EfaRdmaRead => self.bypass_poll,
        }
    }
}

/// Offered load -> mean inter-arrival: load x hosts x link rate = arrival rate x mean flow size.
pub fn background_interarrival(load: f64, hosts: usize, fabric: &LeafSpine, mean_bytes: f64) -> Interarrival {
    let capacity_bps = hosts as f64 * fabric.config.host_link.bps() as f64;
    let mean_s = mean_bytes * 8.0 / (load * capacity_bps);
    Interarrival { mean: SimDuration(((mean_s * 1e12).round() as u64).max(1)) }
}

fn ns(d: SimDuration) -> u64 {
    d.ps().div_ceil(1000).max(1)
}

impl Model {
    fn new_flow(&mut self, name: String, workload: &str, kind: &'static str, target: Option<u64>) -> u32 {
        let bins = self.flows_bins();
        self.flows.push(FlowRt {
            name,
            workload: workload.to_string(),
            kind,
            client_ep: NONE,
            server_ep: NONE,
            started: self.now(),
            completed: None,
            target_bytes: target,
            delivered: 0,
            wire_rx: 0,
            bins: vec![0; bins],
        });
        (self.flows.len() - 1) as u32
    }

    fn flows_bins(&self) -> usize {
        (self.end.ps() / self.bin_ps).max(1) as usize
    }

    fn open_flow(&mut self, tag: ConnTag, a: u32, b: u32, proto: Proto, port: u16) -> (u32, u32) {
        let (c, s) = self.open(Attach::Instance(a), Attach::Instance(b), proto, tag, port);
        let flow = tag.flow;
        let f = &mut self.flows[flow as usize];
        f.client_ep = c;
        f.server_ep = s;
        (c, s)
    }

    fn finish_app(&mut self, app: u32) {
        if self.apps[app as usize].is_foreground() && self.apps[app as usize].is_finite() {
            debug_assert!(self.unfinished > 0);
            self.unfinished -= 1;
        }
    }

    fn schedule_arrival(&mut self, app: u32, after: SimDuration) {
        self.q.schedule_in(after, super::Event::App { app, tag: TAG_ARRIVAL });
    }

    pub(crate) fn app_event(&mut self, app: u32, tag: u32) {
        if matches!(self.apps[app as usize], App::ServiceClients(_)) {
            self.service_event(app, tag);
            return;
        }
        if matches!(self.apps[app as usize], App::Connections(_)) {
            self.connections_event(app);
            return;
        }
        if matches!(self.apps[app as usize], App::FlowLogs(_)) {
            self.replay_event(app, tag);
            return;
        }
        let now = self.now();
        match (&mut self.apps[app as usize], tag) {
            (App::Bulk(b), TAG_START) => {
                let (spec, from, to) = (b.spec.clone(), b.from, b.to);
                for i in 0..spec.flows {
                    let name = if spec.flows == 1 { spec.name.clone() } else { format!("{}/{i}", spec.name) };
                    let f = self.new_flow(name, &spec.name, "bulk", spec.bytes.map(|x| x.0));
                    self.open_flow(ConnTag { app, conn: i, flow: f }, from, to, Proto::Tcp, spec.port);
                    if let App::Bulk(b) = &mut self.apps[app as usize] {
                        b.flows.push(f);
                    }
                }
                if let Some(d) = spec.duration {
                    self.q.schedule_in(d, super::Event::App { app, tag: TAG_STOP });
                }
            }
            (App::Bulk(b), TAG_STOP) => {
                // Stop writing; each flow completes when what it wrote has arrived.
                for f in b.flows.clone() {
                    let ep = self.flows[f as usize].client_ep;
                    let written = self.eps[ep as usize].transport.stop_writing();
                    let flow = &mut self.flows[f as usize];
                    flow.target_bytes = Some(flow.target_bytes.map_or(written, |t| t.min(written)));
                    let server = flow.server_ep;
                    let owner = self.eps[server as usize].owner;
                    self.app_delivered(owner, server, 0, now);
                }
            }
            (App::Rpc(r), TAG_START) => {
                let (spec, client, server) = (r.spec.clone(), r.client, r.server);
                for i in 0..spec.connections {
                    let f = self.new_flow(format!("{}/conn{i}", spec.name), &spec.name, "rpc", None);
                    let (c, s) =
                        self.open_flow(ConnTag { app, conn: i, flow: f }, client, server, Proto::Tcp, spec.port);
                    if let App::Rpc(r) = &mut self.apps[app as usize] {
                        r.conns.push(RpcConn { client_ep: c, server_ep: s, flow: f, book: RpcBook::default() });
                    }
                }
                match spec.arrival {
                    Arrival::ClosedLoop { outstanding } => {
                        for conn in 0..spec.connections as usize {
                            for _ in 0..outstanding {
                                self.rpc_issue(app, conn);
                            }
                        }
                    }
                    Arrival::Poisson { mean_interval } => {
                        let App::Rpc(r) = &mut self.apps[app as usize] else { unreachable!() };
                        let d = Interarrival { mean: mean_interval }.sample(&mut r.rng);
                        self.schedule_arrival(app, d);
                    }
                }
            }
            (App::Rpc(r), TAG_ARRIVAL) => {
                let Arrival::Poisson { mean_interval } = r.spec.arrival else {
                    return;
                };
                let conn = r.next_conn;
                r.next_conn = (r.next_conn + 1) % r.conns.len();
                let d = Interarrival { mean: mean_interval }.sample(&mut r.rng);
                if self.rpc_issue(app, conn) {
                    self.schedule_arrival(app, d);
                }
            }
            (App::Datagrams(d), TAG_START) => {
                let (spec, from, to) = (d.spec.clone(), d.from, d.to);
                let f = self.new_flow(spec.name.clone(), &spec.name, "datagrams", None);
                let tag = ConnTag { app, conn: 0, flow: f };
                let (c, s) =
                    self.open(Attach::Instance(from), to, Proto::Udp { df: spec.dont_fragment }, tag, spec.port);
                (self.flows[f as usize].client_ep, self.flows[f as usize].server_ep) = (c, s);
                if let App::Datagrams(d) = &mut self.apps[app as usize] {
                    d.client_ep = c;
                    d.flow = f;
                }
                self.schedule_arrival(app, SimDuration::ZERO);
            }
            (App::Datagrams(d), TAG_ARRIVAL) => {
                if d.spec.count.is_some_and(|c| d.sent >= c) {
                    return;
                }
                d.sent += 1;
                let (ep, size) = (d.client_ep, d.spec.size.0);
                let next = Interarrival { mean: d.spec.mean_interval }.sample(&mut d.rng);
                self.ep_send(ep, size);
                self.schedule_arrival(app, next);
            }
            (App::Permutation(p), TAG_START) => {
                // A random cycle through the fleet (Sattolo's algorithm): nobody sends to itself,
                // and flow j of a member goes j + 1 steps along the cycle, so targets are distinct.
                let mut cycle = p.members.clone();
                for i in (1..cycle.len()).rev() {
                    let j = p.rng.random_range(0..i);
                    cycle.swap(i, j);
                }
                let (k, port, n) = (p.spec.flows_per_instance as usize, p.spec.port, cycle.len());
                let mut conn = 0u32;
                for (pos, &src) in cycle.iter().enumerate() {
                    for j in 0..k {
                        let dst = cycle[(pos + j + 1) % n];
                        let tag = ConnTag { app, conn, flow: NONE };
                        self.open(Attach::Instance(src), Attach::Instance(dst), Proto::Tcp, tag, port);
                        conn += 1;
                    }
                }
            }
            (App::AllReduce(a), TAG_START) if a.nccl.is_some() => {
                // One EFA connection per (channel, node): the channel's ring leaves node k for
                // node k + 1 on card `channel mod cards`.
                let (members, cards, port) = (a.members.clone(), a.cards, a.spec.port);
                let channels = a.nccl.as_ref().map_or(1, |r| r.channels);
                let n = members.len();
                let mut conns = Vec::with_capacity(channels * n);
                for ch in 0..channels {
                    for k in 0..n {
                        let tag = ConnTag { app, conn: conns.len() as u32, flow: NONE };
                        let (from, to) = (Attach::Instance(members[k]), Attach::Instance(members[(k + 1) % n]));
                        conns.push(self.open(from, to, Proto::Efa((ch % cards) as u16), tag, port));
                    }
                }
                if let App::AllReduce(a) = &mut self.apps[app as usize] {
                    a.conns = conns;
                }
                self.nccl_collective(app);
            }
            (App::AllReduce(a), TAG_START) => {
                let (members, cards, port, efa) = (a.members.clone(), a.cards, a.spec.port, a.efa());
                let n = members.len();
                // Ring: member k to k + 1. All-to-all: every member to every other one.
                let pairs: Vec<(usize, usize)> = if a.all_to_all {
                    (0..n).flat_map(|k| (0..n).filter(move |&m| m != k).map(move |m| (k, m))).collect()
                } else {
                    (0..n).map(|k| (k, (k + 1) % n)).collect()
                };
                let mut conns = Vec::with_capacity(pairs.len() * cards);
                for (k, m) in pairs {
                    for c in 0..cards {
                        let proto = if efa { Proto::Efa(c as u16) } else { Proto::Tcp };
                        let tag = ConnTag { app, conn: conns.len() as u32, flow: NONE };
                        let (from, to) = (Attach::Instance(members[k]), Attach::Instance(members[m]));
                        conns.push(self.open(from, to, proto, tag, port));
                    }
                }
                if let App::AllReduce(a) = &mut self.apps[app as usize] {
                    a.rx_target = vec![0; conns.len()];
                    a.rx_done = vec![false; conns.len()];
                    a.conns = conns;
                }
                if efa {
                    self.ring_collective(app);
                }
            }
            (App::AllReduce(a), t) if t >= TAG_NVLINK_BASE => {
                let edge = (t - TAG_NVLINK_BASE) as usize;
                if let Some(r) = a.nccl.as_mut() {
                    r.recvd[edge] += 1;
                }
                self.nccl_landed(app, edge);
            }
            (App::AllReduce(a), TAG_RING_SEND) => {
                for i in 0..a.conns.len() {
                    a.rx_target[i] += a.stripe(i % a.cards);
                    a.rx_done[i] = false;
                }
                a.done_count = 0;
                for i in 0..a.conns.len() {
                    let App::AllReduce(a) = &self.apps[app as usize] else { unreachable!() };
                    let (ep, bytes) = (a.conns[i].0, a.stripe(i % a.cards));
                    self.ep_send(ep, bytes);
                }
            }
            (App::AllReduce(a), TAG_RING_STEP_DONE) => {
                if a.nccl.is_none() {
                    a.step += 1;
                    if a.step < a.steps() {
                        self.ring_step(app);
                        return;
                    }
                }
                // One collective done: time it (after the warm-up), then the next or the end.
                if a.iteration >= a.spec.warmup {
                    let t = now.since(a.started);
                    a.times.push(t);
                }
                a.iteration += 1;
                let nccl = a.nccl.is_some();
                if a.iteration == a.spec.warmup + a.spec.iterations {
                    self.finish_app(app);
                } else if nccl {
                    self.nccl_collective(app);
                } else {
                    self.ring_collective(app);
                }
            }
            (App::PingPong(p), TAG_START) => {
                let (from, to, port) = (p.from, p.to, p.spec.port);
                let efa = p.spec.transport.bypasses_kernel();
                let proto = if efa { Proto::Efa(0) } else { Proto::Tcp };
                let (c, s) = self.open(
                    Attach::Instance(from),
                    Attach::Instance(to),
                    proto,
                    ConnTag { app, conn: 0, flow: NONE },
                    port,
                );
                let two_sided = if let App::PingPong(p) = &mut self.apps[app as usize] {
                    p.client_ep = c;
                    p.server_ep = s;
                    p.spec.transport == MessageTransport::Efa
                } else {
                    false
                };
                if two_sided {
                    // MPI's send/receive: libfabric's message protocols, not one-sided transfers.
                    let read = |i: u32| self.insts[i as usize].ty.efa_rdma >= crate::ec2::EfaRdma::Read;
                    let cfg = crate::transport::efa::MessageConfig {
                        rdma_read: read(from) && read(to),
                        copy_rate: self.host_costs.copy_rate,
                        turnaround: self.host_costs.bypass_poll + self.host_costs.bypass_post,
                    };
                    for ep in [c, s] {
                        if let crate::transport::Endpoint::Efa(e) = &mut self.eps[ep as usize].transport {
                            e.set_mode(crate::transport::efa::EfaMode::Messages(cfg));
                        }
                    }
                }
                // TCP begins once connected; EFA endpoints are ready at once.
                if efa {
                    self.pingpong_round(app);
                }
            }
            (App::PingPong(p), TAG_CLIENT_SEND) => {
                let (request, window) = (p.request_bytes(), p.spec.window);
                // A message counts at least one byte delivered (a read request carries none).
                p.server_rx_target += request.max(1) * window as u64;
                let ep = p.client_ep;
                for _ in 0..window {
                    self.ep_send(ep, request);
                }
            }
            (App::PingPong(p), TAG_SERVER_SEND) => {
                let (reply, replies) = p.reply();
                p.client_rx_target += reply * replies as u64;
                p.server_busy = false;
                let ep = p.server_ep;
                for _ in 0..replies {
                    self.ep_send(ep, reply);
                }
            }
            (App::PingPong(p), TAG_CLIENT_DONE) => {
                p.client_busy = false;
                let rtt = now.since(p.round_start);
                if p.round >= p.spec.warmup {
                    p.measured_ps += rtt.ps() as u128;
                }
                p.round += 1;
                if p.round == p.spec.warmup + p.spec.iterations {
                    // osu_latency: half the round trip; osu_bw and RDMA reads: the whole round.
                    let per_round = p.measured_ps / p.spec.iterations as u128;
                    let one_way = if p.halves_round() { per_round / 2 } else { per_round };
                    p.results.push((p.spec.sizes[p.size_index].0, SimDuration(one_way as u64)));
                    p.size_index += 1;
                    p.round = 0;
                    p.measured_ps = 0;
                    if p.size_index == p.spec.sizes.len() {
                        self.finish_app(app);
                        return;
                    }
                }
                self.pingpong_round(app);
            }
            (App::Background(_), TAG_START) => self.schedule_arrival(app, SimDuration::ZERO),
            (App::Background(bg), TAG_ARRIVAL) => {
                let next = bg.interarrival.sample(&mut bg.rng);
                if bg.active >= bg.spec.max_concurrent {
                    bg.skipped += 1;
                } else {
                    let n = bg.hosts.len();
                    let src = bg.rng.random_range(0..n);
                    let dst = (src + bg.rng.random_range(1..n)) % n;
                    let (src, dst) = (bg.hosts[src], bg.hosts[dst]);
                    let bytes = bg.sizes.sample(&mut bg.rng);
                    let slot = match bg.free.pop() {
                        Some(s) => s,
                        None => {
                            bg.conns.push(BgConn {
                                client_ep: NONE,
                                server_ep: NONE,
                                bytes: 0,
                                started: now,
                                received_all: false,
                                live: false,
                            });
                            (bg.conns.len() - 1) as u32
                        }
                    };
                    bg.active += 1;
                    bg.started += 1;
                    let (c, s) = self.open(
                        Attach::Host(src),
                        Attach::Host(dst),
                        Proto::Tcp,
                        ConnTag { app, conn: slot, flow: NONE },
                        80,
                    );
                    if let App::Background(bg) = &mut self.apps[app as usize] {
                        bg.conns[slot as usize] =
                            BgConn { client_ep: c, server_ep: s, bytes, started: now, received_all: false, live: true };
                    }
                }
                self.schedule_arrival(app, next);
            }
            _ => {}
        }
    }

    /// An NCCL all-reduce begins: every rank may post its first step.
    fn nccl_collective(&mut self, app: u32) {
        let now = self.now();
        let App::AllReduce(a) = &mut self.apps[app as usize] else { unreachable!() };
        a.started = now;
        let Some(r) = a.nccl.as_mut() else { unreachable!() };
        r.limit += r.units();
        r.edges_done = 0;
        for e in 0..r.sent.len() {
            self.nccl_try_send(app, e);
        }
    }

    /// Post the next ring step on edge `e` (channel `e / ranks`, from rank `e % ranks`) if its
    /// rank has the data (step s-1 from its left) and the receiver has free buffer slots (fewer
    /// than `NCCL_CHUNKS_IN_FLIGHT` steps of the edge in flight).
    fn nccl_try_send(&mut self, app: u32, e: usize) {
        let App::AllReduce(a) = &mut self.apps[app as usize] else { unreachable!() };
        let Some(r) = a.nccl.as_mut() else { return };
        let (ch, rank) = (e / r.ranks, e % r.ranks);
        let left = ch * r.ranks + (rank + r.ranks - 1) % r.ranks;
        let x = r.sent[e];
        if x >= r.limit || x - r.recvd[e] >= NCCL_CHUNKS_IN_FLIGHT || (!r.opens_loop(x) && r.recvd[left] < x) {
            return;
        }
        r.sent[e] += 1;
        if r.inter_node(rank) {
            let node = rank / r.gpus;
            let conn = ch * a.members.len() + node;
            let (ep, bytes) = (a.conns[conn].0, r.chunk);
            self.ep_send(ep, bytes);
        } else {
            let delay = r.nvlink_step + r.nvlink_share.serialisation(r.chunk);
            self.q.schedule_in(delay, super::Event::App { app, tag: TAG_NVLINK_BASE + e as u32 });
        }
    }

    /// A step landed on edge `e`: the receiving rank may forward it, the sending rank may post
    /// its next step, and the collective ends once every edge has delivered all its steps.
    fn nccl_landed(&mut self, app: u32, e: usize) {
        let App::AllReduce(a) = &mut self.apps[app as usize] else { unreachable!() };
        let Some(r) = a.nccl.as_mut() else { return };
        let (ch, rank) = (e / r.ranks, e % r.ranks);
        let right = ch * r.ranks + (rank + 1) % r.ranks;
        if r.recvd[e] == r.limit {
            r.edges_done += 1;
            if r.edges_done == r.recvd.len() {
                self.q.schedule_in(SimDuration::ZERO, super::Event::App { app, tag: TAG_RING_STEP_DONE });
                return;
            }
        }
        self.nccl_try_send(app, right);
        self.nccl_try_send(app, e);
    }

    fn ring_collective(&mut self, app: u32) {
        let now = self.now();
        let App::AllReduce(a) = &mut self.apps[app as usize] else { unreachable!() };
        a.started = now;
        a.step = 0;
        self.ring_step(app);
    }

    /// A ring step: every member posts its chunk (paying its send cost), then it leaves.
    fn ring_step(&mut self, app: u32) {
        let costs = self.host_costs;
        let App::AllReduce(a) = &mut self.apps[app as usize] else { unreachable!() };
        let delay = costs.send(a.spec.transport, a.chunk());
        self.q.schedule_in(delay, super::Event::App { app, tag: TAG_RING_SEND });
    }

    /// A ping-pong round begins: the client pays its send cost, then the message leaves.
    fn pingpong_round(&mut self, app: u32) {
        let now = self.now();
        let costs = self.host_costs;
        let App::PingPong(p) = &mut self.apps[app as usize] else { unreachable!() };
        p.round_start = now;
        let delay = costs.send(p.spec.transport, p.request_bytes());
        self.q.schedule_in(delay, super::Event::App { app, tag: TAG_CLIENT_SEND });
    }

    /// Issue one RPC on `conn`; returns false once the app's `count` is exhausted.
    fn rpc_issue(&mut self, app: u32, conn: usize) -> bool {
        let now = self.now();
        let App::Rpc(r) = &mut self.apps[app as usize] else { unreachable!() };
        if r.spec.count.is_some_and(|c| r.issued >= c) {
            return false;
        }
        let req = r.request.sample(&mut r.rng);
        let resp = r.response.sample(&mut r.rng);
        r.issued += 1;
        let c = &mut r.conns[conn];
        let bytes = c.book.issue(now, req, resp);
        let ep = c.client_ep;
        self.ep_send(ep, bytes);
        true
    }

    pub(crate) fn app_established(&mut self, owner: Owner, ep: u32) {
        if owner.side != Side::Client {
            return;
        }
        match &self.apps[owner.app as usize] {
            App::Bulk(b) => {
                let bytes = b.spec.bytes.map(|x| x.0);
                self.ep_send(ep, bytes.unwrap_or(BULK_UNBOUNDED_BYTES));
                if bytes.is_some() {
                    self.ep_close(ep);
                }
            }
            App::Background(bg) => {
                let bytes = bg.conns[owner.conn as usize].bytes;
                self.ep_send(ep, bytes);
                self.ep_close(ep);
            }
            App::Permutation(p) => {
                let bytes = p.spec.bytes.map(|x| x.0);
                self.ep_send(ep, bytes.unwrap_or(BULK_UNBOUNDED_BYTES));
                if bytes.is_some() {
                    self.ep_close(ep);
                }
            }
            App::PingPong(_) => self.pingpong_round(owner.app),
            App::AllReduce(_) => {
                let App::AllReduce(a) = &mut self.apps[owner.app as usize] else { unreachable!() };
                a.established += 1;
                if a.established == a.conns.len() {
                    self.ring_collective(owner.app);
                }
            }
            App::ServiceClients(_) => self.service_established(owner.app, owner.conn as usize),
            App::Connections(_) => self.connections_established(owner.app),
            App::FlowLogs(_) => self.replay_established(owner),
            App::Rpc(_) | App::Datagrams(_) => {}
        }
    }

    pub(crate) fn app_delivered(&mut self, owner: Owner, ep: u32, _bytes: u64, born: SimTime) {
        if matches!(self.apps[owner.app as usize], App::ServiceClients(_)) {
            self.service_delivered(owner, ep);
            return;
        }
        if matches!(self.apps[owner.app as usize], App::FlowLogs(_)) {
            self.replay_delivered(owner, ep);
            return;
        }
        let now = self.now();
        let total = self.eps[ep as usize].transport.stats().bytes_delivered;
        match &mut self.apps[owner.app as usize] {
            App::ServiceClients(_) | App::FlowLogs(_) => unreachable!("handled above"),
            App::Connections(_) => {}
            App::Bulk(b) => {
                let f = b.flows[owner.conn as usize];
                let flow = &mut self.flows[f as usize];
                if flow.completed.is_none() && flow.target_bytes.is_some_and(|t| flow.delivered >= t) {
                    flow.completed = Some(now);
                    b.remaining -= 1;
                    if b.remaining == 0 {
                        self.finish_app(owner.app);
                    }
                }
            }
            App::Rpc(r) => {
                let conn = &mut r.conns[owner.conn as usize];
                match owner.side {
                    Side::Server => {
                        let write = conn.book.server_received(total);
                        let s = conn.server_ep;
                        if write > 0 {
                            self.ep_send(s, write);
                        }
                    }
                    Side::Client => {
                        let (warm, hist) = (r.warmup_end, &mut r.measured);
                        let mut done = 0u32;
                        conn.book.client_received(total, |issued| {
                            done += 1;
                            if issued >= warm {
                                hist.saturating_record(ns(now.since(issued)));
                            }
                        });
                        r.completed += done as u64;
                        let closed_loop = matches!(r.spec.arrival, Arrival::ClosedLoop { .. });
                        let all_done = r.spec.count.is_some_and(|c| r.completed >= c);
                        if all_done && !r.finished {
                            r.finished = true;
                            self.finish_app(owner.app);
                        }
                        if closed_loop {
                            for _ in 0..done {
                                self.rpc_issue(owner.app, owner.conn as usize);
                            }
                        }
                    }
                }
            }
            App::AllReduce(a) if a.nccl.is_some() => {
                // A channel's EFA connection from node k carries the ring edge leaving that
                // node's last rank.
                if owner.side == Side::Server {
                    let n = a.members.len();
                    let r = a.nccl.as_mut().expect("checked");
                    let (ch, node) = (owner.conn as usize / n, owner.conn as usize % n);
                    let e = ch * r.ranks + node * r.gpus + r.gpus - 1;
                    // Every step is one EFA message of `chunk` bytes: a completion lands one.
                    let steps = (total / r.chunk) as u32;
                    if r.recvd[e] < steps {
                        r.recvd[e] += 1;
                        debug_assert_eq!(r.recvd[e], steps);
                        self.nccl_landed(owner.app, e);
                    }
                }
            }
            App::AllReduce(a) => {
                let i = owner.conn as usize;
                if owner.side == Side::Server && !a.rx_done[i] && a.rx_target[i] > 0 && total >= a.rx_target[i] {
                    a.rx_done[i] = true;
                    a.done_count += 1;
                    if a.done_count == a.conns.len() {
                        // Every member has its chunk: reduce it (the receive cost) and go on.
                        let delay = self.host_costs.receive(a.spec.transport, a.chunk());
                        self.q.schedule_in(delay, super::Event::App { app: owner.app, tag: TAG_RING_STEP_DONE });
                    }
                }
            }
            App::PingPong(p) => {
                let costs = self.host_costs;
                let t = p.spec.transport;
                let (request, (reply, _)) = (p.request_bytes(), p.reply());
                let (target, busy, tag) = match owner.side {
                    Side::Server => (p.server_rx_target, &mut p.server_busy, TAG_SERVER_SEND),
                    Side::Client => (p.client_rx_target, &mut p.client_busy, TAG_CLIENT_DONE),
                };
                if total >= target && target > 0 && !*busy {
                    *busy = true;
                    let delay = match owner.side {
                        // The target's card answers a read by itself: its CPU never runs.
                        Side::Server if t == MessageTransport::EfaRdmaRead => SimDuration::ZERO,
                        // The server takes the message in, then sends its reply.
                        Side::Server => costs.receive(t, request) + costs.send(t, reply),
                        Side::Client => costs.receive(t, reply),
                    };
                    self.q.schedule_in(delay, super::Event::App { app: owner.app, tag });
                }
            }
            App::Permutation(p) => {
                let f = &mut p.flows[owner.conn as usize];
                f.delivered = total;
                if f.completed.is_none() && p.spec.bytes.is_some_and(|b| total >= b.0) {
                    f.completed = Some(now);
                    p.remaining -= 1;
                    if p.remaining == 0 {
                        self.finish_app(owner.app);
                    }
                }
            }
            App::Datagrams(d) => {
                if owner.side == Side::Server {
                    d.received += 1;
                    let l = now.since(born);
                    d.latency.saturating_record(ns(l));
                    d.min_latency = Some(d.min_latency.map_or(l, |m| m.min(l)));
                }
            }
            App::Background(bg) => {
                let c = &mut bg.conns[owner.conn as usize];
                if owner.side == Side::Server && !c.received_all && total >= c.bytes {
                    c.received_all = true;
                    bg.fct.saturating_record(ns(now.since(c.started)));
                    bg.completed += 1;
                    bg.bytes_completed += c.bytes;
                }
            }
        }
        self.background_maybe_close(owner);
    }

    /// A background connection is torn down once its data is delivered and acknowledged.
    pub(crate) fn background_maybe_close(&mut self, owner: Owner) {
        let App::Background(bg) = &mut self.apps[owner.app as usize] else {
            return;
        };
        let c = &bg.conns[owner.conn as usize];
        if !c.live || !c.received_all || !self.eps[c.client_ep as usize].transport.all_acked() {
            return;
        }
        let (ce, se) = (c.client_ep, c.server_ep);
        bg.conns[owner.conn as usize].live = false;
        bg.free.push(owner.conn);
        bg.active -= 1;
        self.close(ce, se);
    }
}
