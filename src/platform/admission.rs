//! Admission: an arrival under the concurrency limits (admitted, rejected
//! or held), its dispatch to an instance, and the FIFO queue of
//! invocations waiting for memory, with its length bound, its timeouts and
//! its no-overtaking rule.

use std::collections::VecDeque;

use crate::model::{AppId, FnId, Invocation};
use crate::time::SimTime;

use super::arena::{NIL, Ticket};
use super::{Action, Platform, RejectReason, Throttle};

/// A queued invocation (for memory, or held by a limit) and its ticket.
#[derive(Clone, Copy, Debug)]
pub(super) struct Waiting {
    pub(super) ticket: Ticket,
    pub(super) inv: Invocation,
}

/// Concurrency limits and the invocations they hold back.
pub(super) struct Limits {
    pub(super) fn_limit: Vec<u32>,
    pub(super) global: u64,
    pub(super) throttle: Throttle,
    /// Admitted invocations not yet ended, per function and in all.
    pub(super) inflight: Vec<u32>,
    pub(super) total: u64,
    /// Held invocations per function, and all of them in arrival order
    /// (entries already admitted through their function's queue are
    /// skipped lazily).
    pub(super) held: Vec<VecDeque<Waiting>>,
    pub(super) order: VecDeque<(Ticket, FnId)>,
}

impl Limits {
    #[inline]
    pub(super) fn admits(&self, f: FnId) -> bool {
        self.inflight[f.index()] < self.fn_limit[f.index()] && self.total < self.global
    }

    /// Whether the order entry `(ticket, f)` still waits.
    pub(super) fn waiting(&self, ticket: Ticket, f: FnId) -> bool {
        self.held[f.index()]
            .front()
            .is_some_and(|w| w.ticket <= ticket)
    }

    pub(super) fn skip_stale(&mut self) {
        while let Some(&(t, f)) = self.order.front() {
            if self.waiting(t, f) {
                break;
            }
            self.order.pop_front();
        }
    }
}

impl Platform {
    /// A new invocation arrives at `now`.
    #[inline]
    pub fn arrival(&mut self, now: SimTime, inv: Invocation, out: &mut Vec<Action>) {
        let app = self.cfg.fn_app[inv.function.index()];
        if self.keepalive_learns {
            self.keepalive.on_arrival(app, now);
        }
        // The arrival a pending pre-warm was waiting for has come: cancel it.
        let p = &mut self.app_idle[app.index()].prewarm;
        if p.pending {
            p.pending = false;
            p.generation = p.generation.wrapping_add(1);
        }
        if self.limits.is_some() && !self.admit(inv, now, out) {
            return;
        }
        self.dispatch(app, inv, now, out);
    }

    /// Admits an arrival under the concurrency limits, or throttles it
    /// (false).
    pub(super) fn admit(&mut self, inv: Invocation, now: SimTime, out: &mut Vec<Action>) -> bool {
        let Some(l) = self.limits.as_mut() else {
            return true;
        };
        let f = inv.function;
        if l.admits(f) {
            l.inflight[f.index()] += 1;
            l.total += 1;
            return true;
        }
        let full = self.gauges.queued + self.gauges.throttled >= self.cfg.queue_max_len as u64;
        if l.throttle == Throttle::Reject || full {
            let reason = if l.throttle == Throttle::Reject {
                RejectReason::Throttled
            } else {
                RejectReason::QueueFull
            };
            out.push(Action::Rejected { inv, reason });
            return false;
        }
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        l.held[f.index()].push_back(Waiting { ticket, inv });
        l.order.push_back((ticket, f));
        self.gauges.throttled += 1;
        out.push(Action::Throttled { inv });
        out.push(Action::ArmQueueTimeout {
            ticket,
            at: now + self.cfg.queue_timeout,
        });
        false
    }

