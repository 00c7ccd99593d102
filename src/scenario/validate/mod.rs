//! Checks a spec before anything is simulated: references, EC2 limits, and the model's own limits
//! (so absurd inputs get an error, not an out-of-memory). Each failure is a `Diagnostic` pointing
//! at the offending text.
//!
//! One file per section of the scenario, each rule next to the section it guards, in the order
//! they run (the first failure is the one reported, so the order is part of the behaviour):
//! `fabric`, `host` (Nitro, noise, TCP and SRD knobs), `instances` (placement groups,
//! security groups, instances and their ENIs), `vpc` (subnets, ACLs, rules, gateways, paths),
//! `workloads`, `run` (variants and report settings). `diag` is the shared diagnostics
//! helper; `describe` is what `nitrosim check` prints for a valid variant.

mod describe;
mod diag;
mod fabric;
mod host;
mod instances;
mod run;
mod vpc;
mod workloads;

pub use describe::describe;

use crate::scenario::error::Diagnostic;
use crate::scenario::spec::ScenarioSpec;
use diag::Ctx;

/// Model limits. Generous for real use, small enough that a typo cannot exhaust memory.
pub mod limits {
    use crate::units::SimDuration;
    pub const MAX_DURATION: SimDuration = SimDuration::from_secs(3600);
    pub const MAX_RACKS: u32 = 1024;
    pub const MAX_HOSTS_PER_RACK: u32 = 256;
    pub const MAX_SPINES: u32 = 256;
    pub const MAX_HOSTS: u64 = 65_536;
    pub const MAX_INSTANCES: usize = 16_384;
    pub const MAX_PERMUTATION_FLOWS: u64 = 1_000_000;
    /// SRD keeps two routes per path per communicating instance pair (about 100 bytes each):
    /// 4 million is 400 MB, the most we accept before simulating.
    pub const MAX_SRD_PATH_ROUTES: u64 = 4_000_000;
    pub const MAX_FLOWS_PER_WORKLOAD: u32 = 4096;
    pub const MAX_WORKLOADS: usize = 256;
    pub const MAX_VARIANTS: usize = 64;
    pub const MAX_TIMESERIES_BINS: u32 = 10_000;
    /// Packets in a ladder diagram: beyond this it is no longer readable.
    pub const MAX_LADDER_PACKETS: u32 = 2_000;
    pub const MAX_BACKGROUND_CONCURRENT: u32 = 100_000;
    /// IPv4 minimum reassembly size (RFC 791) .. EC2's jumbo MTU.
    pub const MIN_MTU: u32 = 576;
    pub const MAX_MTU: u32 = 9001;
    pub const MAX_MESSAGE_BYTES: u64 = 1 << 40;
    /// Event-log entries kept per variant (about 320 bytes each: 1 GB at most).
    pub const MAX_EVENT_LOG_LIMIT: u32 = 3_000_000;
    /// Packets kept per capture point (about 200 bytes each in memory).
    pub const MAX_CAPTURE_LIMIT: u32 = 5_000_000;
    /// Slowest host copy rate: 1 Mbps copies a 64 KiB message in half a second.
    pub const MIN_COPY_RATE_BPS: u64 = 1_000_000;
}

pub fn validate(file: &str, src: &str, s: &ScenarioSpec) -> Result<(), Diagnostic> {
    use limits::*;
    let cx = Ctx::new(file, src);
    if s.name.trim().is_empty() {
        return Err(cx.err(
            "name",
            "",
            "the scenario has an empty name".into(),
            "a name (used for the output folder)".into(),
            "e.g. name: \"my-test\"".into(),
        ));
    }
    cx.positive("duration", s.duration)?;
    if s.duration > MAX_DURATION {
        return Err(cx.err(
            "duration",
            "",
            format!("duration {} is longer than the limit", s.duration),
            format!("at most {MAX_DURATION}"),
            "split long experiments into shorter runs or seeds".into(),
        ));
    }

    let hosts = fabric::check(&cx, s)?;
    host::check(&cx, s)?;
    let inst_names = instances::check(&cx, s, hosts)?;
    workloads::check(&cx.within("workloads"), s, hosts, &inst_names)?;
    run::check(&cx, s)
}
