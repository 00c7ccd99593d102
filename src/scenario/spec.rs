//! The scenario file schema: pure serde data, exactly what the user wrote (after defaults).
//! `validate` checks it, `lower` turns it into the world's configuration types and `build` into a
//! runtime model; the two are distinct
//! types so a scenario can be checked, printed and overridden without simulating anything.
//!
//! Field names follow the AWS API / Terraform where EC2 has a word for the thing
//! (`instance_type`, `placement_group`, `strategy: "cluster"`, `availability_zone`).

use crate::transport::TcpConfig;
use crate::units::{Bandwidth, Bytes, SimDuration};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Fabric", deny_unknown_fields, default)]
pub struct FabricSpec {
    pub racks: u32,
    pub hosts_per_rack: u32,
    /// Spine switches = equal-cost paths between two racks.
    pub spines: u32,
    pub host_link: Bandwidth,
    /// ToR-spine link rate. Leave out to derive it from `oversubscription`.
    pub spine_link: Option<Bandwidth>,
    /// ToR downlink capacity / uplink capacity; 1.0 = non-blocking. Used when `spine_link` is absent.
    pub oversubscription: f64,
    pub hop_delay: SimDuration,
    /// Drop-tail buffer per switch port.
    pub buffer: Bytes,
    /// Mark ECN-capable packets above this queue depth.
    pub ecn_threshold: Option<Bytes>,
    /// MTU of hosts that are not instances (background traffic).
    pub mtu: u32,
    /// Probability that a packet is lost on the way (uniform, for experiments; 0 on EC2).
    pub loss_rate: f64,
}

