//! What a design costs in data transfer, from a price table with its Region and date
//! (`prices-us-east-1.ron`, embedded): inter-AZ traffic (charged on both sides), NAT gateway
//! processing (per GB, both directions, and per gateway-hour) and internet egress. The model
//! counts the bytes (IP packets as they cross); this module turns them into money.

use crate::units::round_to;
use serde::{Deserialize, Serialize};

/// Bytes in a billed "GB" (AWS bills binary gigabytes).
pub const BYTES_PER_GB: f64 = (1u64 << 30) as f64;

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename = "PriceTable", deny_unknown_fields)]
pub struct PriceTable {
    pub region: String,
    pub date: String,
    pub currency: String,
    pub inter_az_per_gb_each_direction: f64,
    pub nat_gateway_per_hour: f64,
    pub nat_gateway_per_gb_processed: f64,
    pub internet_egress_per_gb: f64,
}

const US_EAST_1: &str = include_str!("prices-us-east-1.ron");

impl PriceTable {
    pub fn us_east_1() -> PriceTable {
        ron::from_str(US_EAST_1).expect("the embedded price table parses (tested)")
    }
}

/// Bytes a run moved, by what they are charged as.
#[derive(Clone, Copy, Debug, Default)]
pub struct Traffic {
    pub inter_az_bytes: u64,
    pub nat_processed_bytes: u64,
    pub nat_gateways: u64,
    pub internet_egress_bytes: u64,
    pub seconds: f64,
}

/// The `cost` section of a variant in summary.json.
#[derive(Clone, Debug, Serialize)]
pub struct CostResult {
    pub region: String,
    pub price_date: String,
    pub currency: String,
    pub inter_az_gb: f64,
    pub inter_az_usd: f64,
    pub nat_processed_gb: f64,
    pub nat_processing_usd: f64,
    /// NAT gateway hours of the simulated time, charged per gateway.
    pub nat_hourly_usd: f64,
    pub internet_egress_gb: f64,
    pub internet_egress_usd: f64,
    pub total_usd: f64,
    /// The same traffic kept up for an hour (what the design costs at this load).
    pub total_usd_per_hour: f64,
}

impl PriceTable {
    pub fn cost(&self, t: &Traffic) -> CostResult {
        let gb = |b: u64| b as f64 / BYTES_PER_GB;
        // Inter-AZ: charged out of one AZ and into the other.
        let inter_az = gb(t.inter_az_bytes) * self.inter_az_per_gb_each_direction * 2.0;
        let nat = gb(t.nat_processed_bytes) * self.nat_gateway_per_gb_processed;
        let nat_hourly = t.nat_gateways as f64 * self.nat_gateway_per_hour * t.seconds / 3600.0;
        let egress = gb(t.internet_egress_bytes) * self.internet_egress_per_gb;
        let total = inter_az + nat + nat_hourly + egress;
        let per_hour = if t.seconds > 0.0 {
            (inter_az + nat + egress) * 3600.0 / t.seconds + t.nat_gateways as f64 * self.nat_gateway_per_hour
        } else {
            0.0
        };
        CostResult {
            region: self.region.clone(),
            price_date: self.date.clone(),
            currency: self.currency.clone(),
            inter_az_gb: round_to(gb(t.inter_az_bytes), 9),
            inter_az_usd: round_to(inter_az, 9),
            nat_processed_gb: round_to(gb(t.nat_processed_bytes), 9),
            nat_processing_usd: round_to(nat, 9),
            nat_hourly_usd: round_to(nat_hourly, 9),
            internet_egress_gb: round_to(gb(t.internet_egress_bytes), 9),
            internet_egress_usd: round_to(egress, 9),
            total_usd: round_to(total, 9),
            total_usd_per_hour: round_to(per_hour, 6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_parses_and_prices_one_gb_of_each() {
        let p = PriceTable::us_east_1();
        assert_eq!((p.region.as_str(), p.date.as_str()), ("us-east-1", "2026-11-30"));
        let gib = 1u64 << 30;
        let c = p.cost(&Traffic {
            inter_az_bytes: gib,
            nat_processed_bytes: gib,
            nat_gateways: 1,
            internet_egress_bytes: gib,
            seconds: 3600.0,
        });
        // 1 GB across AZs: $0.01 out + $0.01 in; NAT: $0.045/GB + one hour at $0.045; egress $0.09.
        assert_eq!(
            (c.inter_az_usd, c.nat_processing_usd, c.nat_hourly_usd, c.internet_egress_usd),
            (0.02, 0.045, 0.045, 0.09)
        );
        assert!((c.total_usd - 0.2).abs() < 1e-9);
        assert!((c.total_usd_per_hour - 0.2).abs() < 1e-9);
    }
}
