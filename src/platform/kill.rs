//! Instances that die before their time: kills (host failure, reclaim,
//! out of memory, a crash, the maximum lifetime), the retry or failure of
//! what they ran, the hosts' conditions, preemption notices, and the
//! relocation of idle instances.

use crate::model::{HostId, Invocation};
use crate::time::{SimDuration, SimTime};

use super::arena::{InstanceId, NIL, RetryToken};
use super::{Action, HostState, KillReason, Platform, State};

impl Platform {
    /// The instance reached the maximum lifetime: recycled now if idle,
    /// else marked retiring (it takes no more work and is recycled when
    /// next idle).
    #[inline]
    pub(super) fn lifetime_due(&mut self, id: InstanceId, now: SimTime, out: &mut Vec<Action>) {
        if let Some(slot) = self.live_any(id) {
            if self.insts[slot as usize].state == State::Idle {
                self.kill(slot, KillReason::Lifetime, now, out);
                self.after_kill(now, out);
            } else {
                self.insts[slot as usize].retiring = true;
                if self.multi {
                    self.update_spare(slot);
                }
            }
        }
    }

    /// The retry announced with `token` is due: the invocation arrives
    /// again (with its attempt number up by one).
    #[inline]
    pub(super) fn retry_due(&mut self, token: RetryToken, now: SimTime, out: &mut Vec<Action>) {
        if let Some(inv) = self.retries.get_mut(token.index()).and_then(Option::take) {
            self.free_retries.push(token.0);
            self.pending_retries -= 1;
            self.arrival(now, inv, out);
        }
    }

