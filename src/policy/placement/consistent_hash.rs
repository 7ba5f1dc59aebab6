//! Consistent hashing with bounded loads: an app's home host, then a probe
//! sequence that skips hosts above a load bound.
//!
//! Apache OpenWhisk's `ShardingContainerPoolBalancer` sends every action to
//! a "home invoker" given by a hash of its name and, when that invoker has no
//! capacity, walks from it with a step size coprime to the number of
//! invokers (home, home + step, home + 2 step, ... modulo the count, which
//! visits every invoker once); the step is chosen by the same hash among the
//! numbers up to the invoker count that are coprime with it and with each
//! other (1 and the primes that do not divide the count). Instances of an
//! app therefore meet on the same few hosts, which is what makes code,
//! image and snapshot caches warm. Mirrokni, Thorup and Zadimoghaddam,
//! "Consistent Hashing with Bounded Loads" (SODA 2018) add a capacity:
//! no bin may hold more than ⌈(1 + ε) × the average⌉ balls, and a ball whose
//! first choice is at capacity moves on along its sequence, so a popular key
//! cannot overload its home; for any ε > 0 the search length depends on ε,
//! not on the number of bins (HAProxy's `hash-balance-factor` implements the
//! scheme, contributed by Vimeo). ε = 0.25 (a cap of 125% of the average) is
//! the default here.
//!
//! The exact rule, for an instance of app `a` needing `m` MB on `n` hosts
//! holding `T` instances in all:
//! 1. `hash = mix64(a)` (SplitMix64's finaliser of the app index);
//!    `home = hash % n`; `step = steps[hash % steps.len()]`, where `steps`
//!    lists 1 and the primes up to `n` that do not divide `n`, ascending (as
//!    OpenWhisk's `pairwiseCoprimeNumbersUntil`);
//! 2. the load cap is `cap = ⌈(1 + ε) (T + 1) / n⌉` (the average counts the
//!    new instance, as in the paper), computed in integers with ε in
//!    millionths;
//! 3. probe hosts `home + i × step (mod n)` for `i = 0 .. min(probes, n)`;
//!    the first with at least `m` MB free and fewer than `cap` instances is
//!    the answer;
//! 4. otherwise first-fit (the lowest-numbered host with `m` MB free,
//!    ignoring the cap), None if there is none.
//!
//! At most n / (1 + ε) hosts can be at the cap, so at least ε / (1 + ε) of
//! them (one in five for ε = 0.25) are below it; 32 probes that behaved like
//! independent draws would all miss with probability 0.8^32 < 0.1%.
//! Memory, not the cap, is what usually sends the search on. Cost:
//! O(probes) plus O(log hosts) in the fallback; the step list is built once
//! with a sieve in O(n log log n).
//!
//! Parameters:
//! - `epsilon`: the load slack ε >= 0 of Mirrokni et al.'s bound; default 0.25.
//!   Large values turn the bound off (pure home-host-then-probe, as
//!   OpenWhisk).
//! - `probes`: hosts of the sequence tried before the first-fit fallback;
//!   default 32; `0` is plain first-fit.
//!
//! The hash is of the app's index in the run's app table, not of its name:
//! apps keep their home hosts between runs of one scenario, but reordering
//! the apps of a scenario moves them.

use serde::{Deserialize, Serialize};

use super::Ctx;
use crate::cfg::{Check, Validate};
use crate::engine::rng::mix64;
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::policy::Build;

/// The default load slack: a cap of 125% of the average load.
pub const DEFAULT_EPSILON: f64 = 0.25;
/// Probes before the first-fit fallback.
pub const DEFAULT_PROBES: u32 = 32;

/// `[placement] kind = "consistent-hash"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Load slack: a host takes a new instance while it holds fewer than
    /// ⌈(1 + epsilon) (T + 1) / n⌉ (default 0.25).
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    /// Probes before the first-fit fallback (default 32).
    #[serde(default = "default_probes")]
    pub probes: u32,
}

fn default_epsilon() -> f64 {
    DEFAULT_EPSILON
}

fn default_probes() -> u32 {
    DEFAULT_PROBES
}

impl Default for Config {
    fn default() -> Self {
        Config {
            epsilon: DEFAULT_EPSILON,
            probes: DEFAULT_PROBES,
        }
    }
}

