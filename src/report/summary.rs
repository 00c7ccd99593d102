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
    /// What the HTML report shows besides the results (the scenario, its check, baselines).
    #[serde(skip)]
    pub context: Option<super::ReportContext>,
}

impl Summary {
    pub fn new(scenario: &str, seed: u64, variants: Vec<VariantResult>) -> Self {
        Summary {
            schema_version: SCHEMA_VERSION,
            nitrosim_version: env!("CARGO_PKG_VERSION"),
            scenario: scenario.into(),
            seed,
            variants,
            context: None,
        }
    }

    pub fn with_context(self, context: super::ReportContext) -> Self {
        Summary { context: Some(context), ..self }
    }

    /// The index of the variant `i` is compared with: its `baseline`, else the first variant.
    pub fn baseline_of(&self, i: usize) -> usize {
        let name = &self.variants[i].name;
        self.context
            .as_ref()
            .and_then(|c| c.baselines.iter().find(|(v, _)| v == name))
            .and_then(|(_, b)| self.variants.iter().position(|v| v.name == *b))
            .unwrap_or(0)
    }
}

pub fn write_json(w: &mut dyn Write, s: &Summary) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, s)?;
    w.write_all(b"\n")
}
