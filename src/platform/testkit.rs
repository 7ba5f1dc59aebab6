//! What the core's unit tests share, so that they need nothing from the
//! policy layer above: minimal policies (first fit, a fixed keep-alive
//! from the end of each execution, a pre-warm decision, LRU eviction and
//! an LRU snapshot cache), and a [`Script`] that feeds a platform one input
//! at a time and hands back the actions of each, checking the invariants
//! after every input.

use super::decisions::{Eviction, IdleInstance, KeepAlive, KeepDecision, Placement, SnapshotCache};
use super::hosts::Hosts;
use super::snapshots::{SnapshotConfig, SnapshotCreate, Snapshots};
use super::{Action, Event, Gauges, InstanceId, Platform, PlatformConfig};
use crate::model::{AppId, FnId, HostId, Invocation};
use crate::time::{SimDuration, SimTime};

/// The lowest-numbered host with room.
pub struct FirstFit;

impl Placement for FirstFit {
    fn place(&mut self, hosts: &Hosts, _app: AppId, need_mb: u64) -> Option<HostId> {
        hosts.first_free(need_mb)
    }
}

/// Keeps an idle instance this long after each execution (zero: evict).
pub struct FixedTtl(pub SimDuration);

impl KeepAlive for FixedTtl {
    fn on_idle(&mut self, _app: AppId, _now: SimTime, _inst: IdleInstance) -> KeepDecision {
        if self.0.is_zero() {
            KeepDecision::Evict
        } else {
            KeepDecision::Keep(self.0)
        }
    }
}

/// Unloads every instance that goes idle and pre-warms a new one `after`
/// later, kept `keep` once ready (the hybrid histogram's decision, fixed).
pub struct PrewarmAfter {
    pub after: SimDuration,
    pub keep: SimDuration,
}

impl KeepAlive for PrewarmAfter {
    fn on_idle(&mut self, _app: AppId, _now: SimTime, _inst: IdleInstance) -> KeepDecision {
        KeepDecision::Prewarm {
            after: self.after,
            keep: self.keep,
        }
    }
}

/// Every idle instance ranks the same: the one idle longest goes first.
pub struct Lru;

impl Eviction for Lru {
    fn ranks(&self) -> bool {
        false
    }

    fn priority(&mut self, _app: AppId, _now: SimTime) -> f64 {
        0.0
    }
}

/// Every cached snapshot ranks the same: the least recently used goes.
pub struct SnapshotLru;

impl SnapshotCache for SnapshotLru {
    fn priority(&mut self, _host: HostId, _app: AppId, _uses: u64) -> f64 {
        0.0
    }
}

/// One second, in the units of [`Script`]'s times (nanoseconds).
pub const SEC: u64 = 1_000_000_000;

/// A configuration of `hosts` hosts of `host_mb`, one app per function
/// with these memory sizes, a queue of `qlen` with a 10-second timeout.
pub fn config(hosts: usize, host_mb: u64, mem: &[u64], qlen: u32) -> PlatformConfig {
    let mut cfg = PlatformConfig::simple(hosts, host_mb, mem);
    cfg.queue_max_len = qlen;
    cfg.queue_timeout = SimDuration::from_secs(10);
    cfg
}

/// A platform of `cfg` with first fit, LRU eviction and `keepalive`.
pub fn platform_with(cfg: PlatformConfig, keepalive: Box<dyn KeepAlive>) -> Platform {
    Platform::new(cfg, Box::new(FirstFit), keepalive, Box::new(Lru))
}

/// A platform of `config(...)` with a fixed keep-alive of `ttl` seconds.
pub fn platform(hosts: usize, host_mb: u64, mem: &[u64], ttl: u64, qlen: u32) -> Platform {
    platform_with(
        config(hosts, host_mb, mem, qlen),
        Box::new(FixedTtl(SimDuration::from_secs(ttl))),
    )
}

/// Snapshots on every host, with the remote store if `remote`: taken by
/// the first full init, a cache of `cache_mb` per host, and each restored
/// instance's first `slowed` invocations run `ppm` millionths as long.
pub fn snapshots(
    cfg: &PlatformConfig,
    remote: bool,
    cache_mb: u64,
    ppm: u64,
    slowed: u32,
) -> Snapshots {
    Snapshots::new(
        SnapshotConfig {
            create: SnapshotCreate::OnFirstInit,
            remote,
            cache_mb,
            app_snapshot_mb: cfg.app_memory_mb.clone(),
            slowdown_ppm: ppm,
            slowdown_invocations: slowed,
        },
        cfg.hosts,
        Box::new(SnapshotLru),
    )
}

/// Invocation `id` of function `f` arriving at `t`, running 5 ns.
pub fn inv(id: u64, f: u32, t: u64) -> Invocation {
    Invocation {
        id,
        function: FnId(f),
        arrival: SimTime(t),
        exec: SimDuration(5),
        attempt: 0,
    }
}

/// A platform driven one input at a time.
pub struct Script {
    pub p: Platform,
    out: Vec<Action>,
}

impl Script {
    pub fn new(p: Platform) -> Script {
        Script { p, out: Vec::new() }
    }

    /// `inv` arrives at its arrival time: the actions that follow.
    pub fn arrive(&mut self, inv: Invocation) -> Vec<Action> {
        self.out.clear();
        self.p.arrival(inv.arrival, inv, &mut self.out);
        self.checked()
    }

    /// `ev` comes back at `t`: the actions that follow.
    pub fn event(&mut self, t: u64, ev: Event) -> Vec<Action> {
        self.out.clear();
        self.p.handle(SimTime(t), ev, &mut self.out);
        self.checked()
    }

    /// The consolidation controller runs at `t`.
    pub fn consolidate(&mut self, t: u64) -> Vec<Action> {
        self.event(t, Event::Consolidate)
    }

    pub fn gauges(&self) -> Gauges {
        self.p.gauges()
    }

    fn checked(&mut self) -> Vec<Action> {
        if let Err(e) = self.p.check_invariants() {
            panic!("{e} after {:?}", self.out);
        }
        self.out.clone()
    }
}

/// The instance a list of actions starts (the first start).
pub fn started(actions: &[Action]) -> InstanceId {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Start { instance, .. } => Some(*instance),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no start in {actions:?}"))
}
