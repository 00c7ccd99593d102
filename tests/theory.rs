//! Validation against theory, not against ourselves: queueing formulas, the Mathis TCP model,
//! and exact serialisation/propagation arithmetic through the whole model.

use nitrosim::engine::{EventQueue, RngStreams};
use nitrosim::net::{DropReason, Offer, Port, PortConfig, SegKind, Segment};
use nitrosim::transport::{CongestionKind, Outbox, Tcp, TcpConfig, Transport};
use nitrosim::units::{Bandwidth, SimDuration, SimTime};
use nitrosim::workload::Interarrival;
use rand::RngExt;

/// Mean waiting time in a single Ethernet link fed Poisson arrivals of fixed-size packets.
/// The server's service time is the whole frame's line time: (IP bytes + 38 B framing) x 8 / rate.
fn md1_mean_wait_ps(rho: f64, packets: u64, seed: u64) -> (f64, f64) {
    #[derive(Clone, Copy)]
    enum Ev {
        Arrival,
        Done,
    }
    let bytes = 1500u32;
    let rate = Bandwidth::gbps(10);
    let mut port = Port::ethernet(PortConfig {
        rate,
        per_packet: SimDuration::ZERO,
        delay: SimDuration::ZERO,
        capacity_bytes: u64::MAX,
        ecn_threshold_bytes: None,
        drop_reason: DropReason::QueueFull,
        burst_bytes: 0,
        mtu: nitrosim::net::ip::NO_MTU_LIMIT,
    });
    let service = rate.serialisation(bytes as u64 + nitrosim::net::ETHERNET_FRAMING_BYTES as u64);
    assert_eq!(port.service_time(bytes), service, "the link serialises the whole frame");
    let mean = SimDuration((service.ps() as f64 / rho).round() as u64);
    let ia = Interarrival { mean };
    let mut rng = RngStreams::new(seed).stream("md1");
    let mut q = EventQueue::new();
    let mut arrived_at = Vec::with_capacity(packets as usize);
    q.schedule_at(SimTime::ZERO, Ev::Arrival);
    let (mut waited, mut done) = (0u128, 0u64);
    while let Some((now, ev)) = q.pop() {
        match ev {
            Ev::Arrival => {
                let id = arrived_at.len() as u32;
                arrived_at.push(now);
                if let Offer::Started(t) = port.offer(now, id, bytes) {
                    q.schedule_at(t, Ev::Done);
                }
                if (arrived_at.len() as u64) < packets {
                    q.schedule_in(ia.sample(&mut rng), Ev::Arrival);
                }
            }
            Ev::Done => {
                let (id, _, next) = port.complete(now);
                if let Some(t) = next {
                    q.schedule_at(t, Ev::Done);
                }
                // Waiting time = sojourn - service (the service time is deterministic).
                waited += (now.since(arrived_at[id as usize]).ps() - service.ps()) as u128;
                done += 1;
            }
        }
    }
    assert_eq!(done, packets, "every packet served: conservation in the port");
    let mu = 1.0 / service.ps() as f64;
    let theory = rho / (2.0 * mu * (1.0 - rho));
    (waited as f64 / done as f64, theory)
}

#[test]
fn single_link_matches_md1_mean_waiting_time() {
    for (rho, n) in [(0.5, 1_000_000), (0.9, 4_000_000)] {
        let (sim, theory) = md1_mean_wait_ps(rho, n, 42);
        let err = (sim / theory - 1.0).abs();
        assert!(err < 0.03, "rho {rho}: simulated Wq {sim:.0} ps vs M/D/1 {theory:.0} ps ({:.1}% off)", err * 100.0);
    }
}

#[derive(Clone, Copy)]
enum Ev {
    ToServer(Segment),
    ToClient(Segment),
    Timer(bool, u32),
}

/// A hand-driven clock and wire for two sans-IO TCP endpoints: what the model does, minus
/// the fabric. Loss is applied to the client's data segments only.
struct Wire {
    q: EventQueue<Ev>,
    one_way: SimDuration,
    p: f64,
    rng: nitrosim::engine::rng::StreamRng,
    gens: [u32; 2],
    armed: [Option<SimTime>; 2],
}

