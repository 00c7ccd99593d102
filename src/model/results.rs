//! What one variant's run produced. Serialises to one entry of `summary.json`'s `variants`
//! (see README, "summary.json"); histograms and time series ride along, unserialised, for the
//! plots and CSV files.

use super::apps::App;
use super::{InstanceCounters, Model};
use crate::net::DropReason;
use crate::transport::Transport;
use crate::units::{SimTime, gbps};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub p9999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    /// From a histogram in nanoseconds, to microseconds.
    pub fn from_ns(h: &Histogram<u64>) -> Percentiles {
        let us = |v: u64| round3(v as f64 / 1000.0);
        Percentiles {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            p9999: us(h.value_at_quantile(0.9999)),
            max: us(h.max()),
            mean: round3(h.mean() / 1000.0),
        }
    }
}

/// Round for stable, readable JSON (values are reported, never fed back into the model).
pub fn round3(x: f64) -> f64 {
    // + 0.0 turns -0.0 (an empty float sum, a tiny negative rounded) into 0.0.
    (x * 1000.0).round() / 1000.0 + 0.0
}

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

#[derive(Clone, Debug, Serialize)]
pub struct LatencyResult {
    /// Measured samples (after warm-up).
    pub count: u64,
    pub latency_us: Percentiles,
    /// Exact smallest sample in picoseconds (the base latency of the path).
    pub min_ps: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RpcResult {
    /// Measured RPCs (issued after warm-up), completed or not.
    pub count: u64,
    pub issued: u64,
    pub completed: u64,
    /// Measured RPCs still waiting at the end. They enter the percentiles with their age at the
    /// end (a lower bound), so a connection stuck in a 200 ms RTO is not hidden from the tail.
    pub incomplete: u64,
    pub latency_us: Percentiles,
}

#[derive(Clone, Debug, Serialize)]
pub struct BackgroundResult {
    pub flows_started: u64,
    pub flows_completed: u64,
    /// Arrivals skipped because `max_concurrent` flows were already running.
    pub flows_skipped: u64,
    pub goodput_gbps: f64,
    pub fct_us: Percentiles,
}

/// A collective's timing.
#[derive(Clone, Debug, Serialize)]
pub struct CollectiveResult {
    pub workload: String,
    pub algorithm: &'static str,
    pub transport: &'static str,
    pub members: u64,
    /// Ranks in the collective: instances x GPUs per instance.
    pub ranks: u64,
    /// NCCL channels (rings side by side; the 1-rank-per-instance ring stripes over its cards).
    pub channels: u64,
    /// Network cards each neighbour pair stripes over.
    pub cards: u64,
    pub bytes: u64,
    /// Mean time per collective, over the measured iterations.
    pub time_us: f64,
    /// NCCL's bus bandwidth: 2(N-1)/N x bytes / time for all-reduce, (N-1)/N x bytes / time for
    /// all-to-all.
    pub bus_gbps: f64,
    /// nccl-tests' algbw and busbw, in GB/s (1e9 bytes per second).
    pub alg_gbyte_s: f64,
    pub bus_gbyte_s: f64,
}

/// One client of a `ServiceClients` workload: what it saw across a failover.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceClientResult {
    pub workload: String,
    pub client: String,
    pub requests_ok: u64,
    /// Longest time without a successful response (the outage it saw), in milliseconds; an
    /// outage still going on at the end counts up to the end.
    pub outage_ms: f64,
    /// Connections it dropped after a request timed out, and those reset by the new holder of
    /// the address.
    pub timeouts: u64,
    pub resets: u64,
    /// Connections it opened (1 + reconnections). None survives a failover: the server's state
    /// stays on the failed instance.
    pub connections: u64,
}

/// One point of an osu_latency-style sweep.
#[derive(Clone, Debug, Serialize)]
pub struct PingPongPoint {
    pub workload: String,
    /// "tcp", "efa" (two-sided), "efa-write" or "efa-read" (one-sided RDMA).
    pub transport: &'static str,
    pub size_bytes: u64,
    /// Messages in flight: 1 for osu_latency, W for osu_bw.
    pub window: u32,
    /// osu_latency: half the mean round trip; RDMA read: the mean read; osu_bw: the mean round
    /// trip of a window.
    pub latency_us: f64,
    /// Bytes moved per that time: one message (latency mode) or the window (bandwidth mode).
    pub gbps: f64,
}

