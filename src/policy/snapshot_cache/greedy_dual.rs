//! Greedy-Dual-Size-Frequency snapshot cache: drop the snapshot whose
//! `clock + uses x cost / size` is lowest.
//!
//! GreedyDual-Size is Cao and Irani's web-cache policy (USENIX Symposium on
//! Internet Technologies and Systems, 1997); FaasCache (Fuerst and Sharma,
//! ASPLOS'21) applied its frequency variant to keeping function instances
//! warm, and `policy::greedy_dual` does that for instances. Here the cached
//! objects are snapshots:
//!
//! * `cost` is what a missing snapshot costs at most, the app's mean full
//!   initialisation in seconds (its `init` mean plus loading its state);
//! * `size` is the snapshot's size in MB;
//! * `uses` counts stores and local restores of the entry while cached;
//! * `clock` is per host: it rises to the priority of each entry dropped,
//!   so entries not used for long age out.
//!
//! Small snapshots of apps that are slow to initialise and often restored
//! stay; large, rarely used or cheap ones go.

use crate::model::{AppId, HostId};
use crate::platform::decisions::SnapshotCache;

#[derive(Clone, Debug)]
pub struct SnapshotGreedyDual {
    /// For each app, cost / size in seconds per MB.
    value: Vec<f64>,
    /// For each host, its clock.
    clock: Vec<f64>,
}

impl SnapshotGreedyDual {
    /// `cost_s[a]` and `size_mb[a]` for each app `a`; `hosts` clocks.
    pub fn new(cost_s: &[f64], size_mb: &[u64], hosts: usize) -> Self {
        SnapshotGreedyDual {
            value: cost_s
                .iter()
                .zip(size_mb)
                .map(|(&c, &s)| c / s.max(1) as f64)
                .collect(),
            clock: vec![0.0; hosts],
        }
    }

    pub fn clock(&self, host: HostId) -> f64 {
        self.clock[host.index()]
    }
}

impl SnapshotCache for SnapshotGreedyDual {
    fn priority(&mut self, host: HostId, app: AppId, uses: u64) -> f64 {
        self.clock[host.index()] + uses as f64 * self.value[app.index()]
    }

    fn on_evict(&mut self, host: HostId, priority: f64) {
        let c = &mut self.clock[host.index()];
        if priority > *c {
            *c = priority;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_priorities_and_clock() {
        // App 0: 4 s init, 512 MB snapshot; app 1: 1 s init, 64 MB.
        let mut p = SnapshotGreedyDual::new(&[4.0, 1.0], &[512, 64], 2);
        let a = p.priority(HostId(0), AppId(0), 1); // 4/512 = 0.0078125
        let b = p.priority(HostId(0), AppId(1), 1); // 1/64 = 0.015625
        assert_eq!(a, 0.0078125);
        assert_eq!(b, 0.015625);
        // The big cheap-per-MB snapshot goes first; the clock rises to it.
        p.on_evict(HostId(0), a);
        assert_eq!(p.clock(HostId(0)), 0.0078125);
        assert_eq!(p.clock(HostId(1)), 0.0);
        // Used twice more, app 1 is now worth 0.0078125 + 3/64.
        assert_eq!(p.priority(HostId(0), AppId(1), 3), 0.0078125 + 0.046875);
        // A lower priority never lowers the clock.
        p.on_evict(HostId(0), 0.001);
        assert_eq!(p.clock(HostId(0)), 0.0078125);
    }
}
