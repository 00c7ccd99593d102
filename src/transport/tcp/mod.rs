//! Host TCP, as the Linux kernel does it in the parts that shape throughput and tail latency:
//! three-way handshake, slow start and congestion avoidance (NewReno or CUBIC), fast retransmit
//! and recovery, SACK (RFC 2018) with a conservative loss-recovery scoreboard (RFC 6675), a
//! RACK-style check that re-sends a lost retransmission once later data is SACKed (RFC 8985,
//! simplified), the retransmission timer (RFC 6298, with Linux's constants and its
//! `srtt + max(4 * rttvar, rto_min)` rule), timestamps (RFC 7323) for RTT samples, and delayed
//! ACKs with quick-ack at connection start and for a segment that grows the window, except in
//! Linux's pingpong mode (an end that answers within the delayed-ACK timeout). With
//! `sack: false` recovery is NewReno (RFC 6582): one hole per round trip, partial ACKs retransmit
//! the next segment, an RTO goes back N.
//!
//! Path MTU, as Linux does it: every segment has DF set; an ICMP "fragmentation needed" lowers
//! the MSS and retransmits what no longer fits at once (`tcp_simple_retransmit`, no congestion
//! response). Where ICMP never comes back (a black hole), `tcp_mtu_probing` decides: 0 = wait
//! for `tcp_retries2` to abort (~924.6 s); 1 = once retransmissions time out past `tcp_retries1`,
//! fall back to `tcp_base_mss` and search upward with probes (RFC 4821); 2 = start at
//! `tcp_base_mss` and probe from the beginning. Timeouts follow `tcp_model_timeout` (tcp_timer.c):
//! the time since the first retransmission (`retrans_stamp`), against the sum of an exponential
//! backoff from `rto_min`. A SYN gives up after `tcp_syn_retries` (+ the linear ones).
//!
//! Also as Linux: tail loss probes (`tcp_early_retrans`), CUBIC's HyStart, a receive buffer that
//! starts at `tcp_rmem[1]` and grows with the rate the application reads (DRS, with Linux 6.18's
//! rules: receiver RTT from millisecond timestamps and the window-based measure) with the window a
//! share of it, RTOs in whole jiffies and the timer wheel's rounding. `tests/linux_conformance.rs`
//! holds these against the machine's own kernel.
//!
//! Left out on purpose (documented in the README): PRR, FIN/TIME_WAIT, Nagle (RPC sockets set
//! TCP_NODELAY), the persist timer (the advertised window never falls below one segment).
//!
//! Where things are:
//! - `mod.rs` (this file): the endpoint's state ([`Tcp`]), construction, accessors, and the
//!   connection state machine (handshake, close, segment dispatch) behind [`Transport`].
//! - `config.rs`: Linux's constants and sysctl defaults, timer rounding, [`TcpConfig`].
//! - `segment.rs`: building segments: headers, timestamps, SACK blocks, the SYN's options.
//! - `sender.rs`: sending within the windows, processing ACKs, SACK scoreboard, loss recovery.
//! - `send_times.rs`: when the data in flight was sent, for RACK.
//! - `receiver.rs`: receiving data, the ACK policy, receive-buffer autotuning and the window.
//! - `timers.rs`: RTO (and giving up), tail loss probes, RACK's timer, delayed ACK.
//! - `pmtu.rs`: path MTU: ICMP-driven MSS changes, black-hole detection, MTU probing.
//! - The congestion controllers (NewReno, CUBIC with HyStart) are in `transport/congestion.rs`.

mod config;
mod pmtu;
mod receiver;
mod segment;
mod send_times;
mod sender;
#[cfg(test)]
mod tests;
mod timers;

pub use config::*;

use super::congestion::{Congestion, Window};
use super::{Outbox, Transport, TransportStats};
use crate::net::{SegKind, Segment};
use crate::units::{PackedOption, SimDuration, SimTime};
use std::sync::Arc;

