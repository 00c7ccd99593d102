//! Workloads: what traffic the scenario runs (bulk, RPC, datagrams, background, permutation,
//! ping-pong, collectives, link-local queries, service clients, connections, flow-log replay).

use super::*;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkloadSpec {
    /// Long-lived TCP transfer(s) from one instance to another.
    Bulk(BulkSpec),
    /// Request/response over persistent TCP connections, measuring each RPC's completion time.
    Rpc(RpcSpec),
    /// Poisson UDP datagrams, measuring one-way latency.
    Datagrams(DatagramSpec),
    /// Cross traffic between the fabric hosts that carry no instance.
    Background(BackgroundSpec),
    /// Every member of a fleet sends long TCP flows to distinct other members (a permutation
    /// traffic matrix, as datacenter simulators benchmark with).
    Permutation(PermutationSpec),
    /// osu_latency-style ping-pong over a message-size sweep, over host TCP or EFA.
    PingPong(PingPongSpec),
    /// Ring all-reduce over a fleet (gradient synchronisation), over host TCP or EFA.
    AllReduce(AllReduceSpec),
    /// All-to-all over a fleet (each member sends a distinct slice to every other one).
    AllToAll(AllReduceSpec),
    /// Poisson queries from an instance to a link-local service (DNS resolver, metadata, NTP).
    LinkLocal(LinkLocalSpec),
    /// Clients sending requests to a service address on persistent connections, reconnecting
    /// when one breaks: the outage each client sees across a failover.
    ServiceClients(ServiceClientsSpec),
    /// Many TCP connections opened at an even pace and then held open idle: what a NAT
    /// gateway's or a connection-tracking table's limits are about, at three packets each.
    Connections(ConnectionsSpec),
    /// Traffic replayed from VPC Flow Logs: one TCP connection per original 5-tuple, one
    /// request/response exchange per aggregation window (see `workload::flowlogs`).
    FlowLogs(FlowLogsSpec),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Connections", deny_unknown_fields)]
pub struct ConnectionsSpec {
    pub name: String,
    /// The client instances: a fleet name, or one instance.
    pub from: String,
    /// The server instance every connection goes to (one destination address and port).
    pub to: String,
    /// Connections each client opens (at most its ephemeral port range, 28 232).
    pub count: u32,
    /// All clients' connections are opened evenly over this time from the start.
    #[serde(default = "connections_over")]
    pub over: SimDuration,
    #[serde(default = "service_port")]
    pub port: u16,
    /// The ENI (by name) each client sends through; left out, its primary ENI.
    #[serde(default)]
    pub from_eni: Option<String>,
    /// The server's ENI the connections reach; left out, its primary ENI.
    #[serde(default)]
    pub to_eni: Option<String>,
}

fn connections_over() -> SimDuration {
    SimDuration::from_secs(1)
}

/// `FlowLogs((name: "traffic", file: "flows.log", interfaces: {"eni-0a1b": "web-0", "10.0.1.4": "web-0"}))`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "FlowLogs", deny_unknown_fields)]
pub struct FlowLogsSpec {
    pub name: String,
    /// Flow log records, plain or gzip; relative to the scenario file's folder (else to the
    /// working directory).
    pub file: String,
    /// Interface ids (`eni-...`) and private IPv4 addresses of the original VPC -> instance names.
    #[serde(default)]
    pub interfaces: BTreeMap<String, String>,
    /// The instance standing for every address outside `vpc_cidr` (reached through the
    /// IGW/NAT path the scenario routes); left out, such records are counted and skipped.
    #[serde(default)]
    pub internet: Option<String>,
    /// Divide the log's time offsets by this (60 = an hour replays in a minute).
    #[serde(default = "one_f64")]
    pub speedup: f64,
    /// Multiply every exchange's bytes by this.
    #[serde(default = "one_f64")]
    pub scale: f64,
    /// Records whose `start` falls in the same window of this many seconds are one exchange
    /// (the flow log's aggregation interval: 60 or 600).
    #[serde(default = "sixty")]
    pub window_s: u64,
    /// Limits on what the replay keeps in memory while streaming the file.
    #[serde(default = "flowlog_groups")]
    pub max_groups: u32,
    #[serde(default = "flowlog_exchanges")]
    pub max_exchanges: u32,
}

fn one_f64() -> f64 {
    1.0
}

fn sixty() -> u64 {
    60
}

fn flowlog_groups() -> u32 {
    10_000
}

fn flowlog_exchanges() -> u32 {
    200_000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "ServiceClients", deny_unknown_fields)]
