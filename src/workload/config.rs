//! What each workload is asked to do, as the simulated world reads it: plain data, no file
//! syntax. The scenario module lowers its `*Spec` types (defaults filled, names checked) into
//! these; an importer could produce them just as well. Field meanings are documented once, on the
//! scenario's spec types (scenarios/README.md lists them with their defaults).

use crate::units::{Bandwidth, Bytes, SimDuration};
use std::collections::BTreeMap;

/// Long-lived TCP transfer(s) from one instance to another.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkConfig {
    pub name: String,
    pub flows: u32,
    /// Bytes per flow; `None` = send until the end of the run.
    pub bytes: Option<Bytes>,
    pub start: SimDuration,
    /// Stop writing this long after `start`.
    pub duration: Option<SimDuration>,
    pub port: u16,
}

/// Request/response over persistent TCP connections.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcConfig {
    pub name: String,
    pub connections: u32,
    pub arrival: Arrival,
    pub request: SizeDist,
    pub response: SizeDist,
    /// RPCs issued before this time are not measured.
    pub warmup: SimDuration,
    /// Stop issuing after this many RPCs.
    pub count: Option<u64>,
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    /// Open loop: exponential inter-arrival times with this mean, across all connections.
    Poisson { mean_interval: SimDuration },
    /// Closed loop: this many RPCs outstanding per connection at all times.
    ClosedLoop { outstanding: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub enum SizeDist {
    Fixed(Bytes),
    Uniform {
        min: Bytes,
        max: Bytes,
    },
    Exponential {
        mean: Bytes,
    },
    /// Web-search flow sizes of the DCTCP paper (`dist::WEB_SEARCH_CDF`).
    WebSearch,
}

/// Poisson UDP datagrams (also link-local queries).
#[derive(Clone, Debug, PartialEq)]
pub struct DatagramConfig {
    pub name: String,
    pub size: Bytes,
    pub mean_interval: SimDuration,
    pub count: Option<u64>,
    pub port: u16,
    /// Set DF on every datagram (`IP_PMTUDISC_DO`).
    pub dont_fragment: bool,
}

/// Cross traffic between the fabric hosts that carry no instance.
#[derive(Clone, Debug, PartialEq)]
pub struct BackgroundConfig {
    pub name: String,
    /// Offered load as a fraction of the background hosts' link capacity.
    pub load: f64,
    pub sizes: SizeDist,
    /// Flows at once; arrivals beyond this are counted and skipped.
    pub max_concurrent: u32,
}

/// Every member of a fleet sends long TCP flows to distinct other members.
#[derive(Clone, Debug, PartialEq)]
pub struct PermutationConfig {
    pub name: String,
    pub flows_per_instance: u32,
    pub bytes: Option<Bytes>,
    pub port: u16,
}

/// How a ping-pong or collective moves its messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MessageTransport {
    /// Sockets over the kernel's TCP (over ENA, or ENA Express when it engages).
    #[default]
    Tcp,
    /// libfabric RDM over EFA, two-sided.
    Efa,
    /// One-sided RDMA write over EFA.
    EfaRdmaWrite,
    /// One-sided RDMA read over EFA.
    EfaRdmaRead,
}

impl MessageTransport {
    /// OS bypass (no system call, no copy, no wake-up) rather than the kernel socket path.
    pub fn bypasses_kernel(self) -> bool {
        self != MessageTransport::Tcp
    }
    /// The name reports use.
    pub fn label(self) -> &'static str {
        match self {
            MessageTransport::Tcp => "tcp",
            MessageTransport::Efa => "efa",
            MessageTransport::EfaRdmaWrite => "efa-write",
            MessageTransport::EfaRdmaRead => "efa-read",
        }
    }
}

/// osu_latency / osu_bw-style ping-pong over a message-size sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct PingPongConfig {
    pub name: String,
    pub transport: MessageTransport,
    pub sizes: Vec<Bytes>,
    pub iterations: u32,
    pub window: u32,
    pub warmup: u32,
    pub port: u16,
}

/// Ring all-reduce (or all-to-all) over a fleet.
#[derive(Clone, Debug, PartialEq)]
pub struct AllReduceConfig {
    pub name: String,
    /// Bytes reduced per collective.
    pub bytes: Bytes,
    pub transport: MessageTransport,
    pub iterations: u32,
    pub warmup: u32,
    pub port: u16,
    /// Ranks (GPUs) per instance.
    pub gpus_per_node: u32,
    /// NCCL channels; `None` = one per network card.
    pub channels: Option<u32>,
    /// One GPU's NVLink bandwidth in each direction.
    pub nvlink: Bandwidth,
    /// NCCL's cost of one step (a ring step, a tree chunk) over NVLink.
    pub nvlink_step: SimDuration,
    /// NCCL's algorithm that runs: ring or tree (the scenario's `Auto` already resolved).
    pub algorithm: NcclAlgorithm,
}

/// NCCL's all-reduce algorithms modelled (`NCCL_ALGO`): both with the Simple protocol. Numbered
/// in NCCL's own index order (src/include/plugin/nccl_tuner.h:28-29: `NCCL_ALGO_TREE` 0,
/// `NCCL_ALGO_RING` 1), which its cost model indexes by and breaks ties with (`nccl_tune`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NcclAlgorithm {
    Tree = 0,
    #[default]
    Ring = 1,
}

/// Clients sending requests to a service address, reconnecting when a connection breaks.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceClientsConfig {
    pub name: String,
    pub interval: SimDuration,
    pub timeout: SimDuration,
    pub request: Bytes,
    pub response: Bytes,
    pub port: u16,
    pub backoff: ReconnectBackoff,
}

/// A service client's wait before reconnecting after its n-th failed attempt in a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReconnectBackoff {
    Immediate,
    /// Uniform in [0, min(cap, base x 2^n)].
    FullJitter {
        base: SimDuration,
        cap: SimDuration,
    },
}

impl ReconnectBackoff {
    /// The wait after `failures` failed attempts in a row (at least 1), given a uniform draw
    /// `u` in [0, 1).
    pub fn wait(self, failures: u32, u: f64) -> SimDuration {
        match self {
            ReconnectBackoff::Immediate => SimDuration::ZERO,
            ReconnectBackoff::FullJitter { base, cap } => {
                // 2^n saturates long before it matters: base x 2^40 exceeds any cap.
                let window = base.ps().saturating_mul(1u64 << failures.min(40)).min(cap.ps());
                SimDuration((window as f64 * u) as u64)
            }
        }
    }
}

/// Many TCP connections opened at an even pace and then held open idle.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionsConfig {
    pub name: String,
    /// Connections each client opens.
    pub count: u32,
    /// All clients' connections are opened evenly over this time from the start.
    pub over: SimDuration,
    pub port: u16,
}

/// Traffic replayed from VPC Flow Logs (see `flowlogs`).
#[derive(Clone, Debug, PartialEq)]
pub struct FlowLogsConfig {
    pub name: String,
    /// The log file, already resolved against the scenario's folder.
    pub file: String,
    /// Interface ids and private IPv4 addresses of the original VPC -> instance names.
    pub interfaces: BTreeMap<String, String>,
    pub internet: Option<String>,
    pub speedup: f64,
    pub scale: f64,
    pub window_s: u64,
    pub max_groups: u32,
    pub max_exchanges: u32,
}
