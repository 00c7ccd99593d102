//! Packets carry metadata only: sizes, sequence numbers, timestamps, routing state. No bytes.
//! They live in a slab (`PacketPool`) and events refer to them by `PacketId`, so an event stays
//! small and a packet costs no allocation once the pool has warmed up.

use crate::units::SimTime;
use serde::Serialize;

/// What a segment is, for the transports and for accounting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SegKind {
    #[default]
    Data,
    Ack,
    Syn,
    SynAck,
    Datagram,
}

/// The transport-visible part of a packet: what a sans-IO state machine emits and consumes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub kind: SegKind,
    /// First payload byte (TCP sequence space starts at 0 after the SYN; datagram number for UDP).
    pub seq: u64,
    /// Cumulative acknowledgement: next byte expected. The SACK blocks are offsets from it: set it
    /// before adding any, and never change it after.
    pub ack: u64,
    pub payload_bytes: u32,
    /// IP packet length: payload + headers. Serialisation and shaping charge this.
    pub wire_bytes: u32,
    /// TCP timestamp option (RFC 7323): sender's clock and the echoed value.
    pub ts: SimTime,
    pub ts_echo: SimTime,
    /// Set when the segment is a retransmission (accounting only).
    pub retransmit: bool,
    /// ECN: sender is ECN-capable (ECT) / a queue marked Congestion Experienced / receiver echo.
    pub ect: bool,
    pub ce: bool,
    pub ece: bool,
    /// The sender will write nothing more (FIN, RFC 9293). Modelled as a flag on the last data
    /// segment, or on a bare segment when everything was already sent.
    pub fin: bool,
    /// IPv4 Don't Fragment: a hop that cannot carry it drops it and says so by ICMP (RFC 1191).
    pub df: bool,
    /// SACK blocks (RFC 2018): received ranges above the cumulative ACK, most recent first,
    /// kept as offsets from `ack` (a block lies within the receive buffer above it, which
    /// validation keeps below 2 GiB), which keeps a packet at 192 bytes rather than 216. Read
    /// them with [`Segment::sack_blocks`], add them with [`Segment::push_sack_block`] once `ack`
    /// is set.
    pub(crate) sack_count: u8,
    pub(crate) sack_offsets: [(u32, u32); MAX_SACK_BLOCKS],
    /// TCP: the receive window the sender of this segment advertises, in bytes (after window
    /// scaling, RFC 7323 section 2). Unused by the datagram transports.
    pub wnd: u32,
}

/// With the timestamps option present, 40 bytes of option space leave room for 3 SACK blocks
/// (RFC 2018 section 3).
pub const MAX_SACK_BLOCKS: usize = 3;

impl Segment {
    /// The MSS option of a SYN or SYN-ACK (RFC 9293 section 3.7.1), which a gateway may clamp.
    /// A SYN carries no SACK blocks, so the option lives in the first block's slot: segments
    /// stay small on the packet path.
    pub fn mss_option(&self) -> u16 {
        if matches!(self.kind, SegKind::Syn | SegKind::SynAck) { self.sack_offsets[0].0 as u16 } else { 0 }
    }
    pub fn set_mss_option(&mut self, mss: u16) {
        debug_assert!(matches!(self.kind, SegKind::Syn | SegKind::SynAck) && self.sack_count == 0);
        self.sack_offsets[0].0 = mss as u32;
    }

    /// The SACK blocks, most recent first, as `(start, end)` in sequence space.
    pub fn sack_blocks(&self) -> impl ExactSizeIterator<Item = (u64, u64)> + '_ {
        let ack = self.ack;
        self.sack_offsets[..self.sack_count as usize].iter().map(move |&(s, e)| (ack + s as u64, ack + e as u64))
    }

    /// Append a SACK block `(start, end)` (RFC 2018 section 3: at most [`MAX_SACK_BLOCKS`] with
    /// timestamps). It must lie at or above `ack`, set before, and end within 4 GiB of it: a
    /// receiver SACKs only what it holds beyond its cumulative ACK, inside its buffer.
    pub fn push_sack_block(&mut self, (start, end): (u64, u64)) {
        let n = self.sack_count as usize;
        assert!(n < MAX_SACK_BLOCKS, "more than {MAX_SACK_BLOCKS} SACK blocks");
        let offset = |x: u64| {
            x.checked_sub(self.ack)
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or_else(|| panic!("SACK block {start}-{end} not within 4 GiB above ACK {}", self.ack))
        };
        assert!(start < end, "empty SACK block {start}-{end}");
        self.sack_offsets[n] = (offset(start), offset(end));
        self.sack_count += 1;
    }
}

