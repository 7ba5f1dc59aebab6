//! Power-of-two-choices placement: the emptier of two random hosts.
//!
//! Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing"
//! (IEEE TPDS 12(10), 2001): placing each ball in the less loaded of d = 2
//! bins drawn at random brings the fullest of n bins from about
//! log n / log log n (one random choice, see [`super::random`]) down to
//! log log n / log 2 + O(1), an exponential improvement for one extra probe.
//! Sparrow and many load balancers use it because it needs no global view.
//!
//! The exact rule: draw host `a = next_u64() % hosts`, then a different
//! host `b = (a + 1 + next_u64() % (hosts - 1)) % hosts` (with one host,
//! `b = a`); among those with enough free memory take the one with more
//! free memory, the lower-numbered on a tie. If neither fits, fall back to
//! worst-fit ([`super::worst_fit`]: the host with the most free memory, if it
//! fits), so the policy fails only when no host has room. O(1), plus
//! O(log hosts) in the fallback. No parameters; draws come from the stream
//! `("placement", "power-of-two")` of the run.

use super::Ctx;
use super::worst_fit::worst_fit;
use crate::engine::RngStream;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

#[derive(Clone, Debug)]
pub struct PowerOfTwo {
    rng: RngStream,
}

impl PowerOfTwo {
    pub fn new(rng: RngStream) -> Self {
        PowerOfTwo { rng }
    }

    /// The two hosts of the next decision among `n` > 0.
    #[inline]
    fn draw(&mut self, n: u64) -> (HostId, HostId) {
        let a = self.rng.next_u64() % n;
        let b = if n > 1 {
            (a + 1 + self.rng.next_u64() % (n - 1)) % n
        } else {
            a
        };
        (HostId(a as u32), HostId(b as u32))
    }
}

/// The better of hosts `a` and `b` for `need_mb`: more free memory wins,
/// then the lower number; None if neither fits.
#[inline]
fn choose(hosts: &Hosts, a: HostId, b: HostId, need_mb: u64) -> Option<HostId> {
    let (fa, fb) = (hosts.free_mb(a), hosts.free_mb(b));
    let best = if fa > fb || (fa == fb && a < b) { a } else { b };
    (hosts.free_mb(best) >= need_mb).then_some(best)
}

impl Placement for PowerOfTwo {
    #[inline]
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        let n = hosts.len() as u64;
        if n == 0 {
            return None;
        }
        let (a, b) = self.draw(n);
        choose(hosts, a, b, need_mb).or_else(|| worst_fit(hosts, need_mb))
    }
}

crate::policy::no_keys!(
    /// `[placement] kind = "power-of-two"`: no keys.
    Config
);

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(PowerOfTwo::new(
            ctx.streams.named("placement", "power-of-two"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emptier_of_two_then_lower_number() {
        // Free: [1000, 400, 700, 700].
        let mut h = Hosts::new(4, 1000);
        h.alloc(HostId(1), 600);
        h.alloc(HostId(2), 300);
        h.alloc(HostId(3), 300);
        assert_eq!(choose(&h, HostId(1), HostId(2), 100), Some(HostId(2)));
        assert_eq!(choose(&h, HostId(2), HostId(1), 100), Some(HostId(2)));
        assert_eq!(
            choose(&h, HostId(3), HostId(2), 100),
            Some(HostId(2)),
            "tie: lower number"
        );
        assert_eq!(choose(&h, HostId(1), HostId(0), 100), Some(HostId(0)));
        // Only the emptier one is ever a candidate: if it does not fit,
        // neither does the other.
        assert_eq!(choose(&h, HostId(1), HostId(2), 701), None);
        assert_eq!(choose(&h, HostId(1), HostId(1), 400), Some(HostId(1)));
    }

    #[test]
    fn draws_two_distinct_hosts_and_falls_back_to_worst_fit() {
        let mut p = PowerOfTwo::new(RngStream::from_seed_u64(5));
        for _ in 0..1000 {
            let (a, b) = p.draw(3);
            assert!(a < HostId(3) && b < HostId(3) && a != b);
        }
        assert_eq!(p.draw(1), (HostId(0), HostId(0)));
        // Only host 3 can take 900 MB: the two draws miss it unless one of
        // them is host 3, and the fallback finds it either way.
        let mut h = Hosts::new(4, 1000);
        for x in 0..3 {
            h.alloc(HostId(x), 200);
        }
        for _ in 0..50 {
            assert_eq!(p.place(&h, AppId(0), 900), Some(HostId(3)));
        }
        assert_eq!(p.place(&h, AppId(0), 1001), None);
        assert_eq!(p.place(&Hosts::new(0, 1), AppId(0), 0), None);
    }

    #[test]
    fn a_seeded_decision() {
        // Recompute the two draws of seed 9 by hand and check the choice.
        let mut r = RngStream::from_seed_u64(9);
        let a = r.next_u64() % 4;
        let b = (a + 1 + r.next_u64() % 3) % 4;
        let mut h = Hosts::new(4, 1000);
        // Host a nearly full, host b half full, the others empty: two
        // choices pick b for 300 MB (a lacks room), worst-fit would not.
        h.alloc(HostId(a as u32), 900);
        h.alloc(HostId(b as u32), 500);
        let mut p = PowerOfTwo::new(RngStream::from_seed_u64(9));
        assert_eq!(p.place(&h, AppId(0), 300), Some(HostId(b as u32)));
    }
}
