//! Mean, standard deviation and a 95% confidence interval across seeds (Student's t).

/// Two-sided 97.5% quantiles of Student's t for 1..=30 degrees of freedom (any statistics table).
const T_975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/// Beyond 30 degrees of freedom the normal quantile is close enough.
const Z_975: f64 = 1.960;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (n - 1); 0 for a single value.
    pub sd: f64,
    /// Half-width of the 95% confidence interval of the mean; 0 for a single value.
    pub ci95: f64,
}

pub fn summarise(xs: &[f64]) -> Summary {
    let n = xs.len();
    if n == 0 {
        return Summary { n, mean: f64::NAN, sd: f64::NAN, ci95: f64::NAN };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Summary { n, mean, sd: 0.0, ci95: 0.0 };
    }
    let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let t = T_975.get(n - 2).copied().unwrap_or(Z_975);
    Summary { n, mean, sd, ci95: t * sd / (n as f64).sqrt() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_example() {
        let s = summarise(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.mean, 5.0);
        assert!((s.sd - 2.138).abs() < 1e-3);
        assert!((s.ci95 - 2.365 * 2.138 / 8f64.sqrt()).abs() < 1e-3);
        assert_eq!(summarise(&[3.0]).ci95, 0.0);
    }

    #[test]
    fn interval_narrows_with_more_samples() {
        let few: Vec<f64> = (0..5).map(|i| (i % 3) as f64).collect();
        let many: Vec<f64> = (0..50).map(|i| (i % 3) as f64).collect();
        assert!(summarise(&many).ci95 < summarise(&few).ci95 / 2.0);
    }
}
