//! Workloads at run time, the model's side. `Model` implements `workload::Ctx` (what a workload
//! may ask of the world) and dispatches the three things an app reacts to (its own clock, a
//! connection becoming established, in-order bytes delivered to one of its endpoints) to the
//! kinds behind the `workload::Workload` trait (`workload_kinds!`, one line per kind), and
//! otherwise to the code still here (all-reduce and NCCL collectives).
use super::app_state::*;
use super::{Attach, ConnTag, Event, FlowRt, Model, NONE, Owner, Proto, Side};
use crate::ec2::failover::ServiceAddress;
use crate::transport::Transport;
use crate::units::{SimDuration, SimTime};
use crate::workload::{Ctx, Delivery, HostCosts, Workload};

/// The workload kinds that live behind the `Workload` trait (in `workload/`), one line each:
/// `$body` runs with `$w` bound to the kind's state.
macro_rules! workload_kinds {
    ($app:expr, $w:ident => $body:expr, _ => $other:expr) => {
        match $app {
            App::Bulk($w) => $body,
            App::Background($w) => $body,
            App::Permutation($w) => $body,
            App::PingPong($w) => $body,
            App::Rpc($w) => $body,
            App::Datagrams($w) => $body,
            App::ServiceClients($w) => $body,
            App::Connections($w) => $body,
            App::FlowLogs($w) => $body,
            _ => $other,
        }
    };
}

/// Run `$body` on workload `$app` if its kind is behind the `Workload` trait (evaluates to
/// whether it was), with `$w` the workload and `$ctx` the model. The workload is taken out of its
/// slot while it runs, so that it and the model it calls back into are two borrows: a workload
/// only drives its own endpoints, and none of them calls back into it synchronously (handshakes
/// and deliveries arrive as events; the glue below panics on `App::Taken` if one ever did).
macro_rules! on_workload {
    ($m:expr, $app:expr, |$w:ident, $ctx:ident| $body:expr) => {{
        let i = $app as usize;
        if workload_kinds!(&$m.apps[i], _w => true, _ => false) {
            let mut taken = std::mem::replace(&mut $m.apps[i], App::Taken);
            let $ctx: &mut Model = &mut *$m;
            workload_kinds!(&mut taken, $w => $body, _ => unreachable!("checked above"));
            $m.apps[i] = taken;
            true
        } else {
            false
        }
    }};
}

/// The model as the workloads see it: every call is the model method of the same name.
impl Ctx for Model {
    fn now(&self) -> SimTime {
        Model::now(self)
    }
    fn host_costs(&self) -> HostCosts {
        self.host_costs
    }
    fn open(&mut self, a: Attach, b: Attach, proto: Proto, tag: ConnTag, port: u16) -> (u32, u32) {
        Model::open(self, a, b, proto, tag, port)
    }
    fn close(&mut self, client_ep: u32, server_ep: u32) {
        Model::close(self, client_ep, server_ep)
    }
    fn ep_send(&mut self, ep: u32, bytes: u64) {
        Model::ep_send(self, ep, bytes)
    }
    fn ep_close(&mut self, ep: u32) {
        Model::ep_close(self, ep)
    }
    fn stop_writing(&mut self, ep: u32) -> u64 {
        self.eps[ep as usize].transport.stop_writing()
    }
    fn all_acked(&self, ep: u32) -> bool {
        self.eps[ep as usize].transport.all_acked()
    }
    fn new_flow(&mut self, name: String, workload: &str, kind: &'static str, target: Option<u64>) -> u32 {
        Model::new_flow(self, name, workload, kind, target)
    }
    fn flow(&mut self, f: u32) -> &mut FlowRt {
        &mut self.flows[f as usize]
    }
    fn schedule(&mut self, app: u32, after: SimDuration, tag: u32) {
        self.q.schedule_in(after, Event::App { app, tag });
    }
    fn efa_messages(&mut self, from: u32, to: u32, eps: [u32; 2]) {
        // MPI's send/receive: libfabric's message protocols, not one-sided transfers.
        let read = |i: u32| self.insts[i as usize].ty.efa_rdma >= crate::ec2::EfaRdma::Read;
        let cfg = crate::transport::efa::MessageConfig {
            rdma_read: read(from) && read(to),
            copy_rate: self.host_costs.copy_rate,
            turnaround: self.host_costs.bypass_poll + self.host_costs.bypass_post,
        };
        for ep in eps {
            if let crate::transport::Endpoint::Efa(e) = &mut self.eps[ep as usize].transport {
                e.set_mode(crate::transport::efa::EfaMode::Messages(cfg));
            }
        }
    }
    fn finished(&mut self) {
        debug_assert!(self.unfinished > 0);
        self.unfinished -= 1;
    }
    // service clients
    fn service_address(&self, s: u32) -> (ServiceAddress, u32) {
        (self.services[s as usize].address, self.services[s as usize].owner)
    }
    fn open_service(&mut self, s: u32, client: u32, server: u32, tag: ConnTag, port: u16) -> (u32, u32) {
        Model::open_service(self, s, client, server, tag, port)
    }
    fn instance_name(&self, i: u32) -> String {
        self.insts[i as usize].name.clone()
    }
    fn log_flow_event(&mut self, event: &'static str, flow: String, detail: String) {
        self.log_event(super::trace::LogEntry { event, flow: Some(flow), detail: Some(detail), ..Default::default() });
    }
    fn time_bin(&self) -> usize {
        (Model::now(self).ps() / self.bin_ps) as usize
    }
    // replay
    fn schedule_at(&mut self, app: u32, at: SimTime, tag: u32) {
        self.q.schedule_at(at, Event::App { app, tag });
    }
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

