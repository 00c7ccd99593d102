//! Event dispatch and the clock: the run loop pops one event at a time (the queue's time is the
//! only clock) and hands it to the part of the world it belongs to. A port's oldest packet
//! reaching its far end is offered to the next port of its route or, at the route's end, to its
//! sink (an endpoint, an SRD engine, an ICMP receiver); packets that crossed a stage taking no
//! time move on in the same dispatch, in the order they got there.

use super::*;

/// Cache lines of a port.
const PORT_LINES: usize = std::mem::size_of::<Port>().div_ceil(64);

/// How many events ahead the run loop asks for what an event will touch. One event's run is shorter
/// than a line's trip from memory on large fabrics (150-190 ns on the Xeon VM measured): one ahead
/// left the loop waiting for the lines it had asked for. Paired at 8192 hosts, 200 us, three ahead
/// against one: 0.93 (SRD), 0.95 (TCP, 20 flows); 2 and 8 did as well as 3; at 128 hosts no
/// difference (docs/performance.md, 2026-12-05, night).
pub const LOOKAHEAD_EVENTS: usize = 3;

/// ...of the events due within this long of the one running. On a large fabric three events
/// come within a nanosecond (8192 hosts: some 30 per ns), where the lookahead pays; on a quiet
/// one they may be milliseconds apart, and every event scheduled before the last staged one
/// would be sorted into the stage one by one (`efa-allreduce`: a third slower with no horizon,
/// up to 863 events staged). Few events are scheduled less than 10 ns ahead (a 64-byte frame
/// takes 6.7 ns at 100 Gbps), so few are sorted in.
pub const LOOKAHEAD_HORIZON: SimDuration = SimDuration::from_ns(10);

/// ...and only in a model whose ports take at least this much memory (issue 17's fabric at 1024
/// hosts: 5.6 MiB; at 128 hosts: 0.7 MiB; the bundled scenarios: at most 0.4 MiB). Where the state
/// is in the caches the lines asked for one event ahead are in time, and staging costs more than it
/// hides: the bundled `srd-outage` and `efa-allreduce` ran 5-10% slower with it.
pub const LOOKAHEAD_MIN_PORT_BYTES: usize = 4 << 20;

/// Where a packet leaving a port goes, as its port slot and its `PortDone` event carry it: the
/// next port of its route, or, from this bit up, the end of its route with a hint of whose state
/// its sink will touch, so that the run loop prefetches that `LOOKAHEAD_EVENTS` ahead as it does
/// ports.
/// (Prefetched earlier, when the packet enters its last port, the lines were gone by delivery at
/// scale: thousands of events come between.)
pub(crate) const DELIVER: u32 = crate::net::MAX_PORTS as u32;
const HINT_SHIFT: u32 = 28;
const HINT_INDEX: u32 = (1 << HINT_SHIFT) - 1;
/// An endpoint, for an ACK or a timer (a segment without payload)...
const HINT_ENDPOINT: u32 = 1 << HINT_SHIFT;
/// ...or for a data segment, whose visit reads fewer of its lines (`EpSlot::VISIT_BYTES`).
const HINT_ENDPOINT_DATA: u32 = 4 << HINT_SHIFT;
/// An SRD connection's sending side (a host packet to send, an ACK, its timer)...
const HINT_SRD_SEND: u32 = 2 << HINT_SHIFT;
/// ...and its receiving side: each touches its own part of the connection (`SrdCtx`).
const HINT_SRD_RECEIVE: u32 = 3 << HINT_SHIFT;

/// The tag of a packet whose route ends at the port it is entering.
pub(crate) fn delivery_tag(p: &Packet) -> u32 {
    let (kind, index) = match p.sink {
        Sink::Endpoint if p.seg.payload_bytes > 0 => (HINT_ENDPOINT_DATA, p.dst_endpoint),
        Sink::Endpoint => (HINT_ENDPOINT, p.dst_endpoint),
        Sink::SrdSend(ctx) | Sink::SrdAcked(ctx) => (HINT_SRD_SEND, ctx),
        Sink::SrdReceive(ctx) => (HINT_SRD_RECEIVE, ctx),
        Sink::Icmp { .. } => (0, 0),
    };
    if index > HINT_INDEX { DELIVER } else { DELIVER | kind | index }
}

