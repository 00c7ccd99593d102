//! The `App` enum that holds every workload. Bulk, RPC, datagrams, background, permutation,
//! ping-pong, all-reduce, service clients, connections and flow-log replay live in
//! `crate::workload` (one file each, behind its `Workload` trait) and are re-exported here, with
//! `workload_kinds!`, the one list of kinds every per-kind call goes through (the glue in `apps`,
//! the summary in `results`, the methods below). Adding a workload is one file in `workload/`,
//! one `App` line and one `workload_kinds!` line here. The workloads depend on none of the model.
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
            App::AllReduce($w) => $body,
            App::ServiceClients($w) => $body,
            App::Connections($w) => $body,
            App::FlowLogs($w) => $body,
            _ => $other,
        }
    };
}

pub(crate) use workload_kinds;

impl App {
    /// Finite apps can finish and let the run end early; others run to the end time.
    pub fn is_finite(&self) -> bool {
        workload_kinds!(self, w => w.is_finite(), _ => unreachable!("a running workload's slot"))
    }
    /// The workload's name.
    pub fn name(&self) -> &str {
        workload_kinds!(self, w => w.name(), _ => unreachable!("a running workload's slot"))
    }
    pub fn is_foreground(&self) -> bool {
        workload_kinds!(self, w => w.is_foreground(), _ => unreachable!("a running workload's slot"))
    }
}
