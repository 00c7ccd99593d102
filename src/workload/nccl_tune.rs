//! How NCCL picks its all-reduce algorithm: a port of its cost model.
//!
//! nccl-tests does not choose the algorithm; NCCL does, for every collective, from a cost model
//! it fills once per communicator (`ncclTopoTuneModel`, src/graph/tuning.cc:243): for each
//! (algorithm, protocol) a latency in microseconds and an algorithm bandwidth in GB/s, both from
//! its topology graphs (channels, bandwidth per channel) and a table of constants. Per call,
//! `ncclTopoGetAlgoTime` (tuning.cc:630) estimates `time = lat x latCount + bytes / (1000 x bw)`
//! and `topoGetAlgoInfo` (src/enqueue.cc:2028) runs the fastest enabled one. `algorithm: Auto` runs what
//! this model picks.
//!
//! Every constant cites NCCL at commit 5067397c2676d5aed50042fc39e5c8ee96eb0027 (2026-06-11,
//! "Merge nccl4py v0.3.1 release to master"), file and line.
//!
//! What is restricted. nitrosim models NCCL's ring and its double binary tree with the Simple
//! protocol, so the choice is made as if `NCCL_ALGO=Ring,Tree NCCL_PROTO=Simple` were set. NCCL
//! would also weigh the LL and LL128 protocols (this module computes them for Ring and Tree, and
//! the results report what NCCL would pick with them: `with_ll_protocols`), NVLS_TREE (NVLink
//! SHARP inside the node, a tree between nodes: needs the NVLS graph, not ported), CollNet (needs
//! an in-network reduction the EFA fabric does not offer; off unless enabled) and PAT (never for
//! all-reduce, tuning.cc:298). NVLS without the tree is disabled between nodes without CollNet
//! (tuning.cc:505).
//!
//! What is simplified. NCCL searches its graphs over the node's real PCI and NVLink topology
//! (`ncclTopoCompute`, src/graph/search.cc). Here the search is reduced to its outcome for a node
//! whose GPUs each have a PCIe switch with their own network devices and reach one another through
//! NVSwitch (the HGX H100/H200 boards of p5, p5e, p5en): the first speed of NCCL's list that the
//! GPU-to-network path carries, one channel per network device per multiple of that speed the
//! device carries, and no more channels than the search needs to fill the GPU's NVLink
//! ([`NcclGraph::search`]). The tree graph is taken to find the ring's channels at the ring's
//! speed with NCCL's balanced-tree pattern (the search tries it first, and NVLink leaves it room),
//! so the 0.85 penalty for the plain tree pattern does not apply. The network latency is what
//! aws-ofi-nccl reports to NCCL on these instances (below). If aws-ofi-nccl's own tuner plugin is
//! loaded (it ships region tables for p5 from v1.10.0-aws, July 2024), it overrides this model:
//! see README, "Collectives: NCCL all-reduce on p5".

/// NCCL's algorithms, the ones nitrosim runs, in NCCL's own index order, which breaks ties:
/// `topoGetAlgoInfo` keeps the first strictly faster one (enqueue.cc:2035-2043).
pub use super::config::NcclAlgorithm as Algo;

/// NCCL's protocols in its index order (nccl_tuner.h:38-40: `NCCL_PROTO_LL` 0,
/// `NCCL_PROTO_LL128` 1, `NCCL_PROTO_SIMPLE` 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Ll = 0,
    Ll128 = 1,
    Simple = 2,
}

impl Algo {
    pub fn label(self) -> &'static str {
        match self {
            Algo::Tree => "Tree",
            Algo::Ring => "Ring",
        }
    }
}

impl Proto {
    pub fn label(self) -> &'static str {
        match self {
            Proto::Ll => "LL",
            Proto::Ll128 => "LL128",
            Proto::Simple => "Simple",
        }
    }
}

const ALGOS: [Algo; 2] = [Algo::Tree, Algo::Ring];
const PROTOS: [Proto; 3] = [Proto::Ll, Proto::Ll128, Proto::Simple];

/// The host CPU's vendor, as NCCL reads it (`comm->cpuVendor`): it sets the network post
/// overhead and the LL bandwidth cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuVendor {
    Intel,
    Amd,
}

