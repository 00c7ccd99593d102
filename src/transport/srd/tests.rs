//! Unit tests of both halves, driven by a hand-held clock.

use super::*;
use rand::SeedableRng;

/// Any seeded generator will do: the sender takes the caller's.
type TestRng = rand_pcg::Pcg64Mcg;

fn test_rng() -> TestRng {
    TestRng::seed_from_u64(1)
}

fn sender(paths: u32, policy: PathPolicy) -> SrdSender<u32, TestRng> {
    let cfg = SrdConfig { paths, policy, ..SrdConfig::default() };
    SrdSender::new(cfg, test_rng())
}

fn ack_of(t: &Transmission<u32>, sent_at: SimTime) -> SrdAck {
    SrdAck { seq: t.seq, path: t.path, sent_at, ce: false }
}

#[test]
fn sprays_over_all_paths() {
    let mut s = sender(8, PathPolicy::RoundRobin);
    let mut out = SenderOut::default();
    for i in 0..16 {
        s.send(SimTime(0), i, 1000, &mut out);
    }
    let mut used = [0; 8];
    for t in &out.transmit {
        used[t.path as usize] += 1;
    }
    assert_eq!(used, [2; 8]);
}

#[test]
fn loss_on_one_path_is_retransmitted_on_another_after_the_timer() {
    let mut s = sender(4, PathPolicy::Adaptive);
    let mut out = SenderOut::default();
    for i in 0..4 {
        s.send(SimTime(0), i, 1000, &mut out);
    }
    let sent = out.transmit.clone();
    let lost = sent[1];
    let t1 = SimTime(0) + SimDuration::from_us(20);
    out.clear();
    for t in sent.iter().filter(|t| t.seq != lost.seq) {
        s.on_ack(t1, ack_of(t, SimTime(0)), &mut out);
    }
    assert!(out.transmit.is_empty(), "no retransmission before the timer");
    let deadline = s.poll_at().unwrap();
    assert_eq!(deadline, SimTime(0) + SrdConfig::default().retransmit_timeout);
    s.on_timer(deadline, &mut out);
    assert_eq!(out.transmit.len(), 1);
    let r = out.transmit[0];
    assert!(r.retransmit && r.seq == lost.seq && r.payload == lost.payload);
    assert_ne!(r.path, lost.path, "retransmitted on another path");
    assert_eq!(s.stats().timeouts, 1);
}

#[test]
fn a_slow_path_is_avoided() {
    let mut s = sender(2, PathPolicy::Adaptive);
    let mut out = SenderOut::default();
    let mut now = SimTime(0);
    // Path 0 answers in 10 us, path 1 in 200 us.
    for round in 0..20u32 {
        out.clear();
        s.send(now, round, 1000, &mut out);
        let t = out.transmit[0];
        let rtt = if t.path == 0 { SimDuration::from_us(10) } else { SimDuration::from_us(200) };
        s.on_ack(now + rtt, ack_of(&t, now), &mut out);
        now += SimDuration::from_us(300);
    }
    let mut picks = [0; 2];
    for round in 0..20u32 {
        out.clear();
        s.send(now, round, 1000, &mut out);
        let t = out.transmit[0];
        picks[t.path as usize] += 1;
        s.on_ack(now + SimDuration::from_us(10), ack_of(&t, now), &mut out);
        now += SimDuration::from_us(300);
    }
    assert!(picks[0] > 3 * picks[1], "slow path still chosen: {picks:?}");
}

#[test]
fn a_failed_path_is_held_down_and_traffic_moves_away() {
    let mut s = sender(2, PathPolicy::RoundRobin);
    let mut out = SenderOut::default();
    s.send(SimTime(0), 0, 1000, &mut out);
    let first = out.transmit[0];
    out.clear();
    // Nothing comes back: the timer fires and the path is held down.
    let t = s.poll_at().unwrap();
    s.on_timer(t, &mut out);
    assert_ne!(out.transmit[0].path, first.path);
    out.clear();
    for i in 1..5 {
        s.send(t, i, 1000, &mut out);
    }
    assert!(out.transmit.iter().all(|x| x.path != first.path), "held-down path used: {:?}", out.transmit);
}

