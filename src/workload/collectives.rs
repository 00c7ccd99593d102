//! All-reduce and all-to-all collectives: a ring (or every-to-every exchange) between instances
//! over TCP or EFA, and NCCL's ring all-reduce across GPUs (NVLink within a node, EFA between
//! nodes); each collective timed after a warm-up.

use super::Collector;
use super::config::AllReduceConfig;
pub use super::nccl::{NCCL_BUFFSIZE_BYTES, NCCL_STEPS, TAG_NVLINK_BASE};
use super::nccl_tree::NcclTree;
use super::nccl_tune::NcclChoice;
use super::results::{RunEnd, round3};
use super::{Attach, ConnTag, Ctx, Delivery, NONE, Proto, Side, Workload};
use super::{TAG_RING_SEND, TAG_RING_STEP_DONE};
use crate::units::{SimDuration, SimTime};
use serde::Serialize;

/// Slots one all-reduce ring step (a chunk) occupies. Source: NCCL src/include/collectives.h,
/// `#define ALLREDUCE_CHUNKSTEPS (NCCL_STEPS/2)`.
pub const ALLREDUCE_CHUNKSTEPS: u32 = NCCL_STEPS / 2;
/// Ring steps a sender may have in flight to its receiver: the slots over a chunk's share (2).
pub const NCCL_CHUNKS_IN_FLIGHT: u32 = NCCL_STEPS / ALLREDUCE_CHUNKSTEPS;
/// Largest chunk of one ring step on one channel: the Simple protocol's buffer over its slots,
/// times the slots a chunk takes, 4 MiB / 8 x 4 = 2 MiB (`DEFAULT_BUFFSIZE` 4 MiB in NCCL
/// src/init.cc, `NCCL_BUFFSIZE`; `stepSize = buffSize / NCCL_STEPS`, `chunkSize = stepSize *
/// chunkSteps` in src/enqueue.cc). A larger collective loops over its buffer (`nLoops`): every
/// loop is a full ring of 2(R-1) steps of at most this much.
pub const NCCL_MAX_CHUNK_BYTES: u64 = NCCL_BUFFSIZE_BYTES / NCCL_STEPS as u64 * ALLREDUCE_CHUNKSTEPS as u64;
/// Ring all-reduce: 2(N-1) steps; in each, every member sends 1/N of the buffer to its right
/// neighbour and waits for 1/N from its left. Over EFA each neighbour pair uses every network card
/// the two have, striping each chunk across them as NCCL does.
pub struct AllReduceApp {
    pub spec: AllReduceConfig,
    /// All-to-all instead of the ring: one step, every member to every other member.
    pub all_to_all: bool,
    pub members: Vec<u32>,
    pub cards: usize,
    /// Connection k * cards + c: member k to member k + 1 on card c.
    pub conns: Vec<(u32, u32)>,
    /// Per connection: bytes its receiver must have for the current step to be done.
    pub rx_target: Vec<u64>,
    pub rx_done: Vec<bool>,
    pub done_count: usize,
    pub established: usize,
    pub step: u32,
    pub iteration: u32,
    pub started: SimTime,
    pub times: Vec<SimDuration>,
    /// NCCL ring (`gpus_per_node > 1`): per (channel, rank) edge `channel * ranks + rank`, ring
    /// steps posted and steps delivered, counted over the whole run.
    pub nccl: Option<NcclRing>,
    /// NCCL's tree instead (`algorithm: Tree`, or `Auto` choosing it): see `nccl_tree`.
    pub tree: Option<Box<NcclTree>>,
    /// How NCCL's cost model chose (or would have chosen) the algorithm: see `nccl_tune`.
    pub nccl_choice: Option<NcclChoice>,
}

