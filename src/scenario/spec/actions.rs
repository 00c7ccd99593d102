//! Timed actions (what changes during a run) and the service addresses failover moves.

use super::*;

/// A timed action: `(at: "50ms", action: FailSpine(spine: 0))`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Action", deny_unknown_fields)]
pub struct ActionSpec {
    pub at: SimDuration,
    pub action: Action,
}

/// What an action does. It takes effect at its time (API propagation delays are not modelled).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Action {
    /// Turn the primary ENI's source/destination check on or off (ModifyNetworkInterfaceAttribute).
    SetSourceDestCheck {
        instance: String,
        enabled: bool,
    },
    /// Every link to and from a spine goes down (packets offered to it drop as `link_down`);
    /// ECMP keeps hashing flows onto it, as until routing reconverges.
    FailSpine {
        spine: u32,
    },
    /// The spine's links carry traffic at this rate instead.
    DegradeSpine {
        spine: u32,
        rate: Bandwidth,
    },
    /// One ToR-spine link (both directions) goes down: `link_down`.
    FailLink {
        rack: u32,
        spine: u32,
    },
    /// That link is back.
    RestoreLink {
        rack: u32,
        spine: u32,
    },
    /// The spine's links are back, at their configured rate.
    RestoreSpine {
        spine: u32,
    },
    /// The instance stops answering: everything to or from it drops as `instance_down`.
    FailInstance {
        instance: String,
    },
    RestoreInstance {
        instance: String,
    },
    /// Replace a network ACL's rules (stateless: live connections meet them at once).
    SetNetworkAcl {
        acl: String,
        #[serde(default)]
        inbound: Vec<AclRuleSpec>,
        #[serde(default)]
        outbound: Vec<AclRuleSpec>,
    },
    /// Replace a security group's rules (stateful: tracked connections carry on; new
    /// connections meet the new rules).
    SetSecurityGroup {
        group: String,
        #[serde(default)]
        inbound: Vec<SgRuleSpec>,
        #[serde(default)]
        outbound: Option<Vec<SgRuleSpec>>,
    },
    /// Turn ENA Express on or off on the primary ENI (ModifyNetworkInterfaceAttribute
    /// `EnaSrdSpecification`); connections opened afterwards follow the new setting.
    SetEnaExpress {
        instance: String,
        enabled: bool,
    },
    /// Set the primary ENI's MTU (`ip link set mtu`): new connections use it; live TCP
    /// connections lower their MSS at once when it shrinks (the route's MTU changes under them).
    SetMtu {
        instance: String,
        mtu: u32,
    },
    /// Detach the secondary ENI carrying a service's address (after a delay drawn in `ENI_DETACH`): the
    /// address then answers nowhere.
    DetachEni {
        service: String,
    },
    /// Attach it to an instance in the same AZ (after a delay drawn in `ENI_ATTACH`).
    AttachEni {
        service: String,
        to: String,
    },
    /// Move a service's address to the standby: the ENI is detached and attached, the Elastic
    /// IP re-associated, or the DNS record changed; it takes effect after `delay` (left out: the
    /// address kind's default, see the scenario reference).
    Failover {
        service: String,
        to: String,
        #[serde(default)]
        delay: Option<SimDuration>,
    },
}

/// A service address: the instance that holds it first, and how clients reach it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Service", deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    pub instance: String,
    pub address: ServiceAddress,
    /// `SecondaryEni`: which of the instance's ENIs carries the address (left out: its first
    /// secondary ENI). Its security groups move with it.
    #[serde(default)]
    pub eni: Option<String>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub enum ServiceAddress {
    /// The private IP of a secondary ENI, which failover moves to the standby.
    SecondaryEni,
    /// An Elastic IP, which failover re-associates with the standby.
    ElasticIp,
    /// A DNS name whose record failover changes; clients cache an answer for `ttl`.
    Dns { ttl: SimDuration },
}
