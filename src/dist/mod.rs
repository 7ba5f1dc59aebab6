//! Distributions: of durations (execution and cold-start times, gaps
//! between arrivals) and, in [`memory`], of memory sizes.
//!
//! A scenario names a distribution with a `dist` tag and gives its
//! parameters in human units; [`Dist::sampler`] compiles it into a
//! [`Sampler`] that draws whole nanoseconds from a seeded stream.

pub mod memory;

pub use memory::MemDist;

use rand_distr::{Distribution, Gamma, LogNormal, Weibull};
use serde::{Deserialize, Serialize};

use crate::engine::RngStream;
use crate::time::SimDuration;

/// A distribution of durations, as written in a scenario file: a table
/// tagged by `dist` (see [`crate::cfg`] for how an error inside it keeps
/// its key path, such as `functions[0].exec.shape`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Constant { value: SimDuration },
    /// Exponential with the given mean.
    Exponential { mean: SimDuration },
    /// Lognormal, given either by `mean` and `sd` of the duration itself, or
    /// by `median` (= e^mu) and the shape `sigma` of the underlying normal.
    Lognormal {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mean: Option<SimDuration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sd: Option<SimDuration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        median: Option<SimDuration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sigma: Option<f64>,
    },
    /// Gamma with shape `shape` (k) and the given mean (scale = mean / k).
    Gamma { shape: f64, mean: SimDuration },
    /// Uniform between `min` and `max`.
    Uniform { min: SimDuration, max: SimDuration },
    /// Weibull with shape `shape` (k) and scale `scale` (lambda):
    /// F(x) = 1 - exp(-(x / lambda)^k); mean lambda Γ(1 + 1/k). Shape < 1
    /// gives a heavier tail than the exponential (k = 1), shape > 1 a
    /// lighter one; used for heavy-tailed inter-arrival gaps of FaaS
    /// functions (renewal arrivals).
    Weibull { shape: f64, scale: SimDuration },
    /// Empirical percentiles: `p` (0..=100, strictly increasing, from 0 to
    /// 100) and the duration at each; sampled by a piecewise-linear inverse
    /// CDF, as the Azure 2019 trace's percentile columns are used.
    Empirical {
        p: Vec<f64>,
        values: Vec<SimDuration>,
    },
}

crate::cfg::tagged!(Dist, "dist", "distribution");

impl Dist {
    /// The Huawei Cloud cold-start fit (Joosen et al., EuroSys'25 data
    /// release): lognormal with mu 0.2965 and sigma 1.326 in seconds, that is
    /// mean 3.24 s and sd 7.10 s. coldsim's default init time.
    pub fn huawei_cold_start() -> Dist {
        Dist::Lognormal {
            mean: None,
            sd: None,
            // e^0.2965 s = 1.345 167 s.
            median: Some(SimDuration::from_nanos(1_345_167_000)),
            sigma: Some(1.326),
        }
    }

    /// Checks the parameters; `allow_zero` admits a distribution that is
    /// always zero (an instant init), never one for execution times.
    pub fn validate(&self, allow_zero: bool) -> Result<(), String> {
        let pos = |d: SimDuration, what: &str| -> Result<(), String> {
            if d.is_zero() {
                Err(format!("{what} must be greater than zero"))
            } else {
                Ok(())
            }
        };
        match self {
            Dist::Constant { value } => {
                if !allow_zero {
                    pos(*value, "value")?;
                }
            }
            Dist::Exponential { mean } => pos(*mean, "mean")?,
            Dist::Lognormal {
                mean,
                sd,
                median,
                sigma,
            } => match (mean, sd, median, sigma) {
                (Some(m), Some(_), None, None) => pos(*m, "mean")?,
                (None, None, Some(med), Some(s)) => {
                    pos(*med, "median")?;
                    if !(s.is_finite() && *s >= 0.0) {
                        return Err(format!("sigma must be a finite number >= 0, found {s}"));
                    }
                }
                _ => {
                    return Err(
                        "lognormal takes either mean and sd, or median and sigma".to_string()
                    );
                }
            },
            Dist::Gamma { shape, mean } => {
                if !(shape.is_finite() && *shape > 0.0) {
                    return Err(format!("shape must be a finite number > 0, found {shape}"));
                }
                pos(*mean, "mean")?;
            }
            Dist::Uniform { min, max } => {
                if min > max {
                    return Err(format!("min ({min}) is larger than max ({max})"));
                }
                pos(*max, "max")?;
            }
            Dist::Weibull { shape, scale } => {
                if !(shape.is_finite() && *shape > 0.0) {
                    return Err(format!("shape must be a finite number > 0, found {shape}"));
                }
                pos(*scale, "scale")?;
                // Γ(1 + 1/k) overflows a double for k below about 0.0058.
                if !weibull_mean_factor(*shape).is_finite() {
                    return Err(format!(
                        "shape {shape} is too small: the mean, scale x Γ(1 + 1/shape), is not finite"
                    ));
                }
            }
            Dist::Empirical { p, values } => {
                if p.len() != values.len() || p.len() < 2 {
                    return Err(format!(
                        "p and values must have the same length, at least 2 (found {} and {})",
                        p.len(),
                        values.len()
                    ));
                }
                if p[0] != 0.0 || p[p.len() - 1] != 100.0 {
                    return Err("p must start at 0 and end at 100".to_string());
                }
                if p.windows(2)
                    .any(|w| w[0] >= w[1] || w[0].is_nan() || w[1].is_nan())
                {
                    return Err("p must be strictly increasing".to_string());
                }
                if values.windows(2).any(|w| w[0] > w[1]) {
                    return Err("values must not decrease".to_string());
                }
                if !allow_zero {
                    pos(values[values.len() - 1], "the largest value")?;
                }
            }
        }
        Ok(())
    }