    /// Kills the instance in `slot`, whatever its state: the invocations it
    /// runs or starts for fail (and are retried or failed for good), its
    /// memory is freed. The caller drains the queue afterwards
    /// ([`Platform::after_kill`]), once for a batch of kills.
    pub(super) fn kill(
        &mut self,
        slot: u32,
        reason: KillReason,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        let id = self.id(slot);
        let (app, host, state, took) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host, i.state, i.took_snapshot)
        };
        let mb = self.cfg.app_memory_mb[app.index()];
        let mut lost = SimDuration::ZERO;
        let mut jobs = 0u32;
        if self.insts[slot as usize].active > 0 {
            // O(live jobs) per kill: kills are rare next to invocations.
            for j in 0..self.jobs.len() {
                let job = self.jobs[j];
                if !job.live || job.inst != slot {
                    continue;
                }
                self.jobs[j].live = false;
                self.free_jobs.push(j as u32);
                jobs += 1;
                if state == State::Busy {
                    lost = lost + now.since(job.exec_start);
                    self.gauges.running -= 1;
                }
                let mut admitted = None;
                if self.limits.is_some() {
                    admitted = self.release(job.inv.function);
                }
                self.retry_or_fail(job.inv, reason, out);
                if let Some(inv) = admitted {
                    self.deferred.push(inv);
                }
            }
        }
        let inst = &mut self.insts[slot as usize];
        inst.active = 0;
        inst.pending = NIL;
        if self.multi {
            self.update_spare(slot);
        }
        match state {
            State::Idle => {
                self.unlink_idle(slot);
                self.hosts.release_idle(host, mb);
            }
            State::Starting | State::Busy => {
                self.hosts.mark_idle(host, mb);
                self.hosts.release_idle(host, mb);
                if state == State::Starting
                    && took
                    && let Some(s) = self.snapshots.as_mut()
                {
                    s.take_abandoned(app);
                }
            }
            State::Free => return,
        }
        self.set_state(slot, State::Free);
        let pos = self.insts[slot as usize].host_pos as usize;
        let list = &mut self.host_insts[host.index()];
        list.swap_remove(pos);
        if let Some(&moved) = list.get(pos) {
            self.insts[moved as usize].host_pos = pos as u32;
        }
        if self.insts[slot as usize].prewarmed {
            out.push(Action::PrewarmWasted { app });
        }
        let inst = &mut self.insts[slot as usize];
        inst.prewarmed = false;
        inst.provisioned = false;
        inst.retiring = false;
        inst.generation = inst.generation.wrapping_add(1);
        inst.timer_armed = false;
        self.free_slots.push(slot);
        out.push(Action::Killed {
            instance: id,
            app,
            host,
            reason,
            lost,
            jobs,
        });
    }

    /// After kills: dispatch the held invocations their freed concurrency
    /// slots admitted, then serve the queue with the freed memory.
    pub(super) fn after_kill(&mut self, now: SimTime, out: &mut Vec<Action>) {
        while let Some(inv) = self.deferred.pop() {
            let a = self.cfg.fn_app[inv.function.index()];
            self.dispatch(a, inv, now, out);
        }
        if self.gauges.queued > 0 {
            self.drain_queue(now, out);
        }
    }

    /// A failed attempt: retried after a backoff if its function's policy
    /// allows another attempt, else failed for good.
    pub(super) fn retry_or_fail(
        &mut self,
        inv: Invocation,
        reason: KillReason,
        out: &mut Vec<Action>,
    ) {
        let pol = self.cfg.fn_retry[inv.function.index()];
        let next = inv.attempt + 1;
        if next >= pol.max_attempts {
            out.push(Action::Failed { inv, reason });
            return;
        }
        let retry = Invocation {
            attempt: next,
            ..inv
        };
        let token = match self.free_retries.pop() {
            Some(t) => {
                self.retries[t as usize] = Some(retry);
                RetryToken(t)
            }
            None => {
                self.retries.push(Some(retry));
                RetryToken((self.retries.len() - 1) as u32)
            }
        };
        self.pending_retries += 1;
        out.push(Action::Retry {
            token,
            cap: pol.cap(next),
            reason,
        });
    }

    /// Kills every instance on host `h` for `reason`.
    pub(super) fn kill_host(
        &mut self,
        h: HostId,
        reason: KillReason,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        while let Some(&slot) = self.host_insts[h.index()].last() {
            self.kill(slot, reason, now, out);
        }
    }

    pub(super) fn set_host(&mut self, h: HostId, st: HostState) {
        let on =
            |s: HostState| matches!(s, HostState::Up | HostState::Failed | HostState::Draining);
        let old = self.host_state[h.index()];
        if on(old) && !on(st) {
            self.gauges.hosts_on -= 1;
        } else if !on(old) && on(st) {
            self.gauges.hosts_on += 1;
        }
        self.host_state[h.index()] = st;
        self.hosts.set_closed(h, st != HostState::Up);
    }

    /// Host `h` fails: everything on it dies, and it is closed until
    /// repaired. A host already down is left alone.
    pub(super) fn host_fail(&mut self, h: HostId, now: SimTime, out: &mut Vec<Action>) {
        if !matches!(
            self.host_state[h.index()],
            HostState::Up | HostState::Draining
        ) {
            return;
        }
        self.set_host(h, HostState::Failed);
        self.kill_host(h, KillReason::HostFailure, now, out);
        self.after_kill(now, out);
    }

    /// Host `h` is back and takes instances again.
    pub(super) fn host_repair(&mut self, h: HostId, now: SimTime, out: &mut Vec<Action>) {
        if matches!(
            self.host_state[h.index()],
            HostState::Failed | HostState::Reclaimed
        ) {
            self.set_host(h, HostState::Up);
            self.after_kill(now, out);
        }
    }

    /// A preemption notice for host `h`: it is closed; its idle instances
    /// move to other hosts (or are evicted); busy ones may finish.
    pub(super) fn preempt(&mut self, h: HostId, now: SimTime, out: &mut Vec<Action>) {
        if self.host_state[h.index()] != HostState::Up {
            return;
        }
        self.set_host(h, HostState::Draining);
        let insts: Vec<u32> = self.host_insts[h.index()].clone();
        for slot in insts {
            if self.insts[slot as usize].state == State::Idle {
                if !(self.cfg.relocate_on_notice && self.relocate(slot, now, out)) {
                    self.kill(slot, KillReason::Preemption, now, out);
                }
            } else {
                // Busy or starting: takes no more work, and moves (or goes)
                // when its last invocation ends.
                self.insts[slot as usize].retiring = true;
                if self.multi {
                    self.update_spare(slot);
                }
            }
        }
        self.after_kill(now, out);
    }

    /// The preempted host `h` is reclaimed: what still runs there dies.
    pub(super) fn reclaim(&mut self, h: HostId, now: SimTime, out: &mut Vec<Action>) {
        if !matches!(
            self.host_state[h.index()],
            HostState::Up | HostState::Draining
        ) {
            return;
        }
        self.set_host(h, HostState::Reclaimed);
        self.kill_host(h, KillReason::Preemption, now, out);
        self.after_kill(now, out);
    }

    /// Moves an idle instance to another host: kills it here and starts a
    /// replacement as a pre-warm where placement finds room (by full init
    /// or snapshot restore, as the snapshot model says), idle for what is
    /// left of its keep-alive. False (and nothing done) if no host has room.
    pub(super) fn relocate(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) -> bool {
        let (app, from, expires, provisioned) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host, i.expires_at, i.provisioned)
        };
        let mb = self.cfg.app_memory_mb[app.index()];
        // The source host is closed, so placement looks elsewhere.
        let Some(to) = self.place(app, mb) else {
            return false;
        };
        self.kill(slot, KillReason::Relocation, now, out);
        out.push(Action::Relocated { app, from, to });
        let keep = if provisioned {
            SimDuration::ZERO
        } else {
            expires.since(now).max(SimDuration::from_nanos(1))
        };
        let new = self.new_instance(app, to, None, now, out);
        let inst = &mut self.insts[new as usize];
        inst.provisioned = provisioned;
        inst.expires_at = now + keep;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Action, Event, HostState, JobId, KillReason, RetryPolicy, RetryToken};
    use crate::model::{AppId, HostId};
    use crate::time::{SimDuration, SimTime};

    /// Two hosts that each fit one instance of the one app, busy from 1.
    fn busy(retry: RetryPolicy) -> (Script, super::InstanceId) {
        let mut cfg = config(2, 100, &[100], 10);
        cfg.fn_retry = vec![retry];
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        let mut s = Script::new(platform_with(cfg, ttl));
        let instance = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance });
        (s, instance)
    }

    #[test]
    fn a_host_failure_kills_and_retries() {
        let retry = RetryPolicy {
            max_attempts: 2,
            base: SimDuration::from_secs(1),
            multiplier: 2.0,
            max: SimDuration::from_secs(10),
        };
        let (mut s, instance) = busy(retry);
        let host = HostId(0);
        assert_eq!(
            s.event(4, Event::HostFail { host }),
            [
                Action::Retry {
                    token: RetryToken(0),
                    cap: SimDuration::from_secs(1),
                    reason: KillReason::HostFailure,
                },
                Action::Killed {
                    instance,
                    app: AppId(0),
                    host,
                    reason: KillReason::HostFailure,
                    lost: SimDuration(3),
                    jobs: 1,
                },
            ]
        );
        assert_eq!(s.p.host_state(host), HostState::Failed);
        assert_eq!((s.p.live_instances(), s.p.outstanding()), (0, 1));
        // The retry arrives again: the failed host takes nothing, so it
        // starts on the other.
        let a = s.event(
            SEC,
            Event::Retry {
                token: RetryToken(0),
            },
        );
        assert!(
            matches!(
                a[..],
                [Action::Start {
                    host: HostId(1),
                    ..
                }]
            ),
            "{a:?}"
        );
        let again = started(&a);
        s.event(SEC + 1, Event::Ready { instance: again });
        let a = s.event(
            SEC + 6,
            Event::Done {
                instance: again,
                job: JobId(0),
            },
        );
        assert!(
            matches!(a[0], Action::Completed(c) if c.inv.attempt == 1 && c.inv.arrival == SimTime(0))
        );
        // A stale retry token does nothing; the host comes back.
        assert!(
            s.event(
                2 * SEC,
                Event::Retry {
                    token: RetryToken(0)
                }
            )
            .is_empty()
        );
        assert!(s.event(3 * SEC, Event::HostRepair { host }).is_empty());
        assert_eq!(s.p.host_state(host), HostState::Up);
    }

    #[test]
    fn a_host_failure_fails_what_has_no_attempt_left() {
        let (mut s, instance) = busy(RetryPolicy::NONE);
        let a = s.event(4, Event::HostFail { host: HostId(0) });
        assert_eq!(
            a[0],
            Action::Failed {
                inv: inv(0, 0, 0),
                reason: KillReason::HostFailure,
            }
        );
        assert!(matches!(a[1], Action::Killed { instance: i, jobs: 1, .. } if i == instance));
        assert_eq!(s.p.outstanding(), 0);
        // Failing again while down changes nothing.
        assert!(s.event(5, Event::HostFail { host: HostId(0) }).is_empty());
    }

    #[test]
    fn out_of_memory_kills_the_instance() {
        let (mut s, instance) = busy(RetryPolicy::NONE);
        let oom = Event::Oom {
            instance,
            job: JobId(0),
        };
        assert_eq!(
            s.event(3, oom),
            [
                Action::Failed {
                    inv: inv(0, 0, 0),
                    reason: KillReason::Oom,
                },
                Action::Killed {
                    instance,
                    app: AppId(0),
                    host: HostId(0),
                    reason: KillReason::Oom,
                    lost: SimDuration(2),
                    jobs: 1,
                },
            ]
        );
        assert_eq!(s.p.live_instances(), 0);
        assert_eq!(s.p.hosts().free_mb(HostId(0)), 100);
        // Its execution's end, now stale, is ignored.
        let done = Event::Done {
            instance,
            job: JobId(0),
        };
        assert!(s.event(6, done).is_empty());
    }

    #[test]
    fn the_maximum_lifetime_recycles_when_idle() {
        let mut cfg = config(1, 1000, &[100], 10);
        cfg.max_lifetime = Some(SimDuration(100));
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        let mut s = Script::new(platform_with(cfg, ttl));
        let a = s.arrive(inv(0, 0, 0));
        let instance = started(&a);
        assert_eq!(
            a[0],
            Action::ArmLifetime {
                instance,
                at: SimTime(100),
            }
        );
        s.event(1, Event::Ready { instance });
        // Busy when it comes of age: it finishes first, then goes.
        assert!(s.event(3, Event::Lifetime { instance }).is_empty());
        let a = s.event(
            6,
            Event::Done {
                instance,
                job: JobId(0),
            },
        );
        assert_eq!(
            a[1],
            Action::Killed {
                instance,
                app: AppId(0),
                host: HostId(0),
                reason: KillReason::Lifetime,
                lost: SimDuration::ZERO,
                jobs: 0,
            }
        );
        assert_eq!(s.p.live_instances(), 0);
        // Idle when it comes of age: recycled at once.
        let next = started(&s.arrive(inv(1, 0, 10)));
        s.event(11, Event::Ready { instance: next });
        s.event(
            16,
            Event::Done {
                instance: next,
                job: JobId(0),
            },
        );
        let a = s.event(110, Event::Lifetime { instance: next });
        assert!(matches!(
            a[..],
            [Action::Killed {
                reason: KillReason::Lifetime,
                ..
            }]
        ));
    }

    #[test]
    fn a_preemption_notice_relocates_idle_instances() {
        let mut s = Script::new(platform(2, 100, &[100], 60, 10));
        let instance = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance });
        s.event(
            6,
            Event::Done {
                instance,
                job: JobId(0),
            },
        );
        let a = s.event(10, Event::Preempt { host: HostId(0) });
        assert!(
            matches!(
                a[..],
                [
                    Action::Killed {
                        reason: KillReason::Relocation,
                        host: HostId(0),
                        lost: SimDuration::ZERO,
                        ..
                    },
                    Action::Relocated {
                        app: AppId(0),
                        from: HostId(0),
                        to: HostId(1),
                    },
                    Action::Start {
                        host: HostId(1),
                        prewarm: true,
                        ..
                    },
                ]
            ),
            "{a:?}"
        );
        // The copy keeps what was left of the keep-alive.
        let copy = started(&a);
        assert_eq!(
            s.event(20, Event::Ready { instance: copy }),
            [Action::ArmKeepAlive {
                instance: copy,
                at: SimTime(6 + 60 * SEC),
            }]
        );
        assert_eq!(s.p.host_state(HostId(0)), HostState::Draining);
        assert!(s.event(30, Event::Reclaim { host: HostId(0) }).is_empty());
        assert_eq!(s.p.host_state(HostId(0)), HostState::Reclaimed);
        assert_eq!(s.gauges().hosts_on, 1);
    }
}
