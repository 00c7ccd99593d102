//! The leaf-spine fabric: racks, hosts, spines, links, buffers, MTU and loss.

use super::diag::Ctx;
use super::limits::*;
use crate::scenario::error::Diagnostic;
use crate::scenario::spec::*;

/// Checks the fabric; returns the number of fabric hosts.
pub(super) fn check(cx: &Ctx, s: &ScenarioSpec) -> Result<u64, Diagnostic> {
    let f = &s.fabric;
    cx.range("racks", f.racks, 1, MAX_RACKS, "a leaf-spine needs at least one rack")?;
    cx.range("hosts_per_rack", f.hosts_per_rack, 1, MAX_HOSTS_PER_RACK, "hosts under one ToR")?;
    cx.range("spines", f.spines, 1, MAX_SPINES, "spines = equal-cost paths between racks")?;
    let hosts = f.racks as u64 * f.hosts_per_rack as u64;
    if hosts > MAX_HOSTS {
        return Err(cx.err(
            "racks",
            &f.racks.to_string(),
            format!("{hosts} hosts exceed the limit"),
            format!("racks x hosts_per_rack <= {MAX_HOSTS}"),
            "use fewer racks or hosts per rack".into(),
        ));
    }
    if f.host_link.0 == 0 || f.spine_link.is_some_and(|b| b.0 == 0) {
        return Err(cx.err(
            "host_link",
            "",
            "link rates must be above zero".into(),
            "e.g. \"100Gbps\"".into(),
            "a zero-rate link would never deliver".into(),
        ));
    }
    if f.spine_link.is_none() && !(f.oversubscription.is_finite() && (0.01..=100.0).contains(&f.oversubscription)) {
        return Err(cx.err(
            "oversubscription",
            "",
            // In scientific notation when huge: 1e308 is not 309 digits worth reading.
            if f.oversubscription.abs() < 1e6 {
                format!("oversubscription {} is out of range", f.oversubscription)
            } else {
                format!("oversubscription {:e} is out of range", f.oversubscription)
            },
            "0.01 ..= 100 (1.0 = non-blocking)".into(),
            "or give spine_link directly".into(),
        ));
    }
    if f.buffer.0 < MAX_MTU as u64 || f.buffer.0 > 1 << 32 {
        return Err(cx.err(
            "buffer",
            "",
            format!("switch buffer {} cannot hold a jumbo frame or is absurd", f.buffer),
            "9001B ..= 4GiB per port".into(),
            "real ToR buffers are tens of KiB to a few MiB per port".into(),
        ));
    }
    cx.range("mtu", f.mtu, MIN_MTU, MAX_MTU, "EC2 MTUs run from 576 to 9001")?;
    if !(f.loss_rate.is_finite() && (0.0..1.0).contains(&f.loss_rate)) {
        return Err(cx.err(
            "loss_rate",
            "",
            format!("loss_rate {} is not a probability below 1", f.loss_rate),
            "0.0 <= loss_rate < 1.0".into(),
            "0.001 = one packet in a thousand".into(),
        ));
    }
    Ok(hosts)
}