/// NCCL's ring all-reduce as the node runs it: `ranks = nodes x gpus` ranks in node order, one
/// ring per channel, each channel carrying `bytes / channels`. A step moves one chunk from a rank
/// to the next; within a node over NVLink (NCCL's per-step cost plus the bytes at the channel's
/// share of the GPU's NVLink), between nodes over EFA on the channel's card (packet level). There
/// is no barrier: a rank posts step s as soon as it has step s-1 from its left neighbour and its
/// receiver has a free slot (NCCL's Simple protocol pipelines this way).
#[derive(Clone, Debug)]
pub struct NcclRing {
    pub gpus: usize,
    pub channels: usize,
    pub ranks: usize,
    /// Bytes of one step on one channel (at most `NCCL_MAX_CHUNK_BYTES`).
    pub chunk: u64,
    /// Rounds of ring steps per collective (NCCL's nLoops).
    pub loops: u32,
    pub nvlink_step: SimDuration,
    /// NVLink rate one channel gets (the GPU's NVLink shared by every channel through it).
    pub nvlink_share: crate::units::Bandwidth,
    pub sent: Vec<u32>,
    pub recvd: Vec<u32>,
    /// Steps every edge must have delivered when the current collective is done.
    pub limit: u32,
    pub edges_done: usize,
}

impl NcclRing {
    pub fn new(spec: &AllReduceConfig, nodes: usize, cards: usize) -> Self {
        let gpus = spec.gpus_per_node as usize;
        let channels = spec.channels.map_or(cards, |c| c as usize).max(1);
        let ranks = nodes * gpus;
        let loops = spec.bytes.0.div_ceil((channels * ranks) as u64 * NCCL_MAX_CHUNK_BYTES).max(1);
        let chunk = spec.bytes.0.div_ceil((channels * ranks) as u64 * loops).max(1);
        NcclRing {
            gpus,
            channels,
            ranks,
            chunk,
            loops: loops as u32,
            nvlink_step: spec.nvlink_step,
            nvlink_share: crate::units::Bandwidth((spec.nvlink.bps() / channels as u64).max(1)),
            sent: vec![0; channels * ranks],
            recvd: vec![0; channels * ranks],
            limit: 0,
            edges_done: 0,
        }
    }
    /// Ring steps per collective: 2(ranks - 1).
    pub fn steps(&self) -> u32 {
        2 * (self.ranks as u32 - 1)
    }
    /// Steps every edge carries per collective: `loops` rings.
    pub fn units(&self) -> u32 {
        self.loops * self.steps()
    }
    /// The edge's `n`-th step (counted over the run) opens a loop: it sends the rank's own data
    /// and waits for nothing from its left.
    pub fn opens_loop(&self, n: u32) -> bool {
        n.is_multiple_of(self.steps())
    }
    /// The edge leaving rank `r` crosses to the next node (over EFA).
    pub fn inter_node(&self, r: usize) -> bool {
        r % self.gpus == self.gpus - 1
    }
}

impl AllReduceApp {
    pub(crate) fn efa(&self) -> bool {
        self.spec.transport.bypasses_kernel()
    }
    /// Steps per collective: 2(N-1) around the ring, or one exchange for all-to-all.
    pub(crate) fn steps(&self) -> u32 {
        if self.all_to_all { 1 } else { 2 * (self.members.len() as u32 - 1) }
    }
    /// Bytes each member sends per step and destination (the last chunk may be a little larger).
    pub(crate) fn chunk(&self) -> u64 {
        self.spec.bytes.0.div_ceil(self.members.len() as u64)
    }
    /// Ranks as NCCL counts them (GPUs), or members.
    pub fn ranks(&self) -> usize {
        match (&self.nccl, &self.tree) {
            (Some(r), _) => r.ranks,
            (_, Some(t)) => t.nodes * t.gpus,
            _ => self.members.len(),
        }
    }
    /// NCCL channels, or cards per neighbour pair.
    pub fn channels(&self) -> usize {
        match (&self.nccl, &self.tree) {
            (Some(r), _) => r.channels,
            (_, Some(t)) => t.channels,
            _ => self.cards,
        }
    }
    /// What the results call the algorithm.
    pub fn algorithm_label(&self) -> &'static str {
        match (self.all_to_all, &self.nccl, &self.tree) {
            (true, _, _) => "all-to-all",
            (_, Some(_), _) => "nccl ring all-reduce",
            (_, _, Some(_)) => "nccl tree all-reduce",
            _ => "ring all-reduce",
        }
    }
    /// Bytes of a step on card c (the chunk striped evenly, remainder on card 0).
    pub(crate) fn stripe(&self, c: usize) -> u64 {
        let (chunk, n) = (self.chunk(), self.cards as u64);
        chunk / n + if c == 0 { chunk % n } else { 0 }
    }
}

