//! First-fit placement: the lowest-numbered host with enough free memory.
//!
//! The classic bin-packing heuristic, and the default of DSLab FaaS and of
//! most simulators that follow it. It packs instances onto the first hosts,
//! leaving later hosts empty (so they could be powered down) at the cost of
//! hot spots. Answered in O(log hosts) by the host table's segment tree. No
//! parameters.

use super::Ctx;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

#[derive(Clone, Copy, Debug, Default)]
pub struct FirstFit;

impl Placement for FirstFit {
    #[inline]
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        hosts.first_free(need_mb)
    }
}

crate::policy::no_keys!(
    /// `[placement] kind = "first-fit"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, _: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(FirstFit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_lowest_host_that_fits() {
        let mut h = Hosts::new(4, 1000);
        h.alloc(HostId(0), 900);
        h.alloc(HostId(1), 500);
        let mut p = FirstFit;
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(0)));
        assert_eq!(p.place(&h, AppId(0), 101), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 501), Some(HostId(2)));
        assert_eq!(p.place(&h, AppId(0), 1001), None);
    }
}
