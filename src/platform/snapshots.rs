//! Snapshot reuse: where each app's snapshot is, and which kind of cold
//! start a new instance therefore pays.
//!
//! A snapshot is an app's initialised instance saved to storage (a
//! Firecracker memory file plus device state). Each host has a snapshot
//! cache of bounded capacity (local disk, apart from instance memory); a
//! remote store, if the scenario has one, keeps every snapshot ever taken.
//! A new instance on host `h`:
//!
//! * restores locally if `h`'s cache holds the app's snapshot;
//! * else restores remotely if the store holds it (the snapshot is fetched
//!   into `h`'s cache, making room by the [`SnapshotCache`] policy, once the
//!   instance is ready);
//! * else initialises fully. With `create = "on-first-init"` the first full
//!   init of an app (per host when there is no remote store) also takes the
//!   snapshot; it lands in `h`'s cache and in the store when the instance is
//!   ready. While one take is under way, other full inits do not take one.
//!
//! The index is sans-IO like the rest of the platform: it decides kinds and
//! bookkeeping; the driver prices them in time.

use super::decisions::SnapshotCache;
use crate::model::{AppId, HostId};

/// How a new instance starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StartKind {
    /// Full initialisation: runtime, code and state.
    Full,
    /// Restore from a snapshot in the host's cache.
    LocalRestore,
    /// Fetch the snapshot from the remote store, then restore it.
    RemoteRestore,
}

impl StartKind {
    pub const ALL: [StartKind; 3] = [
        StartKind::Full,
        StartKind::LocalRestore,
        StartKind::RemoteRestore,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in result columns.
    pub fn name(self) -> &'static str {
        match self {
            StartKind::Full => "full",
            StartKind::LocalRestore => "local",
            StartKind::RemoteRestore => "remote",
        }
    }
}

/// When an app's snapshot comes into being.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotCreate {
    /// The first full initialisation of the app takes it, paying `take` and
    /// `snapshot_mb / take_bandwidth` before its instance is ready; it is
    /// then in that host's cache and in the remote store.
    #[default]
    OnFirstInit,
    /// Every app's snapshot is in the remote store from time 0 (taken at
    /// deployment, as Lambda SnapStart does when a version is published).
    AtDeploy,
}

/// The platform's view of the `[snapshots]` section.
#[derive(Clone, Debug)]
pub struct SnapshotConfig {
    pub create: SnapshotCreate,
    pub remote: bool,
    /// Capacity of each host's cache.
    pub cache_mb: u64,
    /// For each app, its snapshot size.
    pub app_snapshot_mb: Vec<u64>,
    /// Execution-time multiplier of a restored instance's first
    /// invocations, in millionths (1.95 = 1,950,000).
    pub slowdown_ppm: u64,
    pub slowdown_invocations: u32,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    app: AppId,
    mb: u64,
    uses: u64,
    priority: f64,
    /// Order of last use (ties of priority: least recent first).
    last_use: u64,
}

/// Counts of snapshot events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SnapshotCounters {
    /// Snapshots taken (by full inits).
    pub taken: u64,
    /// Snapshots placed in a host cache (taken there or fetched).
    pub cached: u64,
    /// Snapshots dropped from a full host cache.
    pub cache_evictions: u64,
    /// Snapshots too large for a host cache, not cached.
    pub cache_too_small: u64,
}

/// Every host's snapshot cache and the remote store. See the module doc.
pub struct Snapshots {
    cfg: SnapshotConfig,
    in_store: Vec<bool>,
    taking: Vec<bool>,
    caches: Vec<Vec<Entry>>,
    used_mb: Vec<u64>,
    /// For each app, the hosts whose cache holds it (any order).
    app_hosts: Vec<Vec<HostId>>,
    policy: Box<dyn SnapshotCache>,
    next_use: u64,
    store_mb: u64,
    pub counters: SnapshotCounters,
}

impl Snapshots {
    pub fn new(cfg: SnapshotConfig, hosts: usize, policy: Box<dyn SnapshotCache>) -> Self {
        let apps = cfg.app_snapshot_mb.len();
        let at_deploy = cfg.remote && cfg.create == SnapshotCreate::AtDeploy;
        let store_mb = if at_deploy {
            cfg.app_snapshot_mb.iter().sum()
        } else {
            0
        };
        Snapshots {
            in_store: vec![at_deploy; apps],
            taking: vec![false; apps],
            caches: vec![Vec::new(); hosts],
            used_mb: vec![0; hosts],
            app_hosts: vec![Vec::new(); apps],
            policy,
            next_use: 0,
            store_mb,
            counters: SnapshotCounters::default(),
            cfg,
        }
    }

