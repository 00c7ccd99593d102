//! Transports are sans-IO state machines: time and segments in, segments and a timer deadline
//! out. They never see the event queue, the fabric or the clock directly, so a unit test can drive
//! one with a hand-written clock and scripted loss (see `tests/theory.rs`).
//!
//! The glue in `model` calls `send` / `on_segment` / `on_timer`, then drains the `Outbox` and asks
//! `poll_at` when it next wants to be woken. Stale wake-ups are harmless: `on_timer` checks its own
//! deadlines.

pub mod congestion;
pub mod efa;
pub mod srd;
pub mod tcp;
pub mod udp;

use crate::net::Segment;
use crate::units::SimTime;

pub use congestion::CongestionKind;
pub use tcp::{Tcp, TcpConfig};
pub use udp::Udp;

/// What a transport produced during one call. The glue clears it before each call; its vectors
/// keep their capacity, so steady-state operation allocates nothing.
#[derive(Default, Debug)]
pub struct Outbox {
    pub segments: Vec<Segment>,
    /// In-order bytes newly handed to the application.
    pub delivered_bytes: u64,
    /// The connection became established during this call.
    pub established: bool,
    /// Notable things that happened inside (for the event log).
    pub notes: Vec<Note>,
}

impl Outbox {
    pub fn clear(&mut self) {
        self.segments.clear();
        self.delivered_bytes = 0;
        self.established = false;
        self.notes.clear();
    }
}

/// Why a TCP sender's MSS changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MssCause {
    /// An ICMP "fragmentation needed" reported this path MTU (RFC 1191).
    PathMtu(u32),
    /// Retransmissions timed out past `tcp_retries1`: black-hole detection (Linux, RFC 4821).
    BlackHole,
    /// A larger probe was acknowledged (RFC 4821 section 7.6).
    ProbeAcked,
}

/// Events inside a transport worth a line in the event log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The retransmission timer fired; `backoff` RTOs in a row, the next one after `rto`.
    Rto {
        backoff: u32,
        rto: crate::units::SimDuration,
    },
    MssChanged {
        from: u64,
        to: u64,
        cause: MssCause,
    },
    /// A packetization-layer path MTU probe of this IP size went out (RFC 4821).
    ProbeSent {
        mtu: u32,
    },
    /// The probe was lost: the search's upper bound drops below it.
    ProbeFailed {
        mtu: u32,
    },
    /// A tail loss probe went out (RFC 8985 section 7).
    LossProbe,
    /// The connection gave up (ETIMEDOUT): data past `tcp_retries2`, or a SYN past `tcp_syn_retries`.
    Aborted {
        reason: tcp::AbortReason,
    },
}

/// Per-endpoint counters, reported per flow.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransportStats {
    pub segments_sent: u64,
    pub payload_bytes_sent: u64,
    /// IP bytes of the data-carrying segments sent (payload + headers), retransmissions included.
    pub data_wire_bytes_sent: u64,
    /// Data-carrying segments sent, retransmissions included.
    pub data_segments_sent: u64,
    pub retransmits: u64,
    pub rtos: u64,
    pub fast_retransmits: u64,
    /// Tail loss probes sent (RFC 8985 section 7).
    pub loss_probes: u64,
    pub bytes_delivered: u64,
    /// Largest gap, in RTO backoffs, reached (1 = one RTO fired in a row).
    pub max_backoff: u32,
}

/// The one interface every transport implements.
pub trait Transport {
    /// Open the connection (active side). Connectionless transports do nothing.
    fn connect(&mut self, _now: SimTime, _out: &mut Outbox) {}
    /// The application will write nothing more (shutdown for writing).
    fn close(&mut self, _now: SimTime, _out: &mut Outbox) {}
    /// The application hands `bytes` more bytes to send.
    fn send(&mut self, now: SimTime, bytes: u64, out: &mut Outbox);
    fn on_segment(&mut self, now: SimTime, seg: &Segment, out: &mut Outbox);
    fn stats(&self) -> &TransportStats;
    // The defaults below fit a datagram transport that puts every byte on the wire the moment it
    // is written and keeps no timers (UDP, EFA's RDM layer, whose reliability is SRD in the card).
    fn on_timer(&mut self, _now: SimTime, _out: &mut Outbox) {}
    /// The earliest time this transport needs `on_timer`, if any.
    fn poll_at(&self) -> Option<SimTime> {
        None
    }
    /// All bytes the application wrote have been acknowledged (or sent, without acknowledgements).
    fn all_acked(&self) -> bool {
        true
    }
    /// The application stops writing: bytes not yet sent are withdrawn. Returns the total the
    /// application has now written, which is what the peer will receive.
    fn stop_writing(&mut self) -> u64 {
        self.stats().payload_bytes_sent
    }
    /// An ICMP "fragmentation needed" for one of our packets reported the next hop's MTU.
    /// Datagram transports leave it to the application (and the host's path MTU cache).
    fn on_path_mtu(&mut self, _now: SimTime, _mtu: u32, _out: &mut Outbox) {}
}