/// Packetization-layer path MTU discovery state (Linux `icsk_mtup`), in IP packet sizes.
#[derive(Clone, Copy, Debug)]
struct MtuSearch {
    enabled: bool,
    search_low: u32,
    search_high: u32,
    /// The probe in flight: [start, end) and its IP size.
    probe: Option<(u64, u64, u32)>,
    /// When the search last converged (a new search starts `probe_interval` later).
    converged_at: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    Listen,
    SynSent,
    Established,
}

/// Loss-recovery state, as Linux names them (`tcp_ca_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CaState {
    Open,
    /// Fast recovery after duplicate ACKs / SACKs: holes below the SACKed data are lost.
    Recovery,
    /// After a retransmission timeout: every un-SACKed byte below `recover` is lost.
    Loss,
}

/// A retransmission made during recovery, for RACK-style detection of its own loss.
#[derive(Clone, Copy, Debug)]
struct Retransmission {
    start: u64,
    end: u64,
    sent_at: SimTime,
    /// `snd_nxt` when it was sent: SACKed data at or above this was sent after it.
    nxt_at_send: u64,
    lost_again: bool,
}

/// Laid out by what a visit touches (`repr(C)`: the declaration order is the layout): every visit
/// (a segment received and what it sends) touches the first group, a data segment's a few fields
/// more, an ACK's the sender's clocks and estimators (and a timer's: counted for retransmission
/// timeouts, delayed ACKs and one-segment loss probes, not for RACK's timer), and loss recovery the
/// rest. The run loop asks for a visit's groups only, events ahead
/// ([`Tcp::VISIT_BYTES`]); the rest is read when needed. Counted with Valgrind's `lackey` on the
/// permutation bench (TCP, 20 one-way flows per host), a data segment's visit touched 14.0 lines
/// of its endpoint slot and an ACK's 15.8 when the compiler laid the state out, and the run loop
/// asked for all 17-18; laid out so, 11.0 and 14.2, and it asked for 11 and 16
/// (docs/performance.md, "2026-12-06, late evening"). With the optional times and sequence
/// numbers in 8 bytes each ([`PackedOption`]), 10.0 and 13.3 of a 16-line slot, and it asks for 10
/// and 15 ("2026-12-06, late night").
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Tcp {
    // --- Read by every visit (a segment received, data or ACK, and what it sends) ---
    /// Shared by every endpoint of a model (each variant of a scenario has one configuration);
    /// copied into each of 100 000s of endpoints, it was 120 of their 1008 bytes.
    cfg: Arc<TcpConfig>,
    /// Tail loss probe timer (RFC 8985 section 7.2) and the probe's state: one probe per
    /// episode, until new data is acknowledged (Linux `tlp_high_seq`).
    tlp_deadline: PackedOption<SimTime>,
    tlp_high_seq: PackedOption<u64>,
    /// When the reordering window for the current holes closes.
    rack_deadline: PackedOption<SimTime>,
    rto_deadline: PackedOption<SimTime>,
    /// When in-order data last arrived (`icsk_ack.lrcvtime`); None before any (Linux's `ato`
    /// is 0 until then, so a pure sender never enters pingpong mode).
    last_data_rcvd: PackedOption<SimTime>,
    delack_deadline: PackedOption<SimTime>,
    /// Start of the out-of-order range that holds the most recent arrival (first SACK block).
    /// Here, not with loss recovery: a receiver writes it on every segment past a hole.
    recent_ooo: PackedOption<u64>,
    mtup: MtuSearch,
    rcv: RcvSpace,
    rtx_log: Vec<Retransmission>,
    /// SACK scoreboard: disjoint, sorted ranges above `snd_una`.
    sacked: Vec<(u64, u64)>,
    ooo: Vec<(u64, u64)>,
    /// The largest MSS the interfaces and the peer's MSS option allow.
    mss_max: u64,
    /// What our SYN's MSS option offers: our interface MTU less 40.
    adv_mss: u64,
    /// The window the peer advertised, in bytes (RFC 9293 SND.WND).
    snd_wnd: u64,
    write_end: u64,
    snd_una: u64,
    snd_nxt: u64,
    window: Window,
    rcv_nxt: u64,
    last_ack_sent: u64,
    ts_recent: SimTime,
    stats: TransportStats,
    unacked_segments: u32,
    ece_pending: bool,
    /// Why the connection gave up, if it did.
    aborted: Option<AbortReason>,
    recovery: CaState,
    state: State,
    // --- Read by a data segment's visit besides ---
    quickacks: u32,
    /// Linux's pingpong mode: this end sent data within the delayed-ACK timeout of receiving
    /// some (`tcp_event_data_sent` -> `inet_csk_inc_pingpong_cnt`; `tcp_pingpong_thresh` is 1,
    /// so once is enough), so it is taken for an interactive one whose reply will carry its
    /// ACK, and its quick ACKs are ignored (`tcp_in_quickack_mode`). Left when a delayed ACK
    /// fires (`tcp_delack_timer_handler`), on a CE mark or on duplicate data
    /// (`tcp_enter_quickack_mode`; nitrosim does not refill the quick ACKs there). Linux's
    /// timeout (`icsk_ack.ato`) is 40 ms from the first data on, longer after slow gaps, up to
    /// the RTO; nitrosim compares with `delayed_ack_timeout`. Not modelled: a FIN received in
    /// ESTABLISHED enters the mode in Linux (`tcp_fin`), nitrosim acknowledges a FIN at once.
    /// Measured against the kernel: tests/linux/README.md, "Request/response".
    pingpong: bool,
    // --- Read by an ACK's visit and by timers besides (the small fields first, packed with the ones
    // above: `repr(C)` pads each field to its alignment, and a slot's size is counted in lines) ---
    /// The application closed: the segment ending at `write_end` carries FIN.
    fin_wanted: bool,
    /// Entering recovery retransmits the first lost segment at once, whatever the window
    /// (RFC 5681 section 3.2 step 2; RFC 6675 section 5 step 4.3).
    fast_retransmit_due: bool,
    dupacks: u32,
    backoff: u32,
    cc: Congestion,
    /// When the data in flight was sent (RACK's transmission times).
    sent: send_times::SendTimes,
    srtt: PackedOption<SimDuration>,
    /// When the first retransmission of the oldest unacknowledged data went out (Linux
    /// `retrans_stamp`, set in `tcp_retransmit_skb`; a tail loss probe leaves it alone):
    /// `tcp_retries1/2` budgets are measured from it.
    retrans_stamp: PackedOption<SimTime>,
    rttvar: SimDuration,
    rto: SimDuration,
    /// Highest sequence retransmitted in this recovery (RFC 6675 `HighRxt`).
    rtx_next: u64,
    /// Payload bytes per full segment (MTU - headers - options).
    mss: u64,
    syn_sent_at: SimTime,
    // --- Read in loss recovery only ---
    /// The latest send time of a retransmission since delivered (RACK's transmission order).
    rack_rtx_delivered: PackedOption<SimTime>,
    /// `snd_nxt` when recovery started (RFC 6582 `recover`).
    recover: u64,
    /// RACK (RFC 8985): holes below this sequence were sent before data that has since been
    /// SACKed and have stayed missing for a reordering window: they are lost.
    rack_lost_below: u64,
    cwr_until: u64,
}

