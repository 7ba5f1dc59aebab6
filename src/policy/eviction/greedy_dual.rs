//! Greedy-Dual keep-alive eviction: Fuerst and Sharma, "FaasCache: Keeping
//! Serverless Computing Alive with Greedy-Dual Caching" (ASPLOS'21).
//!
//! Keeping instances alive is caching: an idle instance is a cached object
//! of the app's size whose miss costs a cold start. When a new instance
//! needs memory, the idle instance with the lowest priority goes first
//! (ties: the one idle longest), where
//!
//! ```text
//! priority = clock + frequency x cost / size
//! ```
//!
//! * `frequency`: invocations of the app started so far in the run, warm
//!   or cold ([`Eviction::on_use`]);
//! * `cost`: the app's cold-start cost, the mean of its init distribution
//!   in seconds;
//! * `size`: the app's instance memory in MB;
//! * `clock`: starts at 0; after a pressure eviction it becomes the
//!   evicted instance's priority if that is higher. An instance's priority
//!   is fixed when it goes idle, so the clock ages instances that have not
//!   been used for a while: a newly idle instance starts at the current
//!   clock, above every instance evicted so far.
//!
//! With a single host the evicted instance is always the lowest of all, so
//! the clock never goes down and "clock = evicted priority" is FaasCache's
//! rule exactly. With several hosts the platform evicts the lowest instance
//! of one host, which may be below an earlier victim on another host; the
//! clock then stays where it is rather than moving back, so that
//! recently used instances never rank below stale ones.
//!
//! Two departures from the FaasCache simulator, both forced by what the
//! [`Eviction`] trait is told, not chosen: its frequency counts the uses of
//! the function's containers that are still alive (a function whose
//! containers all died starts again from zero), while here it counts the
//! app's invocations since the start of the run, since the policy is not
//! told of keep-alive evictions; and it recomputes the priority at every
//! use, while here it is computed when the instance goes idle (the end of
//! that use).
//!
//! Variants (the scenario's `[eviction] kind`), each dropping one factor,
//! as in the FaasCache authors' simulator:
//!
//! * `greedy-dual`: the full priority above;
//! * `frequency`: `clock + frequency x cost` (size-blind: large instances
//!   are kept as readily as small ones);
//! * `size`: `clock + frequency / size` (cost-blind: every cold start is
//!   taken to cost the same);
//! * `lru` ([`super::lru`]): no priority at all, the instance idle longest
//!   goes first; the baseline FaasCache compares against.
//!
//! None has parameters: costs and sizes come from the apps.

use super::Ctx;
use crate::model::AppId;
use crate::model::AppInfo;
use crate::platform::decisions::Eviction;
use crate::policy::Build;
use crate::time::SimTime;

crate::policy::no_keys!(
    /// `[eviction] kind = "greedy-dual"`: no keys.
    GreedyDualConfig
);
crate::policy::no_keys!(
    /// `[eviction] kind = "frequency"`: no keys.
    FrequencyConfig
);
crate::policy::no_keys!(
    /// `[eviction] kind = "size"`: no keys.
    SizeConfig
);

impl Build<Ctx<'_>, dyn Eviction> for GreedyDualConfig {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Eviction> {
        Box::new(GreedyDual::new(Variant::GreedyDual, ctx.apps))
    }
}

impl Build<Ctx<'_>, dyn Eviction> for FrequencyConfig {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Eviction> {
        Box::new(GreedyDual::new(Variant::Frequency, ctx.apps))
    }
}

impl Build<Ctx<'_>, dyn Eviction> for SizeConfig {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Eviction> {
        Box::new(GreedyDual::new(Variant::Size, ctx.apps))
    }
}

/// Which factors the priority uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// clock + frequency x cost / size.
    GreedyDual,
    /// clock + frequency x cost.
    Frequency,
    /// clock + frequency / size.
    Size,
}

#[derive(Clone, Debug)]
pub struct GreedyDual {
    variant: Variant,
    clock: f64,
    /// Per app: invocations started so far.
    frequency: Vec<u64>,
    /// Per app: what multiplies the frequency (cost / size, cost, or
    /// 1 / size).
    weight: Vec<f64>,
}

impl GreedyDual {
    /// The policy for a run's apps: cost from each app's mean init time,
    /// size from its memory.
    pub fn new(variant: Variant, apps: &[AppInfo]) -> Self {
        let costs: Vec<f64> = apps.iter().map(|a| a.init.mean_secs()).collect();
        let sizes: Vec<u64> = apps.iter().map(|a| a.memory_mb).collect();
        Self::from_parts(variant, &costs, &sizes)
    }

