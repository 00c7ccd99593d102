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
}

impl Outbox {
    pub fn clear(&mut self) {
        self.segments.clear();
        self.delivered_bytes = 0;
        self.established = false;
    }
}

/// Per-endpoint counters, reported per flow.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransportStats {
    pub segments_sent: u64,
    pub payload_bytes_sent: u64,
    pub retransmits: u64,
    pub rtos: u64,
    pub fast_retransmits: u64,
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
}

/// Closed set of transports: dispatch by `match`, not by `Box<dyn>`.
// Endpoints sit in an arena and are touched per packet: boxing the big variant would add an
// indirection on the hot path to save memory we do not lack.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Endpoint {
    Tcp(Tcp),
    Udp(Udp),
    Efa(efa::Efa),
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
}
