//! EFA endpoints as libfabric's RDM provider presents them: reliable datagram messages over SRD,
//! with no ordering between messages and no transport-level retransmission (SRD in the Nitro card
//! is the reliability).
//!
//! Two kinds of traffic cross an endpoint:
//!
//! - **One-sided** data (RDMA read responses, RDMA writes, NCCL's write-based transfers): the
//!   card moves registered memory; a transfer is cut into packets and is complete when its last
//!   byte has landed, whatever order the packets came in. No host CPU touches the data.
//! - **Two-sided messages** (`fi_send`/`fi_tsend`, what MPI's `MPI_Send` becomes), which the EFA
//!   provider carries with one of its message protocols, chosen by size (libfabric
//!   `prov/efa/src/rdm/efa_rdm_msg.c`, thresholds from fi_efa(7)):
//!   - *eager*: the message fits one packet;
//!   - *medium*: up to `FI_EFA_INTER_MAX_MEDIUM_MESSAGE_SIZE` (65 536 B), sent at once as several
//!     packets into the receiver's bounce buffers;
//!   - *long-read*: at least `FI_EFA_INTER_MIN_READ_MESSAGE_SIZE` (1 048 576 B) when both devices
//!     do RDMA read: a request-to-send names the sender's buffer, the receiver's card reads it
//!     (zero copy), and an end-of-read packet releases the sender;
//!   - *long-CTS* otherwise: the request-to-send carries the first packet's worth of data; the
//!     receiver answers with a clear-to-send (CTS) granting a window of
//!     `min(bytes left, tx_min_credits x max payload)` bytes (`efa_rdm_pke_init_cts`, with
//!     `efa_env.tx_min_credits = 32`); the sender sends that window; every data packet lands in a
//!     bounce buffer and the receiver's progress thread copies it into the user's buffer; when
//!     the window is used up the receiver posts the next CTS (`efa_rdm_pke_proc_ctsdata`). So a
//!     long message costs one CTS round trip per 32 packets, and the receiving core's copy rate
//!     bounds the data rate in between.
//!
//! Every protocol but long-read lands in bounce buffers, and the receiver's progress engine copies
//! each packet into the user's buffer as it processes the packet's completion, whatever the
//! protocol: `efa_rdm_pke_proc_matched_mulreq_rtm` (prov/efa/src/rdm/efa_rdm_pke_rtm.c) copies
//! each medium packet's payload as it comes (`efa_rdm_pke_copy_payload_to_ope`) and reports the
//! receive completion when the last byte is in. The copy is serial (one progress thread) and
//! overlaps the arrival of later packets, so a medium message costs its wire time plus about one
//! packet's copy, not the wire time plus the whole copy; a long-CTS message's copies also pace
//! its CTS grants. The application layer charges only the completion-queue poll.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Outbox, Transport, TransportStats};
use crate::net::{SegKind, Segment};
use crate::units::{Bandwidth, SimDuration, SimTime};

/// Per-packet EFA/RDM protocol header bytes on the wire (a model parameter: libfabric's RDM
/// header and EFA's own framing; SRD's encapsulation is added by SRD).
pub const EFA_HEADER_BYTES: u32 = 64;
/// Messages being reassembled at once; beyond that the oldest is forgotten (a bound, not a case
/// that arises with SRD's reliable delivery).
pub const MAX_PARTIAL_MESSAGES: usize = 4096;
/// Largest message sent by the medium protocol. Source: fi_efa(7),
/// `FI_EFA_INTER_MAX_MEDIUM_MESSAGE_SIZE`, default 65536.
pub const INTER_MAX_MEDIUM_MESSAGE_BYTES: u64 = 65_536;
/// Smallest message sent by the long-read protocol when both ends do RDMA read. Source:
/// fi_efa(7), `FI_EFA_INTER_MIN_READ_MESSAGE_SIZE`, default 1048576.
pub const INTER_MIN_READ_MESSAGE_BYTES: u64 = 1_048_576;
/// Packets a long-CTS receiver grants per CTS. Source: libfabric `prov/efa/src/efa_env.c`,
/// `efa_env.tx_min_credits = 32`, used as the CTS window in `efa_rdm_pke_init_cts`
/// (`recv_length = MIN(bytes_left, tx_min_credits * max_data_payload_size)`).
pub const CTS_WINDOW_PACKETS: u64 = 32;

