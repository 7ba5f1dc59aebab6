//! Keep-alive: what happens to an instance that has just gone idle
//! (`[keepalive] kind = ...`): kept for a while, unloaded, or unloaded and
//! pre-warmed again later.

pub mod fixed_ttl;
pub mod hybrid_histogram;
pub mod predictive;
pub mod scale_to_zero;

use crate::platform::decisions::KeepAlive;

/// A keep-alive policy needs nothing from the run to be built.
pub struct Ctx;

crate::decision! {
    /// How long an idle instance is kept.
    pub enum KeepAliveCfg: "keep-alive" => dyn KeepAlive, Ctx;
    default = KeepAliveCfg::Fixed(fixed_ttl::Config::default());
    /// A fixed time after each execution (or after the first idle moment).
    "fixed" => Fixed(fixed_ttl::Config);
    /// Scale to zero: evict as soon as an execution ends.
    "none" => None(scale_to_zero::Config);
    /// The hybrid histogram policy of Shahrad et al. (ATC'20).
    "hybrid" => Hybrid(hybrid_histogram::Config);
    /// A pre-warmer driven by each app's recent arrival rate.
    "predictive" => Predictive(predictive::Config);
}

impl KeepAliveCfg {
    /// A fixed keep-alive of `ttl` after the end of every execution.
    pub fn fixed(ttl: crate::time::SimDuration) -> KeepAliveCfg {
        KeepAliveCfg::Fixed(fixed_ttl::Config {
            ttl,
            reset: fixed_ttl::TtlReset::EveryCompletion,
        })
    }
}
