//! The `App` enum that holds every workload. Bulk, RPC, datagrams, background, permutation,
//! ping-pong, all-reduce, service clients, connections and flow-log replay live in
//! `crate::workload` (one file each, behind its `Workload` trait) and are re-exported here. The
//! model's glue (`apps`) depends on this file; the workloads depend on none of the model.
use crate::workload::Workload;
pub use crate::workload::background::{BackgroundApp, BgConn};
pub use crate::workload::bulk::BulkApp;
pub use crate::workload::collectives::{
    ALLREDUCE_CHUNKSTEPS, AllReduceApp, NCCL_CHUNKS_IN_FLIGHT, NCCL_MAX_CHUNK_BYTES, NCCL_STEPS, NcclRing,
    TAG_NVLINK_BASE,
};
pub use crate::workload::connections::ConnectionsApp;
pub use crate::workload::datagrams::DatagramApp;
pub use crate::workload::nccl_tree::NcclTree;
pub use crate::workload::permutation::{PermFlow, PermutationApp};
pub use crate::workload::pingpong::PingPongApp;
pub use crate::workload::replay::{FlowLogsApp, ReplayGroup};
pub use crate::workload::rpc::{RpcApp, RpcConn};
pub use crate::workload::service_clients::{ClientRt, ServiceClientsApp};
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
