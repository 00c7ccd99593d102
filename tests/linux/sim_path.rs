//! nitrosim's TCP on the lab's path, without the rest of the model: two `Tcp` state machines
//! (the crate's own, with its default configuration) joined by the lab's bottleneck, `tc tbf`:
//! a token bucket (`rate`, `burst` 64 KiB: a packet leaves at once while the bucket holds its
//! length, so the first 64 KiB after an idle spell go at the veth's speed) in front of a
//! drop-tail byte queue (`limit`), and a fixed one-way delay each way. The kernel side of the
//! same case runs in the namespaces; this is the nitrosim side.

use nitrosim::net::packet::{SegKind, Segment};
use nitrosim::transport::tcp::RxTruesize;
use nitrosim::transport::{Outbox, Tcp, TcpConfig, Transport};
use nitrosim::units::{Bandwidth, SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// The lab's `tbf ... burst 64kb` (tc's kb is 1024 bytes).
pub const TBF_BURST_BYTES: u64 = 64 * 1024;
/// tbf counts a packet's length at the device, Ethernet header included.
const ETHERNET_HEADER_BYTES: u64 = 14;
const PS_PER_S: u128 = 1_000_000_000_000;

/// `tc tbf rate R burst B limit L`: FIFO; a packet departs when the bucket (filled at R up to B)
/// holds its length; bytes waiting beyond L are dropped on arrival.
struct TokenBucket {
    rate_bps: u128,
    /// Tokens in bit-picoseconds (bits x 10^12), so refilling is an integer product.
    tokens: u128,
    burst: u128,
    /// When `tokens` was last brought up to date, and when the last packet departed (ps).
    at_ps: u64,
    last_departure_ps: u64,
    /// (departure, bytes) of packets not yet gone.
    waiting: VecDeque<(u64, u64)>,
    waiting_bytes: u64,
    limit_bytes: u64,
}

impl TokenBucket {
    fn new(rate: Bandwidth, burst_bytes: u64, limit_bytes: u64) -> Self {
        let burst = burst_bytes as u128 * 8 * PS_PER_S;
        TokenBucket {
            rate_bps: rate.bps() as u128,
            tokens: burst,
            burst,
            at_ps: 0,
            last_departure_ps: 0,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            limit_bytes,
        }
    }

    /// A packet of `ip_bytes` arrives at `now`: when it departs, or None if the queue is full.
    fn offer(&mut self, now: SimTime, ip_bytes: u64) -> Option<SimTime> {
        while self.waiting.front().is_some_and(|&(d, _)| d <= now.ps()) {
            let (_, b) = self.waiting.pop_front().unwrap();
            self.waiting_bytes -= b;
        }
        let len = ip_bytes + ETHERNET_HEADER_BYTES;
        if self.waiting_bytes + len > self.limit_bytes {
            return None;
        }
        let start = now.ps().max(self.last_departure_ps);
        let refill = (start - self.at_ps) as u128 * self.rate_bps;
        let tokens = (self.tokens + refill).min(self.burst);
        let need = len as u128 * 8 * PS_PER_S;
        let departure = if tokens >= need {
            self.tokens = tokens - need;
            start
        } else {
            self.tokens = 0;
            start + (need - tokens).div_ceil(self.rate_bps) as u64
        };
        self.at_ps = departure;
        self.last_departure_ps = departure;
        self.waiting.push_back((departure, len));
        self.waiting_bytes += len;
        Some(SimTime(departure))
    }
}

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
    /// What the receiving host charges per segment (the lab's figure, measured in the kernel).
    pub rx_truesize: RxTruesize,
    /// The sender's congestion control (the kernel run's).
    pub congestion: nitrosim::transport::congestion::CongestionKind,
    /// The receiver's `tcp_rmem[1]` and `[2]` when the case sets both to one figure (a buffer
    /// that starts at its ceiling); None: the defaults.
    pub receive_buffer: Option<u64>,
}