/// Why a connection gave up (the application sees ETIMEDOUT either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AbortReason {
    /// Data retransmissions timed out past `tcp_retries2` (tcp_write_timeout).
    Retries2,
    /// The SYN went unanswered `tcp_syn_retries` times.
    SynRetries,
}

impl AbortReason {
    pub fn describe(self) -> &'static str {
        match self {
            AbortReason::Retries2 => "retransmissions timed out past tcp_retries2",
            AbortReason::SynRetries => "SYN unanswered after tcp_syn_retries retransmissions",
        }
    }
}

/// The receive side's buffer and window, as Linux sizes them (`tcp_rcv_space_adjust`,
/// `tcp_grow_window`, `__tcp_select_window`). The application reads at once, so the buffer
/// holds only out-of-order data, and the in-order segment being taken until the ACK it calls
/// for has gone (`unread`).
#[derive(Clone, Copy, Debug)]
struct RcvSpace {
    /// `sk_rcvbuf`: starts at tcp_rmem[1], grows up to tcp_rmem[2].
    rcvbuf: u64,
    /// `rcv_ssthresh`: the window grows towards the free buffer's share (`tcp_space`), two segments
    /// per segment received.
    rcv_ssthresh: u64,
    /// Bytes the application read in the last measured round trip (`rcvq_space.space`).
    space: u64,
    /// `rcvq_space.seq` / `.time`: where and when the current measurement started.
    seq: u64,
    time: SimTime,
    /// The receiver's RTT estimate (`rcv_rtt_est.rtt_us`), from echoed timestamps in whole
    /// milliseconds and from the time one window's worth of data takes to arrive.
    rtt: Option<SimDuration>,
    /// `rcv_rtt_est.seq` / `.time`: the window-based measurement in progress (tcp_rcv_rtt_measure).
    rtt_window: Option<(u64, SimTime)>,
    /// `rcv_rtt_last_tsecr`: a timestamp echo yields at most one sample.
    rtt_last_tsecr: SimTime,
    /// The last window advertised.
    advertised: u64,
    /// `tp->scaling_ratio`: the share of the buffer advertised as window, in 1/256; starts at
    /// the configured default and is re-measured from segments' len / truesize.
    scaling_ratio: u32,
    /// `icsk_ack.rcv_mss`: the largest segment seen (at most our advertised MSS), starting from
    /// `tcp_initialize_rcv_mss`'s guess; a longer segment re-measures `scaling_ratio`.
    rcv_mss: u64,
    /// What the in-order data of the segment being taken charges the buffer (its truesize),
    /// while that segment's ACK is decided. Linux sends that ACK from the softirq that queued the
    /// data, before the reader can run, so its window leaves out the segment's share of the
    /// buffer; the reader then frees it, and the next ACK's window moves on by that much. 0
    /// outside `on_data`. Measured against the kernel: tests/linux_conformance.rs,
    /// "window-limited" (a 59 000-byte buffer: the window Linux offered, 35 456 B, 24 segments,
    /// not the 36 875 B, 25 segments, of the buffer's whole share).
    unread: u64,
}