    fn finish_app(&mut self, app: u32) {
        if self.apps[app as usize].is_foreground() && self.apps[app as usize].is_finite() {
            debug_assert!(self.unfinished > 0);
            self.unfinished -= 1;
        }
    }

    pub(crate) fn app_event(&mut self, app: u32, tag: u32) {
        if on_workload!(self, app, |w, m| if tag == TAG_START { w.start(m, app) } else { w.on_event(m, app, tag) }) {
            return;
        }
        let now = self.now();
        match (&mut self.apps[app as usize], tag) {
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

    pub(crate) fn app_established(&mut self, owner: Owner, ep: u32) {
        if owner.side != Side::Client {
            return;
        }
        if on_workload!(self, owner.app, |w, m| w.on_established(m, owner.app, owner.conn, ep)) {
            return;
        }
        match &self.apps[owner.app as usize] {
            App::AllReduce(_) => {
                let App::AllReduce(a) = &mut self.apps[owner.app as usize] else { unreachable!() };
                a.established += 1;
                if a.established == a.conns.len() {
                    self.ring_collective(owner.app);
                }
            }
            App::Bulk(_)
            | App::Rpc(_)
            | App::Datagrams(_)
            | App::Background(_)
            | App::Permutation(_)
            | App::PingPong(_)
            | App::ServiceClients(_)
            | App::Connections(_)
            | App::FlowLogs(_)
            | App::Taken => {
                unreachable!("behind the Workload trait")
            }
        }
    }

    pub(crate) fn app_delivered(&mut self, owner: Owner, ep: u32, _bytes: u64, born: SimTime) {
        let total = self.eps[ep as usize].transport.stats().bytes_delivered;
        let d = Delivery { conn: owner.conn, side: owner.side, ep, total, born };
        if on_workload!(self, owner.app, |w, m| w.on_delivery(m, owner.app, d)) {
            return;
        }
        let total = self.eps[ep as usize].transport.stats().bytes_delivered;
        match &mut self.apps[owner.app as usize] {
            App::Bulk(_)
            | App::Rpc(_)
            | App::Datagrams(_)
            | App::Background(_)
            | App::Permutation(_)
            | App::PingPong(_)
            | App::ServiceClients(_)
            | App::Connections(_)
            | App::FlowLogs(_)
            | App::Taken => {
                unreachable!("behind the Workload trait")
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
        }
        self.background_maybe_close(owner);
    }

    /// A background connection is torn down once its data is delivered and acknowledged (the
    /// last ACK of a background flow, seen by `flush`, frees its connection).
    pub(crate) fn background_maybe_close(&mut self, owner: Owner) {
        if !matches!(self.apps[owner.app as usize], App::Background(_)) {
            return;
        }
        let mut taken = std::mem::replace(&mut self.apps[owner.app as usize], App::Taken);
        let App::Background(bg) = &mut taken else { unreachable!("checked above") };
        bg.background_maybe_close(self, owner.conn);
        self.apps[owner.app as usize] = taken;
    }
}
