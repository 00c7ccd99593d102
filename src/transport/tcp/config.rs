//! Linux's TCP constants and sysctl defaults (each citing its source), the kernel's timer
//! rounding, and [`TcpConfig`]: the per-connection settings that mirror those sysctls.

use crate::transport::congestion::CongestionKind;
use crate::units::{SimDuration, SimTime};
use serde::{Deserialize, Serialize};

/// IPv4 (20) + TCP (20) header bytes (RFC 791, RFC 9293).
pub const IPV4_TCP_HEADER_BYTES: u32 = 40;
/// TCP timestamps option, padded (RFC 7323 section 3): on by default in Linux.
pub const TCP_TIMESTAMP_OPTION_BYTES: u32 = 12;
/// A Linux SYN carries MSS, SACK-permitted, timestamps and window scale: 60-byte IP packet.
pub const SYN_WIRE_BYTES: u32 = 60;
/// Linux `TCP_RTO_MIN` (include/net/tcp.h): 200 ms.
pub const LINUX_RTO_MIN: SimDuration = SimDuration::from_ms(200);
/// Linux `TCP_TIMEOUT_INIT` (RFC 6298 section 2.1): 1 s.
pub const LINUX_RTO_INITIAL: SimDuration = SimDuration::from_secs(1);
/// Linux `TCP_RTO_MAX`: 120 s.
pub const LINUX_RTO_MAX: SimDuration = SimDuration::from_secs(120);
/// Linux `TCP_DELACK_MIN`: 40 ms.
pub const LINUX_DELACK_MIN: SimDuration = SimDuration::from_ms(40);
/// Initial window of 10 segments (RFC 6928; Linux `TCP_INIT_CWND`).
pub const INITIAL_CWND_SEGMENTS: u64 = 10;
/// Linux `TCP_MAX_QUICKACKS`: ACK every segment for the first 16 after the handshake. A segment
/// that grows the window sets the count's low bit (`quick |= 1`) and its ACK spends one, so from
/// an even count it uses none of the 16.
pub const LINUX_MAX_QUICKACKS: u32 = 16;
/// Linux grows the window (`tcp_grow_window`) for in-order segments of this many bytes or more
/// (`tcp_event_data_recv`, net/ipv4/tcp_input.c); with SACK it also grows it for out-of-order
/// ones of any size (`tcp_data_queue_ofo`), which nitrosim does not.
pub const GROW_WINDOW_MIN_BYTES: u64 = 128;
/// Bound on remembered out-of-order ranges (Linux bounds the ofo queue by memory).
pub const MAX_OOO_RANGES: usize = 256;
/// IP + TCP headers with the timestamps option: what separates an MTU from its MSS here.
pub const TCP_IP_OVERHEAD_BYTES: u32 = IPV4_TCP_HEADER_BYTES + TCP_TIMESTAMP_OPTION_BYTES;
/// Linux `tcp_base_mss` default (ip-sysctl): where black-hole fallback and probing start.
pub const LINUX_BASE_MSS: u32 = 1024;
/// Linux `tcp_retries1` / `tcp_retries2` defaults (ip-sysctl).
pub const LINUX_RETRIES1: u32 = 3;
pub const LINUX_RETRIES2: u32 = 15;
/// Linux `tcp_syn_retries` default (ip-sysctl): the 7th SYN timeout, ~127 s, ends connect().
pub const LINUX_SYN_RETRIES: u32 = 6;
/// Linux `tcp_syn_linear_timeouts` default (ip-sysctl, Linux 6.5+).
pub const LINUX_SYN_LINEAR_TIMEOUTS: u32 = 4;
/// CONFIG_HZ of Debian's, Ubuntu's and this machine's kernels.
pub const LINUX_HZ: u32 = 250;

/// When a Linux timer armed at `now` for `delay` fires: the delay in whole jiffies (rounded up,
/// usecs_to_jiffies), then the timer wheel's bucket (calc_index: the level is chosen by the
/// delay, 64 buckets of 8^level jiffies each, and the expiry rounded up to the next bucket).
pub fn linux_timer_expiry(now: SimTime, delay: SimDuration, hz: u32) -> SimTime {
    if hz == 0 {
        return now + delay;
    }
    let jiffy = 1_000_000_000_000 / hz as u64;
    let now_j = now.ps() / jiffy;
    let delta = delay.ps().div_ceil(jiffy);
    let expires = now_j + delta;
    let mut shift = 0;
    while shift < 24 && delta >= 64 << shift {
        shift += 3;
    }
    let bucket = ((expires >> shift) + 1) << shift;
    SimTime(bucket * jiffy)
}

