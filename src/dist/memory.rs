//! Distributions of memory sizes (MB), for workloads that draw an app's
//! memory rather than read it: the Azure 2021 trace, which has no memory
//! column, and synthetic populations.

use serde::{Deserialize, Serialize};

use crate::engine::RngStream;

/// A distribution of memory sizes in MB, a table tagged by `dist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MemDist {
    /// Always `mb`.
    Constant { mb: u64 },
    /// Uniform between `min_mb` and `max_mb`.
    Uniform { min_mb: u64, max_mb: u64 },
    /// Lognormal with the given mean and standard deviation in MB.
    Lognormal { mean_mb: f64, sd_mb: f64 },
    /// Burr type XII with shape parameters `c` and `k` and scale `lambda_mb`:
    /// F(x) = 1 - (1 + (x / lambda)^c)^(-k).
    Burr { c: f64, k: f64, lambda_mb: f64 },
}

crate::cfg::tagged!(MemDist, "dist", "memory distribution");

impl Default for MemDist {
    /// The Burr fit to Azure Functions app memory used by DSLab FaaS and
    /// "Serverless in the Wild" for the 2021 trace, which has no memory
    /// column: c 11.652, k 0.221, lambda 107.083 MB.
    fn default() -> Self {
        MemDist::Burr {
            c: 11.652,
            k: 0.221,
            lambda_mb: 107.083,
        }
    }
}

impl MemDist {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), String> {
        let pos = |x: f64, what: &str| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a finite number > 0, found {x}"))
            }
        };
        match self {
            MemDist::Constant { mb } => {
                if *mb == 0 {
                    return Err("mb must be greater than zero".into());
                }
            }
            MemDist::Uniform { min_mb, max_mb } => {
                if *min_mb == 0 || min_mb > max_mb {
                    return Err(format!(
                        "expected 0 < min_mb <= max_mb, found {min_mb} and {max_mb}"
                    ));
                }
            }
            MemDist::Lognormal { mean_mb, sd_mb } => {
                pos(*mean_mb, "mean_mb")?;
                if !(sd_mb.is_finite() && *sd_mb >= 0.0) {
                    return Err(format!("sd_mb must be a finite number >= 0, found {sd_mb}"));
                }
            }
            MemDist::Burr { c, k, lambda_mb } => {
                pos(*c, "c")?;
                pos(*k, "k")?;
                pos(*lambda_mb, "lambda_mb")?;
            }
        }
        Ok(())
    }

    /// Draws a size in whole MB (rounded up, at least 1).
    pub fn sample(&self, rng: &mut RngStream) -> u64 {
        let x = match self {
            MemDist::Constant { mb } => return *mb,
            MemDist::Uniform { min_mb, max_mb } => {
                return min_mb + rng.next_u64() % (max_mb - min_mb + 1);
            }
            MemDist::Lognormal { mean_mb, sd_mb } => {
                let s2 = (1.0 + (sd_mb / mean_mb).powi(2)).ln();
                let mu = mean_mb.ln() - s2 / 2.0;
                let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
                (mu + s2.sqrt() * z).exp()
            }
            MemDist::Burr { c, k, lambda_mb } => {
                // Inverse CDF: x = lambda ((1 - u)^(-1/k) - 1)^(1/c).
                let u = rng.uniform();
                lambda_mb * ((1.0 - u).powf(-1.0 / k) - 1.0).powf(1.0 / c)
            }
        };
        if x.is_finite() {
            (x.ceil() as u64).max(1)
        } else {
            u64::MAX
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burr_median_matches_closed_form() {
        // Median of Burr XII: lambda (2^(1/k) - 1)^(1/c).
        let d = MemDist::default();
        let MemDist::Burr { c, k, lambda_mb } = d else {
            unreachable!()
        };
        let median = lambda_mb * (2f64.powf(1.0 / k) - 1.0).powf(1.0 / c);
        let mut rng = RngStream::from_seed_u64(4);
        let mut v: Vec<u64> = (0..20_001).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let m = v[10_000] as f64;
        // Draws are rounded up to whole MB.
        assert!((m - median.ceil()).abs() <= 2.0, "{m} vs {median}");
    }

    #[test]
    fn uniform_and_constant_stay_in_range() {
        let mut rng = RngStream::from_seed_u64(5);
        let u = MemDist::Uniform {
            min_mb: 128,
            max_mb: 130,
        };
        for _ in 0..1000 {
            assert!((128..=130).contains(&u.sample(&mut rng)));
        }
        assert_eq!(MemDist::Constant { mb: 7 }.sample(&mut rng), 7);
        assert!(
            MemDist::Uniform {
                min_mb: 5,
                max_mb: 4
            }
            .validate()
            .is_err()
        );
        assert!(
            MemDist::Burr {
                c: 0.0,
                k: 1.0,
                lambda_mb: 1.0
            }
            .validate()
            .is_err()
        );
    }
}
