//! No eviction for memory: a new instance that finds no room waits in the
//! queue until an instance ends on its own (its keep-alive runs out),
//! however many idle instances hold memory meanwhile. The setting of
//! simulators without memory pressure, and a baseline for the others. No
//! parameters.

use super::Ctx;
use super::lru::Lru;
use crate::platform::decisions::Eviction;
use crate::policy::Build;

crate::policy::no_keys!(
    /// `[eviction] kind = "none"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Eviction> for Config {
    /// The platform never asks it (eviction for memory is off); it ranks
    /// like LRU so that nothing depends on it.
    fn build(&self, _: &Ctx<'_>) -> Box<dyn Eviction> {
        Box::new(Lru)
    }
}