impl Model {
    pub fn now(&self) -> SimTime {
        self.q.now()
    }

    pub(crate) fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::PortDone(p, id, then) => self.on_port_done(p, id, then),
            Event::Timer { ep, generation } => self.on_timer(ep, generation),
            Event::App { app, tag } => self.app_event(app, tag),
            Event::SrdTimer { ctx, generation } => self.srd_timer(ctx, generation),
            Event::ReassemblyExpire { slot, generation } => self.reassembly_expire(slot, generation),
            Event::Action(n) => self.run_action(n),
            Event::ServiceMoved { service, to } => self.service_moved(service, to),
        }
        // Packets that crossed a stage taking no time move on now, in the order they got there.
        while let Some((id, next)) = self.ready.pop_front() {
            self.on_arrive(id, next);
        }
    }

    /// Run to the end time (or until every foreground workload has finished), then check
    /// invariants and collect results. `progress` is called now and then with the sim time.
    pub fn run(mut self, progress: &mut dyn FnMut(SimTime)) -> Result<VariantResult, String> {
        // Ports count what has left them up to the time the run stopped: the end time, or the
        // last event's time when every workload finished before it.
        let mut stopped = self.end;
        while let Some(t) = self.q.peek_time() {
            if self.all_finite && self.unfinished == 0 {
                stopped = self.q.now();
                break;
            }
            if t > self.end {
                break;
            }
            let (_, ev) = self.q.pop().expect("peeked");
            // What the event `LOOKAHEAD_EVENTS` on touches loads while this one and those before
            // it run.
            match self.q.ahead() {
                Some(&Event::PortDone(port, id, next)) => {
                    // A port's pass touches all of its lines (its oldest packets live in it).
                    crate::engine::prefetch(&self.ports[port as usize], PORT_LINES);
                    // A hop reads the packet's first line; its sink reads the rest (the segment,
                    // the SRD header), lines last touched when the packet was made.
                    let lines = if next < DELIVER { 1 } else { usize::MAX };
                    crate::engine::prefetch(self.pool.get(id), lines);
                    self.prefetch_next(next);
                }
                Some(&Event::SrdTimer { ctx, .. }) => self.prefetch_next(DELIVER | HINT_SRD_SEND | (ctx & HINT_INDEX)),
                Some(&Event::Timer { ep, .. }) => self.prefetch_next(DELIVER | HINT_ENDPOINT | (ep & HINT_INDEX)),
                _ => {}
            }
            self.dispatch(ev);
            if self.q.events_processed().is_multiple_of(PROGRESS_EVERY_EVENTS) {
                progress(self.q.now());
            }
        }
        for p in &mut self.ports {
            p.settle(stopped);
        }
        self.fold_hot_counters();
        progress(self.end);
        self.check_conservation()?;
        Ok(results::collect(self))
    }

    /// Where a packet leaving a port with tag `next` goes: the next port or its sink's state.
    #[inline(always)]
    pub(crate) fn prefetch_next(&self, next: u32) {
        if next < DELIVER {
            self.prefetch_port(next);
            return;
        }
        let index = (next & HINT_INDEX) as usize;
        match next & !DELIVER & !HINT_INDEX {
            HINT_ENDPOINT | HINT_ENDPOINT_DATA => {
                if let Some(slot) = self.eps.get(index) {
                    let bytes = EpSlot::VISIT_BYTES[(next & HINT_ENDPOINT_DATA != 0) as usize];
                    crate::engine::prefetch_bytes(slot as *const EpSlot as usize, bytes);
                }
            }
            HINT_SRD_SEND => {
                if let Some(ctx) = self.srd_ctxs.get(index) {
                    ctx.prefetch_send_side();
                }
            }
            HINT_SRD_RECEIVE => {
                if let Some(ctx) = self.srd_ctxs.get(index) {
                    ctx.prefetch_receive_side();
                }
            }
            _ => {}
        }
    }

    /// A port a packet is about to enter (a hint: out of range is ignored).
    #[inline(always)]
    pub(crate) fn prefetch_port(&self, port: PortId) {
        if let Some(p) = self.ports.get(port as usize) {
            crate::engine::prefetch(p, PORT_LINES);
        }
    }

    /// The oldest packet in `port` reached the far end; the next one's arrival is scheduled.
    pub(crate) fn on_port_done(&mut self, port: PortId, head: PacketId, next: u32) {
        let now = self.q.now();
        // Their lines, asked for events ago, name the spilled packets both ports will touch.
        self.ports[port as usize].prefetch_spill();
        if let Some(p) = self.ports.get(next as usize) {
            p.prefetch_spill();
        }
        let (id, following) = self.ports[port as usize].pop_head(now);
        debug_assert_eq!(id, head);
        if let Some((t, after, after_next)) = following {
            self.q.schedule_at(t, Event::PortDone(port, after, after_next));
        }
        self.on_arrive(id, next);
        // The port's next spilled packet, asked for as the head left, has had the hop's work
        // to load.
        self.ports[port as usize].fill_hole();
    }

    /// Packet `id` left a port; `next` is the port its route goes to next, read from the route
    /// when the packet entered the port (from [`DELIVER`] up: the route ends here).
    pub(crate) fn on_arrive(&mut self, id: PacketId, next: u32) {
        let p = self.pool.get_mut(id);
        p.hop += 1;
        if next < DELIVER {
            self.offer(id, next);
        } else {
            self.deliver(id);
        }
    }

    pub(crate) fn deliver(&mut self, id: PacketId) {
        // Only the first line here: the SRD engines read the few fields they need from the pool
        // themselves, rather than each taking a copy of the whole packet.
        let (lossy, sink) = {
            let p = self.pool.get(id);
            (p.lossy, p.sink)
        };
        if lossy
            && let Some((rate, rng)) = &mut self.loss
            && rng.random::<f64>() < *rate
        {
            self.drop_packet(id, DropReason::InjectedLoss, NONE);
            return;
        }
        match sink {
            Sink::Endpoint => self.deliver_to_endpoint(id, *self.pool.get(id)),
            Sink::SrdSend(ctx) => self.srd_take(id, ctx),
            Sink::SrdReceive(ctx) => self.srd_receive(id, ctx),
            Sink::SrdAcked(ctx) => self.srd_acked(id, ctx),
            Sink::Icmp { gateway, mtu } => self.deliver_icmp(id, *self.pool.get(id), gateway as u32, mtu as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_end_is_never_taken_for_a_port() {
        let mut p = Packet { sink: Sink::Endpoint, dst_endpoint: 7, ..Packet::default() };
        assert_eq!(delivery_tag(&p), DELIVER | HINT_ENDPOINT | 7);
        p.seg.payload_bytes = 1;
        assert_eq!(delivery_tag(&p), DELIVER | HINT_ENDPOINT_DATA | 7);
        p.sink = Sink::SrdAcked(HINT_INDEX);
        assert_eq!(delivery_tag(&p), DELIVER | HINT_SRD_SEND | HINT_INDEX);
        p.sink = Sink::SrdReceive(3);
        assert_eq!(delivery_tag(&p), DELIVER | HINT_SRD_RECEIVE | 3);
        // An index beyond the hint's bits still ends the route, with no hint.
        p.sink = Sink::SrdReceive(HINT_INDEX + 1);
        assert_eq!(delivery_tag(&p), DELIVER);
        p.sink = Sink::Icmp { gateway: 1, mtu: 1500 };
        assert_eq!(delivery_tag(&p), DELIVER);
    }
}
