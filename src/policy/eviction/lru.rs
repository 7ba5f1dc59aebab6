//! Least-recently-used eviction: when a new instance needs memory, the idle
//! instance of the host that has been idle longest goes first.
//!
//! The classic cache policy and the baseline of FaasCache (Fuerst and
//! Sharma, ASPLOS'21), whose Greedy-Dual policy it is compared against. No
//! parameters: every instance gets the same priority, and the platform
//! breaks ties by the order in which instances went idle.

use super::Ctx;
use crate::model::AppId;
use crate::platform::decisions::Eviction;
use crate::policy::Build;
use crate::time::SimTime;

crate::policy::no_keys!(
    /// `[eviction] kind = "lru"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Eviction> for Config {
    fn build(&self, _: &Ctx<'_>) -> Box<dyn Eviction> {
        Box::new(Lru)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Lru;

impl Eviction for Lru {
    fn ranks(&self) -> bool {
        false
    }

    #[inline]
    fn priority(&mut self, _app: AppId, _now: SimTime) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instance_has_the_same_priority() {
        let mut l = Lru;
        assert_eq!(
            l.priority(AppId(0), SimTime(5)),
            l.priority(AppId(7), SimTime(9))
        );
    }
}