/// What NCCL's topology detection finds in a GPU node that the instance catalog does not say.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NcclNodeFacts {
    /// CUDA compute capability x 10 (H100 and H200: 9.0 -> 90).
    pub compute_capability: u32,
    pub cpu_vendor: CpuVendor,
    /// NVLink links from each GPU to the NVSwitches (H100/H200 SXM: 18).
    pub nvlinks: u32,
    /// The GPU's PCIe link in NCCL's GB/s: `width x speed / 80` with speed in 100 Mbps per lane
    /// (src/graph/topo.cc:657; "32.0 GT/s PCIe" is 240, topo.cc:554): Gen5 x16 = 48.
    pub gpu_pcie_gbyte_s: f64,
    /// The inter-node latency aws-ofi-nccl reports to NCCL (`props->latency`, which NCCL's
    /// search copies into `graph->latencyInter`, search.cc:745).
    pub net_latency_us: f64,
}

/// NCCL's view of the GPU nodes nitrosim knows. Sources: AWS EC2 P5 instance page (p5 and p5e:
/// 3rd Gen AMD EPYC 7R13; p5en: 4th Gen Intel Xeon, Sapphire Rapids; 8 x H100 or H200 SXM; not
/// re-read for this table, p5en's CPU checked in dstack PR #4110, 2026-08-06). The choice on
/// 8 x p5 does not hinge on the CPU: an Intel host moves the ring/tree crossover from ~1.6 to
/// ~1.4 GiB;
/// NVIDIA H100/H200 datasheets (SXM: NVLink 4, 18 links; PCIe Gen5 x16); compute capability 9.0
/// (CUDA programming guide); aws-ofi-nccl src/platform-aws.cpp at 2daf7d30 (2026-08-21):
/// `.latency = 75.0` for "p5/p5e", `35.0` for "p5en/p6-b200" ("Empirical testing on P5 had
/// shown that NCCL's internal tuner choices work better with this value").
pub fn node_facts(instance_type: &str) -> Option<NcclNodeFacts> {
    let hopper = |cpu_vendor, net_latency_us| NcclNodeFacts {
        compute_capability: 90,
        cpu_vendor,
        nvlinks: 18,
        gpu_pcie_gbyte_s: 48.0,
        net_latency_us,
    };
    match instance_type {
        "p5.48xlarge" | "p5e.48xlarge" => Some(hopper(CpuVendor::Amd, 75.0)),
        "p5en.48xlarge" => Some(hopper(CpuVendor::Intel, 35.0)),
        _ => None,
    }
}

/// The instance types `node_facts` knows, for error messages.
pub const KNOWN_GPU_NODES: &str = "p5.48xlarge, p5e.48xlarge, p5en.48xlarge";

// ---- Constants of NCCL's model (commit 5067397c, 2026-06-11) ----

