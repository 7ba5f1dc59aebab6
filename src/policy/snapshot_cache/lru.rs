//! Least-recently-used snapshot cache: when a host's snapshot cache is full,
//! the snapshot restored or stored longest ago is dropped first.
//!
//! The default of `[snapshots] cache_eviction`, and the policy of the
//! per-host snapshot and image caches that Firecracker-based platforms
//! describe (for example the local chunk caches of AWS Lambda's container
//! loading, Brooker et al., ATC'23). No parameters: every entry has the same
//! priority and the cache breaks ties by last use.

use crate::model::{AppId, HostId};
use crate::platform::decisions::SnapshotCache;

#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotLru;

impl SnapshotCache for SnapshotLru {
    fn priority(&mut self, _host: HostId, _app: AppId, _uses: u64) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_the_same_priority() {
        let mut p = SnapshotLru;
        assert_eq!(
            p.priority(HostId(0), AppId(1), 1),
            p.priority(HostId(3), AppId(2), 50)
        );
    }
}
