//! Unit tests of the TCP endpoint: two ends joined by hand, segment by segment.

use super::receiver::insert_range;
use super::*;
use crate::transport::Note;

/// Deliver every segment of `from`'s outbox to `to` at `now`, returning `to`'s outbox.
fn deliver(to: &mut Tcp, now: SimTime, segs: &[Segment]) -> Outbox {
    let mut out = Outbox::default();
    for s in segs {
        to.on_segment(now, s, &mut out);
    }
    out
}

fn established_pair() -> (Tcp, Tcp, SimTime) {
    established_pair_at_rtt(SimDuration::from_us(100))
}

/// Two ends without delayed ACKs, established at time `rtt` (the SYN sent at 0).
fn established_pair_at_rtt(rtt: SimDuration) -> (Tcp, Tcp, SimTime) {
    let cfg = TcpConfig { delayed_ack: false, ..TcpConfig::default() };
    let mut c = Tcp::new(cfg.clone(), 1500, true);
    let mut s = Tcp::new(cfg, 1500, false);
    let mut out = Outbox::default();
    let t0 = SimTime(0);
    c.connect(t0, &mut out);
    let sa = deliver(&mut s, t0 + SimDuration(rtt.0 / 2), &out.segments);
    assert!(sa.established);
    let ack = deliver(&mut c, t0 + rtt, &sa.segments);
    assert!(ack.established && c.is_established());
    (c, s, t0 + rtt)
}

#[test]
fn handshake_then_initial_window_of_ten_segments() {
    let (mut c, _s, now) = established_pair();
    assert_eq!(c.mss(), 1448);
    let mut out = Outbox::default();
    c.send(now, 1_000_000, &mut out);
    assert_eq!(out.segments.len(), 10);
    assert!(out.segments.iter().all(|s| s.wire_bytes == 1500));
    assert_eq!(c.srtt(), Some(SimDuration::from_us(100)));
    // RTO floor: srtt + max(4 rttvar, 200 ms).
    // ... in whole jiffies (4 ms at HZ=250): 204 ms.
    assert_eq!(c.rto(), SimDuration::from_ms(204));
}

#[test]
fn three_dupacks_trigger_fast_retransmit_of_the_hole() {
    let (mut c, mut s, mut now) = established_pair();
    let mut out = Outbox::default();
    c.send(now, 10 * 1448, &mut out);
    let segs = out.segments.clone();
    now += SimDuration::from_us(50);
    // Lose the first segment; the other nine produce duplicate ACKs.
    let acks = deliver(&mut s, now, &segs[1..]);
    assert_eq!(acks.segments.len(), 9);
    assert!(acks.segments.iter().all(|a| a.ack == 0));
    now += SimDuration::from_us(50);
    let out = deliver(&mut c, now, &acks.segments);
    let rtx: Vec<_> = out.segments.iter().filter(|s| s.retransmit).collect();
    assert_eq!(rtx.len(), 1);
    assert_eq!(rtx[0].seq, 0);
    assert_eq!(c.stats().fast_retransmits, 1);
    assert_eq!(c.stats().rtos, 0);
    // The retransmission fills the hole: everything is delivered and acked.
    let fin = deliver(&mut s, now, &out.segments);
    assert_eq!(s.rcv_nxt(), 10 * 1448);
    deliver(&mut c, now, &fin.segments);
    assert!(c.all_acked());
}

#[test]
fn tail_loss_needs_an_rto_that_backs_off() {
    let (mut c, _s, now) = established_pair();
    let cfg = Arc::make_mut(&mut c.cfg);
    cfg.early_retrans = 0; // no tail loss probe: the RTO alone
    cfg.timer_hz = 0; // exact timers: the doubling is exact

    let mut out = Outbox::default();
    c.send(now, 1000, &mut out);
    let deadline = c.poll_at().unwrap();
    assert_eq!(deadline, now + c.rto());
    assert!(c.rto() >= LINUX_RTO_MIN);
    let mut out = Outbox::default();
    c.on_timer(deadline, &mut out);
    assert_eq!(out.segments.len(), 1);
    assert!(out.segments[0].retransmit);
    let second = c.poll_at().unwrap();
    assert_eq!(second.since(deadline).0, 2 * deadline.since(now).0);
    assert_eq!(c.stats().rtos, 1);
    assert_eq!(c.cwnd(), c.mss());
}

