//! Snapshot-locality placement: start a new instance where its app's
//! snapshot is already cached, so that it restores locally instead of
//! fetching the snapshot or initialising from scratch.
//!
//! Locality-aware scheduling of this kind is package-aware scheduling
//! (Aumala et al., CCGrid'19), applied to snapshots as in FaaSnap (Ao et
//! al., EuroSys'22): a host that caches the right artefact is worth more
//! than the emptiest host. Parameters:
//!
//! * `fallback`: the placement policy used when no host caching the app's
//!   snapshot has room (default first-fit);
//! * `probes`: how many of the hosts that cache the snapshot are looked at
//!   (default 64); the emptiest of them with room wins, the first one on
//!   ties. The hosts of an app's snapshot come from the platform's snapshot
//!   index, so a decision costs O(probes), never O(hosts).
//!
//! Without snapshots (`[snapshots] enabled = false`) it is its fallback.

use serde::{Deserialize, Serialize};

use super::{Ctx, PlacementCfg};
use crate::cfg::{Check, Validate};
use crate::model::{AppId, HostId};
use crate::platform::decisions::Placement;
use crate::platform::hosts::Hosts;
use crate::platform::snapshots::Snapshots;
use crate::policy::Build;

/// `[placement] kind = "snapshot-locality"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The policy used when no host caching the snapshot has room
    /// (default first-fit); not snapshot-locality itself.
    #[serde(default)]
    pub fallback: Box<PlacementCfg>,
    /// Hosts caching the snapshot that are looked at (default 64).
    #[serde(default = "default_probes")]
    pub probes: u32,
}

fn default_probes() -> u32 {
    64
}

impl Default for Config {
    fn default() -> Self {
        Config {
            fallback: Box::default(),
            probes: default_probes(),
        }
    }
}

impl Validate for Config {
    fn validate(&self, c: &mut Check) {
        if matches!(*self.fallback, PlacementCfg::SnapshotLocality(_)) {
            c.err(
                "fallback.kind",
                "the fallback of snapshot-locality must be another policy",
            );
        } else {
            c.nested("fallback", &self.fallback);
        }
        if self.probes == 0 {
            c.err("probes", "expected at least 1 host to probe");
        }
    }
}

impl Build<Ctx<'_>, dyn Placement> for Config {
    fn build(&self, ctx: &Ctx<'_>) -> Box<dyn Placement> {
        Box::new(SnapshotLocality::new(self.fallback.build(ctx), self.probes))
    }
}

pub struct SnapshotLocality {
    fallback: Box<dyn Placement>,
    probes: u32,
}

impl SnapshotLocality {
    pub fn new(fallback: Box<dyn Placement>, probes: u32) -> Self {
        SnapshotLocality { fallback, probes }
    }
}

impl Placement for SnapshotLocality {
    fn place(&mut self, hosts: &Hosts, app: AppId, need_mb: u64) -> Option<HostId> {
        self.fallback.place(hosts, app, need_mb)
    }

    fn place_near(
        &mut self,
        hosts: &Hosts,
        snapshots: &Snapshots,
        app: AppId,
        need_mb: u64,
    ) -> Option<HostId> {
        let mut best: Option<(u64, HostId)> = None;
        for &h in snapshots.hosts_with(app).iter().take(self.probes as usize) {
            let free = hosts.free_mb(h);
            if free >= need_mb && best.is_none_or(|(f, _)| free > f) {
                best = Some((free, h));
            }
        }
        match best {
            Some((_, h)) => Some(h),
            None => self.fallback.place(hosts, app, need_mb),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::SnapshotCreate;
    use crate::platform::snapshots::{SnapshotConfig, StartKind};
    use crate::policy::placement::first_fit::FirstFit;
    use crate::policy::snapshot_cache::lru::SnapshotLru;

    #[test]
    fn prefers_the_emptiest_host_caching_the_snapshot() {
        let mut hosts = Hosts::new(4, 1000);
        let mut snaps = Snapshots::new(
            SnapshotConfig {
                create: SnapshotCreate::AtDeploy,
                remote: true,
                cache_mb: 1000,
                app_snapshot_mb: vec![100, 100],
                slowdown_ppm: 1_000_000,
                slowdown_invocations: 0,
            },
            4,
            Box::new(SnapshotLru),
        );
        // App 0 cached on hosts 2 and 3; host 3 is fuller.
        snaps.ready(AppId(0), HostId(2), StartKind::RemoteRestore, false);
        snaps.ready(AppId(0), HostId(3), StartKind::RemoteRestore, false);
        hosts.alloc(HostId(3), 500);
        let mut p = SnapshotLocality::new(Box::new(FirstFit), 64);
        assert_eq!(p.place_near(&hosts, &snaps, AppId(0), 100), Some(HostId(2)));
        // Host 2 full: host 3 still has room.
        hosts.alloc(HostId(2), 1000);
        assert_eq!(p.place_near(&hosts, &snaps, AppId(0), 100), Some(HostId(3)));
        // Neither has room for 600 MB: first-fit falls back to host 0.
        assert_eq!(p.place_near(&hosts, &snaps, AppId(0), 600), Some(HostId(0)));
        // App 1 cached nowhere: the fallback.
        assert_eq!(p.place_near(&hosts, &snaps, AppId(1), 100), Some(HostId(0)));
        // Probing one host only sees the first in the index.
        let mut one = SnapshotLocality::new(Box::new(FirstFit), 1);
        let first = snaps.hosts_with(AppId(0))[0];
        let got = one.place_near(&hosts, &snaps, AppId(0), 100);
        assert_eq!(
            got,
            Some(if first == HostId(3) {
                HostId(3)
            } else {
                HostId(0)
            })
        );
    }
}