/// The message protocol of a two-sided message (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MsgProtocol {
    Eager,
    Medium,
    LongCts,
    LongRead,
}

/// How an endpoint carries what the application hands it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EfaMode {
    /// One-sided transfers: packets out at once, complete on the last byte.
    OneSided,
    /// Two-sided messages through libfabric's protocols.
    Messages(MessageConfig),
}

/// What the message protocols need to know about the two hosts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MessageConfig {
    /// Both devices support RDMA read (the long-read protocol is possible).
    pub rdma_read: bool,
    /// Memory copy rate of the receiving core (bounce buffer -> user buffer).
    pub copy_rate: Bandwidth,
    /// Progress-engine turnaround for a control packet: poll the completion queue, post the
    /// answer (OS-bypass poll + post costs).
    pub turnaround: SimDuration,
}

// Packet types, carried in the top byte of `seq` (the message id is the rest).
const T_DATA: u64 = 0; // eager/medium data, one-sided data, long-CTS RTS data, CTS data
const T_CTS: u64 = 1; // ack = bytes granted
const T_READ_RTS: u64 = 2; // long-read request to send: ack = message size
const T_READ_REQ: u64 = 3; // RDMA read request from the receiver's card: ack = bytes to read
const T_READ_DATA: u64 = 4; // RDMA read response data
const T_EOR: u64 = 5; // end of read
const TYPE_SHIFT: u32 = 56;
const ID_MASK: u64 = (1 << TYPE_SHIFT) - 1;

fn pack(t: u64, id: u64) -> u64 {
    (t << TYPE_SHIFT) | (id & ID_MASK)
}

/// A message being sent by the long protocols.
#[derive(Clone, Copy, Debug)]
struct TxMsg {
    id: u64,
    size: u64,
    /// Bytes already sent (long-CTS: the RTS payload and granted windows).
    sent: u64,
}

/// A message being received.
#[derive(Clone, Copy, Debug)]
struct RxMsg {
    id: u64,
    size: u64,
    /// Bytes arrived (and, for long-CTS, queued for copying).
    arrived: u64,
    /// Bytes copied into the user buffer; long-CTS: bytes of the current window not yet copied.
    copied: u64,
    window_left: u64,
    /// Sent by long-CTS: copies pace CTS grants.
    long_cts: bool,
}

/// Work the progress engine does later: a copy finishing, or a control packet to post.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    /// A two-sided data packet of `bytes` has been copied out of its bounce buffer.
    Copied { id: u64, bytes: u64 },
    /// Post a CTS granting `bytes` of message `id`.
    Cts { id: u64, bytes: u64 },
    /// Send `bytes` of long-CTS data of message `id` (the answer to a CTS).
    SendWindow { id: u64, bytes: u64 },
    /// The receiver posts an RDMA read of message `id`.
    ReadReq { id: u64, size: u64 },
    /// The receiver tells the sender its read is done.
    Eor { id: u64 },
}

#[derive(Clone, Debug)]
pub struct Efa {
    max_payload: u32,
    mode: EfaMode,
    next_message: u64,
    /// Receiving side of every message in progress.
    partial: Vec<RxMsg>,
    /// Sending side of long messages in progress.
    sending: Vec<TxMsg>,
    /// When the receiving core's copy queue drains.
    copy_free_at: SimTime,
    /// Timed progress-engine work, earliest first (ties in insertion order).
    actions: BinaryHeap<Reverse<(SimTime, u64, Action)>>,
    action_seq: u64,
    /// Messages sent per protocol (eager, medium, long-CTS, long-read).
    pub protocol_counts: [u64; 4],
    /// CTS packets sent (long-CTS handshake round trips).
    pub cts_sent: u64,
    stats: TransportStats,
}

impl Efa {
    pub fn new(mtu: u32) -> Self {
        assert!(mtu > EFA_HEADER_BYTES, "MTU {mtu} too small for EFA");
        Efa {
            max_payload: mtu - EFA_HEADER_BYTES,
            mode: EfaMode::OneSided,
            next_message: 0,
            partial: Vec::new(),
            sending: Vec::new(),
            copy_free_at: SimTime::ZERO,
            actions: BinaryHeap::new(),
            action_seq: 0,
            protocol_counts: [0; 4],
            cts_sent: 0,
            stats: TransportStats::default(),
        }
    }

