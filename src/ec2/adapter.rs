//! Network adapter generations and the allowances the Nitro card enforces beyond bandwidth.
//!
//! - `vif`: no enhanced networking: every packet crosses the hypervisor (Xen netfront/netback),
//!   which adds latency and caps packets per second. `ethtool -i` shows driver `vif`.
//! - `ixgbevf`: an Intel 82599 virtual function (SR-IOV, the first enhanced networking): the
//!   hypervisor is out of the data path, up to 10 Gbps. Driver `ixgbevf`.
//! - `ena`: the Elastic Network Adapter on Nitro, up to 100 Gbps per card; ENA Express and EFA
//!   need it. Driver `ena`.
//!
//! AWS publishes the bandwidth figures (10 Gbps for the 82599 VF; ENA's per type) but not the
//! hypervisor path's costs: those are model parameters, of the order measured on pre-Nitro Xen
//! instances, documented here and settable per scenario.

use crate::units::{Bandwidth, SimDuration};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Adapter {
    #[default]
    Ena,
    Ixgbevf,
    Vif,
}

impl Adapter {
    /// What `ethtool -i eth0` reports as the driver.
    pub fn driver(self) -> &'static str {
        match self {
            Adapter::Ena => "ena",
            Adapter::Ixgbevf => "ixgbevf",
            Adapter::Vif => "vif",
        }
    }
    /// The adapter's own bandwidth ceiling, if below the instance type's.
    pub fn max_bandwidth(self) -> Option<Bandwidth> {
        match self {
            // Intel 82599: a 10 GbE controller.
            Adapter::Ixgbevf => Some(Bandwidth::gbps(10)),
            Adapter::Ena | Adapter::Vif => None,
        }
    }
}

impl TryFrom<String> for Adapter {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "ena" => Ok(Adapter::Ena),
            "ixgbevf" => Ok(Adapter::Ixgbevf),
            "vif" => Ok(Adapter::Vif),
            _ => Err(format!("unknown adapter {s:?}; write \"ena\", \"ixgbevf\" or \"vif\"")),
        }
    }
}

impl From<Adapter> for String {
    fn from(a: Adapter) -> String {
        a.driver().into()
    }
}

/// Hypervisor work per packet on the `vif` path, each direction (model parameter): 5 us caps an
/// instance near 200 000 packets per second each way.
pub const VIF_PER_PACKET: SimDuration = SimDuration::from_us(5);
/// Latency each hypervisor crossing adds (model parameter): sender and receiver each cross once,
/// so +30 us one way, +60 us on a round trip.
pub const VIF_DELAY: SimDuration = SimDuration::from_us(15);

/// How long a full network I/O credit balance sustains the burst rate on a burstable type when
/// the scenario does not say: AWS's "typically 5 to 60 minutes" (instance network bandwidth
/// page), its lower end.
pub const NETWORK_CREDIT_DURATION_DEFAULT: SimDuration = SimDuration::from_secs(300);

/// Packets per second each ENI may send to the link-local services (Amazon DNS resolver,
/// instance metadata, Time Sync): 1024 (EC2 user guide, "Monitor network performance for ENA
/// settings", linklocal_allowance_exceeded).
pub const LINKLOCAL_PPS: u64 = 1024;
/// Queue in front of the link-local allowance (model parameter): a few dozen queries' worth.
pub const LINKLOCAL_QUEUE_BYTES: u64 = 4096;
/// Time the service takes to take a query in (model parameter).
pub const LINKLOCAL_SERVICE_DELAY: SimDuration = SimDuration::from_us(20);

/// The link-local services an instance reaches without leaving its host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkLocalService {
    /// The Amazon DNS resolver, 169.254.169.253 port 53.
    Dns,
    /// Instance metadata, 169.254.169.254 port 80.
    Imds,
    /// Amazon Time Sync, 169.254.169.123 port 123.
    Ntp,
}

impl LinkLocalService {
    pub fn ip(self) -> u32 {
        match self {
            LinkLocalService::Dns => 0xA9FE_A9FD,
            LinkLocalService::Imds => 0xA9FE_A9FE,
            LinkLocalService::Ntp => 0xA9FE_A97B,
        }
    }
    pub fn port(self) -> u16 {
        match self {
            LinkLocalService::Dns => 53,
            LinkLocalService::Imds => 80,
            LinkLocalService::Ntp => 123,
        }
    }
}

/// Traffic through an internet gateway or to another Region: 50% of the instance's bandwidth
/// with 32 vCPUs or more, otherwise 5 Gbps (EC2 user guide, instance network bandwidth).
pub fn outside_vpc_bandwidth(vcpus: u32, instance: Bandwidth) -> Bandwidth {
    if vcpus >= 32 { Bandwidth(instance.bps() / 2) } else { instance.min(Bandwidth::gbps(5)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_bandwidth_rule() {
        assert_eq!(outside_vpc_bandwidth(64, Bandwidth::gbps(100)), Bandwidth::gbps(50));
        assert_eq!(outside_vpc_bandwidth(16, Bandwidth::gbps(25)), Bandwidth::gbps(5));
        assert_eq!(outside_vpc_bandwidth(2, Bandwidth::gbps(5)), Bandwidth::gbps(5));
    }
}