impl Validate for Config {
    fn validate(&self, c: &mut Check) {
        let e = self.epsilon;
        if !(e.is_finite() && e >= 0.0) {
            c.err(
                "epsilon",
                format!(
                    "epsilon must be a finite number >= 0 (the load slack, 0.25 by default), found {e}"
                ),
            );
        }
    }
}

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(ConsistentHash::new(ctx.hosts, self.epsilon, self.probes))
    }
}

#[derive(Clone, Debug)]
pub struct ConsistentHash {
    n: u32,
    steps: Vec<u32>,
    /// 1 + ε, in millionths.
    slack_ppm: u128,
    probes: u32,
}

/// 1 and the primes up to `n` that do not divide `n`, ascending: the
/// numbers up to `n` coprime with `n` and with each other (OpenWhisk's
/// `pairwiseCoprimeNumbersUntil`).
pub fn step_sizes(n: u32) -> Vec<u32> {
    let n = n as usize;
    let mut steps = vec![1u32];
    let mut composite = vec![false; n + 1];
    for p in 2..=n {
        if composite[p] {
            continue;
        }
        let mut q = p * p;
        while q <= n {
            composite[q] = true;
            q += p;
        }
        if !n.is_multiple_of(p) {
            steps.push(p as u32);
        }
    }
    steps
}

impl ConsistentHash {
    pub fn new(hosts: usize, epsilon: f64, probes: u32) -> Self {
        let n = hosts as u32;
        let eps_ppm = (epsilon * 1e6).round();
        let eps_ppm = if eps_ppm >= u64::MAX as f64 {
            u64::MAX
        } else {
            eps_ppm as u64
        };
        ConsistentHash {
            n,
            steps: step_sizes(n),
            slack_ppm: 1_000_000 + eps_ppm as u128,
            probes,
        }
    }

    /// The home host and step of `app`.
    pub fn home_and_step(&self, app: AppId) -> (HostId, u32) {
        let hash = mix64(app.0 as u64);
        let home = (hash % self.n.max(1) as u64) as u32;
        let step = self.steps[(hash % self.steps.len() as u64) as usize];
        (HostId(home), step)
    }

    /// Instances a host may hold after one more is placed among `total`.
    #[inline]
    fn cap(&self, total: u64) -> u64 {
        let num = self.slack_ppm.saturating_mul(total as u128 + 1);
        let den = 1_000_000u128 * self.n as u128;
        num.div_ceil(den).min(u64::MAX as u128) as u64
    }

    /// Steps 2 to 4 of the rule, from `home` by `step`.
    fn probe(&self, hosts: &Hosts, home: HostId, step: u32, need_mb: u64) -> Option<HostId> {
        let n = self.n as u64;
        let cap = self.cap(hosts.total_instances());
        let mut h = home.0 as u64;
        for _ in 0..self.probes.min(self.n) {
            let host = HostId(h as u32);
            if hosts.free_mb(host) >= need_mb && (hosts.instances(host) as u64) < cap {
                return Some(host);
            }
            h = (h + step as u64) % n;
        }
        hosts.first_free(need_mb)
    }
}