impl AllReduceApp {
    /// An NCCL all-reduce begins: every rank may post its first step.
    fn nccl_collective(&mut self, ctx: &mut impl Ctx, app: u32) {
        let now = ctx.now();
        let a = &mut *self;
        a.started = now;
        let Some(r) = a.nccl.as_mut() else { unreachable!() };
        r.limit += r.units();
        r.edges_done = 0;
        for e in 0..r.sent.len() {
            self.nccl_try_send(ctx, app, e);
        }
    }

    /// Post the next ring step on edge `e` (channel `e / ranks`, from rank `e % ranks`) if its
    /// rank has the data (step s-1 from its left) and the receiver has free buffer slots (fewer
    /// than `NCCL_CHUNKS_IN_FLIGHT` steps of the edge in flight).
    fn nccl_try_send(&mut self, ctx: &mut impl Ctx, app: u32, e: usize) {
        let a = &mut *self;
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
            ctx.ep_send(ep, bytes);
        } else {
            let delay = r.nvlink_step + r.nvlink_share.serialisation(r.chunk);
            ctx.schedule(app, delay, TAG_NVLINK_BASE + e as u32);
        }
    }

    /// A step landed on edge `e`: the receiving rank may forward it, the sending rank may post
    /// its next step, and the collective ends once every edge has delivered all its steps.
    fn nccl_landed(&mut self, ctx: &mut impl Ctx, app: u32, e: usize) {
        let a = &mut *self;
        let Some(r) = a.nccl.as_mut() else { return };
        let (ch, rank) = (e / r.ranks, e % r.ranks);
        let right = ch * r.ranks + (rank + 1) % r.ranks;
        if r.recvd[e] == r.limit {
            r.edges_done += 1;
            if r.edges_done == r.recvd.len() {
                ctx.schedule(app, SimDuration::ZERO, TAG_RING_STEP_DONE);
                return;
            }
        }
        self.nccl_try_send(ctx, app, right);
        self.nccl_try_send(ctx, app, e);
    }

    /// A tree all-reduce begins (a fleet of one rank is done at once).
    fn tree_collective(&mut self, ctx: &mut impl Ctx, app: u32) {
        self.started = ctx.now();
        let Some(t) = self.tree.as_mut() else { unreachable!() };
        if t.begin(ctx, app, &self.conns) {
            ctx.schedule(app, SimDuration::ZERO, TAG_RING_STEP_DONE);
        }
    }

    /// A tree chunk landed on edge `e`.
    fn tree_landed(&mut self, ctx: &mut impl Ctx, app: u32, e: u32) {
        let Some(t) = self.tree.as_mut() else { return };
        if t.landed(ctx, app, &self.conns, e) {
            ctx.schedule(app, SimDuration::ZERO, TAG_RING_STEP_DONE);
        }
    }

    fn ring_collective(&mut self, ctx: &mut impl Ctx, app: u32) {
        let now = ctx.now();
        let a = &mut *self;
        a.started = now;
        a.step = 0;
        self.ring_step(ctx, app);
    }

    /// A ring step: every member posts its chunk (paying its send cost), then it leaves.
    fn ring_step(&mut self, ctx: &mut impl Ctx, app: u32) {
        let costs = ctx.host_costs();
        let a = &mut *self;
        let delay = costs.send(a.spec.transport, a.chunk());
        ctx.schedule(app, delay, TAG_RING_SEND);
    }
}

impl Workload for AllReduceApp {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn is_finite(&self) -> bool {
        true
    }

