//! A NAT gateway's documented limits and how the model scales it.
//!
//! Source: Amazon VPC user guide, "NAT gateways" (NAT gateway basics) and "Monitor NAT gateways
//! with Amazon CloudWatch" (read 2026-11-30):
//!
//! - "A NAT gateway can support up to 55,000 simultaneous connections to each unique destination"
//!   (destination IP address, destination port, protocol); beyond that, new connections fail and
//!   `ErrorPortAllocation` counts them;
//! - "supports 5 Gbps of bandwidth and automatically scales up to 100 Gbps";
//! - "can process one million packets per second and automatically scales up to ten million";
//! - "When a connection times out [after 350 seconds idle], a NAT gateway returns an RST packet
//!   to any resources behind the NAT gateway that attempt to continue the connection".
//!
//! AWS does not publish how fast the gateway scales. The model's choice, stated here and in the
//! README: capacity rises in 19 equal steps from (5 Gbps, 1 Mpps) to (100 Gbps, 10 Mpps); at the
//! end of each `scale_interval` (default 60 s) in which the gateway was busy at least 80% of the
//! time in either dimension, it takes one step up. It never scales down during a run.

use crate::units::{Bandwidth, SimDuration, SimTime};

/// Simultaneous connections to one (destination IP, destination port, protocol).
pub const CONNECTIONS_PER_DESTINATION: u32 = 55_000;
pub const BANDWIDTH_BASE: Bandwidth = Bandwidth::gbps(5);
pub const BANDWIDTH_MAX: Bandwidth = Bandwidth::gbps(100);
pub const PPS_BASE: u64 = 1_000_000;
pub const PPS_MAX: u64 = 10_000_000;
/// Idle connections are dropped after this (VPC user guide: 350 seconds).
pub const IDLE_TIMEOUT: SimDuration = SimDuration::from_secs(350);
/// Model choice (AWS publishes no figure): how long sustained load must last for one step up.
pub const SCALE_INTERVAL_DEFAULT: SimDuration = SimDuration::from_secs(60);
/// Model choice: utilisation (per mille of the interval) that counts as sustained load.
pub const SCALE_BUSY_PER_MILLE: u64 = 800;
/// Steps from the base capacity to the maximum (5 Gbps each).
pub const SCALE_STEPS: u32 = 19;
/// Queue in front of the gateway, per direction (model parameter: ~3 ms at 5 Gbps).
pub const BUFFER_BYTES: u64 = 2 << 20;

/// Capacity at scaling step `k` (0 = base): bandwidth and packets per second, linear in `k`.
pub fn capacity(k: u32) -> (Bandwidth, u64) {
    let k = k.min(SCALE_STEPS) as u64;
    let steps = SCALE_STEPS as u64;
    let bw = BANDWIDTH_BASE.bps() + (BANDWIDTH_MAX.bps() - BANDWIDTH_BASE.bps()) * k / steps;
    let pps = PPS_BASE + (PPS_MAX - PPS_BASE) * k / steps;
    (Bandwidth(bw), pps)
}

/// Time to serve one packet at `pps` packets per second.
pub fn per_packet(pps: u64) -> SimDuration {
    SimDuration(1_000_000_000_000 / pps.max(1))
}

/// The scaling state: which step, and the interval being measured.
#[derive(Clone, Copy, Debug)]
pub struct Scaler {
    pub step: u32,
    pub interval: SimDuration,
    window_start: SimTime,
    busy_at_start: [u64; 2],
}

impl Scaler {
    pub fn new(interval: SimDuration) -> Self {
        assert!(interval.ps() > 0, "a scaling interval of zero");
        Scaler { step: 0, interval, window_start: SimTime::ZERO, busy_at_start: [0; 2] }
    }

    /// Called as traffic arrives with the gateway's cumulative busy time (bandwidth server,
    /// packet server: the busier direction of each). Returns the new step when it scales.
    pub fn observe(&mut self, now: SimTime, busy_ps: [u64; 2]) -> Option<u32> {
        let end = self.window_start + self.interval;
        if now < end {
            return None;
        }
        let window = self.interval.ps() as u128;
        let busiest = (0..2).map(|d| busy_ps[d].saturating_sub(self.busy_at_start[d]) as u128).max().unwrap_or(0);
        // Windows that passed with no traffic at all count as idle: only the last one is measured.
        let whole = (now.since(self.window_start).ps() / self.interval.ps()).max(1);
        let sustained = whole == 1 && busiest * 1000 >= window * SCALE_BUSY_PER_MILLE as u128;
        self.window_start += SimDuration(self.interval.ps() * whole);
        self.busy_at_start = busy_ps;
        (sustained && self.step < SCALE_STEPS).then(|| {
            self.step += 1;
            self.step
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_runs_from_the_base_to_the_documented_maximum() {
        assert_eq!(capacity(0), (Bandwidth::gbps(5), 1_000_000));
        assert_eq!(capacity(1), (Bandwidth::gbps(10), 1_473_684));
        assert_eq!(capacity(SCALE_STEPS), (Bandwidth::gbps(100), 10_000_000));
        assert_eq!(capacity(SCALE_STEPS + 5), capacity(SCALE_STEPS));
    }

    #[test]
    fn sustained_load_steps_up_once_per_interval_up_to_the_maximum() {
        let ms = |n: u64| SimTime::ZERO + SimDuration::from_ms(n);
        let mut s = Scaler::new(SimDuration::from_ms(10));
        let mut busy = 0;
        // Fully busy: one step per 10 ms, never beyond step 19.
        for t in 1..=300u64 {
            busy += SimDuration::from_ms(1).ps();
            s.observe(ms(t), [busy, 0]);
        }
        assert_eq!(s.step, SCALE_STEPS);
        // Half busy: never steps.
        let mut s = Scaler::new(SimDuration::from_ms(10));
        let mut busy = 0;
        for t in 1..=100u64 {
            busy += SimDuration::from_us(500).ps();
            assert_eq!(s.observe(ms(t), [busy, busy]), None);
        }
        // A silent stretch then one busy packet: not sustained.
        let mut s = Scaler::new(SimDuration::from_ms(10));
        assert_eq!(s.observe(ms(55), [SimDuration::from_ms(9).ps(), 0]), None);
    }
}