/// Closed set of transports: dispatch by `match`, not by `Box<dyn>`.
// Endpoints sit in an arena and are touched per packet: boxing the big variant would add an
// indirection on the hot path to save memory we do not lack.
// `repr(u8)`: each variant's state starts at a known offset (after the tag, at its alignment), so
// the bytes a visit reads are known without reading the slot (`Endpoint::VISIT_BYTES`).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
#[repr(u8)]
pub enum Endpoint {
    Tcp(Tcp),
    Udp(Udp),
    Efa(efa::Efa),
}

impl Endpoint {
    /// Bytes from an endpoint's start that a visit reads: [an ACK's or a timer's, a data
    /// segment's]. TCP's state is laid out by visit ([`Tcp::VISIT_BYTES`]); the other
    /// transports' states are read whole, and are smaller.
    pub const VISIT_BYTES: [usize; 2] = {
        // A `repr(u8)` enum is a union of `repr(C)` structs, each the tag and then the variant.
        let tcp_at = std::mem::align_of::<Tcp>();
        let others = max(
            std::mem::align_of::<Udp>() + std::mem::size_of::<Udp>(),
            std::mem::align_of::<efa::Efa>() + std::mem::size_of::<efa::Efa>(),
        );
        [max(tcp_at + Tcp::VISIT_BYTES[0], others), max(tcp_at + Tcp::VISIT_BYTES[1], others)]
    };
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

macro_rules! delegate {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            Endpoint::Tcp($t) => $e,
            Endpoint::Udp($t) => $e,
            Endpoint::Efa($t) => $e,
        }
    };
}

impl Transport for Endpoint {
    fn connect(&mut self, now: SimTime, out: &mut Outbox) {
        delegate!(self, t => t.connect(now, out))
    }
    fn send(&mut self, now: SimTime, bytes: u64, out: &mut Outbox) {
        delegate!(self, t => t.send(now, bytes, out))
    }
    fn close(&mut self, now: SimTime, out: &mut Outbox) {
        delegate!(self, t => t.close(now, out))
    }
    fn on_segment(&mut self, now: SimTime, seg: &Segment, out: &mut Outbox) {
        delegate!(self, t => t.on_segment(now, seg, out))
    }
    fn on_timer(&mut self, now: SimTime, out: &mut Outbox) {
        delegate!(self, t => t.on_timer(now, out))
    }
    fn poll_at(&self) -> Option<SimTime> {
        delegate!(self, t => t.poll_at())
    }
    fn stats(&self) -> &TransportStats {
        delegate!(self, t => t.stats())
    }
    fn all_acked(&self) -> bool {
        delegate!(self, t => t.all_acked())
    }
    fn stop_writing(&mut self) -> u64 {
        delegate!(self, t => t.stop_writing())
    }
    fn on_path_mtu(&mut self, now: SimTime, mtu: u32, out: &mut Outbox) {
        delegate!(self, t => t.on_path_mtu(now, mtu, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Endpoint::VISIT_BYTES` takes each variant's state to start after the tag at its own
    /// alignment (`repr(u8)`), and covers the smaller transports whole: checked on real values.
    #[test]
    fn visit_bytes_match_the_layout() {
        let at = |e: &Endpoint| {
            let inner = match e {
                Endpoint::Tcp(t) => t as *const Tcp as usize,
                Endpoint::Udp(u) => u as *const Udp as usize,
                Endpoint::Efa(f) => f as *const efa::Efa as usize,
            };
            inner - e as *const Endpoint as usize
        };
        let tcp = Endpoint::Tcp(Tcp::new(TcpConfig::default(), 9001, true));
        assert_eq!(at(&tcp), std::mem::align_of::<Tcp>());
        let [ack, data] = Endpoint::VISIT_BYTES;
        assert_eq!(ack, at(&tcp) + Tcp::VISIT_BYTES[0]);
        assert_eq!(data, at(&tcp) + Tcp::VISIT_BYTES[1]);
        // A data segment's visit reads fewer lines than an ACK's, and neither reads all of them.
        assert!(data.div_ceil(64) < ack.div_ceil(64) && ack < std::mem::size_of::<Endpoint>());
        // The other transports are read whole, within either prefix.
        let udp = Endpoint::Udp(Udp::new(9001, true));
        assert!(at(&udp) + std::mem::size_of::<Udp>() <= data);
        let efa = Endpoint::Efa(efa::Efa::new(9001));
        assert!(at(&efa) + std::mem::size_of::<efa::Efa>() <= data);
    }
}
