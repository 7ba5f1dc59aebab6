//! No keep-alive: scale to zero the moment an execution ends.
//!
//! The limiting case that maximises cold starts and minimises idle memory;
//! the baseline every keep-alive study compares against (Shahrad et al.,
//! "Serverless in the Wild", ATC'20, Figure 14's "no keep-alive"). No
//! parameters.

use super::Ctx;
use crate::model::AppId;
use crate::platform::decisions::{IdleInstance, KeepAlive, KeepDecision};
use crate::policy::Build;
use crate::time::SimTime;

crate::policy::no_keys!(
    /// `[keepalive] kind = "none"`: no keys.
    Config
);

impl Build<Ctx, dyn KeepAlive> for Config {
    fn build(&self, _: &Ctx) -> Box<dyn KeepAlive> {
        Box::new(ScaleToZero)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ScaleToZero;

impl KeepAlive for ScaleToZero {
    #[inline]
    fn on_idle(&mut self, _app: AppId, _now: SimTime, _inst: IdleInstance) -> KeepDecision {
        KeepDecision::Evict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_evicts() {
        let inst = IdleInstance {
            created: SimTime(0),
            first_idle: SimTime(0),
        };
        assert_eq!(
            ScaleToZero.on_idle(AppId(3), SimTime(0), inst),
            KeepDecision::Evict
        );
    }
}
