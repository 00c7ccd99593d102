//! Lowering: the scenario file's sections -> the plain configuration the simulated world reads.
//! Each layer owns its configuration types (`ec2::vpc::VpcConfig`, `workload::config`,
//! `model::actions`); only this module knows both shapes, so a schema change (a renamed field, a
//! new default) stops here, and an importer can build the same configuration without RON.
//! Lowering runs on validated specs: it copies and never fails.

use super::spec::{self, ScenarioSpec};
use crate::ec2::failover::ServiceAddress;
use crate::ec2::vpc::{AclRuleConfig, NetworkAclConfig, SecurityGroupConfig, SgRuleConfig, SubnetConfig, VpcConfig};
use crate::model::actions::{Action, TimedAction};
use crate::workload::config::*;

/// The VPC's filtering rules.
pub fn vpc(s: &ScenarioSpec) -> VpcConfig {
    VpcConfig {
        network_acls: s
            .network_acls
            .iter()
            .map(|a| NetworkAclConfig {
                name: a.name.clone(),
                inbound: acl_rules(&a.inbound),
                outbound: acl_rules(&a.outbound),
            })
            .collect(),
        subnets: s
            .subnets
            .iter()
            .map(|x| SubnetConfig { name: x.name.clone(), cidr: x.cidr.clone(), network_acl: x.network_acl.clone() })
            .collect(),
        security_groups: s
            .security_groups
            .iter()
            .map(|g| SecurityGroupConfig {
                name: g.name.clone(),
                allow_all_within_group: g.allow_all_within_group,
                inbound: sg_rules(&g.inbound),
                outbound: g.outbound.as_deref().map(sg_rules),
            })
            .collect(),
    }
}

fn acl_rules(rules: &[spec::AclRuleSpec]) -> Vec<AclRuleConfig> {
    rules
        .iter()
        .map(|r| AclRuleConfig {
            rule: r.rule,
            protocol: r.protocol.clone(),
            ports: r.ports.clone(),
            icmp_type: r.icmp_type,
            icmp_code: r.icmp_code,
            cidr: r.cidr.clone(),
            action: r.action.clone(),
        })
        .collect()
}

fn sg_rules(rules: &[spec::SgRuleSpec]) -> Vec<SgRuleConfig> {
    rules
        .iter()
        .map(|r| SgRuleConfig {
            protocol: r.protocol.clone(),
            ports: r.ports.clone(),
            icmp_type: r.icmp_type,
            icmp_code: r.icmp_code,
            peer: r.peer.clone(),
        })
        .collect()
}

pub fn service_address(a: spec::ServiceAddress) -> ServiceAddress {
    match a {
        spec::ServiceAddress::SecondaryEni => ServiceAddress::SecondaryEni,
        spec::ServiceAddress::ElasticIp => ServiceAddress::ElasticIp,
        spec::ServiceAddress::Dns { ttl } => ServiceAddress::Dns { ttl },
    }
}

/// A timed action; the event log names it as the scenario wrote it.
pub fn action(a: &spec::ActionSpec) -> TimedAction {
    use spec::Action as S;
    let action = match &a.action {
        S::SetSourceDestCheck { instance, enabled } => {
            Action::SetSourceDestCheck { instance: instance.clone(), enabled: *enabled }
        }
        S::FailSpine { spine } => Action::FailSpine { spine: *spine },
        S::DegradeSpine { spine, rate } => Action::DegradeSpine { spine: *spine, rate: *rate },
        S::FailLink { rack, spine } => Action::FailLink { rack: *rack, spine: *spine },
        S::RestoreLink { rack, spine } => Action::RestoreLink { rack: *rack, spine: *spine },
        S::RestoreSpine { spine } => Action::RestoreSpine { spine: *spine },
        S::FailInstance { instance } => Action::FailInstance { instance: instance.clone() },
        S::RestoreInstance { instance } => Action::RestoreInstance { instance: instance.clone() },
        S::SetNetworkAcl { acl, inbound, outbound } => {
            Action::SetNetworkAcl { acl: acl.clone(), inbound: acl_rules(inbound), outbound: acl_rules(outbound) }
        }
        S::SetSecurityGroup { group, inbound, outbound } => Action::SetSecurityGroup {
            group: group.clone(),
            inbound: sg_rules(inbound),
            outbound: outbound.as_deref().map(sg_rules),
        },
        S::SetEnaExpress { instance, enabled } => {
            Action::SetEnaExpress { instance: instance.clone(), enabled: *enabled }
        }
        S::SetMtu { instance, mtu } => Action::SetMtu { instance: instance.clone(), mtu: *mtu },
        S::DetachEni { service } => Action::DetachEni { service: service.clone() },
        S::AttachEni { service, to } => Action::AttachEni { service: service.clone(), to: to.clone() },
        S::Failover { service, to, delay } => {
            Action::Failover { service: service.clone(), to: to.clone(), delay: *delay }
        }
    };
    TimedAction { at: a.at, action, detail: format!("{:?}", a.action) }
}

