//! The `App` enum that holds every workload. Bulk, RPC, datagrams, background, permutation,
//! ping-pong and all-reduce live in `crate::workload` (one file each, behind its `Workload` trait)
//! and are re-exported here; the state of the rest is here: service clients (`failover`),
//! connections (`nat`) and flow logs (`replay`). They all depend on this file and it on none of
//! them, so the workload modules form no cycle.
use super::NONE;
use crate::units::{SimDuration, SimTime};
use crate::workload::RpcBook;
use crate::workload::Workload;
pub use crate::workload::background::{BackgroundApp, BgConn};
pub use crate::workload::bulk::BulkApp;
pub use crate::workload::collectives::{
    ALLREDUCE_CHUNKSTEPS, AllReduceApp, NCCL_CHUNKS_IN_FLIGHT, NCCL_MAX_CHUNK_BYTES, NCCL_STEPS, NcclRing,
    TAG_NVLINK_BASE,
};
use crate::workload::config::*;
pub use crate::workload::datagrams::DatagramApp;
use crate::workload::flowlogs::{Group, ReadStats};
pub use crate::workload::permutation::{PermFlow, PermutationApp};
pub use crate::workload::pingpong::PingPongApp;
pub use crate::workload::rpc::{RpcApp, RpcConn};
pub use crate::workload::{
    BULK_UNBOUNDED_BYTES, HIST_MAX_NS, TAG_ARRIVAL, TAG_CLIENT_DONE, TAG_CLIENT_SEND, TAG_RING_SEND,
    TAG_RING_STEP_DONE, TAG_SERVER_SEND, TAG_START, TAG_STOP, latency_histogram,
};

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
            App::AllReduce(a) => a.is_finite(),
            App::Rpc(r) => r.is_finite(),
            App::Datagrams(d) => d.is_finite(),
            App::Background(b) => b.is_finite(),
            App::ServiceClients(_) => false,
            App::Connections(_) => false,
            App::FlowLogs(_) => true,
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
