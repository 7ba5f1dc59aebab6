//! A predictive pre-warmer driven by each app's recent arrival rate.
//!
//! The simple rate-based alternative to the hybrid histogram, in the spirit
//! of the forecasting pre-warmers of the FaaS literature (Shahrad et al.,
//! ATC'20, fall back to a forecast when histograms fail; Azure's and
//! Knative's autoscalers act on recent request rates). Per app it keeps an
//! exponentially weighted moving average (EWMA) of the gaps between
//! arrivals, that is, of 1 / rate. When an instance goes idle at `now`:
//!
//! * with fewer than `min_samples` gaps seen, keep it `ttl` (a fixed TTL);
//! * otherwise the next arrival is expected at `last arrival + EWMA`; let
//!   `r` be the time from now until then. If `r <= ttl`, keeping the
//!   instance is cheaper than reloading it: keep it until
//!   `r × (1 + margin)` (at least until `now`, and no longer than `ttl`).
//!   If `r > ttl`, unload it now and pre-warm a new one at
//!   `r × (1 − margin)`, kept for `2 × margin × r` (the window around the
//!   expected arrival).
//!
//! Parameters: `ttl` (default 10 minutes, the AWS-like keep-alive),
//! `weight` (EWMA weight of the newest gap, default 0.3), `margin`
//! (fraction, default 0.2), `min_samples` (gaps needed before predicting,
//! default 3).

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::cfg::{Check, Validate};
use crate::model::AppId;
use crate::platform::decisions::{IdleInstance, KeepAlive, KeepDecision};
use crate::policy::Build;
use crate::time::{SimDuration, SimTime};

/// `[keepalive] kind = "predictive"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "Config::default_ttl")]
    pub ttl: SimDuration,
    #[serde(default = "Config::default_weight")]
    pub weight: f64,
    #[serde(default = "Config::default_margin")]
    pub margin: f64,
    #[serde(default = "Config::default_min_samples")]
    pub min_samples: u32,
}

impl Validate for Config {
    fn validate(&self, c: &mut Check) {
        if let Err((key, msg)) = self.check() {
            c.err(&key, msg);
        }
    }
}

impl Build<Ctx, dyn KeepAlive> for Config {
    fn build(&self, _: &Ctx) -> Box<dyn KeepAlive> {
        Box::new(Predictive::new(self.clone()))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ttl: Self::default_ttl(),
            weight: Self::default_weight(),
            margin: Self::default_margin(),
            min_samples: Self::default_min_samples(),
        }
    }
}

impl Config {
    fn default_ttl() -> SimDuration {
        SimDuration::from_secs(600)
    }
    fn default_weight() -> f64 {
        0.3
    }
    fn default_margin() -> f64 {
        0.2
    }
    fn default_min_samples() -> u32 {
        3
    }

