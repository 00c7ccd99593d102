//! nitrosim's TCP on the lab's path, without the rest of the model: two `Tcp` state machines
//! (the crate's own, with its default configuration) joined by a bottleneck that is a rate plus
//! a drop-tail byte queue (what `tc tbf ... limit` is) and a fixed one-way delay each way. The
//! kernel side of the same case runs in the namespaces; this is the nitrosim side.

use nitrosim::net::packet::Segment;
use nitrosim::transport::{Outbox, Tcp, TcpConfig, Transport};
use nitrosim::units::{Bandwidth, SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct PathSpec {
    pub mtu: u32,
    pub rate: Bandwidth,
    /// Bytes the bottleneck queue holds before it drops (tbf's `limit`).
    pub queue_bytes: u64,
    /// One-way propagation delay each way.
    pub one_way: SimDuration,
    pub bytes: u64,
    /// The run stops here whatever happens (a limit on everything).
    pub limit: SimDuration,
}

#[derive(Debug, Default)]
pub struct SimBulk {
    /// (seconds since the handshake completed at the client, window the client saw).
    pub window_at_sender: Vec<(f64, u32)>,
    /// Data segments that reached the receiver, and segments it sent after the handshake.
    pub data_segs_in: u64,
    pub acks_out: u64,
    /// Seconds after the handshake when every byte was acknowledged.
    pub done: Option<f64>,
    /// When the sender left slow start (ssthresh became finite), and that ssthresh (segments).
    pub slow_start_exit: Option<(f64, u64)>,
    /// Segments the bottleneck queue dropped.
    #[allow(dead_code)]
    pub drops: u64,
}

/// Run one bulk transfer client -> server over `p`.
pub fn sim_bulk(p: &PathSpec) -> SimBulk {
    let mut client = Tcp::new(TcpConfig::default(), p.mtu, true);
    let mut server = Tcp::new(TcpConfig::default(), p.mtu, false);
    let mut out = Outbox::default();
    let mut heap: BinaryHeap<Reverse<(SimTime, u64, bool, usize)>> = BinaryHeap::new();
    let mut store: Vec<Segment> = Vec::new();
    let mut next_id = 0u64;
    let mut busy_until = SimTime(0);
    let mut r = SimBulk::default();
    let mut established_at: Option<SimTime> = None;
    let mut sent_app = false;
    let end = SimTime(p.limit.ps());
    let initial_ssthresh = client.ssthresh();

    client.connect(SimTime(0), &mut out);
    let mut now = SimTime(0);
    loop {
        // Hand the client's output to the bottleneck, the server's to the return path.
        for seg in out.segments.drain(..) {
            let queued = busy_until.ps().saturating_sub(now.ps());
            let queued_bytes = (queued as u128 * p.rate.bps() as u128 / 8 / 1_000_000_000_000) as u64;
            if queued_bytes + seg.wire_bytes as u64 > p.queue_bytes {
                r.drops += 1;
                continue;
            }
            let start = busy_until.max(now);
            busy_until = SimTime(start.ps() + p.rate.serialisation(seg.wire_bytes as u64).ps());
            let at = SimTime(busy_until.ps() + p.one_way.ps());
            store.push(seg);
            heap.push(Reverse((at, next_id, true, store.len() - 1)));
            next_id += 1;
        }
        if established_at.is_none() && client.is_established() {
            established_at = Some(now);
        }
        if client.is_established() && !sent_app {
            sent_app = true;
            client.send(now, p.bytes, &mut out);
            client.close(now, &mut out);
            continue;
        }
        if let Some(t0) = established_at {
            let t = now.since(t0).as_secs_f64();
            if r.slow_start_exit.is_none() && client.ssthresh() != initial_ssthresh {
                r.slow_start_exit = Some((t, client.ssthresh() / client.mss()));
            }
            if r.done.is_none() && client.all_acked() && sent_app {
                r.done = Some(t);
                break;
            }
        }
        let next_timer = [client.poll_at(), server.poll_at()].into_iter().flatten().min();
        let next_seg = heap.peek().map(|Reverse((t, ..))| *t);
        let Some(next) = [next_timer, next_seg].into_iter().flatten().min() else { break };
        if next > end {
            break;
        }
        now = next.max(now);
        if next_seg == Some(next) {
            let Reverse((_, _, to_server, i)) = heap.pop().unwrap();
            let seg = store[i];
            if to_server {
                if seg.payload_bytes > 0 {
                    r.data_segs_in += 1;
                }
                let mut sout = Outbox::default();
                server.on_segment(now, &seg, &mut sout);
                for s in sout.segments {
                    if established_at.is_some() {
                        r.acks_out += 1;
                    }
                    store.push(s);
                    heap.push(Reverse((SimTime(now.ps() + p.one_way.ps()), next_id, false, store.len() - 1)));
                    next_id += 1;
                }
            } else {
                if let Some(t0) = established_at {
                    r.window_at_sender.push((now.since(t0).as_secs_f64(), seg.wnd));
                }
                client.on_segment(now, &seg, &mut out);
            }
        } else {
            client.on_timer(now, &mut out);
            let mut sout = Outbox::default();
            server.on_timer(now, &mut sout);
            for s in sout.segments {
                r.acks_out += 1;
                store.push(s);
                heap.push(Reverse((SimTime(now.ps() + p.one_way.ps()), next_id, false, store.len() - 1)));
                next_id += 1;
            }
        }
    }
    r
}