/// Where a tail loss probe fires after the last of four segments sent at `send_at` on a
/// connection established at `rtt`, nothing acknowledged.
fn probe_time(rtt: SimDuration, send_at: SimTime) -> SimTime {
    let (mut c, _s, established) = established_pair_at_rtt(rtt);
    assert!(send_at >= established);
    let mut out = Outbox::default();
    c.send(send_at, 4 * 1448, &mut out);
    assert_eq!(out.segments.len(), 4);
    let probe_at = c.poll_at().expect("a timer armed");
    let mut out = Outbox::default();
    c.on_timer(probe_at, &mut out);
    assert_eq!((c.stats().loss_probes, c.stats().rtos), (1, 0), "the probe fires first");
    probe_at
}

#[test]
fn a_loss_probe_waits_two_rtts_and_2_ms_in_whole_jiffies_then_a_wheel_bucket() {
    // tcp_schedule_loss_probe (Linux 6.18): 2 x SRTT + TCP_TIMEOUT_MIN_US, rounded up to whole
    // jiffies (4 ms at HZ=250), on the timer wheel, which fires in the bucket after that jiffy.
    let ms = SimDuration::from_ms;
    let at = |d: SimDuration| SimTime::ZERO + d;
    // SRTT 100 us: 2.2 ms is one jiffy; sent in jiffy 0, the probe fires at the start of jiffy
    // 2: 4-8 ms after the send, as the phase of the send in its jiffy decides.
    assert_eq!(probe_time(SimDuration::from_us(100), at(SimDuration::from_us(100))), at(ms(8)));
    assert_eq!(probe_time(SimDuration::from_us(100), at(SimDuration::from_us(3_999))), at(ms(8)));
    assert_eq!(probe_time(SimDuration::from_us(100), at(ms(4))), at(ms(12)));
    // SRTT 1.5 ms: 5 ms is two jiffies; sent in jiffy 0, it fires at the start of jiffy 3.
    assert_eq!(probe_time(SimDuration::from_us(1_500), at(SimDuration::from_us(1_500))), at(ms(12)));
}

#[test]
fn a_hole_behind_a_delivered_loss_probe_is_lost_at_once() {
    // The last two of four segments are lost; the loss probe resends the last, and its SACK
    // arrives. The hole was sent a probe timeout before the SACKed data, far more than RACK's
    // reordering window (a quarter RTT), so it is lost on that ACK (tcp_rack_detect_loss), not
    // after a reordering timer.
    let (mut c, mut s, now) = established_pair();
    let mut out = Outbox::default();
    c.send(now, 4 * 1448, &mut out);
    let segs = out.segments.clone();
    let acks = deliver(&mut s, now + SimDuration::from_us(50), &segs[..2]);
    let back = deliver(&mut c, now + SimDuration::from_us(100), &acks.segments);
    assert!(back.segments.is_empty());
    let probe_at = c.poll_at().unwrap();
    let mut out = Outbox::default();
    c.on_timer(probe_at, &mut out);
    assert_eq!(c.stats().loss_probes, 1);
    assert_eq!((out.segments.len(), out.segments[0].seq), (1, 3 * 1448), "the probe resends the last segment");
    let sack = deliver(&mut s, probe_at + SimDuration::from_us(50), &out.segments);
    let now = probe_at + SimDuration::from_us(100);
    let out = deliver(&mut c, now, &sack.segments);
    assert!(c.in_recovery(), "the hole is lost on the probe's SACK");
    let rtx: Vec<u64> = out.segments.iter().filter(|g| g.retransmit).map(|g| g.seq).collect();
    assert_eq!(rtx, vec![2 * 1448], "the hole goes again at once");
    assert_eq!(c.stats().rtos, 0);
}

#[test]
fn rack_recovers_a_hole_too_close_to_the_tail_for_dupacks() {
    let (mut c, mut s, mut now) = established_pair();
    let mut out = Outbox::default();
    c.send(now, 4 * 1448, &mut out);
    let segs = out.segments.clone();
    now += SimDuration::from_us(50);
    // Lose the third of four segments: one segment behind it, one duplicate ACK, no 3 dupacks.
    let acks = deliver(&mut s, now, &[segs[0], segs[1], segs[3]]);
    now += SimDuration::from_us(50);
    let out = deliver(&mut c, now, &acks.segments);
    assert!(out.segments.is_empty(), "no fast retransmit on one duplicate ACK");
    assert!(!c.in_recovery());
    // The reordering window (srtt / 4 = 25 us) + TCP_TIMEOUT_MIN_US is one jiffy, fired a wheel
    // bucket later, as Linux's tcp_rack_mark_lost arms it: the tick at 8 ms, well before the
    // 200 ms RTO. No loss probe meanwhile (Linux's Disorder state).
    let wake = c.poll_at().unwrap();
    assert_eq!(now, SimTime::ZERO + SimDuration::from_us(200));
    assert_eq!(wake, SimTime::ZERO + SimDuration::from_ms(8), "RACK timer {:?} after the SACK", wake.since(now));
    let mut out = Outbox::default();
    c.on_timer(wake, &mut out);
    assert_eq!(out.segments.len(), 1);
    assert!(out.segments[0].retransmit && out.segments[0].seq == 2 * 1448);
    assert_eq!((c.stats().rtos, c.stats().loss_probes), (0, 0));
}

