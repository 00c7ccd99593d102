//! The VPC's sections: placement groups, security groups, subnets, route tables, network ACLs,
//! gateways and explicit paths.

use super::*;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "PlacementGroup", deny_unknown_fields)]
pub struct PlacementGroupSpec {
    pub name: String,
    /// "cluster" (one rack: the 10 Gbps flow limit), "spread" (each member on its own rack) or
    /// "partition" (members round-robin over `partitions`, each partition on its own rack).
    pub strategy: String,
    /// Partitions of a "partition" group (AWS: up to 7 per AZ; left out: 2).
    #[serde(default)]
    pub partitions: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "SecurityGroup", deny_unknown_fields)]
pub struct SecurityGroupSpec {
    pub name: String,
    /// Inbound and outbound "all traffic" rules whose source/destination is the group itself,
    /// as EFA requires (EFA user guide, "Prepare an EFA-enabled security group").
    #[serde(default)]
    pub allow_all_within_group: bool,
    /// Allow rules for traffic arriving (a new group has none).
    #[serde(default)]
    pub inbound: Vec<SgRuleSpec>,
    /// Allow rules for traffic leaving; left out = a new group's default, all traffic.
    #[serde(default)]
    pub outbound: Option<Vec<SgRuleSpec>>,
}

/// A security group rule: protocol, ports or ICMP type/code, and the peer (a CIDR block or
/// another group's name).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "SgRule", deny_unknown_fields)]
pub struct SgRuleSpec {
    /// "tcp", "udp", "icmp", "all" or a protocol number.
    pub protocol: String,
    /// "443" or "1024-65535"; left out = every port.
    #[serde(default)]
    pub ports: Option<String>,
    #[serde(default)]
    pub icmp_type: Option<i32>,
    #[serde(default)]
    pub icmp_code: Option<i32>,
    /// Source (inbound) or destination (outbound): "10.0.0.0/16" or a security group's name.
    pub peer: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Subnet", deny_unknown_fields)]
pub struct SubnetSpec {
    pub name: String,
    /// "10.0.1.0/24": instances get addresses from it in order (EC2 reserves the first four).
    /// A block outside `vpc_cidr` stands for hosts beyond the VPC (the internet, on premises).
    pub cidr: String,
    /// Left out = the VPC's default network ACL (allows everything).
    #[serde(default)]
    pub network_acl: Option<String>,
    /// Left out = the main route table: only the local route.
    #[serde(default)]
    pub route_table: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "RouteTable", deny_unknown_fields)]
pub struct RouteTableSpec {
    pub name: String,
    pub routes: Vec<RouteSpec>,
}

/// A route: the most specific destination block matching a packet's destination wins; the
/// implicit local route (the VPC block) beats any route as wide or wider.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Route", deny_unknown_fields)]
pub struct RouteSpec {
    pub destination: String,
    /// An instance (its primary ENI: a NAT instance, a firewall appliance) or a gateway.
    pub target: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "NetworkAcl", deny_unknown_fields)]
pub struct NetworkAclSpec {
    pub name: String,
    #[serde(default)]
    pub inbound: Vec<AclRuleSpec>,
    #[serde(default)]
    pub outbound: Vec<AclRuleSpec>,
}

/// A network ACL rule, evaluated in `rule` number order; the first match allows or denies.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "AclRule", deny_unknown_fields)]
pub struct AclRuleSpec {
    /// 1 ..= 32766, unique per direction.
    pub rule: u32,
    pub protocol: String,
    #[serde(default)]
    pub ports: Option<String>,
    #[serde(default)]
    pub icmp_type: Option<i32>,
    #[serde(default)]
    pub icmp_code: Option<i32>,
    /// Source (inbound) or destination (outbound) block; left out = "0.0.0.0/0".
    #[serde(default = "any_cidr")]
    pub cidr: String,
    /// "allow" or "deny".
    pub action: String,
}

fn any_cidr() -> String {
    "0.0.0.0/0".into()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Gateway", deny_unknown_fields)]
pub struct GatewaySpec {
    pub name: String,
    pub kind: crate::ec2::gateway::GatewayKind,
    /// Largest packet it carries; left out = the kind's (8500 for a transit gateway ...).
    #[serde(default)]
    pub mtu: Option<u32>,
    /// Latency a crossing adds; left out = the kind's default.
    #[serde(default)]
    pub delay: Option<SimDuration>,
    /// Discards ICMP: sends no "fragmentation needed" and forwards none (a black-hole middlebox).
    #[serde(default)]
    pub drops_icmp: bool,
    /// Rewrites the MSS option of TCP SYNs passing through to at most this (MSS clamping).
    #[serde(default)]
    pub mss_clamp: Option<u32>,
    /// NAT gateway only: sustained load this long scales it one step up (model choice; left out:
    /// 60 s). See `ec2::nat`.
    #[serde(default)]
    pub scale_interval: Option<SimDuration>,
    /// NAT gateway only: idle time after which a connection's translation is gone (left out:
    /// AWS's 350 s).
    #[serde(default)]
    pub idle_timeout: Option<SimDuration>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Path", deny_unknown_fields)]
pub struct PathSpec {
    /// The two instances (either may start connections).
    pub between: (String, String),
    /// Gateways crossed from the first to the second, in order.
    pub via: Vec<String>,
}