/// Once the oldest packet is acknowledged, the next wake is the deadline of the one still out,
/// not the acknowledged packet's old deadline (which would wake the caller to do nothing).
#[test]
fn the_next_wake_is_the_earliest_deadline_still_live() {
    let mut s = sender(2, PathPolicy::RoundRobin);
    let mut out = SenderOut::default();
    let rto = SrdConfig::default().retransmit_timeout;
    let later = SimTime(0) + SimDuration::from_us(5);
    s.send(SimTime(0), 1, 1000, &mut out);
    s.send(later, 2, 1000, &mut out);
    assert_eq!(out.transmit.len(), 2, "both go at once: no RTT sample, no pacing yet");
    assert_eq!(s.poll_at(), Some(SimTime(0) + rto));
    let first = out.transmit[0];
    s.on_ack(SimTime(0) + SimDuration::from_us(10), ack_of(&first, SimTime(0)), &mut out);
    assert_eq!(s.poll_at(), Some(later + rto));
}

#[test]
fn duplicate_acks_are_harmless_and_give_up_after_max_retries() {
    let mut s = sender(2, PathPolicy::RoundRobin);
    let mut out = SenderOut::default();
    s.send(SimTime(0), 7, 1000, &mut out);
    let t = out.transmit[0];
    s.on_ack(SimTime(10), ack_of(&t, SimTime(0)), &mut out);
    s.on_ack(SimTime(11), ack_of(&t, SimTime(0)), &mut out);
    assert_eq!(s.inflight_bytes(), 0);
    assert_eq!(s.poll_at(), None, "nothing unacknowledged, nothing waiting: no wake");
    // A packet that is never acknowledged: 1 + max_retries transmissions, then given up.
    let mut s = sender(2, PathPolicy::RoundRobin);
    let mut out = SenderOut::default();
    s.send(SimTime(0), 9, 1000, &mut out);
    while let Some(d) = s.poll_at() {
        s.on_timer(d, &mut out);
    }
    assert_eq!(out.transmit.len() as u32, 1 + SrdConfig::default().max_retries);
    assert_eq!(out.gave_up, vec![9]);
    assert_eq!(out.released, vec![9], "given up on: held no longer");
    assert_eq!(s.inflight_bytes(), 0);
}

/// A caller whose payloads are handles (the model's) frees each once the sender says it holds it
/// no longer: every payload it took exactly once, none while it may still send it again
/// (a retransmission reads it), and one it could not queue never (it was never held).
#[test]
fn every_payload_taken_is_released_once_after_its_last_use() {
    let cfg = SrdConfig { send_queue: 8, ..SrdConfig::default() };
    let mut s: SrdSender<u32, TestRng> = SrdSender::new(cfg, test_rng());
    let mut out = SenderOut::default();
    let mut refused = Vec::new();
    for i in 0..64 {
        s.send(SimTime(0), i, 9000, &mut out);
        refused.append(&mut out.gave_up);
    }
    assert!(!refused.is_empty(), "some found the queue full");
    assert!(out.released.is_empty(), "nothing acknowledged yet");
    let (mut released, mut acked, mut given_up) = (Vec::new(), Vec::new(), Vec::new());
    let check = |out: &mut SenderOut<u32>, acked: &[u32], given_up: &mut Vec<u32>, released: &mut Vec<u32>| {
        given_up.append(&mut out.gave_up);
        for p in out.released.drain(..) {
            assert!(acked.contains(&p) || given_up.contains(&p), "{p} released while still in flight");
            released.push(p);
        }
    };
    let mut now = SimTime(0);
    // Acknowledge two payloads in three as they go; the third times out and goes again until
    // given up: releases come from both, in and out of sequence order.
    while !out.transmit.is_empty() || s.poll_at().is_some() {
        for t in std::mem::take(&mut out.transmit) {
            assert!(!released.contains(&t.payload), "{} sent after its release", t.payload);
            if t.payload % 3 != 0 {
                acked.push(t.payload);
                s.on_ack(now + SimDuration::from_us(20), ack_of(&t, now), &mut out);
                check(&mut out, &acked, &mut given_up, &mut released);
            }
        }
        if !out.transmit.is_empty() {
            continue;
        }
        let Some(d) = s.poll_at() else { break };
        now = d.max(now + SimDuration::from_us(20));
        s.on_timer(now, &mut out);
        check(&mut out, &acked, &mut given_up, &mut released);
    }
    assert!(!given_up.is_empty(), "some were given up on");
    let mut expected: Vec<u32> = (0..64).filter(|i| !refused.contains(i)).collect();
    released.sort_unstable();
    expected.sort_unstable();
    assert_eq!(released, expected);
}