    /// Carry two-sided messages through the provider's protocols instead of one-sided transfers.
    pub fn with_mode(mut self, mode: EfaMode) -> Self {
        self.mode = mode;
        self
    }

    pub fn set_mode(&mut self, mode: EfaMode) {
        self.mode = mode;
    }

    pub fn mode(&self) -> EfaMode {
        self.mode
    }

    /// Bytes of data one packet carries.
    pub fn max_payload(&self) -> u32 {
        self.max_payload
    }

    /// The protocol a message of `bytes` takes under `cfg`.
    pub fn protocol(&self, cfg: &MessageConfig, bytes: u64) -> MsgProtocol {
        if bytes <= self.max_payload as u64 {
            MsgProtocol::Eager
        } else if bytes <= INTER_MAX_MEDIUM_MESSAGE_BYTES {
            MsgProtocol::Medium
        } else if cfg.rdma_read && bytes >= INTER_MIN_READ_MESSAGE_BYTES {
            MsgProtocol::LongRead
        } else {
            MsgProtocol::LongCts
        }
    }

    /// Bytes of a CTS window.
    fn cts_window(&self) -> u64 {
        CTS_WINDOW_PACKETS * self.max_payload as u64
    }

    fn schedule(&mut self, at: SimTime, a: Action) {
        self.action_seq += 1;
        self.actions.push(Reverse((at, self.action_seq, a)));
    }

    /// Emit `bytes` of data of message `id` starting at `offset`, as packets of type `t`.
    fn emit_data(&mut self, now: SimTime, t: u64, id: u64, size: u64, bytes: u64, out: &mut Outbox) {
        let mut left = bytes;
        // A zero-byte message still takes one packet.
        loop {
            let len = left.min(self.max_payload as u64) as u32;
            out.segments.push(Segment {
                kind: SegKind::Datagram,
                seq: pack(t, id),
                // The message's size rides in the ack field: the receiver knows when it is whole.
                ack: size,
                payload_bytes: len,
                wire_bytes: len + EFA_HEADER_BYTES,
                ts: now,
                ..Segment::default()
            });
            self.stats.segments_sent += 1;
            self.stats.payload_bytes_sent += len as u64;
            self.stats.data_segments_sent += 1;
            self.stats.data_wire_bytes_sent += (len + EFA_HEADER_BYTES) as u64;
            left -= len as u64;
            if left == 0 {
                break;
            }
        }
    }

    /// A header-only control packet.
    fn emit_control(&mut self, now: SimTime, t: u64, id: u64, value: u64, out: &mut Outbox) {
        out.segments.push(Segment {
            kind: SegKind::Datagram,
            seq: pack(t, id),
            ack: value,
            payload_bytes: 0,
            wire_bytes: EFA_HEADER_BYTES,
            ts: now,
            ..Segment::default()
        });
        self.stats.segments_sent += 1;
    }

    fn rx_index(&mut self, id: u64, size: u64) -> usize {
        match self.partial.iter().position(|p| p.id == id) {
            Some(i) => i,
            None => {
                if self.partial.len() >= MAX_PARTIAL_MESSAGES {
                    self.partial.remove(0);
                }
                self.partial.push(RxMsg { id, size, arrived: 0, copied: 0, window_left: 0, long_cts: false });
                self.partial.len() - 1
            }
        }
    }

    fn deliver(&mut self, size: u64, out: &mut Outbox) {
        // The whole message is delivered at once (a completion in libfabric's queue).
        out.delivered_bytes += size.max(1);
        self.stats.bytes_delivered += size.max(1);
    }

