//! Statistics across replicates, for every place that summarises them: the
//! mean, the sample variance and standard deviation, the standard error of
//! the mean, Student's t quantiles, the two-sided 95% interval of the
//! report ([`Estimate`]) and the one-sided 95% upper bound of `coldsim
//! plan` ([`upper95`]).
//!
//! The formulas are written once here, in the order of operations the
//! report and the plan have always used, so their numbers do not move.

/// The arithmetic mean (NaN for no value).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The sample variance about `mean`, with n - 1 in the denominator (NaN
/// for fewer than two values).
pub fn sample_variance(xs: &[f64], mean: f64) -> f64 {
    xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0)
}

/// The sample standard deviation (n - 1); 0 for fewer than two values.
pub fn sample_sd(xs: &[f64], mean: f64) -> f64 {
    if xs.len() > 1 {
        sample_variance(xs, mean).sqrt()
    } else {
        0.0
    }
}

/// Mean and standard error of the mean, `sqrt(s^2 / n)`.
pub fn mean_se(xs: &[f64]) -> (f64, f64) {
    let m = mean(xs);
    (m, (sample_variance(xs, m) / xs.len() as f64).sqrt())
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (the
/// half-width factor of a two-sided 95% interval); tabulated to 30, then
/// interpolated in 1/df towards the normal 1.960.
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        // t(40) 2.021, t(60) 2.000, t(120) 1.980: 1.960 + 2.4/df is within
        // 0.002 of them.
        _ => 1.960 + 2.4 / df as f64,
    }
}

/// One-sided 95% quantile of Student's t with `df` degrees of freedom
/// (tabulated; between entries the smaller df is used, which is
/// conservative).
pub fn t95(df: u32) -> f64 {
    const T: [f64; 30] = [
        6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812, 1.796, 1.782, 1.771,
        1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706,
        1.703, 1.701, 1.699, 1.697,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df as usize - 1],
        31..=39 => 1.697,
        40..=59 => 1.684,
        60..=119 => 1.671,
        120..=999 => 1.658,
        _ => 1.645,
    }
}

/// The one-sided 95% upper confidence bound of the mean of `n` values with
/// sample standard deviation `sd`: `mean + t(0.95, n-1) sd / sqrt(n)`; the
/// mean itself for a single value.
pub fn upper95(mean: f64, sd: f64, n: usize) -> f64 {
    if n > 1 {
        mean + t95(n as u32 - 1) * sd / (n as f64).sqrt()
    } else {
        mean
    }
}

/// Mean and 95% interval half-width (Student t, n-1 degrees of freedom)
/// of a sample; the half-width is NaN for fewer than two values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    pub half: f64,
}

impl Estimate {
    pub fn of(xs: &[f64]) -> Estimate {
        let n = xs.len();
        if n == 0 {
            return Estimate {
                n,
                mean: f64::NAN,
                half: f64::NAN,
            };
        }
        let mean = mean(xs);
        if n < 2 {
            return Estimate {
                n,
                mean,
                half: f64::NAN,
            };
        }
        let var = sample_variance(xs, mean);
        Estimate {
            n,
            mean,
            half: t975(n - 1) * (var / n as f64).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_interval() {
        // Values 1..=5: mean 3, sd sqrt(2.5), t(4) 2.776.
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, 3.0);
        assert!((e.half - 2.776 * (2.5f64 / 5.0).sqrt()).abs() < 1e-12);
        assert!(Estimate::of(&[7.0]).half.is_nan());
        assert!((t975(40) - 2.021).abs() < 0.002);
        assert!((t975(120) - 1.980).abs() < 0.002);
    }

    #[test]
    fn one_sided_bound_and_standard_error() {
        assert_eq!(t95(4), 2.132);
        assert_eq!(t95(35), 1.697);
        assert_eq!(t95(5000), 1.645);
        let xs = [7.0, 9.0, 7.0, 9.0, 8.0];
        let m = mean(&xs);
        let sd = sample_sd(&xs, m);
        assert!((sd - 1.0).abs() < 1e-12);
        assert_eq!(upper95(m, sd, 5), m + 2.132 * sd / 5f64.sqrt());
        assert_eq!(upper95(3.0, 0.0, 1), 3.0);
        let (m, se) = mean_se(&xs);
        assert_eq!((m, se), (8.0, (1.0f64 / 5.0).sqrt()));
    }

    /// The same bits as the formulas the report and the plan used before
    /// they shared this module.
    #[test]
    fn numbers_do_not_move() {
        let samples: [&[f64]; 4] = [
            &[0.1, 0.7, 0.25],
            &[1e-3, 3.3e-3, 2.9e-3, 1.7e-3, 4.1e-3, 0.9e-3],
            &[12.5, 13.25, 11.0, 12.0],
            &[0.333, 0.334],
        ];
        for xs in samples {
            let n = xs.len();
            // report/study.rs before
            let mean0 = xs.iter().sum::<f64>() / n as f64;
            let var0 = xs.iter().map(|x| (x - mean0).powi(2)).sum::<f64>() / (n - 1) as f64;
            let half0 = t975(n - 1) * (var0 / n as f64).sqrt();
            let e = Estimate::of(xs);
            assert_eq!(
                (e.mean.to_bits(), e.half.to_bits()),
                (mean0.to_bits(), half0.to_bits())
            );
            // plan/mod.rs before
            let nf = n as f64;
            let mean1 = xs.iter().sum::<f64>() / nf;
            let sd1 = (xs.iter().map(|x| (x - mean1).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
            let upper1 = mean1 + t95(n as u32 - 1) * sd1 / nf.sqrt();
            let m = mean(xs);
            let sd = sample_sd(xs, m);
            assert_eq!(
                (m.to_bits(), sd.to_bits(), upper95(m, sd, n).to_bits()),
                (mean1.to_bits(), sd1.to_bits(), upper1.to_bits())
            );
        }
    }
}