/// A client and a server with these configurations, past the handshake at 2 ps (SYN at 0,
/// SYN-ACK at 1).
fn handshake(client: TcpConfig, server: TcpConfig, mtu: u32) -> (Tcp, Tcp) {
    let mut c = Tcp::new(client, mtu, true);
    let mut s = Tcp::new(server, mtu, false);
    let mut out = Outbox::default();
    c.connect(SimTime(0), &mut out);
    let sa = deliver(&mut s, SimTime(1), &out.segments);
    let _ = deliver(&mut c, SimTime(2), &sa.segments);
    assert!(c.is_established());
    (c, s)
}

#[test]
fn delayed_ack_waits_40ms_for_a_lone_segment() {
    let (mut c, mut s) = handshake(TcpConfig::default(), TcpConfig::default(), 9001);
    s.quickacks = 0;
    let mut out = Outbox::default();
    c.send(SimTime(3), 100, &mut out);
    let acks = deliver(&mut s, SimTime(4), &out.segments);
    assert!(acks.segments.is_empty());
    assert_eq!(s.poll_at(), Some(SimTime(4) + LINUX_DELACK_MIN));
}

#[test]
fn sack_blocks_are_distinct_and_segments_fit_the_mtu() {
    // Two holes; the most recent range (the higher one) comes first and only once
    // (RFC 2018 section 4), and a data segment carrying them still fits 1500 bytes.
    let (mut c, mut s, t) = established_pair();
    let mut out = Outbox::default();
    c.send(t, 6 * c.mss(), &mut out);
    let segs = out.segments.clone();
    let acks = deliver(&mut s, t, &[segs[2], segs[4]]);
    let last = acks.segments.last().unwrap();
    let blocks: Vec<(u64, u64)> = last.sack_blocks().collect();
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    assert_eq!(blocks[0].0, segs[4].seq, "the most recent range first");
    assert_ne!(blocks[0], blocks[1]);
    let mut reply = Outbox::default();
    s.send(t, 10_000, &mut reply);
    assert!(
        reply.segments.iter().all(|x| x.wire_bytes <= 1500),
        "{:?}",
        reply.segments.iter().map(|x| x.wire_bytes).collect::<Vec<_>>()
    );
}

/// Drive a lone SYN's timers until the connection gives up; returns (abort time, SYNs sent).
fn syn_to_dead_host(cfg: TcpConfig) -> (SimTime, u64) {
    let mut c = Tcp::new(cfg, 1500, true);
    let mut out = Outbox::default();
    c.connect(SimTime::ZERO, &mut out);
    while let Some(t) = c.poll_at() {
        let mut out = Outbox::default();
        c.on_timer(t, &mut out);
        if c.aborted() {
            assert!(out.notes.contains(&Note::Aborted { reason: AbortReason::SynRetries }));
            return (t, c.stats().segments_sent);
        }
    }
    panic!("never gave up");
}

#[test]
fn a_syn_to_a_dead_host_gives_up_like_linux() {
    // Linux 6.18 defaults: tcp_syn_retries 6 + tcp_syn_linear_timeouts 4 = 10 retransmissions,
    // RTOs 1, 1, 1, 1, 1, 2, 4, 8, 16, 32 then 64 s: ETIMEDOUT 131 s after the first SYN, plus
    // the timer wheel's rounding of the long timers (up to 2 s at HZ=250 for 32 and 64 s).
    let (t, syns) = syn_to_dead_host(TcpConfig::default());
    assert_eq!(syns, 11);
    let secs = t.as_secs_f64();
    assert!((131.0..137.0).contains(&secs), "gave up after {secs} s");
    // Without the linear timeouts (Linux before 6.5, the documented 127 s): 1, 2, 4 ... 64 s.
    let (t, syns) = syn_to_dead_host(TcpConfig { syn_linear_timeouts: 0, timer_hz: 0, ..TcpConfig::default() });
    assert_eq!((syns, t), (7, SimTime::ZERO + SimDuration::from_secs(127)));
    // tcp_syn_retries = 3, as the live suite runs it: 1, 1, 1, 1, 1, 2, 4, 8 s -> 19 s.
    let (t, _) = syn_to_dead_host(TcpConfig { syn_retries: 3, timer_hz: 0, ..TcpConfig::default() });
    assert_eq!(t, SimTime::ZERO + SimDuration::from_secs(19));
}

