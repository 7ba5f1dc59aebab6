//! The static configuration of a platform: [`PlatformConfig`] and the
//! settings it is made of (retries, consolidation, warm selection,
//! throttling).

use crate::model::AppId;
use crate::time::SimDuration;

/// Static configuration of a platform.
#[derive(Clone, Debug)]
pub struct PlatformConfig {
    pub hosts: usize,
    pub host_memory_mb: u64,
    /// For each function, its app.
    pub fn_app: Vec<AppId>,
    /// For each app, its instance memory.
    pub app_memory_mb: Vec<u64>,
    pub queue_max_len: u32,
    pub queue_timeout: SimDuration,
    /// Evict idle instances when a new one needs their memory.
    pub evict_for_memory: bool,
    /// Which idle instance of an app serves an arrival.
    pub warm: WarmSelect,
    /// For each app, its provisioned concurrency (instances kept from time
    /// 0 and never evicted while the app has no more than this many).
    pub app_min_instances: Vec<u32>,
    /// For each app, the invocations one instance serves at once (>= 1).
    pub app_concurrency: Vec<u32>,
    /// For each function, its concurrency limit (None: no limit).
    pub fn_limit: Vec<Option<u32>>,
    /// The limit over all functions (None: no limit).
    pub global_limit: Option<u32>,
    pub throttle: Throttle,
    /// For each function, its retry policy.
    pub fn_retry: Vec<RetryPolicy>,
    /// Instances are recycled after this long (when next idle).
    pub max_lifetime: Option<SimDuration>,
    /// Preempted hosts relocate their idle instances (else evict them).
    pub relocate_on_notice: bool,
    pub consolidation: Option<Consolidation>,
}

impl PlatformConfig {
    /// A configuration with one app per function and no limits, for tests
    /// and benches.
    pub fn simple(hosts: usize, host_memory_mb: u64, app_memory_mb: &[u64]) -> Self {
        let n = app_memory_mb.len();
        PlatformConfig {
            hosts,
            host_memory_mb,
            fn_app: (0..n as u32).map(AppId).collect(),
            app_memory_mb: app_memory_mb.to_vec(),
            queue_max_len: 1000,
            queue_timeout: SimDuration::from_secs(30),
            evict_for_memory: true,
            warm: WarmSelect::MostRecentlyUsed,
            app_min_instances: vec![0; n],
            app_concurrency: vec![1; n],
            fn_limit: vec![None; n],
            global_limit: None,
            throttle: Throttle::Reject,
            fn_retry: vec![RetryPolicy::NONE; n],
            max_lifetime: None,
            relocate_on_notice: true,
            consolidation: None,
        }
    }
}

/// A function's retry policy: at-least-once, with capped exponential
/// backoff. The platform announces each retry with the cap of its delay
/// (`base x multiplier^(n-1)` for the n-th retry, at most `max`); the driver
/// draws the delay uniformly below the cap ("full jitter", as the AWS SDKs'
/// standard retry mode does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    pub base: SimDuration,
    pub multiplier: f64,
    pub max: SimDuration,
}

impl RetryPolicy {
    pub const NONE: RetryPolicy = RetryPolicy {
        max_attempts: 1,
        base: SimDuration::ZERO,
        multiplier: 1.0,
        max: SimDuration::ZERO,
    };

    /// The delay cap of retry number `n` (1 = the first retry).
    pub fn cap(&self, n: u32) -> SimDuration {
        let f = self.multiplier.powi(n.saturating_sub(1).min(1000) as i32);
        let ns = (self.base.as_nanos() as f64 * f).min(self.max.as_nanos() as f64);
        SimDuration::from_nanos(ns.max(0.0) as u64)
    }
}

/// The consolidation controller's settings (see `Platform::consolidate`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Consolidation {
    /// Consolidate (empty lightly used hosts) or spread (move idle
    /// instances off heavily used ones).
    pub spread: bool,
    /// Consolidate: a host whose used memory is at most this fraction of
    /// its capacity, with only idle instances, is emptied by relocating
    /// them. Spread: a host with more than `1 - threshold` of its memory in
    /// use moves idle instances away until it is below that.
    pub threshold: f64,
    /// Hosts left empty are powered off (and on again when needed).
    pub power_off: bool,
    /// Hosts never powered off below this many powered on.
    pub min_on: u32,
}

/// Which idle instance of an app serves an arrival.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarmSelect {
    /// The one that went idle last: keeps few instances busy, so that the
    /// others age out under a keep-alive timer (the usual platform choice).
    #[default]
    MostRecentlyUsed,
    /// The one idle longest: spreads use over all instances.
    LeastRecentlyUsed,
    /// The one started last.
    Newest,
}

/// What happens to an invocation that a concurrency limit refuses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Throttle {
    /// Reject it at once, as AWS Lambda answers a synchronous invocation
    /// over its limit (HTTP 429, "TooManyRequestsException").
    #[default]
    Reject,
    /// Hold it, in arrival order per function, until the limit lets it in
    /// (as Lambda holds asynchronous invocations); it shares the `[queue]`
    /// length bound and timeout with invocations waiting for memory.
    Queue,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_caps_grow_to_the_maximum() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: SimDuration::from_millis(100),
            multiplier: 2.0,
            max: SimDuration::from_secs(1),
        };
        let caps: Vec<u64> = (1..=6).map(|n| p.cap(n).as_nanos() / 1_000_000).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(RetryPolicy::NONE.cap(1), SimDuration::ZERO);
    }

    #[test]
    fn simple_gives_each_function_its_own_app() {
        let c = PlatformConfig::simple(3, 1000, &[128, 256]);
        assert_eq!(c.fn_app, [AppId(0), AppId(1)]);
        assert_eq!((c.app_concurrency.len(), c.fn_limit.len()), (2, 2));
        assert!(c.global_limit.is_none() && c.consolidation.is_none());
    }
}
