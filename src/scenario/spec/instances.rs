//! Instances and their ENIs (`interface_type`, ENA Express, MTU, security groups).

use super::*;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Instance", deny_unknown_fields)]
pub struct InstanceSpec {
    pub name: String,
    pub instance_type: String,
    #[serde(default = "default_az")]
    pub availability_zone: String,
    #[serde(default)]
    pub placement_group: Option<String>,
    /// Rack to place it in; by default instances fill racks in order, and a cluster placement
    /// group keeps its members in one rack.
    #[serde(default)]
    pub rack: Option<u32>,
    /// ENIs; the first is the primary (eth0). Empty = one primary ENI with defaults.
    #[serde(default)]
    pub enis: Vec<EniSpec>,
    /// This many identical instances, named NAME-0 ... NAME-(count-1) (a fleet).
    #[serde(default)]
    pub count: Option<u32>,
    /// The subnet of its ENIs (left out = the first subnet, or the implicit default subnet).
    #[serde(default)]
    pub subnet: Option<String>,
    /// Network adapter: "ena" (every catalog type: Nitro), "ixgbevf" (Intel 82599 VF, up to
    /// 10 Gbps) or "vif" (no enhanced networking: through the hypervisor).
    #[serde(default)]
    pub adapter: crate::ec2::adapter::Adapter,
    /// Packets per second in and out together before `pps_allowance_exceeded` (queued, then
    /// dropped). AWS does not publish it per type: left out, no limit is modelled.
    #[serde(default)]
    pub pps_allowance: Option<u64>,
    /// Tracked connections before new ones fail (`conntrack_allowance_exceeded`). Left out, no
    /// limit is modelled. Only connections of ENIs with security groups are tracked.
    #[serde(default)]
    pub conntrack_allowance: Option<u32>,
    /// Idle timeout of tracked TCP connections, seconds (AWS API `ConnectionTrackingSpecification`
    /// `TcpEstablishedTimeout`: 60 to 432000, default 432000). An entry idle longer is removed;
    /// the flow's next packet is evaluated by the security groups as a new flow.
    #[serde(default)]
    pub conntrack_tcp_established_timeout: Option<u32>,
    /// Idle timeout of tracked UDP flows seen one way or in one request-response, seconds
    /// (`UdpTimeout`: 30 to 60, default 30).
    #[serde(default)]
    pub conntrack_udp_timeout: Option<u32>,
    /// Idle timeout of tracked UDP streams (more than one request-response), seconds
    /// (`UdpStreamTimeout`: 60 to 180, default 180).
    #[serde(default)]
    pub conntrack_udp_stream_timeout: Option<u32>,
    /// Burstable types ("up to" bandwidth): how long a full network I/O credit balance sustains
    /// the burst rate above the baseline (default 5 min, the low end of AWS's 5 to 60).
    #[serde(default)]
    pub network_credit_duration: Option<SimDuration>,
}

fn default_az() -> String {
    "use1-az1".to_string()
}

fn default_mtu() -> u32 {
    crate::ec2::MTU_VPC_JUMBO
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Eni", deny_unknown_fields)]
pub struct EniSpec {
    pub name: String,
    #[serde(default = "default_mtu")]
    pub mtu: u32,
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub network_card_index: u32,
    #[serde(default = "one")]
    pub private_ip_count: u32,
    /// ENA Express (AWS API `EnaSrdEnabled`): TCP between two such ENIs goes over SRD.
    #[serde(default)]
    pub ena_srd_enabled: bool,
    /// ENA Express for UDP too (AWS API `EnaSrdUdpEnabled`; needs `ena_srd_enabled`).
    #[serde(default)]
    pub ena_srd_udp_enabled: bool,
    /// `interface` (ENA) or `efa` (AWS API `InterfaceType`): an EFA also carries ordinary IP.
    #[serde(default)]
    pub interface_type: InterfaceType,
    /// Source/destination check (AWS API `SourceDestCheck`, on by default): the ENI drops
    /// packets neither from nor to its own address, so an instance forwarding others' traffic
    /// (a NAT instance, a firewall) needs it off.
    #[serde(default = "yes")]
    pub source_dest_check: bool,
    /// This ENI's connection-tracking idle timeouts, seconds (AWS API
    /// `ConnectionTrackingSpecification`, set per network interface; same ranges as the
    /// instance's fields). Left out, the instance's `conntrack_*_timeout`, else AWS's default.
    #[serde(default)]
    pub conntrack_tcp_established_timeout: Option<u32>,
    #[serde(default)]
    pub conntrack_udp_timeout: Option<u32>,
    #[serde(default)]
    pub conntrack_udp_stream_timeout: Option<u32>,
}

impl EniSpec {
    /// The primary ENI an instance written without `enis` has: eth0 with every default.
    pub fn primary() -> Self {
        EniSpec {
            name: "eth0".into(),
            mtu: default_mtu(),
            security_groups: Vec::new(),
            network_card_index: 0,
            private_ip_count: 1,
            ena_srd_enabled: false,
            ena_srd_udp_enabled: false,
            interface_type: InterfaceType::Interface,
            source_dest_check: true,
            conntrack_tcp_established_timeout: None,
            conntrack_udp_timeout: None,
            conntrack_udp_stream_timeout: None,
        }
    }
}

/// Written as the AWS API writes it: `interface_type: "efa"`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum InterfaceType {
    #[default]
    Interface,
    Efa,
}

impl TryFrom<String> for InterfaceType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "interface" => Ok(InterfaceType::Interface),
            "efa" => Ok(InterfaceType::Efa),
            _ => Err(format!("unknown interface type {s:?}; write \"interface\" (ENA) or \"efa\"")),
        }
    }
}

impl From<InterfaceType> for String {
    fn from(t: InterfaceType) -> String {
        match t {
            InterfaceType::Interface => "interface".into(),
            InterfaceType::Efa => "efa".into(),
        }
    }
}