    /// The distribution's mean in seconds (exact, not estimated).
    pub fn mean_secs(&self) -> f64 {
        match self.sampler() {
            Ok(s) => s.mean_secs(),
            Err(_) => f64::NAN,
        }
    }

    /// Compiles a validated distribution into a sampler.
    pub fn sampler(&self) -> Result<Sampler, String> {
        Ok(match self {
            Dist::Constant { value } => Sampler::Constant(*value),
            Dist::Exponential { mean } => Sampler::Exponential(mean.as_secs_f64()),
            Dist::Lognormal {
                mean,
                sd,
                median,
                sigma,
            } => {
                let (mu, sigma) = match (mean, sd, median, sigma) {
                    (Some(m), Some(sd), _, _) => {
                        let m = m.as_secs_f64();
                        let v = sd.as_secs_f64().powi(2);
                        let s2 = (1.0 + v / (m * m)).ln();
                        (m.ln() - s2 / 2.0, s2.sqrt())
                    }
                    (_, _, Some(med), Some(s)) => (med.as_secs_f64().ln(), *s),
                    _ => {
                        return Err(
                            "lognormal takes either mean and sd, or median and sigma".into()
                        );
                    }
                };
                let d = LogNormal::new(mu, sigma).map_err(|e| e.to_string())?;
                Sampler::Lognormal { d, mu, sigma }
            }
            Dist::Gamma { shape, mean } => {
                let scale = mean.as_secs_f64() / shape;
                let d = Gamma::new(*shape, scale).map_err(|e| e.to_string())?;
                Sampler::Gamma {
                    d,
                    mean: mean.as_secs_f64(),
                }
            }
            Dist::Uniform { min, max } => Sampler::Uniform {
                min: min.as_secs_f64(),
                width: (max.as_nanos() - min.as_nanos()) as f64 / 1e9,
            },
            Dist::Weibull { shape, scale } => {
                let scale = scale.as_secs_f64();
                let d = Weibull::new(scale, *shape).map_err(|e| e.to_string())?;
                Sampler::Weibull {
                    d,
                    mean: scale * weibull_mean_factor(*shape),
                }
            }
            Dist::Empirical { p, values } => Sampler::Empirical {
                q: p.iter().map(|p| p / 100.0).collect(),
                v: values.iter().map(|v| v.as_secs_f64()).collect(),
            },
        })
    }
}

/// A compiled distribution, ready to draw from.
#[derive(Clone, Debug)]
pub enum Sampler {
    Constant(SimDuration),
    /// Mean in seconds.
    Exponential(f64),
    Lognormal {
        d: LogNormal<f64>,
        mu: f64,
        sigma: f64,
    },
    Gamma {
        d: Gamma<f64>,
        mean: f64,
    },
    Uniform {
        min: f64,
        width: f64,
    },
    /// Mean in seconds.
    Weibull {
        d: Weibull<f64>,
        mean: f64,
    },
    /// Cumulative probabilities in [0, 1] and the values at them, seconds.
    Empirical {
        q: Vec<f64>,
        v: Vec<f64>,
    },
}