pub fn message_transport(t: spec::MessageTransport) -> MessageTransport {
    t.into()
}

pub fn size_dist(d: &spec::SizeDist) -> SizeDist {
    match d {
        spec::SizeDist::Fixed(b) => SizeDist::Fixed(*b),
        spec::SizeDist::Uniform { min, max } => SizeDist::Uniform { min: *min, max: *max },
        spec::SizeDist::Exponential { mean } => SizeDist::Exponential { mean: *mean },
        spec::SizeDist::WebSearch => SizeDist::WebSearch,
    }
}

pub fn bulk(b: &spec::BulkSpec) -> BulkConfig {
    BulkConfig {
        name: b.name.clone(),
        flows: b.flows,
        bytes: b.bytes,
        start: b.start,
        duration: b.duration,
        port: b.port,
    }
}

pub fn rpc(r: &spec::RpcSpec) -> RpcConfig {
    RpcConfig {
        name: r.name.clone(),
        connections: r.connections,
        arrival: match r.arrival {
            spec::Arrival::Poisson { mean_interval } => Arrival::Poisson { mean_interval },
            spec::Arrival::ClosedLoop { outstanding } => Arrival::ClosedLoop { outstanding },
        },
        request: size_dist(&r.request),
        response: size_dist(&r.response),
        warmup: r.warmup,
        count: r.count,
        port: r.port,
    }
}

pub fn datagrams(d: &spec::DatagramSpec) -> DatagramConfig {
    DatagramConfig {
        name: d.name.clone(),
        size: d.size,
        mean_interval: d.mean_interval,
        count: d.count,
        port: d.port,
        dont_fragment: d.dont_fragment,
    }
}

pub fn background(b: &spec::BackgroundSpec) -> BackgroundConfig {
    BackgroundConfig {
        name: b.name.clone(),
        load: b.load,
        sizes: size_dist(&b.sizes),
        max_concurrent: b.max_concurrent,
    }
}

pub fn permutation(p: &spec::PermutationSpec) -> PermutationConfig {
    PermutationConfig { name: p.name.clone(), flows_per_instance: p.flows_per_instance, bytes: p.bytes, port: p.port }
}

pub fn ping_pong(p: &spec::PingPongSpec) -> PingPongConfig {
    PingPongConfig {
        name: p.name.clone(),
        transport: message_transport(p.transport),
        sizes: p.sizes.clone(),
        iterations: p.iterations,
        window: p.window,
        warmup: p.warmup,
        port: p.port,
    }
}

/// `algorithm`: what runs (the scenario's `Auto` resolved by the builder).
pub fn all_reduce(a: &spec::AllReduceSpec, algorithm: crate::workload::config::NcclAlgorithm) -> AllReduceConfig {
    AllReduceConfig {
        name: a.name.clone(),
        bytes: a.bytes,
        transport: message_transport(a.transport),
        iterations: a.iterations,
        warmup: a.warmup,
        port: a.port,
        gpus_per_node: a.gpus_per_node,
        channels: a.channels,
        nvlink: a.nvlink,
        nvlink_step: a.nvlink_step_or_default(algorithm),
        algorithm,
    }
}

pub fn service_clients(c: &spec::ServiceClientsSpec) -> ServiceClientsConfig {
    ServiceClientsConfig {
        name: c.name.clone(),
        interval: c.interval,
        timeout: c.timeout,
        request: c.request,
        response: c.response,
        port: c.port,
        backoff: match c.backoff {
            spec::ReconnectBackoffSpec::Immediate => crate::workload::config::ReconnectBackoff::Immediate,
            spec::ReconnectBackoffSpec::FullJitter { base, cap } => {
                crate::workload::config::ReconnectBackoff::FullJitter { base, cap }
            }
        },
    }
}

pub fn connections(c: &spec::ConnectionsSpec) -> ConnectionsConfig {
    ConnectionsConfig { name: c.name.clone(), count: c.count, over: c.over, port: c.port }
}

pub fn flow_logs(f: &spec::FlowLogsSpec) -> FlowLogsConfig {
    FlowLogsConfig {
        name: f.name.clone(),
        file: f.file.clone(),
        interfaces: f.interfaces.clone(),
        internet: f.internet.clone(),
        speedup: f.speedup,
        scale: f.scale,
        window_s: f.window_s,
        max_groups: f.max_groups,
        max_exchanges: f.max_exchanges,
    }
}