    /// The policy for apps with these cold-start costs (seconds) and sizes
    /// (MB).
    pub fn from_parts(variant: Variant, cost_secs: &[f64], size_mb: &[u64]) -> Self {
        let weight = cost_secs
            .iter()
            .zip(size_mb)
            .map(|(&c, &s)| {
                // A non-finite or negative mean (not possible after
                // validation) counts as free to restart.
                let c = if c.is_finite() && c > 0.0 { c } else { 0.0 };
                let s = s.max(1) as f64;
                match variant {
                    Variant::GreedyDual => c / s,
                    Variant::Frequency => c,
                    Variant::Size => 1.0 / s,
                }
            })
            .collect::<Vec<_>>();
        GreedyDual {
            variant,
            clock: 0.0,
            frequency: vec![0; weight.len()],
            weight,
        }
    }

    pub fn variant(&self) -> Variant {
        self.variant
    }

    pub fn clock(&self) -> f64 {
        self.clock
    }

    pub fn frequency(&self, app: AppId) -> u64 {
        self.frequency.get(app.index()).copied().unwrap_or(0)
    }
}

impl Eviction for GreedyDual {
    #[inline]
    fn on_use(&mut self, app: AppId, _now: SimTime) {
        if let Some(f) = self.frequency.get_mut(app.index()) {
            *f += 1;
        }
    }

    #[inline]
    fn priority(&mut self, app: AppId, _now: SimTime) -> f64 {
        let i = app.index();
        let f = self.frequency.get(i).copied().unwrap_or(0) as f64;
        let w = self.weight.get(i).copied().unwrap_or(0.0);
        self.clock + f * w
    }