    fn run_action(&mut self, now: SimTime, a: Action, out: &mut Outbox) {
        match a {
            Action::Copied { id, bytes } => {
                let Some(i) = self.partial.iter().position(|p| p.id == id) else { return };
                let m = &mut self.partial[i];
                m.copied += bytes;
                m.window_left = m.window_left.saturating_sub(bytes);
                let (size, copied, window_left, arrived) = (m.size, m.copied, m.window_left, m.arrived);
                if copied >= size {
                    self.partial.swap_remove(i);
                    self.deliver(size, out);
                } else if m.long_cts && window_left == 0 && arrived == copied {
                    // The window is used up: grant the next one (posting costs a turnaround).
                    let grant = (size - copied).min(self.cts_window());
                    self.partial[i].window_left = grant;
                    let turnaround = self.turnaround();
                    self.schedule(now + turnaround, Action::Cts { id, bytes: grant });
                }
            }
            Action::Cts { id, bytes } => {
                self.cts_sent += 1;
                self.emit_control(now, T_CTS, id, bytes, out);
            }
            Action::SendWindow { id, bytes } => {
                let Some(i) = self.sending.iter().position(|m| m.id == id) else { return };
                let m = &mut self.sending[i];
                let bytes = bytes.min(m.size - m.sent);
                m.sent += bytes;
                let (size, done) = (m.size, m.sent >= m.size);
                if done {
                    self.sending.swap_remove(i);
                }
                self.emit_data(now, T_DATA, id, size, bytes, out);
            }
            Action::ReadReq { id, size } => self.emit_control(now, T_READ_REQ, id, size, out),
            Action::Eor { id } => self.emit_control(now, T_EOR, id, 0, out),
        }
    }

    fn turnaround(&self) -> SimDuration {
        match self.mode {
            EfaMode::Messages(c) => c.turnaround,
            EfaMode::OneSided => SimDuration::ZERO,
        }
    }

    fn copy_time(&self, bytes: u64) -> SimDuration {
        match self.mode {
            EfaMode::Messages(c) => c.copy_rate.serialisation(bytes),
            EfaMode::OneSided => SimDuration::ZERO,
        }
    }

    /// A data packet of a one-sided transfer, an eager/medium message or a long-read response;
    /// true when it completed its message.
    fn on_whole_data(&mut self, seg: &Segment, id: u64, out: &mut Outbox) -> bool {
        let i = self.rx_index(id, seg.ack);
        self.partial[i].arrived += seg.payload_bytes as u64;
        if self.partial[i].arrived < self.partial[i].size {
            return false;
        }
        let size = self.partial[i].size;
        self.partial.swap_remove(i);
        self.deliver(size, out);
        true
    }
}

impl Transport for Efa {
    fn send(&mut self, now: SimTime, bytes: u64, out: &mut Outbox) {
        let id = self.next_message;
        self.next_message += 1;
        let cfg = match self.mode {
            EfaMode::OneSided => return self.emit_data(now, T_DATA, id, bytes, bytes, out),
            EfaMode::Messages(c) => c,
        };
        let proto = self.protocol(&cfg, bytes);
        self.protocol_counts[proto as usize] += 1;
        match proto {
            MsgProtocol::Eager | MsgProtocol::Medium => self.emit_data(now, T_DATA, id, bytes, bytes, out),
            MsgProtocol::LongCts => {
                // The RTS carries the first packet's worth; the rest waits for CTS grants.
                let first = (self.max_payload as u64).min(bytes);
                self.sending.push(TxMsg { id, size: bytes, sent: first });
                self.emit_data(now, T_DATA, id, bytes, first, out);
            }
            MsgProtocol::LongRead => {
                self.sending.push(TxMsg { id, size: bytes, sent: 0 });
                self.emit_control(now, T_READ_RTS, id, bytes, out);
            }
        }
    }

