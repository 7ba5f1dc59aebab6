//! Round-robin placement: the next host with room after the last one used.
//!
//! The default scheduling of many load balancers and the "round robin"
//! baseline of FaaS placement studies. A cursor starts at host 0; each
//! decision answers the first host with enough free memory at or after the
//! cursor, wrapping to the first host with room from host 0, and moves the
//! cursor just past the chosen host. Full hosts are skipped, so with equal
//! free memory everywhere the hosts are used in turn 0, 1, 2, ... Every
//! decision that returns a host advances the cursor (the platform starts an
//! instance on every host it is given). O(log hosts): two queries of the
//! host table's free-memory tree ([`Hosts::first_free_from`]), never a
//! walk over full hosts. No parameters.

use super::Ctx;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

#[derive(Clone, Copy, Debug, Default)]
pub struct RoundRobin {
    /// The host to try first.
    next: HostId,
}

impl Placement for RoundRobin {
    #[inline]
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        let h = hosts
            .first_free_from(self.next, need_mb)
            .or_else(|| hosts.first_free(need_mb))?;
        self.next = if h.index() + 1 >= hosts.len() {
            HostId(0)
        } else {
            HostId(h.0 + 1)
        };
        Some(h)
    }
}

crate::policy::no_keys!(
    /// `[placement] kind = "round-robin"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, _: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(RoundRobin::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_through_hosts_and_skips_full_ones() {
        let mut h = Hosts::new(4, 1000);
        let mut p = RoundRobin::default();
        let got: Vec<_> = (0..6)
            .map(|_| p.place(&h, AppId(0), 100).unwrap())
            .collect();
        assert_eq!(got, [0, 1, 2, 3, 0, 1].map(HostId));
        // Host 2 cannot take 600 MB any more: skipped.
        h.alloc(HostId(2), 500);
        assert_eq!(p.place(&h, AppId(0), 600), Some(HostId(3)));
        assert_eq!(p.place(&h, AppId(0), 600), Some(HostId(0)));
        assert_eq!(p.place(&h, AppId(0), 600), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 600), Some(HostId(3)));
        // A small instance still fits on host 2 when its turn comes.
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(0)));
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(1)));
        assert_eq!(p.place(&h, AppId(0), 100), Some(HostId(2)));
    }

    #[test]
    fn wraps_to_the_first_host_with_room_and_fails_when_none() {
        let mut h = Hosts::new(3, 100);
        h.alloc(HostId(1), 100);
        h.alloc(HostId(2), 100);
        let mut p = RoundRobin { next: HostId(1) };
        assert_eq!(p.place(&h, AppId(0), 50), Some(HostId(0)));
        assert_eq!(p.next, HostId(1));
        assert_eq!(p.place(&h, AppId(0), 101), None);
        assert_eq!(p.next, HostId(1), "a failed decision leaves the cursor");
    }
}