#[derive(Debug, Default)]
pub struct SimBulk {
    /// (seconds since the handshake completed at the client, window the client saw).
    pub window_at_sender: Vec<(f64, u32)>,
    /// Data segments that reached the receiver, and segments it sent after the handshake.
    pub data_segs_in: u64,
    pub acks_out: u64,
    /// The acknowledgement number of each segment the receiver sent after the handshake (SYN-ACK
    /// and FIN excluded), in order, and the sender's MSS.
    pub acks: Vec<u64>,
    pub mss: u64,
    /// Seconds after the handshake when every byte was acknowledged.
    pub done: Option<f64>,
    /// When the sender left slow start (ssthresh became finite), and that ssthresh (segments).
    pub slow_start_exit: Option<(f64, u64)>,
    /// Segments the sender had retransmitted when it left slow start (0: HyStart ended it, not a
    /// loss).
    pub retransmits_at_exit: Option<u64>,
    /// Segments the sender retransmitted so far.
    retransmits: u64,
    /// Segments the bottleneck queue dropped.
    #[allow(dead_code)]
    pub drops: u64,
    /// The receiver's `scaling_ratio` at the end.
    pub scaling_ratio: u32,
    /// (seconds since the handshake completed at the client, its cumulative acknowledgement) for
    /// each segment the client took from the server.
    pub acked_at_sender: Vec<(f64, u64)>,
    /// (s, receiver RTT estimate us, rcv_space, sender's cwnd in segments) after each data segment the server took.
    #[allow(dead_code)]
    pub receiver: Vec<(f64, u64, u64, u64)>,
}

/// The earlier of the two ends' next timer and the next arrival, or None when neither comes
/// at or before `end` (a limit on every run).
fn next_event(timers: [Option<SimTime>; 2], arrival: Option<SimTime>, end: SimTime) -> Option<SimTime> {
    timers.into_iter().flatten().chain(arrival).min().filter(|&t| t <= end)
}

/// Run one bulk transfer client -> server over `p`.
pub fn sim_bulk(p: &PathSpec) -> SimBulk {
    let mut client = Tcp::new(TcpConfig { congestion: p.congestion, ..TcpConfig::default() }, p.mtu, true);
    let mut server_cfg = TcpConfig { rx_truesize: p.rx_truesize, ..TcpConfig::default() };
    if let Some(b) = p.receive_buffer {
        server_cfg.receive_window = nitrosim::units::Bytes(b);
        server_cfg.rmem_initial = nitrosim::units::Bytes(b);
    }
    let mut server = Tcp::new(server_cfg, p.mtu, false);
    let mut out = Outbox::default();
    let mut heap: BinaryHeap<Reverse<(SimTime, u64, bool, usize)>> = BinaryHeap::new();
    let mut store: Vec<Segment> = Vec::new();
    let mut next_id = 0u64;
    let mut tbf = TokenBucket::new(p.rate, TBF_BURST_BYTES, p.queue_bytes);
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
            r.retransmits += seg.retransmit as u64;
            let Some(departure) = tbf.offer(now, seg.wire_bytes as u64) else {
                r.drops += 1;
                continue;
            };
            let at = SimTime(departure.ps() + p.one_way.ps());
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
                r.retransmits_at_exit = Some(r.retransmits);
            }
            if r.done.is_none() && client.all_acked() && sent_app {
                r.done = Some(t);
                break;
            }
        }
        let next_seg = heap.peek().map(|Reverse((t, ..))| *t);
        let Some(next) = next_event([client.poll_at(), server.poll_at()], next_seg, end) else { break };
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
                if let Some(t0) = established_at {
                    r.receiver.push((
                        now.since(t0).as_secs_f64(),
                        server.receiver_rtt().map_or(0, |d| d.ps() / 1_000_000),
                        server.rcv_space(),
                        client.cwnd() / client.mss(),
                    ));
                }
                for s in sout.segments {
                    if established_at.is_some() {
                        r.acks_out += 1;
                        r.record_ack(&s);
                    }
                    store.push(s);
                    heap.push(Reverse((SimTime(now.ps() + p.one_way.ps()), next_id, false, store.len() - 1)));
                    next_id += 1;
                }
            } else {
                if let Some(t0) = established_at {
                    r.window_at_sender.push((now.since(t0).as_secs_f64(), seg.wnd));
                    r.acked_at_sender.push((now.since(t0).as_secs_f64(), seg.ack));
                }
                client.on_segment(now, &seg, &mut out);
            }
        } else {
            client.on_timer(now, &mut out);
            let mut sout = Outbox::default();
            server.on_timer(now, &mut sout);
            for s in sout.segments {
                r.acks_out += 1;
                r.record_ack(&s);
                store.push(s);
                heap.push(Reverse((SimTime(now.ps() + p.one_way.ps()), next_id, false, store.len() - 1)));
                next_id += 1;
            }
        }
    }
    r.scaling_ratio = server.scaling_ratio();
    r.mss = client.mss();
    r
}