    pub fn config(&self) -> &SnapshotConfig {
        &self.cfg
    }

    /// The hosts whose cache holds `app`'s snapshot.
    pub fn hosts_with(&self, app: AppId) -> &[HostId] {
        &self.app_hosts[app.index()]
    }

    /// Whether `host`'s cache holds `app`'s snapshot.
    pub fn cached(&self, host: HostId, app: AppId) -> bool {
        self.caches[host.index()].iter().any(|e| e.app == app)
    }

    /// MB of snapshots in the remote store.
    pub fn store_mb(&self) -> u64 {
        self.store_mb
    }

    /// MB of snapshots in `host`'s cache.
    pub fn cache_used_mb(&self, host: HostId) -> u64 {
        self.used_mb[host.index()]
    }

    /// How a new instance of `app` on `host` starts, and whether it takes
    /// the app's snapshot (a full init only). A local restore counts as a
    /// use of the cached entry.
    pub(crate) fn start_kind(&mut self, app: AppId, host: HostId) -> (StartKind, bool) {
        let a = app.index();
        if let Some(i) = self.caches[host.index()].iter().position(|e| e.app == app) {
            self.touch(host, i);
            return (StartKind::LocalRestore, false);
        }
        if self.cfg.remote && self.in_store[a] {
            return (StartKind::RemoteRestore, false);
        }
        let take = self.cfg.create == SnapshotCreate::OnFirstInit && !self.taking[a];
        if take {
            self.taking[a] = true;
        }
        (StartKind::Full, take)
    }

    /// An instance of `app` started on `host` with `kind` is ready; `took`:
    /// it took the app's snapshot.
    pub fn ready(&mut self, app: AppId, host: HostId, kind: StartKind, took: bool) {
        let a = app.index();
        if took {
            self.taking[a] = false;
            self.counters.taken += 1;
            if self.cfg.remote && !self.in_store[a] {
                self.in_store[a] = true;
                self.store_mb += self.cfg.app_snapshot_mb[a];
            }
            self.insert(host, app);
        } else if kind == StartKind::RemoteRestore {
            self.insert(host, app);
        }
    }

    /// An instance that was taking `app`'s snapshot died before it was
    /// ready (it was killed): another full init may take it.
    pub(crate) fn take_abandoned(&mut self, app: AppId) {
        self.taking[app.index()] = false;
    }

    fn touch(&mut self, host: HostId, i: usize) {
        let e = &mut self.caches[host.index()][i];
        e.uses += 1;
        e.last_use = self.next_use;
        self.next_use += 1;
        e.priority = self.policy.priority(host, e.app, e.uses);
    }