impl Placement for ConsistentHash {
    fn place(&mut self, hosts: &Hosts, app: AppId, need_mb: u64) -> Option<HostId> {
        if self.n == 0 {
            return None;
        }
        debug_assert_eq!(hosts.len(), self.n as usize);
        let (home, step) = self.home_and_step(app);
        self.probe(hosts, home, step, need_mb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_sizes_as_openwhisk() {
        assert_eq!(step_sizes(1), [1]);
        assert_eq!(step_sizes(2), [1]);
        assert_eq!(step_sizes(10), [1, 3, 7]);
        assert_eq!(step_sizes(12), [1, 5, 7, 11]);
        assert_eq!(step_sizes(13), [1, 2, 3, 5, 7, 11]);
        // Every step is coprime with n, so a probe sequence visits all hosts.
        let gcd = |mut a: u32, mut b: u32| {
            while b != 0 {
                (a, b) = (b, a % b);
            }
            a
        };
        for n in 1..200 {
            assert!(step_sizes(n).iter().all(|&s| gcd(s, n) == 1), "{n}");
        }
    }

    #[test]
    fn load_cap_by_hand() {
        let p = ConsistentHash::new(4, 0.25, 32);
        // (1.25 × 1) / 4 = 0.3125 -> 1; 1.25 × 8 / 4 = 2.5 -> 3;
        // 1.25 × 16 / 4 = 5 exactly -> 5.
        assert_eq!(p.cap(0), 1);
        assert_eq!(p.cap(7), 3);
        assert_eq!(p.cap(15), 5);
        assert_eq!(ConsistentHash::new(4, 0.0, 32).cap(7), 2);
        assert!(ConsistentHash::new(4, 1e300, 32).cap(7) > 1 << 40);
    }

    #[test]
    fn home_first_then_probe_sequence() {
        // 5 hosts of 1000 MB; home 1, step 2: sequence 1, 3, 0, 2, 4.
        let mut h = Hosts::new(5, 1000);
        let p = ConsistentHash::new(5, 0.25, 32);
        assert_eq!(p.probe(&h, HostId(1), 2, 100), Some(HostId(1)));
        // Home full: next in the sequence is 3, then 0.
        h.alloc(HostId(1), 950);
        assert_eq!(p.probe(&h, HostId(1), 2, 100), Some(HostId(3)));
        h.alloc(HostId(3), 950);
        assert_eq!(p.probe(&h, HostId(1), 2, 100), Some(HostId(0)));
        // Nothing fits 1001 MB.
        assert_eq!(p.probe(&h, HostId(1), 2, 1001), None);
    }

    #[test]
    fn skips_hosts_at_the_load_cap() {
        // 4 hosts, 6 instances on host 2 and 1 on host 0: T = 7, cap =
        // ⌈1.25 × 8 / 4⌉ = 3. Home 2 (at 6 >= 3) is skipped for host 3.
        let mut h = Hosts::new(4, 1000);
        for _ in 0..6 {
            h.alloc(HostId(2), 10);
        }
        h.alloc(HostId(0), 10);
        let p = ConsistentHash::new(4, 0.25, 32);
        assert_eq!(p.probe(&h, HostId(2), 1, 10), Some(HostId(3)));
        // With a huge epsilon the bound is off: home wins.
        let loose = ConsistentHash::new(4, 1e9, 32);
        assert_eq!(loose.probe(&h, HostId(2), 1, 10), Some(HostId(2)));
    }

    #[test]
    fn bounded_probes_then_first_fit() {
        // 7 hosts, home 3, step 1, two probes (3, 4), both full: first-fit
        // answers host 1 (host 0 is full too), not the next in sequence (5).
        let mut h = Hosts::new(7, 100);
        for x in [0, 3, 4] {
            h.alloc(HostId(x), 100);
        }
        let p = ConsistentHash::new(7, 0.25, 2);
        assert_eq!(p.probe(&h, HostId(3), 1, 50), Some(HostId(1)));
        // probes = 0 is first-fit.
        let ff = ConsistentHash::new(7, 0.25, 0);
        assert_eq!(ff.probe(&h, HostId(5), 1, 50), Some(HostId(1)));
        // The fallback ignores the cap: a single host with room is used
        // even when it is above it.
        let mut h = Hosts::new(2, 100);
        h.alloc(HostId(0), 100);
        for _ in 0..5 {
            h.alloc(HostId(1), 1);
        }
        assert_eq!(
            ConsistentHash::new(2, 0.0, 2).probe(&h, HostId(0), 1, 1),
            Some(HostId(1))
        );
    }

    #[test]
    fn an_app_stays_home_and_homes_are_pinned() {
        let mut p = ConsistentHash::new(10, 0.25, 32);
        let h = Hosts::new(10, 1000);
        // Pinned: a change here moves every app's home host.
        let homes: Vec<_> = (0..4).map(|a| p.home_and_step(AppId(a))).collect();
        assert_eq!(homes, PINNED);
        for a in 0..4 {
            assert_eq!(p.place(&h, AppId(a), 100), Some(homes[a as usize].0));
        }
        assert_eq!(p.place(&Hosts::new(10, 1000), AppId(0), 2000), None);
    }

    const PINNED: [(HostId, u32); 4] = [
        (HostId(5), 3),
        (HostId(5), 7),
        (HostId(0), 3),
        (HostId(3), 1),
    ];
}