/// A permutation workload, summarised (its flows are too many to list).
#[derive(Clone, Debug, Serialize)]
pub struct PermutationResult {
    pub flows: u64,
    pub completed: u64,
    /// All flows together.
    pub goodput_gbps: f64,
    /// Per flow: ECMP collisions show as a low minimum.
    pub flow_goodput_gbps_min: f64,
    pub flow_goodput_gbps_mean: f64,
    pub flow_goodput_gbps_max: f64,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc: Option<RpcResult>,
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
    pub connections: Vec<ConnectionsResult>,
    /// Each failover step and the delay drawn for it (seconds), with its bounds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failovers: Vec<FailoverResult>,
    /// Data-transfer cost of the run, from the embedded price table (Region and date inside).
    pub cost: crate::ec2::cost::CostResult,
    /// NAT gateways by name, with CloudWatch's metric names.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub nat_gateways: BTreeMap<String, NatGatewayResult>,
    /// `FlowLogs` workloads: per original 5-tuple group, what this variant made of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flowlogs: Vec<super::replay::FlowLogsResult>,
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
    /// link_crossings + stage_passes (kept for readers of schema 1: every port's packets out).
    pub packet_hops: u64,
    pub simulated_us: f64,
    #[serde(skip)]
    pub rpc_histogram: Option<Histogram<u64>>,
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
    /// Successful service-client responses per second, per workload and time bin.
    #[serde(skip)]
    pub success_series: Vec<(String, Vec<f64>)>,
}

fn merge(into: &mut Option<Histogram<u64>>, h: &Histogram<u64>) {
    match into {
        Some(acc) => acc.add(h).expect("histograms share bounds"),
        None => *into = Some(h.clone()),
    }
}