/// Linux `tcp_early_retrans` default: TLP on (ip-sysctl).
pub const LINUX_EARLY_RETRANS: u8 = 3;
/// Linux `TCP_DEFAULT_SCALING_RATIO` (include/net/tcp.h, 6.6+): half the buffer, in 1/256.
pub const LINUX_DEFAULT_SCALING_RATIO: u32 = 128;
/// Linux `TCP_MSS_DEFAULT` (536, RFC 1122) and `TCP_MIN_MSS` (88): `tcp_initialize_rcv_mss`
/// starts the receiver's guess of the peer's segment size (`icsk_ack.rcv_mss`) between them.
pub const LINUX_MSS_DEFAULT: u64 = 536;
pub const LINUX_MIN_MSS: u64 = 88;
/// Ethernet header bytes ahead of the IP packet in a receive buffer.
pub const ETHERNET_HEADER_BYTES: u64 = 14;

/// x86-64 (and arm64 with 4 KiB pages) sizes behind `skb->truesize`, Linux 6.18: a page,
/// `NET_SKB_PAD` (max(32, L1_CACHE_BYTES) = 64, the headroom a driver reserves),
/// `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` = 320 (MAX_SKB_FRAGS = 17), and
/// `SKB_DATA_ALIGN(sizeof(struct sk_buff))` = 256 (the skbuff_head_cache object size in
/// /proc/slabinfo). `SKB_DATA_ALIGN` rounds up to the 64-byte cache line.
pub const LINUX_PAGE_BYTES: u64 = 4096;
pub const LINUX_NET_SKB_PAD: u64 = 64;
pub const LINUX_SKB_SHARED_INFO_BYTES: u64 = 320;
pub const LINUX_SKB_STRUCT_BYTES: u64 = 256;
const SKB_DATA_ALIGN_BYTES: u64 = 64;

/// What the receiving host's NIC driver charges the socket for one received segment
/// (`skb->truesize`: the packet's bytes plus its buffer's slack and the skb's own structures).
/// Linux 6.6+ divides a full-sized segment's length by it to set `scaling_ratio`, the share of
/// the receive buffer it advertises as window (`tcp_measure_rcv_mss`): the buffer is memory,
/// the window bytes of data, and this is the exchange rate.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub enum RxTruesize {
    /// ENA, as drivers/net/ethernet/amazon/ena/ena_netdev.c (Linux 6.18) receives without XDP:
    /// `ena_alloc_rx_buffer` posts one page per descriptor, of which the device may fill
    /// `ENA_PAGE_SIZE - rx_headroom - tailroom` = 4096 - 64 - 320 = 3712 bytes; `ena_rx_skb`
    /// builds the skb around the first buffer with `napi_build_skb(buf, buf_len)`, `buf_len =
    /// SKB_DATA_ALIGN(len + buf_offset + tailroom)`, so truesize = buf_len + 256, and adds each
    /// further buffer of a jumbo frame as a fragment of truesize `buf_len`. One 1514-byte frame
    /// (MTU 1500): 1920 + 256 = 2176 B, ratio 1448 x 256 / 2176 = 170; a 9015-byte frame (MTU
    /// 9001) takes 3 buffers: 4352 + 4096 + 1984 = 10432 B, ratio 219. Segments under
    /// `rx_copybreak` (256 B) are copied instead, but they never set the ratio (below 536 B).
    /// GRO, which would merge back-to-back segments into one skb first (ratio up to 193 at
    /// MTU 1500), is not modelled: one segment is one skb.
    Ena,
    /// The segment's payload plus this many bytes: a path that hands the receiver the sender's
    /// own skb (veth), whose truesize is the data it carries plus a fixed head
    /// (`SKB_TRUESIZE` of the 256-byte `MAX_TCP_HEADER` head: 832 B on Linux 6.18 x86-64).
    PayloadPlus(u32),
    /// Never measured: `scaling_ratio` keeps its initial value (Linux before 6.6, where
    /// `tcp_adv_win_scale` fixed the share).
    Off,
}