pub type PacketId = u32;

/// Where a packet's route ends: a transport endpoint, or one of the Nitro card's SRD engines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sink {
    #[default]
    Endpoint,
    /// The sending card's SRD engine of connection `n` takes the host packet in.
    SrdSend(u32),
    /// The receiving card's SRD engine gets an SRD data packet.
    SrdReceive(u32),
    /// The sending card's SRD engine gets an acknowledgement.
    SrdAcked(u32),
    /// An ICMP "fragmentation needed" for endpoint `dst_endpoint`, sent by `gateway`, carrying
    /// the next-hop `mtu`; the packet's `seg` is the offending segment.
    Icmp { gateway: u16, mtu: u16 },
}

/// SRD's header on the fabric (sequence, path entropy, send time echoed by the ACK).
#[derive(Clone, Copy, Debug, Default)]
pub struct SrdHeader {
    pub seq: u64,
    /// `seq` minus the sender's floor (everything below is acknowledged or abandoned), capped:
    /// a cap only makes the receiver learn of an abandoned sequence a packet later.
    pub floor_behind: u32,
    pub path: u16,
    pub sent_at: SimTime,
    /// Outer ECN bits of the encapsulation (ECN-capable, Congestion Experienced).
    pub ect: bool,
    pub ce: bool,
}

/// Ports of its route a packet carries itself (see [`Packet::ahead`]): a route through the
/// fabric and both hosts' stages has about ten, gateways and forwarding instances add more.
pub const AHEAD_PORTS: usize = 11;

/// Laid out by use: what every hop reads (route, hop, size, sink and the route's first ports)
/// fills the first 64 bytes, which the run loop prefetches events ahead; the segment and SRD
/// header follow. Three cache lines, aligned to them, so that those 64 bytes are one line.
/// (At 216 bytes, aligning made slots 256 bytes and cost more memory than it saved time.)
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
pub struct Packet {
    /// Route it follows and how far along it is.
    pub route: u32,
    pub hop: u16,
    /// This leg crosses the fabric (where `fabric.loss_rate` applies).
    pub lossy: bool,
    /// Size on the current leg (the segment plus any encapsulation): what ports charge.
    pub wire_bytes: u32,
    pub sink: Sink,
    /// The route's first ports, copied when the packet is created (`Model::alloc_packet`), then
    /// in the entries from the route's end on, its delivery tag (`model::dispatch`: where it is
    /// going once off the route, a hint of whose state to prefetch): each hop finds its next
    /// port, and the last its sink, in the packet's own cache line rather than in the route
    /// table or the packet's later lines, a miss per hop at scale. Hops beyond these read the
    /// table.
    pub ahead: [u32; AHEAD_PORTS],
    /// Endpoint it is finally addressed to, with that endpoint slot's generation (stale slots are
    /// caught), carried through SRD.
    pub dst_endpoint: u32,
    pub dst_generation: u32,
    /// When the packet entered the network (one-way latency).
    pub born: SimTime,
    /// Route to follow after the SRD leg (the receiving host's side).
    pub then_route: u32,
    /// IPv4 fragment position, when the packet is a fragment.
    pub frag: super::ip::FragInfo,
    pub srd: SrdHeader,
    pub seg: Segment,
}

impl Packet {
    /// The last entry of `ahead` is free when the route ends before it: a hop reads the entry
    /// after its own port, and the one after the last port holds the delivery tag (from
    /// `MAX_PORTS` up, never a port), so no hop reads past it. Its sink may keep a word there,
    /// in the line every hop loads (see [`Packet::carry`]).
    fn has_spare_word(&self) -> bool {
        self.ahead[AHEAD_PORTS - 2] as usize >= super::MAX_PORTS
    }

    /// Keep `word` for the packet's sink in the spare entry, once its route's ports are filled
    /// in (`Model::alloc_packet`); false when the route is too long to leave one.
    pub fn carry(&mut self, word: u32) -> bool {
        let spare = self.has_spare_word();
        if spare {
            self.ahead[AHEAD_PORTS - 1] = word;
        }
        spare
    }

    /// The word [`Packet::carry`] kept, for a sink that knows it was kept: the same test on the
    /// same route, which no hop changes.
    pub fn carried(&self) -> Option<u32> {
        self.has_spare_word().then_some(self.ahead[AHEAD_PORTS - 1])
    }
}