impl Sampler {
    #[inline]
    pub fn sample(&self, rng: &mut RngStream) -> SimDuration {
        match self {
            Sampler::Constant(d) => *d,
            Sampler::Exponential(mean) => SimDuration::from_secs_f64(rng.exp(*mean)),
            Sampler::Lognormal { d, .. } => SimDuration::from_secs_f64(d.sample(rng)),
            Sampler::Gamma { d, .. } => SimDuration::from_secs_f64(d.sample(rng)),
            Sampler::Uniform { min, width } => {
                SimDuration::from_secs_f64(min + width * rng.uniform())
            }
            Sampler::Weibull { d, .. } => SimDuration::from_secs_f64(d.sample(rng)),
            Sampler::Empirical { q, v } => {
                SimDuration::from_secs_f64(inverse_cdf(q, v, rng.uniform()))
            }
        }
    }

    /// A draw in seconds, not rounded to whole nanoseconds (for callers
    /// that scale it first, such as renewal arrivals of a population). The
    /// same draws as [`Sampler::sample`] from the same stream.
    #[inline]
    pub fn sample_secs(&self, rng: &mut RngStream) -> f64 {
        match self {
            Sampler::Constant(d) => d.as_secs_f64(),
            Sampler::Exponential(mean) => rng.exp(*mean),
            Sampler::Lognormal { d, .. } => d.sample(rng),
            Sampler::Gamma { d, .. } => d.sample(rng),
            Sampler::Uniform { min, width } => min + width * rng.uniform(),
            Sampler::Weibull { d, .. } => d.sample(rng),
            Sampler::Empirical { q, v } => inverse_cdf(q, v, rng.uniform()),
        }
    }

    /// The exact mean in seconds.
    pub fn mean_secs(&self) -> f64 {
        match self {
            Sampler::Constant(d) => d.as_secs_f64(),
            Sampler::Exponential(m) => *m,
            Sampler::Lognormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Sampler::Gamma { mean, .. } => *mean,
            Sampler::Uniform { min, width } => min + width / 2.0,
            Sampler::Weibull { mean, .. } => *mean,
            Sampler::Empirical { q, v } => q
                .windows(2)
                .zip(v.windows(2))
                .map(|(q, v)| (q[1] - q[0]) * (v[0] + v[1]) / 2.0)
                .sum(),
        }
    }
}

/// Γ(1 + 1/k): the mean of a Weibull distribution of shape k and scale 1.
pub fn weibull_mean_factor(shape: f64) -> f64 {
    ln_gamma(1.0 + 1.0 / shape).exp()
}

