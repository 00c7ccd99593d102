//! ENA Express: when EC2 carries an instance's TCP (and optionally UDP) over SRD, and when it
//! silently does not. Source: EC2 User Guide, "Improve network performance with ENA Express".
//!
//! ENA Express engages between two ENIs only if both have it enabled, both instance types
//! support it, both are in one Region — the same Availability Zone, or different AZs where the
//! Region allows it (a Region fact, `ec2::region`; the current guide allows it everywhere but
//! São Paulo, Bahrain and the UAE) — and no middlebox sits on the path; UDP only when both ENIs
//! also enable it for UDP; and only for packets up to 8900 bytes. Anything else falls back to
//! plain ENA without a word: the driver's counters are the only sign. Across AZs the cross-AZ
//! path and its latency apply as for any traffic; the per-flow limit is still 25 Gbps ("up to
//! 25 Gbps within the same Region").

use crate::units::Bandwidth;
use std::fmt;

/// Largest packet ENA Express carries over SRD; bigger ones go over plain ENA.
pub const MAX_PACKET_BYTES: u32 = 8900;
/// Single-flow bandwidth with ENA Express (launch post: "up to 25 Gbps", vs 5 Gbps).
pub const FLOW_CAP: Bandwidth = Bandwidth::gbps(25);

/// One end of a would-be ENA Express pair.
#[derive(Clone, Copy, Debug)]
pub struct End {
    pub type_supports: bool,
    pub enabled: bool,
    pub udp_enabled: bool,
    pub az: u32,
    /// The AZ's Region (an index or a hash of its AZ ID prefix: compared by identity).
    pub region: u32,
    /// Whether ENA Express crosses AZs in that Region (`ec2::region`).
    pub region_cross_az: bool,
}

impl End {
    /// The location part of an end, from its AZ ID.
    pub fn located(az_id: &str) -> (u32, u32, bool) {
        let hash = |s: &str| crate::engine::rng::fnv1a(s.as_bytes()) as u32;
        (hash(az_id), hash(super::region::region_prefix(az_id)), super::region::ena_express_cross_az(az_id))
    }
}

/// Why ENA Express does not engage; `end` is 0 for the sender, 1 for the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotEngaged {
    TypeUnsupported {
        end: usize,
    },
    Disabled {
        end: usize,
    },
    /// Different Regions: ENA Express stays within one Region.
    DifferentRegion,
    /// Different AZs of a Region where ENA Express does not cross AZs.
    CrossAzNotInThisRegion,
    UdpDisabled {
        end: usize,
    },
    /// A gateway or middlebox sits between the instances.
    NotDirect,
}

impl fmt::Display for NotEngaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = |e: &usize| if *e == 0 { "sending" } else { "receiving" };
        match self {
            NotEngaged::TypeUnsupported { end } => {
                write!(f, "the {} instance's type does not support ENA Express", which(end))
            }
            NotEngaged::Disabled { end } => write!(f, "ENA Express is not enabled on the {} ENI", which(end)),
            NotEngaged::DifferentRegion => write!(f, "the instances are in different Regions"),
            NotEngaged::CrossAzNotInThisRegion => write!(
                f,
                "the instances are in different Availability Zones, and ENA Express does not cross AZs in their \
                 Region (not available in {})",
                super::region::ena_express_same_az_only()
            ),
            NotEngaged::UdpDisabled { end } => {
                write!(f, "UDP: ena_srd_udp_enabled is off on the {} ENI", which(end))
            }
            NotEngaged::NotDirect => write!(f, "the path crosses a gateway (ENA Express needs a direct path)"),
        }
    }
}

/// The conditions on the two ENIs (what `ena_srd_eligible_tx_pkts` counts), protocol aside.
pub fn eligible(ends: &[End; 2]) -> Result<(), NotEngaged> {
    for (end, e) in ends.iter().enumerate() {
        if !e.type_supports {
            return Err(NotEngaged::TypeUnsupported { end });
        }
        if !e.enabled {
            return Err(NotEngaged::Disabled { end });
        }
    }
    if ends[0].region != ends[1].region {
        return Err(NotEngaged::DifferentRegion);
    }
    if ends[0].az != ends[1].az && !(ends[0].region_cross_az && ends[1].region_cross_az) {
        return Err(NotEngaged::CrossAzNotInThisRegion);
    }
    Ok(())
}

/// Whether a flow of this protocol goes over SRD (packet size is checked per packet).
pub fn engages(ends: &[End; 2], udp: bool) -> Result<(), NotEngaged> {
    eligible(ends)?;
    if udp {
        for (end, e) in ends.iter().enumerate() {
            if !e.udp_enabled {
                return Err(NotEngaged::UdpDisabled { end });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_names_the_end_that_breaks_it() {
        let on =
            End { type_supports: true, enabled: true, udp_enabled: false, az: 0, region: 0, region_cross_az: true };
        assert_eq!(engages(&[on, on], false), Ok(()));
        assert_eq!(engages(&[on, on], true), Err(NotEngaged::UdpDisabled { end: 0 }));
        let off = End { enabled: false, ..on };
        assert_eq!(engages(&[on, off], false), Err(NotEngaged::Disabled { end: 1 }));
        let old = End { type_supports: false, ..on };
        assert_eq!(eligible(&[old, on]), Err(NotEngaged::TypeUnsupported { end: 0 }));
        assert_eq!(eligible(&[on, End { az: 1, ..on }]), Ok(()), "across AZs of one Region");
        let same_az_only = End { region_cross_az: false, ..on };
        assert_eq!(eligible(&[same_az_only, same_az_only]), Ok(()));
        assert_eq!(eligible(&[same_az_only, End { az: 1, ..same_az_only }]), Err(NotEngaged::CrossAzNotInThisRegion));
        assert_eq!(eligible(&[on, End { az: 1, region: 1, ..on }]), Err(NotEngaged::DifferentRegion));
        let (az, region, cross) = End::located("sae1-az2");
        assert_eq!((End::located("sae1-az1").1, cross), (region, false));
        assert_ne!(az, End::located("sae1-az1").0);
        assert!(NotEngaged::Disabled { end: 1 }.to_string().contains("receiving"));
    }
}
