//! Random placement: a host drawn at random among those with room.
//!
//! The one-choice baseline of the balls-into-bins literature (Mitzenmacher,
//! "The Power of Two Choices in Randomized Load Balancing", IEEE TPDS 2001:
//! with one uniform choice the fullest of n bins holds about
//! log n / log log n balls, against log log n with two choices; see
//! [`super::power_of_two`]). It spreads instances with no memory of where
//! an app ran before.
//!
//! The exact rule, which never scans the hosts:
//! 1. draw a host uniformly (`next_u64() % hosts`) up to `tries` times; the
//!    first one with at least the needed memory free is the answer;
//! 2. otherwise draw one more uniform offset `r` and answer the first host
//!    with room at or after `r`, wrapping to the first host with room from
//!    host 0 (two O(log hosts) queries of the free-memory tree);
//! 3. None if no host has room.
//!
//! While at least a fraction f of the hosts has room, step 1 fails with
//! probability (1 - f)^tries (under 0.4% for f = 1/2 and 8 tries), so the
//! choice is uniform among the hosts with room except in that rare case,
//! where step 2 favours a host that follows a long run of full ones. Cost:
//! O(tries + log hosts).
//!
//! Parameters:
//! - `tries`: uniform draws before the fallback; default 8. `0` skips
//!   step 1 (always the fallback: the first fitting host after a random
//!   offset).
//!
//! Draws come from the stream `("placement", "random")` of the run, so a
//! run is reproducible from its seed.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::cfg::{Check, Validate};
use crate::engine::RngStream;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

/// The default number of uniform draws before the fallback.
pub const DEFAULT_TRIES: u32 = 8;

/// `[placement] kind = "random"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Uniform draws before the fallback (default 8).
    #[serde(default = "default_tries")]
    pub tries: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tries: DEFAULT_TRIES,
        }
    }
}

fn default_tries() -> u32 {
    DEFAULT_TRIES
}

impl Validate for Config {
    fn validate(&self, _: &mut Check) {}
}

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(Random::new(
            ctx.streams.named("placement", "random"),
            self.tries,
        ))
    }
}

#[derive(Clone, Debug)]
pub struct Random {
    rng: RngStream,
    tries: u32,
}

impl Random {
    pub fn new(rng: RngStream, tries: u32) -> Self {
        Random { rng, tries }
    }
}

impl Placement for Random {
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        let n = hosts.len() as u64;
        if n == 0 {
            return None;
        }
        for _ in 0..self.tries {
            let h = HostId((self.rng.next_u64() % n) as u32);
            if hosts.free_mb(h) >= need_mb {
                return Some(h);
            }
        }
        let start = HostId((self.rng.next_u64() % n) as u32);
        hosts
            .first_free_from(start, need_mb)
            .or_else(|| hosts.first_free(need_mb))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RngStream::from_seed_u64(7) draws hosts 1, 0, 2, 0, ... among 4 (each
    // next_u64() % 4); seed 3 draws 1, 0, 3, 3, ...

    #[test]
    fn takes_the_first_drawn_host_with_room() {
        let mut h = Hosts::new(4, 1000);
        let mut p = Random::new(RngStream::from_seed_u64(7), 8);
        assert_eq!(p.place(&h, AppId(0), 1), Some(HostId(1)));
        // Host 1 full: the second draw, host 0, answers.
        h.alloc(HostId(1), 1000);
        let mut p = Random::new(RngStream::from_seed_u64(7), 8);
        assert_eq!(p.place(&h, AppId(0), 1), Some(HostId(0)));
        // Hosts 1 and 0 full: the third draw, host 2.
        h.alloc(HostId(0), 1000);
        let mut p = Random::new(RngStream::from_seed_u64(7), 8);
        assert_eq!(p.place(&h, AppId(0), 1), Some(HostId(2)));
    }

    #[test]
    fn falls_back_after_the_offset_then_wraps() {
        // tries = 2 with seed 7: draws 1 and 0 miss (both full); the offset
        // is the third draw, 2, and host 2 is full too: the answer is the
        // first host with room at or after 2, host 3.
        let mut h = Hosts::new(4, 100);
        for x in [0, 1, 2] {
            h.alloc(HostId(x), 100);
        }
        let mut p = Random::new(RngStream::from_seed_u64(7), 2);
        assert_eq!(p.place(&h, AppId(0), 50), Some(HostId(3)));
        // tries = 0 with seed 3: offset 1; hosts 1, 2, 3 full, so the
        // search wraps to host 0.
        let mut h = Hosts::new(4, 100);
        for x in [1, 2, 3] {
            h.alloc(HostId(x), 100);
        }
        let mut p = Random::new(RngStream::from_seed_u64(3), 0);
        assert_eq!(p.place(&h, AppId(0), 50), Some(HostId(0)));
        // Only host 1 has room: found from any offset.
        let mut h = Hosts::new(4, 100);
        for x in [0, 2, 3] {
            h.alloc(HostId(x), 100);
        }
        for seed in 0..20 {
            let mut p = Random::new(RngStream::from_seed_u64(seed), 0);
            assert_eq!(p.place(&h, AppId(0), 50), Some(HostId(1)));
        }
    }

    #[test]
    fn none_when_nothing_fits_and_roughly_uniform() {
        let h = Hosts::new(3, 100);
        let mut p = Random::new(RngStream::from_seed_u64(1), 8);
        assert_eq!(p.place(&h, AppId(0), 101), None);
        let mut count = [0u32; 3];
        for _ in 0..3000 {
            count[(p.place(&h, AppId(0), 10).unwrap()).index()] += 1;
        }
        for c in count {
            assert!((900..1100).contains(&c), "{count:?}");
        }
        let mut p = Random::new(RngStream::from_seed_u64(1), 8);
        assert_eq!(p.place(&Hosts::new(0, 1), AppId(0), 0), None);
    }
}