#[test]
fn ecn_marks_steer_traffic_away_and_shrink_the_window() {
    let mut s = sender(2, PathPolicy::Adaptive);
    let mut out = SenderOut::default();
    let mut now = SimTime(0);
    let start = s.window();
    let mut picks = [0; 2];
    for i in 0..200u32 {
        out.clear();
        s.send(now, i, 1000, &mut out);
        let t = out.transmit[0];
        picks[t.path as usize] += 1;
        // Same RTT on both paths, but path 1 marks everything.
        let sent_at = now;
        now += SimDuration::from_us(20);
        s.on_ack(now, SrdAck { seq: t.seq, path: t.path, sent_at, ce: t.path == 1 }, &mut out);
    }
    assert!(picks[0] > 3 * picks[1], "marked path still chosen: {picks:?}");
    assert!(s.stats().ecn_marks > 0);
    assert!(s.stats().min_window_bytes < start, "the window backed off");
}

#[test]
fn packets_are_paced_at_window_over_rtt() {
    let cfg = SrdConfig {
        initial_window: crate::units::Bytes(90_000),
        min_window: crate::units::Bytes(90_000),
        ..SrdConfig::default()
    };
    let mut s: SrdSender<u32, TestRng> = SrdSender::new(cfg, test_rng());
    let mut out = SenderOut::default();
    // One RTT sample of 90 us: the rate becomes about 90 000 B per 90 us, 9000 B every 9 us.
    s.send(SimTime(0), 0, 9000, &mut out);
    let t = out.transmit[0];
    let t0 = SimTime(0) + SimDuration::from_us(90);
    s.on_ack(t0, ack_of(&t, SimTime(0)), &mut out);
    out.clear();
    for i in 1..=4 {
        s.send(t0, i, 9000, &mut out);
    }
    assert_eq!(out.transmit.len(), 1, "the first goes at once, the rest wait for their slot");
    // (The ACK also grew the window a little: the gap is 9000 B x 90 us / window.)
    let next = s.poll_at().unwrap();
    let gap = 9000 * SimDuration::from_us(90).ps() / s.window();
    assert_eq!(next.since(t0), SimDuration(gap));
    assert!((8_500_000..=9_000_000).contains(&gap));
    s.on_timer(next, &mut out);
    assert_eq!(out.transmit.len(), 2);
}

#[test]
fn window_shrinks_when_rtt_exceeds_the_target() {
    let mut s = sender(1, PathPolicy::Adaptive);
    let mut out = SenderOut::default();
    let start = s.window();
    let mut now = SimTime(0);
    for i in 0..50u32 {
        out.clear();
        s.send(now, i, 9000, &mut out);
        let t = out.transmit[0];
        let rtt = if i < 5 { SimDuration::from_us(20) } else { SimDuration::from_us(500) };
        let sent = now;
        now += rtt;
        s.on_ack(now, ack_of(&t, sent), &mut out);
    }
    assert!(s.window() < start / 2, "window {} from {start}", s.window());
}

#[test]
fn reorder_buffer_delivers_in_order_and_never_exceeds_its_bound() {
    let mut r: SrdReceiver<u64> = SrdReceiver::new(4, true);
    let mut out = ReceiverOut::default();
    let t = SimTime(0);
    for seq in [1, 2, 3] {
        out.clear();
        r.on_data(seq, 0, 0, t, false, seq, &mut out);
        assert!(out.deliver.is_empty() && out.ack.is_some());
    }
    assert_eq!(r.occupancy(), 3);
    // Beyond the buffer: refused, not acknowledged.
    out.clear();
    r.on_data(4, 0, 0, t, false, 4, &mut out);
    assert!(out.refused && out.ack.is_none());
    assert_eq!(r.occupancy(), 3);
    // The hole fills: everything goes up in order.
    out.clear();
    r.on_data(0, 0, 0, t, false, 0, &mut out);
    assert_eq!(out.deliver, vec![0, 1, 2, 3]);
    assert_eq!(r.occupancy(), 0);
    // Duplicates are acknowledged again but not delivered twice.
    out.clear();
    r.on_data(2, 0, 0, t, false, 2, &mut out);
    assert!(out.duplicate && out.ack.is_some() && out.deliver.is_empty());
    assert!(r.stats().max_occupancy <= r.capacity());
}

