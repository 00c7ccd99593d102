//! EC2 as the data plane sees it: instance types (an embedded catalog), instances placed in
//! availability zones and cluster placement groups, ENIs, the SR-IOV virtual function with its RSS
//! queues, and the Nitro card that shapes what the instance sends and receives.
//!
//! This module holds the *rules and numbers*; `model` turns them into ports on the packet path.

pub mod adapter;
pub mod catalog;
pub mod conntrack;
pub mod cost;
pub mod ena_express;
pub mod failover;
pub mod gateway;
pub mod nat;
pub mod region;
pub mod vpc;

use crate::units::{Bandwidth, SimDuration};

pub use catalog::{CATALOG, EfaRdma, InstanceType};

/// Single-flow (5-tuple) bandwidth limit outside a cluster placement group: 5 Gbps.
/// Source: EC2 User Guide, "Amazon EC2 instance network bandwidth" (flow limits).
pub const FLOW_CAP_DEFAULT: Bandwidth = Bandwidth::gbps(5);
/// Single-flow limit when both instances are in the same cluster placement group: 10 Gbps.
/// Source: EC2 User Guide, "Placement groups" / instance network bandwidth.
pub const FLOW_CAP_CLUSTER_PG: Bandwidth = Bandwidth::gbps(10);
/// Most queue pairs the ENA Linux driver handles per device (amzn-drivers `ENA_MAX_NUM_IO_QUEUES`,
/// 128). What a type offers per ENI is its catalog entry's `ena_queues`, usually fewer.
pub const ENA_MAX_QUEUES: u32 = 128;
/// Jumbo-frame MTU inside a VPC. Source: EC2 User Guide, "Network maximum transmission unit (MTU)".
pub const MTU_VPC_JUMBO: u32 = 9001;
/// Standard Ethernet MTU.
pub const MTU_ETHERNET: u32 = 1500;
/// Security groups per ENI (the default VPC quota). Source: Amazon VPC quotas.
pub const MAX_SECURITY_GROUPS_PER_ENI: usize = 5;

/// Nitro card and host defaults that have no published figure; documented model parameters.
pub mod defaults {
    use super::*;
    /// One-way processing latency the Nitro card adds per packet on each side. Chosen so that an
    /// idle intra-rack TCP round trip lands near the ~25 us best case the SRD paper reports.
    pub const NITRO_PROCESSING_DELAY: SimDuration = SimDuration::from_us(2);
    /// Per-flow shaper queue in the Nitro card. Sized above a bandwidth-delay product at 10 Gbps
    /// and 100 us so one flow can keep its cap busy, small enough to bound added delay (~0.8 ms at 5 Gbps).
    pub const FLOW_SHAPER_BUFFER_BYTES: u64 = 512 * 1024;
    /// Token-bucket depth of the per-flow shaper: a few jumbo frames pass at line rate, so a
    /// small RPC is not serialised at 5 Gbps; sustained traffic is held to the limit.
    pub const FLOW_SHAPER_BURST_BYTES: u64 = 32 * 1024;
    /// SRD connections a Nitro card holds at once (the memory `ena_srd_resource_utilization`
    /// reports on). AWS publishes no figure; a model parameter, sized so that a card talks
    /// ENA Express with a few thousand peers (each pair takes one connection per direction at
    /// each end) before it falls back.
    pub const NITRO_SRD_CONNECTIONS: u32 = 8192;
    /// Aggregate (instance allowance) shaper queue.
    pub const INSTANCE_SHAPER_BUFFER_BYTES: u64 = 2 * 1024 * 1024;
    /// Per-packet kernel cost on the sending vCPU (syscall share, TCP/IP output, driver xmit),
    /// amortised over TSO; a model parameter, not a measurement.
    pub const HOST_TX_COST: SimDuration = SimDuration::from_ns(500);
    /// Per-packet kernel cost on the receiving vCPU (interrupt/NAPI, GRO, TCP input, copy).
    pub const HOST_RX_COST: SimDuration = SimDuration::from_ns(700);
    /// Linux `netdev_max_backlog` is 1000 packets; as bytes at jumbo size.
    pub const CPU_BACKLOG_BYTES: u64 = 1000 * 9001;
    /// Kernel socket path per message (model parameters, order of magnitude of what is commonly
    /// measured on current Linux with mitigations): a send or receive system call ~1 us; socket-
    /// layer protocol work per call beyond the per-packet costs above (sk_buff set-up,
    /// tcp_sendmsg / tcp_recvmsg, socket lock, memory accounting) ~2 us; a user/kernel copy at
    /// ~10 GB/s per core; interrupt + softirq + scheduler wake-up of a sleeping reader ~5 us.
    pub const KERNEL_SYSCALL: SimDuration = SimDuration::from_ns(1000);
    pub const KERNEL_SOCKET: SimDuration = SimDuration::from_us(2);
    pub const KERNEL_COPY_RATE: Bandwidth = Bandwidth::gbps(80);
    pub const KERNEL_WAKEUP: SimDuration = SimDuration::from_us(5);
    /// A reader blocked in recv() leaves its core idle; the core sleeps in C1E between messages
    /// and must leave it first. 4 us is C1E's exit latency on Ice Lake-SP (c6in, c6i), from the
    /// Linux intel_idle driver's `icx_cstates` table. Latency-tuned hosts that cap C-states or
    /// busy-poll set this to 0.
    pub const KERNEL_IDLE_EXIT: SimDuration = SimDuration::from_us(4);
    /// OS bypass per message: a doorbell write to post the work request, a poll of the completion
    /// queue (a few hundred ns, no system call, no wake-up: the application spins on the queue).
    pub const BYPASS_POST: SimDuration = SimDuration::from_ns(200);
    pub const BYPASS_POLL: SimDuration = SimDuration::from_ns(100);
    /// Timing noise (model choices, see `NoiseSpec`): a vCPU's per-packet cost is uniform over
    /// [0.5, 1.5] x its mean; the card's processing delay over [0, 2 x mean]. (A host spread of
    /// 1.0 once made three of the flagship's eight plain-ENA RPC connections collapse, 0.3-1.4
    /// Gbps at seeds 11-13. Not a noise artefact: every stage stays FIFO and a flow keeps one
    /// queue, so noise never reorders a flow. It was the TCP of that time: without HyStart and
    /// with a full receive window, slow start overshot into ~75,000 queue drops and recovery of
    /// those connections collapsed (0 RTOs; their wire rate twice their goodput). With the
    /// Linux-like TCP merged since (HyStart, receive autotuning, loss probes) spread 1.0 gives
    /// ~220 drops, 0 RTOs and no collapse over seeds 1-15. 0.5 stays the default because the
    /// fairness rows were validated with it.)
    pub const NOISE_HOST_COST_SPREAD: f64 = 0.5;
    pub const NOISE_CARD_DELAY_SPREAD: f64 = 1.0;
    /// One-way latency between availability zones: 500 us (a 1 ms round trip). AWS promises
    /// only "single-digit millisecond latency"; FlashGrid measured every AZ pair of every Region
    /// ("Latencies between AWS availability zones", 2023-03-27: round trips of about 0.5 to
    /// 1.5 ms), and bitsand.cloud ("Cross-AZ latencies", 2024) found the same range.
    pub const INTER_AZ_DELAY: SimDuration = SimDuration::from_us(500);
    /// Queue in front of the inter-AZ link when it has a capacity (model parameter).
    pub const INTER_AZ_BUFFER_BYTES: u64 = 16 << 20;
}
