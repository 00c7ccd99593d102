//! What one variant's run produced. Serialises to one entry of `summary.json`'s `variants`
//! (see README, "summary.json"); histograms and time series ride along, unserialised, for the
//! plots and CSV files. `collect` reads the finished model into it: the model's own parts
//! (flows, counters, fabric, SRD, cost, NAT gateways ...) here, and each workload's part from its
//! own `Workload::results` hook (the sections in `workload::WorkloadSections`, flattened in; the
//! per-kind result types are re-exported below). Nothing here names a workload kind.

use super::app_state::App;
use super::{ConntrackTimeoutsS, InstanceCounters, Model, NONE};
use crate::net::DropReason;
use crate::transport::Transport;
use crate::units::{SimTime, gbps};
use serde::Serialize;
use std::collections::BTreeMap;

mod collect;
pub use crate::workload::background::BackgroundResult;
pub use crate::workload::collectives::CollectiveResult;
pub use crate::workload::connections::ConnectionsResult;
pub use crate::workload::datagrams::LatencyResult;
pub use crate::workload::permutation::PermutationResult;
pub use crate::workload::pingpong::PingPongPoint;
pub use crate::workload::replay::{FlowLogsResult, GroupResult};
pub use crate::workload::results::{Percentiles, round3};
pub use crate::workload::rpc::RpcResult;
pub use crate::workload::service_clients::{ServiceClientResult, ServiceOutageResult};
pub use crate::workload::{ReplaySections, WorkloadSections};
pub use collect::collect;