#[test]
fn unordered_delivery_goes_up_at_once_without_duplicates() {
    let mut r: SrdReceiver<u64> = SrdReceiver::new(8, false);
    let mut out = ReceiverOut::default();
    for seq in [2, 0, 2, 1] {
        r.on_data(seq, 0, 0, SimTime(0), false, seq, &mut out);
    }
    assert_eq!(out.deliver, vec![2, 0, 1]);
    assert_eq!(r.stats().duplicates, 1);
}

#[test]
fn the_receiver_moves_past_a_sequence_the_sender_gave_up_on() {
    // A sender gives up on sequence 0 after its retries; 1 and 2 arrived and wait behind it.
    let cfg = SrdConfig { paths: 2, policy: PathPolicy::RoundRobin, max_retries: 2, ..SrdConfig::default() };
    let mut s: SrdSender<u32, TestRng> = SrdSender::new(cfg, test_rng());
    let mut r: SrdReceiver<u32> = SrdReceiver::new(4, true);
    let (mut so, mut ro) = (SenderOut::default(), ReceiverOut::default());
    for i in 0..3 {
        s.send(SimTime(0), i, 1000, &mut so);
    }
    let sent = std::mem::take(&mut so.transmit);
    for t in sent.iter().filter(|t| t.seq != 0) {
        ro.clear();
        r.on_data(t.seq, t.floor, t.path, SimTime(0), false, t.payload, &mut ro);
        assert!(ro.deliver.is_empty(), "held behind the hole at 0");
        s.on_ack(SimTime(10), ro.ack.unwrap(), &mut so);
    }
    assert_eq!(r.expected(), 0);
    // Sequence 0 is lost on every try: the sender gives up on it.
    while so.gave_up.is_empty() {
        let d = s.poll_at().unwrap();
        s.on_timer(d, &mut so);
    }
    assert_eq!(so.gave_up, vec![0]);
    // The next packet (here the host's own retransmission of the lost payload, with a new
    // sequence number) carries the floor past the hole: the receiver hands up 1 and 2, then it.
    so.clear();
    let now = s.poll_at().unwrap_or(SimTime(0) + SimDuration::from_ms(1));
    s.send(now, 100, 1000, &mut so);
    let t = so.transmit[0];
    assert_eq!((t.seq, t.floor), (3, 3));
    ro.clear();
    r.on_data(t.seq, t.floor, t.path, now, false, t.payload, &mut ro);
    assert_eq!(ro.deliver, vec![1, 2, 100]);
    assert_eq!((r.expected(), r.occupancy(), r.stats().skipped), (4, 0, 1));
    // The abandoned packet turning up late is a duplicate, acknowledged and not delivered.
    ro.clear();
    r.on_data(0, 0, sent[0].path, SimTime(0), false, 0, &mut ro);
    assert!(ro.duplicate && ro.deliver.is_empty() && ro.ack.is_some());
}

#[test]
fn a_floor_far_beyond_the_buffer_delivers_what_is_held_and_lets_new_packets_in() {
    let mut r: SrdReceiver<u64> = SrdReceiver::new(4, true);
    let mut out = ReceiverOut::default();
    for seq in [2, 3] {
        r.on_data(seq, 0, 0, SimTime(0), false, seq, &mut out);
    }
    // Sequence 10 would be refused (beyond 0 + 4), but its floor says 0..9 are settled.
    out.clear();
    r.on_data(10, 9, 0, SimTime(0), false, 10, &mut out);
    assert!(!out.refused);
    assert_eq!(out.deliver, vec![2, 3]);
    assert_eq!((r.expected(), r.occupancy(), r.stats().skipped), (9, 1, 7));
    out.clear();
    r.on_data(9, 9, 0, SimTime(0), false, 9, &mut out);
    assert_eq!(out.deliver, vec![9, 10]);
    // Unordered delivery (EFA) slides its duplicate window the same way.
    let mut u: SrdReceiver<u64> = SrdReceiver::new(4, false);
    u.on_data(1, 0, 0, SimTime(0), false, 1, &mut out);
    u.on_data(7, 6, 0, SimTime(0), false, 7, &mut out);
    assert_eq!((u.expected(), u.stats().skipped, u.stats().refused), (6, 5, 0));
}
