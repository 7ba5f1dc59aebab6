//! Least-frequently-used snapshot cache: the snapshot restored fewest times
//! while cached is dropped first, the least recently used among equals.
//!
//! Keeps the snapshots of steadily popular apps on a host through bursts of
//! one-off apps that would flush an LRU cache. Its priority is the entry's
//! use count (stores and local restores since it was cached); no
//! parameters.

use crate::model::{AppId, HostId};
use crate::platform::decisions::SnapshotCache;

#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotLfu;

impl SnapshotCache for SnapshotLfu {
    fn priority(&mut self, _host: HostId, _app: AppId, uses: u64) -> f64 {
        uses as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_is_the_use_count() {
        let mut p = SnapshotLfu;
        assert!(p.priority(HostId(0), AppId(1), 1) < p.priority(HostId(0), AppId(2), 2));
        assert_eq!(p.priority(HostId(0), AppId(1), 7), 7.0);
    }
}