impl Tcp {
    /// Bytes from the state's start that a visit reads: [an ACK's or a timer's, a data
    /// segment's] (the groups of the struct's layout).
    pub const VISIT_BYTES: [usize; 2] =
        [std::mem::offset_of!(Tcp, rack_rtx_delivered), std::mem::offset_of!(Tcp, fin_wanted)];

    /// `mtu` is the path MTU in bytes (IP packet size); MSS follows from it (RFC 879 / 6691).
    pub fn new(cfg: impl Into<Arc<TcpConfig>>, mtu: u32, active: bool) -> Self {
        let cfg = cfg.into();
        assert!(mtu > IPV4_TCP_HEADER_BYTES + TCP_TIMESTAMP_OPTION_BYTES, "MTU {mtu} too small for TCP");
        let mss_max = (mtu - TCP_IP_OVERHEAD_BYTES) as u64;
        let initial_ratio = cfg.scaling_ratio;
        // tcp_mtup_init: probing on from the start (mode 2) starts at tcp_base_mss.
        let mtup = MtuSearch {
            enabled: cfg.mtu_probing >= 2,
            search_low: (cfg.base_mss + TCP_IP_OVERHEAD_BYTES).min(mtu),
            search_high: mtu,
            probe: None,
            converged_at: SimTime::ZERO,
        };
        let mss = if mtup.enabled { mss_max.min((mtup.search_low - TCP_IP_OVERHEAD_BYTES) as u64) } else { mss_max };
        let window = Window { cwnd: cfg.initial_cwnd_segments * mss, ssthresh: u64::MAX, mss, snd_nxt: 0, snd_una: 0 };
        Tcp {
            mss_max,
            adv_mss: mss_max + TCP_TIMESTAMP_OPTION_BYTES as u64,
            mtup,
            retrans_stamp: PackedOption::NONE,
            aborted: None,
            tlp_deadline: PackedOption::NONE,
            tlp_high_seq: PackedOption::NONE,
            snd_wnd: MAX_SYN_WINDOW,
            cc: Congestion::new(cfg.congestion, cfg.hystart),
            rto: cfg.rto_initial,
            state: if active { State::Closed } else { State::Listen },
            cfg,
            mss,
            write_end: 0,
            fin_wanted: false,
            snd_una: 0,
            snd_nxt: 0,
            window,
            dupacks: 0,
            recovery: CaState::Open,
            recover: 0,
            rtx_next: 0,
            rtx_log: Vec::new(),
            rack_rtx_delivered: PackedOption::NONE,
            fast_retransmit_due: false,
            sacked: Vec::new(),
            rack_lost_below: 0,
            rack_deadline: PackedOption::NONE,
            sent: send_times::SendTimes::default(),
            cwr_until: 0,
            srtt: PackedOption::NONE,
            rttvar: SimDuration::ZERO,
            backoff: 0,
            rto_deadline: PackedOption::NONE,
            syn_sent_at: SimTime::ZERO,
            rcv_nxt: 0,
            ooo: Vec::new(),
            recent_ooo: PackedOption::NONE,
            last_ack_sent: 0,
            ts_recent: SimTime::ZERO,
            unacked_segments: 0,
            quickacks: LINUX_MAX_QUICKACKS,
            pingpong: false,
            last_data_rcvd: PackedOption::NONE,
            delack_deadline: PackedOption::NONE,
            ece_pending: false,
            rcv: RcvSpace {
                rcvbuf: 0,
                rcv_ssthresh: 0,
                space: 0,
                seq: 0,
                time: SimTime::ZERO,
                rtt: None,
                rtt_window: None,
                rtt_last_tsecr: SimTime::ZERO,
                advertised: 0,
                scaling_ratio: initial_ratio,
                rcv_mss: 0,
                unread: 0,
            },
            stats: TransportStats::default(),
        }
        .with_receive_buffer()
    }

