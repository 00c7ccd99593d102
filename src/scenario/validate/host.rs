//! The Nitro card, host and timing-noise knobs, TCP and SRD.

use super::diag::Ctx;
use super::limits::{self, *};
use crate::ec2::{self};
use crate::scenario::error::Diagnostic;
use crate::scenario::spec::*;
use crate::units::SimDuration;

pub(super) fn check(cx: &Ctx, s: &ScenarioSpec) -> Result<(), Diagnostic> {
    // Nitro and host.
    let n = &s.nitro;
    if n.flow_buffer.0 < MAX_MTU as u64
        || n.instance_buffer.0 < MAX_MTU as u64
        || n.flow_buffer.0 > 1 << 32
        || n.instance_buffer.0 > 1 << 32
    {
        return Err(cx.err(
            "flow_buffer",
            "",
            "Nitro shaper buffers must hold at least one jumbo frame".into(),
            "9001B ..= 4GiB".into(),
            "the defaults are 512KiB per flow and 2MiB per instance".into(),
        ));
    }
    cx.range(
        "srd_connections",
        n.srd_connections,
        1,
        1 << 20,
        "SRD connections a card holds (one per direction of each ENA Express pair, at both ends)",
    )?;
    if let Some(q) = s.host.rss_queues {
        cx.range(
            "rss_queues",
            q,
            1,
            ec2::ENA_MAX_QUEUES,
            "the ENA driver handles up to 128 queues; leave it out to use the type's ENA queue count",
        )?;
    }
    for (key, v) in [("host_cost_spread", s.noise.host_cost_spread), ("card_delay_spread", s.noise.card_delay_spread)] {
        let v = if v.is_finite() { v } else { -1.0 };
        cx.range(key, v, 0.0, 1.0, "a relative half-width: 0 = exact, 1 = uniform over [0, 2 x mean]")?;
    }
    if s.host.copy_rate.0 < limits::MIN_COPY_RATE_BPS {
        return Err(cx.err(
            "copy_rate",
            "",
            format!("`copy_rate` is {}: too slow for messages to complete", s.host.copy_rate),
            "at least 1Mbps".into(),
            "the default is a kernel memcpy rate of tens of Gbps; leave it out to use it".into(),
        ));
    }
    if s.host.backlog.0 < MAX_MTU as u64 {
        return Err(cx.err(
            "backlog",
            "",
            "host backlog must hold at least one jumbo frame".into(),
            "at least 9001B".into(),
            "Linux's netdev_max_backlog is 1000 packets".into(),
        ));
    }

    // TCP.
    let t = &s.tcp;
    cx.positive("rto_min", t.rto_min)?;
    if t.rto_initial < t.rto_min || t.rto_max < t.rto_min {
        return Err(cx.err(
            "rto_max",
            "",
            "RTO bounds are inconsistent".into(),
            "rto_min <= rto_initial and rto_min <= rto_max".into(),
            "Linux: 200ms, 1s, 120s".into(),
        ));
    }
    cx.range("dupack_threshold", t.dupack_threshold, 1, 1000, "RFC 5681 uses 3")?;
    cx.range("initial_cwnd_segments", t.initial_cwnd_segments, 1, 1000, "RFC 6928 uses 10")?;
    // Linux's tcp_rmem is an int; and a SACK block, which lies within the receive buffer above the
    // ACK, is kept as a 32-bit offset from it (`net::Segment`).
    if t.receive_window.0 < MAX_MTU as u64 || t.receive_window.0 > i32::MAX as u64 {
        return Err(cx.err(
            "receive_window",
            "",
            format!("receive window {} out of range", t.receive_window),
            format!("9001B ..= {}B (2GiB less a byte)", i32::MAX),
            "Linux's tcp_rmem maximum is 6MiB by default, and at most 2GiB less a byte (an int)".into(),
        ));
    }
    if t.rmem_initial.0 < 4096 || t.rmem_initial.0 > t.receive_window.0 {
        return Err(cx.err(
            "rmem_initial",
            "",
            format!("initial receive buffer {} out of range", t.rmem_initial),
            format!("4KiB ..= receive_window ({})", t.receive_window),
            "Linux's tcp_rmem[1] is 128KiB".into(),
        ));
    }
    cx.range(
        "scaling_ratio",
        t.scaling_ratio,
        1,
        255,
        "share of the buffer advertised, in 1/256 (Linux starts at 128)",
    )?;
    if let crate::transport::tcp::RxTruesize::PayloadPlus(extra) = t.rx_truesize {
        cx.range(
            "rx_truesize",
            extra,
            1,
            1 << 20,
            "bytes a received segment costs beyond its payload (veth: 832; or Ena, or Off)",
        )?;
    }
    // Linux MAX_TCP_SYNCNT = 127 bounds both SYN knobs.
    cx.range("syn_retries", t.syn_retries, 1, 127, "Linux tcp_syn_retries (6)")?;
    cx.range("syn_linear_timeouts", t.syn_linear_timeouts, 0, 127, "Linux tcp_syn_linear_timeouts (4)")?;
    cx.range(
        "early_retrans",
        t.early_retrans,
        0,
        4,
        "Linux tcp_early_retrans: 0 off, 3 (default) and 4 send tail loss probes",
    )?;
    if ![0, 100, 250, 300, 1000].contains(&t.timer_hz) {
        return Err(cx.err(
            "timer_hz",
            &t.timer_hz.to_string(),
            format!("timer_hz {} is not a Linux CONFIG_HZ", t.timer_hz),
            "0 (exact timers), 100, 250, 300 or 1000".into(),
            "250 is Debian's and Ubuntu's kernel configuration".into(),
        ));
    }

    // SRD.
    let r = &s.srd;
    cx.range("paths", r.paths, 1, 256, "SRD sprays over 1 to 256 paths")?;
    if r.retransmit_timeout == SimDuration::ZERO {
        return Err(cx.err(
            "retransmit_timeout",
            "",
            "SRD's retransmit_timeout must be longer than zero".into(),
            "a duration near the fabric RTT, e.g. \"250us\"".into(),
            "zero would resend every packet at once, forever".into(),
        ));
    }
    cx.range(
        "reorder_buffer",
        r.reorder_buffer,
        1,
        1 << 20,
        "a reorder buffer smaller than one packet cannot reorder anything",
    )?;
    cx.range("max_retries", r.max_retries, 0, 1000, "SRD gives up after this many retransmissions")?;
    cx.range("header_bytes", r.header_bytes, 0, 200, "encapsulation bytes per packet")?;
    cx.range("ack_bytes", r.ack_bytes, 40, 1500, "an SRD acknowledgement on the wire")?;
    cx.range("send_queue", r.send_queue, 1, 1 << 20, "packets waiting in the card for SRD's window")?;
    if r.min_window.0 < 9000
        || r.initial_window < r.min_window
        || r.max_window < r.initial_window
        || r.max_window.0 > 1 << 32
    {
        return Err(cx.err(
            "initial_window",
            "",
            "SRD windows are inconsistent".into(),
            "9000B <= min_window <= initial_window <= max_window <= 4GiB".into(),
            "the defaults are 64KiB, 256KiB and 4MiB".into(),
        ));
    }
    Ok(())
}