impl Default for FabricSpec {
    fn default() -> Self {
        FabricSpec {
            racks: 4,
            hosts_per_rack: 8,
            spines: 4,
            host_link: Bandwidth::gbps(100),
            spine_link: None,
            oversubscription: 1.0,
            hop_delay: SimDuration::from_us(1),
            buffer: Bytes(512 * 1024),
            ecn_threshold: None,
            mtu: crate::ec2::MTU_VPC_JUMBO,
            loss_rate: 0.0,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "InterAz", deny_unknown_fields, default)]
pub struct InterAzSpec {
    /// One way (default 500 us: see `ec2::defaults::INTER_AZ_DELAY` for the measurements).
    pub latency: SimDuration,
    /// Capacity from one AZ to another, shared by every flow between them (left out:
    /// unlimited; a model parameter, AWS publishes none).
    pub capacity: Option<crate::units::Bandwidth>,
    pub buffer: Bytes,
}

impl Default for InterAzSpec {
    fn default() -> Self {
        InterAzSpec {
            latency: crate::ec2::defaults::INTER_AZ_DELAY,
            capacity: None,
            buffer: Bytes(crate::ec2::defaults::INTER_AZ_BUFFER_BYTES),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Nitro", deny_unknown_fields, default)]
pub struct NitroSpec {
    pub processing_delay: SimDuration,
    pub flow_buffer: Bytes,
    /// Token-bucket depth of the per-flow shaper: a burst this size passes at line rate.
    pub flow_burst: Bytes,
    pub instance_buffer: Bytes,
    /// ENA Express (SRD) connections one card can hold; one per direction of an instance pair,
    /// at both ends. Beyond it, new connections fall back to plain ENA.
    pub srd_connections: u32,
}

impl Default for NitroSpec {
    fn default() -> Self {
        use crate::ec2::defaults::*;
        NitroSpec {
            processing_delay: NITRO_PROCESSING_DELAY,
            flow_buffer: Bytes(FLOW_SHAPER_BUFFER_BYTES),
            flow_burst: Bytes(FLOW_SHAPER_BURST_BYTES),
            instance_buffer: Bytes(INSTANCE_SHAPER_BUFFER_BYTES),
            srd_connections: NITRO_SRD_CONNECTIONS,
        }
    }
}

/// Per-packet timing variation of hosts and Nitro cards. Each value is drawn per packet from a
/// uniform distribution around the configured mean, the mean kept: by default a vCPU's per-packet
/// cost is uniform over [0.5, 1.5] x tx_cost (spread 0.5) and the card's processing delay uniform
/// over [0, 2 x 2 us] (spread 1.0). Every port draws from its own seeded stream, named after its
/// instance (and flow), so results do not depend on build order; the card's delay stays FIFO.
///
/// The defaults are model choices, not measurements: AWS publishes no distribution of
/// per-packet host or card time. The form follows Floyd and Jacobson, "On Traffic Phase Effects in
/// Packet-Switched Gateways" (Internetworking: Research and Experience 3(3), 1992), who showed that
/// exactly periodic sources let drop-tail gateways pick winners by phase and that adding a random
/// processing time uniform over about one bottleneck service time removes the bias. Here the
/// spreads shift arrivals by up to ~4.5 us, near one 9001 B packet at 12.5 Gbps (5.8 us); real
/// hosts vary more than that (interrupt moderation alone is tens of microseconds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Noise", deny_unknown_fields, default)]
pub struct NoiseSpec {
    pub enabled: bool,
    /// Relative half-width of the per-packet vCPU cost (host tx_cost / rx_cost), 0 to 1.
    pub host_cost_spread: f64,
    /// Relative half-width of the Nitro card's per-packet processing delay, 0 to 1.
    pub card_delay_spread: f64,
}

impl Default for NoiseSpec {
    fn default() -> Self {
        use crate::ec2::defaults::*;
        NoiseSpec {
            enabled: true,
            host_cost_spread: NOISE_HOST_COST_SPREAD,
            card_delay_spread: NOISE_CARD_DELAY_SPREAD,
        }
    }
}

impl NoiseSpec {
    /// The spreads in parts per million, zero when noise is off.
    pub fn spreads_ppm(&self) -> (u32, u32) {
        let ppm =
            |x: f64| if self.enabled { (x.clamp(0.0, 1.0) * crate::net::port::PPM as f64).round() as u32 } else { 0 };
        (ppm(self.host_cost_spread), ppm(self.card_delay_spread))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Host", deny_unknown_fields, default)]
pub struct HostSpec {
    pub tx_cost: SimDuration,
    pub rx_cost: SimDuration,
    pub backlog: Bytes,
    /// Kernel path, per message: a system call and socket-layer protocol work on each side, a
    /// copy between user and kernel memory, and on receive the interrupt, softirq and scheduler
    /// wake-up of the reader and its core's exit from idle.
    pub syscall: SimDuration,
    pub socket: SimDuration,
    /// Memory copy rate of one core (kernel copies; EFA bounce-buffer copies).
    pub copy_rate: Bandwidth,
    pub wakeup: SimDuration,
    pub idle_exit: SimDuration,
    /// OS bypass (libfabric on EFA), per message: posting a work request to the device, and
    /// polling its completion queue. Buffers are registered memory; only two-sided messages up
    /// to 64 KiB are copied out of the provider's bounce buffers.
    pub bypass_post: SimDuration,
    pub bypass_poll: SimDuration,
    /// RSS queues (= vCPUs serving the network) per instance; default min(vCPUs, 32).
    pub rss_queues: Option<u32>,
}

impl Default for HostSpec {
    fn default() -> Self {
        use crate::ec2::defaults::*;
        HostSpec {
            tx_cost: HOST_TX_COST,
            rx_cost: HOST_RX_COST,
            backlog: Bytes(CPU_BACKLOG_BYTES),
            syscall: KERNEL_SYSCALL,
            socket: KERNEL_SOCKET,
            copy_rate: KERNEL_COPY_RATE,
            wakeup: KERNEL_WAKEUP,
            idle_exit: KERNEL_IDLE_EXIT,
            bypass_post: BYPASS_POST,
            bypass_poll: BYPASS_POLL,
            rss_queues: None,
        }
    }
}

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

impl ServiceAddress {
    /// How long failover takes to take effect, by default: bounds of the drawn delay.
    pub fn failover_bounds(self) -> crate::ec2::failover::DelayBounds {
        super::lower::service_address(self).failover_bounds()
    }
    /// The step's name in the summary's `failovers`.
    pub fn mechanism(self) -> &'static str {
        super::lower::service_address(self).mechanism()
    }
    /// The address itself moves (old connections then meet a reset at the standby).
    pub fn moves(self) -> bool {
        super::lower::service_address(self).moves()
    }
}

fn default_vpc_cidr() -> String {
    "10.0.0.0/8".into()
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

impl ScenarioSpec {
    /// The instances of fleet `fleet` (see [`fleet_member`]), with their indices.
    pub fn fleet<'a>(&'a self, fleet: &'a str) -> impl Iterator<Item = (usize, &'a InstanceSpec)> + 'a {
        self.instances.iter().enumerate().filter(move |(_, i)| fleet_member(&i.name, fleet))
    }
}

/// Is `name` the fleet `fleet`, or one of its members `fleet-N`?
pub fn fleet_member(name: &str, fleet: &str) -> bool {
    name == fleet
        || name.strip_prefix(fleet).and_then(|r| r.strip_prefix('-')).is_some_and(|n| n.parse::<u32>().is_ok())
}

fn default_az() -> String {
    "use1-az1".to_string()
}

fn default_mtu() -> u32 {
    crate::ec2::MTU_VPC_JUMBO
}
fn one() -> u32 {
    1
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
}

fn yes() -> bool {
    true
}

/// Written as the AWS API writes it: `interface_type: "efa"`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum InterfaceType {
    #[default]
    Interface,
    Efa,
}

impl MessageTransport {
    /// OS bypass (no system call, no copy, no wake-up) rather than the kernel socket path.
    pub fn bypasses_kernel(self) -> bool {
        super::lower::message_transport(self).bypasses_kernel()
    }
    /// The RDMA capability both instance types need (EFA user guide: read on Nitro v4+, write on most).
    pub fn rdma_needed(self) -> crate::ec2::EfaRdma {
        match self {
            MessageTransport::EfaRdmaWrite => crate::ec2::EfaRdma::ReadWrite,
            MessageTransport::EfaRdmaRead => crate::ec2::EfaRdma::Read,
            MessageTransport::Tcp | MessageTransport::Efa => crate::ec2::EfaRdma::None,
        }
    }
    /// The name reports use.
    pub fn label(self) -> &'static str {
        super::lower::message_transport(self).label()
    }
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

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum WorkloadSpec {
    /// Long-lived TCP transfer(s) from one instance to another.
    Bulk(BulkSpec),
    /// Request/response over persistent TCP connections, measuring each RPC's completion time.
    Rpc(RpcSpec),
    /// Poisson UDP datagrams, measuring one-way latency.
    Datagrams(DatagramSpec),
    /// Cross traffic between the fabric hosts that carry no instance.
    Background(BackgroundSpec),
    /// Every member of a fleet sends long TCP flows to distinct other members (a permutation
    /// traffic matrix, as datacenter simulators benchmark with).
    Permutation(PermutationSpec),
    /// osu_latency-style ping-pong over a message-size sweep, over host TCP or EFA.
    PingPong(PingPongSpec),
    /// Ring all-reduce over a fleet (gradient synchronisation), over host TCP or EFA.
    AllReduce(AllReduceSpec),
    /// All-to-all over a fleet (each member sends a distinct slice to every other one).
    AllToAll(AllReduceSpec),
    /// Poisson queries from an instance to a link-local service (DNS resolver, metadata, NTP).
    LinkLocal(LinkLocalSpec),
    /// Clients sending requests to a service address on persistent connections, reconnecting
    /// when one breaks: the outage each client sees across a failover.
    ServiceClients(ServiceClientsSpec),
    /// Many TCP connections opened at an even pace and then held open idle: what a NAT
    /// gateway's or a connection-tracking table's limits are about, at three packets each.
    Connections(ConnectionsSpec),
    /// Traffic replayed from VPC Flow Logs: one TCP connection per original 5-tuple, one
    /// request/response exchange per aggregation window (see `workload::flowlogs`).
    FlowLogs(FlowLogsSpec),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Connections", deny_unknown_fields)]
pub struct ConnectionsSpec {
    pub name: String,
    /// The client instances: a fleet name, or one instance.
    pub from: String,
    /// The server instance every connection goes to (one destination address and port).
    pub to: String,
    /// Connections each client opens (at most its ephemeral port range, 28 232).
    pub count: u32,
    /// All clients' connections are opened evenly over this time from the start.
    #[serde(default = "connections_over")]
    pub over: SimDuration,
    #[serde(default = "service_port")]
    pub port: u16,
}

fn connections_over() -> SimDuration {
    SimDuration::from_secs(1)
}

/// `FlowLogs((name: "traffic", file: "flows.log", interfaces: {"eni-0a1b": "web-0", "10.0.1.4": "web-0"}))`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "FlowLogs", deny_unknown_fields)]
pub struct FlowLogsSpec {
    pub name: String,
    /// Flow log records, plain or gzip; relative to the scenario file's folder (else to the
    /// working directory).
    pub file: String,
    /// Interface ids (`eni-...`) and private IPv4 addresses of the original VPC -> instance names.
    #[serde(default)]
    pub interfaces: BTreeMap<String, String>,
    /// The instance standing for every address outside `vpc_cidr` (reached through the
    /// IGW/NAT path the scenario routes); left out, such records are counted and skipped.
    #[serde(default)]
    pub internet: Option<String>,
    /// Divide the log's time offsets by this (60 = an hour replays in a minute).
    #[serde(default = "one_f64")]
    pub speedup: f64,
    /// Multiply every exchange's bytes by this.
    #[serde(default = "one_f64")]
    pub scale: f64,
    /// Records whose `start` falls in the same window of this many seconds are one exchange
    /// (the flow log's aggregation interval: 60 or 600).
    #[serde(default = "sixty")]
    pub window_s: u64,
    /// Limits on what the replay keeps in memory while streaming the file.
    #[serde(default = "flowlog_groups")]
    pub max_groups: u32,
    #[serde(default = "flowlog_exchanges")]
    pub max_exchanges: u32,
}

fn one_f64() -> f64 {
    1.0
}
fn sixty() -> u64 {
    60
}
fn flowlog_groups() -> u32 {
    10_000
}
fn flowlog_exchanges() -> u32 {
    200_000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "ServiceClients", deny_unknown_fields)]
pub struct ServiceClientsSpec {
    pub name: String,
    /// The client instances: a fleet name, or one instance.
    pub clients: String,
    pub service: String,
    /// Pause after each response before the next request.
    pub interval: SimDuration,
    /// A request unanswered this long: the client drops the connection and reconnects.
    pub timeout: SimDuration,
    #[serde(default = "small_message")]
    pub request: Bytes,
    #[serde(default = "small_message")]
    pub response: Bytes,
    #[serde(default = "service_port")]
    pub port: u16,
}

fn small_message() -> Bytes {
    Bytes(200)
}
fn service_port() -> u16 {
    443
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "LinkLocal", deny_unknown_fields)]
pub struct LinkLocalSpec {
    pub name: String,
    pub from: String,
    pub service: crate::ec2::adapter::LinkLocalService,
    pub mean_interval: SimDuration,
    #[serde(default = "query_size")]
    pub size: Bytes,
    #[serde(default)]
    pub count: Option<u64>,
}

fn query_size() -> Bytes {
    Bytes(64)
}

impl WorkloadSpec {
    pub fn name(&self) -> &str {
        match self {
            WorkloadSpec::Bulk(w) => &w.name,
            WorkloadSpec::Rpc(w) => &w.name,
            WorkloadSpec::Datagrams(w) => &w.name,
            WorkloadSpec::LinkLocal(w) => &w.name,
            WorkloadSpec::ServiceClients(w) => &w.name,
            WorkloadSpec::Connections(w) => &w.name,
            WorkloadSpec::FlowLogs(w) => &w.name,
            WorkloadSpec::Background(w) => &w.name,
            WorkloadSpec::Permutation(w) => &w.name,
            WorkloadSpec::PingPong(w) => &w.name,
            WorkloadSpec::AllReduce(w) | WorkloadSpec::AllToAll(w) => &w.name,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Bulk", deny_unknown_fields)]
pub struct BulkSpec {
    pub name: String,
    pub from: String,
    pub to: String,
    #[serde(default = "one")]
    pub flows: u32,
    /// Bytes per flow; absent = send until the end of the run.
    #[serde(default)]
    pub bytes: Option<Bytes>,
    #[serde(default)]
    pub start: SimDuration,
    /// Stop writing this long after `start`; the flow completes when what was written arrives.
    #[serde(default)]
    pub duration: Option<SimDuration>,
    #[serde(default = "bulk_port")]
    pub port: u16,
}
fn bulk_port() -> u16 {
    5201 // iperf3
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Rpc", deny_unknown_fields)]
pub struct RpcSpec {
    pub name: String,
    pub client: String,
    pub server: String,
    #[serde(default = "one")]
    pub connections: u32,
    pub arrival: Arrival,
    pub request: SizeDist,
    pub response: SizeDist,
    /// RPCs issued before this time are not measured (connection set-up, slow start).
    #[serde(default)]
    pub warmup: SimDuration,
    /// Stop issuing after this many RPCs.
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default = "rpc_port")]
    pub port: u16,
}
fn rpc_port() -> u16 {
    8080
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Arrival {
    /// Open loop: exponential inter-arrival times with this mean, across all connections.
    Poisson { mean_interval: SimDuration },
    /// Closed loop: this many RPCs outstanding per connection at all times.
    ClosedLoop { outstanding: u32 },
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum SizeDist {
    Fixed(Bytes),
    Uniform {
        min: Bytes,
        max: Bytes,
    },
    Exponential {
        mean: Bytes,
    },
    /// Web-search flow sizes of the DCTCP paper (Alizadeh et al., SIGCOMM 2010), heavy-tailed,
    /// mean about 1.6 MB.
    WebSearch,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Datagrams", deny_unknown_fields)]
pub struct DatagramSpec {
    pub name: String,
    pub from: String,
    pub to: String,
    pub size: Bytes,
    pub mean_interval: SimDuration,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default = "dgram_port")]
    pub port: u16,
    /// Set DF on every datagram (`IP_PMTUDISC_DO`): too big for a hop = dropped, not fragmented.
    /// Left clear, a datagram larger than the MTU is fragmented by the sender or a hop.
    #[serde(default)]
    pub dont_fragment: bool,
}
fn dgram_port() -> u16 {
    9000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Background", deny_unknown_fields)]
pub struct BackgroundSpec {
    pub name: String,
    /// Offered load as a fraction of the background hosts' link capacity (0 < load < 1).
    pub load: f64,
    #[serde(default = "websearch")]
    pub sizes: SizeDist,
    /// Flows at once; arrivals beyond this are counted and skipped (a limit, not a silent cap).
    #[serde(default = "bg_max")]
    pub max_concurrent: u32,
}
fn websearch() -> SizeDist {
    SizeDist::WebSearch
}
fn bg_max() -> u32 {
    10_000
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "Permutation", deny_unknown_fields)]
pub struct PermutationSpec {
    pub name: String,
    /// The fleet: the instance named so, or those named NAME-0, NAME-1 ... (`count`).
    pub instances: String,
    /// Flows each member sends, to as many distinct members.
    #[serde(default = "one")]
    pub flows_per_instance: u32,
    /// Bytes per flow; absent = send until the end of the run.
    #[serde(default)]
    pub bytes: Option<Bytes>,
    #[serde(default = "bulk_port")]
    pub port: u16,
}

/// How a ping-pong moves its messages.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub enum MessageTransport {
    /// Sockets over the kernel's TCP (over ENA, or ENA Express when it engages).
    #[default]
    Tcp,
    /// libfabric RDM over EFA: OS bypass, SRD in the card, unordered reliable datagrams;
    /// two-sided (the receiver posts a buffer and takes a completion).
    Efa,
    /// One-sided RDMA write over EFA: the data lands in the target's registered memory; the
    /// target's CPU only notices by polling that memory (no completion, no bounce-buffer copy).
    EfaRdmaWrite,
    /// One-sided RDMA read over EFA: a request goes to the target, whose card returns the data
    /// without involving the target's CPU; the initiator's latency is the whole operation.
    EfaRdmaRead,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "PingPong", deny_unknown_fields)]
pub struct PingPongSpec {
    pub name: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub transport: MessageTransport,
    /// Message sizes, each measured in turn (osu_latency sweeps 1 B to 4 MiB).
    pub sizes: Vec<Bytes>,
    /// Round trips measured per size, after `warmup` unmeasured ones.
    #[serde(default = "hundred")]
    pub iterations: u32,
    /// 1: osu_latency (the reply is the same message back). W > 1: osu_bw: W messages back to
    /// back, then a 4-byte reply; the result is the bandwidth of the window.
    #[serde(default = "one")]
    pub window: u32,
    #[serde(default = "ten")]
    pub warmup: u32,
    #[serde(default = "pingpong_port")]
    pub port: u16,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename = "AllReduce", deny_unknown_fields)]
pub struct AllReduceSpec {
    pub name: String,
    /// The fleet: the instances named so, or NAME-0, NAME-1 ... (the ring follows that order).
    pub instances: String,
    /// Bytes reduced per collective (the gradient buffer).
    pub bytes: Bytes,
    #[serde(default)]
    pub transport: MessageTransport,
    /// Collectives measured, after `warmup` unmeasured ones.
    #[serde(default = "five")]
    pub iterations: u32,
    #[serde(default = "one")]
    pub warmup: u32,
    #[serde(default = "allreduce_port")]
    pub port: u16,
    /// Ranks (GPUs) per instance, as NCCL sees the node. 1 (the default) is one rank per instance
    /// with every ring step a barrier; more runs NCCL's ring: ranks within an instance joined by
    /// NVLink, one ring per channel, each rank forwarding a step as soon as it has the data.
    #[serde(default = "one")]
    pub gpus_per_node: u32,
    /// NCCL channels (rings run side by side, each on its own network card); default: one per card.
    #[serde(default)]
    pub channels: Option<u32>,
    /// One GPU's NVLink bandwidth in each direction, shared by the channels through it. Default
    /// 450 GB/s: H100 SXM's NVLink 4 is 900 GB/s total, both directions (NVIDIA H100 datasheet).
    #[serde(default = "nvlink_default")]
    pub nvlink: Bandwidth,
    /// NCCL's cost of one ring step over NVLink with its Simple protocol. Default 3.4 us: NCCL's
    /// own tuning model, `hwLat[NVLINK][RING][SIMPLE]` in src/graph/tuning.cc.
    #[serde(default = "nvlink_step_default")]
    pub nvlink_step: SimDuration,
}

/// H100 SXM5 NVLink 4: 900 GB/s total (NVIDIA H100 Tensor Core GPU datasheet) = 450 GB/s each way.
fn nvlink_default() -> Bandwidth {
    Bandwidth::gbps(3600)
}
/// NCCL src/graph/tuning.cc: `hwLat[NCCL_HW_NVLINK][NCCL_ALGO_RING][NCCL_PROTO_SIMPLE] = 3.4` us.
fn nvlink_step_default() -> SimDuration {
    SimDuration::from_ns(3400)
}

fn five() -> u32 {
    5
}
fn allreduce_port() -> u16 {
    7100
}

fn hundred() -> u32 {
    100
}
fn pingpong_port() -> u16 {
    7000
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
