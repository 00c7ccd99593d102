//! Embedded instance-type catalog.
//!
//! Values are from the Amazon EC2 instance types documentation ("Network specifications" tables:
//! <https://docs.aws.amazon.com/ec2/latest/instancetypes/> — general purpose `gp.html`, compute
//! optimized `co.html`, memory optimized `mo.html`, accelerated `ac.html`, HPC `hpc.html`) and the
//! ENA Express and EFA user-guide pages listing supported types. `bandwidth_mbps` is the documented
//! figure; for "up to" types it is the burst figure and `baseline_mbps` the baseline (credits come
//! with the allowances issue). ENI and IPv4-per-ENI limits are the per-type maxima.
//!
//! EFA RDMA: the EFA user guide says RDMA read works on every instance with Nitro v4 or later and
//! RDMA write on most of them. The column is marked conservatively: read on the EFA types of the
//! Intel 6th generation and later, Graviton3 and p4d (the first EFA type with RDMA read), write
//! only on p5 and trn1; older types (c5n) and those whose Nitro version is unconfirmed here (c6gn,
//! hpc6a) say `None`, so a scenario asking for more gets a validation error, not an invented
//! capability.

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceType {
    pub name: &'static str,
    pub vcpus: u32,
    /// Documented network bandwidth in Mbit/s ("up to" burst figure where applicable).
    pub bandwidth_mbps: u64,
    /// Baseline for burstable network performance; equal to `bandwidth_mbps` otherwise.
    pub baseline_mbps: u64,
    pub network_cards: u32,
    pub max_enis: u32,
    pub ipv4_per_eni: u32,
    pub ena_express: bool,
    pub efa: bool,
    /// One-sided operations EFA offers on this type.
    pub efa_rdma: EfaRdma,
}

/// RDMA operations an EFA device supports (besides two-sided send/receive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EfaRdma {
    None,
    Read,
    ReadWrite,
}

impl InstanceType {
    pub fn burstable(&self) -> bool {
        self.baseline_mbps < self.bandwidth_mbps
    }
}

#[allow(clippy::too_many_arguments)] // a table row constructor: one argument per column
const fn t(
    name: &'static str,
    vcpus: u32,
    bandwidth_mbps: u64,
    baseline_mbps: u64,
    network_cards: u32,
    max_enis: u32,
    ipv4_per_eni: u32,
    ena_express: bool,
    efa: bool,
    efa_rdma: EfaRdma,
) -> InstanceType {
    InstanceType {
        name,
        vcpus,
        bandwidth_mbps,
        baseline_mbps,
        network_cards,
        max_enis,
        ipv4_per_eni,
        ena_express,
        efa,
        efa_rdma,
    }
}

use EfaRdma::{None as NO, Read as RD, ReadWrite as RW};

#[rustfmt::skip]
pub const CATALOG: &[InstanceType] = &[
    //  name              vCPU  Mbps    base   cards ENIs IPs  ENA-X  EFA    RDMA
    t("t3.micro",          2,    5000, 64,      1,   2,   2,  false, false, NO),
    t("m5.large",          2,   10000, 750,     1,   3,  10,  false, false, NO),
    t("m5.xlarge",         4,   10000, 1250,    1,   4,  15,  false, false, NO),
    t("m5.24xlarge",      96,   25000, 25000,    1,  15,  50,  false, false, NO),
    t("c5.xlarge",         4,   10000, 1250,    1,   4,  15,  false, false, NO),
    t("c5n.large",         2,   25000, 3000,    1,   3,  10,  false, false, NO),
    t("c5n.9xlarge",      36,   50000, 50000,    1,   8,  30,  false, true,  NO),
    t("c5n.18xlarge",     72,  100000, 100000,    1,  15,  50,  false, true,  NO),
    t("m6i.large",         2,   12500, 781,     1,   3,  10,  false, false, NO),
    t("c6i.8xlarge",      32,   12500, 12500,    1,   8,  30,  false, false, NO),
    t("c6i.32xlarge",    128,   50000, 50000,    1,  15,  50,  true,  true,  RD),
    t("m6i.32xlarge",    128,   50000, 50000,    1,  15,  50,  true,  true,  RD),
    t("c6in.large",        2,   25000, 3125,    1,   3,  10,  false, false, NO),
    t("c6in.16xlarge",    64,  100000, 100000,    1,  15,  50,  true,  false, NO),
    t("c6in.32xlarge",   128,  200000, 200000,    2,  14,  50,  true,  true,  RD),
    t("m6in.32xlarge",   128,  200000, 200000,    2,  14,  50,  true,  true,  RD),
    t("c6gn.16xlarge",    64,  100000, 100000,    1,  15,  50,  true,  true,  NO),
    t("c7g.16xlarge",     64,   30000, 30000,    1,  15,  50,  true,  true,  RD),
    t("c7gn.16xlarge",    64,  200000, 200000,    1,  15,  50,  true,  true,  RD),
    t("c7i.48xlarge",    192,   50000, 50000,    1,  15,  50,  true,  true,  RD),
    t("m7i.48xlarge",    192,   50000, 50000,    1,  15,  50,  true,  true,  RD),
    t("r7i.48xlarge",    192,   50000, 50000,    1,  15,  50,  true,  true,  RD),
    t("hpc6a.48xlarge",   96,  100000, 100000,    1,   2,  50,  false, true,  NO),
    t("hpc7g.16xlarge",   64,  200000, 200000,    1,   2,  50,  true,  true,  RD),
    t("p4d.24xlarge",     96,  400000, 400000,    4,  60,  50,  false, true,  RD),
    t("trn1.32xlarge",   128,  800000, 800000,    8,  40,  50,  false, true,  RW),
    t("p5.48xlarge",     192, 3200000, 3200000,  32,  64,  50,  false, true,  RW),
];

pub fn lookup(name: &str) -> Option<&'static InstanceType> {
    CATALOG.iter().find(|t| t.name == name)
}

/// Closest catalog names to a misspelt one, for "did you mean" hints.
pub fn suggestions(name: &str) -> Vec<&'static str> {
    let family = name.split('.').next().unwrap_or(name);
    let mut v: Vec<&'static str> = CATALOG.iter().filter(|t| t.name.starts_with(family)).map(|t| t.name).collect();
    if v.is_empty() {
        v = CATALOG.iter().take(6).map(|t| t.name).collect();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sane() {
        assert!(CATALOG.len() >= 20);
        for t in CATALOG {
            assert!(t.vcpus > 0 && t.network_cards > 0 && t.max_enis >= 2, "{t:?}");
            assert!(t.baseline_mbps <= t.bandwidth_mbps, "{t:?}");
        }
        let names: std::collections::BTreeSet<_> = CATALOG.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), CATALOG.len(), "duplicate names");
        assert_eq!(lookup("p5.48xlarge").unwrap().network_cards, 32);
        assert!(!lookup("c5n.large").unwrap().efa);
        for t in CATALOG {
            assert!(t.efa || t.efa_rdma == EfaRdma::None, "RDMA without EFA: {t:?}");
        }
    }
}
