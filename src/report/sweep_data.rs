//! What a sweep's report draws, as plain data: the grid's axes and one summary per (point,
//! variant, metric). `sweep` builds it from its own grid and statistics and hands it down, so
//! the report layer never reads the sweep's types (dependencies point down only).

use std::collections::BTreeMap;

/// The parameter grid as the report shows it.
#[derive(Clone, Debug, Default)]
pub struct SweepAxes {
    /// Identifies the sweep definition (scenario after overrides, grid, version).
    pub hash: String,
    /// Parameter paths; the first is the x axis.
    pub paths: Vec<String>,
    /// Each parameter's values, as written on the command line.
    pub values: Vec<Vec<String>>,
    /// Whether each parameter is geometric (plotted on a log axis).
    pub log_scale: Vec<bool>,
    pub points: usize,
    pub seeds: u32,
    pub runs_total: usize,
    /// Parameter values of each point, indexed by point.
    pub point_values: Vec<Vec<String>>,
}

impl SweepAxes {
    /// Parameter values of a point.
    pub fn point_values(&self, point: usize) -> &[String] {
        &self.point_values[point]
    }
}

/// One metric's summary across seeds at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointStats {
    pub n: usize,
    pub mean: f64,
    /// Half-width of the 95% confidence interval of the mean.
    pub ci95: f64,
}

/// (point, variant, metric) -> summary across seeds, in key order.
pub type SweepTable = BTreeMap<(usize, String, String), PointStats>;
