//! The Nitro card: the per-flow shaper caps of plain ENA, ENA Express (SRD paths, the card's SRD
//! connection memory, eligibility), EFA straight from the device into SRD, and ENA's
//! "allowance exceeded" counts of packets a shaper queued. The instance's allowance shapers
//! themselves are ports built with it (`scenario::build`); the SRD engine is `srd.rs`.

use super::*;

#[derive(Clone, Copy, Debug)]
pub struct SrdPath {
    pub ctx: u32,
    pub host_route: u32,
    pub then_route: u32,
}

impl SrdPath {
    pub const NONE: SrdPath = SrdPath { ctx: NONE, host_route: NONE, then_route: NONE };
}

impl Model {
    /// Per-flow limit of plain ENA: 10 Gbps inside one cluster placement group, else 5 Gbps.
    pub(crate) fn ena_flow_cap(&self, i: u32, b: Attach) -> Bandwidth {
        match (b, self.insts[i as usize].cluster_pg) {
            (Attach::Instance(j), Some(pg)) if self.insts[j as usize].cluster_pg == Some(pg) => {
                crate::ec2::FLOW_CAP_CLUSTER_PG
            }
            _ => crate::ec2::FLOW_CAP_DEFAULT,
        }
    }

    /// ENA Express for a -> b: the host leg into a's SRD engine (25 Gbps per flow) and b's leg
    /// after SRD (receive processing, ingress shaper, vCPU). `None` when it does not engage.
    /// `enis`: the ENIs of a and b the connection uses (ENA Express is set per ENI).
    pub(crate) fn build_srd_path(
        &mut self,
        a: Attach,
        b: Attach,
        enis: [u8; 2],
        t: &FiveTuple,
        proto: Proto,
    ) -> SrdPath {
        let (Attach::Instance(i), Attach::Instance(j)) = (a, b) else { return SrdPath::NONE };
        // ENA Express needs a direct path: no gateway or middlebox in between.
        if self.paths.contains_key(&(i, j))
            || crate::ec2::ena_express::engages(
                &self.ena_express_ends([i, j], enis),
                matches!(proto, Proto::Udp { .. }),
            )
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
        self.push_host_tx(i, enis[0], t, crate::ec2::ena_express::FLOW_CAP, &mut r);
        let host_route = self.store_route(&mut r);
        r.push(self.insts[j as usize].srd_rx_proc);
        self.push_host_rx(j, enis[1], t, &mut r);
        let then_route = self.store_route(&mut r);
        self.scratch_route = r;
        SrdPath { ctx, host_route, then_route }
    }

