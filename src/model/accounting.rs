//! Accounting and conservation: every packet is counted sent once and then delivered, dropped
//! (by reason, and in the instance's ENA-named counters) or fragmented; at the end of the run
//! sent = delivered + dropped + fragmented + in flight, with "in flight" counted independently
//! by walking port queues, pending arrivals and reassembly slots.

use super::*;

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

/// Per-instance counters. Those the ENA driver has carry its `ethtool -S` / `ethtool -i` names;
/// nitrosim's own (which no driver reports) are serialised with a `nitrosim_` prefix, so a
/// reader never looks for them on a real instance. ENA reports its allowance counters per
/// interface: `enis` holds them so; the instance's own fields are their sums over its ENIs.
#[derive(Clone, Debug, Default, serde::Serialize)]
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
    /// ENA's allowance counters as `ethtool -S` shows them on each of the instance's ENIs, by
    /// ENI name.
    pub enis: std::collections::BTreeMap<String, EniCounters>,
}

/// The allowance counters the ENA driver reports on one interface (ENA guide, "Monitor network
/// performance for ENA settings on your EC2 instance", read 2026-11-30). The allowances are the
/// instance's; a packet is counted on the interface it was queued or dropped on.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct EniCounters {
    /// Packets queued or dropped because the instance's inbound / outbound aggregate bandwidth
    /// or its packets per second exceeded their maximum.
    pub bw_in_allowance_exceeded: u64,
    pub bw_out_allowance_exceeded: u64,
    pub pps_allowance_exceeded: u64,
    /// Packets dropped because the instance's tracked connections were at their maximum.
    pub conntrack_allowance_exceeded: u64,
    /// Packets dropped beyond this interface's link-local allowance (1024 packets/s).
    pub linklocal_allowance_exceeded: u64,
    /// Tracked connections the instance can still establish (the same instance-wide value on
    /// every interface), at the end of the run; absent without a `conntrack_allowance`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conntrack_allowance_available: Option<u64>,
    /// nitrosim: the dropped part of the three "queued or dropped" counters.
    #[serde(rename = "nitrosim_bw_in_allowance_dropped")]
    pub bw_in_allowance_dropped: u64,
    #[serde(rename = "nitrosim_bw_out_allowance_dropped")]
    pub bw_out_allowance_dropped: u64,
    #[serde(rename = "nitrosim_pps_allowance_dropped")]
    pub pps_allowance_dropped: u64,
    /// nitrosim: the idle timeouts of connections tracked through this ENI, seconds (its
    /// `ConnectionTrackingSpecification`; shown with a `conntrack_allowance`).
    #[serde(rename = "nitrosim_conntrack_timeouts_s", skip_serializing_if = "Option::is_none")]
    pub conntrack_timeouts_s: Option<ConntrackTimeoutsS>,
}

/// The idle timeouts of an ENI's tracked connections, in the API's seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ConntrackTimeoutsS {
    pub tcp_established: u64,
    pub udp: u64,
    pub udp_stream: u64,
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

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Model {
    pub(crate) fn account_delivery(&mut self, ep: u32, bytes: u64) {
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

    pub(crate) fn drop_packet(&mut self, id: PacketId, reason: DropReason, instance: u32) {
        self.acct.dropped[reason.index()] += 1;
        if self.capture.is_some() {
            self.capture_drop(id, reason, instance);
        }
        self.free_icmp_route(id);
        if instance != NONE {
            let eni = self.packet_eni(id, instance);
            let inst = &mut self.insts[instance as usize];
            let (c, e) = (&mut inst.counters, &mut inst.enis[eni].counters);
            match reason {
                // The ENA allowance counters live per ENI; the instance's are their sums,
                // made when the results are collected.
                DropReason::BwOutAllowanceExceeded => {
                    e.bw_out_allowance_exceeded += 1;
                    e.bw_out_allowance_dropped += 1;
                }
                DropReason::BwInAllowanceExceeded => {
                    e.bw_in_allowance_exceeded += 1;
                    e.bw_in_allowance_dropped += 1;
                }
                DropReason::FlowCapExceeded => c.flow_cap_exceeded += 1,
                DropReason::CpuBacklog => c.cpu_backlog_drops += 1,
                DropReason::PpsAllowanceExceeded => {
                    e.pps_allowance_exceeded += 1;
                    e.pps_allowance_dropped += 1;
                }
                DropReason::ConntrackAllowanceExceeded => e.conntrack_allowance_exceeded += 1,
                DropReason::ConntrackExpired => c.conntrack_expired_drops += 1,
                DropReason::LinklocalAllowanceExceeded => e.linklocal_allowance_exceeded += 1,
                _ => {}
            }
        }
        self.pool.free(id);
    }

    /// Packets in flight, counted independently of the pool: held by ports (queued, in service
    /// or in their pipes), about to move on, or held for reassembly.
    pub(crate) fn in_flight_counted(&self) -> u64 {
        let in_ports: u64 = self.ports.iter().map(|p| p.queued_packets() as u64).sum();
        let held: u64 = self.reasm.iter().filter(|r| r.live).map(|r| r.held.len() as u64).sum();
        in_ports + self.ready.len() as u64 + held
    }

    pub(crate) fn check_conservation(&self) -> Result<(), String> {
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