/// `baseLatencies[algorithm][protocol]` in us, src/graph/tuning.cc:151 (Tree row, Ring row).
const BASE_LAT_US: [[f64; 3]; 2] = [[6.8, 14.0, 8.4], [6.6, 14.0, 8.4]];
/// `hwLatencies[NCCL_HW_NVLINK][algorithm][protocol]`, tuning.cc:159.
const HW_LAT_NVLINK_US: [[f64; 3]; 2] = [[0.6, 1.25, 4.0], [0.6, 1.9, 3.4]];
/// NCCL's own cost of one Simple-protocol step over NVLink (`HW_LAT_NVLINK_US`): the default of
/// the simulated NVLink stage, 3.4 us for the ring, 4.0 us for the tree.
pub fn nvlink_simple_step(algo: Algo) -> crate::units::SimDuration {
    let us = HW_LAT_NVLINK_US[algo as usize][Proto::Simple as usize];
    crate::units::SimDuration::from_ns((us * 1000.0).round() as u64)
}
/// `hwLatencies[NCCL_HW_NET][algorithm][protocol]`, tuning.cc:171.
const HW_LAT_NET_US: [[f64; 3]; 2] = [[5.0, 8.5, 14.0], [2.7, 4.0, 14.0]];
/// `llMaxBws[index1][index2]` for index1 0 (Intel CPU) and 1 (AMD CPU) between nodes,
/// tuning.cc:179-180; on one node index1 is the GPU's generation: Hopper's `141.0`, tuning.cc:181.
const LL_MAX_BW: [[f64; 3]; 2] = [[39.0, 39.0, 20.4], [87.7, 22.5, 19.0]];
const LL_MAX_BW_SM90_ONE_NODE: f64 = 141.0;
/// Hopper rows (`NCCL_HOPPER_COMPCAP_IDX`) of `perChMaxRingLL128Bws` (tuning.cc:188),
/// `perChMaxTreeLL128Bws` (tuning.cc:195) and `perChMaxTreeBws` (tuning.cc:202), by index2 =
/// nodes - 1 capped at 2 (tuning.cc:267).
const PER_CH_MAX_RING_LL128_BW_SM90: [f64; 3] = [36.7, 36.7, 36.7];
const PER_CH_MAX_TREE_LL128_BW_SM90: [f64; 3] = [36.7, 36.7, 29.0];
const PER_CH_MAX_TREE_BW_SM90: [f64; 3] = [38.7, 41.4, 36.0];
/// `treeCorrectionFactor[protocol][log2(bytes / 64)]`, tuning.cc:623-627, powers of two from 64 B
/// to 256 MiB; applied to the tree's all-reduce bandwidth for log sizes below 23 (tuning.cc:640).
const TREE_CORRECTION: [[f64; 24]; 3] = [
    [
        1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.7, 0.7, 0.7, 0.7, 0.6, 0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0,
        1.0, 1.0,
    ],
    [
        1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.8, 0.9, 0.9, 0.9, 0.9, 1.0,
        1.0, 1.0,
    ],
    [
        0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.7, 0.6, 0.6, 0.5, 0.5, 0.5, 0.5, 0.6, 0.7, 0.8, 0.7, 0.7, 0.8, 0.9,
        0.9, 0.9,
    ],
];
/// The tree all-reduce's bandwidth factor, tuning.cc:331 (`busBw * .92`).
const TREE_ALLREDUCE_BW_FACTOR: f64 = 0.92;
/// Ring/LL128 factor (tuning.cc:329, `0.92 /*120.0/128.0*/`), Tree/LL128 between nodes and on
/// one node (tuning.cc:335, `nNodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0`), Tree/LL (tuning.cc:332,
/// `1.0 / 3.8`), Ring/LL (tuning.cc:327, `.5`).
const RING_LL128_BW_FACTOR: f64 = 0.92;
const TREE_LL128_BW_FACTOR: f64 = 120.0 / 128.0;
const TREE_LL128_BW_FACTOR_ONE_NODE: f64 = 7.0 / 9.0;
const TREE_LL_BW_FACTOR: f64 = 1.0 / 3.8;
const RING_LL_BW_FACTOR: f64 = 0.5;
/// The ring's "plateau effect" on its Simple all-reduce between nodes, tuning.cc:647-649: the
/// latency x 1.4 from compute capability 8.0 on (x 1.9 before), once each channel-rank share is
/// at least 64 bytes.
const RING_PLATEAU_SM80: f64 = 1.4;
const RING_PLATEAU_OLDER: f64 = 1.9;
/// The network post overhead in us, `getNetOverhead` (tuning.cc:228-233): 1.0 on Intel, 2.0 on
/// AMD; x 3 for Simple (tuning.cc:408).
const NET_OVERHEAD_INTEL_US: f64 = 1.0;
const NET_OVERHEAD_AMD_US: f64 = 2.0;
const NET_OVERHEAD_SIMPLE_FACTOR: f64 = 3.0;
/// The speeds (GB/s per channel) NCCL's search tries between nodes on compute capability 9.x,
/// fastest first: `sm90SpeedArrayInter`, src/graph/search.cc:1058.
const SM90_SPEED_ARRAY_INTER: [f64; 17] =
    [48.0, 45.0, 42.0, 40.0, 30.0, 24.0, 22.0, 20.0, 17.5, 15.0, 12.0, 6.0, 3.0, 2.4, 1.2, 0.24, 0.12];
/// One NVLink 4 link in NCCL's GB/s, `SM90_NVLINK_BW`, src/graph/topo.h:22.
const SM90_NVLINK_BW: f64 = 20.6;
/// `MAXCHANNELS` (src/include/device.h:91); the ring graph's search is capped at half of it
/// (src/init.cc:1177).
const MAXCHANNELS: u32 = 64;

