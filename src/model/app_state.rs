//! Each workload's state at run time, one struct per kind, and the `App` enum that holds them.
//! The behaviour lives beside the parts of the model it drives (`apps`: bulk, RPC, datagrams,
//! background, permutation, ping-pong, collectives; `failover`: service clients; `nat`:
//! connections; `replay`: flow logs); they all depend on this file and it on none of them, so the
//! workload modules form no cycle.

use super::{Attach, NONE};
use crate::engine::rng::StreamRng;
use crate::units::{SimDuration, SimTime};
use crate::workload::config::*;
use crate::workload::flowlogs::{Group, ReadStats};
use crate::workload::{Interarrival, RpcBook, Sizes};
use hdrhistogram::Histogram;

pub const TAG_START: u32 = 0;
pub const TAG_ARRIVAL: u32 = 1;
pub const TAG_STOP: u32 = 2;
pub const TAG_CLIENT_SEND: u32 = 3;
pub const TAG_SERVER_SEND: u32 = 4;
pub const TAG_CLIENT_DONE: u32 = 5;
pub const TAG_RING_SEND: u32 = 6;
pub const TAG_RING_STEP_DONE: u32 = 7;
/// Buffer slots per NCCL connection. Source: NCCL src/include/device.h (devcomm.h in older
/// releases), `#define NCCL_STEPS 8`.
pub const NCCL_STEPS: u32 = 8;
/// Slots one all-reduce ring step (a chunk) occupies. Source: NCCL src/include/collectives.h,
/// `#define ALLREDUCE_CHUNKSTEPS (NCCL_STEPS/2)`.
pub const ALLREDUCE_CHUNKSTEPS: u32 = NCCL_STEPS / 2;
/// Ring steps a sender may have in flight to its receiver: the slots over a chunk's share (2).
pub const NCCL_CHUNKS_IN_FLIGHT: u32 = NCCL_STEPS / ALLREDUCE_CHUNKSTEPS;
/// NCCL ring: an NVLink step of (channel, rank) has landed; the tag is this plus
/// `channel * ranks + rank`.
pub const TAG_NVLINK_BASE: u32 = 1 << 20;
/// "Send until the end of the run": more bytes than any run can carry.
pub const BULK_UNBOUNDED_BYTES: u64 = 1 << 60;
/// Histograms hold 1 ns .. 1 hour at 3 significant digits.
pub const HIST_MAX_NS: u64 = 3_600_000_000_000;

pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX_NS, 3).expect("static bounds are valid")
}

pub struct BulkApp {
    pub spec: BulkConfig,
    pub from: u32,
    pub to: u32,
    pub flows: Vec<u32>,
    pub remaining: u32,
}

pub struct RpcConn {
    pub client_ep: u32,
    pub server_ep: u32,
    pub flow: u32,
    pub book: RpcBook,
}

pub struct RpcApp {
    pub spec: RpcConfig,
    pub client: u32,
    pub server: u32,
    pub conns: Vec<RpcConn>,
    pub rng: StreamRng,
    pub request: Sizes,
    pub response: Sizes,
    pub next_conn: usize,
    pub issued: u64,
    pub completed: u64,
    pub measured: Histogram<u64>,
    pub warmup_end: SimTime,
    pub finished: bool,
}

pub struct DatagramApp {
    pub spec: DatagramConfig,
    pub from: u32,
    /// Another instance, or a link-local service on the sender's host.
    pub to: Attach,
    pub client_ep: u32,
    pub flow: u32,
    pub rng: StreamRng,
    pub sent: u64,
    pub received: u64,
    pub latency: Histogram<u64>,
    /// Exact smallest one-way latency (the histogram keeps 3 significant digits).
    pub min_latency: Option<SimDuration>,
}

impl DatagramApp {
    pub fn new(spec: DatagramConfig, from: u32, to: Attach, rng: StreamRng) -> Self {
        DatagramApp {
            spec,
            from,
            to,
            client_ep: NONE,
            flow: NONE,
            rng,
            sent: 0,
            received: 0,
            latency: latency_histogram(),
            min_latency: None,
        }
    }
}