    /// EFA from instance a to b: from the device straight into the card (no vCPU, no per-flow
    /// limit), SRD without reordering, the receiving card. Validation has checked that both ends
    /// have an EFA interface in one AZ.
    pub(crate) fn build_efa_path(&mut self, a: Attach, b: Attach, card: u16) -> SrdPath {
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

    /// What ENA Express's eligibility rules need to know about two instances' ENIs.
    pub(crate) fn ena_express_ends(&self, insts: [u32; 2], enis: [u8; 2]) -> [crate::ec2::ena_express::End; 2] {
        [0, 1].map(|n| {
            let inst = &self.insts[insts[n] as usize];
            let eni = &inst.enis[enis[n] as usize];
            crate::ec2::ena_express::End {
                type_supports: inst.ty.ena_express,
                enabled: eni.ena_srd_enabled,
                udp_enabled: eni.ena_srd_udp_enabled,
                az: inst.az,
                region: inst.region,
                region_cross_az: inst.region_cross_az,
            }
        })
    }

    /// Whether a port of `owner` (an instance, or `NONE`) has its waits counted as they happen
    /// ([`Port::count_waits_at_once`](crate::net::Port)): an instance with several ENIs counts
    /// each on the packet's ENI.
    pub(crate) fn counts_waits_at_once(insts: &[InstanceRt], owner: u32) -> bool {
        owner != NONE && insts[owner as usize].enis.len() > 1
    }

    /// ENA counts packets an allowance queued, not only those it dropped, on the interface the
    /// packet went through: counted here as the packet waits on an instance with several ENIs
    /// (a port of its with `count_waits_at_once`), else from the port's `waited` when the run
    /// ends ([`Model::fold_hot_counters`]).
    pub(crate) fn count_allowance_queued(&mut self, port: PortId, id: PacketId) {
        // The port's own line is at hand: its reason first. Not an allowance (a vCPU backlog, a
        // per-flow cap): nothing to count, and no owner or endpoint to look up (misses).
        let reason = self.ports[port as usize].config.drop_reason;
        if !matches!(
            reason,
            DropReason::BwOutAllowanceExceeded | DropReason::BwInAllowanceExceeded | DropReason::PpsAllowanceExceeded
        ) {
            return;
        }
        let owner = self.port_owner[port as usize];
        if owner == NONE {
            return;
        }
        let eni = self.packet_eni(id, owner);
        let inst = &mut self.insts[owner as usize];
        // Counted on the ENI; the instance's counter is the sum over its ENIs (results).
        let e = &mut inst.enis[eni].counters;
        match reason {
            DropReason::BwOutAllowanceExceeded => e.bw_out_allowance_exceeded += 1,
            DropReason::BwInAllowanceExceeded => e.bw_in_allowance_exceeded += 1,
            DropReason::PpsAllowanceExceeded => e.pps_allowance_exceeded += 1,
            _ => unreachable!("an allowance reason"),
        }
    }

    /// Add the counters counted apart during the run to their instances' and ENIs' counters (the
    /// allowance waits of single-ENI instances, counted by their ports, to that ENI's), the SRD
    /// receivers' packets to their instances' `ena_srd_rx_pkts`, and the open connections' ENA
    /// Express sends to their instances' (closed ones added theirs as they closed).
    pub(crate) fn fold_hot_counters(&mut self) {
        // The packets each ENA Express receiver took (neither refused nor duplicate); EFA's SRD
        // traffic (unordered connections) is not ENA Express.
        for c in self.srd_ctxs.iter().filter(|c| c.ordered) {
            self.insts[c.dst as usize].counters.ena_srd_rx_pkts += c.receiver.stats().packets;
        }
        for ep in 0..self.eps.len() as u32 {
            if self.eps[ep as usize].live {
                self.fold_ena_srd_tx(ep);
            }
        }
        // The allowance waits of instances with one ENI, which their ports counted. A port taken
        // down (a failed instance) drops with another reason now; its own is the one it saved.
        for (p, (port, &owner)) in self.ports.iter().zip(&self.port_owner).enumerate() {
            if owner == NONE || port.count_waits_at_once || port.stats.waited == 0 {
                continue;
            }
            let reason = self.saved_ports.get(&(p as PortId)).map_or(port.config.drop_reason, |saved| saved.1);
            let Some(eni) = self.insts[owner as usize].enis.first_mut() else { continue };
            let e = &mut eni.counters;
            match reason {
                DropReason::BwOutAllowanceExceeded => e.bw_out_allowance_exceeded += port.stats.waited,
                DropReason::BwInAllowanceExceeded => e.bw_in_allowance_exceeded += port.stats.waited,
                DropReason::PpsAllowanceExceeded => e.pps_allowance_exceeded += port.stats.waited,
                _ => {}
            }
        }
    }

    /// Move endpoint `ep`'s ENA Express send counts to its instance's counters.
    pub(crate) fn fold_ena_srd_tx(&mut self, ep: u32) {
        let slot = &mut self.eps[ep as usize];
        let (eligible, via_srd) =
            (std::mem::take(&mut slot.ena_srd_eligible_tx_pkts), std::mem::take(&mut slot.ena_srd_tx_pkts));
        if eligible > 0 {
            let c = &mut self.insts[slot.instance as usize].counters;
            c.ena_srd_eligible_tx_pkts += eligible;
            c.ena_srd_tx_pkts += via_srd;
        }
    }

    /// The ENI of instance `inst` a packet crosses: its receiving endpoint's when that endpoint
    /// lives on `inst`, else its sender's (the receiving endpoint's peer). A packet whose
    /// connection is gone is counted on the primary ENI.
    pub(crate) fn packet_eni(&self, id: PacketId, inst: u32) -> usize {
        let p = self.pool.get(id);
        let Some(slot) = self.eps.get(p.dst_endpoint as usize) else { return 0 };
        if !slot.live || slot.generation != p.dst_generation {
            return 0;
        }
        if slot.instance == inst {
            return slot.eni as usize;
        }
        match self.eps.get(slot.peer as usize) {
            Some(peer) if peer.live && peer.instance == inst => peer.eni as usize,
            _ => 0,
        }
    }
}