pub struct ServiceClientsSpec {
    pub name: String,
    /// The client instances: a fleet name, or one instance.
    pub clients: String,
    pub service: String,
    /// Pause after each response before the next request.
    pub interval: SimDuration,
    /// A request unanswered this long: the client drops the connection and reconnects.
    pub timeout: SimDuration,
    #[serde(default = "small_message")]
    pub request: Bytes,
    #[serde(default = "small_message")]
    pub response: Bytes,
    #[serde(default = "service_port")]
    pub port: u16,
    /// How long a client waits after a failed attempt (a timeout or a reset) before it
    /// reconnects: `FullJitter(base: "100ms", cap: "20s")` by default, as the AWS SDKs retry
    /// (see `ReconnectBackoffSpec`); `Immediate` reconnects at once.
    #[serde(default)]
    pub backoff: ReconnectBackoffSpec,
}

/// A client's wait before reconnecting after its n-th failed attempt in a row.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum ReconnectBackoffSpec {
    /// Reconnect at once (every client then retries on the same grid: its timeout).
    Immediate,
    /// "Full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): wait
    /// uniformly in [0, min(cap, base x 2^n)]. The AWS SDKs' standard retry mode backs off this
    /// way; the SDK for JavaScript v3 uses base 100 ms and cap 20 s (`DEFAULT_RETRY_DELAY_BASE`,
    /// `MAXIMUM_RETRY_DELAY`), the defaults here.
    FullJitter { base: SimDuration, cap: SimDuration },
}

impl Default for ReconnectBackoffSpec {
    fn default() -> Self {
        ReconnectBackoffSpec::FullJitter { base: SimDuration::from_ms(100), cap: SimDuration::from_secs(20) }
    }
}

fn small_message() -> Bytes {
    Bytes(200)
}

fn service_port() -> u16 {
    443
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "LinkLocal", deny_unknown_fields)]
pub struct LinkLocalSpec {
    pub name: String,
    pub from: String,
    pub service: crate::ec2::adapter::LinkLocalService,
    pub mean_interval: SimDuration,
    #[serde(default = "query_size")]
    pub size: Bytes,
    #[serde(default)]
    pub count: Option<u64>,
    /// The ENI whose link-local allowance the queries cross; left out, the primary ENI.
    #[serde(default)]
    pub eni: Option<String>,
}

fn query_size() -> Bytes {
    Bytes(64)
}

/// One end of a workload's connections: the instance (or fleet) and the ENI it chose, with the
/// field names that chose them (for messages).
#[derive(Clone, Copy, Debug)]
pub struct EniChoice<'a> {
    pub instance: &'a str,
    pub instance_field: &'static str,
    pub eni: Option<&'a str>,
    pub eni_field: &'static str,
}