    #[inline]
    fn on_evict(&mut self, priority: f64) {
        if priority > self.clock {
            self.clock = priority;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evicts the lowest of `idle` (app, priority), ties by position (the
    /// platform's idle order), as the platform does; returns its app.
    fn evict_one(p: &mut GreedyDual, idle: &mut Vec<(u32, f64)>) -> u32 {
        let (i, _) = idle
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.1.total_cmp(&b.1.1).then(a.0.cmp(&b.0)))
            .unwrap();
        let (app, prio) = idle.remove(i);
        p.on_evict(prio);
        app
    }

    fn use_n(p: &mut GreedyDual, app: AppId, n: u64) {
        for _ in 0..n {
            p.on_use(app, SimTime(0));
        }
    }

    // Four apps:           cost (s)  size (MB)  uses
    //   0 hot, expensive     2.0       256        8
    //   1 big model         10.0      2048        4
    //   2 cheap, rare        0.1       128        2
    //   3 small, frequent    0.5        64       10
    const COST: [f64; 4] = [2.0, 10.0, 0.1, 0.5];
    const SIZE: [u64; 4] = [256, 2048, 128, 64];
    const USES: [u64; 4] = [8, 4, 2, 10];

    fn setup(v: Variant) -> (GreedyDual, Vec<(u32, f64)>) {
        let mut p = GreedyDual::from_parts(v, &COST, &SIZE);
        for app in 0..4 {
            use_n(&mut p, AppId(app), USES[app as usize]);
        }
        let idle = (0..4)
            .map(|a| (a, p.priority(AppId(a), SimTime(0))))
            .collect();
        (p, idle)
    }

    #[test]
    fn greedy_dual_order_and_clock() {
        // Priorities (clock 0): 8 x 2/256 = 0.0625, 4 x 10/2048 =
        // 0.01953125, 2 x 0.1/128 = 0.0015625, 10 x 0.5/64 = 0.078125.
        let (mut p, mut idle) = setup(Variant::GreedyDual);
        let want = [0.0625, 0.01953125, 0.0015625, 0.078125];
        for (a, w) in want.iter().enumerate() {
            assert!((idle[a].1 - w).abs() < 1e-15, "app {a}: {}", idle[a].1);
        }
        let lowest = idle[2].1;
        assert_eq!(evict_one(&mut p, &mut idle), 2);
        assert_eq!(p.clock(), lowest);
        assert_eq!(evict_one(&mut p, &mut idle), 1);
        assert_eq!(p.clock(), 0.01953125);
        // App 2 comes back once (third use) and goes idle: priority =
        // clock + 3 x 0.1/128 = 0.01953125 + 0.00234375 = 0.021875: above
        // its old priority, but still below apps 0 and 3, so evicted next.
        p.on_use(AppId(2), SimTime(1));
        let pr = p.priority(AppId(2), SimTime(1));
        assert!((pr - 0.021875).abs() < 1e-15);
        idle.push((2, pr));
        assert_eq!(evict_one(&mut p, &mut idle), 2);
        assert_eq!(evict_one(&mut p, &mut idle), 0);
        assert_eq!(evict_one(&mut p, &mut idle), 3);
        assert_eq!(p.clock(), 0.078125);
    }

    #[test]
    fn clock_ages_stale_instances() {
        // App 0 used 8 times (priority 0.0625 when it went idle long ago).
        // After the clock passes 0.0625, a cheap app used once now ranks
        // above it.
        let mut p = GreedyDual::from_parts(Variant::GreedyDual, &COST, &SIZE);
        use_n(&mut p, AppId(0), 8);
        let stale = p.priority(AppId(0), SimTime(0));
        p.on_evict(0.07);
        p.on_use(AppId(2), SimTime(5));
        let fresh = p.priority(AppId(2), SimTime(5));
        assert!(fresh > stale);
        assert!((fresh - (0.07 + 0.1 / 128.0)).abs() < 1e-15);
    }

    #[test]
    fn clock_never_moves_back() {
        let mut p = GreedyDual::from_parts(Variant::GreedyDual, &COST, &SIZE);
        p.on_evict(0.5);
        p.on_evict(0.2); // a lower victim on another host
        assert_eq!(p.clock(), 0.5);
    }

    #[test]
    fn frequency_variant_ignores_size() {
        // 8 x 2 = 16, 4 x 10 = 40, 2 x 0.1 = 0.2, 10 x 0.5 = 5: the big
        // model, evicted second by greedy-dual, is kept longest.
        let (mut p, mut idle) = setup(Variant::Frequency);
        let order: Vec<u32> = (0..4).map(|_| evict_one(&mut p, &mut idle)).collect();
        assert_eq!(order, [2, 3, 0, 1]);
        assert_eq!(p.clock(), 40.0);
    }

    #[test]
    fn size_variant_ignores_cost() {
        // 8/256 = 0.03125, 4/2048 = 0.001953125, 2/128 = 0.015625,
        // 10/64 = 0.15625: the expensive big model goes first.
        let (mut p, mut idle) = setup(Variant::Size);
        let order: Vec<u32> = (0..4).map(|_| evict_one(&mut p, &mut idle)).collect();
        assert_eq!(order, [1, 2, 0, 3]);
    }

    #[test]
    fn free_apps_tie_and_fall_back_to_idle_order() {
        let mut p = GreedyDual::from_parts(Variant::GreedyDual, &[0.0, 0.0], &[128, 128]);
        use_n(&mut p, AppId(0), 5);
        use_n(&mut p, AppId(1), 1);
        assert_eq!(
            p.priority(AppId(0), SimTime(0)),
            p.priority(AppId(1), SimTime(0))
        );
        let mut idle = vec![(1, 0.0), (0, 0.0)];
        assert_eq!(evict_one(&mut p, &mut idle), 1);
    }

    #[test]
    fn built_from_apps_uses_init_mean_and_memory() {
        use crate::dist::Dist;
        use crate::time::SimDuration;
        let apps = [
            AppInfo {
                min_instances: 0,
                name: "a".into(),
                memory_mb: 512,
                init: Dist::Constant {
                    value: SimDuration::from_secs(4),
                },
                state_mb: 0,
                snapshot_mb: None,
                concurrency: 1,
            },
            AppInfo {
                min_instances: 0,
                name: "b".into(),
                memory_mb: 128,
                init: Dist::huawei_cold_start(),
                state_mb: 0,
                snapshot_mb: None,
                concurrency: 1,
            },
        ];
        let mut p = GreedyDual::new(Variant::GreedyDual, &apps);
        p.on_use(AppId(0), SimTime(0));
        p.on_use(AppId(1), SimTime(0));
        assert!((p.priority(AppId(0), SimTime(0)) - 4.0 / 512.0).abs() < 1e-15);
        let huawei = Dist::huawei_cold_start().mean_secs();
        assert!((p.priority(AppId(1), SimTime(0)) - huawei / 128.0).abs() < 1e-15);
        assert_eq!(p.frequency(AppId(1)), 1);
    }
}
