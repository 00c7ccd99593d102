//! The runtime model: one simulated world for one variant of a scenario, built by
//! `scenario::build` from plain configuration (it reads no scenario file type).
//!
//! Everything lives in arenas addressed by integer ids (ports, packets, routes, endpoints,
//! instances, flows, apps) and the only way things happen is an `Event` popped from the queue:
//!
//! - `PortDone(port)`: the oldest packet in a port reached its far end: it moves on to the next
//!   stage of its route (or its endpoint). A port computes a packet's service and pipe times when
//!   it accepts it (FIFO, known service time), so it needs no event when service ends, and only
//!   its oldest packet is in the queue (htsim's pipe trick): the queue holds busy ports, not
//!   packets. A stage that takes no time at all (a zero-cost vCPU, a shaper within its burst, a
//!   pure pass) passes the packet on in the same dispatch, through `Model::ready`.
//! - `Timer { ep, generation }`: a transport asked to be woken; stale generations are ignored.
//! - `App { app, tag }`: a workload's own clock (an arrival, a start).
//!
//! Packet conservation is checked at the end of every run: sent = delivered + dropped + in flight,
//! where "in flight" is counted independently by walking the queues and the pending events.
//!
//! ## Where things are
//!
//! This file holds the ids and events every part shares and the `Model` struct. `impl Model` is
//! spread over one file per thing simulated, in the order a packet meets them:
//!
//! - `dispatch`: the run loop, event dispatch and the clock; a packet's arrival at its sink.
//! - `host`: instances, sockets (endpoints, `open`, `drive`/`flush`), vCPUs and RSS, delivery to
//!   a socket.
//! - `nitro`: the Nitro card: per-flow caps, ENA Express and EFA paths, allowance counts; with
//!   `srd` (the cards' SRD engines).
//! - `path`: routes through the fabric (leaf-spine ECMP, inter-AZ link) and offering a packet
//!   to a port; with `routing` (gateways, forwarding instances), `ip` (fragmentation, PMTUD,
//!   filters, connection tracking) and `nat` (NAT gateways).
//! - `accounting`: sent/delivered/dropped counts, the instances' ENA counters, conservation.
//! - `app_state`: the `App` enum holding every workload (each kind lives in `crate::workload`
//!   behind its `Workload` trait) and `workload_kinds!`, the one list of kinds; `apps`: the glue
//!   (`impl workload::Ctx for Model`, dispatch of app events, handshakes and deliveries);
//!   `failover`: moving a service's address (the clients are a workload); `actions`: timed
//!   actions; `trace`: event log and capture; `results`: the summary at the end (the model's own
//!   parts, and each workload's, made by its `results` hook).

mod accounting;
pub mod actions;
pub mod app_state;
pub mod apps;
mod dispatch;
pub mod failover;
mod host;
mod ip;
pub mod nat;
mod nitro;
mod path;
pub mod results;
pub(crate) mod routing;
pub mod srd;
pub mod trace;

use crate::ec2::InstanceType;
use crate::engine::EventQueue;
use crate::engine::rng::StreamRng;
use crate::net::fabric::{FiveTuple, LeafSpine};
use crate::net::{
    DropReason, Enqueued, Packet, PacketId, PacketPool, Port, PortConfig, PortId, SegKind, Segment, Sink, SrdHeader,
};
use crate::transport::{Endpoint, Outbox, TcpConfig, Transport};
use crate::units::{Bandwidth, SimDuration, SimTime};
use app_state::App;
use rand::RngExt;
use std::collections::BTreeMap;

pub use accounting::{Accounting, ConntrackTimeoutsS, EniCounters, InstanceCounters, IpCounters};
pub use dispatch::{LOOKAHEAD_EVENTS, LOOKAHEAD_HORIZON, LOOKAHEAD_MIN_PORT_BYTES};
pub use host::{EniRt, EpSlot, InstanceRt, Reasm};
pub use nitro::SrdPath;
pub use path::GatewayRt;
pub use results::VariantResult;

pub use crate::workload::{Attach, ConnTag, FlowRt, NONE, Proto, Side};
/// Linux `ip_local_port_range` default: 32768..60999.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;
/// Progress is reported every this many events (never per event).
pub const PROGRESS_EVERY_EVENTS: u64 = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Port, the packet at its head, and the port that packet goes to next (from
    /// `dispatch::DELIVER` up when its route ends here, naming its sink's state): what the
    /// dispatch will touch, known in advance so it can be prefetched.
    PortDone(PortId, PacketId, u32),
    Timer {
        ep: u32,
        generation: u32,
    },
    App {
        app: u32,
        tag: u32,
    },
    /// An SRD connection's retransmission timer.
    SrdTimer {
        ctx: u32,
        generation: u32,
    },
    /// A datagram's reassembly time (`ipfrag_time`) is up.
    ReassemblyExpire {
        slot: u32,
        generation: u32,
    },
    /// The scenario's timed action `n`.
    Action(u32),
    /// A failover takes effect: service `service` now belongs to instance `to`.
    ServiceMoved {
        service: u32,
        to: u32,
    },
}

/// Who gets told about an endpoint's progress: app index, that app's connection index, side.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub app: u32,
    pub conn: u32,
    pub side: Side,
}