#[test]
fn the_rto_backs_off_to_its_cap_and_retries2_ends_it() {
    let (mut c, _s, now) = established_pair();
    Arc::make_mut(&mut c.cfg).early_retrans = 0;
    let mut out = Outbox::default();
    c.send(now, 100_000, &mut out);
    let mut max_rto = SimDuration::ZERO;
    while let Some(t) = c.poll_at() {
        let mut out = Outbox::default();
        c.on_timer(t, &mut out);
        max_rto = max_rto.max(c.rto());
        if c.aborted() {
            // tcp_retries2 = 15: 924.6 s after the first retransmission, checked at an RTO.
            assert_eq!(c.abort_reason(), Some(AbortReason::Retries2));
            let first = c.retrans_stamp.get().unwrap();
            assert!(t.since(first) >= SimDuration::from_ms(924_600));
            break;
        }
    }
    assert_eq!(max_rto, LINUX_RTO_MAX);
}

#[test]
fn the_receive_window_starts_at_tcp_rmem_1_and_autotunes() {
    let (mut c, mut s, mut now) = established_pair();
    assert_eq!(s.advertised_window(), 65160, "tcp_rmem[1] 128 KiB, half advertised, <= 65535, whole segments");
    // A fast bulk transfer: every round trip the receiver reads more than last time, so the
    // buffer grows (DRS) until tcp_rmem[2]; the window follows it.
    let rtt = SimDuration::from_ms(10);
    let mut out = Outbox::default();
    c.send(now, 100_000_000, &mut out);
    let mut data = out.segments;
    for _ in 0..200 {
        now += SimDuration(rtt.0 / 2);
        let acks = deliver(&mut s, now, &data);
        now += SimDuration(rtt.0 / 2);
        data = deliver(&mut c, now, &acks.segments).segments;
    }
    assert!(s.receive_buffer() > 128 << 10, "buffer {}", s.receive_buffer());
    assert!(s.receive_buffer() <= 6 << 20);
    // At most tcp_rmem[2]'s share at ENA's ratio for 1448-byte segments (170/256).
    assert_eq!(s.scaling_ratio(), 170);
    assert!(
        s.advertised_window() > 65160 && s.advertised_window() <= (6 << 20) * 170 / 256,
        "{}",
        s.advertised_window()
    );
}

#[test]
fn the_buffer_grows_as_linux_6_18_traces_it() {
    // Eric Dumazet's tcp_rcvbuf_grow trace in "tcp: fix too slow tcp_rcvbuf_grow() action"
    // (netdev, 24 Oct 2025; 50 ms RTT, tcp_rmem[2] = 67000000, scaling_ratio 219): each line's
    // (space before, bytes copied in the round trip) and the sk_rcvbuf the next line shows.
    let cfg = TcpConfig { scaling_ratio: 219, receive_window: crate::units::Bytes(67_000_000), ..TcpConfig::default() };
    let mut s = Tcp::new(cfg, 1500, false);
    s.rcv.space = 40960;
    for (copied, rcvbuf) in [(49152, 160875), (86016, 502741), (139264, 728690), (307200, 2450338)] {
        s.rcvbuf_grow(copied);
        assert_eq!((s.rcv.space, s.receive_buffer()), (copied, rcvbuf));
    }
}

