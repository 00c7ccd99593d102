//! Traffic generators: the workloads a scenario runs, as their own layer below the model.
//!
//! - `config`: what each workload is asked to do (plain data the scenario module lowers its file
//!   schema into); `dist`: size distributions and arrival processes; `rpc`: the bookkeeping that
//!   matches byte streams to requests and responses; `flowlogs`: the flow-log reader.
//! - One file per workload kind, each a state struct implementing [`Workload`], with its result
//!   type beside it: `bulk`, `rpc` (beside its book), `datagrams`, `background`, `permutation`,
//!   `pingpong` (osu_latency / osu_bw), `collectives` (all-reduce, all-to-all, NCCL ring; NCCL's
//!   tree in `nccl_tree`, their shared constants in `nccl`, NCCL's choice between them in
//!   `nccl_tune`),
//!   `service_clients` (clients of a failover-able service), `connections` (many connections,
//!   e.g. through a NAT gateway), `replay` (flow logs).
//! - `results`: what every kind's results are made of (the [`RunEnd`] view, percentiles,
//!   rounding); this file: the sections they fill ([`WorkloadSections`], [`Collector`]).
//!
//! A workload never sees the model. It reacts to three things (its own timer tags, a connection
//! becoming established, in-order bytes delivered to one of its endpoints) and acts through the
//! small [`Ctx`] trait (the clock, opening connections, writing bytes, timers with a tag, a
//! finished signal), which `model::apps` implements for `Model`. After the run its `results`
//! hook adds its part of the variant's summary (its section, or a warning that it did not
//! finish) to a [`Collector`], reading the finished run through [`RunEnd`]; `model::results`
//! only assembles the sections into `summary.json`, in workload order.
//!
//! The model holds the workloads in its `App` enum (not `Box<dyn>`), and every per-kind call
//! goes through one list, `model::app_state::workload_kinds!`. Adding a workload: one file here,
//! one `App` line and one macro line (plus one field of [`WorkloadSections`] if it reports a new
//! section of the summary).

pub mod background;
pub mod bulk;
pub mod collectives;
pub mod config;
pub mod connections;
pub mod datagrams;
pub mod dist;
pub mod flowlogs;
pub mod nccl;
pub mod nccl_tree;
pub mod nccl_tune;
pub mod permutation;
pub mod pingpong;
pub mod replay;
pub mod results;
pub mod rpc;
pub mod service_clients;

pub use dist::{Interarrival, Sizes};
pub use rpc::RpcBook;

use crate::units::{SimDuration, SimTime};
use background::BackgroundResult;
use collectives::CollectiveResult;
use config::MessageTransport;
use connections::ConnectionsResult;
use datagrams::{DatagramTotals, LatencyResult};
use hdrhistogram::Histogram;
use permutation::PermutationResult;
use pingpong::PingPongPoint;
use replay::FlowLogsResult;
use results::RunEnd;
use rpc::{RpcResult, RpcTotals};
use serde::Serialize;
use service_clients::{ServiceClientResult, ServiceOutageResult};

/// "No such id" marker for optional arena references.
pub const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Whose connection it is: app, that app's connection index, and the reported flow (or `NONE`).
#[derive(Clone, Copy, Debug)]
pub struct ConnTag {
    pub app: u32,
    pub conn: u32,
    pub flow: u32,
}

/// Where a connection end is attached: an EC2 instance, or a bare fabric host (background).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attach {
    Instance(u32),
    Host(u32),
    /// A link-local service, reached from instance `0` without leaving its host.
    Service(u32, crate::ec2::adapter::LinkLocalService),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    /// UDP; `df`: datagrams carry Don't Fragment.
    Udp {
        df: bool,
    },
    /// libfabric RDM over EFA on network card `n` of each end: straight to that card's SRD, no
    /// kernel, unordered.
    Efa(u16),
}

/// A reported flow (a bulk connection, an RPC connection, a datagram stream).
pub struct FlowRt {
    pub name: String,
    pub workload: String,
    /// "bulk", "rpc" or "datagrams".
    pub kind: &'static str,
    pub client_ep: u32,
    pub server_ep: u32,
    pub started: SimTime,
    pub completed: Option<SimTime>,
    pub target_bytes: Option<u64>,
    pub delivered: u64,
    /// IP bytes of data-carrying packets that reached the receiver (retransmissions included).
    pub wire_rx: u64,
    pub bins: Vec<u64>,
}

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