    /// The receive window this end advertises now (bytes).
    pub fn advertised_window(&self) -> u64 {
        self.rcv.advertised
    }
    /// The receive buffer (Linux sk_rcvbuf) now.
    pub fn receive_buffer(&self) -> u64 {
        self.rcv.rcvbuf
    }
    /// The receiver's RTT estimate for autotuning (Linux `tcpi_rcv_rtt`) and the bytes read in
    /// the last such round trip (`tcpi_rcv_space`).
    pub fn receiver_rtt(&self) -> Option<SimDuration> {
        self.rcv.rtt
    }
    pub fn rcv_space(&self) -> u64 {
        self.rcv.space
    }
    /// The share of the receive buffer advertised as window now, in 1/256 (Linux `scaling_ratio`).
    pub fn scaling_ratio(&self) -> u32 {
        self.rcv.scaling_ratio
    }
    pub fn abort_reason(&self) -> Option<AbortReason> {
        self.aborted
    }

    pub fn mss(&self) -> u64 {
        self.mss
    }
    /// Offer `interface_mtu` - 40 in the SYN's MSS option (`mtu` given to `new` is what this
    /// end may send: its path MTU, the peer's option, a gateway's clamp).
    pub fn advertising(mut self, interface_mtu: u32) -> Self {
        self.adv_mss = interface_mtu.saturating_sub(IPV4_TCP_HEADER_BYTES) as u64;
        self
    }
    pub fn cwnd(&self) -> u64 {
        self.window.cwnd
    }
    pub fn ssthresh(&self) -> u64 {
        self.window.ssthresh
    }
    pub fn rto(&self) -> SimDuration {
        self.rto
    }
    pub fn srtt(&self) -> Option<SimDuration> {
        self.srtt.get()
    }
    pub fn is_established(&self) -> bool {
        self.state == State::Established
    }
    pub fn bytes_in_flight(&self) -> u64 {
        self.pipe()
    }
    pub fn rcv_nxt(&self) -> u64 {
        self.rcv_nxt
    }
    pub fn in_recovery(&self) -> bool {
        self.recovery != CaState::Open
    }
    pub fn aborted(&self) -> bool {
        self.aborted.is_some()
    }
}