/// NCCL's ring and tree graphs for the communicator, as far as the cost model reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NcclGraph {
    /// `graphs[RING/TREE]->nChannels` (both equal: src/init.cc:1459).
    pub channels: u32,
    /// `bwIntra` = `bwInter`, GB/s per channel.
    pub bw_gbyte_s: f64,
    /// `comm->nChannels` after `ncclTopoPostset` doubles the channels (src/graph/connect.cc:460,
    /// and again for Hopper between nodes under 16 channels with more than 45 GB/s, :481).
    pub comm_channels: u32,
    /// NCCL network devices per node and each one's bandwidth (GB/s).
    pub net_devices: u32,
    pub net_device_gbyte_s: f64,
}

impl NcclGraph {
    /// The ring graph search's outcome (see the module docs for what is simplified).
    ///
    /// Network devices: aws-ofi-nccl's RDMA protocol (the default on p5: platform-aws.cpp
    /// `default_protocol = PROTOCOL::RDMA`) joins the cards beside one GPU into one NCCL device and
    /// reports the sum of their speeds (nccl_ofi_rdma.cpp, `port_speed *= max_group_size`), so a
    /// node with `cards` a multiple of `gpus` has `gpus` devices of `cards / gpus` rails each;
    /// otherwise every card is taken as its own device.
    pub fn search(facts: &NcclNodeFacts, nodes: u32, gpus: u32, cards: u32, card_gbps: f64) -> NcclGraph {
        assert!(nodes >= 1 && gpus >= 1 && cards >= 1 && card_gbps > 0.0);
        let (net_devices, rails) =
            if cards >= gpus && cards.is_multiple_of(gpus) { (gpus, cards / gpus) } else { (cards, 1) };
        // NCCL's NET bandwidth is the device's speed in Mbps / 8000 (GB/s).
        let net_device_gbyte_s = rails as f64 * card_gbps / 8.0;
        // `system->maxBw`: the GPU-to-network path, the narrower of the GPU's PCIe and the device
        // (search.cc:20-28); `system->totalBw`: the GPU's NVLink (search.cc:30-38).
        let max_bw = facts.gpu_pcie_gbyte_s.min(net_device_gbyte_s);
        let total_bw = facts.nvlinks as f64 * SM90_NVLINK_BW;
        // The first speed not above either (search.cc:1170-1174).
        let speed = SM90_SPEED_ARRAY_INTER.iter().copied().find(|&s| s <= max_bw && s <= total_bw).unwrap_or(0.12);
        // One channel per multiple of the speed each device's path carries; the search stops once
        // the channels fill the NVLink (search.cc:1198), and at MAXCHANNELS / 2.
        let per_device = ((max_bw / speed).floor() as u32).max(1);
        let fill = (total_bw / speed).ceil() as u32;
        let mut channels = (net_devices * per_device).min(fill).clamp(1, MAXCHANNELS / 2);
        let mut bw = speed;
        // `ncclTopoDupChannels` (search.cc:1036-1048): no doubling under 25 GB/s, nor on
        // compute capability above 8.0 under 50 GB/s with more than 4 channels.
        let cc = facts.compute_capability;
        if !(bw < 25.0 || (cc > 80 && bw < 50.0 && channels > 4)) {
            let dup = (channels * 2).min(MAXCHANNELS / 2);
            bw /= dup.div_ceil(channels) as f64;
            channels = dup;
        }
        let mut comm_channels = (channels * 2).min(MAXCHANNELS);
        if cc >= 90 && nodes > 1 && bw > 45.0 && comm_channels < 16 {
            comm_channels *= 2;
        }
        NcclGraph { channels, bw_gbyte_s: bw, comm_channels, net_devices, net_device_gbyte_s }
    }
}

/// NCCL's all-reduce cost model for one communicator: per (algorithm, protocol), latency (us) and
/// algorithm bandwidth (GB/s), as `ncclTopoTuneModel` fills `comm->latencies` and
/// `comm->bandwidths` for `ncclFuncAllReduce`.
#[derive(Clone, Debug, PartialEq)]
pub struct NcclCostModel {
    pub nodes: u32,
    pub ranks: u32,
    pub compute_capability: u32,
    /// The network latency the plugin reports (`graph->latencyInter`).
    pub net_latency_us: f64,
    pub graph: NcclGraph,
    /// `[algorithm][protocol]`, indexed as NCCL does.
    pub latency_us: [[f64; 3]; 2],
    pub bandwidth_gbyte_s: [[f64; 3]; 2],
}