pub struct Model {
    pub name: String,
    pub(crate) q: EventQueue<Event>,
    pub(crate) ports: Vec<Port>,
    pub(crate) port_owner: Vec<u32>,
    pub(crate) pool: PacketPool,
    /// Packets that reached the next stage of their route at this very time: taken on within
    /// the current dispatch, in order, without an event.
    pub(crate) ready: std::collections::VecDeque<(PacketId, PortId)>,
    pub(crate) routes: routing::Routes,
    pub(crate) eps: Vec<EpSlot>,
    pub(crate) ep_free: Vec<u32>,
    pub(crate) fabric: LeafSpine,
    pub(crate) insts: Vec<InstanceRt>,
    pub(crate) flows: Vec<FlowRt>,
    pub(crate) apps: Vec<App>,
    /// Each workload's name (read while the workload itself is out of its slot, running).
    pub(crate) app_names: Vec<String>,
    /// The ENI (index in its instance's `enis`) each workload's connections use at the client
    /// end and at the server end.
    pub(crate) app_enis: Vec<[u8; 2]>,
    pub(crate) acct: Accounting,
    pub(crate) outbox: Outbox,
    pub(crate) loss: Option<(f64, StreamRng)>,
    pub(crate) end: SimTime,
    pub(crate) bin_ps: u64,
    pub(crate) tcp: std::sync::Arc<TcpConfig>,
    pub(crate) flow_shaper: PortConfig,
    /// Card-delay noise on each per-flow shaper (parts per million; 0 = exact).
    pub(crate) flow_shaper_noise_ppm: u32,
    pub(crate) fabric_mtu: u32,
    pub(crate) host_ip_base: u32,
    pub(crate) bg_port_rng: StreamRng,
    pub(crate) srd_cfg: crate::transport::srd::SrdConfig,
    /// SRD connections each card can hold (`nitro.srd_connections`).
    pub(crate) srd_connections_per_card: u32,
    pub(crate) srd_ctxs: Vec<srd::SrdCtx>,
    /// Per SRD connection and path, the routes of its data packets and of their ACKs: connection
    /// `c`'s path `k` at `c * srd_cfg.paths + k`, an index the hot path computes without reading
    /// the connection first.
    pub(crate) srd_path_routes: Vec<srd::PathRoutes>,
    pub(crate) srd_index: BTreeMap<(u32, u32, Option<u16>), u32>,
    pub(crate) srd_send_out: crate::transport::srd::SenderOut<u32>,
    pub(crate) srd_recv_out: crate::transport::srd::ReceiverOut<u32>,
    /// What SRD holds: the sending cards' payloads until acknowledged, the reorder buffers'.
    pub(crate) srd_payloads: srd::SrdPayloads,
    pub(crate) streams: crate::engine::RngStreams,
    pub(crate) host_costs: crate::workload::HostCosts,
    /// The link from one AZ to another (one per direction), created at first use.
    pub(crate) inter_az: BTreeMap<(u32, u32), PortId>,
    pub(crate) inter_az_link: PortConfig,
    /// Foreground workloads that have not finished; the run ends early when it reaches zero.
    pub(crate) unfinished: u32,
    pub(crate) all_finite: bool,
    pub(crate) scratch_route: Vec<PortId>,
    pub(crate) vpc: crate::ec2::vpc::Vpc,
    pub(crate) gateways: Vec<GatewayRt>,
    /// The hops of each ordered instance pair's path that has any (computed at first use).
    pub(crate) paths: BTreeMap<(u32, u32), Vec<routing::Hop>>,
    /// Pairs known to talk directly.
    pub(crate) no_path: std::collections::BTreeSet<(u32, u32)>,
    /// Explicit `paths` of the scenario, both directions.
    pub(crate) path_specs: BTreeMap<(u32, u32), Vec<routing::HopSpec>>,
    /// Each subnet's route table, compiled, and the VPC block (the local route).
    pub(crate) subnet_routes: Vec<Vec<routing::Route>>,
    pub(crate) vpc_cidr: crate::ec2::vpc::Cidr,
    /// A gateway port's gateway, and the port of the same gateway on the way back.
    pub(crate) gw_port: BTreeMap<PortId, (u32, PortId)>,
    /// Filters that refused something ("network ACL private inbound rule *"), their drop reason,
    /// and how many packets each refused.
    pub(crate) filters: Vec<(String, DropReason)>,
    pub(crate) filter_drops: Vec<u64>,
    pub(crate) reasm: Vec<Reasm>,
    pub(crate) reasm_free: Vec<u32>,
    /// Fragment bytes held per instance (bounded by `ipfrag_high_thresh`).
    pub(crate) reasm_bytes: Vec<u64>,
    pub(crate) next_ip_id: u16,
    pub(crate) ip_cfg: crate::net::ip::IpConfig,
    pub(crate) ip_counters: IpCounters,
    pub(crate) log: trace::EventLog,
    /// Capture points (instances, then gateways), when a capture was asked for.
    pub(crate) capture: Option<Vec<trace::CapturePoint>>,
    /// Simulated times (inclusive) whose packets are captured.
    pub(crate) capture_window: (SimTime, SimTime),
    /// Packets dropped while capturing, with why and where.
    pub(crate) capture_drops: Vec<trace::DropRecord>,
    /// Capture point index per instance and per gateway (`NONE` = not captured).
    pub(crate) capture_inst: Vec<u32>,
    pub(crate) capture_gw: Vec<u32>,
    /// The scenario's timed actions, and what a failure replaced (MTU, drop reason, rate)
    /// so that a restore can put it back.
    pub(crate) actions: Vec<actions::TimedAction>,
    pub(crate) saved_ports: BTreeMap<PortId, (u32, DropReason, Bandwidth)>,
    /// Service addresses and who holds them now.
    pub(crate) services: Vec<failover::ServiceRt>,
    /// The VPC's rules as they are now (timed actions change ACLs and groups).
    pub(crate) rules: crate::ec2::vpc::VpcConfig,
}
