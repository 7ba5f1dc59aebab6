//! Best-fit placement: the host with the least free memory that still fits.
//!
//! The classic bin-packing heuristic (Johnson et al., "Worst-case
//! performance bounds for simple one-dimensional packing algorithms", SIAM
//! J. Computing 1974): fill the tightest gap, keeping large holes open for
//! large instances. Packs harder than first-fit when app sizes differ; like
//! first-fit it concentrates load. Ties go to the lowest-numbered host.
//! O(log hosts) from the host table's ordered `(free_mb, host)` index
//! ([`Hosts::best_fit`]). No parameters.

use super::Ctx;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

#[derive(Clone, Copy, Debug, Default)]
pub struct BestFit;

impl Placement for BestFit {
    #[inline]
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        hosts.best_fit(need_mb)
    }
}

crate::policy::no_keys!(
    /// `[placement] kind = "best-fit"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, _: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(BestFit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_tightest_fit_lowest_index_on_ties() {
        // Free: [1000, 300, 600, 300].
        let mut h = Hosts::new(4, 1000);
        h.alloc(HostId(1), 700);
        h.alloc(HostId(2), 400);
        h.alloc(HostId(3), 700);
        let mut p = BestFit;
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 300), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 301), Some(HostId(2)));
        assert_eq!(p.place(&h, AppId(0), 601), Some(HostId(0)));
        assert_eq!(p.place(&h, AppId(0), 1001), None);
        // Host 1 fills; host 3 is now the tightest 300 MB hole.
        h.alloc(HostId(1), 300);
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(3)));
    }
}
