//! How a service address moves from a failed instance to its standby, and how long EC2 takes.
//!
//! - a **secondary ENI** carrying the service IP (with its MAC and security groups) is detached
//!   from the failed instance and attached to the standby in the same AZ; clients keep the IP;
//! - an **Elastic IP** is re-associated with the standby;
//! - a **DNS record** is changed to the standby's address; clients keep using the address they
//!   resolved until its TTL runs out.
//!
//! In the first two, the address moves: a client's next packet on an old connection reaches the
//! standby, which has no such socket and answers with a reset, so the client reconnects at once.
//! With DNS nothing answers the old address: clients wait for their own timeouts.
//!
//! Each step's delay is drawn per failover from a seeded uniform distribution between bounds:
//! cited where AWS publishes one, a stated model choice where it does not. Clients then differ by
//! their own timing: when their requests fall, when their timeouts fire, when their resolver's
//! cached answer expires.

use crate::units::SimDuration;

/// A service address: how clients reach the service, and so what failover changes.
#[derive(Clone, Copy, Debug, PartialEq)]
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
    pub fn failover_bounds(self) -> DelayBounds {
        match self {
            ServiceAddress::SecondaryEni => ENI_MOVE,
            ServiceAddress::ElasticIp => EIP_REMAP,
            ServiceAddress::Dns { .. } => DNS_PROPAGATION,
        }
    }
    /// The step's name in the summary's `failovers`.
    pub fn mechanism(self) -> &'static str {
        match self {
            ServiceAddress::SecondaryEni => "eni-move",
            ServiceAddress::ElasticIp => "eip-remap",
            ServiceAddress::Dns { .. } => "dns-propagation",
        }
    }
    /// The address itself moves (old connections then meet a reset at the standby).
    pub fn moves(self) -> bool {
        !matches!(self, ServiceAddress::Dns { .. })
    }
}

/// How long a step may take: drawn uniformly in `[min, max]` (integer picoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DelayBounds {
    pub min: SimDuration,
    pub max: SimDuration,
}

impl DelayBounds {
    pub fn draw(self, rng: &mut crate::engine::rng::StreamRng) -> SimDuration {
        use rand::RngExt;
        SimDuration(rng.random_range(self.min.ps()..=self.max.ps()))
    }
    pub fn mean(self) -> SimDuration {
        SimDuration(self.min.ps() / 2 + self.max.ps() / 2)
    }
}

impl std::fmt::Display for DelayBounds {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} to {}", self.min, self.max)
    }
}

/// Detaching a secondary ENI, and attaching one until the guest has the interface up. Model
/// choice: AWS publishes no figure; the API calls return in about a second and the OS then
/// configures the interface: 1 to 2 s each.
pub const ENI_DETACH: DelayBounds = DelayBounds { min: SimDuration::from_secs(1), max: SimDuration::from_secs(2) };
pub const ENI_ATTACH: DelayBounds = DelayBounds { min: SimDuration::from_secs(1), max: SimDuration::from_secs(2) };
/// Moving a secondary ENI: detach, then attach (each drawn).
pub const ENI_MOVE: DelayBounds = DelayBounds {
    min: SimDuration(ENI_DETACH.min.0 + ENI_ATTACH.min.0),
    max: SimDuration(ENI_DETACH.max.0 + ENI_ATTACH.max.0),
};
/// Re-associating an Elastic IP. Model choice (AWS publishes no figure): 1 to 3 s.
pub const EIP_REMAP: DelayBounds = DelayBounds { min: SimDuration::from_secs(1), max: SimDuration::from_secs(3) };
/// A Route 53 record change reaching all its authoritative servers: "within 60 seconds"
/// (Amazon Route 53 FAQ, "How quickly will changes I make to my DNS settings on Amazon Route 53
/// propagate globally?"): an upper bound, so the model draws uniformly in 0 to 60 s.
pub const DNS_PROPAGATION: DelayBounds = DelayBounds { min: SimDuration::ZERO, max: SimDuration::from_secs(60) };
