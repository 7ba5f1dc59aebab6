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

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Action, Consolidation, Event, HostState, InstanceId, JobId, KillReason};
    use crate::model::{AppId, HostId};
    use crate::time::SimDuration;

    /// Two hosts of 200 MB, three apps of 100 MB; hosts go off down to
    /// `min_on`.
    fn script(spread: bool, min_on: u32) -> Script {
        let mut cfg = config(2, 200, &[100, 100, 100], 10);
        cfg.consolidation = Some(Consolidation {
            spread,
            threshold: 0.5,
            power_off: true,
            min_on,
        });
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(600)));
        Script::new(platform_with(cfg, ttl))
    }

    /// Runs invocation `f` of app `f` at `t` on a new instance to its end
    /// (ready at `t + 1`, done at `t + 6`).
    fn run(s: &mut Script, f: u32, t: u64) -> InstanceId {
        let instance = started(&s.arrive(inv(f as u64, f, t)));
        s.event(t + 1, Event::Ready { instance });
        s.event(
            t + 6,
            Event::Done {
                instance,
                job: JobId(0),
            },
        );
        instance
    }

    #[test]
    fn an_idle_host_is_emptied_and_powered_off() {
        let mut s = script(false, 1);
        // Apps 0 and 1 fill host 0 (both busy at once), app 2 goes to host 1.
        let a = started(&s.arrive(inv(0, 0, 0)));
        let b = started(&s.arrive(inv(1, 1, 0)));
        let c = started(&s.arrive(inv(2, 2, 0)));
        for (j, i) in [a, b, c].into_iter().enumerate() {
            s.event(1, Event::Ready { instance: i });
            s.event(
                6,
                Event::Done {
                    instance: i,
                    job: JobId(j as u32),
                },
            );
        }
        // App 1's instance dies: host 0 holds 100 of 200 MB, all idle.
        s.event(10, Event::Crash { instance: b });
        let moved = s.consolidate(20);
        assert!(
            matches!(
                moved[..],
                [
                    Action::Killed {
                        reason: KillReason::Relocation,
                        app: AppId(0),
                        host: HostId(0),
                        ..
                    },
                    Action::Relocated {
                        app: AppId(0),
                        from: HostId(0),
                        to: HostId(1),
                    },
                    Action::Start {
                        app: AppId(0),
                        host: HostId(1),
                        prewarm: true,
                        ..
                    },
                ]
            ),
            "{moved:?}"
        );
        assert_eq!(s.p.host_state(HostId(0)), HostState::Off);
        assert_eq!(s.gauges().hosts_on, 1);
        assert_eq!(s.p.hosts().instances(HostId(1)), 2);
        // Host 1 is full: a new instance powers host 0 on again.
        let copy = started(&moved);
        s.event(21, Event::Ready { instance: copy });
        let a = s.arrive(inv(3, 1, 30));
        assert!(
            matches!(
                a[..],
                [Action::Start {
                    app: AppId(1),
                    host: HostId(0),
                    ..
                }]
            ),
            "{a:?}"
        );
        assert_eq!(s.p.host_state(HostId(0)), HostState::Up);
        assert_eq!(s.gauges().hosts_on, 2);
    }

    #[test]
    fn min_on_keeps_hosts_powered() {
        let mut s = script(false, 2);
        let a = run(&mut s, 0, 0);
        // Host 0 is light: its instance moves to host 1, but with two
        // hosts to keep on, the empty one stays on.
        let moved = s.consolidate(20);
        assert!(
            matches!(moved[..], [
            Action::Killed { instance, .. },
            Action::Relocated { to: HostId(1), .. },
            Action::Start { .. },
        ] if instance == a),
            "{moved:?}"
        );
        assert_eq!(s.p.host_state(HostId(0)), HostState::Up);
        assert_eq!(s.gauges().hosts_on, 2);
    }

    #[test]
    fn spread_moves_idle_instances_off_a_full_host() {
        let mut s = script(true, 1);
        // Apps 0 and 1 fill host 0 and go idle, app 0 first.
        let a = started(&s.arrive(inv(0, 0, 0)));
        let b = started(&s.arrive(inv(1, 1, 0)));
        s.event(1, Event::Ready { instance: a });
        s.event(1, Event::Ready { instance: b });
        s.event(
            6,
            Event::Done {
                instance: a,
                job: JobId(0),
            },
        );
        s.event(
            7,
            Event::Done {
                instance: b,
                job: JobId(1),
            },
        );
        // Above half full: the one idle longest moves until it is not.
        let moved = s.consolidate(20);
        assert!(
            matches!(
                moved[..],
                [
                    Action::Killed { instance, .. },
                    Action::Relocated {
                        app: AppId(0),
                        from: HostId(0),
                        to: HostId(1),
                    },
                    Action::Start { host: HostId(1), .. },
                ] if instance == a
            ),
            "{moved:?}"
        );
        // Half full now: nothing more moves, nothing goes off.
        assert!(s.consolidate(30).is_empty());
        assert_eq!(s.gauges().hosts_on, 2);
    }
}
