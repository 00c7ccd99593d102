//! The world under the instances: the leaf-spine fabric, links between AZs, the Nitro card's
//! settings, per-packet timing noise and the host's costs.

use super::*;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Fabric", deny_unknown_fields, default)]
pub struct FabricSpec {
    pub racks: u32,
    pub hosts_per_rack: u32,
    /// Spine switches = equal-cost paths between two racks.
    pub spines: u32,
    pub host_link: Bandwidth,
    /// ToR-spine link rate. Leave out to derive it from `oversubscription`.
    pub spine_link: Option<Bandwidth>,
    /// ToR downlink capacity / uplink capacity; 1.0 = non-blocking. Used when `spine_link` is absent.
    pub oversubscription: f64,
    pub hop_delay: SimDuration,
    /// Drop-tail buffer per switch port.
    pub buffer: Bytes,
    /// Mark ECN-capable packets above this queue depth.
    pub ecn_threshold: Option<Bytes>,
    /// MTU of hosts that are not instances (background traffic).
    pub mtu: u32,
    /// Probability that a packet is lost on the way (uniform, for experiments; 0 on EC2).
    pub loss_rate: f64,
}

impl Default for FabricSpec {
    fn default() -> Self {
        FabricSpec {
            racks: 4,
            hosts_per_rack: 8,
            spines: 4,
            host_link: Bandwidth::gbps(100),
            spine_link: None,
            oversubscription: 1.0,
            hop_delay: SimDuration::from_us(1),
            buffer: Bytes(512 * 1024),
            ecn_threshold: None,
            mtu: crate::ec2::MTU_VPC_JUMBO,
            loss_rate: 0.0,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "InterAz", deny_unknown_fields, default)]
pub struct InterAzSpec {
    /// One way (default 500 us: see `ec2::defaults::INTER_AZ_DELAY` for the measurements).
    pub latency: SimDuration,
    /// Capacity from one AZ to another, shared by every flow between them (left out:
    /// unlimited; a model parameter, AWS publishes none).
    pub capacity: Option<crate::units::Bandwidth>,
    pub buffer: Bytes,
}

impl Default for InterAzSpec {
    fn default() -> Self {
        InterAzSpec {
            latency: crate::ec2::defaults::INTER_AZ_DELAY,
            capacity: None,
            buffer: Bytes(crate::ec2::defaults::INTER_AZ_BUFFER_BYTES),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Nitro", deny_unknown_fields, default)]
pub struct NitroSpec {
    pub processing_delay: SimDuration,
    pub flow_buffer: Bytes,
    /// Token-bucket depth of the per-flow shaper: a burst this size passes at line rate.
    pub flow_burst: Bytes,
    pub instance_buffer: Bytes,
    /// ENA Express (SRD) connections one card can hold; one per direction of an instance pair,
    /// at both ends. Beyond it, new connections fall back to plain ENA.
    pub srd_connections: u32,
}

impl Default for NitroSpec {
    fn default() -> Self {
        use crate::ec2::defaults::*;
        NitroSpec {
            processing_delay: NITRO_PROCESSING_DELAY,
            flow_buffer: Bytes(FLOW_SHAPER_BUFFER_BYTES),
            flow_burst: Bytes(FLOW_SHAPER_BURST_BYTES),
            instance_buffer: Bytes(INSTANCE_SHAPER_BUFFER_BYTES),
            srd_connections: NITRO_SRD_CONNECTIONS,
        }
    }
}

/// Per-packet timing variation of hosts and Nitro cards. Each value is drawn per packet from a
/// uniform distribution around the configured mean, the mean kept: by default a vCPU's per-packet
/// cost is uniform over [0.5, 1.5] x tx_cost (spread 0.5) and the card's processing delay uniform
/// over [0, 2 x 2 us] (spread 1.0). Every port draws from its own seeded stream, named after its
/// instance (and flow), so results do not depend on build order; the card's delay stays FIFO.
///
/// The defaults are model choices, not measurements: AWS publishes no distribution of
/// per-packet host or card time. The form follows Floyd and Jacobson, "On Traffic Phase Effects in
/// Packet-Switched Gateways" (Internetworking: Research and Experience 3(3), 1992), who showed that
/// exactly periodic sources let drop-tail gateways pick winners by phase and that adding a random
/// processing time uniform over about one bottleneck service time removes the bias. Here the
/// spreads shift arrivals by up to ~4.5 us, near one 9001 B packet at 12.5 Gbps (5.8 us); real
/// hosts vary more than that (interrupt moderation alone is tens of microseconds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Noise", deny_unknown_fields, default)]
pub struct NoiseSpec {
    pub enabled: bool,
    /// Relative half-width of the per-packet vCPU cost (host tx_cost / rx_cost), 0 to 1.
    pub host_cost_spread: f64,
    /// Relative half-width of the Nitro card's per-packet processing delay, 0 to 1.
    pub card_delay_spread: f64,
}

impl Default for NoiseSpec {
    fn default() -> Self {
        use crate::ec2::defaults::*;
        NoiseSpec {
            enabled: true,
            host_cost_spread: NOISE_HOST_COST_SPREAD,
            card_delay_spread: NOISE_CARD_DELAY_SPREAD,
        }
    }
}

impl NoiseSpec {
    /// The spreads in parts per million, zero when noise is off.
    pub fn spreads_ppm(&self) -> (u32, u32) {
        let ppm =
            |x: f64| if self.enabled { (x.clamp(0.0, 1.0) * crate::net::port::PPM as f64).round() as u32 } else { 0 };
        (ppm(self.host_cost_spread), ppm(self.card_delay_spread))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Host", deny_unknown_fields, default)]
pub struct HostSpec {
    pub tx_cost: SimDuration,
    pub rx_cost: SimDuration,
    pub backlog: Bytes,
    /// Kernel path, per message: a system call and socket-layer protocol work on each side, a
    /// copy between user and kernel memory, and on receive the interrupt, softirq and scheduler
    /// wake-up of the reader and its core's exit from idle.
    pub syscall: SimDuration,
    pub socket: SimDuration,
    /// Memory copy rate of one core (kernel copies; EFA bounce-buffer copies).
    pub copy_rate: Bandwidth,
    pub wakeup: SimDuration,
    pub idle_exit: SimDuration,
    /// OS bypass (libfabric on EFA), per message: posting a work request to the device, and
    /// polling its completion queue. Buffers are registered memory; only two-sided messages up
    /// to 64 KiB are copied out of the provider's bounce buffers.
    pub bypass_post: SimDuration,
    pub bypass_poll: SimDuration,
    /// RSS queues (= vCPUs serving the network) per instance; default min(vCPUs, 32).
    pub rss_queues: Option<u32>,
}

impl Default for HostSpec {
    fn default() -> Self {
        use crate::ec2::defaults::*;
        HostSpec {
            tx_cost: HOST_TX_COST,
            rx_cost: HOST_RX_COST,
            backlog: Bytes(CPU_BACKLOG_BYTES),
            syscall: KERNEL_SYSCALL,
            socket: KERNEL_SOCKET,
            copy_rate: KERNEL_COPY_RATE,
            wakeup: KERNEL_WAKEUP,
            idle_exit: KERNEL_IDLE_EXIT,
            bypass_post: BYPASS_POST,
            bypass_poll: BYPASS_POLL,
            rss_queues: None,
        }
    }
}
