//! The consolidation controller: empties lightly used hosts (or spreads
//! load off heavily used ones) by relocating idle instances, and powers
//! hosts off and on.

use crate::time::SimTime;

use super::{Action, HostState, Platform, State};

impl Platform {
    /// The consolidation controller: empties lightly used hosts that hold
    /// only idle instances by relocating those (fullest targets first:
    /// best-fit), and powers empty hosts off, keeping `min_on` on. Hosts
    /// are powered on again, lowest-numbered first, when a new instance
    /// finds no room.
    pub fn consolidate(&mut self, now: SimTime, out: &mut Vec<Action>) {
        let Some(c) = self.cfg.consolidation else {
            return;
        };
        let cap = self.hosts.capacity_mb();
        if c.spread {
            self.spread(c.threshold, now, out);
            return;
        }
        for h in self.hosts.ids() {
            if self.host_state[h.index()] != HostState::Up {
                continue;
            }
            let used = cap - self.hosts.unused_mb(h);
            let all_idle = self.host_insts[h.index()]
                .iter()
                .all(|&i| self.insts[i as usize].state == State::Idle);
            let light = used > 0 && (used as f64) <= c.threshold * cap as f64 && all_idle;
            if light {
                // Close it while moving, so nothing is placed back on it.
                self.hosts.set_closed(h, true);
                let idle: Vec<u32> = self.host_insts[h.index()].clone();
                for slot in idle {
                    if !self.relocate(slot, now, out) {
                        break;
                    }
                }
                self.hosts.set_closed(h, false);
            }
            let empty = self.host_insts[h.index()].is_empty();
            if c.power_off && empty && self.gauges.hosts_on > c.min_on as u64 {
                self.set_host(h, HostState::Off);
            }
        }
        self.after_kill(now, out);
    }

    /// The spreading controller: a host with more than `1 - threshold` of
    /// its memory in use moves idle instances (least recently used first)
    /// to hosts the placement policy picks, until it is below that or
    /// nothing more can move; it is closed meanwhile so that nothing moves
    /// back onto it.
    pub(super) fn spread(&mut self, threshold: f64, now: SimTime, out: &mut Vec<Action>) {
        let cap = self.hosts.capacity_mb();
        let high = ((1.0 - threshold) * cap as f64) as u64;
        for h in self.hosts.ids() {
            if self.host_state[h.index()] != HostState::Up || cap - self.hosts.unused_mb(h) <= high
            {
                continue;
            }
            self.hosts.set_closed(h, true);
            let mut idle: Vec<u32> = self.host_insts[h.index()]
                .iter()
                .copied()
                .filter(|&i| self.insts[i as usize].state == State::Idle)
                .collect();
            idle.sort_by_key(|&i| self.insts[i as usize].idle_seq);
            for slot in idle {
                if cap - self.hosts.unused_mb(h) <= high || !self.relocate(slot, now, out) {
                    break;
                }
            }
            self.hosts.set_closed(h, false);
        }
        self.after_kill(now, out);
    }

    /// Powers on the lowest-numbered powered-off host, if any (when a new
    /// instance of `mb` finds no room). True if one came on.
    pub(super) fn power_on_for(&mut self, mb: u64) -> bool {
        if self.cfg.consolidation.is_none() || mb > self.hosts.capacity_mb() {
            return false;
        }
        match self
            .hosts
            .ids()
            .find(|&h| self.host_state[h.index()] == HostState::Off)
        {
            Some(h) => {
                self.set_host(h, HostState::Up);
                true
            }
            None => false,
        }
    }
}