#[derive(Clone, Debug, Serialize)]
pub struct FlowResult {
    pub name: String,
    pub workload: String,
    /// "bulk", "rpc" or "datagrams".
    pub kind: &'static str,
    pub goodput_gbps: f64,
    pub wire_gbps: f64,
    pub bytes_delivered: u64,
    pub retransmits: u64,
    pub rtos: u64,
    pub fast_retransmits: u64,
    /// When the last byte arrived (finite transfers), in microseconds.
    pub completed_us: Option<f64>,
    /// Data-carrying packets the sender put on the wire (retransmissions included).
    pub packets_sent: u64,
    /// Share of those packets' bytes that were headers (IP, TCP/UDP, options).
    pub header_overhead: f64,
    /// The TCP sender's MSS at the end (after any PMTUD or probing change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mss: Option<u64>,
    /// The connection gave up (ETIMEDOUT): past tcp_retries2, or a SYN past tcp_syn_retries.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub aborted: bool,
    /// Why it gave up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_reason: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PacketTotals {
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub in_flight: u64,
    /// Packets replaced by their fragments on the way (each fragment is counted as sent):
    /// sent = delivered + dropped + fragmented + in flight.
    #[serde(skip_serializing_if = "is_zero")]
    pub fragmented: u64,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// How much of the event log was kept.
#[derive(Clone, Debug, Serialize)]
pub struct EventLogSummary {
    pub entries: u64,
    pub omitted: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FabricResult {
    pub spine_link_gbps: f64,
    pub oversubscription: f64,
    /// Busiest ToR-to-spine link's utilisation over the run.
    pub max_uplink_utilisation: f64,
    /// Mean wire load of the host uplinks (NIC -> ToR) that carried any packet: IP bytes plus
    /// Ethernet framing, per simulated second, in Gbps. Issue 17's "link load per host".
    pub host_uplink_gbps_mean: f64,
    pub max_queue_bytes: u64,
    pub ecn_marks: u64,
}

/// SRD across every card-to-card connection of the variant (ENA Express).
#[derive(Clone, Debug, Serialize, Default)]
pub struct SrdResult {
    pub connections: u64,
    pub packets: u64,
    pub retransmits: u64,
    pub timeouts: u64,
    /// ACKs echoing Congestion Experienced (with `srd.ecn`).
    pub ecn_marks: u64,
    /// Payloads SRD gave up on after `max_retries` (the host transport saw these losses).
    pub gave_up: u64,
    pub send_queue_drops: u64,
    pub reorder_capacity_packets: u64,
    /// Largest reorder-buffer occupancy seen on any connection (never above the capacity).
    pub reorder_max_occupancy: u64,
    pub reorder_refused: u64,
    /// Sequences the receiving cards moved past because their sender had given up on them.
    pub receiver_skipped: u64,
    pub duplicates: u64,
    /// Most distinct spines one SRD connection's packets crossed (1 = no spraying).
    pub spines_used: u64,
    pub window_min_bytes: u64,
    pub window_max_bytes: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Totals {
    pub goodput_gbps: f64,
    pub wire_gbps: f64,
}

/// Spread of goodput over the reported flows.
#[derive(Clone, Debug, Serialize)]
pub struct Fairness {
    /// Largest goodput over the smallest (1 = equal shares).
    pub max_min_ratio: f64,
    /// Jain's fairness index, (sum x)^2 / (n sum x^2): 1 = equal, 1/n = one flow takes all
    /// (Jain, Chiu and Hawe, DEC-TR-301, 1984).
    pub jain_index: f64,
}

impl Fairness {
    pub fn of(goodputs: &[f64]) -> Option<Fairness> {
        let min = goodputs.iter().copied().fold(f64::INFINITY, f64::min);
        if goodputs.len() < 2 || min.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let max = goodputs.iter().copied().fold(0.0, f64::max);
        let (sum, sq) = goodputs.iter().fold((0.0, 0.0), |(s, q), &x| (s + x, q + x * x));
        Some(Fairness {
            max_min_ratio: round3(max / min),
            jain_index: round3(sum * sum / (goodputs.len() as f64 * sq)),
        })
    }
}

/// What the run's memory is proportional to (not simulated time).
#[derive(Clone, Debug, Serialize)]
pub struct MemoryResult {
    /// High-water mark of packets alive at once (queued or in a pipe).
    pub peak_packets: u64,
    pub endpoint_slots: u64,
    pub ports: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct VariantResult {
    pub name: String,
    pub flows: Vec<FlowResult>,
    /// How evenly the reported flows shared (two or more flows with goodput).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fairness: Option<Fairness>,
    /// The workloads' own sections (`rpc`, `datagrams`, `pingpong` ...), each made by its
    /// workload's `results` hook.
    #[serde(flatten)]
    pub workloads: WorkloadSections,
    /// Each failover step and the delay drawn for it (seconds), with its bounds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failovers: Vec<FailoverResult>,
    /// Data-transfer cost of the run, from the embedded price table (Region and date inside).
    pub cost: crate::ec2::cost::CostResult,
    /// NAT gateways by name, with CloudWatch's metric names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub nat_gateways: BTreeMap<String, NatGatewayResult>,
    /// The workloads' sections listed here (`flowlogs`).
    #[serde(flatten)]
    pub replays: ReplaySections,
    pub drops: BTreeMap<&'static str, u64>,
    pub packets: PacketTotals,
    pub counters: BTreeMap<String, InstanceCounters>,
    pub fabric: FabricResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub srd: Option<SrdResult>,
    /// Things a user should look at, e.g. ENA Express falling back to ENA silently.
    pub warnings: Vec<String>,
    /// Fragmentation, reassembly and PMTUD counters (left out when nothing happened).
    #[serde(skip_serializing_if = "crate::model::IpCounters::is_empty")]
    pub ip: crate::model::IpCounters,
    /// Packets each security group or network ACL rule refused.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub filter_drops: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_log: Option<EventLogSummary>,
    /// With `--pcap`: packets kept in the capture files and packets left out beyond the
    /// per-point limit (`trace::MAX_CAPTURED_PACKETS`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<EventLogSummary>,
    /// All reported flows together.
    pub throughput: Totals,
    pub memory: MemoryResult,
    pub events_processed: u64,
    /// Link crossings: one packet crossing one physical link (NIC <-> ToR, ToR <-> spine: the
    /// Ethernet ports). The unit other packet simulators count (htsim: one packet through one
    /// queue + pipe of a link).
    pub link_crossings: u64,
    /// Stage passes: one packet through one internal stage (vCPU, per-flow and allowance
    /// shapers, Nitro card processing, SRD, gateways, inter-AZ delay), counted apart.
    pub stage_passes: u64,
    /// events_processed / link_crossings, to three decimals; `None` (JSON null) when no packet
    /// crossed a link. The cost measure issue 17 targets (at most 2.5 on the permutation benches).
    pub events_per_crossing: Option<f64>,
    /// link_crossings + stage_passes (kept for readers of schema 1: every port's packets out).
    pub packet_hops: u64,
    pub simulated_us: f64,
    #[serde(skip)]
    pub series: Vec<(String, Vec<f64>)>,
    #[serde(skip)]
    pub bin_us: f64,
    /// The notable events, for `events.jsonl` and the timeline plot.
    #[serde(skip)]
    pub events: Vec<crate::model::trace::LogEntry>,
    /// Packets recorded at capture points (with `--pcap`).
    #[serde(skip)]
    pub captures: Vec<crate::model::trace::CapturePoint>,
    /// Packets dropped while capturing (with their reason and place), for ladder diagrams.
    #[serde(skip)]
    pub capture_drops: Vec<crate::model::trace::DropRecord>,
}

/// Events per link crossing, the cost measure issue 17 targets; `None` when no packet crossed a
/// physical link (a run of link-local services, say), where the ratio means nothing. One
/// definition for `summary.json`, `nitrosim bench` and the run footer.
pub fn events_per_crossing(events: u64, link_crossings: u64) -> Option<f64> {
    (link_crossings > 0).then(|| events as f64 / link_crossings as f64)
}

/// `events_per_crossing` for a table: two decimals, or `n/a` with no crossing.
pub fn events_per_crossing_text(events: u64, link_crossings: u64) -> String {
    match events_per_crossing(events, link_crossings) {
        Some(r) => format!("{r:.2}"),
        None => "n/a".to_string(),
    }
}

/// A failover step: when it started, the delay drawn and the bounds it was drawn between.
#[derive(Clone, Debug, Serialize)]
pub struct FailoverResult {
    pub service: String,
    pub mechanism: &'static str,
    pub started_s: f64,
    pub delay_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bounds_s: Option<[f64; 2]>,
}

/// A NAT gateway: CloudWatch metrics over the run, and its capacity at the end.
#[derive(Clone, Debug, Serialize)]
pub struct NatGatewayResult {
    #[serde(flatten)]
    pub metrics: crate::model::nat::NatMetrics,
    /// Capacity it had scaled to by the end (model: see `ec2::nat`), and when each step came.
    pub capacity_gbps: f64,
    pub capacity_pps: u64,
    pub scaled_at_s: Vec<f64>,
}
