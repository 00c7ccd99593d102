//! SRD, the Scalable Reliable Datagram protocol of the Nitro card, as published in Shalev et al.,
//! "A Cloud-Optimized Transport Protocol for Elastic and Scalable HPC", IEEE Micro 40(6), 2020,
//! and AWS's ENA Express documentation:
//!
//! - **Spraying**: one connection's packets go over many fabric paths; the sender picks a path per
//!   packet by choosing the encapsulation entropy the switches hash on (`paths` values).
//! - **Congestion-aware path selection**: per-path RTT from ACKs and in-flight counts; paths
//!   that time out are avoided for a while. The policy is pluggable (`PathPolicy`).
//! - **Rate-based congestion control per connection**, driven by RTT: a window that grows while the
//!   best path's RTT stays near the fabric's base RTT and shrinks in proportion to the excess
//!   bounds the bytes in flight, and packets are paced at window / RTT, so they leave spread over
//!   the round trip instead of in bursts.
//! - **Retransmission in the card** after a timer near the fabric RTT (hundreds of microseconds,
//!   not TCP's 200 ms), on another path when there is one; after `max_retries` SRD gives up and the
//!   transport above sees the loss.
//! - **Moving past an abandoned sequence** (a model choice: the paper says SRD is a datagram
//!   service whose losses are the host's to repair, not how a reordering receiver learns of
//!   them). Every data packet carries the sender's `floor`: the lowest sequence it has neither
//!   seen acknowledged nor given up. Below it nothing will ever come again, so the receiver
//!   hands up what it holds there and skips the holes, as PR-SCTP's FORWARD TSN does (RFC 3758
//!   section 3.5). The sender knows exactly what it abandoned, so this needs no guess, no timer
//!   in the receiver and no extra packet: the next packet of the connection (the host's own
//!   retransmission, at the latest) carries the news, even when the give-up itself happened
//!   while the fabric was down. A receive-side timeout on holes was the alternative; it would
//!   either wait longer than the sender's retries (stalling every flow behind the hole) or
//!   skip holes the sender is still repairing (turning a late packet into a loss).
//! - **Delivery**: reliable but out of order on the wire. `SrdReceiver` either reorders into
//!   sequence in a bounded buffer (ENA Express) or hands packets up as they come (EFA).
//!
//! Both halves are sans-IO: payloads (`P`, opaque to SRD) and time in, transmissions, ACKs,
//! deliveries and a wake-up time out, so they are tested here with a hand-driven clock.
//!
//! Where things are: this file holds the configuration and what crosses the wire between the
//! halves (`Transmission`, `SrdAck`); `sender.rs` the sending half (path choice, window and
//! pacing, retransmission timer, give-up); `receiver.rs` the receiving half, its reorder ring
//! and duplicate detection, whole in one file; `inline_deque.rs` the queue the sender keeps its
//! packets in flight, deadlines and waiting packets in, their usual few in its own lines.

mod inline_deque;
mod receiver;
mod sender;
#[cfg(test)]
mod tests;

pub use receiver::{ReceiverOut, ReceiverStats, SrdReceiver};
pub use sender::{SenderOut, SrdSender, SrdStats};

use crate::units::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// How the sender picks a path for each packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PathPolicy {
    /// Least expected drain time: (in-flight + 1) x smoothed RTT; SRD's congestion-aware choice.
    #[default]
    Adaptive,
    RoundRobin,
    Random,
    LeastRtt,
    LeastInflight,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Srd", deny_unknown_fields, default)]
pub struct SrdConfig {
    /// Entropy values (paths) a connection sprays over (1..=256).
    pub paths: u32,
    pub policy: PathPolicy,
    /// Paths the comparing policies look at per packet (from a rotating start); 0 = all. A few
    /// suffice to steer around hot paths (the power of d choices) and keep the cost per packet flat.
    pub candidates: u32,
    /// Retransmission timer, near the fabric RTT (a model parameter; the paper gives no figure).
    /// A path whose smoothed RTT grows beyond half of it gets twice its RTT instead, so a slow
    /// path does not cause spurious retransmissions.
    pub retransmit_timeout: SimDuration,
    /// Retransmissions of one packet before SRD gives up and the loss reaches the host.
    pub max_retries: u32,
    /// A path whose packet timed out is avoided for this long.
    pub path_holddown: SimDuration,
    /// Reorder buffer of the receiving card, in packets (ENA Express).
    pub reorder_buffer: u32,
    /// Reorder in the receiving card before the host sees the packets (ENA Express). `false`
    /// hands them up as they arrive, as EFA does; for TCP above, that shows what reordering buys.
    pub deliver_in_order: bool,
    /// Encapsulation bytes SRD adds to each packet on the fabric.
    pub header_bytes: u32,
    /// Size of an SRD acknowledgement on the wire.
    pub ack_bytes: u32,
    /// Per-packet SRD processing in each card (send and receive side).
    pub processing_delay: SimDuration,
    /// Congestion window at start, its floor and its ceiling, in bytes.
    pub initial_window: crate::units::Bytes,
    pub min_window: crate::units::Bytes,
    pub max_window: crate::units::Bytes,
    /// Queueing delay over the base RTT that the window aims for. Keep it below the drain time of
    /// the bottleneck port's buffer, or the queue it aims for overflows.
    pub target_queueing: SimDuration,
    /// Packets waiting in the card for the window (beyond: the card drops, the host retransmits).
    pub send_queue: u32,
    /// Mark SRD packets ECN-capable; a path whose ACKs echo Congestion Experienced looks slower
    /// to path selection, and the window backs off as it does for a high RTT.
    pub ecn: bool,
}

impl Default for SrdConfig {
    fn default() -> Self {
        SrdConfig {
            paths: 16,
            policy: PathPolicy::Adaptive,
            candidates: 8,
            retransmit_timeout: SimDuration::from_us(250),
            max_retries: 7,
            path_holddown: SimDuration::from_us(500),
            reorder_buffer: 512,
            deliver_in_order: true,
            header_bytes: 32,
            ack_bytes: 64,
            processing_delay: SimDuration::from_ns(1500),
            initial_window: crate::units::Bytes(256 * 1024),
            min_window: crate::units::Bytes(64 * 1024),
            max_window: crate::units::Bytes(4 * 1024 * 1024),
            // Half the drain time of one fabric port's buffer (512 KiB at 100 Gbps: 41.9 us,
            // `FabricSpec::buffer`): a target the buffer cannot hold makes the standing queue
            // overflow before the RTT signals it (it was 50 us, and p5 all-reduce trees dropped
            // from 256 MiB up); the other half absorbs what arrives while the signal travels back.
            target_queueing: SimDuration::from_us(20),
            send_queue: 4096,
            ecn: false,
        }
    }
}

/// One packet on the wire as SRD sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmission<P> {
    pub seq: u64,
    /// The sender's floor when it sent this: every sequence below is acknowledged or abandoned.
    pub floor: u64,
    pub path: u16,
    pub bytes: u32,
    pub retransmit: bool,
    pub payload: P,
}

/// An acknowledgement, echoing what the sender needs for its RTT sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrdAck {
    pub seq: u64,
    pub path: u16,
    pub sent_at: SimTime,
    /// The data packet arrived marked Congestion Experienced (with `ecn` on).
    pub ce: bool,
}