pub struct BgConn {
    pub client_ep: u32,
    pub server_ep: u32,
    pub bytes: u64,
    pub started: SimTime,
    pub received_all: bool,
    pub live: bool,
}

pub struct BackgroundApp {
    pub spec: BackgroundConfig,
    pub hosts: Vec<u32>,
    pub interarrival: Interarrival,
    pub sizes: Sizes,
    pub rng: StreamRng,
    pub conns: Vec<BgConn>,
    pub free: Vec<u32>,
    pub active: u32,
    pub started: u64,
    pub completed: u64,
    pub skipped: u64,
    pub bytes_completed: u64,
    pub fct: Histogram<u64>,
}

/// osu_latency: for each size, round trips of one message each way; the latency reported is
/// half the mean round trip, measured from the client's send call to its receive completion.
pub struct PingPongApp {
    pub spec: PingPongConfig,
    pub from: u32,
    pub to: u32,
    pub client_ep: u32,
    pub server_ep: u32,
    pub size_index: usize,
    pub round: u32,
    pub round_start: SimTime,
    pub measured_ps: u128,
    pub client_rx_target: u64,
    pub server_rx_target: u64,
    pub server_busy: bool,
    pub client_busy: bool,
    /// (size, one-way latency) per finished size.
    pub results: Vec<(u64, SimDuration)>,
}

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
    /// Bytes of one step on one channel.
    pub chunk: u64,
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
        let chunk = spec.bytes.0.div_ceil((channels * ranks) as u64).max(1);
        NcclRing {
            gpus,
            channels,
            ranks,
            chunk,
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

impl PingPongApp {
    pub(crate) fn size(&self) -> u64 {
        self.spec.sizes[self.size_index].0
    }
    /// What the client sends, per message of its window: the message, or a read request (a
    /// header-only packet naming the remote buffer).
    pub(crate) fn request_bytes(&self) -> u64 {
        if self.spec.transport == MessageTransport::EfaRdmaRead { 0 } else { self.size() }
    }
    /// What the server sends back, as (bytes, messages): the message itself (latency), a 4-byte
    /// ack (bandwidth), or the data of every read in the window.
    pub(crate) fn reply(&self) -> (u64, u32) {
        if self.spec.transport == MessageTransport::EfaRdmaRead {
            (self.size(), self.spec.window)
        } else if self.spec.window == 1 {
            (self.size(), 1)
        } else {
            (4, 1)
        }
    }
    /// osu_latency halves its round trip (a message each way); a read's round trip is the
    /// operation itself, and a bandwidth window is timed whole.
    pub(crate) fn halves_round(&self) -> bool {
        self.spec.window == 1 && self.spec.transport != MessageTransport::EfaRdmaRead
    }
}

pub struct PermutationApp {
    pub spec: PermutationConfig,
    /// Instance indices of the fleet.
    pub members: Vec<u32>,
    pub rng: StreamRng,
    /// Per flow: (client endpoint, server endpoint, bytes delivered, completed at).
    pub flows: Vec<PermFlow>,
    pub remaining: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct PermFlow {
    pub delivered: u64,
    pub completed: Option<SimTime>,
}

pub enum App {
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
            App::Bulk(b) => b.spec.bytes.is_some() || b.spec.duration.is_some(),
            App::Permutation(p) => p.spec.bytes.is_some(),
            App::PingPong(_) => true,
            App::AllReduce(_) => true,
            App::Rpc(r) => r.spec.count.is_some(),
            App::Datagrams(_) => false,
            App::Background(_) => false,
            App::ServiceClients(_) => false,
            App::Connections(_) => false,
            App::FlowLogs(_) => true,
        }
    }
    pub fn is_foreground(&self) -> bool {
        !matches!(self, App::Background(_))
    }
}