pub fn collect(m: Model) -> VariantResult {
    let stopped: SimTime = if m.all_finite && m.unfinished == 0 { m.q.now() } else { m.end };
    let flows: Vec<FlowResult> = m
        .flows
        .iter()
        .map(|f| {
            let (c, s) = (m.eps[f.client_ep as usize].transport.stats(), m.eps[f.server_ep as usize].transport.stats());
            let over = f.completed.unwrap_or(stopped).since(f.started);
            FlowResult {
                name: f.name.clone(),
                workload: f.workload.clone(),
                kind: f.kind,
                goodput_gbps: round3(gbps(f.delivered, over)),
                wire_gbps: round3(gbps(f.wire_rx, over)),
                bytes_delivered: f.delivered,
                retransmits: c.retransmits + s.retransmits,
                rtos: c.rtos + s.rtos,
                fast_retransmits: c.fast_retransmits + s.fast_retransmits,
                completed_us: f.completed.map(|t| round3(t.as_us_f64())),
                packets_sent: c.data_segments_sent,
                header_overhead: if c.data_wire_bytes_sent == 0 {
                    0.0
                } else {
                    ((1.0 - c.payload_bytes_sent as f64 / c.data_wire_bytes_sent as f64) * 1e4).round() / 1e4
                },
                mss: match &m.eps[f.client_ep as usize].transport {
                    crate::transport::Endpoint::Tcp(t) => Some(t.mss()),
                    _ => None,
                },
                aborted: matches!(&m.eps[f.client_ep as usize].transport, crate::transport::Endpoint::Tcp(t) if t.aborted()),
                abort_reason: match &m.eps[f.client_ep as usize].transport {
                    crate::transport::Endpoint::Tcp(t) => t.abort_reason().map(|r| r.describe()),
                    _ => None,
                },
            }
        })
        .collect();

    let throughput = Totals {
        goodput_gbps: round3(flows.iter().map(|f| f.goodput_gbps).sum()),
        wire_gbps: round3(flows.iter().map(|f| f.wire_gbps).sum()),
    };
    let (mut rpc_h, mut dgram_h) = (None, None);
    let mut dgram_min: Option<u64> = None;
    let (mut issued, mut completed, mut incomplete) = (0, 0, 0);
    let mut background = None;
    let mut permutation = None;
    let mut pingpong = Vec::new();
    let mut collectives = Vec::new();
    let mut service_clients = Vec::new();
    // Finite workloads that did not finish in the run: said, not silently left out.
    let mut unfinished: Vec<String> = Vec::new();
    let mut connections = Vec::new();
    let mut flowlogs = Vec::new();
    let mut success_series = Vec::new();
    for a in &m.apps {
        match a {
            App::ServiceClients(sc) => {
                for c in &sc.clients {
                    let ongoing = c.last_ok.map_or(stopped.since(SimTime::ZERO), |t| stopped.since(t));
                    let outage = if c.outstanding.is_some() { c.longest_gap.max(ongoing) } else { c.longest_gap };
                    service_clients.push(ServiceClientResult {
                        workload: sc.spec.name.clone(),
                        client: m.insts[c.instance as usize].name.clone(),
                        requests_ok: c.ok,
                        outage_ms: round3(outage.as_secs_f64() * 1e3),
                        timeouts: c.timeouts,
                        resets: c.resets,
                        connections: c.connections,
                    });
                }
                let bin_s = m.bin_ps as f64 / 1e12;
                success_series
                    .push((sc.spec.name.clone(), sc.ok_bins.iter().map(|&n| round3(n as f64 / bin_s)).collect()));
            }
            App::Rpc(r) => {
                let mut h = r.measured.clone();
                for issued_at in r.conns.iter().flat_map(|c| c.book.outstanding_since()) {
                    if issued_at >= r.warmup_end {
                        h.saturating_record(stopped.since(issued_at).ps().div_ceil(1000).max(1));
                        incomplete += 1;
                    }
                }
                merge(&mut rpc_h, &h);
                issued += r.issued;
                completed += r.completed;
            }
            App::Datagrams(d) => {
                merge(&mut dgram_h, &d.latency);
                if let Some(m) = d.min_latency {
                    dgram_min = Some(dgram_min.map_or(m.ps(), |x| x.min(m.ps())));
                }
            }
            App::Background(b) => {
                background = Some(BackgroundResult {
                    flows_started: b.started,
                    flows_completed: b.completed,
                    flows_skipped: b.skipped,
                    goodput_gbps: round3(gbps(b.bytes_completed, stopped.since(SimTime::ZERO))),
                    fct_us: Percentiles::from_ns(&b.fct),
                })
            }
            App::Bulk(_) => {}
            App::Connections(c) => connections.push(ConnectionsResult {
                workload: c.spec.name.clone(),
                opened: c.opened,
                established: c.established,
                not_established: c.opened - c.established,
            }),
            App::FlowLogs(f) => flowlogs.push(f.result(&m)),
            App::AllReduce(a) if !a.times.is_empty() => {
                // NCCL's bus bandwidth counts ranks (GPUs), not instances.
                let ranks = a.nccl.as_ref().map_or(a.members.len(), |r| r.ranks);
                let n = ranks as f64;
                let mean_ps = a.times.iter().map(|t| t.ps() as f64).sum::<f64>() / a.times.len() as f64;
                let secs = mean_ps / 1e12;
                let factor = if a.all_to_all { (n - 1.0) / n } else { 2.0 * (n - 1.0) / n };
                collectives.push(CollectiveResult {
                    workload: a.spec.name.clone(),
                    algorithm: if a.all_to_all {
                        "all-to-all"
                    } else if a.nccl.is_some() {
                        "nccl ring all-reduce"
                    } else {
                        "ring all-reduce"
                    },
                    transport: a.spec.transport.label(),
                    members: a.members.len() as u64,
                    ranks: ranks as u64,
                    channels: a.nccl.as_ref().map_or(a.cards, |r| r.channels) as u64,
                    cards: a.cards as u64,
                    bytes: a.spec.bytes.0,
                    time_us: round3(mean_ps / 1e6),
                    bus_gbps: round3(factor * a.spec.bytes.0 as f64 * 8.0 / secs / 1e9),
                    // nccl-tests' units: GB/s with GB = 1e9 bytes.
                    alg_gbyte_s: round3(a.spec.bytes.0 as f64 / secs / 1e9),
                    bus_gbyte_s: round3(factor * a.spec.bytes.0 as f64 / secs / 1e9),
                });
            }
            App::AllReduce(a) => unfinished.push(format!(
                "workload {:?}: no collective finished before the end of the run (lengthen `duration`)",
                a.spec.name
            )),
            App::PingPong(p) => {
                if p.results.len() < p.spec.sizes.len() {
                    unfinished.push(format!(
                        "workload {:?}: {} of {} message sizes finished before the end of the run; the rest are not \
                         reported (lengthen `duration` or use fewer iterations)",
                        p.spec.name,
                        p.results.len(),
                        p.spec.sizes.len()
                    ));
                }
                let transport = p.spec.transport.label();
                for &(size, t) in &p.results {
                    pingpong.push(PingPongPoint {
                        workload: p.spec.name.clone(),
                        transport,
                        size_bytes: size,
                        window: p.spec.window,
                        latency_us: round3(t.as_us_f64()),
                        gbps: round3(gbps(size * p.spec.window as u64, t)),
                    });
                }
            }
            App::Permutation(p) => {
                let over = stopped.since(SimTime::ZERO);
                let rates: Vec<f64> = p
                    .flows
                    .iter()
                    .map(|f| gbps(f.delivered, f.completed.unwrap_or(stopped).since(SimTime::ZERO)))
                    .collect();
                let n = rates.len().max(1) as f64;
                permutation = Some(PermutationResult {
                    flows: p.flows.len() as u64,
                    completed: p.flows.iter().filter(|f| f.completed.is_some()).count() as u64,
                    goodput_gbps: round3(gbps(p.flows.iter().map(|f| f.delivered).sum(), over)),
                    flow_goodput_gbps_min: round3(rates.iter().copied().fold(f64::MAX, f64::min).min(f64::MAX)),
                    flow_goodput_gbps_mean: round3(rates.iter().sum::<f64>() / n),
                    flow_goodput_gbps_max: round3(rates.iter().copied().fold(0.0, f64::max)),
                });
            }
        }
    }
    let rpc = rpc_h.as_ref().map(|h| RpcResult {
        count: h.len(),
        issued,
        completed,
        incomplete,
        latency_us: Percentiles::from_ns(h),
    });
    let datagrams = dgram_h.as_ref().map(|h| LatencyResult {
        count: h.len(),
        latency_us: Percentiles::from_ns(h),
        min_ps: dgram_min,
    });

    let drops = DropReason::ALL
        .iter()
        .filter(|r| m.acct.dropped[r.index()] > 0)
        .map(|r| (r.name(), m.acct.dropped[r.index()]))
        .collect();
    let in_flight = m.in_flight_counted();
    let mut counters = BTreeMap::new();
    let mut warnings = unfinished;
    // Entries still tracked at the end: those idle past their timeout are gone by then.
    let end = m.end.max(m.now());
    let mut tracked_at_end = vec![0u32; m.insts.len()];
    for slot in m.eps.iter().filter(|s| s.live && s.conntrack != super::NONE) {
        let k = slot.conntrack as usize;
        let timeout = m.insts[k].conntrack_timeouts.of(slot.tuple.protocol, slot.conntrack_turns);
        tracked_at_end[k] += (end.since(slot.conntrack_seen) <= timeout) as u32;
    }
    for (k, i) in m.insts.iter().enumerate() {
        let mut c = i.counters;
        debug_assert!(tracked_at_end[k] <= i.conntrack_tracked);
        if let Some(max) = i.conntrack_allowance {
            c.conntrack_allowance_available = Some(max.saturating_sub(tracked_at_end[k]) as u64);
            let t = &i.conntrack_timeouts;
            c.conntrack_timeouts_s = Some(super::ConntrackTimeoutsS {
                tcp_established: t.tcp_established.as_secs_f64().round() as u64,
                udp: t.udp.as_secs_f64().round() as u64,
                udp_stream: t.udp_stream.as_secs_f64().round() as u64,
            });
            c.conntrack_allowance_available_min = Some(c.conntrack_allowance_available_min.unwrap_or(max as u64));
        }
        c.tx_pkts = m.ports[i.egress as usize].stats.packets_out;
        c.rx_pkts = m.ports[i.ingress as usize].stats.packets_out;
        c.ena_srd_resource_utilization = c.nitrosim_srd_connections * 100 / (m.srd_connections_per_card as u64).max(1);
        // AWS's advice: compare eligible with SRD packets to spot a silent fallback.
        if c.ena_srd_eligible_tx_pkts > 0 && c.ena_srd_tx_pkts * 10 < c.ena_srd_eligible_tx_pkts * 9 {
            warnings.push(format!(
                "{}: only {} of {} ENA Express-eligible packets went over SRD; the rest fell back to plain ENA \
                 silently (packets over {} B, e.g. an MTU of 9001, or UDP without ena_srd_udp_enabled)",
                i.name,
                c.ena_srd_tx_pkts,
                c.ena_srd_eligible_tx_pkts,
                crate::ec2::ena_express::MAX_PACKET_BYTES
            ));
        }
        counters.insert(i.name.clone(), c);
    }
    let srd = (!m.srd_ctxs.is_empty()).then(|| {
        let mut r = SrdResult { window_min_bytes: u64::MAX, ..SrdResult::default() };
        for x in &m.srd_ctxs {
            let (s, rs) = (x.sender.stats(), x.receiver.stats());
            r.connections += 1;
            r.packets += s.packets;
            r.retransmits += s.retransmits;
            r.timeouts += s.timeouts;
            r.ecn_marks += s.ecn_marks;
            r.gave_up += s.gave_up;
            r.send_queue_drops += s.send_queue_drops;
            r.reorder_capacity_packets = x.receiver.capacity() as u64;
            r.reorder_max_occupancy = r.reorder_max_occupancy.max(rs.max_occupancy as u64);
            r.reorder_refused += rs.refused;
            r.receiver_skipped += rs.skipped;
            r.duplicates += rs.duplicates;
            r.window_min_bytes = r.window_min_bytes.min(s.min_window_bytes);
            r.window_max_bytes = r.window_max_bytes.max(s.max_window_bytes);
            let spines: std::collections::BTreeSet<u32> =
                x.sender.path_sent().zip(&x.path_spine).filter(|(n, _)| *n > 0).map(|(_, &sp)| sp).collect();
            r.spines_used = r.spines_used.max(spines.len() as u64);
        }
        r
    });
    let elapsed_ps = stopped.ps().max(1) as f64;
    let uplinks = m.fabric.tor_up.iter().chain(m.fabric.spine_down.iter());
    let max_util = uplinks.map(|&p| m.ports[p as usize].stats.busy_ps as f64 / elapsed_ps).fold(0.0, f64::max);
    let fabric_ports =
        m.fabric.host_up.iter().chain(&m.fabric.host_down).chain(&m.fabric.tor_up).chain(&m.fabric.spine_down);
    let (mut max_q, mut marks) = (0, 0);
    for &p in fabric_ports {
        let s = &m.ports[p as usize].stats;
        max_q = max_q.max(s.max_queued_bytes);
        marks += s.ecn_marks;
    }
    let cfg = &m.fabric.config;
    let bin_us = m.bin_ps as f64 / 1e6;
    let series = m
        .flows
        .iter()
        .map(|f| {
            (f.name.clone(), f.bins.iter().map(|&b| round3(b as f64 * 8.0 / (m.bin_ps as f64 / 1e12) / 1e9)).collect())
        })
        .collect();
    let fairness = Fairness::of(&flows.iter().map(|f| f.goodput_gbps).collect::<Vec<_>>());
    VariantResult {
        name: m.name.clone(),
        flows,
        fairness,
        rpc,
        datagrams,
        background,
        permutation,
        pingpong,
        collectives,
        drops,
        srd,
        warnings,
        packets: PacketTotals {
            sent: m.acct.sent,
            delivered: m.acct.delivered,
            dropped: m.acct.dropped_total(),
            in_flight,
            fragmented: m.acct.fragmented,
        },
        counters,
        fabric: FabricResult {
            spine_link_gbps: round3(cfg.spine_link.as_gbps_f64()),
            oversubscription: round3(cfg.oversubscription()),
            max_uplink_utilisation: round3(max_util),
            max_queue_bytes: max_q,
            ecn_marks: marks,
        },
        throughput,
        memory: MemoryResult {
            peak_packets: m.pool.capacity_used() as u64,
            endpoint_slots: m.eps.len() as u64,
            ports: m.ports.len() as u64,
        },
        events_processed: m.q.events_processed(),
        link_crossings: m.ports.iter().filter(|p| p.framing_bytes() > 0).map(|p| p.stats.packets_out).sum(),
        stage_passes: m.ports.iter().filter(|p| p.framing_bytes() == 0).map(|p| p.stats.packets_out).sum(),
        packet_hops: m.ports.iter().map(|p| p.stats.packets_out).sum(),
        simulated_us: round3(stopped.as_us_f64()),
        rpc_histogram: rpc_h,
        series,
        bin_us,
        ip: m.ip_counters,
        filter_drops: m
            .filters
            .iter()
            .zip(&m.filter_drops)
            .filter(|(_, n)| **n > 0)
            .map(|(f, &n)| (f.0.clone(), n))
            .collect(),
        event_log: (!m.log.entries.is_empty() || m.log.omitted > 0)
            .then_some(EventLogSummary { entries: m.log.entries.len() as u64, omitted: m.log.omitted }),
        events: m.log.entries,
        capture: m.capture.as_ref().map(|points| EventLogSummary {
            entries: points.iter().map(|p| p.records.len() as u64).sum(),
            omitted: points.iter().map(|p| p.omitted).sum(),
        }),
        captures: m.capture.unwrap_or_default(),
        capture_drops: m.capture_drops,
        service_clients,
        flowlogs,
        success_series,
        connections,
        cost: {
            let bytes = |p: crate::net::PortId| m.ports[p as usize].stats.bytes_out;
            let nats = m.gateways.iter().filter_map(|g| g.nat.as_ref());
            let traffic = crate::ec2::cost::Traffic {
                inter_az_bytes: m.inter_az.values().map(|&p| bytes(p)).sum(),
                nat_processed_bytes: nats
                    .clone()
                    .map(|n| n.metrics.bytes_in_from_source + n.metrics.bytes_in_from_destination)
                    .sum(),
                nat_gateways: nats.clone().count() as u64,
                internet_egress_bytes: m.insts.iter().map(|i| bytes(i.outside)).sum::<u64>()
                    + nats.map(|n| n.metrics.bytes_out_to_destination).sum::<u64>(),
                seconds: stopped.since(SimTime::ZERO).as_secs_f64(),
            };
            crate::ec2::cost::PriceTable::us_east_1().cost(&traffic)
        },
        failovers: m
            .services
            .iter()
            .flat_map(|s| {
                s.delays.iter().map(|d| FailoverResult {
                    service: s.name.clone(),
                    mechanism: d.mechanism,
                    started_s: round3(d.started.since(SimTime::ZERO).as_secs_f64()),
                    delay_s: round3(d.delay.as_secs_f64()),
                    bounds_s: d.bounds.map(|b| [round3(b.min.as_secs_f64()), round3(b.max.as_secs_f64())]),
                })
            })
            .collect(),
        nat_gateways: m
            .gateways
            .iter()
            .filter_map(|g| {
                let nat = g.nat.as_ref()?;
                let port_drops: u64 = nat
                    .to_destination
                    .iter()
                    .chain(&nat.to_source)
                    .filter(|&&p| p != crate::model::NONE)
                    .map(|&p| m.ports[p as usize].stats.drops)
                    .sum();
                let mut metrics = nat.metrics;
                metrics.packets_drop_count = nat.own_drops + port_drops;
                // Translations idle past the timeout by the end have timed out, packet or not.
                metrics.idle_timeout_count += nat.idle_at(stopped) as u64;
                let (bw, pps) = crate::ec2::nat::capacity(nat.scaler.step);
                Some((
                    g.name.clone(),
                    NatGatewayResult {
                        metrics,
                        capacity_gbps: round3(bw.as_gbps_f64()),
                        capacity_pps: pps,
                        scaled_at_s: nat
                            .steps
                            .iter()
                            .map(|(t, _)| round3(t.since(SimTime::ZERO).as_secs_f64()))
                            .collect(),
                    },
                ))
            })
            .collect(),
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

/// A `Connections` workload: how many of its connections completed their handshake.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionsResult {
    pub workload: String,
    pub opened: u64,
    pub established: u64,
    pub not_established: u64,
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