/// The cost model's pick for one buffer size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NcclPick {
    pub algo: Algo,
    pub proto: Proto,
    pub time_us: f64,
}

impl NcclCostModel {
    /// tuning.cc:243-438 for all-reduce, Ring and Tree.
    pub fn new(facts: &NcclNodeFacts, nodes: u32, gpus: u32, graph: NcclGraph) -> NcclCostModel {
        assert!(nodes >= 1 && gpus >= 1);
        let ranks = nodes * gpus;
        let index2 = (nodes.min(3) - 1) as usize; // tuning.cc:267
        let amd = facts.cpu_vendor == CpuVendor::Amd;
        // Between nodes LL's cap follows the CPU, on one node the GPU (tuning.cc:269-272).
        let ll_max_bw = if nodes == 1 { LL_MAX_BW_SM90_ONE_NODE } else { LL_MAX_BW[amd as usize][index2] };
        let ppn = ranks as f64 / nodes as f64;
        let nsteps = 2 * (ranks - 1); // all-reduce, tuning.cc:289
        let net_overhead = if nodes > 1 { if amd { NET_OVERHEAD_AMD_US } else { NET_OVERHEAD_INTEL_US } } else { 0.0 };
        let mut latency_us = [[0.0; 3]; 2];
        let mut bandwidth_gbyte_s = [[0.0; 3]; 2];
        for a in ALGOS {
            for p in PROTOS {
                let (ai, pi) = (a as usize, p as usize);
                // Bus bandwidth: channels x per-channel bandwidth (bwIntra on up to 2 nodes,
                // bwInter beyond: equal here), tuning.cc:306-324, then the refinements.
                let mut bus = graph.channels as f64 * graph.bw_gbyte_s;
                let ch = graph.channels as f64;
                match (a, p) {
                    (Algo::Ring, Proto::Ll) => bus = ll_max_bw.min(bus * RING_LL_BW_FACTOR),
                    (Algo::Ring, Proto::Ll128) => {
                        bus = (bus * RING_LL128_BW_FACTOR).min(ch * PER_CH_MAX_RING_LL128_BW_SM90[index2])
                    }
                    _ => {}
                }
                if a == Algo::Tree {
                    bus = (bus * TREE_ALLREDUCE_BW_FACTOR).min(ch * PER_CH_MAX_TREE_BW_SM90[index2]);
                    match p {
                        Proto::Ll => bus = (bus * TREE_LL_BW_FACTOR).min(ll_max_bw),
                        Proto::Ll128 => {
                            let f = if nodes == 1 { TREE_LL128_BW_FACTOR_ONE_NODE } else { TREE_LL128_BW_FACTOR };
                            bus = (bus * f).min(ch * PER_CH_MAX_TREE_LL128_BW_SM90[index2]);
                        }
                        Proto::Simple => {}
                    }
                }
                // Bus to algorithm bandwidth, tuning.cc:376-381: the ring moves nRanks / nsteps of
                // its bus bandwidth, the tree half.
                let ratio = if a == Algo::Ring { ranks as f64 / nsteps as f64 } else { 0.5 };
                bandwidth_gbyte_s[ai][pi] = bus * ratio;
                // Latency, tuning.cc:384-416. NVLink inside the node (the graphs' intra type).
                let mut intra = HW_LAT_NVLINK_US[ai][pi];
                // With one rank per node the tree's network latency is used (tuning.cc:387).
                let mut inter = if ppn == 1.0 { HW_LAT_NET_US[Algo::Tree as usize][pi] } else { HW_LAT_NET_US[ai][pi] };
                inter += facts.net_latency_us;
                if p == Proto::Simple {
                    inter += facts.net_latency_us; // the flush, tuning.cc:390-391
                }
                let mut lat = BASE_LAT_US[ai][pi];
                match a {
                    Algo::Ring => {
                        let overhead =
                            if p == Proto::Simple { net_overhead * NET_OVERHEAD_SIMPLE_FACTOR } else { net_overhead };
                        intra = intra.max(overhead);
                        let inter_steps = if nodes == 1 { 0 } else { 2 * (nodes - 1) };
                        lat += (nsteps - inter_steps) as f64 * intra + inter_steps as f64 * inter;
                    }
                    Algo::Tree => {
                        lat += 2.0 * ((ppn - 1.0) * intra + nodes.ilog2() as f64 * inter);
                    }
                }
                latency_us[ai][pi] = lat;
            }
        }
        // LL128 is on by default on Hopper up to PXN between nodes (tuning.cc:518-535): the GPU's
        // own network devices are under its PCIe switch (PIX) on these nodes, so it stays on.
        NcclCostModel {
            nodes,
            ranks,
            compute_capability: facts.compute_capability,
            net_latency_us: facts.net_latency_us,
            graph,
            latency_us,
            bandwidth_gbyte_s,
        }
    }

