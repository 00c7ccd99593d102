//! Variants and report settings (ladder diagram, time series, event log, captures).

use super::diag::{Ctx, reference, unique};
use super::limits::{self, *};
use crate::scenario::error::Diagnostic;
use crate::scenario::spec::*;
use std::collections::BTreeSet;

pub(super) fn check(cx: &Ctx, s: &ScenarioSpec) -> Result<(), Diagnostic> {
    if s.variants.len() > MAX_VARIANTS {
        return Err(cx.err(
            "variants",
            "",
            format!("{} variants", s.variants.len()),
            format!("at most {MAX_VARIANTS}"),
            "use a sweep for larger grids".into(),
        ));
    }
    unique(cx, "variant", s.variants.iter().map(|v| v.name.as_str()))?;
    for v in &s.variants {
        if let Some(b) = &v.baseline
            && !s.variants.iter().any(|o| o.name == *b)
        {
            let names: BTreeSet<&str> = s.variants.iter().map(|o| o.name.as_str()).collect();
            reference(cx, "baseline", b, &names, "variant")?;
        }
    }
    if let Some(l) = &s.report.ladder {
        let ends = s.workloads.iter().find_map(|w| match w {
            WorkloadSpec::Bulk(b) if b.name == l.flow => Some(()),
            WorkloadSpec::Rpc(r) if r.name == l.flow => Some(()),
            _ => None,
        });
        if ends.is_none() {
            let names: BTreeSet<&str> = s
                .workloads
                .iter()
                .filter(|w| matches!(w, WorkloadSpec::Bulk(_) | WorkloadSpec::Rpc(_)))
                .map(|w| w.name())
                .collect();
            if names.is_empty() {
                return Err(cx.err(
                    "flow",
                    &l.flow,
                    format!("ladder flow {:?}: the scenario has no Bulk or Rpc workload", l.flow),
                    "the name of a Bulk or Rpc workload".into(),
                    "ladder diagrams show one TCP connection; add such a workload, or --set report.ladder=None".into(),
                ));
            }
            reference(cx, "flow", &l.flow, &names, "Bulk or Rpc workload").map_err(|mut d| {
                d.hint = format!("{}; or drop the diagram with --set report.ladder=None", d.hint);
                d
            })?;
        }
        if l.to <= l.from {
            return Err(cx.err(
                "to",
                &l.to.to_string(),
                format!("ladder window ends ({}) at or before it starts ({})", l.to, l.from),
                "`to` later than `from`".into(),
                "e.g. ladder: (flow: \"upload\", from: \"0s\", to: \"4s\")".into(),
            ));
        }
        cx.range("max_packets", l.max_packets, 1, MAX_LADDER_PACKETS, "packets drawn in the ladder diagram")?;
    }
    cx.range(
        "timeseries_bins",
        s.report.timeseries_bins,
        1,
        MAX_TIMESERIES_BINS,
        "points in the throughput time series",
    )?;
    cx.range(
        "event_log_limit",
        s.report.event_log_limit,
        0,
        limits::MAX_EVENT_LOG_LIMIT,
        "events kept per variant in events.jsonl; the rest are counted as `omitted`",
    )?;
    cx.range(
        "capture_limit",
        s.report.capture_limit,
        1,
        limits::MAX_CAPTURE_LIMIT,
        "packets kept per capture point with --pcap; the rest are counted as `omitted`",
    )?;
    Ok(())
}