pub const TAG_START: u32 = 0;
pub const TAG_ARRIVAL: u32 = 1;
pub const TAG_STOP: u32 = 2;
pub const TAG_CLIENT_SEND: u32 = 3;
pub const TAG_SERVER_SEND: u32 = 4;
pub const TAG_CLIENT_DONE: u32 = 5;
pub const TAG_RING_SEND: u32 = 6;
pub const TAG_RING_STEP_DONE: u32 = 7;
/// "Send until the end of the run": more bytes than any run can carry.
pub const BULK_UNBOUNDED_BYTES: u64 = 1 << 60;
/// Histograms hold 1 ns .. 1 hour at 3 significant digits.
pub const HIST_MAX_NS: u64 = 3_600_000_000_000;

pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX_NS, 3).expect("static bounds are valid")
}

/// In-order bytes reached one of a workload's endpoints.
#[derive(Clone, Copy, Debug)]
pub struct Delivery {
    /// The workload's connection index (its `ConnTag::conn`).
    pub conn: u32,
    pub side: Side,
    pub ep: u32,
    /// Bytes delivered on this endpoint so far (all of them, not just this batch).
    pub total: u64,
    /// When the packet that completed this delivery was born.
    pub born: SimTime,
}

/// What a workload may ask of the simulated world. `Model` implements it (`model::apps`); every
/// call happens at `now()` and has the same effects, in the same order, as the model's own
/// methods of the same name.
pub trait Ctx {
    fn now(&self) -> SimTime;
    /// The per-message host costs (socket path or OS bypass) of the scenario.
    fn host_costs(&self) -> HostCosts;
    /// Open a connection a -> b; returns (client endpoint, server endpoint). TCP starts its
    /// handshake at once; the workload hears `on_established` when it completes.
    fn open(&mut self, a: Attach, b: Attach, proto: Proto, tag: ConnTag, port: u16) -> (u32, u32);
    /// Close both ends of a connection and recycle their slots.
    fn close(&mut self, client_ep: u32, server_ep: u32);
    /// The application on endpoint `ep` writes `bytes`.
    fn ep_send(&mut self, ep: u32, bytes: u64);
    /// The application on endpoint `ep` will write nothing more.
    fn ep_close(&mut self, ep: u32);
    /// Stop writing on `ep`; returns the bytes written so far.
    fn stop_writing(&mut self, ep: u32) -> u64;
    /// Everything `ep` sent has been acknowledged.
    fn all_acked(&self, ep: u32) -> bool;
    /// A new reported flow; returns its index.
    fn new_flow(&mut self, name: String, workload: &str, kind: &'static str, target: Option<u64>) -> u32;
    fn flow(&mut self, f: u32) -> &mut FlowRt;
    /// Wake workload `app` with `tag` after `after`.
    fn schedule(&mut self, app: u32, after: SimDuration, tag: u32);
    /// Put both ends of an EFA connection between instances `from` and `to` in two-sided
    /// message mode (libfabric's eager/medium/long protocols, as MPI send/receive uses).
    fn efa_messages(&mut self, from: u32, to: u32, eps: [u32; 2]);
    /// A finite foreground workload is done (the run may end when all are).
    fn finished(&mut self);
    // replay
    /// Wake workload `app` with `tag` at `at` (not before now).
    fn schedule_at(&mut self, app: u32, at: SimTime, tag: u32);

    /// Open a connection between two instances for reported flow `tag.flow`.
    fn open_flow(&mut self, tag: ConnTag, a: u32, b: u32, proto: Proto, port: u16) -> (u32, u32) {
        let (c, s) = self.open(Attach::Instance(a), Attach::Instance(b), proto, tag, port);
        let flow = tag.flow;
        let f = self.flow(flow);
        f.client_ep = c;
        f.server_ep = s;
        (c, s)
    }

    // service clients
    /// Service `s`'s address and the instance holding it now (`NONE`: attached nowhere).
    fn service_address(&self, s: u32) -> (crate::ec2::failover::ServiceAddress, u32);
    /// Open a TCP connection from instance `client` to `server`, which holds service `s`'s
    /// address (as `open`; a secondary ENI's own security groups then decide).
    fn open_service(&mut self, s: u32, client: u32, server: u32, tag: ConnTag, port: u16) -> (u32, u32);
    /// An instance's name.
    fn instance_name(&self, i: u32) -> String;
    /// Record an event about flow `flow` in the run's event log.
    fn log_flow_event(&mut self, event: &'static str, flow: String, detail: String);
    /// The current time bin of the run's timelines.
    fn time_bin(&self) -> usize;
}

/// One workload kind's behaviour. `app` is the workload's index in the model (for its
/// connection tags and timers). Hooks default to doing nothing.
pub trait Workload {
    /// The workload's name in the scenario.
    fn name(&self) -> &str;
    /// Finite workloads can finish and let the run end early; others run to the end time.
    fn is_finite(&self) -> bool;
    /// Background traffic never holds the run open.
    fn is_foreground(&self) -> bool {
        true
    }
    /// The workload's start time has come (`TAG_START`).
    fn start(&mut self, _ctx: &mut impl Ctx, _app: u32) {}
    /// One of the workload's own timers (any tag but `TAG_START`).
    fn on_event(&mut self, _ctx: &mut impl Ctx, _app: u32, _tag: u32) {}
    /// The client end `ep` of connection `conn` is established.
    fn on_established(&mut self, _ctx: &mut impl Ctx, _app: u32, _conn: u32, _ep: u32) {}
    /// In-order bytes reached one of the workload's endpoints.
    fn on_delivery(&mut self, _ctx: &mut impl Ctx, _app: u32, _d: Delivery) {}
    /// Data for connection `conn` has reached its endpoint, whose transport is about to take
    /// it: ask for the state `on_delivery` will touch, which at scale is a miss (a hint only).
    fn prefetch_delivery(&self, _conn: u32) {}
    /// Tell the model this workload is done, if it is one the run waits for.
    fn finish(&self, ctx: &mut impl Ctx) {
        if self.is_foreground() && self.is_finite() {
            ctx.finished();
        }
    }
    /// After the run: add this workload's part of the variant's summary to `out` (its section,
    /// or a warning that it did not finish), reading the finished run through `run`. A workload
    /// reported only through its flows (bulk) adds nothing.
    fn results(&self, _run: &impl RunEnd, _out: &mut Collector) {}
}

/// The workloads' sections of one variant's summary, in `summary.json`'s order (flattened into
/// `model::VariantResult`; an empty section is left out). Histograms and time series ride
/// along, unserialised, for the plots and CSV files.
#[derive(Clone, Debug, Default, Serialize)]
pub struct WorkloadSections {
    /// All RPC workloads together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc: Option<RpcResult>,
    /// All datagram workloads together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datagrams: Option<LatencyResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub background: Option<BackgroundResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permutation: Option<PermutationResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pingpong: Vec<PingPongPoint>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub collectives: Vec<CollectiveResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_clients: Vec<ServiceClientResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_outages: Vec<ServiceOutageResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionsResult>,
    /// The RPC latencies (ns) behind `rpc`, for the CDF plot and CSV.
    #[serde(skip)]
    pub rpc_histogram: Option<Histogram<u64>>,
    /// Successful service-client responses per second, per workload and time bin.
    #[serde(skip)]
    pub success_series: Vec<(String, Vec<f64>)>,
}

/// Workload sections `summary.json` lists after the model's own failovers, cost and NAT
/// gateways (flattened into `model::VariantResult` there).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplaySections {
    /// `FlowLogs` workloads: per original 5-tuple group, what this variant made of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flowlogs: Vec<FlowLogsResult>,
}

/// What the workloads' `results` hooks add to, one workload after another in the model's order.
#[derive(Default)]
pub struct Collector {
    pub sections: WorkloadSections,
    pub replays: ReplaySections,
    /// RPC workloads share one latency distribution.
    pub rpc: RpcTotals,
    /// Datagram workloads share one latency distribution.
    pub datagrams: DatagramTotals,
    /// Finite workloads that did not finish in the run: said, not silently left out.
    pub unfinished: Vec<String>,
}

impl Collector {
    /// The sections, and the warnings about workloads that did not finish.
    pub fn finish(self) -> (WorkloadSections, ReplaySections, Vec<String>) {
        let mut sections = self.sections;
        (sections.rpc, sections.rpc_histogram) = self.rpc.finish();
        sections.datagrams = self.datagrams.finish();
        (sections, self.replays, self.unfinished)
    }
}

/// Latencies recorded in whole nanoseconds, rounded up, at least 1.
pub fn ns(d: SimDuration) -> u64 {
    d.ps().div_ceil(1000).max(1)
}
