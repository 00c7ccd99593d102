//! Gateways and attachments a path can cross, with the largest packet each carries. Source:
//! EC2 user guide, "Network maximum transmission unit (MTU) for your EC2 instance" (9001 inside a
//! VPC and over intra-Region peering; 8500 over an inter-Region VPC peering connection and a
//! transit gateway; 1500 over an internet gateway, a VPN connection, and between Regions without
//! a transit gateway; 1300 inside a Wavelength Zone) and the Transit Gateway guide (8500).

use crate::units::SimDuration;
use serde::{Deserialize, Serialize};

/// Gateways send their ICMP from 100.64.0.1 and up (shared address space, RFC 6598), one address
/// per gateway in declaration order.
pub const GATEWAY_IP_BASE: u32 = 0x6440_0001;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GatewayKind {
    TransitGateway,
    InternetGateway,
    NatGateway,
    Vpn,
    /// Peering inside one Region.
    VpcPeering,
    InterRegionPeering,
    /// Traffic inside a Wavelength Zone over private addresses.
    Wavelength,
    /// A customer appliance (firewall, proxy) routed through: any MTU the scenario gives it.
    Middlebox,
}

impl GatewayKind {
    /// The largest IP packet the gateway carries (and its default MTU).
    pub fn max_mtu(self) -> u32 {
        match self {
            GatewayKind::TransitGateway | GatewayKind::InterRegionPeering => 8500,
            GatewayKind::InternetGateway | GatewayKind::NatGateway | GatewayKind::Vpn => 1500,
            GatewayKind::Wavelength => 1300,
            GatewayKind::VpcPeering | GatewayKind::Middlebox => crate::ec2::MTU_VPC_JUMBO,
        }
    }
    /// Latency a crossing adds: model parameters, not published figures (a managed gateway is a
    /// few tens of microseconds of extra processing and distance; an appliance instance a few).
    pub fn default_delay(self) -> SimDuration {
        match self {
            GatewayKind::Middlebox => SimDuration::from_us(10),
            GatewayKind::InterRegionPeering => SimDuration::from_ms(30),
            GatewayKind::Vpn | GatewayKind::InternetGateway | GatewayKind::NatGateway => SimDuration::from_us(100),
            _ => SimDuration::from_us(30),
        }
    }
    /// Traffic through it leaves the VPC for the internet or another Region, where the instance
    /// bandwidth rule for such traffic applies (EC2 user guide, instance network bandwidth).
    pub fn leaves_vpc(self) -> bool {
        matches!(self, GatewayKind::InternetGateway | GatewayKind::InterRegionPeering)
    }
    /// Connections through it are tracked whatever the security groups say (EC2 user guide,
    /// "Amazon EC2 security group connection tracking", automatically tracked connections, read
    /// 2026-11-30: among others NAT gateways and transit gateway attachments).
    pub fn tracks_connections(self) -> bool {
        matches!(self, GatewayKind::NatGateway | GatewayKind::TransitGateway)
    }
    pub fn label(self) -> &'static str {
        match self {
            GatewayKind::TransitGateway => "transit gateway",
            GatewayKind::InternetGateway => "internet gateway",
            GatewayKind::NatGateway => "NAT gateway",
            GatewayKind::Vpn => "VPN connection",
            GatewayKind::VpcPeering => "VPC peering",
            GatewayKind::InterRegionPeering => "inter-Region VPC peering",
            GatewayKind::Wavelength => "Wavelength Zone",
            GatewayKind::Middlebox => "middlebox",
        }
    }
}
