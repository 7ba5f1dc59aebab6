//! Fixed keep-alive: an idle instance lives `ttl` after the end of each
//! execution, and the timer restarts whenever it serves again.
//!
//! This is the policy of the commercial platforms (AWS Lambda keeps idle
//! instances for roughly 10 minutes, Azure Functions used 20 minutes in 2019,
//! Huawei Cloud 1 minute; see design.md) and the one the closed-form oracle
//! P(cold) = exp(-l T) describes. Parameter: `ttl`, a duration; `0s` evicts
//! at once, so that every invocation is cold.

use super::{KeepAlive, KeepDecision};
use crate::time::{SimDuration, SimTime};

#[derive(Clone, Copy, Debug)]
pub struct FixedTtl {
    pub ttl: SimDuration,
}

impl KeepAlive for FixedTtl {
    #[inline]
    fn on_idle(&mut self, _app: u32, _now: SimTime) -> KeepDecision {
        if self.ttl.is_zero() {
            KeepDecision::Evict
        } else {
            KeepDecision::Keep(self.ttl)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_for_ttl_and_zero_evicts() {
        let mut k = FixedTtl {
            ttl: SimDuration::from_secs(600),
        };
        assert_eq!(
            k.on_idle(0, SimTime(5)),
            KeepDecision::Keep(SimDuration::from_secs(600))
        );
        let mut z = FixedTtl {
            ttl: SimDuration::ZERO,
        };
        assert_eq!(z.on_idle(0, SimTime(5)), KeepDecision::Evict);
    }
}
