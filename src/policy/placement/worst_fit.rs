//! Worst-fit (least-loaded) placement: the host with the most free memory.
//!
//! The spreading heuristic: each new instance goes where the most memory is
//! left, which balances memory across hosts and leaves headroom everywhere
//! (the "least loaded" scheduler of load balancers, here loaded meaning
//! memory in use). The opposite of first-fit and best-fit, which pack.
//! Ties go to the lowest-numbered host; None if even the emptiest host
//! cannot take the instance. Accepted in scenario files as `worst-fit` or
//! `least-loaded`. O(log hosts): the maximum is the root of the host table's
//! free-memory tree, and a descent finds its lowest-numbered holder
//! ([`Hosts::most_free`]). No parameters.

use super::Ctx;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

#[derive(Clone, Copy, Debug, Default)]
pub struct WorstFit;

/// The host with the most free memory if it can take `need_mb`.
#[inline]
pub fn worst_fit(hosts: &Hosts, need_mb: u64) -> Option<HostId> {
    if hosts.max_free_mb() < need_mb {
        return None;
    }
    hosts.most_free()
}

impl Placement for WorstFit {
    #[inline]
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        worst_fit(hosts, need_mb)
    }
}

crate::policy::no_keys!(
    /// `[placement] kind = "worst-fit"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, _: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(WorstFit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_most_free_lowest_index_on_ties() {
        // Free: [500, 800, 300, 800].
        let mut h = Hosts::new(4, 1000);
        h.alloc(HostId(0), 500);
        h.alloc(HostId(1), 200);
        h.alloc(HostId(2), 700);
        h.alloc(HostId(3), 200);
        let mut p = WorstFit;
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 800), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 801), None);
        // Placing on host 1 makes host 3 the emptiest.
        h.alloc(HostId(1), 100);
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(3)));
        assert_eq!(WorstFit.place(&Hosts::new(0, 10), AppId(0), 0), None);
    }
}