impl WorkloadSpec {
    /// The ENIs a workload's connections use at their client and server ends, for the kinds
    /// that let the scenario choose (`None`: every connection uses primary ENIs).
    pub fn eni_choice(&self) -> Option<[Option<EniChoice<'_>>; 2]> {
        fn end<'a>(
            instance: &'a str,
            instance_field: &'static str,
            eni: &'a Option<String>,
            eni_field: &'static str,
        ) -> Option<EniChoice<'a>> {
            Some(EniChoice { instance, instance_field, eni: eni.as_deref(), eni_field })
        }
        match self {
            WorkloadSpec::Bulk(w) => {
                Some([end(&w.from, "from", &w.from_eni, "from_eni"), end(&w.to, "to", &w.to_eni, "to_eni")])
            }
            WorkloadSpec::Datagrams(w) => {
                Some([end(&w.from, "from", &w.from_eni, "from_eni"), end(&w.to, "to", &w.to_eni, "to_eni")])
            }
            WorkloadSpec::Connections(w) => {
                Some([end(&w.from, "from", &w.from_eni, "from_eni"), end(&w.to, "to", &w.to_eni, "to_eni")])
            }
            WorkloadSpec::Rpc(w) => Some([
                end(&w.client, "client", &w.client_eni, "client_eni"),
                end(&w.server, "server", &w.server_eni, "server_eni"),
            ]),
            WorkloadSpec::LinkLocal(w) => Some([end(&w.from, "from", &w.eni, "eni"), None]),
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            WorkloadSpec::Bulk(w) => &w.name,
            WorkloadSpec::Rpc(w) => &w.name,
            WorkloadSpec::Datagrams(w) => &w.name,
            WorkloadSpec::LinkLocal(w) => &w.name,
            WorkloadSpec::ServiceClients(w) => &w.name,
            WorkloadSpec::Connections(w) => &w.name,
            WorkloadSpec::FlowLogs(w) => &w.name,
            WorkloadSpec::Background(w) => &w.name,
            WorkloadSpec::Permutation(w) => &w.name,
            WorkloadSpec::PingPong(w) => &w.name,
            WorkloadSpec::AllReduce(w) | WorkloadSpec::AllToAll(w) => &w.name,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Bulk", deny_unknown_fields)]
pub struct BulkSpec {
    pub name: String,
    pub from: String,
    pub to: String,
    #[serde(default = "one")]
    pub flows: u32,
    /// Bytes per flow; absent = send until the end of the run.
    #[serde(default)]
    pub bytes: Option<Bytes>,
    #[serde(default)]
    pub start: SimDuration,
    /// Stop writing this long after `start`; the flow completes when what was written arrives.
    #[serde(default)]
    pub duration: Option<SimDuration>,
    #[serde(default = "bulk_port")]
    pub port: u16,
    /// The sender's ENI (by name) the flows leave through; left out, its primary ENI.
    #[serde(default)]
    pub from_eni: Option<String>,
    /// The receiver's ENI the flows arrive on; left out, its primary ENI.
    #[serde(default)]
    pub to_eni: Option<String>,
}

fn bulk_port() -> u16 {
    5201 // iperf3
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Rpc", deny_unknown_fields)]
pub struct RpcSpec {
    pub name: String,
    pub client: String,
    pub server: String,
    #[serde(default = "one")]
    pub connections: u32,
    pub arrival: Arrival,
    pub request: SizeDist,
    pub response: SizeDist,
    /// RPCs issued before this time are not measured (connection set-up, slow start).
    #[serde(default)]
    pub warmup: SimDuration,
    /// Stop issuing after this many RPCs.
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default = "rpc_port")]
    pub port: u16,
    /// The client's ENI (by name); left out, its primary ENI.
    #[serde(default)]
    pub client_eni: Option<String>,
    /// The server's ENI; left out, its primary ENI.
    #[serde(default)]
    pub server_eni: Option<String>,
}