#[test]
fn a_sub_millisecond_receiver_measures_its_rtt_by_the_window() {
    // 100 us round trips: every timestamp echo differs by 0 ms and is dropped (Linux 6.16); the
    // time one window's worth of data takes to arrive gives the estimate, and the buffer grows.
    let (mut c, mut s, mut now) = established_pair();
    let rtt = SimDuration::from_us(100);
    let mut out = Outbox::default();
    c.send(now, 50_000_000, &mut out);
    let mut data = out.segments;
    for _ in 0..300 {
        now += SimDuration(rtt.0 / 2);
        let acks = deliver(&mut s, now, &data);
        now += SimDuration(rtt.0 / 2);
        data = deliver(&mut c, now, &acks.segments).segments;
    }
    let est = s.rcv.rtt.expect("a window-based estimate");
    assert!(est >= rtt && est < SimDuration::from_ms(1), "receiver RTT {est:?}");
    assert!(s.receive_buffer() > 128 << 10, "buffer {}", s.receive_buffer());
}

#[test]
fn ooo_ranges_merge() {
    let mut r = Vec::new();
    insert_range(&mut r, 10, 20);
    insert_range(&mut r, 30, 40);
    assert_eq!(insert_range(&mut r, 20, 30), Some(10));
    assert_eq!(r, vec![(10, 40)]);
    insert_range(&mut r, 0, 5);
    assert_eq!(r, vec![(0, 5), (10, 40)]);
}

#[test]
fn ena_receive_buffers_charge_what_the_driver_allocates() {
    // ena_rx_skb: SKB_DATA_ALIGN(frame + 64 + 320) per 3712-byte buffer, plus the 256-byte skb.
    assert_eq!(RxTruesize::Ena.truesize(1448), Some(1920 + 256)); // 1514-byte frame, one buffer
    assert_eq!(RxTruesize::Ena.scaling_ratio(1448), Some(170));
    // 9015-byte frame: 3712 + 3712 + 1591 bytes in three buffers.
    assert_eq!(RxTruesize::Ena.truesize(8949), Some(256 + 4096 + 4096 + 1984));
    assert_eq!(RxTruesize::Ena.scaling_ratio(8949), Some(219));
    // veth hands over the sender's skb: 832 bytes of head with the data (measured here).
    assert_eq!(RxTruesize::PayloadPlus(832).scaling_ratio(1448), Some(162));
    assert_eq!(RxTruesize::Off.scaling_ratio(1448), None);
    assert_eq!(RxTruesize::PayloadPlus(0).scaling_ratio(1448), Some(255));
}

#[test]
fn the_first_full_segment_measures_the_scaling_ratio() {
    for (rx, ratio) in [(RxTruesize::Ena, 170), (RxTruesize::PayloadPlus(832), 162), (RxTruesize::Off, 128)] {
        let cfg = TcpConfig { delayed_ack: false, rx_truesize: rx, ..TcpConfig::default() };
        let mut c = Tcp::new(cfg.clone(), 1500, true);
        let mut s = Tcp::new(cfg, 1500, false);
        let mut out = Outbox::default();
        c.connect(SimTime(0), &mut out);
        let sa = deliver(&mut s, SimTime(1), &out.segments);
        // The SYN-ACK offers the default share: the ratio is not known yet.
        assert_eq!(sa.segments[0].wnd, 65160);
        assert_eq!(s.scaling_ratio(), 128);
        let mut now = SimTime(2);
        deliver(&mut c, now, &sa.segments);
        // A short segment (below tcp_initialize_rcv_mss's 536) does not measure.
        let mut out = Outbox::default();
        c.send(now, 100, &mut out);
        now += SimDuration::from_us(10);
        deliver(&mut s, now, &out.segments);
        assert_eq!(s.scaling_ratio(), 128);
        let mut out = Outbox::default();
        c.send(now, 1448, &mut out);
        now += SimDuration::from_us(10);
        deliver(&mut s, now, &out.segments);
        assert_eq!(s.scaling_ratio(), ratio, "{rx:?}");
    }
}

/// A sender and a receiver whose buffer is fixed at 59 000 B (tcp_rmem 4096 59000 59000) on a
/// path whose driver charges 2304 B per 1448-byte segment (scaling_ratio 160), past the
/// handshake; and, for each data segment of the sender's initial window delivered one by one,
/// the windows of the ACKs it drew.
fn fixed_buffer_initial_window(quickacks: Option<u32>) -> (Tcp, Vec<Vec<u32>>) {
    let cfg = TcpConfig {
        receive_window: crate::units::Bytes(59_000),
        rmem_initial: crate::units::Bytes(59_000),
        rx_truesize: RxTruesize::PayloadPlus(2304 - 1448),
        ..TcpConfig::default()
    };
    let (mut c, mut s) = handshake(TcpConfig::default(), cfg, 1500);
    if let Some(q) = quickacks {
        s.quickacks = q;
    }
    let mut out = Outbox::default();
    c.send(SimTime(3), 20 * 1448, &mut out);
    let acks = out
        .segments
        .iter()
        .filter(|g| g.payload_bytes > 0)
        .enumerate()
        .map(|(i, seg)| {
            deliver(&mut s, SimTime(10 + i as u64), std::slice::from_ref(seg)).segments.iter().map(|a| a.wnd).collect()
        })
        .collect();
    (s, acks)
}