    /// `ncclTopoGetAlgoTime` (tuning.cc:630-654) for one all-reduce of `bytes` (numPipeOps 1).
    pub fn time_us(&self, algo: Algo, proto: Proto, bytes: u64) -> f64 {
        let (ai, pi) = (algo as usize, proto as usize);
        let mut bw = self.bandwidth_gbyte_s[ai][pi];
        let mut lat = self.latency_us[ai][pi];
        let log_size = (bytes >> 6).checked_ilog2();
        if algo == Algo::Tree
            && let Some(l) = log_size
            && l < 23
        {
            bw *= TREE_CORRECTION[pi][l as usize];
        }
        if algo == Algo::Ring
            && proto == Proto::Simple
            && self.nodes > 1
            && bytes / (self.graph.comm_channels as u64 * self.ranks as u64) >= 64
        {
            lat *= if self.compute_capability < 80 { RING_PLATEAU_OLDER } else { RING_PLATEAU_SM80 };
        }
        lat + bytes as f64 / (1000.0 * bw)
    }

    /// The fastest of the candidates, as `topoGetAlgoInfo` scans them (algorithm, then protocol,
    /// keeping the first strictly faster).
    pub fn pick(&self, bytes: u64, candidates: &[(Algo, Proto)]) -> NcclPick {
        let mut best: Option<NcclPick> = None;
        for a in ALGOS {
            for p in PROTOS {
                if !candidates.contains(&(a, p)) || self.bandwidth_gbyte_s[a as usize][p as usize] <= 0.0 {
                    continue;
                }
                let t = self.time_us(a, p, bytes);
                if best.is_none_or(|b| t < b.time_us) {
                    best = Some(NcclPick { algo: a, proto: p, time_us: t });
                }
            }
        }
        best.expect("at least one candidate")
    }

    /// What nitrosim can run: Ring or Tree, Simple (as `NCCL_ALGO=Ring,Tree NCCL_PROTO=Simple`).
    pub fn pick_modelled(&self, bytes: u64) -> NcclPick {
        self.pick(bytes, &[(Algo::Tree, Proto::Simple), (Algo::Ring, Proto::Simple)])
    }

    /// Ring or Tree with any of NCCL's three protocols (NVLS_TREE, CollNet, PAT not weighed).
    pub fn pick_ring_tree_any_protocol(&self, bytes: u64) -> NcclPick {
        let all: Vec<(Algo, Proto)> = ALGOS.iter().flat_map(|&a| PROTOS.iter().map(move |&p| (a, p))).collect();
        self.pick(bytes, &all)
    }
}

/// How a NCCL all-reduce's algorithm was chosen, as `summary.json` reports it
/// (`collectives[i].nccl_choice`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct NcclChoice {
    /// The scenario's `algorithm`: `Auto` (NCCL's cost model picks), `Ring` or `Tree` (as
    /// `NCCL_ALGO` forces it).
    pub requested: &'static str,
    /// What ran: `Ring` or `Tree`, with the `Simple` protocol.
    pub algorithm: &'static str,
    pub protocol: &'static str,
    /// NCCL's estimates for the two candidates nitrosim runs (`ncclTopoGetAlgoTime`, us).
    pub ring_simple_us: f64,
    pub tree_simple_us: f64,
    /// What NCCL's model would pick among Ring and Tree with its LL and LL128 protocols allowed
    /// too (`algorithm/protocol`, e.g. `Tree/LL128`); NVLS_TREE, CollNet and PAT not weighed.
    pub with_ll_protocols: String,
    /// The graph the model read: channels and GB/s per channel (`nChannels`, `bwInter`), and the
    /// network latency the plugin reports (`latencyInter`).
    pub graph_channels: u32,
    pub graph_channel_gbyte_s: f64,
    pub net_latency_us: f64,
}

