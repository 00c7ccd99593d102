//! The `App` enum that holds every workload. Bulk, RPC, datagrams, background, permutation,
//! ping-pong, service clients, connections and flow-log replay live in `crate::workload` (one
//! file each, behind its `Workload` trait) and are re-exported here; the state of the rest is
//! here: all-reduce (behaviour in `apps`). They all depend on this file and it on none of them,
//! so the workload modules form no cycle.
use crate::units::{SimDuration, SimTime};
use crate::workload::Workload;
pub use crate::workload::background::{BackgroundApp, BgConn};
pub use crate::workload::bulk::BulkApp;
use crate::workload::config::*;
pub use crate::workload::connections::ConnectionsApp;
pub use crate::workload::datagrams::DatagramApp;
pub use crate::workload::permutation::{PermFlow, PermutationApp};
pub use crate::workload::pingpong::PingPongApp;
pub use crate::workload::replay::{FlowLogsApp, ReplayGroup};
pub use crate::workload::rpc::{RpcApp, RpcConn};
pub use crate::workload::service_clients::{ClientRt, ServiceClientsApp};
pub use crate::workload::{
    BULK_UNBOUNDED_BYTES, HIST_MAX_NS, TAG_ARRIVAL, TAG_CLIENT_DONE, TAG_CLIENT_SEND, TAG_RING_SEND,
    TAG_RING_STEP_DONE, TAG_SERVER_SEND, TAG_START, TAG_STOP, latency_histogram,
};

/// Buffer slots per NCCL connection. Source: NCCL src/include/device.h (devcomm.h in older
/// releases), `#define NCCL_STEPS 8`.
pub const NCCL_STEPS: u32 = 8;
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
pub const NCCL_MAX_CHUNK_BYTES: u64 = (4 << 20) / NCCL_STEPS as u64 * ALLREDUCE_CHUNKSTEPS as u64;
/// NCCL ring: an NVLink step of (channel, rank) has landed; the tag is this plus
/// `channel * ranks + rank`.
pub const TAG_NVLINK_BASE: u32 = 1 << 20;
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
    /// Bytes of a step on card c (the chunk striped evenly, remainder on card 0).
    pub(crate) fn stripe(&self, c: usize) -> u64 {
        let (chunk, n) = (self.chunk(), self.cards as u64);
        chunk / n + if c == 0 { chunk % n } else { 0 }
    }
}

pub enum App {
    /// The slot of a workload that is running right now: it is taken out of the model while it
    /// calls back into it (`model::apps`), and put back when it returns.
    Taken,
    Connections(ConnectionsApp),
    ServiceClients(ServiceClientsApp),
    FlowLogs(FlowLogsApp),
    AllReduce(AllReduceApp),
    PingPong(PingPongApp),
    Permutation(PermutationApp),
    Bulk(BulkApp),
    Rpc(RpcApp),
    Datagrams(DatagramApp),
    Background(BackgroundApp),
}

impl App {
    /// Finite apps can finish and let the run end early; others run to the end time.
    pub fn is_finite(&self) -> bool {
        match self {
            App::Bulk(b) => b.is_finite(),
            App::Permutation(p) => p.is_finite(),
            App::PingPong(p) => p.is_finite(),
            App::AllReduce(_) => true,
            App::Rpc(r) => r.is_finite(),
            App::Datagrams(d) => d.is_finite(),
            App::Background(b) => b.is_finite(),
            App::ServiceClients(s) => s.is_finite(),
            App::Connections(_) => false,
            App::FlowLogs(f) => f.is_finite(),
            App::Taken => unreachable!("a running workload's slot"),
        }
    }
    /// The workload's name.
    pub fn name(&self) -> &str {
        match self {
            App::Bulk(a) => &a.spec.name,
            App::Rpc(a) => &a.spec.name,
            App::Datagrams(a) => &a.spec.name,
            App::Background(a) => &a.spec.name,
            App::Permutation(a) => &a.spec.name,
            App::PingPong(a) => &a.spec.name,
            App::AllReduce(a) => &a.spec.name,
            App::ServiceClients(a) => &a.spec.name,
            App::Connections(a) => &a.spec.name,
            App::FlowLogs(a) => &a.spec.name,
            App::Taken => unreachable!("a running workload's slot"),
        }
    }
    pub fn is_foreground(&self) -> bool {
        !matches!(self, App::Background(_))
    }
}