#[test]
fn an_acks_window_leaves_out_the_segment_it_answers() {
    // The buffer's share is 36 875 B, but each ACK leaves while its segment is still queued, so
    // it offers (59 000 - 2304) x 160 / 256 = 35 435 B, as the kernel did
    // (tests/linux_conformance.rs, "window-limited").
    let (s, acks) = fixed_buffer_initial_window(None);
    let windows: Vec<u32> = acks.concat();
    assert_eq!(s.scaling_ratio(), 160);
    assert_eq!(windows.iter().max(), Some(&35_435), "{windows:?}");
    assert_eq!(windows.last(), Some(&35_435), "{windows:?}");
}

#[test]
fn a_segment_that_grows_the_window_is_acknowledged_alone() {
    // Past the first quick ACKs, Linux acknowledges every second full segment, except one that
    // grew the window (`tcp_grow_window`'s `icsk_ack.quick |= 1`): that one is acknowledged at
    // once, alone. The window grows two segments a segment up to the buffer's share (35 435 B),
    // and from there ACKs come in pairs.
    let (_, acks) = fixed_buffer_initial_window(Some(0));
    let acked: Vec<Option<u32>> = acks.iter().map(|a| a.last().copied()).collect();
    let grew = acked.iter().take_while(|a| a.is_some()).count();
    assert!(grew >= 1, "the first segment grew the window and was acknowledged alone: {acked:?}");
    assert_eq!(acked[grew - 1], Some(35_435), "growth stops at the buffer's share: {acked:?}");
    // Then every second segment.
    let after: Vec<bool> = acked[grew..].iter().map(Option::is_some).collect();
    assert!(after.len() >= 6, "{acked:?}");
    assert!(after.iter().step_by(2).all(|a| !a) && after.iter().skip(1).step_by(2).all(|a| *a), "{acked:?}");
}

/// A client and a server past the handshake (default configuration, MTU 1500), at 2 ps.
fn rpc_pair() -> (Tcp, Tcp) {
    handshake(TcpConfig::default(), TcpConfig::default(), 1500)
}

/// `from` sends 100 B at `at`, delivered 10 us later: the segments `to` answered at once with,
/// and the data segment itself.
fn lone_segment(from: &mut Tcp, to: &mut Tcp, at: SimTime) -> (usize, Segment) {
    let mut out = Outbox::default();
    from.send(at, 100, &mut out);
    assert_eq!(out.segments.len(), 1);
    (deliver(to, at + SimDuration::from_us(10), &out.segments).segments.len(), out.segments[0])
}

#[test]
fn an_end_that_answers_at_once_leaves_its_ack_to_the_reply() {
    // Linux's pingpong mode: an end that sent data within the delayed-ACK timeout of receiving
    // some ignores its quick ACKs, so a lone request waits for the reply (or the 40 ms timer).
    // Once that timer has had to fire, the quick ACKs count again.
    let (mut c, mut s) = rpc_pair();
    let first = SimTime(0) + SimDuration::from_us(10);
    assert_eq!(lone_segment(&mut c, &mut s, first).0, 1, "before any reply: a quick ACK");
    // The server answers at once: the reply carries what it owes.
    let _ = lone_segment(&mut s, &mut c, first + SimDuration::from_us(20));
    let second = first + SimDuration::from_us(40);
    assert_eq!(lone_segment(&mut c, &mut s, second).0, 0, "after answering at once: no quick ACK");
    let left = s.quickacks;
    assert!(left > 0, "quick ACKs remain, ignored");
    let timer = s.poll_at().expect("a delayed ACK");
    assert_eq!(timer, second + SimDuration::from_us(10) + LINUX_DELACK_MIN);
    let mut out = Outbox::default();
    s.on_timer(timer, &mut out);
    assert_eq!(out.segments.len(), 1, "the delayed ACK");
    assert_eq!(s.quickacks, left - 1, "an ACK of new data spends a quick ACK, the timer's too");
    assert_eq!(
        lone_segment(&mut c, &mut s, timer + SimDuration::from_us(10)).0,
        1,
        "the timer fired: quick ACKs again"
    );
}