impl Transport for Tcp {
    fn connect(&mut self, now: SimTime, out: &mut Outbox) {
        debug_assert_eq!(self.state, State::Closed);
        self.state = State::SynSent;
        self.syn_sent_at = now;
        let syn = self.syn_segment(now, SegKind::Syn);
        self.stats.segments_sent += 1;
        out.segments.push(syn);
        self.rto_deadline = PackedOption::some(linux_timer_expiry(now, self.rto, self.cfg.timer_hz));
    }

    fn send(&mut self, now: SimTime, bytes: u64, out: &mut Outbox) {
        debug_assert!(!self.fin_wanted, "write after close");
        self.write_end = self.write_end.saturating_add(bytes);
        self.push(now, out);
    }

    fn close(&mut self, now: SimTime, out: &mut Outbox) {
        self.fin_wanted = true;
        if self.state == State::Established && self.snd_nxt >= self.write_end {
            // Everything already went out: a bare FIN.
            let mut fin = self.header_segment(now, SegKind::Ack);
            fin.fin = true;
            self.note_ack_sent();
            self.stats.segments_sent += 1;
            out.segments.push(fin);
        }
    }

    fn on_segment(&mut self, now: SimTime, seg: &Segment, out: &mut Outbox) {
        match (self.state, seg.kind) {
            (State::Listen | State::Established, SegKind::Syn) => {
                // Passive open, or our SYN-ACK was lost and the peer retries: answer again.
                if self.state == State::Listen {
                    self.state = State::Established;
                    out.established = true;
                    self.rcv.time = now;
                }
                self.snd_wnd = (seg.wnd as u64).max(1);
                self.ts_recent = seg.ts;
                let sa = self.syn_segment(now, SegKind::SynAck);
                self.stats.segments_sent += 1;
                out.segments.push(sa);
                self.push(now, out);
            }
            (State::SynSent, SegKind::SynAck) => {
                self.state = State::Established;
                out.established = true;
                self.snd_wnd = (seg.wnd as u64).max(1);
                self.ts_recent = seg.ts;
                self.rto_deadline = PackedOption::NONE;
                self.backoff = 0;
                // The SYN-ACK echoes the timestamp of the SYN it answers, retransmitted or not,
                // so the handshake always yields an RTT sample (no 3 s fallback, tcp_init_metrics).
                let rtt = now.since(self.syn_sent_at);
                self.rtt_sample(rtt);
                self.rcv.time = now;
                self.emit_ack(now, out);
                self.push(now, out);
            }
            (State::Established, SegKind::SynAck) => self.emit_ack(now, out),
            (State::Established, SegKind::Data | SegKind::Ack) => {
                self.on_ack_field(now, seg, out);
                if seg.kind == SegKind::Data {
                    self.on_data(now, seg, out);
                } else if seg.seq <= self.last_ack_sent {
                    // RFC 7323 section 4.3: a pure ACK's timestamp is echoed too (TS.Recent), so
                    // the peer's data carries the receiver's clock back (its RTT measurement).
                    self.ts_recent = seg.ts;
                }
                if seg.kind == SegKind::Ack && seg.fin {
                    self.emit_ack(now, out);
                }
                self.push(now, out);
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, now: SimTime, out: &mut Outbox) {
        self.on_timers_due(now, out);
    }

    fn on_path_mtu(&mut self, now: SimTime, mtu: u32, out: &mut Outbox) {
        self.on_path_mtu_reduced(now, mtu, out);
    }

    fn poll_at(&self) -> Option<SimTime> {
        [self.rto_deadline.get(), self.delack_deadline.get(), self.rack_deadline.get(), self.tlp_deadline.get()]
            .into_iter()
            .flatten()
            .min()
    }

    fn stats(&self) -> &TransportStats {
        &self.stats
    }

    fn all_acked(&self) -> bool {
        self.state == State::Established && self.snd_una >= self.write_end
    }

    fn stop_writing(&mut self) -> u64 {
        self.write_end = self.write_end.min(self.snd_nxt);
        self.write_end
    }
}