impl RxTruesize {
    /// `skb->truesize` of one received segment with `payload` bytes of TCP data (IP and TCP
    /// headers with the timestamps option, and Ethernet, around it). None when not measured.
    pub fn truesize(self, payload: u64) -> Option<u64> {
        let align = |x: u64| x.div_ceil(SKB_DATA_ALIGN_BYTES) * SKB_DATA_ALIGN_BYTES;
        match self {
            RxTruesize::Ena => {
                let per_buffer = LINUX_PAGE_BYTES - LINUX_NET_SKB_PAD - LINUX_SKB_SHARED_INFO_BYTES;
                let mut left = payload + TCP_IP_OVERHEAD_BYTES as u64 + ETHERNET_HEADER_BYTES;
                let mut truesize = LINUX_SKB_STRUCT_BYTES;
                while left > 0 {
                    let len = left.min(per_buffer);
                    truesize += align(len + LINUX_NET_SKB_PAD + LINUX_SKB_SHARED_INFO_BYTES);
                    left -= len;
                }
                Some(truesize)
            }
            RxTruesize::PayloadPlus(extra) => Some(payload + extra as u64),
            RxTruesize::Off => None,
        }
    }

    /// What a segment of `len` payload bytes charges the receive buffer: its truesize, or its
    /// length when truesize is not modelled.
    pub fn charge(self, len: u64) -> u64 {
        self.truesize(len).unwrap_or(len)
    }

    /// `scaling_ratio` as `tcp_measure_rcv_mss` computes it from a segment of `len` bytes:
    /// `(len << TCP_RMEM_TO_WIN_SCALE) / truesize`, at least 1 (a u8 in the kernel; truesize
    /// exceeds len, so the quotient is below 256).
    pub fn scaling_ratio(self, len: u64) -> Option<u32> {
        let truesize = self.truesize(len)?;
        Some(((len << 8) / truesize.max(1)).clamp(1, 255) as u32)
    }
}
/// Linux `TCP_TIMEOUT_MIN_US` (2 ms, include/net/tcp.h), the floor of two timers: added to a
/// tail loss probe's 2 x SRTT when more than one segment is out (with one out, the minimum RTO
/// instead, to ride out a delayed ACK: `tcp_schedule_loss_probe`), and to what is left of
/// RACK's reordering window (`tcp_rack_mark_lost`). Each sum is turned into jiffies (rounded up)
/// and armed on the timer wheel: at HZ=250 and a short RTT, one jiffy, firing 4-8 ms later.
/// Since 2023 ("tcp: fix excessive TLP and RACK timeouts from HZ rounding"); before, two
/// jiffies were added after the rounding (12-16 ms at HZ=250).
pub const LINUX_TIMEOUT_MIN: SimDuration = SimDuration::from_ms(2);
/// The largest window an unscaled SYN can carry (RFC 7323 section 2.2).
pub const MAX_SYN_WINDOW: u64 = 65_535;
/// Linux `tcp_probe_threshold` (8 bytes: stop searching) and `tcp_probe_interval` (600 s).
pub const LINUX_PROBE_THRESHOLD: u32 = 8;
pub const LINUX_PROBE_INTERVAL: SimDuration = SimDuration::from_secs(600);
/// Linux `tcp_mtu_probe_floor` and `tcp_min_snd_mss`: 48 bytes.
pub const LINUX_MIN_SND_MSS: u64 = 48;