    /// An admitted invocation ended (or was rejected after admission): its
    /// slot is free. Returns the held invocation admitted in its place.
    pub(super) fn release(&mut self, f: FnId) -> Option<Invocation> {
        let l = self.limits.as_mut()?;
        l.inflight[f.index()] -= 1;
        l.total -= 1;
        if self.gauges.throttled == 0 {
            return None;
        }
        // The oldest held invocation that the limits now admit: with no
        // global limit only `f`'s own can be; otherwise scan in arrival
        // order (O(held) at worst, documented).
        let pick = if l.global == u64::MAX {
            (!l.held[f.index()].is_empty() && l.admits(f)).then_some(f)
        } else {
            l.skip_stale();
            l.order
                .iter()
                .find(|&&(t, g)| l.waiting(t, g) && l.admits(g))
                .map(|&(_, g)| g)
        };
        let g = pick?;
        let w = l.held[g.index()].pop_front()?;
        l.inflight[g.index()] += 1;
        l.total += 1;
        self.gauges.throttled -= 1;
        Some(w.inv)
    }

    /// Gives an admitted invocation an instance: one of its app with a free
    /// slot, a new one, or a place in the queue.
    #[inline]
    pub(super) fn dispatch(
        &mut self,
        app: AppId,
        inv: Invocation,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        if self.multi {
            let s = self.app_idle[app.index()].spare;
            if s != NIL {
                self.attach(s, inv, now, out);
                return;
            }
        }
        let idle = self.pick_warm(app);
        if idle != NIL {
            self.take_idle(idle);
            self.attach(idle, inv, now, out);
            return;
        }
        if self.gauges.queued == 0 && self.try_start(app, inv, now, out) {
            return;
        }
        self.enqueue(app, inv, now, out);
    }

    pub(super) fn enqueue(
        &mut self,
        app: AppId,
        inv: Invocation,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        if self.gauges.queued + self.gauges.throttled >= self.cfg.queue_max_len as u64 {
            self.reject_admitted(inv, RejectReason::QueueFull, now, out);
            return;
        }
        let ticket = Ticket(self.next_ticket);
        self.next_ticket += 1;
        self.app_queue[app.index()].push_back(Waiting { ticket, inv });
        self.order.push_back((ticket, app));
        self.gauges.queued += 1;
        out.push(Action::Queued { inv });
        out.push(Action::ArmQueueTimeout {
            ticket,
            at: now + self.cfg.queue_timeout,
        });
    }

    /// Rejects an invocation the limits had admitted, freeing its slot for
    /// a held one.
    pub(super) fn reject_admitted(
        &mut self,
        inv: Invocation,
        reason: RejectReason,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        out.push(Action::Rejected { inv, reason });
        if self.limits.is_some()
            && let Some(next) = self.release(inv.function)
        {
            let a = self.cfg.fn_app[next.function.index()];
            self.dispatch(a, next, now, out);
        }
    }

    /// Drops entries of `order` that were served through their app's queue.
    #[inline]
    pub(super) fn skip_stale(&mut self) {
        while let Some(&(ticket, app)) = self.order.front() {
            if self.app_queue[app.index()].front().map(|w| w.ticket) == Some(ticket) {
                break;
            }
            self.order.pop_front();
        }
    }

    /// Serves the head of the queue while instances or memory allow.
    pub(super) fn drain_queue(&mut self, now: SimTime, out: &mut Vec<Action>) {
        while self.gauges.queued > 0 {
            self.skip_stale();
            let Some(&(_, app)) = self.order.front() else {
                break;
            };
            let Some(w) = self.app_queue[app.index()].front().copied() else {
                break;
            };
            let spare = if self.multi {
                self.app_idle[app.index()].spare
            } else {
                NIL
            };
            if spare != NIL {
                self.attach(spare, w.inv, now, out);
            } else if !self.try_start(app, w.inv, now, out) {
                break;
            }
            self.order.pop_front();
            self.app_queue[app.index()].pop_front();
            self.gauges.queued -= 1;
            if self.multi {
                self.fill_from_queue(app, now, out);
            }
        }
    }

