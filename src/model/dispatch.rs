//! Event dispatch and the clock: the run loop pops one event at a time (the queue's time is the
//! only clock) and hands it to the part of the world it belongs to. A port finishing a packet
//! puts it in the port's pipe; a packet arriving is offered to the next port of its route or, at
//! the route's end, to its sink (an endpoint, an SRD engine, an ICMP receiver).

use super::*;

impl Model {
    pub fn now(&self) -> SimTime {
        self.q.now()
    }

    pub(crate) fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::PortDone(p) => self.on_port_done(p),
            Event::Arrive(id) => self.on_arrive(id),
            Event::Timer { ep, generation } => self.on_timer(ep, generation),
            Event::App { app, tag } => self.app_event(app, tag),
            Event::SrdTimer { ctx, generation } => self.srd_timer(ctx, generation),
            Event::ReassemblyExpire { slot, generation } => self.reassembly_expire(slot, generation),
            Event::Action(n) => self.run_action(n),
            Event::ServiceMoved { service, to } => self.service_moved(service, to),
        }
    }

    /// Run to the end time (or until every foreground workload has finished), then check
    /// invariants and collect results. `progress` is called now and then with the sim time.
    pub fn run(mut self, progress: &mut dyn FnMut(SimTime)) -> Result<VariantResult, String> {
        while let Some(t) = self.q.peek_time() {
            if t > self.end || (self.all_finite && self.unfinished == 0) {
                break;
            }
            let (_, ev) = self.q.pop().expect("peeked");
            self.dispatch(ev);
            if self.q.events_processed().is_multiple_of(PROGRESS_EVERY_EVENTS) {
                progress(self.q.now());
            }
        }
        progress(self.end);
        self.check_conservation()?;
        Ok(results::collect(self))
    }

    pub(crate) fn on_port_done(&mut self, port: PortId) {
        let now = self.q.now();
        let (id, leaves, next) = self.ports[port as usize].complete(now);
        if let Some(t) = next {
            self.q.schedule_at(t, Event::PortDone(port));
        }
        self.q.schedule_at(leaves, Event::Arrive(id));
    }

    pub(crate) fn on_arrive(&mut self, id: PacketId) {
        let p = self.pool.get_mut(id);
        p.hop += 1;
        let route = &self.routes[p.route as usize];
        if (p.hop as usize) < route.len() {
            let next = route[p.hop as usize];
            self.offer(id, next);
        } else {
            self.deliver(id);
        }
    }

    pub(crate) fn deliver(&mut self, id: PacketId) {
        let p = *self.pool.get(id);
        if p.lossy
            && let Some((rate, rng)) = &mut self.loss
            && rng.random::<f64>() < *rate
        {
            self.drop_packet(id, DropReason::InjectedLoss, NONE);
            return;
        }
        match p.sink {
            Sink::Endpoint => self.deliver_to_endpoint(id, p),
            Sink::SrdSend(ctx) => self.srd_take(id, p, ctx),
            Sink::SrdReceive(ctx) => self.srd_receive(id, p, ctx),
            Sink::SrdAcked(ctx) => self.srd_acked(id, p, ctx),
            Sink::Icmp { gateway, mtu } => self.deliver_icmp(id, p, gateway as u32, mtu as u32),
        }
    }
}
