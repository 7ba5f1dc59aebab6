//! Instances started ahead of demand: pre-warms (the keep-alive policy's
//! [`KeepDecision::Prewarm`], cancelled by an arrival of the app before
//! they are due) and provisioned concurrency (started at time 0, never
//! evicted). Both start as instances with no invocation and, once ready,
//! serve the app's queue or go idle.
//!
//! [`KeepDecision::Prewarm`]: super::KeepDecision::Prewarm

use crate::model::AppId;
use crate::time::SimTime;

use super::{Action, Platform, State};

impl Platform {
    /// A pre-warm armed for `app` is due: it starts unless an arrival of
    /// the app cancelled it (moved the app's pre-warm generation on).
    #[inline]
    pub(super) fn prewarm_due(
        &mut self,
        app: AppId,
        generation: u32,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        let p = &mut self.app_idle[app.index()].prewarm;
        if p.pending && p.generation == generation {
            p.pending = false;
            let _ = self.prewarm_start(app, now, out);
        }
    }

    /// Starts every app's provisioned instances (`app_min_instances`), as
    /// pre-warms, where a host has room; call once, at time 0, before any
    /// input. Instances that find no room are not retried. A provisioned
    /// instance is never evicted, by keep-alive or for memory, and never
    /// unloaded for a pre-warm: like provisioned concurrency on AWS Lambda,
    /// it stays for the whole run, idle (and counted as idle memory) when
    /// unused.
    pub fn provision(&mut self, now: SimTime, out: &mut Vec<Action>) {
        for a in 0..self.cfg.app_min_instances.len() as u32 {
            let app = AppId(a);
            for _ in 0..self.cfg.app_min_instances[app.index()] {
                if let Some(slot) = self.prewarm_start(app, now, out) {
                    self.insts[slot as usize].provisioned = true;
                }
            }
        }
    }

    /// A pre-warm is due: start an instance of `app` with no invocation, if
    /// a host has free memory (a pre-warm never evicts).
    pub(super) fn prewarm_start(
        &mut self,
        app: AppId,
        now: SimTime,
        out: &mut Vec<Action>,
    ) -> Option<u32> {
        let mb = self.cfg.app_memory_mb[app.index()];
        let host = match self.place(app, mb) {
            Some(h) => h,
            None if self.power_on_for(mb) => self.place(app, mb)?,
            None => return None,
        };
        Some(self.new_instance(app, host, None, now, out))
    }