fn rpc_port() -> u16 {
    8080
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Arrival {
    /// Open loop: exponential inter-arrival times with this mean, across all connections.
    Poisson { mean_interval: SimDuration },
    /// Closed loop: this many RPCs outstanding per connection at all times.
    ClosedLoop { outstanding: u32 },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum SizeDist {
    Fixed(Bytes),
    Uniform {
        min: Bytes,
        max: Bytes,
    },
    Exponential {
        mean: Bytes,
    },
    /// Web-search flow sizes of the DCTCP paper (Alizadeh et al., SIGCOMM 2010), heavy-tailed,
    /// mean about 1.6 MB.
    WebSearch,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Datagrams", deny_unknown_fields)]
pub struct DatagramSpec {
    pub name: String,
    pub from: String,
    pub to: String,
    pub size: Bytes,
    pub mean_interval: SimDuration,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default = "dgram_port")]
    pub port: u16,
    /// Set DF on every datagram (`IP_PMTUDISC_DO`): too big for a hop = dropped, not fragmented.
    /// Left clear, a datagram larger than the MTU is fragmented by the sender or a hop.
    #[serde(default)]
    pub dont_fragment: bool,
    /// The sender's ENI (by name); left out, its primary ENI.
    #[serde(default)]
    pub from_eni: Option<String>,
    /// The receiver's ENI; left out, its primary ENI.
    #[serde(default)]
    pub to_eni: Option<String>,
}

fn dgram_port() -> u16 {
    9000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Background", deny_unknown_fields)]
pub struct BackgroundSpec {
    pub name: String,
    /// Offered load as a fraction of the background hosts' link capacity (0 < load < 1).
    pub load: f64,
    #[serde(default = "websearch")]
    pub sizes: SizeDist,
    /// Flows at once; arrivals beyond this are counted and skipped (a limit, not a silent cap).
    #[serde(default = "bg_max")]
    pub max_concurrent: u32,
}

fn websearch() -> SizeDist {
    SizeDist::WebSearch
}

fn bg_max() -> u32 {
    10_000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Permutation", deny_unknown_fields)]
pub struct PermutationSpec {
    pub name: String,
    /// The fleet: the instance named so, or those named NAME-0, NAME-1 ... (`count`).
    pub instances: String,
    /// Flows each member sends, to as many distinct members.
    #[serde(default = "one")]
    pub flows_per_instance: u32,
    /// Bytes per flow; absent = send until the end of the run.
    #[serde(default)]
    pub bytes: Option<Bytes>,
    #[serde(default = "bulk_port")]
    pub port: u16,
}

/// How a ping-pong moves its messages.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum MessageTransport {
    /// Sockets over the kernel's TCP (over ENA, or ENA Express when it engages).
    #[default]
    Tcp,
    /// libfabric RDM over EFA: OS bypass, SRD in the card, unordered reliable datagrams;
    /// two-sided (the receiver posts a buffer and takes a completion).
    Efa,
    /// One-sided RDMA write over EFA: the data lands in the target's registered memory; the
    /// target's CPU only notices by polling that memory (no completion, no bounce-buffer copy).
    EfaRdmaWrite,
    /// One-sided RDMA read over EFA: a request goes to the target, whose card returns the data
    /// without involving the target's CPU; the initiator's latency is the whole operation.
    EfaRdmaRead,
}

/// The run-time transport a message workload uses (workload's own type: the world does not read
/// the schema).
impl From<MessageTransport> for crate::workload::config::MessageTransport {
    fn from(t: MessageTransport) -> Self {
        use crate::workload::config::MessageTransport as Run;
        match t {
            MessageTransport::Tcp => Run::Tcp,
            MessageTransport::Efa => Run::Efa,
            MessageTransport::EfaRdmaWrite => Run::EfaRdmaWrite,
            MessageTransport::EfaRdmaRead => Run::EfaRdmaRead,
        }
    }
}

impl MessageTransport {
    /// OS bypass (no system call, no copy, no wake-up) rather than the kernel socket path.
    pub fn bypasses_kernel(self) -> bool {
        crate::workload::config::MessageTransport::from(self).bypasses_kernel()
    }
    /// The RDMA capability both instance types need (EFA user guide: read on Nitro v4+, write on most).
    pub fn rdma_needed(self) -> crate::ec2::EfaRdma {
        match self {
            MessageTransport::EfaRdmaWrite => crate::ec2::EfaRdma::ReadWrite,
            MessageTransport::EfaRdmaRead => crate::ec2::EfaRdma::Read,
            MessageTransport::Tcp | MessageTransport::Efa => crate::ec2::EfaRdma::None,
        }
    }
    /// The name reports use.
    pub fn label(self) -> &'static str {
        crate::workload::config::MessageTransport::from(self).label()
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "PingPong", deny_unknown_fields)]
pub struct PingPongSpec {
    pub name: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub transport: MessageTransport,
    /// Message sizes, each measured in turn (osu_latency sweeps 1 B to 4 MiB).
    pub sizes: Vec<Bytes>,
    /// Round trips measured per size, after `warmup` unmeasured ones.
    #[serde(default = "hundred")]
    pub iterations: u32,
    /// 1: osu_latency (the reply is the same message back). W > 1: osu_bw: W messages back to
    /// back, then a 4-byte reply; the result is the bandwidth of the window.
    #[serde(default = "one")]
    pub window: u32,
    #[serde(default = "ten")]
    pub warmup: u32,
    #[serde(default = "pingpong_port")]
    pub port: u16,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "AllReduce", deny_unknown_fields)]
