//! Regions as ENA Express's rules need them: which Region an Availability Zone ID belongs to, and
//! whether ENA Express crosses Availability Zones there. Data, not code: a row per Region.
//!
//! Source: EC2 User Guide, "Improve network performance between EC2 instances with ENA Express"
//! (<https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ena-express.html>, read 2026-11-30): "you
//! can communicate between two EC2 instances in the same Availability Zone or across
//! Availability Zones within the same Region", and "ENA Express support for traffic between
//! Availability Zones is not available in South America (São Paulo), Middle East (Bahrain), and
//! Middle East (UAE)". (Older versions of the page said the same subnet or AZ only.)
//!
//! Scenarios name zones by AZ ID (`use1-az1`), as AWS does for a zone's physical identity; the
//! Region is the ID's prefix. A prefix missing from the table is a Region of its own where the
//! general rule (cross-AZ allowed) applies.

/// One Region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
    /// AZ IDs in this Region start with this prefix and "-az".
    pub az_id_prefix: &'static str,
    /// ENA Express carries traffic between different Availability Zones of this Region.
    pub ena_express_cross_az: bool,
}

const fn r(code: &'static str, name: &'static str, az_id_prefix: &'static str, ena_express_cross_az: bool) -> Region {
    Region { code, name, az_id_prefix, ena_express_cross_az }
}

pub const REGIONS: &[Region] = &[
    r("us-east-1", "US East (N. Virginia)", "use1", true),
    r("us-east-2", "US East (Ohio)", "use2", true),
    r("us-west-1", "US West (N. California)", "usw1", true),
    r("us-west-2", "US West (Oregon)", "usw2", true),
    r("ca-central-1", "Canada (Central)", "cac1", true),
    r("eu-west-1", "Europe (Ireland)", "euw1", true),
    r("eu-west-2", "Europe (London)", "euw2", true),
    r("eu-west-3", "Europe (Paris)", "euw3", true),
    r("eu-central-1", "Europe (Frankfurt)", "euc1", true),
    r("eu-north-1", "Europe (Stockholm)", "eun1", true),
    r("eu-south-1", "Europe (Milan)", "eus1", true),
    r("ap-northeast-1", "Asia Pacific (Tokyo)", "apne1", true),
    r("ap-northeast-2", "Asia Pacific (Seoul)", "apne2", true),
    r("ap-northeast-3", "Asia Pacific (Osaka)", "apne3", true),
    r("ap-south-1", "Asia Pacific (Mumbai)", "aps1", true),
    r("ap-southeast-1", "Asia Pacific (Singapore)", "apse1", true),
    r("ap-southeast-2", "Asia Pacific (Sydney)", "apse2", true),
    r("ap-east-1", "Asia Pacific (Hong Kong)", "ape1", true),
    r("af-south-1", "Africa (Cape Town)", "afs1", true),
    // The guide's exceptions: ENA Express stays within one AZ here.
    r("sa-east-1", "South America (São Paulo)", "sae1", false),
    r("me-south-1", "Middle East (Bahrain)", "mes1", false),
    r("me-central-1", "Middle East (UAE)", "mec1", false),
];

/// The Region part of an AZ ID: `use1-az2` -> `use1` (a name without "-az" is its own Region).
pub fn region_prefix(az_id: &str) -> &str {
    az_id.rsplit_once("-az").map_or(az_id, |(p, _)| p)
}

/// The Region of an AZ ID, if the table knows it.
pub fn of_az(az_id: &str) -> Option<&'static Region> {
    let p = region_prefix(az_id);
    REGIONS.iter().find(|r| r.az_id_prefix == p)
}

/// Whether ENA Express crosses AZs in the Region of this AZ ID (the general rule where the table
/// has no row).
pub fn ena_express_cross_az(az_id: &str) -> bool {
    of_az(az_id).is_none_or(|r| r.ena_express_cross_az)
}

/// The Regions where ENA Express does not cross AZs, for messages.
pub fn ena_express_same_az_only() -> String {
    REGIONS.iter().filter(|r| !r.ena_express_cross_az).map(|r| r.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az_ids_map_to_their_region_and_its_rule() {
        assert_eq!(of_az("use1-az4").unwrap().code, "us-east-1");
        assert_eq!(region_prefix("apne1-az1"), "apne1");
        assert!(ena_express_cross_az("use1-az2"));
        assert!(!ena_express_cross_az("sae1-az1"));
        assert!(ena_express_cross_az("xx9-az1"), "unknown Regions follow the general rule");
        assert!(ena_express_same_az_only().contains("Bahrain"));
        let codes: std::collections::BTreeSet<_> = REGIONS.iter().map(|r| r.az_id_prefix).collect();
        assert_eq!(codes.len(), REGIONS.len(), "one row per Region");
    }
}