    /// Gives the app's queued invocations the free slots of its busy or
    /// starting instances (a new instance with concurrency > 1 has some):
    /// they need no memory, so they do not wait behind other apps.
    pub(super) fn fill_from_queue(&mut self, app: AppId, now: SimTime, out: &mut Vec<Action>) {
        loop {
            let spare = self.app_idle[app.index()].spare;
            if spare == NIL {
                break;
            }
            let Some(w) = self.app_queue[app.index()].pop_front() else {
                break;
            };
            // Its entry in `order` is now stale and skipped later.
            self.gauges.queued -= 1;
            self.attach(spare, w.inv, now, out);
        }
    }

    /// A queue timeout fired. Timeouts are all the same length and tickets
    /// are issued in time order, so a ticket still waiting is the oldest
    /// one: the head of the memory queue or of the throttled ones.
    pub(super) fn timeout(&mut self, ticket: Ticket, now: SimTime, out: &mut Vec<Action>) {
        self.skip_stale();
        if self.order.front().map(|&(t, _)| t) == Some(ticket) {
            let Some((_, app)) = self.order.pop_front() else {
                return;
            };
            if let Some(w) = self.app_queue[app.index()].pop_front() {
                debug_assert_eq!(w.ticket, ticket);
                self.gauges.queued -= 1;
                self.reject_admitted(w.inv, RejectReason::Timeout, now, out);
            }
            return;
        }
        let Some(l) = self.limits.as_mut() else {
            return;
        };
        l.skip_stale();
        if l.order.front().map(|&(t, _)| t) != Some(ticket) {
            return; // already served
        }
        let Some((_, f)) = l.order.pop_front() else {
            return;
        };
        if let Some(w) = l.held[f.index()].pop_front() {
            debug_assert_eq!(w.ticket, ticket);
            self.gauges.throttled -= 1;
            out.push(Action::Rejected {
                inv: w.inv,
                reason: RejectReason::Timeout,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Action, Event, EvictReason, JobId, RejectReason, Throttle, Ticket};
    use crate::model::{AppId, FnId, HostId};
    use crate::time::{SimDuration, SimTime};

    fn limited(throttle: Throttle) -> Script {
        let mut cfg = config(1, 1000, &[100], 10);
        cfg.fn_limit = vec![Some(1)];
        cfg.throttle = throttle;
        Script::new(platform_with(
            cfg,
            Box::new(FixedTtl(SimDuration::from_secs(60))),
        ))
    }

    #[test]
    fn a_function_limit_rejects() {
        let mut s = limited(Throttle::Reject);
        started(&s.arrive(inv(0, 0, 0)));
        assert_eq!(
            s.arrive(inv(1, 0, 1)),
            [Action::Rejected {
                inv: inv(1, 0, 1),
                reason: RejectReason::Throttled,
            }]
        );
        assert_eq!(s.gauges().throttled, 0);
        assert_eq!(s.p.outstanding(), 1);
    }

    #[test]
    fn a_function_limit_holds_in_arrival_order() {
        let mut s = limited(Throttle::Queue);
        let instance = started(&s.arrive(inv(0, 0, 0)));
        for (i, t) in [(1, 1), (2, 2)] {
            assert_eq!(
                s.arrive(inv(i, 0, t)),
                [
                    Action::Throttled { inv: inv(i, 0, t) },
                    Action::ArmQueueTimeout {
                        ticket: Ticket(i - 1),
                        at: SimTime(t + 10 * SEC),
                    },
                ]
            );
        }
        assert_eq!(s.gauges().throttled, 2);
        s.event(3, Event::Ready { instance });
        // The first ends: its slot admits the oldest held one, which takes
        // the instance at once (warm).
        let a = s.event(
            8,
            Event::Done {
                instance,
                job: JobId(0),
            },
        );
        assert!(matches!(a[0], Action::Completed(c) if c.inv.id == 0));
        assert_eq!(
            a[1..],
            [Action::Execute {
                instance,
                job: JobId(0),
                function: FnId(0),
                exec: SimDuration(5),
            }]
        );
        assert_eq!(s.gauges().throttled, 1);
        // Its timeout finds it served; the other one times out.
        assert!(
            s.event(1 + 10 * SEC, Event::QueueTimeout { ticket: Ticket(0) })
                .is_empty()
        );
        assert_eq!(
            s.event(2 + 10 * SEC, Event::QueueTimeout { ticket: Ticket(1) }),
            [Action::Rejected {
                inv: inv(2, 0, 2),
                reason: RejectReason::Timeout,
            }]
        );
        assert_eq!(s.gauges().throttled, 0);
    }

    #[test]
    fn a_full_queue_rejects_and_a_timeout_ends_the_wait() {
        // One host of 100 MB: the first instance fills it.
        let mut s = Script::new(platform(1, 100, &[100, 100], 60, 1));
        started(&s.arrive(inv(0, 0, 0)));
        assert_eq!(
            s.arrive(inv(1, 1, 1)),
            [
                Action::Queued { inv: inv(1, 1, 1) },
                Action::ArmQueueTimeout {
                    ticket: Ticket(0),
                    at: SimTime(1 + 10 * SEC),
                },
            ]
        );
        assert_eq!(
            s.arrive(inv(2, 1, 2)),
            [Action::Rejected {
                inv: inv(2, 1, 2),
                reason: RejectReason::QueueFull,
            }]
        );
        assert_eq!(s.gauges().queued, 1);
        assert_eq!(
            s.event(1 + 10 * SEC, Event::QueueTimeout { ticket: Ticket(0) }),
            [Action::Rejected {
                inv: inv(1, 1, 1),
                reason: RejectReason::Timeout,
            }]
        );
        assert_eq!(s.gauges().queued, 0);
        // A second timeout of the same ticket does nothing.
        assert!(
            s.event(2 + 10 * SEC, Event::QueueTimeout { ticket: Ticket(0) })
                .is_empty()
        );
    }

    #[test]
    fn no_overtaking_while_anything_waits_for_memory() {
        // 200 MB; app 0 takes 100, app 1 needs 150, app 2 only 50.
        let mut s = Script::new(platform(1, 200, &[100, 150, 50], 60, 10));
        let first = started(&s.arrive(inv(0, 0, 0)));
        assert!(matches!(s.arrive(inv(1, 1, 1))[0], Action::Queued { .. }));
        // App 2 would fit, but queues behind app 1.
        assert!(matches!(s.arrive(inv(2, 2, 2))[0], Action::Queued { .. }));
        assert_eq!(s.gauges().queued, 2);
        s.event(3, Event::Ready { instance: first });
        // App 0 ends and goes idle; the queue head evicts it for memory,
        // then app 2 starts behind app 1, in arrival order.
        let a = s.event(
            8,
            Event::Done {
                instance: first,
                job: JobId(0),
            },
        );
        assert!(
            matches!(
                a[..],
                [
                    Action::Completed(_),
                    Action::ArmKeepAlive { .. },
                    Action::Evicted {
                        reason: EvictReason::Pressure,
                        ..
                    },
                    Action::Start {
                        app: AppId(1),
                        host: HostId(0),
                        ..
                    },
                    Action::Start {
                        app: AppId(2),
                        host: HostId(0),
                        ..
                    },
                ]
            ),
            "{a:?}"
        );
        assert_eq!((s.gauges().queued, s.gauges().starting), (0, 2));
        // Their timeouts find them served.
        assert!(
            s.event(1 + 10 * SEC, Event::QueueTimeout { ticket: Ticket(0) })
                .is_empty()
        );
        assert!(
            s.event(2 + 10 * SEC, Event::QueueTimeout { ticket: Ticket(1) })
                .is_empty()
        );
    }
}