/// Linux `tcp_model_timeout`: the time `boundary` exponentially backed-off retransmissions from
/// `rto_base` take, the backoff capped at `rto_max`. tcp_retries2 = 15 -> 924.6 s.
pub fn model_timeout(boundary: u32, rto_base: SimDuration, rto_max: SimDuration) -> SimDuration {
    let thresh = (rto_max.0 / rto_base.0.max(1)).max(1).ilog2();
    if boundary <= thresh {
        SimDuration(((2u64 << boundary) - 1) * rto_base.0)
    } else {
        SimDuration(((2u64 << thresh) - 1) * rto_base.0 + (boundary - thresh) as u64 * rto_max.0)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Tcp", deny_unknown_fields, default)]
pub struct TcpConfig {
    pub congestion: CongestionKind,
    pub rto_min: SimDuration,
    pub rto_initial: SimDuration,
    pub rto_max: SimDuration,
    pub delayed_ack: bool,
    /// The delayed ACK's timer, and the gap within which sending data after receiving some
    /// puts an end in pingpong mode (Linux's `icsk_ack.ato`).
    pub delayed_ack_timeout: SimDuration,
    /// The receive buffer's ceiling, Linux `net.ipv4.tcp_rmem[2]` (6 MiB by default): autotuning
    /// grows the buffer up to it, and the advertised window is a share of the buffer.
    pub receive_window: crate::units::Bytes,
    /// The receive buffer a connection starts with, Linux `net.ipv4.tcp_rmem[1]` (128 KiB).
    pub rmem_initial: crate::units::Bytes,
    /// Linux `net.ipv4.tcp_moderate_rcvbuf` (on): grow the receive buffer with the rate the
    /// application reads per round trip (dynamic right-sizing, `tcp_rcv_space_adjust`).
    pub moderate_rcvbuf: bool,
    /// Share of the receive buffer advertised as window before the first full-sized segment
    /// is measured, in 1/256 (Linux `TCP_DEFAULT_SCALING_RATIO`, 128 = half, what
    /// `tcp_adv_win_scale = 1` gave before Linux 6.6): the SYN's window uses it.
    pub scaling_ratio: u32,
    /// The receiving host's driver: memory charged per received segment, from which the
    /// first full-sized segment re-measures `scaling_ratio` (`tcp_measure_rcv_mss`).
    pub rx_truesize: RxTruesize,
    /// Linux `net.ipv4.tcp_syn_retries` (6): SYNs resent before connect() fails (ETIMEDOUT).
    pub syn_retries: u32,
    /// Linux `net.ipv4.tcp_syn_linear_timeouts` (4, Linux 6.5+): the first this many SYN
    /// retransmissions wait the initial RTO each, without backoff; they add to `syn_retries`.
    pub syn_linear_timeouts: u32,
    /// CUBIC's HyStart (Linux module parameter `hystart`, on): leave slow start when an ACK
    /// train spans half the minimum RTT or the RTT rises (Ha and Rhee, 2011).
    pub hystart: bool,
    /// Linux `net.ipv4.tcp_early_retrans` (3): 3 or 4 send a tail loss probe about two
    /// smoothed RTTs after the last send (RFC 8985 section 7); 0 never.
    pub early_retrans: u8,
    /// The kernel's timer tick (CONFIG_HZ, 250 here and in Debian/Ubuntu): RTOs, loss probes and
    /// RACK's reordering timer are whole jiffies, and the timer wheel fires them late by up to a
    /// level's granularity (kernel/time/timer.c). 0 = exact timers (the 2 ms floor of the
    /// probe and of RACK's timer, `LINUX_TIMEOUT_MIN`, stays).
    pub timer_hz: u32,
    /// Duplicate ACKs that trigger fast retransmit (RFC 5681: 3).
    pub dupack_threshold: u32,
    pub initial_cwnd_segments: u64,
    /// Set ECT on data and react to ECN echoes once per window (RFC 3168).
    pub ecn: bool,
    /// Selective acknowledgements (Linux `net.ipv4.tcp_sack`, on by default).
    pub sack: bool,
    /// Linux `net.ipv4.tcp_mtu_probing`: 0 off, 1 after a black hole is detected, 2 always.
    pub mtu_probing: u8,
    /// Linux `net.ipv4.tcp_base_mss`.
    pub base_mss: u32,
    /// Linux `net.ipv4.tcp_retries1` (black-hole detection) and `tcp_retries2` (give up).
    pub retries1: u32,
    pub retries2: u32,
    /// Linux `net.ipv4.tcp_probe_threshold` and `tcp_probe_interval`.
    pub probe_threshold: u32,
    pub probe_interval: SimDuration,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            congestion: CongestionKind::Cubic,
            rto_min: LINUX_RTO_MIN,
            rto_initial: LINUX_RTO_INITIAL,
            rto_max: LINUX_RTO_MAX,
            delayed_ack: true,
            delayed_ack_timeout: LINUX_DELACK_MIN,
            // Linux net.ipv4.tcp_rmem default maximum: 6 MiB.
            receive_window: crate::units::Bytes(6 << 20),
            // Linux net.ipv4.tcp_rmem default: 131072.
            rmem_initial: crate::units::Bytes(128 << 10),
            moderate_rcvbuf: true,
            scaling_ratio: LINUX_DEFAULT_SCALING_RATIO,
            rx_truesize: RxTruesize::Ena,
            syn_retries: LINUX_SYN_RETRIES,
            syn_linear_timeouts: LINUX_SYN_LINEAR_TIMEOUTS,
            hystart: true,
            early_retrans: LINUX_EARLY_RETRANS,
            timer_hz: LINUX_HZ,
            dupack_threshold: 3,
            initial_cwnd_segments: INITIAL_CWND_SEGMENTS,
            ecn: false,
            sack: true,
            mtu_probing: 0,
            base_mss: LINUX_BASE_MSS,
            retries1: LINUX_RETRIES1,
            retries2: LINUX_RETRIES2,
            probe_threshold: LINUX_PROBE_THRESHOLD,
            probe_interval: LINUX_PROBE_INTERVAL,
        }
    }
}