/// The natural logarithm of the gamma function for x > 0, by the Lanczos
/// approximation (Lanczos, SIAM J. Numer. Anal. B 1, 1964) with Godfrey's
/// coefficients for g = 7 and 9 terms, and the reflection formula below
/// 1/2. Accurate to about 1e-15 (relative to max(1, |ln Γ|)). NaN for
/// x <= 0.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Γ(x) Γ(1 - x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Piecewise-linear inverse CDF through the points `(q[i], v[i])`.
#[inline]
pub fn inverse_cdf(q: &[f64], v: &[f64], u: f64) -> f64 {
    // First index whose cumulative probability is above u; a branch-free
    // count beats a binary search on the handful of points of a trace.
    let i = if q.len() <= 16 {
        q.iter().map(|&x| (x <= u) as usize).sum()
    } else {
        q.partition_point(|&x| x <= u)
    };
    if i == 0 {
        return v[0];
    }
    if i >= q.len() {
        return v[v.len() - 1];
    }
    let (q0, q1, v0, v1) = (q[i - 1], q[i], v[i - 1], v[i]);
    v0 + (v1 - v0) * (u - q0) / (q1 - q0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let s = d.sampler().unwrap();
        let mut r = RngStream::from_seed_u64(11);
        (0..n).map(|_| s.sample(&mut r).as_secs_f64()).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_exact_means() {
        let ms = SimDuration::from_millis;
        let cases = [
            Dist::Constant { value: ms(7) },
            Dist::Exponential { mean: ms(100) },
            Dist::Lognormal {
                mean: Some(ms(200)),
                sd: Some(ms(100)),
                median: None,
                sigma: None,
            },
            Dist::Gamma {
                shape: 2.0,
                mean: ms(50),
            },
            Dist::Uniform {
                min: ms(10),
                max: ms(30),
            },
            Dist::Empirical {
                p: vec![0.0, 50.0, 100.0],
                values: vec![ms(0), ms(100), ms(300)],
            },
            Dist::Weibull {
                shape: 1.5,
                scale: ms(80),
            },
        ];
        for d in &cases {
            d.validate(false).unwrap();
            let exact = d.mean_secs();
            let est = sample_mean(d, 200_000);
            assert!(
                (est - exact).abs() < 0.02 * exact,
                "{d:?}: {est} vs {exact}"
            );
        }
        // The empirical mean: 0.5*(0+0.1)/2 + 0.5*(0.1+0.3)/2 = 0.125 s.
        assert!((cases[5].mean_secs() - 0.125).abs() < 1e-12);
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        let pi = std::f64::consts::PI;
        let cases = [
            (0.5, pi.sqrt().ln()),
            (1.0, 0.0),
            (1.5, (pi.sqrt() / 2.0).ln()),
            (2.0, 0.0),
            (5.0, 24f64.ln()),
            (10.5, 1_133_278.388_948_785_3f64.ln()),
            (0.1, 9.513_507_698_668_732f64.ln()),
            (171.0, 706.573_062_245_787_4),
        ];
        for (x, want) in cases {
            let got = ln_gamma(x);
            assert!(
                (got - want).abs() < 1e-12 * want.abs().max(1.0),
                "ln_gamma({x}) = {got}, want {want}"
            );
        }
        assert!(ln_gamma(0.0).is_nan() && ln_gamma(-1.0).is_nan());
        // Weibull shape 1 is the exponential: mean = scale.
        assert!((weibull_mean_factor(1.0) - 1.0).abs() < 1e-14);
        // Shape 2 (Rayleigh): Γ(1.5) = sqrt(pi) / 2.
        assert!((weibull_mean_factor(2.0) - pi.sqrt() / 2.0).abs() < 1e-14);
    }

    #[test]
    fn sample_secs_draws_what_sample_draws() {
        let ms = SimDuration::from_millis;
        for d in [
            Dist::Exponential { mean: ms(3) },
            Dist::Weibull {
                shape: 0.7,
                scale: ms(5),
            },
            Dist::Gamma {
                shape: 0.5,
                mean: ms(2),
            },
        ] {
            let s = d.sampler().unwrap();
            let (mut a, mut b) = (RngStream::from_seed_u64(3), RngStream::from_seed_u64(3));
            for _ in 0..100 {
                assert_eq!(
                    s.sample(&mut a),
                    SimDuration::from_secs_f64(s.sample_secs(&mut b))
                );
            }
        }
    }

    #[test]
    fn huawei_default_has_published_mean() {
        // Published mean 3.24 s for mu 0.2965, sigma 1.326.
        let m = Dist::huawei_cold_start().mean_secs();
        assert!((m - 3.24).abs() < 0.01, "{m}");
    }

    #[test]
    fn validation_catches_bad_parameters() {
        let ms = SimDuration::from_millis;
        assert!(Dist::Constant { value: ms(0) }.validate(false).is_err());
        assert!(Dist::Constant { value: ms(0) }.validate(true).is_ok());
        assert!(
            Dist::Gamma {
                shape: -1.0,
                mean: ms(1)
            }
            .validate(false)
            .is_err()
        );
        assert!(
            Dist::Uniform {
                min: ms(3),
                max: ms(1)
            }
            .validate(false)
            .is_err()
        );
        let lognormal_mixed = Dist::Lognormal {
            mean: Some(ms(1)),
            sd: None,
            median: Some(ms(1)),
            sigma: None,
        };
        assert!(lognormal_mixed.validate(false).is_err());
        let empirical_bad = Dist::Empirical {
            p: vec![0.0, 60.0, 50.0, 100.0],
            values: vec![ms(1), ms(2), ms(3), ms(4)],
        };
        assert!(empirical_bad.validate(false).is_err());
        for (shape, scale) in [
            (0.0, ms(1)),
            (f64::NAN, ms(1)),
            (1.0, ms(0)),
            (0.001, ms(1)),
        ] {
            assert!(
                Dist::Weibull { shape, scale }.validate(false).is_err(),
                "{shape}"
            );
        }
        assert!(
            Dist::Weibull {
                shape: 0.3,
                scale: ms(1)
            }
            .validate(false)
            .is_ok()
        );
    }

    #[test]
    fn inverse_cdf_interpolates() {
        let q = [0.0, 0.5, 1.0];
        let v = [0.0, 1.0, 3.0];
        assert_eq!(inverse_cdf(&q, &v, 0.0), 0.0);
        assert_eq!(inverse_cdf(&q, &v, 0.25), 0.5);
        assert_eq!(inverse_cdf(&q, &v, 0.75), 2.0);
        assert_eq!(inverse_cdf(&q, &v, 0.999_999), 3.0 - 4e-6);
    }
}