#[test]
fn only_a_prompt_reply_makes_an_end_interactive_and_a_duplicate_or_a_mark_ends_it() {
    // A pure sender never enters pingpong mode (nothing received: Linux's `ato` is still 0).
    let (mut c, mut s) = rpc_pair();
    let mut at = SimTime(0) + SimDuration::from_us(10);
    for _ in 0..3 {
        let _ = lone_segment(&mut c, &mut s, at);
        at += SimDuration::from_us(100);
    }
    assert!(!c.pingpong, "a pure sender");
    // A reply later than the timeout does not make the server interactive.
    let (_, request) = lone_segment(&mut c, &mut s, at);
    let late = at + SimDuration::from_us(10) + LINUX_DELACK_MIN;
    let _ = lone_segment(&mut s, &mut c, late);
    assert!(!s.pingpong, "a reply 40 ms after the request");
    // A prompt one does. Its request was acknowledged at once (a quick ACK), so the reply
    // acknowledges nothing new and spends none.
    at = late + SimDuration::from_ms(1);
    let (_, request2) = lone_segment(&mut c, &mut s, at);
    let before = s.quickacks;
    let _ = lone_segment(&mut s, &mut c, at + SimDuration::from_us(20));
    assert!(s.pingpong && s.quickacks == before, "answered at once (its request was ACKed already)");
    // Duplicate data ends it (tcp_enter_quickack_mode)...
    let _ = deliver(&mut s, at + SimDuration::from_us(30), &[request]);
    assert!(!s.pingpong, "duplicate data");
    // ... and so does a CE mark.
    at += SimDuration::from_us(100);
    let _ = lone_segment(&mut c, &mut s, at);
    let _ = lone_segment(&mut s, &mut c, at + SimDuration::from_us(20));
    assert!(s.pingpong);
    let mut marked = request2;
    marked.seq = s.rcv_nxt();
    marked.ce = true;
    let _ = deliver(&mut s, at + SimDuration::from_us(30), &[marked]);
    assert!(!s.pingpong, "a CE mark");
}

/// An established pair; the client sends its first ten segments of a long transfer, the first
/// is lost, the other nine reach the server 50 us later. Returns both ends, that time and the
/// server's nine (duplicate, SACK) ACKs.
fn ten_sent_the_first_lost() -> (Tcp, Tcp, SimTime, Outbox) {
    let (mut c, mut s, mut now) = established_pair();
    let mut out = Outbox::default();
    c.send(now, 40 * 1448, &mut out);
    assert_eq!(out.segments.len(), 10);
    now += SimDuration::from_us(50);
    let acks = deliver(&mut s, now, &out.segments[1..]);
    assert_eq!(acks.segments.len(), 9);
    (c, s, now, acks)
}

/// The first segment's resend reaches the server at `now` + 50 us and its ACK the client 50 us
/// later: the cumulative ACK reaches the recovery point and the recovery ends with `hole`, which
/// RACK called lost and resent, still out. It must start the next recovery without sending the
/// hole again while that resend is in flight.
fn end_recovery_with_a_lost_hole_in_flight(
    c: &mut Tcp,
    s: &mut Tcp,
    mut now: SimTime,
    resent_first: &[Segment],
    hole: u64,
) {
    now += SimDuration::from_us(50);
    let acks = deliver(s, now, resent_first);
    now += SimDuration::from_us(50);
    let out = deliver(c, now, &acks.segments);
    assert_eq!(c.stats().fast_retransmits, 2, "a hole still called lost starts the next recovery");
    assert!(c.in_recovery());
    let again = out.segments.iter().filter(|g| g.retransmit && g.seq == hole).count();
    assert_eq!(again, 0, "its resend is still in flight: not again");
    assert_eq!(c.stats().rtos, 0);
}