    fn results(&self, _run: &impl RunEnd, out: &mut Collector) {
        if self.times.is_empty() {
            out.unfinished.push(format!(
                "workload {:?}: no collective finished before the end of the run (lengthen `duration`)",
                self.spec.name
            ));
            return;
        }
        // NCCL's bus bandwidth counts ranks (GPUs), not instances.
        let ranks = self.ranks();
        let n = ranks as f64;
        let mean_ps = self.times.iter().map(|t| t.ps() as f64).sum::<f64>() / self.times.len() as f64;
        let secs = mean_ps / 1e12;
        let factor = if self.all_to_all { (n - 1.0) / n } else { 2.0 * (n - 1.0) / n };
        out.sections.collectives.push(CollectiveResult {
            workload: self.spec.name.clone(),
            algorithm: self.algorithm_label(),
            transport: self.spec.transport.label(),
            members: self.members.len() as u64,
            ranks: ranks as u64,
            channels: self.channels() as u64,
            cards: self.cards as u64,
            bytes: self.spec.bytes.0,
            time_us: round3(mean_ps / 1e6),
            bus_gbps: round3(factor * self.spec.bytes.0 as f64 * 8.0 / secs / 1e9),
            // nccl-tests' units: GB/s with GB = 1e9 bytes.
            alg_gbyte_s: round3(self.spec.bytes.0 as f64 / secs / 1e9),
            bus_gbyte_s: round3(factor * self.spec.bytes.0 as f64 / secs / 1e9),
            nccl_choice: self.nccl_choice.clone(),
        });
    }