impl SimBulk {
    /// As the kernel's capture counts them (`AckCapture`): neither SYN-ACK nor FIN.
    fn record_ack(&mut self, s: &Segment) {
        if !s.fin && s.kind != SegKind::SynAck {
            self.acks.push(s.ack);
        }
    }
}

/// What nitrosim's two `Tcp`s sent bare (no data, no SYN or FIN) over a closed-loop exchange.
#[derive(Debug, Default)]
pub struct SimRpc {
    pub completed: usize,
    pub client_bare: u64,
    pub server_bare: u64,
}

/// Two `Tcp` ends, the client (0) and the server (1), joined by a path of fixed one-way delays
/// and no bottleneck: the run loop of the cases without one (`sim_rpc`, `sim_hole`). The client
/// connects at time 0.
struct TwoEnds {
    ends: [Tcp; 2],
    /// One-way delay from each end.
    delay: [SimDuration; 2],
    /// (arrival, order, to) for segments in flight.
    heap: BinaryHeap<Reverse<(SimTime, u64, usize)>>,
    store: Vec<Segment>,
    now: SimTime,
    /// What the end that acted last, `from`, put out and has not been taken yet.
    out: Outbox,
    from: usize,
}

const CLIENT: usize = 0;
const SERVER: usize = 1;

impl TwoEnds {
    fn new(cfg: TcpConfig, mtu: u32, delay: [SimDuration; 2]) -> Self {
        let mut out = Outbox::default();
        let mut ends = [Tcp::new(cfg.clone(), mtu, true), Tcp::new(cfg, mtu, false)];
        ends[CLIENT].connect(SimTime(0), &mut out);
        TwoEnds { ends, delay, heap: BinaryHeap::new(), store: Vec::new(), now: SimTime(0), out, from: CLIENT }
    }

    /// Put a segment `from` sent on the path.
    fn carry(&mut self, seg: Segment) {
        self.store.push(seg);
        let to = 1 - self.from;
        self.heap.push(Reverse((self.now + self.delay[self.from], self.store.len() as u64 - 1, to)));
    }

    /// `end` acts now (an application's send): what it puts out is `from`'s.
    fn send(&mut self, end: usize, bytes: u64) {
        self.from = end;
        self.ends[end].send(self.now, bytes, &mut self.out);
    }

    /// On to the next arrival or timer, or `wake` (the application's own time, when it comes
    /// first: nothing else happens then), none later than `end`; false when nothing is left.
    fn step(&mut self, wake: Option<SimTime>, end: SimTime) -> bool {
        let arrival = self.heap.peek().map(|Reverse((t, ..))| *t);
        let soonest = [arrival, wake].into_iter().flatten().min();
        let timers = [self.ends[CLIENT].poll_at(), self.ends[SERVER].poll_at()];
        let Some(next) = next_event(timers, soonest, end) else { return false };
        self.now = next.max(self.now);
        if wake == Some(next) {
            return true;
        }
        if arrival == Some(next) {
            let Reverse((_, i, to)) = self.heap.pop().unwrap();
            self.ends[to].on_segment(self.now, &self.store[i as usize], &mut self.out);
            self.from = to;
        } else {
            self.from = if timers[CLIENT] == Some(next) { CLIENT } else { SERVER };
            self.ends[self.from].on_timer(self.now, &mut self.out);
        }
        true
    }
}