    /// Checks what serde cannot; Err(key under `keepalive.`, message).
    fn check(&self) -> Result<(), (String, String)> {
        if !(self.weight > 0.0 && self.weight <= 1.0) {
            return Err((
                "weight".into(),
                format!("expected a number in (0, 1], found {}", self.weight),
            ));
        }
        if !(self.margin >= 0.0 && self.margin < 1.0) {
            return Err((
                "margin".into(),
                format!("expected a number in [0, 1), found {}", self.margin),
            ));
        }
        if self.min_samples == 0 {
            return Err(("min_samples".into(), "expected at least 1".into()));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct AppRate {
    last_arrival: Option<SimTime>,
    /// EWMA of the gaps, ns.
    gap_ns: f64,
    gaps: u32,
}

/// The policy. See the module doc.
#[derive(Clone, Debug)]
pub struct Predictive {
    cfg: Config,
    apps: Vec<AppRate>,
}

impl Predictive {
    pub fn new(cfg: Config) -> Self {
        Predictive {
            cfg,
            apps: Vec::new(),
        }
    }

    fn app(&mut self, app: AppId) -> &mut AppRate {
        let i = app.index();
        if i >= self.apps.len() {
            self.apps.resize(i + 1, AppRate::default());
        }
        &mut self.apps[i]
    }
}

impl KeepAlive for Predictive {
    fn learns_from_arrivals(&self) -> bool {
        true
    }

    fn on_arrival(&mut self, app: AppId, now: SimTime) {
        let w = self.cfg.weight;
        let a = self.app(app);
        if let Some(last) = a.last_arrival {
            let gap = now.since(last).as_nanos() as f64;
            a.gap_ns = if a.gaps == 0 {
                gap
            } else {
                w * gap + (1.0 - w) * a.gap_ns
            };
            a.gaps = a.gaps.saturating_add(1);
        }
        a.last_arrival = Some(now);
    }

    fn on_idle(&mut self, app: AppId, now: SimTime, _inst: IdleInstance) -> KeepDecision {
        let (ttl, margin, min) = (self.cfg.ttl, self.cfg.margin, self.cfg.min_samples);
        let a = *self.app(app);
        let Some(last) = a.last_arrival.filter(|_| a.gaps >= min) else {
            return keep(ttl);
        };
        let expected = last.0 as f64 + a.gap_ns;
        let r = (expected - now.0 as f64).max(0.0);
        if r <= ttl.as_nanos() as f64 {
            let k = SimDuration::from_nanos((r * (1.0 + margin)) as u64).min(ttl);
            keep(k.max(SimDuration::from_nanos(1)))
        } else {
            KeepDecision::Prewarm {
                after: SimDuration::from_nanos((r * (1.0 - margin)) as u64),
                keep: SimDuration::from_nanos((2.0 * margin * r) as u64)
                    .max(SimDuration::from_nanos(1)),
            }
        }
    }
}

fn keep(d: SimDuration) -> KeepDecision {
    if d.is_zero() {
        KeepDecision::Evict
    } else {
        KeepDecision::Keep(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn inst() -> IdleInstance {
        IdleInstance {
            created: SimTime(0),
            first_idle: SimTime(0),
        }
    }

    #[test]
    fn falls_back_to_the_ttl_until_it_has_seen_enough_gaps() {
        let mut p = Predictive::new(Config::default());
        p.on_arrival(AppId(0), SimTime(0));
        p.on_arrival(AppId(0), SimTime(60 * S));
        assert_eq!(
            p.on_idle(AppId(0), SimTime(61 * S), inst()),
            KeepDecision::Keep(SimDuration::from_secs(600))
        );
    }

    #[test]
    fn short_gaps_keep_until_just_after_the_expected_arrival() {
        let mut p = Predictive::new(Config::default());
        // Gaps of 60 s: EWMA 60 s; the last arrival at 180 s, idle at 181 s.
        for k in 0..4 {
            p.on_arrival(AppId(0), SimTime(k * 60 * S));
        }
        // Expected at 240 s, 59 s from now: keep 59 × 1.2 = 70.8 s.
        assert_eq!(
            p.on_idle(AppId(0), SimTime(181 * S), inst()),
            KeepDecision::Keep(SimDuration::from_millis(70_800))
        );
    }

    #[test]
    fn long_gaps_unload_and_prewarm_around_the_expected_arrival() {
        let mut p = Predictive::new(Config::default());
        // Gaps of 1 h.
        for k in 0..4 {
            p.on_arrival(AppId(3), SimTime(k * 3600 * S));
        }
        // Last arrival at 3 h; idle at 3 h + 10 s: expected in 3590 s.
        let d = p.on_idle(AppId(3), SimTime((3 * 3600 + 10) * S), inst());
        assert_eq!(
            d,
            KeepDecision::Prewarm {
                after: SimDuration::from_secs(2872),
                keep: SimDuration::from_secs(1436),
            }
        );
    }

    #[test]
    fn the_average_follows_a_rate_change() {
        let mut p = Predictive::new(Config {
            weight: 0.5,
            ..Config::default()
        });
        let mut t = 0;
        for _ in 0..4 {
            t += 100;
            p.on_arrival(AppId(0), SimTime(t * S));
        }
        // Gaps become 10 s: the average halves its distance each time.
        for _ in 0..3 {
            t += 10;
            p.on_arrival(AppId(0), SimTime(t * S));
        }
        // 100 -> 55 -> 32.5 -> 21.25 s.
        assert!((p.apps[0].gap_ns / S as f64 - 21.25).abs() < 1e-9);
        assert!(
            Config {
                weight: 0.0,
                ..Config::default()
            }
            .check()
            .is_err()
        );
        assert!(
            Config {
                margin: 1.0,
                ..Config::default()
            }
            .check()
            .is_err()
        );
    }
}
