//! `[billing]`: what the user pays and what the provider spends.
//!
//! The user's bill follows AWS Lambda's model: each attempt that ran is
//! billed its execution time rounded up to `granularity`, times the app's
//! memory in GB, at `gb_s_usd`, plus `request_usd` per attempt. The
//! provider's cost is host-hours powered on at `host_hour_usd` plus energy
//! from a linear power model (`idle_watts` to `peak_watts` with CPU
//! utilisation) at `kwh_usd`. The margin is the bill minus that cost.

use serde::{Deserialize, Serialize};

use crate::time::SimDuration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BillingCfg {
    /// Billed duration is rounded up to this: 1 ms as AWS Lambda since
    /// December 2020, 100 ms before, 1 s for some platforms.
    #[serde(default = "BillingCfg::default_granularity")]
    pub granularity: SimDuration,
    /// USD per GB-second: AWS Lambda x86, first pricing tier,
    /// 0.0000166667 (aws.amazon.com/lambda/pricing; unchanged since 2020,
    /// as of 2026).
    #[serde(default = "BillingCfg::default_gb_s")]
    pub gb_s_usd: f64,
    /// USD per request: AWS Lambda, 0.20 per million.
    #[serde(default = "BillingCfg::default_request")]
    pub request_usd: f64,
    /// The provider's cost of one host powered on for an hour. Default
    /// 0.384: EC2 m5.2xlarge (8 vCPU, 32 GiB) on demand, Linux, us-east-1,
    /// the size of the default host.
    #[serde(default = "BillingCfg::default_host_hour")]
    pub host_hour_usd: f64,
    /// Power of a host at 0% and 100% CPU; linear in between. Defaults 100
    /// W and 300 W, typical of two-socket servers in SPECpower_ssj2008
    /// results (an assumption; set your own).
    #[serde(default = "BillingCfg::default_idle_watts")]
    pub idle_watts: f64,
    #[serde(default = "BillingCfg::default_peak_watts")]
    pub peak_watts: f64,
    /// USD per kWh of that energy. Default 0: the host-hour price already
    /// includes power.
    #[serde(default)]
    pub kwh_usd: f64,
}

impl BillingCfg {
    fn default_granularity() -> SimDuration {
        SimDuration::from_millis(1)
    }
    fn default_gb_s() -> f64 {
        0.0000166667
    }
    fn default_request() -> f64 {
        0.20 / 1e6
    }
    fn default_host_hour() -> f64 {
        0.384
    }
    fn default_idle_watts() -> f64 {
        100.0
    }
    fn default_peak_watts() -> f64 {
        300.0
    }

    /// Checks what serde cannot; Err names the key.
    pub fn validate(&self) -> Result<(), (String, String)> {
        if self.granularity.is_zero() {
            return Err((
                "granularity".into(),
                "must be greater than zero (1ms bills each millisecond)".into(),
            ));
        }
        for (k, v) in [
            ("gb_s_usd", self.gb_s_usd),
            ("request_usd", self.request_usd),
            ("host_hour_usd", self.host_hour_usd),
            ("idle_watts", self.idle_watts),
            ("peak_watts", self.peak_watts),
            ("kwh_usd", self.kwh_usd),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err((k.into(), "expected a number >= 0".into()));
            }
        }
        if self.peak_watts < self.idle_watts {
            return Err(("peak_watts".into(), "must be at least idle_watts".into()));
        }
        Ok(())
    }

    /// `d` rounded up to the billing granularity.
    pub fn billed(&self, d: SimDuration) -> SimDuration {
        let g = self.granularity.as_nanos().max(1);
        SimDuration::from_nanos(d.as_nanos().div_ceil(g).saturating_mul(g))
    }
}

impl Default for BillingCfg {
    fn default() -> Self {
        BillingCfg {
            granularity: Self::default_granularity(),
            gb_s_usd: Self::default_gb_s(),
            request_usd: Self::default_request(),
            host_hour_usd: Self::default_host_hour(),
            idle_watts: Self::default_idle_watts(),
            peak_watts: Self::default_peak_watts(),
            kwh_usd: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_to_the_granularity() {
        let ms = SimDuration::from_millis;
        let mut b = BillingCfg::default();
        assert_eq!(b.billed(SimDuration::from_micros(1500)), ms(2));
        assert_eq!(b.billed(ms(3)), ms(3));
        b.granularity = ms(100);
        assert_eq!(b.billed(SimDuration::from_micros(1500)), ms(100));
        assert_eq!(b.billed(ms(101)), ms(200));
        b.granularity = SimDuration::from_secs(1);
        assert_eq!(b.billed(ms(1)), SimDuration::from_secs(1));
        assert_eq!(b.billed(SimDuration::ZERO), SimDuration::ZERO);
    }
}