    /// A pre-warmed instance is ready: serve the app's queue, or go idle for
    /// as long as the keep-alive policy says.
    pub(super) fn prewarm_ready(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) {
        let app = self.insts[slot as usize].app;
        self.set_state(slot, State::Busy);
        self.insts[slot as usize].prewarmed = true;
        let k = self.cfg.app_concurrency[app.index()];
        let mut served = 0;
        while served < k {
            let Some(w) = self.app_queue[app.index()].pop_front() else {
                break;
            };
            self.gauges.queued -= 1;
            self.attach(slot, w.inv, now, out);
            served += 1;
        }
        if served > 0 {
            return;
        }
        // A relocated instance keeps what was left of its keep-alive (set in
        // `expires_at` by `relocate`); a pre-warm keeps its app's window.
        let expires = self.insts[slot as usize].expires_at;
        let keep = if expires > now {
            expires.since(now)
        } else {
            self.app_idle[app.index()].prewarm.keep
        };
        self.go_idle(slot, now, keep, out);
        self.drain_queue(now, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Action, Event, EvictReason, JobId};
    use crate::model::{AppId, FnId, HostId};
    use crate::time::{SimDuration, SimTime};

    #[test]
    fn prewarm_used_then_wasted() {
        let keep = PrewarmAfter {
            after: SimDuration::from_secs(30),
            keep: SimDuration::from_secs(20),
        };
        let mut s = Script::new(platform_with(config(1, 1000, &[100], 10), Box::new(keep)));
        let first = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance: first });
        let a = s.event(
            6,
            Event::Done {
                instance: first,
                job: JobId(0),
            },
        );
        // Unloaded at once, and a pre-warm armed 30 s on.
        assert_eq!(
            a[1..],
            [
                Action::Evicted {
                    instance: first,
                    app: AppId(0),
                    host: HostId(0),
                    reason: EvictReason::KeepAlive,
                },
                Action::ArmPrewarm {
                    app: AppId(0),
                    generation: 1,
                    at: SimTime(6 + 30 * SEC),
                },
            ]
        );
        let due = |generation| Event::Prewarm {
            app: AppId(0),
            generation,
        };
        let warm = started(&s.event(6 + 30 * SEC, due(1)));
        assert_eq!(s.gauges().starting, 1);
        // Ready with no invocation: idle for the pre-warm window.
        assert_eq!(
            s.event(31 * SEC, Event::Ready { instance: warm }),
            [Action::ArmKeepAlive {
                instance: warm,
                at: SimTime(51 * SEC),
            }]
        );
        // Used: counted, and the arrival is warm.
        assert_eq!(
            s.arrive(inv(1, 0, 40 * SEC)),
            [
                Action::PrewarmUsed { app: AppId(0) },
                Action::Execute {
                    instance: warm,
                    job: JobId(0),
                    function: FnId(0),
                    exec: SimDuration(5),
                },
            ]
        );
        let a = s.event(
            40 * SEC + 5,
            Event::Done {
                instance: warm,
                job: JobId(0),
            },
        );
        assert!(matches!(a[0], Action::Completed(c) if !c.cold()));
        let again = started(&s.event(70 * SEC + 5, due(2)));
        s.event(71 * SEC, Event::Ready { instance: again });
        // Never used: wasted when its window runs out.
        assert_eq!(
            s.event(91 * SEC, Event::KeepAlive { instance: again }),
            [
                Action::PrewarmWasted { app: AppId(0) },
                Action::Evicted {
                    instance: again,
                    app: AppId(0),
                    host: HostId(0),
                    reason: EvictReason::KeepAlive,
                },
            ]
        );
    }

    #[test]
    fn an_arrival_cancels_the_pending_prewarm() {
        let keep = PrewarmAfter {
            after: SimDuration::from_secs(30),
            keep: SimDuration::from_secs(20),
        };
        let mut s = Script::new(platform_with(config(1, 1000, &[100], 10), Box::new(keep)));
        let first = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance: first });
        s.event(
            6,
            Event::Done {
                instance: first,
                job: JobId(0),
            },
        );
        // A cold start before the pre-warm is due; the pre-warm is void.
        let cold = s.arrive(inv(1, 0, 10 * SEC));
        assert!(matches!(cold[0], Action::Start { prewarm: false, .. }));
        let due = Event::Prewarm {
            app: AppId(0),
            generation: 1,
        };
        assert!(s.event(6 + 30 * SEC, due).is_empty());
        assert_eq!(s.p.live_instances(), 1);
    }

    #[test]
    fn provisioned_instances_stay() {
        let mut cfg = config(1, 200, &[100, 150], 10);
        cfg.app_min_instances = vec![1, 0];
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        let mut s = Script::new(platform_with(cfg, ttl));
        let mut out = Vec::new();
        s.p.provision(SimTime::ZERO, &mut out);
        assert!(matches!(
            out[..],
            [Action::Start {
                app: AppId(0),
                prewarm: true,
                ..
            }]
        ));
        let instance = started(&out);
        // Ready: idle with no timer.
        assert!(s.event(1, Event::Ready { instance }).is_empty());
        assert_eq!(s.gauges().idle, 1);
        // Never evicted for memory: app 1 waits instead.
        assert!(matches!(s.arrive(inv(0, 1, 2))[0], Action::Queued { .. }));
        // Used, and idle again with no timer after.
        let a = s.arrive(inv(1, 0, 3));
        assert!(matches!(
            a[..],
            [Action::PrewarmUsed { .. }, Action::Execute { .. }]
        ));
        let a = s.event(
            8,
            Event::Done {
                instance,
                job: JobId(0),
            },
        );
        assert!(matches!(a[..], [Action::Completed(_)]), "{a:?}");
        assert_eq!((s.gauges().idle, s.gauges().queued), (1, 1));
    }
}
