//! `summary.json`: the versioned contract scripts rely on (documented in the README).

use crate::model::VariantResult;
use serde::Serialize;
use std::io::Write;

/// Bump when a field changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub nitrosim_version: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub variants: Vec<VariantResult>,
}

impl Summary {
    pub fn new(scenario: &str, seed: u64, variants: Vec<VariantResult>) -> Self {
        Summary {
            schema_version: SCHEMA_VERSION,
            nitrosim_version: env!("CARGO_PKG_VERSION"),
            scenario: scenario.into(),
            seed,
            variants,
        }
    }
}

pub fn write_json(w: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, s)?;
    w.write_all(b"\n")
}