    fn start(&mut self, ctx: &mut impl Ctx, app: u32) {
        let a = &mut *self;
        if let Some(t) = a.tree.as_ref() {
            // One EFA connection per inter-node edge of every channel's tree (channel c on card
            // c mod cards), opened in the order the tree numbers them.
            let (members, cards, port) = (a.members.clone(), a.cards, a.spec.port);
            let links: Vec<(usize, u32, u32)> = t
                .conn_edge
                .iter()
                .map(|&e| {
                    let edge = t.edges[e as usize];
                    let ch = edge.from as usize / (t.nodes * t.gpus);
                    (ch % cards, edge.from_node, edge.to_node)
                })
                .collect();
            let mut conns = Vec::with_capacity(links.len());
            for (card, from, to) in links {
                let tag = ConnTag { app, conn: conns.len() as u32, flow: NONE };
                let (from, to) = (Attach::Instance(members[from as usize]), Attach::Instance(members[to as usize]));
                conns.push(ctx.open(from, to, Proto::Efa(card as u16), tag, port));
            }
            self.conns = conns;
            self.tree_collective(ctx, app);
        } else if a.nccl.is_some() {
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
                    conns.push(ctx.open(from, to, Proto::Efa((ch % cards) as u16), tag, port));
                }
            }
            self.conns = conns;
            self.nccl_collective(ctx, app);
        } else {
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
                    conns.push(ctx.open(from, to, proto, tag, port));
                }
            }
            self.rx_target = vec![0; conns.len()];
            self.rx_done = vec![false; conns.len()];
            self.conns = conns;
            if efa {
                self.ring_collective(ctx, app);
            }
        }
    }

    fn on_event(&mut self, ctx: &mut impl Ctx, app: u32, tag: u32) {
        let now = ctx.now();
        let a = &mut *self;
        match tag {
            t if t >= TAG_NVLINK_BASE && a.tree.is_some() => self.tree_landed(ctx, app, t - TAG_NVLINK_BASE),
            t if t >= TAG_NVLINK_BASE => {
                let edge = (t - TAG_NVLINK_BASE) as usize;
                if let Some(r) = a.nccl.as_mut() {
                    r.recvd[edge] += 1;
                }
                self.nccl_landed(ctx, app, edge);
            }
            TAG_RING_SEND => {
                for i in 0..a.conns.len() {
                    a.rx_target[i] += a.stripe(i % a.cards);
                    a.rx_done[i] = false;
                }
                a.done_count = 0;
                for i in 0..a.conns.len() {
                    let (ep, bytes) = (a.conns[i].0, a.stripe(i % a.cards));
                    ctx.ep_send(ep, bytes);
                }
            }
            TAG_RING_STEP_DONE => {
                if a.nccl.is_none() && a.tree.is_none() {
                    a.step += 1;
                    if a.step < a.steps() {
                        self.ring_step(ctx, app);
                        return;
                    }
                }
                // One collective done: time it (after the warm-up), then the next or the end.
                if a.iteration >= a.spec.warmup {
                    let t = now.since(a.started);
                    a.times.push(t);
                }
                a.iteration += 1;
                let (nccl, tree) = (a.nccl.is_some(), a.tree.is_some());
                if a.iteration == a.spec.warmup + a.spec.iterations {
                    self.finish(ctx);
                } else if tree {
                    self.tree_collective(ctx, app);
                } else if nccl {
                    self.nccl_collective(ctx, app);
                } else {
                    self.ring_collective(ctx, app);
                }
            }
            _ => {}
        }
    }

    fn on_established(&mut self, ctx: &mut impl Ctx, app: u32, _conn: u32, _ep: u32) {
        self.established += 1;
        if self.established == self.conns.len() {
            self.ring_collective(ctx, app);
        }
    }

    fn on_delivery(&mut self, ctx: &mut impl Ctx, app: u32, d: Delivery) {
        let total = d.total;
        let a = &mut *self;
        let n = a.members.len();
        if let Some(t) = a.tree.as_ref() {
            if d.side == Side::Server {
                // Every chunk is one EFA message of `chunk` bytes.
                let (e, new) = t.delivered(d.conn, total);
                for _ in 0..new {
                    self.tree_landed(ctx, app, e);
                }
            }
        } else if let Some(r) = a.nccl.as_mut() {
            // A channel's EFA connection from node k carries the ring edge leaving that
            // node's last rank.
            if d.side == Side::Server {
                let (ch, node) = (d.conn as usize / n, d.conn as usize % n);
                let e = ch * r.ranks + node * r.gpus + r.gpus - 1;
                // Every step is one EFA message of `chunk` bytes: a completion lands one.
                let steps = (total / r.chunk) as u32;
                if r.recvd[e] < steps {
                    r.recvd[e] += 1;
                    debug_assert_eq!(r.recvd[e], steps);
                    self.nccl_landed(ctx, app, e);
                }
            }
        } else {
            let i = d.conn as usize;
            if d.side == Side::Server && !a.rx_done[i] && a.rx_target[i] > 0 && total >= a.rx_target[i] {
                a.rx_done[i] = true;
                a.done_count += 1;
                if a.done_count == a.conns.len() {
                    // Every member has its chunk: reduce it (the receive cost) and go on.
                    let delay = ctx.host_costs().receive(a.spec.transport, a.chunk());
                    ctx.schedule(app, delay, TAG_RING_STEP_DONE);
                }
            }
        }
    }
}

/// A collective's timing.
#[derive(Clone, Debug, Serialize)]
pub struct CollectiveResult {
    pub workload: String,
    pub algorithm: &'static str,
    pub transport: &'static str,
    pub members: u64,
    /// Ranks in the collective: instances x GPUs per instance.
    pub ranks: u64,
    /// NCCL channels (rings side by side; the 1-rank-per-instance ring stripes over its cards).
    pub channels: u64,
    /// Network cards each neighbour pair stripes over.
    pub cards: u64,
    pub bytes: u64,
    /// Mean time per collective, over the measured iterations.
    pub time_us: f64,
    /// NCCL's bus bandwidth: 2(N-1)/N x bytes / time for all-reduce, (N-1)/N x bytes / time for
    /// all-to-all.
    pub bus_gbps: f64,
    /// nccl-tests' algbw and busbw, in GB/s (1e9 bytes per second).
    pub alg_gbyte_s: f64,
    pub bus_gbyte_s: f64,
    /// NCCL's all-reduce on GPU nodes nitrosim knows: how the algorithm was chosen (requested,
    /// run, NCCL's time estimates, what it would pick with LL/LL128). Absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nccl_choice: Option<NcclChoice>,
}
