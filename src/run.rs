//! Running a scenario: each variant is an independent simulation; variants run in parallel with
//! rayon and their results are collected in declaration order, so the output does not depend on
//! the number of threads.

use crate::model::VariantResult;
use crate::progress::Progress;
use crate::scenario::Variant;
use crate::scenario::build::build_with;
use crate::units::SimTime;
use rayon::prelude::*;

pub fn run_variants(variants: &[Variant], progress: &Progress) -> Result<Vec<VariantResult>, String> {
    run_variants_with(variants, progress, false)
}

/// As `run_variants`, recording packets at the scenarios' capture points when `capture` is set.
pub fn run_variants_with(
    variants: &[Variant],
    progress: &Progress,
    capture: bool,
) -> Result<Vec<VariantResult>, String> {
    variants
        .par_iter()
        .map(|v| {
            let model = build_with(&v.name, &v.spec, capture)?;
            let mut last_us = 0u64;
            let mut tick = |t: SimTime| {
                let us = (t.ps() / 1_000_000).min(v.spec.duration.ps() / 1_000_000);
                progress.advance_with(us.saturating_sub(last_us), crate::model::PROGRESS_EVERY_EVENTS);
                last_us = last_us.max(us);
            };
            model.run(&mut tick)
        })
        .collect()
}