    fn on_segment(&mut self, now: SimTime, seg: &Segment, out: &mut Outbox) {
        if seg.kind != SegKind::Datagram {
            return;
        }
        let (t, id) = (seg.seq >> TYPE_SHIFT, seg.seq & ID_MASK);
        let cfg = match self.mode {
            EfaMode::Messages(c) => c,
            EfaMode::OneSided => {
                if t == T_DATA {
                    self.on_whole_data(seg, id, out);
                }
                return;
            }
        };
        match t {
            T_DATA => {
                let size = seg.ack;
                let long_cts = self.protocol(&cfg, size) == MsgProtocol::LongCts;
                // Into a bounce buffer, then copied by the (serial) progress thread.
                let first = !self.partial.iter().any(|p| p.id == id);
                let i = self.rx_index(id, size);
                let bytes = seg.payload_bytes as u64;
                self.partial[i].arrived += bytes;
                self.partial[i].long_cts = long_cts;
                if first && long_cts {
                    // The RTS: its payload counts as the first window.
                    self.partial[i].window_left = bytes;
                }
                let done = now.max(self.copy_free_at) + self.copy_time(bytes);
                self.copy_free_at = done;
                self.schedule(done, Action::Copied { id, bytes });
            }
            T_CTS => {
                let turnaround = self.turnaround();
                self.schedule(now + turnaround, Action::SendWindow { id, bytes: seg.ack });
            }
            T_READ_RTS => {
                // The receiver posts one RDMA read for the whole message.
                self.rx_index(id, seg.ack);
                let turnaround = self.turnaround();
                self.schedule(now + turnaround, Action::ReadReq { id, size: seg.ack });
            }
            T_READ_REQ => {
                // The sender's card answers the read by itself: no CPU, no turnaround.
                self.emit_data(now, T_READ_DATA, id, seg.ack, seg.ack, out);
            }
            // The read's last byte completes the message; then the end-of-read goes back.
            T_READ_DATA if self.on_whole_data(seg, id, out) => {
                let turnaround = self.turnaround();
                self.schedule(now + turnaround, Action::Eor { id });
            }
            T_READ_DATA => {}
            T_EOR => {
                if let Some(i) = self.sending.iter().position(|m| m.id == id) {
                    self.sending.swap_remove(i);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, now: SimTime, out: &mut Outbox) {
        while let Some(Reverse((at, _, a))) = self.actions.peek().copied() {
            if at > now {
                break;
            }
            self.actions.pop();
            self.run_action(at.max(now), a, out);
        }
    }

    fn poll_at(&self) -> Option<SimTime> {
        self.actions.peek().map(|Reverse((at, _, _))| *at)
    }

    fn all_acked(&self) -> bool {
        self.sending.is_empty() && self.actions.is_empty()
    }

    fn stats(&self) -> &TransportStats {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_complete_whatever_the_packet_order() {
        let mut a = Efa::new(8900);
        let mut b = Efa::new(8900);
        let mut out = Outbox::default();
        a.send(SimTime(0), 20_000, &mut out);
        a.send(SimTime(0), 1, &mut out);
        assert_eq!(out.segments.len(), 4, "20 000 B in three packets, 1 B in one");
        let segs: Vec<Segment> = out.segments.iter().rev().copied().collect();
        let mut got = Outbox::default();
        for s in &segs {
            b.on_segment(SimTime(1), s, &mut got);
        }
        assert_eq!(got.delivered_bytes, 20_001);
        assert_eq!(b.stats().bytes_delivered, 20_001);
    }

    fn msg_cfg(rdma_read: bool) -> EfaMode {
        EfaMode::Messages(MessageConfig {
            rdma_read,
            copy_rate: Bandwidth::gbps(80),
            turnaround: SimDuration::from_ns(300),
        })
    }

    /// Drive two endpoints with a fixed one-way delay until nothing is left; returns the time
    /// the receiver delivered the message and the number of CTS it sent.
    fn exchange(bytes: u64, rdma_read: bool, one_way: SimDuration) -> (SimTime, u64, [u64; 4]) {
        let mut ends = [Efa::new(8900).with_mode(msg_cfg(rdma_read)), Efa::new(8900).with_mode(msg_cfg(rdma_read))];
        // In-flight packets: (arrival, to, segment).
        let mut flight: Vec<(SimTime, usize, Segment)> = Vec::new();
        let mut out = Outbox::default();
        ends[0].send(SimTime(0), bytes, &mut out);
        flight.extend(out.segments.drain(..).map(|s| (SimTime(0) + one_way, 1, s)));
        let mut delivered_at = None;
        for _ in 0..1_000_000 {
            let next_pkt = flight.iter().map(|f| f.0).min();
            let next_timer = ends.iter().enumerate().filter_map(|(k, e)| e.poll_at().map(|t| (t, k))).min();
            let (now, who, seg) = match (next_pkt, next_timer) {
                (None, None) => break,
                (Some(p), t) if t.is_none_or(|t| p <= t.0) => {
                    let i = flight.iter().position(|f| f.0 == p).unwrap();
                    let f = flight.remove(i);
                    (p, f.1, Some(f.2))
                }
                (_, Some((t, k))) => (t, k, None),
                _ => unreachable!(),
            };
            out.clear();
            match seg {
                Some(s) => ends[who].on_segment(now, &s, &mut out),
                None => ends[who].on_timer(now, &mut out),
            }
            if who == 1 && out.delivered_bytes > 0 {
                assert_eq!(out.delivered_bytes, bytes);
                delivered_at = Some(now);
            }
            flight.extend(out.segments.drain(..).map(|s| (now + one_way, 1 - who, s)));
        }
        assert!(ends[0].all_acked() && ends[1].all_acked());
        (delivered_at.expect("delivered"), ends[1].cts_sent, ends[0].protocol_counts)
    }

    #[test]
    fn protocols_follow_the_libfabric_thresholds() {
        let e = Efa::new(8900);
        let EfaMode::Messages(cfg) = msg_cfg(false) else { unreachable!() };
        let EfaMode::Messages(rd) = msg_cfg(true) else { unreachable!() };
        assert_eq!(e.protocol(&cfg, 1), MsgProtocol::Eager);
        assert_eq!(e.protocol(&cfg, 8836), MsgProtocol::Eager);
        assert_eq!(e.protocol(&cfg, 8837), MsgProtocol::Medium);
        assert_eq!(e.protocol(&cfg, 65_536), MsgProtocol::Medium);
        assert_eq!(e.protocol(&cfg, 65_537), MsgProtocol::LongCts);
        assert_eq!(e.protocol(&cfg, 4 << 20), MsgProtocol::LongCts);
        assert_eq!(e.protocol(&rd, (1 << 20) - 1), MsgProtocol::LongCts);
        assert_eq!(e.protocol(&rd, 1 << 20), MsgProtocol::LongRead);
    }

    #[test]
    fn long_cts_pays_one_round_trip_per_window_and_the_copy() {
        let one_way = SimDuration::from_us(5);
        let bytes = 1u64 << 20;
        let (t, cts, counts) = exchange(bytes, false, one_way);
        let window = CTS_WINDOW_PACKETS * 8836;
        // The RTS brings one packet; the rest comes in ceil((size - 8836) / window) windows.
        let windows = (bytes - 8836).div_ceil(window);
        assert_eq!(cts, windows);
        assert_eq!(counts[MsgProtocol::LongCts as usize], 1);
        // No wire serialisation here: the time is round trips, copies and turnarounds exactly.
        let copy = Bandwidth::gbps(80).serialisation(8836).ps();
        let lower = one_way.ps() * (1 + 2 * windows) + (bytes / 8836) * copy;
        assert!(t.ps() >= lower, "{} < {}", t.ps(), lower);
        assert!(t.ps() < lower + 2 * windows * 300_000 + 2 * copy * (windows + 1), "{}", t.ps());
    }

    #[test]
    fn medium_copies_overlap_the_arrival_of_later_packets() {
        // 65 536 B medium message: seven full packets and one of 3 684 B, arriving 1 us apart
        // (slower than the 80 Gbps copy of a full packet, 0.88 us): each is copied as it comes,
        // so the message completes one packet's copy after the last arrival, not a whole
        // message's copy after it.
        let (mut a, mut b) = (Efa::new(8900).with_mode(msg_cfg(false)), Efa::new(8900).with_mode(msg_cfg(false)));
        let mut out = Outbox::default();
        a.send(SimTime(0), 65_536, &mut out);
        let segs: Vec<Segment> = out.segments.drain(..).collect();
        assert_eq!(segs.len(), 8);
        let mut got = Outbox::default();
        let mut delivered_at = None;
        let us = SimDuration::from_us(1).ps();
        for (k, s) in segs.iter().enumerate() {
            let at = SimTime(k as u64 * us);
            // Copies due before this arrival run first.
            while let Some(t) = b.poll_at().filter(|&t| t <= at) {
                b.on_timer(t, &mut got);
            }
            b.on_segment(at, s, &mut got);
        }
        while let Some(t) = b.poll_at() {
            b.on_timer(t, &mut got);
            if got.delivered_bytes > 0 && delivered_at.is_none() {
                delivered_at = Some(t);
            }
        }
        assert_eq!(got.delivered_bytes, 65_536);
        let copy = |bytes: u64| Bandwidth::gbps(80).serialisation(bytes).ps();
        assert_eq!(delivered_at.unwrap().ps(), 7 * us + copy(65_536 - 7 * 8836));
        assert!(b.all_acked());
    }

    #[test]
    fn long_read_is_one_read_round_trip_and_zero_copy() {
        let one_way = SimDuration::from_us(5);
        let (t, cts, counts) = exchange(4 << 20, true, one_way);
        assert_eq!(cts, 0);
        assert_eq!(counts[MsgProtocol::LongRead as usize], 1);
        // RTS there, read request back, data there; one turnaround.
        assert_eq!(t.ps(), 3 * one_way.ps() + 300_000);
    }
}