pub struct AllReduceSpec {
    pub name: String,
    /// The fleet: the instances named so, or NAME-0, NAME-1 ... (the ring follows that order).
    pub instances: String,
    /// Bytes reduced per collective (the gradient buffer).
    pub bytes: Bytes,
    #[serde(default)]
    pub transport: MessageTransport,
    /// Collectives measured, after `warmup` unmeasured ones.
    #[serde(default = "five")]
    pub iterations: u32,
    #[serde(default = "one")]
    pub warmup: u32,
    #[serde(default = "allreduce_port")]
    pub port: u16,
    /// Ranks (GPUs) per instance, as NCCL sees the node. 1 (the default) is one rank per instance
    /// with every ring step a barrier; more runs NCCL's ring: ranks within an instance joined by
    /// NVLink, one ring per channel, each rank forwarding a step as soon as it has the data.
    #[serde(default = "one")]
    pub gpus_per_node: u32,
    /// NCCL channels (rings run side by side, each on its own network card); default: one per card.
    #[serde(default)]
    pub channels: Option<u32>,
    /// One GPU's NVLink bandwidth in each direction, shared by the channels through it. Default
    /// 450 GB/s: H100 SXM's NVLink 4 is 900 GB/s total, both directions (NVIDIA H100 datasheet).
    #[serde(default = "nvlink_default")]
    pub nvlink: Bandwidth,
    /// NCCL's cost of one step over NVLink with its Simple protocol (a ring step; a tree chunk).
    /// Default from NCCL's own tuning model (src/graph/tuning.cc): 3.4 us for the ring
    /// (`hwLat[NVLINK][RING][SIMPLE]`), 4.0 us for the tree (`hwLat[NVLINK][TREE][SIMPLE]`).
    #[serde(default)]
    pub nvlink_step: Option<SimDuration>,
    /// NCCL's algorithm: `Auto` (default: NCCL's own cost model picks Ring or Tree for the
    /// size, as it does with no `NCCL_ALGO` set; `workload::nccl_tune`), or `Ring` / `Tree`
    /// forced (`NCCL_ALGO=Ring`, `NCCL_ALGO=Tree`: a double binary tree over the nodes, a chain of
    /// GPUs in each).
    #[serde(default)]
    pub algorithm: NcclAlgorithm,
}

/// NCCL's all-reduce algorithm: chosen by its cost model, or forced as `NCCL_ALGO` does.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum NcclAlgorithm {
    #[default]
    Auto,
    Ring,
    Tree,
}

/// H100 SXM5 NVLink 4: 900 GB/s total (NVIDIA H100 Tensor Core GPU datasheet) = 450 GB/s each way.
fn nvlink_default() -> Bandwidth {
    Bandwidth::gbps(3600)
}

impl AllReduceSpec {
    /// NCCL's cost of a Simple step over NVLink for the algorithm that runs (once `Auto` is
    /// resolved), unless the scenario sets its own (`workload::nccl_tune::nvlink_simple_step`).
    pub fn nvlink_step_or_default(&self, algorithm: crate::workload::config::NcclAlgorithm) -> SimDuration {
        self.nvlink_step.unwrap_or_else(|| crate::workload::nccl_tune::nvlink_simple_step(algorithm))
    }
}

fn five() -> u32 {
    5
}

fn allreduce_port() -> u16 {
    7100
}

fn hundred() -> u32 {
    100
}

fn pingpong_port() -> u16 {
    7000
}