/// Why a packet was dropped. Every drop has exactly one reason, counted per reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// A fabric queue (switch or NIC port) was full: drop-tail.
    QueueFull,
    /// The Nitro card's per-flow shaper queue was full (single-flow cap, 5/10 Gbps).
    FlowCapExceeded,
    /// The instance's aggregate outbound bandwidth shaper queue was full (ENA `bw_out_allowance_exceeded`).
    BwOutAllowanceExceeded,
    /// The instance's aggregate inbound bandwidth shaper queue was full (ENA `bw_in_allowance_exceeded`).
    BwInAllowanceExceeded,
    /// The receiving or sending vCPU's backlog was full (Linux `netdev_max_backlog`).
    CpuBacklog,
    /// Loss injected on purpose (scenario `loss_rate`, tests).
    InjectedLoss,
    /// Arrived for a connection that no longer exists (Linux would answer with a RST).
    NoSocket,
    /// An SRD packet beyond the receiving card's reorder buffer (not acknowledged; SRD resends).
    ReorderBufferFull,
    /// The sending card's SRD queue was full (the host's TCP will retransmit).
    SrdQueueFull,
    /// Refused by the security groups of an ENI (no rule allows it), including EFA traffic
    /// between ENIs that share no group allowing all traffic within itself.
    SecurityGroup,
    /// Refused by a subnet's network ACL (a deny rule, or no rule: the default `*`).
    NetworkAcl,
    /// DF set and larger than a hop's MTU: dropped there, and an ICMP "fragmentation needed"
    /// goes back unless something discards it (RFC 1191).
    FragmentationNeeded,
    /// An ICMP message discarded by a gateway or middlebox configured to drop ICMP.
    IcmpBlocked,
    /// Fragments of a datagram that did not complete within `ipfrag_time` (Linux 30 s).
    ReassemblyTimeout,
    /// No room in the receiver's reassembly memory (`ipfrag_high_thresh`).
    ReassemblyBufferFull,
    /// The instance's packets-per-second allowance queue was full (ENA `pps_allowance_exceeded`).
    PpsAllowanceExceeded,
    /// A new connection found the instance's connection-tracking table full (ENA
    /// `conntrack_allowance_exceeded`).
    ConntrackAllowanceExceeded,
    /// Its flow's connection-tracking entry idled past its timeout and was removed; evaluated
    /// as a new flow, the security groups refuse it.
    ConntrackExpired,
    /// Forwarded through an ENI whose source/destination check is on: neither from nor to it.
    SourceDestCheck,
    /// Offered to a link that a timed action took down.
    LinkDown,
    /// To or from an instance that a timed action failed.
    InstanceDown,
    /// Beyond the ENI's 1024 packets per second to link-local services (ENA
    /// `linklocal_allowance_exceeded`).
    LinklocalAllowanceExceeded,
    /// A NAT gateway had no source port left for the destination (CloudWatch `ErrorPortAllocation`).
    NatPortAllocation,
    /// A NAT gateway's queue was full: beyond its current bandwidth or packet rate.
    NatGatewayCapacity,
    /// Reached a NAT gateway with no translation for it (never opened, or idle past 350 s).
    NatNoTranslation,
}

impl DropReason {
    pub const ALL: [DropReason; 25] = [
        DropReason::QueueFull,
        DropReason::FlowCapExceeded,
        DropReason::BwOutAllowanceExceeded,
        DropReason::BwInAllowanceExceeded,
        DropReason::CpuBacklog,
        DropReason::InjectedLoss,
        DropReason::NoSocket,
        DropReason::ReorderBufferFull,
        DropReason::SrdQueueFull,
        DropReason::SecurityGroup,
        DropReason::NetworkAcl,
        DropReason::FragmentationNeeded,
        DropReason::IcmpBlocked,
        DropReason::ReassemblyTimeout,
        DropReason::ReassemblyBufferFull,
        DropReason::PpsAllowanceExceeded,
        DropReason::ConntrackAllowanceExceeded,
        DropReason::ConntrackExpired,
        DropReason::SourceDestCheck,
        DropReason::LinkDown,
        DropReason::InstanceDown,
        DropReason::LinklocalAllowanceExceeded,
        DropReason::NatPortAllocation,
        DropReason::NatGatewayCapacity,
        DropReason::NatNoTranslation,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    pub fn name(self) -> &'static str {
        match self {
            DropReason::QueueFull => "queue_full",
            DropReason::FlowCapExceeded => "flow_cap_exceeded",
            DropReason::BwOutAllowanceExceeded => "bw_out_allowance_exceeded",
            DropReason::BwInAllowanceExceeded => "bw_in_allowance_exceeded",
            DropReason::CpuBacklog => "cpu_backlog",
            DropReason::InjectedLoss => "injected_loss",
            DropReason::NoSocket => "no_socket",
            DropReason::ReorderBufferFull => "reorder_buffer_full",
            DropReason::SrdQueueFull => "srd_queue_full",
            DropReason::SecurityGroup => "security_group",
            DropReason::NetworkAcl => "network_acl",
            DropReason::FragmentationNeeded => "fragmentation_needed",
            DropReason::IcmpBlocked => "icmp_blocked",
            DropReason::ReassemblyTimeout => "reassembly_timeout",
            DropReason::ReassemblyBufferFull => "reassembly_buffer_full",
            DropReason::PpsAllowanceExceeded => "pps_allowance_exceeded",
            DropReason::ConntrackAllowanceExceeded => "conntrack_allowance_exceeded",
            DropReason::ConntrackExpired => "conntrack_expired",
            DropReason::SourceDestCheck => "source_dest_check",
            DropReason::LinkDown => "link_down",
            DropReason::InstanceDown => "instance_down",
            DropReason::LinklocalAllowanceExceeded => "linklocal_allowance_exceeded",
            DropReason::NatPortAllocation => "nat_port_allocation",
            DropReason::NatGatewayCapacity => "nat_gateway_capacity",
            DropReason::NatNoTranslation => "nat_no_translation",
        }
    }
}

