//! Fixed keep-alive: an idle instance lives `ttl`, measured either from the
//! end of each execution or from the first moment it went idle.
//!
//! This is the policy of the commercial platforms (AWS Lambda keeps idle
//! instances for roughly 10 minutes, Azure Functions used 20 minutes in 2019,
//! Huawei Cloud 1 minute; see design.md). Both semantics are in use in the
//! literature:
//!
//! * `reset = "every-completion"` (the default): the timer restarts at the
//!   end of every execution, so a steadily used instance lives forever. This
//!   is what the platforms document, and what the closed-form oracle
//!   P(cold) = exp(-l T) describes, so it is the default.
//! * `reset = "first-idle"`: the expiry is set once, `ttl` after the first
//!   moment the instance went idle, and later executions do not move it (the
//!   default of DSLab FaaS). Instances are then recycled even under steady
//!   use.
//!
//! `ttl = "0s"` evicts at once, so that every invocation is cold.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::cfg::{Check, Validate};
use crate::model::AppId;
use crate::platform::decisions::{IdleInstance, KeepAlive, KeepDecision};
use crate::policy::Build;
use crate::time::{SimDuration, SimTime};

/// When the keep-alive timer starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TtlReset {
    /// At the end of every execution.
    #[default]
    EveryCompletion,
    /// Once, when the instance first goes idle.
    FirstIdle,
}

/// `[keepalive] kind = "fixed"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How long an idle instance is kept. The default keep-alive (no
    /// `[keepalive]` table) is 10 minutes, the AWS-like keep-alive (Azure
    /// 2019 used 20 minutes, Huawei 1 minute; design.md); with `kind =
    /// "fixed"` it must be given.
    pub ttl: SimDuration,
    /// When the timer starts: `every-completion` (default) or `first-idle`.
    #[serde(default)]
    pub reset: TtlReset,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ttl: SimDuration::from_secs(600),
            reset: TtlReset::default(),
        }
    }
}

impl Validate for Config {
    fn validate(&self, _: &mut Check) {}
}

impl Build<Ctx, dyn KeepAlive> for Config {
    fn build(&self, _: &Ctx) -> Box<dyn KeepAlive> {
        Box::new(FixedTtl {
            ttl: self.ttl,
            reset: self.reset,
        })
    }
}

#[derive(Clone, Copy, Debug)]
pub struct FixedTtl {
    pub ttl: SimDuration,
    pub reset: TtlReset,
}

impl KeepAlive for FixedTtl {
    #[inline]
    fn on_idle(&mut self, _app: AppId, now: SimTime, inst: IdleInstance) -> KeepDecision {
        let from = match self.reset {
            TtlReset::EveryCompletion => now,
            TtlReset::FirstIdle => inst.first_idle,
        };
        let left = (from + self.ttl).since(now);
        if left.is_zero() {
            KeepDecision::Evict
        } else {
            KeepDecision::Keep(left)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(first_idle: u64) -> IdleInstance {
        IdleInstance {
            created: SimTime(0),
            first_idle: SimTime(first_idle),
        }
    }

    #[test]
    fn keeps_for_ttl_and_zero_evicts() {
        let mut k = FixedTtl {
            ttl: SimDuration(600),
            reset: TtlReset::EveryCompletion,
        };
        assert_eq!(
            k.on_idle(AppId(0), SimTime(500), inst(5)),
            KeepDecision::Keep(SimDuration(600))
        );
        let mut z = FixedTtl {
            ttl: SimDuration::ZERO,
            reset: TtlReset::EveryCompletion,
        };
        assert_eq!(
            z.on_idle(AppId(0), SimTime(5), inst(5)),
            KeepDecision::Evict
        );
    }

    #[test]
    fn first_idle_sets_the_expiry_once() {
        let mut k = FixedTtl {
            ttl: SimDuration(600),
            reset: TtlReset::FirstIdle,
        };
        // First idle at 100: expires at 700 whenever it is asked.
        assert_eq!(
            k.on_idle(AppId(0), SimTime(100), inst(100)),
            KeepDecision::Keep(SimDuration(600))
        );
        assert_eq!(
            k.on_idle(AppId(0), SimTime(650), inst(100)),
            KeepDecision::Keep(SimDuration(50))
        );
        assert_eq!(
            k.on_idle(AppId(0), SimTime(700), inst(100)),
            KeepDecision::Evict
        );
        assert_eq!(
            k.on_idle(AppId(0), SimTime(900), inst(100)),
            KeepDecision::Evict
        );
    }
}
