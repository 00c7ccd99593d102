//! Security-group connection tracking, as the EC2 user guide documents it ("Amazon EC2
//! security group connection tracking", read 2026-11-30) and the API's
//! `ConnectionTrackingSpecification` bounds it.
//!
//! - A flow is *untracked* when the security groups allow it both ways without state: TCP or
//!   UDP allowed from/to 0.0.0.0/0 in the direction it starts, and a rule in the other
//!   direction allowing all response traffic to/from 0.0.0.0/0 on all ports (see
//!   `Vpc::untracked`). ICMP is always tracked. Untracked flows take no table entry, so they
//!   do not count against the conntrack allowance.
//! - Connections made through some services are *automatically tracked* whatever the rules
//!   (the guide lists egress-only internet gateways, Gateway Load Balancers, Global
//!   Accelerator, NAT gateways, Network Firewall endpoints, Network Load Balancers,
//!   PrivateLink interface endpoints, transit gateway attachments and Lambda Hyperplane
//!   ENIs). Of these nitrosim models NAT gateways and transit gateway attachments: a
//!   connection whose route crosses one is tracked (`GatewayKind::tracks_connections`).
//! - A tracked entry that idles past its timeout is removed (its allowance freed); the next
//!   packet of that flow is evaluated like a new flow, so a group that would not allow it as
//!   new refuses it (`conntrack_expired`).
//!
//! - The timeouts belong to an ENI (the API sets `ConnectionTrackingSpecification` "on an
//!   Elastic network interface"): an entry times out by the timeouts of the ENI its connection
//!   uses; the table and its allowance are the instance's ("a maximum number of connections that
//!   can be tracked per instance").
//!
//! The number of entries an instance can track is not published per type: it stays a
//! scenario parameter (`conntrack_allowance`), not a catalog column.

use crate::units::SimDuration;

/// `TcpEstablishedTimeout`: default 432000 s (5 days), min 60 s, max 432000 s
/// (API reference, `ConnectionTrackingSpecification`, read 2026-11-30; newer SDK texts add that
/// Nitro v6 types default to 350 s: nitrosim keeps 432000 s and lets the scenario set 350).
pub const TCP_ESTABLISHED_TIMEOUT_S_DEFAULT: u32 = 432_000;
pub const TCP_ESTABLISHED_TIMEOUT_S_MIN: u32 = 60;
pub const TCP_ESTABLISHED_TIMEOUT_S_MAX: u32 = 432_000;
/// `UdpTimeout` (flows seen in one direction or one request-response): default 30 s, 30 to 60.
pub const UDP_TIMEOUT_S_DEFAULT: u32 = 30;
pub const UDP_TIMEOUT_S_MIN: u32 = 30;
pub const UDP_TIMEOUT_S_MAX: u32 = 60;
/// `UdpStreamTimeout` (UDP flows with more than one request-response): default 180 s, 60 to 180.
pub const UDP_STREAM_TIMEOUT_S_DEFAULT: u32 = 180;
pub const UDP_STREAM_TIMEOUT_S_MIN: u32 = 60;
pub const UDP_STREAM_TIMEOUT_S_MAX: u32 = 180;

/// A UDP flow becomes a stream after more than one request-response transaction: the
/// direction of its packets has turned at least this many times (out, in, out, in = 3).
pub const UDP_STREAM_TURNS: u8 = 3;

/// The idle timeouts of one ENI's tracked connections (the API's
/// `ConnectionTrackingSpecification`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp_established: SimDuration,
    pub udp: SimDuration,
    pub udp_stream: SimDuration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::from_secs(None, None, None)
    }
}

impl Timeouts {
    /// The scenario's settings in seconds; left out, AWS's defaults.
    pub fn from_secs(tcp_established: Option<u32>, udp: Option<u32>, udp_stream: Option<u32>) -> Self {
        let s = |v: Option<u32>, d: u32| SimDuration::from_secs(v.unwrap_or(d) as u64);
        Timeouts {
            tcp_established: s(tcp_established, TCP_ESTABLISHED_TIMEOUT_S_DEFAULT),
            udp: s(udp, UDP_TIMEOUT_S_DEFAULT),
            udp_stream: s(udp_stream, UDP_STREAM_TIMEOUT_S_DEFAULT),
        }
    }

    /// The timeout of an entry: TCP (every state: AWS makes only the established one
    /// configurable, and a simulated connection is established within an RTT), UDP by whether
    /// the flow has become a stream.
    pub fn of(&self, protocol: u8, turns: u8) -> SimDuration {
        match protocol {
            crate::ec2::vpc::PROTO_UDP if turns >= UDP_STREAM_TURNS => self.udp_stream,
            crate::ec2::vpc::PROTO_UDP => self.udp,
            _ => self.tcp_established,
        }
    }
}
