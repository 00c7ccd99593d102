//! Hold model: pop the earliest event, dispatch it, push one at a random later time (up to 2 us,
//! a few link crossings ahead, as in the packet path), with N events pending. Reports events per
//! second (criterion's "elements"). 10 000 pending is a 1024-host SRD run, 100 000 an 8192-host
//! one; 1 000 000 shows whether the cost stays flat well beyond the cache. Each without a
//! lookahead and with the model's (`LOOKAHEAD_EVENTS` within `LOOKAHEAD_HORIZON`: the queue stages
//! events for the run loop's prefetches on large fabrics), so that what the stage costs shows.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nitrosim::engine::{EventQueue, RngStreams};
use nitrosim::model::{Event, LOOKAHEAD_EVENTS, LOOKAHEAD_HORIZON};
use nitrosim::units::{SimDuration, SimTime};
use rand::RngExt;
use std::hint::black_box;

const OPS: u64 = 1_000_000;

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue_hold");
    g.throughput(Throughput::Elements(OPS));
    g.sample_size(20);
    for (pending, lookahead) in
        [10_000u64, 100_000, 1_000_000].into_iter().flat_map(|n| [(n, 0), (n, LOOKAHEAD_EVENTS)])
    {
        let id = BenchmarkId::new(format!("lookahead_{lookahead}"), pending);
        g.bench_with_input(id, &pending, |b, &pending| {
            let mut rng = RngStreams::new(1).stream("bench");
            // Increments drawn up front so the RNG does not dominate the measurement.
            let incs: Vec<SimDuration> = (0..4096).map(|_| SimDuration(rng.random_range(1..2_000_000u64))).collect();
            b.iter_batched(
                || {
                    let mut q =
                        EventQueue::with_capacity(pending as usize + 1).with_lookahead(lookahead, LOOKAHEAD_HORIZON);
                    for i in 0..pending {
                        q.schedule_at(
                            SimTime(incs[i as usize % incs.len()].ps()),
                            Event::PortDone(i as u32, i as u32, 0),
                        );
                    }
                    q
                },
                |mut q| {
                    let mut acc = 0u64;
                    for i in 0..OPS {
                        let (_, ev) = q.pop().unwrap();
                        // A dispatch as the model does it: match on the closed enum.
                        acc = acc.wrapping_add(match ev {
                            Event::PortDone(p, id, then) => (p ^ id ^ then) as u64,
                            Event::Timer { ep, generation } => (ep ^ generation) as u64,
                            Event::App { app, tag } => (app + tag) as u64,
                            Event::SrdTimer { ctx, generation } => (ctx ^ generation) as u64,
                            Event::ReassemblyExpire { slot, generation } => (slot ^ generation) as u64,
                            Event::Action(n) => n as u64,
                            Event::ServiceMoved { service, to } => (service ^ to) as u64,
                        });
                        q.schedule_in(incs[i as usize % incs.len()], Event::PortDone(i as u32, i as u32, 0));
                    }
                    black_box(acc)
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