/// `rpcs` request/response exchanges (`request` bytes up, `response` bytes down) over a path of
/// `one_way` delay each way and no bottleneck, as `kernel_cases::rpc_exchange` runs them: one
/// request outstanding, the server answering the moment the whole request is delivered, the
/// client asking again the moment the whole response is; then on until no timer is left, so
/// that every ACK owed has gone. Default configuration on both ends but the receivers' charge
/// per segment (the lab's, measured).
pub fn sim_rpc(
    one_way: SimDuration,
    mtu: u32,
    rx_truesize: RxTruesize,
    rpcs: usize,
    request: u64,
    response: u64,
) -> SimRpc {
    let mut p = TwoEnds::new(TcpConfig { rx_truesize, ..TcpConfig::default() }, mtu, [one_way; 2]);
    let mut r = SimRpc::default();
    let mut delivered = [0u64; 2];
    let mut established = false;
    let (mut requests_sent, mut responses_sent) = (0u64, 0u64);
    let end = SimTime(20 * PS_PER_S as u64);
    loop {
        // What `from` just did: count it, put its segments on the path, and let the application
        // act on what was delivered.
        for seg in std::mem::take(&mut p.out.segments) {
            let bare = seg.payload_bytes == 0 && !seg.fin && seg.kind == SegKind::Ack;
            // The client's ACK of the SYN-ACK is part of the set-up the kernel side reads first.
            if bare && established {
                if p.from == CLIENT { r.client_bare += 1 } else { r.server_bare += 1 }
            }
            p.carry(seg);
        }
        delivered[p.from] += std::mem::take(&mut p.out.delivered_bytes);
        if !established && p.ends[CLIENT].is_established() {
            established = true;
        }
        if p.from == SERVER && responses_sent < requests_sent && delivered[SERVER] >= request * (responses_sent + 1) {
            // The whole request is in: answer it.
            responses_sent += 1;
            p.send(SERVER, response);
            continue;
        }
        if p.from == CLIENT
            && (r.completed as u64) < responses_sent
            && delivered[CLIENT] >= response * (r.completed as u64 + 1)
        {
            r.completed += 1;
        }
        if p.from == CLIENT && established && requests_sent == r.completed as u64 && requests_sent < rpcs as u64 {
            requests_sent += 1;
            p.send(CLIENT, request);
            continue;
        }
        if !p.step(None, end) {
            break;
        }
    }
    r
}

/// What nitrosim's client sent in `sim_hole`.
#[derive(Debug, Default)]
pub struct SimHole {
    /// When the last segment of the flight left, and when the first retransmission did, with
    /// its sequence number (from 0, the first data byte).
    pub last_sent: SimTime,
    pub retransmitted: Option<(SimTime, u64)>,
    pub loss_probes: u64,
    pub rtos: u64,
}

/// The nitrosim side of `kernel_cases::hole_near_tail`: the client connects, `settle` after the
/// handshake writes `segments` full segments at once, and the path loses the `hole`-th data
/// segment (counted from 1, as the lab's forwarder counts); `up` and `down` one-way delays, no
/// bottleneck. Default configuration on both ends; the run goes on until no timer is left or
/// 2 s have passed.
pub fn sim_hole(
    up: SimDuration,
    down: SimDuration,
    mtu: u32,
    segments: u64,
    hole: usize,
    settle: SimDuration,
) -> SimHole {
    let mut p = TwoEnds::new(TcpConfig::default(), mtu, [up, down]);
    let mut r = SimHole::default();
    let mut data_segments = 0usize;
    let mut write_at: Option<SimTime> = None;
    let end = SimTime(2 * PS_PER_S as u64);
    loop {
        for seg in std::mem::take(&mut p.out.segments) {
            if p.from == CLIENT && seg.payload_bytes > 0 {
                data_segments += 1;
                if seg.retransmit {
                    r.retransmitted.get_or_insert((p.now, seg.seq));
                } else {
                    r.last_sent = p.now;
                }
                if data_segments == hole {
                    continue;
                }
            }
            p.carry(seg);
        }
        if write_at.is_none() && p.ends[CLIENT].is_established() {
            write_at = Some(p.now + settle);
        }
        let pending = write_at.filter(|_| data_segments == 0);
        if pending == Some(p.now) {
            let mss = p.ends[CLIENT].mss();
            p.send(CLIENT, segments * mss);
            continue;
        }
        if !p.step(pending, end) {
            break;
        }
    }
    r.loss_probes = p.ends[CLIENT].stats().loss_probes;
    r.rtos = p.ends[CLIENT].stats().rtos;
    r
}