/// Slab of live packets with a free list. `live()` is the in-flight count.
#[derive(Default)]
pub struct PacketPool {
    slots: Vec<Packet>,
    free: Vec<PacketId>,
}

impl PacketPool {
    pub fn with_capacity(n: usize) -> Self {
        PacketPool { slots: crate::engine::huge_vec(n), free: Vec::with_capacity(n) }
    }

    pub fn alloc(&mut self, p: Packet) -> PacketId {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = p;
                id
            }
            None => {
                let id = u32::try_from(self.slots.len()).expect("more than 2^32 packets in flight");
                crate::engine::reserve_huge(&mut self.slots, 1);
                self.slots.push(p);
                id
            }
        }
    }

    pub fn free(&mut self, id: PacketId) {
        debug_assert!((id as usize) < self.slots.len());
        self.free.push(id);
    }

    pub fn get(&self, id: PacketId) -> &Packet {
        &self.slots[id as usize]
    }

    pub fn get_mut(&mut self, id: PacketId) -> &mut Packet {
        &mut self.slots[id as usize]
    }

    pub fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// High-water mark of simultaneously live packets (memory is proportional to this).
    pub fn capacity_used(&self) -> usize {
        self.slots.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn what_every_hop_reads_is_in_the_first_cache_line() {
        // The run loop prefetches one line of the next packet: route, hop, size, sink and the
        // route's first ports must all be in it, or each hop pays a miss.
        for end in [
            offset_of!(Packet, route) + size_of::<u32>(),
            offset_of!(Packet, hop) + size_of::<u16>(),
            offset_of!(Packet, wire_bytes) + size_of::<u32>(),
            offset_of!(Packet, sink) + size_of::<Sink>(),
            offset_of!(Packet, ahead) + size_of::<[u32; AHEAD_PORTS]>(),
        ] {
            assert!(end <= 64, "a hop field ends at byte {end}");
        }
        assert_eq!(
            size_of::<Packet>(),
            192,
            "the packet's size: docs/performance.md's memory figures count packets of 216 bytes \
             before 3270a15 and 192 (three cache lines) from it"
        );
    }

    #[test]
    fn sack_blocks_read_back_as_written_far_into_sequence_space() {
        // Sequence numbers past 4 GiB: only the offsets from the ACK must fit 32 bits.
        let ack = 5u64 << 32;
        let mut seg = Segment { kind: SegKind::Ack, ack, ..Segment::default() };
        let blocks = [(ack + 9000, ack + 18_000), (ack + 1, ack + 2), (ack + 100, ack + u32::MAX as u64)];
        for b in blocks {
            seg.push_sack_block(b);
        }
        assert_eq!(seg.sack_blocks().len(), 3);
        assert!(seg.sack_blocks().eq(blocks), "{:?}", seg.sack_blocks().collect::<Vec<_>>());
        assert_eq!(Segment::default().sack_blocks().len(), 0);
    }

    #[test]
    #[should_panic(expected = "not within 4 GiB above ACK")]
    fn a_sack_block_below_the_ack_is_refused_not_wrapped() {
        let mut seg = Segment { ack: 10_000, ..Segment::default() };
        seg.push_sack_block((9000, 10_500));
    }

    #[test]
    #[should_panic(expected = "more than 3 SACK blocks")]
    fn a_fourth_sack_block_is_refused() {
        let mut seg = Segment::default();
        for k in 0..4 {
            seg.push_sack_block((10 * k + 1, 10 * k + 5));
        }
    }
}
