//! The scenario file schema: pure serde data, exactly what the user wrote (after defaults).
//! `validate` checks it, `lower` turns it into the world's configuration types and `build` into a
//! runtime model; the schema and the world are distinct types so a scenario can be checked,
//! printed and overridden without simulating anything.
//!
//! One file per part of the file: this one holds the top level (`ScenarioSpec`, variants, sweep,
//! report); `fabric`, `instances`, `vpc`, `actions` and `workloads` hold their sections. Every type
//! is re-exported here, so `scenario::spec::X` names each one.
//!
//! Field names follow the AWS API / Terraform where EC2 has a word for the thing
//! (`instance_type`, `placement_group`, `strategy: "cluster"`, `availability_zone`).

use crate::transport::TcpConfig;
use crate::units::{Bandwidth, Bytes, SimDuration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod actions;
mod fabric;
mod instances;
mod vpc;
mod workloads;

pub use actions::*;
pub use fabric::*;
pub use instances::*;
pub use vpc::*;
pub use workloads::*;

fn default_seed() -> u64 {
    1
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Scenario", deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time to run (the run also stops early when every finite workload is done).
    pub duration: SimDuration,
    #[serde(default)]
    pub fabric: FabricSpec,
    #[serde(default)]
    pub nitro: NitroSpec,
    #[serde(default)]
    pub host: HostSpec,
    /// Timing noise on host costs and Nitro card delays (on by default; `noise: (enabled: false)`
    /// makes every stage exactly periodic, for theory checks).
    #[serde(default)]
    pub noise: NoiseSpec,
    #[serde(default)]
    pub tcp: TcpConfig,
    /// SRD in the Nitro card, used by ENA Express (and later EFA).
    #[serde(default)]
    pub srd: crate::transport::srd::SrdConfig,
    #[serde(default)]
    pub placement_groups: Vec<PlacementGroupSpec>,
    /// The links between availability zones: latency, and a capacity shared by all traffic
    /// from one AZ to another.
    #[serde(default)]
    pub inter_az: InterAzSpec,
    /// The IP layer: path MTU cache and fragment reassembly (Linux defaults).
    #[serde(default)]
    pub ip: crate::net::ip::IpConfig,
    /// Subnets (address blocks with a network ACL each). None declared = one subnet 10.0.0.0/16
    /// with the VPC's default ACL (allow everything).
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
    /// Network ACLs subnets may name: stateless, numbered rules.
    #[serde(default)]
    pub network_acls: Vec<NetworkAclSpec>,
    /// Security groups ENIs may name: stateful allow rules.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroupSpec>,
    /// Gateways and attachments (transit gateway, VPN, internet gateway, a middlebox ...) that
    /// `paths` route traffic through.
    #[serde(default)]
    pub gateways: Vec<GatewaySpec>,
    /// Routes between instance pairs that cross gateways (both directions, in reverse order back).
    #[serde(default)]
    pub paths: Vec<PathSpec>,
    /// The VPC's address block: destinations inside it take the implicit `local` route.
    #[serde(default = "default_vpc_cidr")]
    pub vpc_cidr: String,
    /// Route tables subnets may name: destination blocks to a target (an instance acting as a
    /// router, such as a NAT instance or a firewall, or a gateway).
    #[serde(default)]
    pub route_tables: Vec<RouteTableSpec>,
    /// Things that happen during the run, at given times.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// Service addresses clients use, which failover can move to a standby.
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    pub instances: Vec<InstanceSpec>,
    #[serde(default)]
    pub workloads: Vec<WorkloadSpec>,
    /// The same scenario run several ways, reported side by side. Empty = one variant "base".
    #[serde(default)]
    pub variants: Vec<VariantSpec>,
    #[serde(default)]
    pub report: ReportSpec,
    /// A parameter grid for `nitrosim sweep` (ignored by `nitrosim run`).
    #[serde(default)]
    pub sweep: Option<SweepSpec>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Sweep", deny_unknown_fields)]
pub struct SweepSpec {
    /// Crossed into a grid, first parameter outermost.
    pub parameters: Vec<SweepParam>,
    /// Runs per grid point, each with its own seed derived from (base seed, point label, index).
    #[serde(default = "ten")]
    pub seeds: u32,
    /// Metrics to plot against the first parameter (paths into a variant's results, as in
    /// results.csv); empty = RPC p99/p99.9 and wire throughput.
    #[serde(default)]
    pub plot: Vec<String>,
}

fn ten() -> u32 {
    10
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Param", deny_unknown_fields)]
pub struct SweepParam {
    /// A path as `--set` takes it, e.g. "srd.paths".
    pub path: String,
    pub values: SweepValues,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum SweepValues {
    /// Values written as on the command line: `List(["1", "4", "16"])`.
    List(Vec<String>),
    /// `steps` values evenly spaced from `from` to `to`.
    Linear { from: f64, to: f64, steps: u32 },
    /// `steps` values evenly spaced on a log scale (geometric): 1, 2, 4 ... 64.
    Log { from: f64, to: f64, steps: u32 },
}

fn default_vpc_cidr() -> String {
    "10.0.0.0/8".into()
}

impl ScenarioSpec {
    /// The instances of fleet `fleet` (see [`fleet_member`]), with their indices.
    pub fn fleet<'a>(&'a self, fleet: &'a str) -> impl Iterator<Item = (usize, &'a InstanceSpec)> + 'a {
        self.instances.iter().enumerate().filter(move |(_, i)| fleet_member(&i.name, fleet))
    }

    /// The instances the Bulk or Rpc workload `flow` connects (initiator first) and the port its
    /// connections go to: the one TCP connection a ladder diagram follows.
    pub fn flow_ends(&self, flow: &str) -> Option<(&str, &str, u16)> {
        self.workloads.iter().find_map(|w| match w {
            WorkloadSpec::Bulk(b) if b.name == flow => Some((b.from.as_str(), b.to.as_str(), b.port)),
            WorkloadSpec::Rpc(r) if r.name == flow => Some((r.client.as_str(), r.server.as_str(), r.port)),
            _ => None,
        })
    }

    /// A ladder diagram's possible lifelines for `flow`: its ends and, between them, the hops of
    /// the `paths` entry joining them, in the flow's direction. (Those captured are drawn.)
    pub fn flow_lifelines(&self, flow: &str) -> Option<Vec<&str>> {
        let (a, b, _) = self.flow_ends(flow)?;
        let via: Vec<&str> = self
            .paths
            .iter()
            .find_map(|p| {
                if p.between.0 == a && p.between.1 == b {
                    Some(p.via.iter().map(String::as_str).collect())
                } else if p.between.0 == b && p.between.1 == a {
                    Some(p.via.iter().rev().map(String::as_str).collect())
                } else {
                    None
                }
            })
            .unwrap_or_default();
        Some(std::iter::once(a).chain(via).chain([b]).collect())
    }
}

/// Is `name` the fleet `fleet`, or one of its members `fleet-N`?
pub fn fleet_member(name: &str, fleet: &str) -> bool {
    name == fleet
        || name.strip_prefix(fleet).and_then(|r| r.strip_prefix('-')).is_some_and(|n| n.parse::<u32>().is_ok())
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Variant", deny_unknown_fields)]
pub struct VariantSpec {
    pub name: String,
    /// Overrides, as `--set` takes them: path -> value.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// The variant the side-by-side table compares this one with (default: the first variant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Report", deny_unknown_fields, default)]
pub struct ReportSpec {
    /// Bins of the throughput time series.
    pub timeseries_bins: u32,
    /// Where `--pcap` captures: instance and gateway names (empty = every instance and gateway).
    pub capture: Vec<String>,
    /// Notable events kept in `events.jsonl` per variant (the rest are counted, not kept).
    pub event_log_limit: u32,
    /// Packets kept per capture point with `--pcap` (the rest are counted as `omitted`).
    pub capture_limit: u32,
    /// A packet ladder (sequence) diagram of one flow per variant, in `report.html` and as
    /// `ladder-VARIANT.svg`/`.png`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ladder: Option<LadderSpec>,
}

impl Default for ReportSpec {
    fn default() -> Self {
        ReportSpec {
            timeseries_bins: 100,
            capture: Vec::new(),
            event_log_limit: 100_000,
            capture_limit: crate::model::trace::MAX_CAPTURED_PACKETS as u32,
            ladder: None,
        }
    }
}

/// Which packets a ladder diagram shows: the first connection of workload `flow`, in a window.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Ladder", deny_unknown_fields)]
pub struct LadderSpec {
    /// A `Bulk` or `Rpc` workload's name.
    pub flow: String,
    #[serde(default)]
    pub from: SimDuration,
    pub to: SimDuration,
    /// Packets drawn at most (each packet is one arrow per hop).
    #[serde(default = "ladder_max_packets")]
    pub max_packets: u32,
}

fn ladder_max_packets() -> u32 {
    200
}