    /// Puts `app`'s snapshot in `host`'s cache (or counts it a use if it is
    /// there), dropping the lowest-priority entries to make room.
    fn insert(&mut self, host: HostId, app: AppId) {
        let h = host.index();
        if let Some(i) = self.caches[h].iter().position(|e| e.app == app) {
            self.touch(host, i);
            return;
        }
        let mb = self.cfg.app_snapshot_mb[app.index()];
        if mb > self.cfg.cache_mb {
            self.counters.cache_too_small += 1;
            return;
        }
        while self.used_mb[h] + mb > self.cfg.cache_mb {
            let Some(victim) = self.caches[h]
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| {
                    a.priority
                        .total_cmp(&b.priority)
                        .then(a.last_use.cmp(&b.last_use))
                })
                .map(|(i, _)| i)
            else {
                break;
            };
            let e = self.caches[h].swap_remove(victim);
            self.used_mb[h] -= e.mb;
            let hosts = &mut self.app_hosts[e.app.index()];
            if let Some(p) = hosts.iter().position(|&x| x == host) {
                hosts.swap_remove(p);
            }
            self.policy.on_evict(host, e.priority);
            self.counters.cache_evictions += 1;
        }
        let priority = self.policy.priority(host, app, 1);
        self.caches[h].push(Entry {
            app,
            mb,
            uses: 1,
            priority,
            last_use: self.next_use,
        });
        self.next_use += 1;
        self.used_mb[h] += mb;
        self.app_hosts[app.index()].push(host);
        self.counters.cached += 1;
    }

    /// Checks the index against itself; for tests.
    pub(crate) fn check(&self) -> Result<(), String> {
        for (h, c) in self.caches.iter().enumerate() {
            let used: u64 = c.iter().map(|e| e.mb).sum();
            if used != self.used_mb[h] || used > self.cfg.cache_mb {
                return Err(format!("snapshot cache of host {h} out of step"));
            }
            for e in c {
                if !self.app_hosts[e.app.index()].contains(&HostId(h as u32)) {
                    return Err(format!("host {h} caches app {} unindexed", e.app));
                }
            }
        }
        let indexed: usize = self.app_hosts.iter().map(Vec::len).sum();
        let cached: usize = self.caches.iter().map(Vec::len).sum();
        if indexed != cached {
            return Err("snapshot host index out of step".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{
        FixedTtl, SEC, Script, SnapshotLru, config, inv, platform_with, snapshots, started,
    };
    use super::super::{Action, Completion, Event, JobId};
    use super::*;
    use crate::model::FnId;
    use crate::time::{SimDuration, SimTime};

    fn snaps(create: SnapshotCreate, remote: bool, cache_mb: u64, sizes: &[u64]) -> Snapshots {
        Snapshots::new(
            SnapshotConfig {
                create,
                remote,
                cache_mb,
                app_snapshot_mb: sizes.to_vec(),
                slowdown_ppm: 1_000_000,
                slowdown_invocations: 0,
            },
            2,
            Box::new(SnapshotLru),
        )
    }

    #[test]
    fn first_init_takes_then_local_then_remote() {
        let mut s = snaps(SnapshotCreate::OnFirstInit, true, 1000, &[100]);
        assert_eq!(s.start_kind(AppId(0), HostId(0)), (StartKind::Full, true));
        // A second full init while the first is taking: no second take.
        assert_eq!(s.start_kind(AppId(0), HostId(1)), (StartKind::Full, false));
        s.ready(AppId(0), HostId(0), StartKind::Full, true);
        assert_eq!(s.counters.taken, 1);
        assert_eq!(s.store_mb(), 100);
        assert_eq!(
            s.start_kind(AppId(0), HostId(0)),
            (StartKind::LocalRestore, false)
        );
        assert_eq!(
            s.start_kind(AppId(0), HostId(1)),
            (StartKind::RemoteRestore, false)
        );
        s.ready(AppId(0), HostId(1), StartKind::RemoteRestore, false);
        assert_eq!(
            s.start_kind(AppId(0), HostId(1)),
            (StartKind::LocalRestore, false)
        );
        assert_eq!(s.hosts_with(AppId(0)).len(), 2);
        s.check().unwrap();
    }

    #[test]
    fn without_a_store_each_host_takes_its_own() {
        let mut s = snaps(SnapshotCreate::OnFirstInit, false, 1000, &[100]);
        assert_eq!(s.start_kind(AppId(0), HostId(0)), (StartKind::Full, true));
        s.ready(AppId(0), HostId(0), StartKind::Full, true);
        assert_eq!(s.start_kind(AppId(0), HostId(1)), (StartKind::Full, true));
        assert_eq!(s.store_mb(), 0);
    }

    #[test]
    fn at_deploy_every_snapshot_is_remote_from_the_start() {
        let mut s = snaps(SnapshotCreate::AtDeploy, true, 1000, &[100, 50]);
        assert_eq!(s.store_mb(), 150);
        assert_eq!(
            s.start_kind(AppId(1), HostId(0)),
            (StartKind::RemoteRestore, false)
        );
    }

    #[test]
    fn full_cache_drops_least_recently_used() {
        // Room for two 100 MB snapshots.
        let mut s = snaps(SnapshotCreate::AtDeploy, true, 200, &[100, 100, 100, 300]);
        s.ready(AppId(0), HostId(0), StartKind::RemoteRestore, false);
        s.ready(AppId(1), HostId(0), StartKind::RemoteRestore, false);
        // App 0 restored again: app 1 is now the least recently used.
        assert_eq!(s.start_kind(AppId(0), HostId(0)).0, StartKind::LocalRestore);
        s.ready(AppId(2), HostId(0), StartKind::RemoteRestore, false);
        assert!(
            s.cached(HostId(0), AppId(0))
                && !s.cached(HostId(0), AppId(1))
                && s.cached(HostId(0), AppId(2))
        );
        assert_eq!(s.counters.cache_evictions, 1);
        // Larger than the cache: never cached.
        s.ready(AppId(3), HostId(0), StartKind::RemoteRestore, false);
        assert_eq!(s.counters.cache_too_small, 1);
        assert_eq!(s.cache_used_mb(HostId(0)), 200);
        s.check().unwrap();
    }

    /// A platform of `hosts` hosts that each fit one instance of the one
    /// app (100 MB), with snapshots; restored instances run their first
    /// invocation twice as long.
    fn with_snapshots(hosts: usize, remote: bool) -> Script {
        let cfg = config(hosts, 100, &[100], 10);
        let sn = snapshots(&cfg, remote, 1000, 2_000_000, 1);
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        Script::new(platform_with(cfg, ttl).with_snapshots(sn))
    }

    fn start(a: &[Action]) -> (StartKind, bool, HostId) {
        match a.iter().find(|a| matches!(a, Action::Start { .. })) {
            Some(&Action::Start {
                kind,
                take_snapshot,
                host,
                ..
            }) => (kind, take_snapshot, host),
            _ => panic!("no start in {a:?}"),
        }
    }

    #[test]
    fn the_first_full_init_takes_it_then_a_local_restore() {
        let mut s = with_snapshots(1, false);
        let a = s.arrive(inv(0, 0, 0));
        assert_eq!(start(&a), (StartKind::Full, true, HostId(0)));
        let first = started(&a);
        s.event(1, Event::Ready { instance: first });
        let done = |instance| Event::Done {
            instance,
            job: JobId(0),
        };
        s.event(6, done(first));
        let sn = s.p.snapshots().unwrap();
        assert_eq!((sn.counters.taken, sn.counters.cached), (1, 1));
        assert!(sn.cached(HostId(0), AppId(0)));
        s.event(6 + 60 * SEC, Event::KeepAlive { instance: first });
        assert_eq!(s.p.live_instances(), 0);
        // The next cold start restores from the host's cache, and its first
        // invocation is slowed.
        let a = s.arrive(inv(1, 0, 100 * SEC));
        assert_eq!(start(&a), (StartKind::LocalRestore, false, HostId(0)));
        let restored = started(&a);
        assert_eq!(
            s.event(100 * SEC + 1, Event::Ready { instance: restored }),
            [Action::Execute {
                instance: restored,
                job: JobId(0),
                function: FnId(0),
                exec: SimDuration(10),
            }]
        );
        let a = s.event(100 * SEC + 11, done(restored));
        assert_eq!(
            a[0],
            Action::Completed(Completion {
                inv: inv(1, 0, 100 * SEC),
                app: AppId(0),
                dispatched: SimTime(100 * SEC),
                exec_start: SimTime(100 * SEC + 1),
                end: SimTime(100 * SEC + 11),
                start: Some(StartKind::LocalRestore),
            })
        );
        // Its second invocation runs at full speed.
        let a = s.arrive(inv(2, 0, 101 * SEC));
        assert!(matches!(
            a[..],
            [Action::Execute {
                exec: SimDuration(5),
                ..
            }]
        ));
    }

    #[test]
    fn another_host_restores_from_the_remote_store() {
        let mut s = with_snapshots(3, true);
        // Two starts at once: only the first takes the snapshot.
        let a = s.arrive(inv(0, 0, 0));
        assert_eq!(start(&a), (StartKind::Full, true, HostId(0)));
        let b = s.arrive(inv(1, 0, 0));
        assert_eq!(start(&b), (StartKind::Full, false, HostId(1)));
        s.event(
            1,
            Event::Ready {
                instance: started(&a),
            },
        );
        assert_eq!(s.p.snapshots().unwrap().store_mb(), 100);
        // Both busy: a third instance, on host 2, fetches the snapshot.
        let c = s.arrive(inv(2, 0, 2));
        assert_eq!(start(&c), (StartKind::RemoteRestore, false, HostId(2)));
        s.event(
            3,
            Event::Ready {
                instance: started(&c),
            },
        );
        let sn = s.p.snapshots().unwrap();
        assert_eq!((sn.counters.taken, sn.counters.cached), (1, 2));
        assert_eq!(sn.hosts_with(AppId(0)), [HostId(0), HostId(2)]);
    }
}