#[test]
fn a_hole_rack_called_lost_outlives_its_recovery_and_starts_the_next_without_a_second_resend() {
    // Ten segments, the first lost: recovery. In it, new data goes out; the first of those
    // above the recovery point is lost too, called lost (data sent after it is SACKed) and
    // resent. The resend of the first segment then ends the recovery while the second hole's
    // resend is still in flight: that ACK starts a new recovery (here by the SACK rule: more than
    // two segments are SACKed above the hole), which must not send the hole a second time, as
    // Linux skips what it has retransmitted. (Fails with `rtx_next` reset to `snd_una`.)
    let (mut c, mut s, mut now, acks) = ten_sent_the_first_lost();
    now += SimDuration::from_us(50);
    let out = deliver(&mut c, now, &acks.segments);
    assert!(c.in_recovery() && c.stats().fast_retransmits == 1);
    let resent_first: Vec<Segment> = out.segments.iter().filter(|g| g.retransmit).copied().collect();
    assert_eq!(resent_first.iter().map(|g| g.seq).collect::<Vec<_>>(), vec![0]);
    let new: Vec<Segment> = out.segments.iter().filter(|g| !g.retransmit).copied().collect();
    // The first new segment sent above the recovery point is lost; the others arrive, SACKed
    // above it, well after it was sent.
    let hole = new.iter().map(|g| g.seq).find(|&q| q >= c.recover).expect("new data sent in recovery");
    let others: Vec<Segment> = new.iter().filter(|g| g.seq != hole).copied().collect();
    assert!(others.iter().filter(|g| g.seq > hole).count() >= 2, "data sent after the hole: {}", new.len());
    now += SimDuration::from_us(50);
    let acks = deliver(&mut s, now, &others);
    now += SimDuration::from_us(50);
    let out = deliver(&mut c, now, &acks.segments);
    let resends: Vec<u64> = out.segments.iter().filter(|g| g.retransmit).map(|g| g.seq).collect();
    assert!(resends.contains(&hole), "the second hole is resent in the first recovery: {resends:?}");
    end_recovery_with_a_lost_hole_in_flight(&mut c, &mut s, now, &resent_first, hole);
}

#[test]
fn a_hole_rack_called_lost_with_too_few_segments_above_it_starts_a_recovery_once_the_last_ends() {
    // As above, but the second hole has fewer segments SACKed above it than the duplicate-ACK
    // rule needs: RACK alone calls it lost (data sent a window after it was SACKed). When the
    // first recovery ends with that hole still unacknowledged, nothing but RACK's record says
    // it is lost; it must start the next recovery (Linux: lost_out > 0, tcp_time_to_recover),
    // without a second resend while the first is in flight. (Fails if `rack_lost_now` does not
    // report such a hole in the open state: then no recovery, and the hole waits for the RTO.)
    let (mut c, mut s, mut now, acks) = ten_sent_the_first_lost();
    // The ACKs reach the sender in three groups 40 us apart (more than a quarter of the 100 us
    // RTT): the first enters recovery, and the new data each later group lets out leaves at its
    // own time.
    now += SimDuration::from_us(50);
    let early = deliver(&mut c, now, &acks.segments[..5]);
    assert!(c.in_recovery() && c.stats().fast_retransmits == 1);
    let resent_first: Vec<Segment> = early.segments.iter().filter(|g| g.retransmit).copied().collect();
    assert_eq!(resent_first.iter().map(|g| g.seq).collect::<Vec<_>>(), vec![0]);
    let new_data = |out: &Outbox| -> Vec<Segment> { out.segments.iter().filter(|g| !g.retransmit).copied().collect() };
    // Limited transmit's two segments, below the recovery point: they arrive.
    let limited = new_data(&early);
    assert!(limited.iter().all(|g| g.seq < c.recover), "{limited:?}");
    now += SimDuration::from_us(40);
    let middle = new_data(&deliver(&mut c, now, &acks.segments[5..7]));
    now += SimDuration::from_us(40);
    let late = new_data(&deliver(&mut c, now, &acks.segments[7..]));
    let hole = middle.first().expect("new data on the middle ACKs").seq;
    assert!(hole >= c.recover, "the hole is above the recovery point");
    // The hole and the data sent with it are lost; one segment sent later arrives: SACKed
    // above the holes, one segment, too few for the duplicate-ACK rule.
    let later = *late.first().expect("new data on the late ACKs");
    now += SimDuration::from_us(50);
    let acks = deliver(&mut s, now, &[limited.as_slice(), &[later]].concat());
    now += SimDuration::from_us(50);
    let out = deliver(&mut c, now, &acks.segments);
    let resends: Vec<u64> = out.segments.iter().filter(|g| g.retransmit).map(|g| g.seq).collect();
    assert!(resends.contains(&hole), "RACK calls the hole lost at once: {resends:?}");
    assert!(c.in_recovery());
    // The first segment's resend arrives: the cumulative ACK reaches the hole, the recovery
    // point.
    end_recovery_with_a_lost_hole_in_flight(&mut c, &mut s, now, &resent_first, hole);
}