#[derive(Clone, Debug, Default)]
pub struct ClientRt {
    pub instance: u32,
    pub client_ep: u32,
    pub server_ep: u32,
    /// The instance the current connection reaches.
    pub server: u32,
    pub connected: bool,
    /// The request in flight: when it was first issued (retries keep this).
    pub outstanding: Option<SimTime>,
    pub deadline: Option<SimTime>,
    /// Bytes the server must have (resp. the client) for the current request to be answered.
    pub server_rx_target: u64,
    pub server_answered: u64,
    pub client_rx_target: u64,
    /// A cached DNS answer and when it expires.
    pub dns: Option<(u32, SimTime)>,
    /// The connection's server lost the address: the next packet meets a reset.
    pub moved: bool,
    pub last_ok: Option<SimTime>,
    pub longest_gap: SimDuration,
    pub ok: u64,
    pub timeouts: u64,
    pub resets: u64,
    pub connections: u64,
    /// Failed attempts (timeouts, resets) since the last success: the backoff's exponent.
    pub failures_in_a_row: u32,
    /// Backoff waits drawn so far (each from the client's seed and this count).
    pub backoff_draws: u64,
    /// The client's own random seed: its start phase, its resolver cache's age and its backoff.
    pub seed: u64,
}

pub struct ServiceClientsApp {
    pub spec: ServiceClientsConfig,
    pub service: u32,
    pub clients: Vec<ClientRt>,
    /// Successful responses per time bin (all clients), for the success-rate timeline.
    pub ok_bins: Vec<u64>,
}

impl ServiceClientsApp {
    /// `clients`: each client's instance and its own seed.
    pub fn new(spec: ServiceClientsConfig, service: u32, clients: &[(u32, u64)], bins: usize) -> Self {
        let clients =
            clients.iter().map(|&(instance, seed)| ClientRt { instance, seed, ..ClientRt::default() }).collect();
        ServiceClientsApp { spec, service, clients, ok_bins: vec![0; bins] }
    }
}

pub struct ConnectionsApp {
    pub spec: ConnectionsConfig,
    pub clients: Vec<u32>,
    pub to: u32,
    pub opened: u64,
    pub established: u64,
}

impl ConnectionsApp {
    pub(crate) fn total(&self) -> u64 {
        self.spec.count as u64 * self.clients.len() as u64
    }
}

pub struct ReplayGroup {
    pub group: Group,
    pub client: u32,
    pub server: u32,
    pub client_ep: u32,
    pub server_ep: u32,
    pub book: RpcBook,
    pub established: bool,
    pub first_issue: Option<SimTime>,
    pub last_done: Option<SimTime>,
    /// Sum of the exchanges' durations (issue to last response byte).
    pub busy: SimDuration,
    pub completed: u32,
    /// Payload bytes written both ways, after `scale`.
    pub replayed_bytes: u64,
}

pub struct FlowLogsApp {
    pub spec: FlowLogsConfig,
    pub groups: Vec<ReplayGroup>,
    /// (when, group, exchange) in time order.
    pub schedule: Vec<(SimTime, u32, u32)>,
    pub next: usize,
    /// Exchanges of accepted groups not yet completed (rejected ones are expected never to).
    pub remaining: u64,
    pub stats: ReadStats,
    pub format: String,
}

impl FlowLogsApp {
    /// Lay the groups' exchanges out in simulated time.
    pub fn new(spec: FlowLogsConfig, groups: Vec<(Group, u32, u32)>, stats: ReadStats, format: String) -> Self {
        let mut schedule = Vec::new();
        let mut remaining = 0u64;
        for (k, (g, _, _)) in groups.iter().enumerate() {
            for (e, x) in g.exchanges.iter().enumerate() {
                // Offsets in whole seconds, compressed by `speedup`, rounded to the picosecond.
                let ps = (x.offset_s as f64 * 1e12 / spec.speedup).round() as u64;
                schedule.push((SimTime(ps), k as u32, e as u32));
                if !g.rejected {
                    remaining += 1;
                }
            }
        }
        schedule.sort();
        let groups = groups
            .into_iter()
            .map(|(group, client, server)| ReplayGroup {
                group,
                client,
                server,
                client_ep: NONE,
                server_ep: NONE,
                book: RpcBook::default(),
                established: false,
                first_issue: None,
                last_done: None,
                busy: SimDuration::ZERO,
                completed: 0,
                replayed_bytes: 0,
            })
            .collect();
        FlowLogsApp { spec, groups, schedule, next: 0, remaining, stats, format }
    }
}
