//! The runtime model: one simulated world for one variant of a scenario.
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

mod actions;
pub mod apps;
pub mod build;
pub mod failover;
mod ip;
pub mod nat;
pub mod replay;
pub mod results;
mod routing;
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
use apps::App;
use rand::RngExt;
use std::collections::BTreeMap;

pub use results::VariantResult;

/// "No such id" marker for optional arena references.
pub const NONE: u32 = u32::MAX;
/// Linux `ip_local_port_range` default: 32768..60999.
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 32768..=60999;
/// Progress is reported every this many events (never per event).
pub const PROGRESS_EVERY_EVENTS: u64 = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Port, the packet at its head, and where that packet's route goes next (its index in the
    /// flat route array): what the dispatch will touch, known in advance so it can be prefetched.
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

/// Who gets told about an endpoint's progress: app index, that app's connection index, side.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub app: u32,
    pub conn: u32,
    pub side: Side,
}

pub struct EpSlot {
    pub generation: u32,
    pub live: bool,
    pub transport: Endpoint,
    pub peer: u32,
    pub route: u32,
    pub owner: Owner,
    /// Index into `Model::flows` for reported flows, `NONE` for background flows.
    pub flow: u32,
    timer_at: Option<SimTime>,
    timer_gen: u32,
    /// ENA Express: the SRD connection this endpoint's packets may take, the host route to the
    /// card's SRD engine and the receiving host's route after it (all `NONE` when not eligible).
    pub srd: SrdPath,
    /// Both ENIs are ENA Express eligible (counted in `ena_srd_eligible_tx_pkts`).
    pub ena_express_eligible: bool,
    /// The sending instance (for counters), or `NONE`.
    pub instance: u32,
    /// An EFA endpoint: every packet goes over SRD, whatever its size.
    pub efa: bool,
    /// The addresses and ports of what this endpoint sends.
    pub tuple: FiveTuple,
    /// MTU of the sending interface: larger datagrams without DF are fragmented at the source.
    pub if_mtu: u32,
    /// What this endpoint sends is refused as it leaves (filter index), or `NONE`.
    pub tx_block: u32,
    /// What arrives for this endpoint is refused on the way in (filter index), or `NONE`.
    pub rx_block: u32,
    /// The instance whose connection-tracking table holds this connection (`NONE`: untracked).
    pub conntrack: u32,
    /// The instance whose entry for this connection idled out (`NONE`: none did): each packet
    /// is then evaluated by its security groups as a new flow, until one is allowed again.
    pub conntrack_lapsed: u32,
    /// When the entry last saw a packet, and how often the flow's direction turned (UDP streams).
    pub conntrack_seen: SimTime,
    pub conntrack_turns: u8,
    pub conntrack_last_out: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct SrdPath {
    pub ctx: u32,
    pub host_route: u32,
    pub then_route: u32,
}

impl SrdPath {
    pub const NONE: SrdPath = SrdPath { ctx: NONE, host_route: NONE, then_route: NONE };
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

/// An instance at run time: its type, where it sits, and the ports of its packet path.
pub struct InstanceRt {
    pub name: String,
    pub ty: &'static InstanceType,
    pub host: u32,
    pub az: u32,
    /// Its Region and whether ENA Express crosses AZs there (`ec2::region`).
    pub region: u32,
    pub region_cross_az: bool,
    /// Index of its cluster placement group, if any.
    pub cluster_pg: Option<u32>,
    pub mtu: u32,
    pub ip: u32,
    /// One vCPU per RSS queue, as two servers: transmit and receive processing.
    pub cpu_tx: Vec<PortId>,
    pub cpu_rx: Vec<PortId>,
    /// Nitro card shapers for the instance allowance (on the primary ENI's card).
    pub egress: PortId,
    pub ingress: PortId,
    /// Further stages after the egress shaper and before the ingress one: the network I/O
    /// credit bucket of burstable types, the pps allowance, the hypervisor of a `vif` adapter.
    pub tx_extra: Vec<PortId>,
    pub rx_extra: Vec<PortId>,
    /// The shaper for traffic through an internet gateway or to another Region.
    pub outside: PortId,
    /// The ENI's link-local allowance (1024 packets/s) and the service behind it.
    pub linklocal: PortId,
    pub linklocal_service: PortId,
    /// Forwarded traffic crosses this gate: closed (every packet dropped as `source_dest_check`)
    /// while the primary ENI's source/destination check is on, open while it is off.
    pub forward_gate: PortId,
    /// Connection-tracking allowance and the connections tracked now.
    pub conntrack_allowance: Option<u32>,
    pub conntrack_tracked: u32,
    /// Idle timeouts of its tracked connections (`ConnectionTrackingSpecification`).
    pub conntrack_timeouts: crate::ec2::conntrack::Timeouts,
    /// No entry of its table can have expired before this (a full table is swept after it).
    pub conntrack_next_expiry: SimTime,
    pub rss_salt: u64,
    pub port_rng: StreamRng,
    pub counters: InstanceCounters,
    /// ENA Express settings of the primary ENI.
    pub ena_srd_enabled: bool,
    pub ena_srd_udp_enabled: bool,
    /// Security groups of the primary ENI that allow all traffic within themselves (EFA's rule).
    pub efa_groups: Vec<String>,
    /// The Nitro card's per-packet processing on the send side, for traffic that reaches the card
    /// without a per-flow shaper (EFA); plain ENA and ENA Express pay it in that shaper.
    pub nitro_tx: PortId,
    /// Pure delays for SRD processing in this instance's card (send side, receive side).
    pub srd_tx_proc: PortId,
    pub srd_rx_proc: PortId,
    /// Its primary ENI as the VPC's rules see it (address, subnet, security groups).
    pub eni: crate::ec2::vpc::EniView,
    /// Path MTUs it has learnt, by destination address.
    pub pmtu: crate::net::ip::PmtuCache,
}

/// A gateway at run time.
pub struct GatewayRt {
    pub name: String,
    pub kind: crate::ec2::gateway::GatewayKind,
    pub mtu: u32,
    /// The address its ICMP messages come from.
    pub ip: u32,
    pub drops_icmp: bool,
    pub mss_clamp: Option<u32>,
    pub delay: SimDuration,
    /// A NAT gateway's translations, limits and metrics.
    pub nat: Option<Box<nat::NatRt>>,
}

/// Counters of the IP layer: fragmentation, reassembly, PMTUD.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct IpCounters {
    /// Packets split into fragments (at the source or at a hop) and the fragments made.
    pub packets_fragmented: u64,
    pub fragments_created: u64,
    /// Header bytes the fragments added (an IPv4 header each, beyond the first).
    pub fragment_header_bytes: u64,
    pub datagrams_reassembled: u64,
    pub reassembly_failed: u64,
    /// ICMP "fragmentation needed" sent by gateways, and received by their senders.
    pub icmp_frag_needed_sent: u64,
    pub icmp_frag_needed_received: u64,
    /// Path MTU cache entries lowered.
    pub pmtu_learnt: u64,
}

impl IpCounters {
    pub fn is_empty(&self) -> bool {
        self.packets_fragmented == 0 && self.icmp_frag_needed_sent == 0 && self.reassembly_failed == 0
    }
}

/// A datagram being reassembled: its fragments are held (still packets, still in the pool).
pub struct Reasm {
    pub generation: u32,
    pub live: bool,
    pub endpoint: u32,
    pub instance: u32,
    pub id: u16,
    pub received: u32,
    /// Data bytes of the whole datagram, known once the last fragment arrived.
    pub total: Option<u32>,
    pub held: Vec<PacketId>,
}

/// Per-instance counters. Those the ENA driver has carry its `ethtool -S` / `ethtool -i` names;
/// nitrosim's own (which no driver reports) are serialised with a `nitrosim_` prefix, so a
/// reader never looks for them on a real instance.
/// The idle timeouts of an ENI's tracked connections, in the API's seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConntrackTimeoutsS {
    pub tcp_established: u64,
    pub udp: u64,
    pub udp_stream: u64,
}

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct InstanceCounters {
    /// nitrosim: packets out of the instance's egress allowance shaper.
    #[serde(rename = "nitrosim_tx_pkts")]
    pub tx_pkts: u64,
    /// nitrosim: packets out of the ingress allowance shaper.
    #[serde(rename = "nitrosim_rx_pkts")]
    pub rx_pkts: u64,
    /// ENA: packets queued or dropped because the instance's aggregate bandwidth allowance was
    /// exceeded (ENA guide, "Monitor network performance for ENA settings"): a packet that waited
    /// in the shaper for tokens counts as well as one that found the queue full.
    pub bw_in_allowance_exceeded: u64,
    pub bw_out_allowance_exceeded: u64,
    /// nitrosim: the dropped part of the three "queued or dropped" counters.
    #[serde(rename = "nitrosim_bw_in_allowance_dropped")]
    pub bw_in_allowance_dropped: u64,
    #[serde(rename = "nitrosim_bw_out_allowance_dropped")]
    pub bw_out_allowance_dropped: u64,
    #[serde(rename = "nitrosim_pps_allowance_dropped")]
    pub pps_allowance_dropped: u64,
    /// nitrosim: drops in the Nitro per-flow shaper (5/10/25 Gbps single-flow limit); no ENA
    /// counter shows them.
    #[serde(rename = "nitrosim_flow_cap_exceeded")]
    pub flow_cap_exceeded: u64,
    /// nitrosim: drops at the receiving vCPU's backlog (Linux counts them in softnet_stat).
    #[serde(rename = "nitrosim_cpu_backlog_drops")]
    pub cpu_backlog_drops: u64,
    /// ENA: packets queued or dropped beyond the packets-per-second allowance.
    pub pps_allowance_exceeded: u64,
    /// ENA: packets dropped because connection tracking was full.
    pub conntrack_allowance_exceeded: u64,
    /// ENA: tracked connections the ENI could still open before reaching its allowance, at the
    /// end of the run, and the least it was during the run (absent without an allowance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conntrack_allowance_available: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conntrack_allowance_available_min: Option<u64>,
    /// nitrosim: the idle timeouts its tracked connections use, seconds (the ENI's
    /// `ConnectionTrackingSpecification`; shown with a `conntrack_allowance`, like the two above).
    #[serde(rename = "nitrosim_conntrack_timeouts_s", skip_serializing_if = "Option::is_none")]
    pub conntrack_timeouts_s: Option<ConntrackTimeoutsS>,
    /// nitrosim: tracking entries removed after idling past their timeout (no ENA counter).
    #[serde(rename = "nitrosim_conntrack_idle_timeouts", skip_serializing_if = "is_zero")]
    pub conntrack_idle_timeouts: u64,
    /// nitrosim: packets refused because their flow's tracking entry had idled out and the
    /// security groups do not allow it as a new flow (drop reason `conntrack_expired`).
    #[serde(rename = "nitrosim_conntrack_expired_drops", skip_serializing_if = "is_zero")]
    pub conntrack_expired_drops: u64,
    /// ENA: packets to link-local services beyond 1024 per second, dropped.
    pub linklocal_allowance_exceeded: u64,
    /// The driver `ethtool -i` names: ena, ixgbevf or vif.
    pub driver: &'static str,
    /// ENA Express: bit 0 = ENA Express on the ENI, bit 1 = ENA Express UDP.
    pub ena_srd_mode: u64,
    /// Packets the instance sent over SRD.
    pub ena_srd_tx_pkts: u64,
    /// Packets that met the ENA Express conditions between the two ENIs (SRD or not).
    pub ena_srd_eligible_tx_pkts: u64,
    /// SRD packets the instance's card received.
    pub ena_srd_rx_pkts: u64,
    /// ENA: share of the card's memory for concurrent SRD connections in use, percent (AWS's
    /// definition), read at the end of the run: ENA Express connections (each direction of a
    /// pair holds one at each end's card) over `nitro.srd_connections`.
    pub ena_srd_resource_utilization: u64,
    /// nitrosim: ENA Express connections held on this instance's card at the end.
    pub nitrosim_srd_connections: u64,
    /// nitrosim: connections (one per direction) that fell back to plain ENA because a card had
    /// no SRD connection resources left, counted at the sending instance.
    pub nitrosim_srd_resource_fallbacks: u64,
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

#[derive(Clone, Copy, Debug, Default)]
pub struct Accounting {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: [u64; DropReason::ALL.len()],
    /// Packets replaced by their fragments (each fragment counts as sent).
    pub fragmented: u64,
}

impl Accounting {
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

pub struct Model {
    pub name: String,
    pub(crate) q: EventQueue<Event>,
    pub(crate) ports: Vec<Port>,
    port_owner: Vec<u32>,
    pub(crate) pool: PacketPool,
    /// Packets that reached the next stage of their route at this very time: taken on within
    /// the current dispatch, in order, without an event.
    ready: std::collections::VecDeque<(PacketId, u32)>,
    pub(crate) routes: routing::Routes,
    pub(crate) eps: Vec<EpSlot>,
    ep_free: Vec<u32>,
    pub(crate) fabric: LeafSpine,
    pub(crate) insts: Vec<InstanceRt>,
    pub(crate) flows: Vec<FlowRt>,
    pub(crate) apps: Vec<App>,
    pub(crate) acct: Accounting,
    outbox: Outbox,
    loss: Option<(f64, StreamRng)>,
    pub(crate) end: SimTime,
    pub(crate) bin_ps: u64,
    tcp: TcpConfig,
    flow_shaper: PortConfig,
    /// Card-delay noise on each per-flow shaper (parts per million; 0 = exact).
    flow_shaper_noise_ppm: u32,
    fabric_mtu: u32,
    host_ip_base: u32,
    bg_port_rng: StreamRng,
    pub(crate) srd_cfg: crate::transport::srd::SrdConfig,
    /// SRD connections each card can hold (`nitro.srd_connections`).
    pub(crate) srd_connections_per_card: u32,
    pub(crate) srd_ctxs: Vec<srd::SrdCtx>,
    srd_index: BTreeMap<(u32, u32, Option<u16>), u32>,
    srd_send_out: crate::transport::srd::SenderOut<srd::Inner>,
    srd_recv_out: crate::transport::srd::ReceiverOut<u32>,
    /// What the receiving cards' reorder buffers hold.
    srd_held: srd::HeldPayloads,
    pub(crate) streams: crate::engine::RngStreams,
    pub(crate) host_costs: apps::HostCosts,
    /// The link from one AZ to another (one per direction), created at first use.
    pub(crate) inter_az: BTreeMap<(u32, u32), PortId>,
    inter_az_link: PortConfig,
    /// Foreground workloads that have not finished; the run ends early when it reaches zero.
    pub(crate) unfinished: u32,
    pub(crate) all_finite: bool,
    scratch_route: Vec<PortId>,
    pub(crate) vpc: crate::ec2::vpc::Vpc,
    pub(crate) gateways: Vec<GatewayRt>,
    /// The hops of each ordered instance pair's path that has any (computed at first use).
    pub(crate) paths: BTreeMap<(u32, u32), Vec<routing::Hop>>,
    /// Pairs known to talk directly.
    no_path: std::collections::BTreeSet<(u32, u32)>,
    /// Explicit `paths` of the scenario, both directions.
    path_specs: BTreeMap<(u32, u32), Vec<routing::HopSpec>>,
    /// Each subnet's route table, compiled, and the VPC block (the local route).
    subnet_routes: Vec<Vec<routing::Route>>,
    vpc_cidr: crate::ec2::vpc::Cidr,
    /// A gateway port's gateway, and the port of the same gateway on the way back.
    pub(crate) gw_port: BTreeMap<PortId, (u32, PortId)>,
    /// Filters that refused something ("network ACL private inbound rule *"), their drop reason,
    /// and how many packets each refused.
    pub(crate) filters: Vec<(String, DropReason)>,
    pub(crate) filter_drops: Vec<u64>,
    pub(crate) reasm: Vec<Reasm>,
    reasm_free: Vec<u32>,
    /// Fragment bytes held per instance (bounded by `ipfrag_high_thresh`).
    reasm_bytes: Vec<u64>,
    next_ip_id: u16,
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
    pub(crate) actions: Vec<crate::scenario::spec::ActionSpec>,
    pub(crate) saved_ports: BTreeMap<PortId, (u32, DropReason, Bandwidth)>,
    /// Service addresses and who holds them now.
    pub(crate) services: Vec<failover::ServiceRt>,
    /// The scenario as the VPC's rules are now (timed actions change ACLs and groups).
    pub(crate) rules: crate::scenario::spec::ScenarioSpec,
}

impl Model {
    pub fn now(&self) -> SimTime {
        self.q.now()
    }

    // ---------------------------------------------------------------- connections and routes

    fn attach_host(&self, a: Attach) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].host,
            Attach::Host(h) => h,
            Attach::Service(i, _) => self.insts[i as usize].host,
        }
    }

    fn attach_ip(&self, a: Attach) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].ip,
            Attach::Host(h) => self.host_ip_base + h,
            Attach::Service(_, svc) => svc.ip(),
        }
    }

    fn attach_mtu(&self, a: Attach) -> u32 {
        match a {
            Attach::Instance(i) => self.insts[i as usize].mtu,
            Attach::Host(_) | Attach::Service(..) => self.fabric_mtu,
        }
    }

    fn ephemeral_port(&mut self, a: Attach) -> u16 {
        let rng = match a {
            Attach::Instance(i) => &mut self.insts[i as usize].port_rng,
            Attach::Host(_) | Attach::Service(..) => &mut self.bg_port_rng,
        };
        rng.random_range(EPHEMERAL_PORTS)
    }

    /// A workload's name.
    pub(crate) fn app_name(&self, app: u32) -> &str {
        match &self.apps[app as usize] {
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
        }
    }

    fn add_port(&mut self, config: PortConfig, owner: u32) -> PortId {
        self.ports.push(Port::new(config));
        self.port_owner.push(owner);
        (self.ports.len() - 1) as PortId
    }

    fn inter_az_port(&mut self, a: u32, b: u32) -> PortId {
        if let Some(&p) = self.inter_az.get(&(a, b)) {
            return p;
        }
        let p = self.add_port(self.inter_az_link, NONE);
        self.inter_az.insert((a, b), p);
        p
    }

    /// Sender side of an instance's path: the vCPU RSS picks, a Nitro per-flow shaper at `cap`,
    /// the instance egress (allowance) shaper.
    fn push_host_tx(&mut self, i: u32, t: &FiveTuple, cap: Bandwidth, r: &mut Vec<PortId>) {
        let inst = &self.insts[i as usize];
        let q = (t.hash_salted(inst.rss_salt) % inst.cpu_tx.len() as u64) as usize;
        let (cpu, egress) = (inst.cpu_tx[q], inst.egress);
        let shaper = self.add_port(PortConfig { rate: cap, ..self.flow_shaper }, i);
        if self.flow_shaper_noise_ppm > 0 {
            // Named after the flow's 5-tuple: its own stream whatever the order flows open in.
            let name = format!(
                "instance/{}/noise/flow/{}:{}-{}:{}/{}",
                self.insts[i as usize].name, t.src_ip, t.src_port, t.dst_ip, t.dst_port, t.protocol
            );
            let rng = self.streams.stream(&name);
            self.ports[shaper as usize].set_noise(crate::net::PortNoise::new(rng, 0, self.flow_shaper_noise_ppm));
        }
        r.extend([cpu, shaper, egress]);
        r.extend_from_slice(&self.insts[i as usize].tx_extra);
    }

    /// Receiver side: the instance ingress (allowance) shaper, then the vCPU RSS picks.
    fn push_host_rx(&self, j: u32, t: &FiveTuple, r: &mut Vec<PortId>) {
        let inst = &self.insts[j as usize];
        let q = (t.hash_salted(inst.rss_salt) % inst.cpu_rx.len() as u64) as usize;
        r.extend_from_slice(&inst.rx_extra);
        r.extend([inst.ingress, inst.cpu_rx[q]]);
    }

    /// Fabric hops from a to b through the spine ECMP picks for `t`, plus the inter-AZ delay.
    fn push_fabric(&mut self, a: Attach, b: Attach, t: &FiveTuple, r: &mut Vec<PortId>) {
        let (ha, hb) = (self.attach_host(a), self.attach_host(b));
        let spine = self.fabric.ecmp_spine(ha, t);
        self.fabric.push_path(ha, hb, spine, r);
        if let (Attach::Instance(i), Attach::Instance(j)) = (a, b) {
            let (za, zb) = (self.insts[i as usize].az, self.insts[j as usize].az);
            if za != zb {
                let p = self.inter_az_port(za, zb);
                r.push(p);
            }
        }
    }

    /// Per-flow limit of plain ENA: 10 Gbps inside one cluster placement group, else 5 Gbps.
    fn ena_flow_cap(&self, i: u32, b: Attach) -> Bandwidth {
        match (b, self.insts[i as usize].cluster_pg) {
            (Attach::Instance(j), Some(pg)) if self.insts[j as usize].cluster_pg == Some(pg) => {
                crate::ec2::FLOW_CAP_CLUSTER_PG
            }
            _ => crate::ec2::FLOW_CAP_DEFAULT,
        }
    }

    /// Store a route built in `r` (recycling a freed one) and hand `r` back empty.
    fn store_route(&mut self, r: &mut Vec<PortId>) -> u32 {
        let id = self.routes.store(r);
        r.clear();
        id
    }

    /// The plain-ENA route a -> b for this 5-tuple: sender vCPU, Nitro per-flow shaper, instance
    /// egress shaper, fabric (ECMP), [inter-AZ], receiver ingress shaper, receiver vCPU.
    fn build_route(&mut self, a: Attach, b: Attach, t: &FiveTuple) -> u32 {
        let mut r = std::mem::take(&mut self.scratch_route);
        r.clear();
        // Link-local services live on the host: a vCPU, the ENI's allowance, the service.
        match (a, b) {
            (Attach::Instance(i), Attach::Service(..)) => {
                let inst = &self.insts[i as usize];
                let q = (t.hash_salted(inst.rss_salt) % inst.cpu_tx.len() as u64) as usize;
                r.extend([inst.cpu_tx[q], inst.linklocal, inst.linklocal_service]);
                let id = self.store_route(&mut r);
                self.scratch_route = r;
                return id;
            }
            (Attach::Service(..), Attach::Instance(j)) => {
                let inst = &self.insts[j as usize];
                let q = (t.hash_salted(inst.rss_salt) % inst.cpu_rx.len() as u64) as usize;
                r.push(inst.cpu_rx[q]);
                let id = self.store_route(&mut r);
                self.scratch_route = r;
                return id;
            }
            _ => {}
        }
        if let Attach::Instance(i) = a {
            let cap = self.ena_flow_cap(i, b);
            self.push_host_tx(i, t, cap, &mut r);
        }
        let hops = match (a, b) {
            (Attach::Instance(i), Attach::Instance(j)) => self.paths.get(&(i, j)).cloned(),
            _ => None,
        };
        match hops {
            None => self.push_fabric(a, b, t, &mut r),
            Some(hops) => {
                let mut from = a;
                for h in hops {
                    match h {
                        routing::Hop::Gateway(p) => {
                            // Leaving for the internet or another Region: the sender's own
                            // allowance for that traffic first.
                            if let Attach::Instance(k) = from
                                && self.gateways[self.gw_port[&p].0 as usize].kind.leaves_vpc()
                            {
                                r.push(self.insts[k as usize].outside);
                            }
                            r.push(p);
                            if let Some(pps) = self.nat_packet_port(p) {
                                r.push(pps);
                            }
                        }
                        routing::Hop::Router(x) => {
                            self.push_fabric(from, Attach::Instance(x), t, &mut r);
                            self.push_router(x, t, &mut r);
                            from = Attach::Instance(x);
                        }
                    }
                }
                self.push_fabric(from, b, t, &mut r);
            }
        }
        if let Attach::Instance(j) = b {
            self.push_host_rx(j, t, &mut r);
        }
        let id = self.store_route(&mut r);
        self.scratch_route = r;
        id
    }

    /// ENA Express for a -> b: the host leg into a's SRD engine (25 Gbps per flow) and b's leg
    /// after SRD (receive processing, ingress shaper, vCPU). `None` when it does not engage.
    fn build_srd_path(&mut self, a: Attach, b: Attach, t: &FiveTuple, proto: Proto) -> SrdPath {
        let (Attach::Instance(i), Attach::Instance(j)) = (a, b) else { return SrdPath::NONE };
        // ENA Express needs a direct path: no gateway or middlebox in between.
        if self.paths.contains_key(&(i, j))
            || crate::ec2::ena_express::engages(&self.ena_express_ends(i, j), matches!(proto, Proto::Udp { .. }))
                .is_err()
        {
            return SrdPath::NONE;
        }
        // The cards' memory for concurrent SRD connections: a new connection needs a slot at
        // both ends; when either card is full, ENA Express falls back to plain ENA, silently
        // (the user guide: fallback "as it nears 100%"; here at 100%).
        if !self.srd_index.contains_key(&(i, j, None)) {
            let cap = self.srd_connections_per_card as u64;
            let full = |k: u32| self.insts[k as usize].counters.nitrosim_srd_connections >= cap;
            if full(i) || full(j) {
                self.insts[i as usize].counters.nitrosim_srd_resource_fallbacks += 1;
                return SrdPath::NONE;
            }
            self.insts[i as usize].counters.nitrosim_srd_connections += 1;
            self.insts[j as usize].counters.nitrosim_srd_connections += 1;
        }
        let ctx = self.srd_context(i, j, None);
        let mut r = std::mem::take(&mut self.scratch_route);
        r.clear();
        self.push_host_tx(i, t, crate::ec2::ena_express::FLOW_CAP, &mut r);
        let host_route = self.store_route(&mut r);
        r.push(self.insts[j as usize].srd_rx_proc);
        self.push_host_rx(j, t, &mut r);
        let then_route = self.store_route(&mut r);
        self.scratch_route = r;
        SrdPath { ctx, host_route, then_route }
    }

    /// EFA from instance a to b: from the device straight into the card (no vCPU, no per-flow
    /// limit), SRD without reordering, the receiving card. Validation has checked that both ends
    /// have an EFA interface in one AZ.
    fn build_efa_path(&mut self, a: Attach, b: Attach, card: u16) -> SrdPath {
        let (Attach::Instance(i), Attach::Instance(j)) = (a, b) else { return SrdPath::NONE };
        let ctx = self.srd_context(i, j, Some(card));
        let mut r = std::mem::take(&mut self.scratch_route);
        r.clear();
        // The device takes work requests as SRD's window and pacing allow: nothing is dropped
        // between the application and SRD (EFA has no retransmission of its own), and nothing
        // after SRD has acknowledged it. Both cards' processing applies; the allowance shapers do
        // not (a known simplification for EFA).
        r.push(self.insts[i as usize].nitro_tx);
        let host_route = self.store_route(&mut r);
        r.extend([self.insts[j as usize].srd_rx_proc, self.insts[j as usize].nitro_tx]);
        let then_route = self.store_route(&mut r);
        self.scratch_route = r;
        SrdPath { ctx, host_route, then_route }
    }

    /// What ENA Express's eligibility rules need to know about two instances.
    pub(crate) fn ena_express_ends(&self, i: u32, j: u32) -> [crate::ec2::ena_express::End; 2] {
        [i, j].map(|k| {
            let inst = &self.insts[k as usize];
            crate::ec2::ena_express::End {
                type_supports: inst.ty.ena_express,
                enabled: inst.ena_srd_enabled,
                udp_enabled: inst.ena_srd_udp_enabled,
                az: inst.az,
                region: inst.region,
                region_cross_az: inst.region_cross_az,
            }
        })
    }

    fn new_endpoint(&mut self, transport: Endpoint, route: u32, owner: Owner, flow: u32, tuple: FiveTuple) -> u32 {
        let slot = |generation| EpSlot {
            generation,
            live: true,
            transport,
            peer: NONE,
            route,
            owner,
            flow,
            timer_at: None,
            timer_gen: 0,
            srd: SrdPath::NONE,
            ena_express_eligible: false,
            instance: NONE,
            efa: false,
            tuple,
            if_mtu: crate::net::ip::NO_MTU_LIMIT,
            tx_block: NONE,
            rx_block: NONE,
            conntrack: NONE,
            conntrack_lapsed: NONE,
            conntrack_seen: SimTime::ZERO,
            conntrack_turns: 0,
            conntrack_last_out: true,
        };
        match self.ep_free.pop() {
            Some(id) => {
                let g = self.eps[id as usize].generation;
                self.eps[id as usize] = slot(g);
                id
            }
            None => {
                self.eps.push(slot(0));
                (self.eps.len() - 1) as u32
            }
        }
    }

    /// Open a connection a -> b. Returns (client endpoint, server endpoint). TCP starts its
    /// handshake at once; the app is told when it is established.
    pub(crate) fn open(&mut self, a: Attach, b: Attach, proto: Proto, tag: ConnTag, dst_port: u16) -> (u32, u32) {
        let ConnTag { app, conn, flow } = tag;
        if let (Attach::Instance(i), Attach::Instance(j)) = (a, b) {
            self.ensure_path(i, j);
        }
        let tuple = FiveTuple {
            src_ip: self.attach_ip(a),
            dst_ip: self.attach_ip(b),
            src_port: self.ephemeral_port(a),
            dst_port,
            protocol: match proto {
                Proto::Tcp => crate::ec2::vpc::PROTO_TCP,
                _ => crate::ec2::vpc::PROTO_UDP,
            },
        };
        let reverse = FiveTuple {
            src_ip: tuple.dst_ip,
            dst_ip: tuple.src_ip,
            src_port: tuple.dst_port,
            dst_port: tuple.src_port,
            ..tuple
        };
        // EFA traffic never takes the plain-ENA route: it goes to SRD from the device.
        let (r_ab, r_ba) = if matches!(proto, Proto::Efa(_)) {
            (NONE, NONE)
        } else {
            (self.build_route(a, b, &tuple), self.build_route(b, a, &reverse))
        };
        // Each side sends at most what its path MTU (interface, learnt PMTU) allows; TCP also
        // at most what the peer's MSS option says, which a gateway may have clamped.
        let (mtu_a, mtu_b) = (self.send_mtu(a, b), self.send_mtu(b, a));
        let (tc, ts) = match proto {
            Proto::Tcp => {
                let clamp = self.mss_clamp_mtu(a, b);
                let (ma, mb) = (mtu_a.min(self.attach_mtu(b)).min(clamp), mtu_b.min(self.attach_mtu(a)).min(clamp));
                (
                    Endpoint::Tcp(
                        crate::transport::Tcp::new(self.tcp.clone(), ma, true).advertising(self.attach_mtu(a)),
                    ),
                    Endpoint::Tcp(
                        crate::transport::Tcp::new(self.tcp.clone(), mb, false).advertising(self.attach_mtu(b)),
                    ),
                )
            }
            Proto::Udp { df } => (
                Endpoint::Udp(crate::transport::Udp::new(mtu_a, df)),
                Endpoint::Udp(crate::transport::Udp::new(mtu_b, df)),
            ),
            Proto::Efa(_) => {
                let mtu = self.attach_mtu(a).min(self.attach_mtu(b)).min(crate::ec2::ena_express::MAX_PACKET_BYTES);
                (
                    Endpoint::Efa(crate::transport::efa::Efa::new(mtu)),
                    Endpoint::Efa(crate::transport::efa::Efa::new(mtu)),
                )
            }
        };
        let c = self.new_endpoint(tc, r_ab, Owner { app, conn, side: Side::Client }, flow, tuple);
        let s = self.new_endpoint(ts, r_ba, Owner { app, conn, side: Side::Server }, flow, reverse);
        self.eps[c as usize].peer = s;
        self.eps[s as usize].peer = c;
        self.eps[c as usize].if_mtu = self.attach_mtu(a);
        self.eps[s as usize].if_mtu = self.attach_mtu(b);
        for (ep, from, to, t) in [(c, a, b, tuple), (s, b, a, reverse)] {
            let srd = if let Proto::Efa(card) = proto {
                self.build_efa_path(from, to, card)
            } else {
                self.build_srd_path(from, to, &t, proto)
            };
            let (instance, eligible) = match (from, to) {
                (Attach::Instance(i), Attach::Instance(j)) => (
                    i,
                    crate::ec2::ena_express::eligible(&self.ena_express_ends(i, j)).is_ok()
                        && !self.paths.contains_key(&(i, j)),
                ),
                (Attach::Instance(i), _) => (i, false),
                _ => (NONE, false),
            };
            let slot = &mut self.eps[ep as usize];
            slot.srd = srd;
            slot.instance = instance;
            slot.ena_express_eligible = eligible && !matches!(proto, Proto::Efa(_));
            slot.efa = matches!(proto, Proto::Efa(_));
        }
        if let (Attach::Instance(i), Attach::Instance(j)) = (a, b) {
            self.apply_filters(proto, (i, j), (c, s), &tuple);
        }
        if proto == Proto::Tcp {
            self.drive(c, None, |t, now, out| t.connect(now, out));
        }
        (c, s)
    }

    /// Call one of endpoint `ep`'s transport entry points with the shared outbox, then turn its
    /// output into packets and notifications. `born` is the arriving packet's birth, if any.
    fn drive(&mut self, ep: u32, born: Option<SimTime>, call: impl FnOnce(&mut Endpoint, SimTime, &mut Outbox)) {
        let now = self.now();
        let mut out = std::mem::take(&mut self.outbox);
        out.clear();
        call(&mut self.eps[ep as usize].transport, now, &mut out);
        self.outbox = out;
        self.flush(ep, born.unwrap_or(now));
    }

    /// Close a connection and recycle its slots; packets still in flight to it are dropped
    /// on arrival as `no_socket` (the generation check).
    pub(crate) fn close(&mut self, c: u32, s: u32) {
        self.nat_forget(s);
        for ep in [c, s] {
            let tracked_by = self.eps[ep as usize].conntrack;
            if tracked_by != NONE {
                self.insts[tracked_by as usize].conntrack_tracked -= 1;
            }
            let slot = &mut self.eps[ep as usize];
            debug_assert!(slot.live);
            slot.live = false;
            slot.generation = slot.generation.wrapping_add(1);
            slot.timer_gen = slot.timer_gen.wrapping_add(1);
            if slot.route != NONE {
                self.routes.release(slot.route);
            }
            if slot.srd.ctx != NONE {
                self.routes.release(slot.srd.host_route);
                self.routes.release(slot.srd.then_route);
            }
            self.ep_free.push(ep);
        }
    }

    /// The application on endpoint `ep` will write nothing more.
    pub(crate) fn ep_close(&mut self, ep: u32) {
        self.drive(ep, None, |t, now, out| t.close(now, out));
    }

    /// The application on endpoint `ep` writes `bytes`.
    pub(crate) fn ep_send(&mut self, ep: u32, bytes: u64) {
        self.drive(ep, None, |t, now, out| t.send(now, bytes, out));
    }

    // ---------------------------------------------------------------- packet path

    /// Turn the transport's output into packets and app notifications, then re-arm its timer.
    fn flush(&mut self, ep: u32, born: SimTime) {
        let mut out = std::mem::take(&mut self.outbox);
        for i in 0..out.notes.len() {
            let note = out.notes[i];
            self.log_note(ep, note);
        }
        for i in 0..out.segments.len() {
            let seg = out.segments[i];
            self.inject(ep, seg);
        }
        let (delivered, established) = (out.delivered_bytes, out.established);
        out.clear();
        self.outbox = out;
        let owner = self.eps[ep as usize].owner;
        if established {
            self.app_established(owner, ep);
        }
        if delivered > 0 {
            self.account_delivery(ep, delivered);
            self.app_delivered(owner, ep, delivered, born);
        } else if owner.side == Side::Client && matches!(self.apps[owner.app as usize], App::Background(_)) {
            // The last ACK of a background flow frees its connection.
            self.background_maybe_close(owner);
        }
        self.rearm_timer(ep);
    }

    fn account_delivery(&mut self, ep: u32, bytes: u64) {
        let f = self.eps[ep as usize].flow;
        if f == NONE {
            return;
        }
        let now = self.now();
        let bin = (now.ps() / self.bin_ps) as usize;
        let flow = &mut self.flows[f as usize];
        flow.delivered += bytes;
        // A delivery at exactly the end time belongs to the last bin.
        let last = flow.bins.len() - 1;
        flow.bins[bin.min(last)] += bytes;
    }

    fn rearm_timer(&mut self, ep: u32) {
        let slot = &mut self.eps[ep as usize];
        if !slot.live {
            return;
        }
        let Some(want) = slot.transport.poll_at() else {
            return;
        };
        if slot.timer_at.is_some_and(|t| t <= want) {
            return; // an earlier wake-up is pending; it will re-arm for `want`
        }
        slot.timer_gen = slot.timer_gen.wrapping_add(1);
        slot.timer_at = Some(want);
        let generation = slot.timer_gen;
        let at = want.max(self.q.now());
        self.q.schedule_at(at, Event::Timer { ep, generation });
    }

    /// A segment from endpoint `ep` enters the network: over SRD when ENA Express engages for
    /// this connection and the packet is small enough, otherwise over plain ENA (silently).
    fn inject(&mut self, ep: u32, seg: Segment) {
        let slot = &self.eps[ep as usize];
        let peer = slot.peer;
        // A datagram bigger than the interface is fragmented first, and fragments go plain ENA.
        let via_srd = slot.srd.ctx != NONE
            && (slot.efa
                || (seg.wire_bytes <= crate::ec2::ena_express::MAX_PACKET_BYTES && seg.wire_bytes <= slot.if_mtu));
        if slot.ena_express_eligible {
            let c = &mut self.insts[slot.instance as usize].counters;
            c.ena_srd_eligible_tx_pkts += 1;
            c.ena_srd_tx_pkts += via_srd as u64;
        }
        let (route, sink, then_route) = if via_srd {
            (slot.srd.host_route, Sink::SrdSend(slot.srd.ctx), slot.srd.then_route)
        } else {
            (slot.route, Sink::Endpoint, NONE)
        };
        let (tx_block, if_mtu) = (slot.tx_block, slot.if_mtu);
        let pkt = Packet {
            seg,
            wire_bytes: seg.wire_bytes,
            route,
            hop: 0,
            sink,
            dst_endpoint: peer,
            dst_generation: self.eps[peer as usize].generation,
            born: self.q.now(),
            then_route,
            srd: SrdHeader::default(),
            lossy: !via_srd,
            ..Packet::default()
        };
        if !via_srd && seg.wire_bytes > if_mtu {
            // Larger than the interface: the sender's IP layer fragments it (DF is never set on
            // such a packet: TCP keeps to its MSS and UDP with DF to the MTU).
            debug_assert!(!seg.df, "a DF packet larger than its interface");
            self.fragment_at_source(ep, pkt, if_mtu, tx_block);
            return;
        }
        self.emit_packet(ep, pkt, tx_block);
    }

    /// A packet leaves endpoint `ep`'s instance: captured there, refused by its outbound filters
    /// or sent on its route.
    fn emit_packet(&mut self, ep: u32, pkt: Packet, tx_block: u32) {
        let inst = self.eps[ep as usize].instance;
        if self.capture.is_some() && inst != NONE {
            self.capture_at_instance(inst, &pkt);
        }
        let id = self.pool.alloc(pkt);
        self.acct.sent += 1;
        if tx_block != NONE {
            self.drop_filtered(id, tx_block, inst);
            return;
        }
        if let Some(f) = self.conntrack_touch(ep, true) {
            self.drop_filtered(id, f, inst);
            return;
        }
        let first = self.routes.port(pkt.route, 0);
        self.offer(id, first);
    }

    /// Create a packet at the start of its route.
    pub(crate) fn send_packet(&mut self, pkt: Packet) {
        let first = self.routes.port(pkt.route, 0);
        let id = self.pool.alloc(pkt);
        self.acct.sent += 1;
        self.offer(id, first);
    }

    fn offer(&mut self, id: PacketId, port: PortId) {
        let mtu = self.ports[port as usize].config.mtu;
        if mtu != crate::net::ip::NO_MTU_LIMIT {
            if mtu == crate::net::ip::PORT_CLOSED {
                let reason = self.ports[port as usize].config.drop_reason;
                self.drop_packet(id, reason, self.port_owner[port as usize]);
                return;
            }
            if !self.enter_gateway(id, port) {
                return;
            }
        }
        let now = self.q.now();
        let p = self.pool.get_mut(id);
        let port_ref = &mut self.ports[port as usize];
        port_ref.settle(now);
        // The port's question first: the packet's ECN bits lie beyond its first cache line.
        if port_ref.should_mark() && (p.seg.ect || p.srd.ect) {
            // An SRD packet is marked on its outer header; the inner one is the host's business.
            if p.srd.ect {
                p.srd.ce = true;
            } else {
                p.seg.ce = true;
            }
            port_ref.stats.ecn_marks += 1;
        }
        let (shaper, per_packet) = (port_ref.config.burst_bytes > 0, port_ref.config.per_packet);
        // Where the route goes after this port: the packet's next stop once it leaves.
        let then = p.route + p.hop as u32 + 1;
        match port_ref.enqueue(now, id, p.wire_bytes, then) {
            Enqueued::Accepted { waited, finish, arrive, head } => {
                if head && let Some(arrive) = arrive {
                    if arrive == now {
                        // No time spent here: on to the next stage in this same dispatch.
                        port_ref.pop_head(now);
                        self.ready.push_back((id, then));
                    } else {
                        self.q.schedule_at(arrive, Event::PortDone(port, id, then));
                    }
                }
                // Behind another packet, or a token-bucket shaper holding it for its tokens.
                if waited || (shaper && finish.is_some_and(|f| f.since(now) > per_packet)) {
                    self.count_allowance_queued(port);
                }
            }
            Enqueued::Dropped => {
                let reason = port_ref.config.drop_reason;
                self.drop_packet(id, reason, self.port_owner[port as usize]);
            }
        }
    }

    /// ENA counts packets an allowance queued, not only those it dropped.
    fn count_allowance_queued(&mut self, port: PortId) {
        let owner = self.port_owner[port as usize];
        if owner == NONE {
            return;
        }
        let c = &mut self.insts[owner as usize].counters;
        match self.ports[port as usize].config.drop_reason {
            DropReason::BwOutAllowanceExceeded => c.bw_out_allowance_exceeded += 1,
            DropReason::BwInAllowanceExceeded => c.bw_in_allowance_exceeded += 1,
            DropReason::PpsAllowanceExceeded => c.pps_allowance_exceeded += 1,
            _ => {}
        }
    }

    pub(crate) fn drop_packet(&mut self, id: PacketId, reason: DropReason, instance: u32) {
        self.acct.dropped[reason.index()] += 1;
        if self.capture.is_some() {
            self.capture_drop(id, reason, instance);
        }
        self.free_icmp_route(id);
        if instance != NONE {
            let c = &mut self.insts[instance as usize].counters;
            match reason {
                DropReason::BwOutAllowanceExceeded => {
                    c.bw_out_allowance_exceeded += 1;
                    c.bw_out_allowance_dropped += 1;
                }
                DropReason::BwInAllowanceExceeded => {
                    c.bw_in_allowance_exceeded += 1;
                    c.bw_in_allowance_dropped += 1;
                }
                DropReason::FlowCapExceeded => c.flow_cap_exceeded += 1,
                DropReason::CpuBacklog => c.cpu_backlog_drops += 1,
                DropReason::PpsAllowanceExceeded => {
                    c.pps_allowance_exceeded += 1;
                    c.pps_allowance_dropped += 1;
                }
                DropReason::ConntrackAllowanceExceeded => c.conntrack_allowance_exceeded += 1,
                DropReason::ConntrackExpired => c.conntrack_expired_drops += 1,
                DropReason::LinklocalAllowanceExceeded => c.linklocal_allowance_exceeded += 1,
                _ => {}
            }
        }
        self.pool.free(id);
    }

    /// The oldest packet in `port` reached the far end; the next one's arrival is scheduled.
    fn on_port_done(&mut self, port: PortId, head: PacketId, then: u32) {
        let now = self.q.now();
        let (id, next) = self.ports[port as usize].pop_head(now);
        debug_assert_eq!(id, head);
        if let Some((t, next, next_then)) = next {
            self.q.schedule_at(t, Event::PortDone(port, next, next_then));
        }
        self.on_arrive(id, then);
    }

    /// Packet `id` left a port; `then` is where its route goes next (route + hop + 1).
    fn on_arrive(&mut self, id: PacketId, then: u32) {
        let p = self.pool.get_mut(id);
        p.hop += 1;
        debug_assert_eq!(then, p.route + p.hop as u32);
        let next = self.routes.at(then);
        if next != routing::Routes::END {
            self.offer(id, next);
        } else {
            self.deliver(id);
        }
    }

    fn deliver(&mut self, id: PacketId) {
        let p = *self.pool.get(id);
        if p.lossy
            && let Some((rate, rng)) = &mut self.loss
            && rng.random::<f64>() < *rate
        {
            self.drop_packet(id, DropReason::InjectedLoss, NONE);
            return;
        }
        match p.sink {
            Sink::Endpoint => self.deliver_to_endpoint(id, p),
            Sink::SrdSend(ctx) => self.srd_take(id, p, ctx),
            Sink::SrdReceive(ctx) => self.srd_receive(id, p, ctx),
            Sink::SrdAcked(ctx) => self.srd_acked(id, p, ctx),
            Sink::Icmp { gateway, mtu } => self.deliver_icmp(id, p, gateway as u32, mtu as u32),
        }
    }

    fn deliver_to_endpoint(&mut self, id: PacketId, p: Packet) {
        let ep = p.dst_endpoint;
        let slot = &self.eps[ep as usize];
        if !slot.live || slot.generation != p.dst_generation {
            self.drop_packet(id, DropReason::NoSocket, NONE);
            return;
        }
        // An endpoint lives on the instance it sends from.
        let receiver = slot.instance;
        if slot.rx_block != NONE {
            self.drop_filtered(id, slot.rx_block, receiver);
            return;
        }
        if let Some(f) = self.conntrack_touch(ep, false) {
            self.drop_filtered(id, f, receiver);
            return;
        }
        if self.capture.is_some() && receiver != NONE {
            self.capture_at_instance(receiver, &p);
        }
        if p.frag.is_fragment() {
            self.reassemble(id, p, receiver);
            return;
        }
        self.pool.free(id);
        self.acct.delivered += 1;
        self.hand_to_endpoint(ep, p);
    }

    /// A whole packet (or a reassembled datagram) reaches its endpoint's transport.
    pub(crate) fn hand_to_endpoint(&mut self, ep: u32, p: Packet) {
        let slot = &self.eps[ep as usize];
        if p.seg.payload_bytes > 0 && matches!(p.seg.kind, SegKind::Data | SegKind::Datagram) {
            let f = slot.flow;
            if f != NONE {
                self.flows[f as usize].wire_rx += p.seg.wire_bytes as u64;
            }
        }
        self.drive(ep, Some(p.born), |t, now, out| t.on_segment(now, &p.seg, out));
    }

    fn on_timer(&mut self, ep: u32, generation: u32) {
        let slot = &mut self.eps[ep as usize];
        if !slot.live || slot.timer_gen != generation {
            return; // stale: superseded or the connection is gone
        }
        slot.timer_at = None;
        self.drive(ep, None, |t, now, out| t.on_timer(now, out));
    }

    // ---------------------------------------------------------------- the run

    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::PortDone(p, id, then) => self.on_port_done(p, id, then),
            Event::Timer { ep, generation } => self.on_timer(ep, generation),
            Event::App { app, tag } => self.app_event(app, tag),
            Event::SrdTimer { ctx, generation } => self.srd_timer(ctx, generation),
            Event::ReassemblyExpire { slot, generation } => self.reassembly_expire(slot, generation),
            Event::Action(n) => self.run_action(n),
            Event::ServiceMoved { service, to } => self.service_moved(service, to),
        }
        // Packets that crossed a stage taking no time move on now, in the order they got there.
        while let Some((id, then)) = self.ready.pop_front() {
            self.on_arrive(id, then);
        }
    }

    /// Run to the end time (or until every foreground workload has finished), then check
    /// invariants and collect results. `progress` is called now and then with the sim time.
    pub fn run(mut self, progress: &mut dyn FnMut(SimTime)) -> Result<VariantResult, String> {
        // Ports count what has left them up to the time the run stopped: the end time, or the
        // last event's time when every workload finished before it.
        let mut stopped = self.end;
        while let Some(t) = self.q.peek_time() {
            if self.all_finite && self.unfinished == 0 {
                stopped = self.q.now();
                break;
            }
            if t > self.end {
                break;
            }
            let (_, ev) = self.q.pop().expect("peeked");
            if let Some(&Event::PortDone(port, id, then)) = self.q.peek_event() {
                // The next event's port, packet and route load while this one runs.
                crate::engine::prefetch(&self.ports[port as usize], 2);
                crate::engine::prefetch(self.pool.get(id), 1);
                self.routes.prefetch(then);
            }
            self.dispatch(ev);
            if self.q.events_processed().is_multiple_of(PROGRESS_EVERY_EVENTS) {
                progress(self.q.now());
            }
        }
        for p in &mut self.ports {
            p.settle(stopped);
        }
        progress(self.end);
        self.check_conservation()?;
        Ok(results::collect(self))
    }

    /// Packets in flight, counted independently of the pool: held by ports (queued, in service
    /// or in their pipes), about to move on, or held for reassembly.
    fn in_flight_counted(&self) -> u64 {
        let in_ports: u64 = self.ports.iter().map(|p| p.queued_packets() as u64).sum();
        let held: u64 = self.reasm.iter().filter(|r| r.live).map(|r| r.held.len() as u64).sum();
        in_ports + self.ready.len() as u64 + held
    }

    fn check_conservation(&self) -> Result<(), String> {
        let a = &self.acct;
        let in_flight = self.in_flight_counted();
        if a.sent != a.delivered + a.dropped_total() + a.fragmented + in_flight || in_flight != self.pool.live() as u64
        {
            return Err(format!(
                "packet conservation violated in variant {}: sent {} != delivered {} + dropped {} + fragmented {} + in flight {} (pool holds {})",
                self.name,
                a.sent,
                a.delivered,
                a.dropped_total(),
                a.fragmented,
                in_flight,
                self.pool.live()
            ));
        }
        for (i, p) in self.ports.iter().enumerate() {
            if p.queued_bytes() > p.config.capacity_bytes {
                return Err(format!(
                    "port {i} holds {} bytes over its capacity {}",
                    p.queued_bytes(),
                    p.config.capacity_bytes
                ));
            }
        }
        Ok(())
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}