impl Wire {
    fn drain(&mut self, is_client: bool, ep: &Tcp, out: &mut Outbox) {
        for s in out.segments.drain(..) {
            if is_client && s.kind == SegKind::Data && self.rng.random::<f64>() < self.p {
                continue;
            }
            self.q.schedule_in(self.one_way, if is_client { Ev::ToServer(s) } else { Ev::ToClient(s) });
        }
        let i = is_client as usize;
        if let Some(t) = ep.poll_at()
            && self.armed[i].is_none_or(|a| t < a)
        {
            self.gens[i] += 1;
            self.armed[i] = Some(t);
            let at = t.max(self.q.now());
            self.q.schedule_at(at, Ev::Timer(is_client, self.gens[i]));
        }
    }
}

/// Two sans-IO TCP endpoints over a fixed-delay path with random loss on data segments and no
/// bandwidth limit: the setting of the Mathis et al. (1997) throughput model.
fn tcp_over_lossy_path(p: f64, rtt: SimDuration, segments: u64, cfg: TcpConfig, seed: u64) -> (f64, f64, u64) {
    let mut client = Tcp::new(cfg.clone(), 1500, true);
    let mut server = Tcp::new(cfg, 1500, false);
    let mut w = Wire {
        q: EventQueue::new(),
        one_way: SimDuration(rtt.ps() / 2),
        p,
        rng: RngStreams::new(seed).stream("loss"),
        gens: [0; 2],
        armed: [None; 2],
    };
    let mut out = Outbox::default();
    client.connect(SimTime::ZERO, &mut out);
    w.drain(true, &client, &mut out);
    let mut start = None;
    while let Some((now, ev)) = w.q.pop() {
        let mut out = Outbox::default();
        match ev {
            Ev::ToServer(s) => {
                server.on_segment(now, &s, &mut out);
                w.drain(false, &server, &mut out);
            }
            Ev::ToClient(s) => {
                client.on_segment(now, &s, &mut out);
                if out.established {
                    client.send(now, u64::MAX / 4, &mut out);
                }
                w.drain(true, &client, &mut out);
            }
            Ev::Timer(is_client, g) => {
                let i = is_client as usize;
                if g != w.gens[i] {
                    continue;
                }
                w.armed[i] = None;
                let ep = if is_client { &mut client } else { &mut server };
                ep.on_timer(now, &mut out);
                w.drain(is_client, ep, &mut out);
            }
        }
        // Skip the first 10% (slow start) before measuring.
        let delivered = server.stats().bytes_delivered;
        if start.is_none() && delivered >= segments / 10 * client.mss() {
            start = Some((now, delivered));
        }
        if delivered >= segments * client.mss() {
            let (t0, d0) = start.expect("passed 10% before 100%");
            let bps = (delivered - d0) as f64 * 8.0 / now.since(t0).as_secs_f64();
            let mathis = client.mss() as f64 * 8.0 / rtt.as_secs_f64() * (1.5f64).sqrt() / p.sqrt();
            return (bps, mathis, client.stats().rtos);
        }
    }
    unreachable!("the transfer always completes");
}

#[test]
fn newreno_under_random_loss_matches_mathis() {
    // Mathis et al.'s constant sqrt(3/2) assumes an ACK per segment: delayed ACKs off.
    let cfg =
        TcpConfig { congestion: CongestionKind::NewReno, sack: false, delayed_ack: false, ..TcpConfig::default() };
    let rtt = SimDuration::from_ms(10);
    for (p, segments) in [(1e-4, 3_000_000), (1e-3, 1_000_000), (1e-2, 300_000)] {
        let (sim, model, rtos) = tcp_over_lossy_path(p, rtt, segments, cfg.clone(), 9);
        let ratio = sim / model;
        eprintln!("p = {p}: {sim:.4e} bit/s, Mathis {model:.4e}, ratio {ratio:.3}, {rtos} RTOs");
        assert!(
            (0.75..=1.25).contains(&ratio),
            "p = {p}: {sim:.3e} bit/s vs Mathis {model:.3e} (ratio {ratio:.3}, {rtos} RTOs)"
        );
    }
}

#[test]
fn sack_recovers_faster_than_newreno_at_high_loss() {
    let rtt = SimDuration::from_ms(10);
    let reno =
        TcpConfig { congestion: CongestionKind::NewReno, sack: false, delayed_ack: false, ..TcpConfig::default() };
    let sack = TcpConfig { sack: true, ..reno.clone() };
    let (a, _, _) = tcp_over_lossy_path(0.02, rtt, 200_000, reno, 3);
    let (b, _, _) = tcp_over_lossy_path(0.02, rtt, 200_000, sack, 3);
    assert!(b > a, "SACK {b:.3e} should beat NewReno {a:.3e} when several segments per window are lost");
}