/// NCCL's cost model for a fleet of `nodes` instances of `instance_type`, `gpus` ranks each,
/// `cards` network cards of `card_gbps` each; `None` when nitrosim does not know the node's GPU
/// facts ([`node_facts`]).
pub fn cost_model(instance_type: &str, nodes: u32, gpus: u32, cards: u32, card_gbps: f64) -> Option<NcclCostModel> {
    let facts = node_facts(instance_type)?;
    let graph = NcclGraph::search(&facts, nodes, gpus, cards, card_gbps);
    Some(NcclCostModel::new(&facts, nodes, gpus, graph))
}

impl NcclCostModel {
    /// The results' account of a choice for `bytes`: `forced` is the scenario's algorithm, or
    /// `None` for `Auto`.
    pub fn choice(&self, bytes: u64, forced: Option<Algo>) -> NcclChoice {
        let algo = forced.unwrap_or_else(|| self.pick_modelled(bytes).algo);
        let any = self.pick_ring_tree_any_protocol(bytes);
        NcclChoice {
            requested: forced.map_or("Auto", Algo::label),
            algorithm: algo.label(),
            protocol: Proto::Simple.label(),
            ring_simple_us: super::results::round3(self.time_us(Algo::Ring, Proto::Simple, bytes)),
            tree_simple_us: super::results::round3(self.time_us(Algo::Tree, Proto::Simple, bytes)),
            with_ll_protocols: format!("{}/{}", any.algo.label(), any.proto.label()),
            graph_channels: self.graph.channels,
            graph_channel_gbyte_s: super::results::round3(self.graph.bw_gbyte_s),
            net_latency_us: self.net_latency_us,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p5(nodes: u32) -> NcclCostModel {
        let facts = node_facts("p5.48xlarge").unwrap();
        let graph = NcclGraph::search(&facts, nodes, 8, 32, 100.0);
        NcclCostModel::new(&facts, nodes, 8, graph)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    /// 8 x p5.48xlarge x 8 GPUs, worked by hand from NCCL's formulas (not from this module):
    /// - graph: 8 devices of 4 x 100 Gbps = 50 GB/s; the path is min(PCIe Gen5 x16 48, 50) = 48;
    ///   the first sm90 speed <= 48 is 48, one per device: 8 channels (8 x 48 = 384 >= 18 x 20.6
    ///   = 370.8 ends the search); no doubling (Hopper, 48 < 50, 8 > 4); comm 16 channels.
    /// - Ring/Simple: bw 8 x 48 x 64/126 = 195.05 GB/s; latency 8.4 + 112 x max(3.4, 2.0 x 3)
    ///   + 14 x (14 + 75 + 75) = 2976.4 us, x 1.4 plateau = 4166.96 us.
    /// - Tree/Simple: bw min(384 x 0.92, 8 x 36.0) x 0.5 = 144 GB/s; latency 8.4 + 2 x (7 x 4.0
    ///   + 3 x 164) = 1048.4 us; x 0.7 correction at 32 MiB (log2(2^25 / 64) = 19).
    ///
    /// Times: 32 MiB ring 4166.96 + 33554432/195047.6 = 4339.0, tree 1048.4 + 33554432/100800 =
    /// 1381.3 (Tree); 512 MiB ring 6919.5, tree 1048.4 + 536870912/144000 = 4776.7 (Tree); 8 GiB
    /// ring 48207.1, tree 60700.7 (Ring). They cross at 3118.56 / (1/144000 - 1/195047.6) bytes
    /// = 1.716e9 (1.6 GiB).
    #[test]
    fn p5_eight_nodes_matches_a_hand_computation() {
        let m = p5(8);
        assert_eq!((m.graph.channels, m.graph.comm_channels, m.graph.net_devices), (8, 16, 8));
        assert!(close(m.graph.bw_gbyte_s, 48.0) && close(m.graph.net_device_gbyte_s, 50.0));
        let (t, r, s) = (Algo::Tree as usize, Algo::Ring as usize, Proto::Simple as usize);
        assert!(close(m.bandwidth_gbyte_s[r][s], 384.0 * 64.0 / 126.0));
        assert!(close(m.bandwidth_gbyte_s[t][s], 144.0));
        assert!(close(m.latency_us[r][s], 8.4 + 112.0 * 6.0 + 14.0 * 164.0));
        assert!(close(m.latency_us[t][s], 8.4 + 2.0 * (7.0 * 4.0 + 3.0 * 164.0)));
        let mib = 1u64 << 20;
        let ring = |b: u64| 2976.4 * 1.4 + b as f64 / (1000.0 * 384.0 * 64.0 / 126.0);
        assert!(close(m.time_us(Algo::Ring, Proto::Simple, 32 * mib), ring(32 * mib)));
        assert!(close(m.time_us(Algo::Tree, Proto::Simple, 32 * mib), 1048.4 + (32 * mib) as f64 / 100_800.0));
        assert!(close(m.time_us(Algo::Tree, Proto::Simple, 512 * mib), 1048.4 + (512 * mib) as f64 / 144_000.0));
        for (bytes, want) in [(32 * mib, Algo::Tree), (512 * mib, Algo::Tree), (8192 * mib, Algo::Ring)] {
            let p = m.pick_modelled(bytes);
            assert_eq!((p.algo, p.proto), (want, Proto::Simple), "{bytes} B");
        }
        // The crossover: Tree at 1.5 GiB, Ring at 1.75 GiB.
        assert_eq!(m.pick_modelled(1536 * mib).algo, Algo::Tree);
        assert_eq!(m.pick_modelled(1792 * mib).algo, Algo::Ring);
    }

    /// With LL and LL128 allowed (still Ring and Tree only), NCCL would run Tree/LL128 at 32 MiB:
    /// latency 14.0 + 2 x (7 x 1.25 + 3 x (8.5 + 75)) = 532.5 us, bandwidth min(min(353.28, 288)
    /// x 120/128, 8 x 29.0) x 0.5 = 116 GB/s x 0.9 correction: 532.5 + 33554432/104400 = 853.9 us
    /// against Tree/Simple's 1381.3. At 512 MiB Tree/Simple (4776.7) still beats Ring/LL128
    /// (14.0 + 112 x 2.0 + 14 x 79 = 1344 us, min(353.28, 293.6) x 64/126 = 149.1 GB/s: 4944.0).
    #[test]
    fn with_every_protocol_nccl_would_pick_ll128_at_32_mib() {
        let m = p5(8);
        let mib = 1u64 << 20;
        let (t, r, l) = (Algo::Tree as usize, Algo::Ring as usize, Proto::Ll128 as usize);
        assert!(close(m.latency_us[t][l], 532.5) && close(m.bandwidth_gbyte_s[t][l], 116.0));
        assert!(close(m.latency_us[r][l], 1344.0) && close(m.bandwidth_gbyte_s[r][l], 293.6 * 64.0 / 126.0));
        let p = m.pick_ring_tree_any_protocol(32 * mib);
        assert_eq!((p.algo, p.proto), (Algo::Tree, Proto::Ll128));
        assert!(close(p.time_us, 532.5 + (32 * mib) as f64 / 104_400.0));
        let p = m.pick_ring_tree_any_protocol(512 * mib);
        assert_eq!((p.algo, p.proto), (Algo::Tree, Proto::Simple));
    }

    #[test]
    fn small_fleets_and_other_nodes() {
        // Two nodes: log2 2 = 1 tree level; the ring's 2 network steps make it cheap; bwIntra used.
        let m = p5(2);
        assert!(m.pick_modelled(8 << 30).algo == Algo::Ring);
        // p5en: 16 cards of 200 Gbps = 8 devices of 2 rails (50 GB/s), Intel, 35 us.
        let facts = node_facts("p5en.48xlarge").unwrap();
        let g = NcclGraph::search(&facts, 8, 8, 16, 200.0);
        assert_eq!((g.channels, g.net_devices), (8, 8));
        assert!(node_facts("c6in.32xlarge").is_none());
    }
}
