//! An instance's life: placement and start (cold or pre-warmed, and the
//! provisioned ones), ready, attaching invocations to it, executing them,
//! finishing them, the keep-alive decision, idling and eviction.

use crate::model::{AppId, HostId, Invocation};
use crate::time::{SimDuration, SimTime};

use super::arena::{InstanceId, JobId, NIL};
use super::decisions::{IdleInstance, KeepDecision};
use super::snapshots::StartKind;
use super::{Action, Completion, EvictReason, HostState, KillReason, Platform, State, WarmSelect};

impl Platform {
    /// A keep-alive timer fired: an idle instance past its expiry is
    /// evicted; one whose expiry moved later (it was used meanwhile) has
    /// its timer armed again; a busy one is left alone (it arms a timer
    /// when it next goes idle).
    #[inline]
    pub(super) fn keepalive_due(&mut self, id: InstanceId, now: SimTime, out: &mut Vec<Action>) {
        if let Some(slot) = self.live_any(id) {
            let inst = &mut self.insts[slot as usize];
            inst.timer_armed = false;
            if inst.state == State::Idle && !inst.provisioned {
                if now >= inst.expires_at {
                    self.evict(slot, EvictReason::KeepAlive, out);
                    self.drain_queue(now, out);
                } else {
                    inst.timer_armed = true;
                    out.push(Action::ArmKeepAlive {
                        instance: id,
                        at: inst.expires_at,
                    });
                }
            }
        }
    }

    /// The idle instance of `app` that serves the next arrival, or NIL.
    #[inline]
    pub(super) fn pick_warm(&self, app: AppId) -> u32 {
        let list = self.app_idle[app.index()];
        match self.cfg.warm {
            WarmSelect::MostRecentlyUsed => list.head,
            WarmSelect::LeastRecentlyUsed => list.tail,
            WarmSelect::Newest => {
                // O(idle instances of the app), documented.
                let mut best = NIL;
                let mut cur = list.head;
                while cur != NIL {
                    let i = &self.insts[cur as usize];
                    if best == NIL || i.created > self.insts[best as usize].created {
                        best = cur;
                    }
                    cur = i.app_next;
                }
                best
            }
        }
    }

    /// The placement policy's host for a new instance, if one has room.
    #[inline]
    pub(super) fn place(&mut self, app: AppId, mb: u64) -> Option<HostId> {
        match &self.snapshots {
            Some(s) => self.placement.place_near(&self.hosts, s, app, mb),
            None => self.placement.place(&self.hosts, app, mb),
        }
    }

    /// An instance finished starting: run what waits for it, or (a
    /// pre-warm) serve the app's queue or go idle.
    pub(super) fn ready(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) {
        let (app, host, kind, took) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host, i.kind, i.took_snapshot)
        };
        if let Some(s) = self.snapshots.as_mut() {
            s.ready(app, host, kind, took);
        }
        if self.insts[slot as usize].active == 0 {
            self.prewarm_ready(slot, now, out);
            return;
        }
        self.set_state(slot, State::Busy);
        // The pending list is newest first: reverse it to run in order.
        let mut j = std::mem::replace(&mut self.insts[slot as usize].pending, NIL);
        let mut rev = NIL;
        while j != NIL {
            let next = self.jobs[j as usize].next;
            self.jobs[j as usize].next = rev;
            rev = j;
            j = next;
        }
        let mut j = rev;
        while j != NIL {
            let next = self.jobs[j as usize].next;
            self.jobs[j as usize].next = NIL;
            self.execute(slot, j, now, out);
            j = next;
        }
    }

    /// Gives `inv` a slot of an instance that has one (starting, busy, or
    /// idle and just taken out of the idle list): it runs now, or when the
    /// instance is ready.
    #[inline]
    pub(super) fn attach(
        &mut self,
        slot: u32,
        inv: Invocation,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        let (app, state) = {
            let i = &self.insts[slot as usize];
            (i.app, i.state)
        };
        if self.eviction_ranks {
            self.eviction.on_use(app, now);
        }
        if state == State::Starting {
            self.attach_pending(slot, inv, now);
        } else {
            let j = self.new_job(inv, now, None);
            self.jobs[j as usize].inst = slot;
            let mb = self.cfg.app_memory_mb[app.index()];
            let inst = &mut self.insts[slot as usize];
            inst.active += 1;
            if inst.prewarmed {
                inst.prewarmed = false;
                out.push(Action::PrewarmUsed { app });
            }
            if state == State::Idle {
                inst.state = State::Busy;
                let g = &mut self.gauges;
                g.idle -= 1;
                g.idle_mb -= mb;
                g.busy += 1;
                g.busy_mb += mb;
            }
            self.execute(slot, j, now, out);
        }
        if self.multi {
            self.update_spare(slot);
        }
    }

    /// Gives `inv` a slot of a starting instance: it waits for the start.
    pub(super) fn attach_pending(&mut self, slot: u32, inv: Invocation, now: SimTime) {
        let kind = self.insts[slot as usize].kind;
        let j = self.new_job(inv, now, Some(kind));
        self.jobs[j as usize].inst = slot;
        let inst = &mut self.insts[slot as usize];
        inst.active += 1;
        self.jobs[j as usize].next = inst.pending;
        inst.pending = j;
    }

    /// Starts job `j` on busy instance `slot`, slowed if the instance was
    /// restored and its working set is not back yet.
    #[inline]
    pub(super) fn execute(&mut self, slot: u32, j: u32, now: SimTime, out: &mut Vec<Action>) {
        let job = &mut self.jobs[j as usize];
        job.exec_start = now;
        let mut exec = job.inv.exec;
        let function = job.inv.function;
        if self.insts[slot as usize].slowed_left > 0 {
            exec = self.slowed(slot, exec);
        }
        self.gauges.running += 1;
        out.push(Action::Execute {
            instance: self.id(slot),
            job: JobId(j),
            function,
            exec,
        });
    }

    /// `exec` stretched by the restore slow-down (one fewer left).
    #[cold]
    pub(super) fn slowed(&mut self, slot: u32, exec: SimDuration) -> SimDuration {
        let inst = &mut self.insts[slot as usize];
        inst.slowed_left -= 1;
        match &self.snapshots {
            Some(s) => {
                let ppm = s.config().slowdown_ppm as u128;
                let v = (exec.as_nanos() as u128 * ppm).div_ceil(1_000_000);
                SimDuration::from_nanos(v.min(u64::MAX as u128) as u64)
            }
            None => exec,
        }
    }

    /// Job `j` ended on busy instance `slot`: the instance takes the next
    /// invocation waiting for its app, or keeps running others, or goes
    /// idle.
    pub(super) fn finish(&mut self, slot: u32, j: u32, now: SimTime, out: &mut Vec<Action>) {
        let app = self.insts[slot as usize].app;
        let job = &mut self.jobs[j as usize];
        debug_assert!(job.live);
        job.live = false;
        let job = *job;
        self.free_jobs.push(j);
        self.insts[slot as usize].active -= 1;
        self.gauges.running -= 1;
        out.push(Action::Completed(Completion {
            inv: job.inv,
            app,
            dispatched: job.dispatched,
            exec_start: job.exec_start,
            end: now,
            start: job.start,
        }));
        let mut admitted = if self.limits.is_some() {
            self.release(job.inv.function)
        } else {
            None
        };
        if let Some(w) = self.app_queue[app.index()].pop_front() {
            // Its entry in `order` is now stale and skipped later.
            self.gauges.queued -= 1;
            self.attach(slot, w.inv, now, out);
        } else if let Some(inv) =
            admitted.take_if(|inv| self.cfg.fn_app[inv.function.index()] == app)
        {
            self.attach(slot, inv, now, out);
        } else if self.insts[slot as usize].active > 0 {
            self.update_spare(slot);
        } else {
            self.idle_decision(slot, app, now, out);
        }
        if self.gauges.queued > 0 {
            self.drain_queue(now, out);
        }
        if let Some(inv) = admitted {
            let a = self.cfg.fn_app[inv.function.index()];
            self.dispatch(a, inv, now, out);
        }
    }

    /// The last execution of an instance ended with nothing queued for its
    /// app: the keep-alive policy decides.
    pub(super) fn idle_decision(
        &mut self,
        slot: u32,
        app: AppId,
        now: SimTime,
        out: &mut Vec<Action>,
    ) {
        if self.multi {
            self.update_spare(slot);
        }
        let draining = if self.insts[slot as usize].retiring {
            let host = self.insts[slot as usize].host;
            if self.host_state[host.index()] != HostState::Draining {
                self.kill(slot, KillReason::Lifetime, now, out);
                return;
            }
            // Its host is under a preemption notice: the keep-alive policy
            // decides as usual, then the idle instance moves away.
            true
        } else {
            false
        };
        let inst = &mut self.insts[slot as usize];
        if inst.first_idle == SimTime::MAX {
            inst.first_idle = now;
        }
        let view = IdleInstance {
            created: inst.created,
            first_idle: inst.first_idle,
        };
        match self.keepalive.on_idle(app, now, view) {
            KeepDecision::Keep(ttl) => self.go_idle(slot, now, ttl, out),
            KeepDecision::Evict => self.go_idle(slot, now, SimDuration::ZERO, out),
            KeepDecision::Prewarm { .. } if self.insts[slot as usize].provisioned => {
                self.go_idle(slot, now, SimDuration::ZERO, out)
            }
            KeepDecision::Prewarm { after, keep } => {
                self.go_idle(slot, now, SimDuration::ZERO, out);
                let p = &mut self.app_idle[app.index()].prewarm;
                p.generation = p.generation.wrapping_add(1);
                p.pending = true;
                p.keep = keep;
                out.push(Action::ArmPrewarm {
                    app,
                    generation: p.generation,
                    at: now + after,
                });
            }
        }
        if draining
            && self.insts[slot as usize].state == State::Idle
            && !(self.cfg.relocate_on_notice && self.relocate(slot, now, out))
        {
            self.kill(slot, KillReason::Preemption, now, out);
        }
    }

    /// Puts an instance with no work in the idle lists for `keep`, arming
    /// its timer; zero evicts it at once (through the idle state, so that
    /// eviction has one path).
    pub(super) fn go_idle(
        &mut self,
        slot: u32,
        now: SimTime,
        keep: SimDuration,
        out: &mut Vec<Action>,
    ) {
        let (app, host) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app.index()];
        self.set_state(slot, State::Idle);
        let inst = &mut self.insts[slot as usize];
        inst.expires_at = now + keep;
        let provisioned = inst.provisioned;
        let arm = !inst.timer_armed && !keep.is_zero() && !provisioned;
        if arm {
            inst.timer_armed = true;
        }
        self.hosts.mark_idle(host, mb);
        self.push_idle(slot, now);
        if provisioned {
            // Stays idle, with no timer, until used.
        } else if keep.is_zero() {
            self.evict(slot, EvictReason::KeepAlive, out);
        } else if arm {
            out.push(Action::ArmKeepAlive {
                instance: self.id(slot),
                at: now + keep,
            });
        }
    }

    /// Takes an idle instance out of its lists for work (still `Idle` until
    /// [`Platform::attach`] makes it busy).
    #[inline]
    pub(super) fn take_idle(&mut self, slot: u32) {
        let (app, host) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app.index()];
        self.unlink_idle(slot);
        self.hosts.mark_taken(host, mb);
    }

    /// Starts a new instance for `inv` if a host can take it (evicting idle
    /// instances if allowed). False if not.
    pub(super) fn try_start(
        &mut self,
        app: AppId,
        inv: Invocation,
        now: SimTime,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(host) = self.find_host(app, out) else {
            return false;
        };
        self.new_instance(app, host, Some(inv), now, out);
        true
    }

    /// Starts an instance of `app` on `host` (which has room): for `inv`
    /// (a cold start), or with no invocation (a pre-warm).
    pub(super) fn new_instance(
        &mut self,
        app: AppId,
        host: HostId,
        inv: Option<Invocation>,
        now: SimTime,
        out: &mut Vec<Action>,
    ) -> u32 {
        let mb = self.cfg.app_memory_mb[app.index()];
        self.hosts.alloc(host, mb);
        let (kind, take) = match self.snapshots.as_mut() {
            Some(s) => s.start_kind(app, host),
            None => (StartKind::Full, false),
        };
        let slowed = match (&self.snapshots, kind) {
            (Some(s), StartKind::LocalRestore | StartKind::RemoteRestore) => {
                s.config().slowdown_invocations
            }
            _ => 0,
        };
        let slot = self.alloc_slot();
        let inst = &mut self.insts[slot as usize];
        inst.app = app;
        inst.host = host;
        inst.host_pos = self.host_insts[host.index()].len() as u32;
        self.host_insts[host.index()].push(slot);
        inst.timer_armed = false;
        inst.created = now;
        inst.first_idle = SimTime::MAX;
        inst.prewarmed = false;
        inst.provisioned = false;
        inst.kind = kind;
        inst.took_snapshot = take;
        inst.slowed_left = slowed;
        inst.active = 0;
        inst.pending = NIL;
        inst.retiring = false;
        inst.expires_at = SimTime::ZERO;
        self.set_state(slot, State::Starting);
        if let Some(life) = self.cfg.max_lifetime {
            out.push(Action::ArmLifetime {
                instance: self.id(slot),
                at: now + life,
            });
        }
        out.push(Action::Start {
            instance: self.id(slot),
            app,
            host,
            prewarm: inv.is_none(),
            kind,
            take_snapshot: take,
        });
        if let Some(inv) = inv {
            self.attach(slot, inv, now, out);
        }
        slot
    }

    /// A host for a new instance of `app`, evicting idle instances if the
    /// placement policy finds no room and eviction is on.
    pub(super) fn find_host(&mut self, app: AppId, out: &mut Vec<Action>) -> Option<HostId> {
        let mb = self.cfg.app_memory_mb[app.index()];
        if let Some(h) = self.place(app, mb) {
            return Some(h);
        }
        if self.power_on_for(mb)
            && let Some(h) = self.place(app, mb)
        {
            return Some(h);
        }
        if !self.cfg.evict_for_memory {
            return None;
        }
        let h = self.hosts.first_reclaimable(mb)?;
        while self.hosts.free_mb(h) < mb {
            // The idle instance of the host with the lowest eviction
            // priority, the one idle longest among equals.
            let victim = self.host_insts[h.index()]
                .iter()
                .copied()
                .filter(|&i| {
                    let inst = &self.insts[i as usize];
                    inst.state == State::Idle && !inst.provisioned
                })
                .min_by(|&a, &b| {
                    let (a, b) = (&self.insts[a as usize], &self.insts[b as usize]);
                    a.priority
                        .total_cmp(&b.priority)
                        .then(a.idle_seq.cmp(&b.idle_seq))
                });
            // None: the host's idle memory is all provisioned.
            let victim = victim?;
            let priority = self.insts[victim as usize].priority;
            self.evict(victim, EvictReason::Pressure, out);
            self.eviction.on_evict(priority);
        }
        Some(h)
    }

    /// Evicts an idle instance.
    pub(super) fn evict(&mut self, slot: u32, reason: EvictReason, out: &mut Vec<Action>) {
        let id = self.id(slot);
        let (app, host) = {
            let i = &self.insts[slot as usize];
            debug_assert_eq!(i.state, State::Idle);
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app.index()];
        self.unlink_idle(slot);
        self.hosts.release_idle(host, mb);
        self.set_state(slot, State::Free);
        // Leave the host's instance list (swap-remove, fixing the moved one).
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
        inst.generation = inst.generation.wrapping_add(1);
        inst.timer_armed = false;
        self.free_slots.push(slot);
        out.push(Action::Evicted {
            instance: id,
            app,
            host,
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Action, Completion, Event, EvictReason, JobId, StartKind};
    use crate::model::{AppId, FnId, HostId};
    use crate::time::{SimDuration, SimTime};

    fn start(instance: super::InstanceId, app: u32, host: u32, prewarm: bool) -> Action {
        Action::Start {
            instance,
            app: AppId(app),
            host: HostId(host),
            prewarm,
            kind: StartKind::Full,
            take_snapshot: false,
        }
    }

    fn execute(instance: super::InstanceId, job: u32, f: u32) -> Action {
        Action::Execute {
            instance,
            job: JobId(job),
            function: FnId(f),
            exec: SimDuration(5),
        }
    }

    #[test]
    fn cold_then_warm() {
        let mut s = Script::new(platform(1, 1000, &[100], 60, 10));
        let a = s.arrive(inv(0, 0, 0));
        let instance = started(&a);
        assert_eq!(a, [start(instance, 0, 0, false)]);
        assert_eq!((s.gauges().starting, s.gauges().starting_mb), (1, 100));
        assert_eq!(
            s.event(3, Event::Ready { instance }),
            [execute(instance, 0, 0)]
        );
        assert_eq!((s.gauges().busy, s.gauges().running), (1, 1));
        let done = Event::Done {
            instance,
            job: JobId(0),
        };
        assert_eq!(
            s.event(8, done),
            [
                Action::Completed(Completion {
                    inv: inv(0, 0, 0),
                    app: AppId(0),
                    dispatched: SimTime(0),
                    exec_start: SimTime(3),
                    end: SimTime(8),
                    start: Some(StartKind::Full),
                }),
                Action::ArmKeepAlive {
                    instance,
                    at: SimTime(8 + 60 * SEC),
                },
            ]
        );
        assert_eq!((s.gauges().idle, s.gauges().idle_mb), (1, 100));
        // Warm: the same instance, the job slot reused, no start.
        assert_eq!(s.arrive(inv(1, 0, 9)), [execute(instance, 0, 0)]);
        let a = s.event(14, done);
        assert!(matches!(a[0], Action::Completed(c) if !c.cold() && c.dispatched == SimTime(9)));
    }

    #[test]
    fn keepalive_runs_out_and_reuse_rearms_the_timer() {
        let mut s = Script::new(platform(1, 1000, &[100], 60, 10));
        let instance = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance });
        let done = Event::Done {
            instance,
            job: JobId(0),
        };
        assert_eq!(
            s.event(6, done)[1],
            Action::ArmKeepAlive {
                instance,
                at: SimTime(6 + 60 * SEC),
            }
        );
        // Used again at 10 s: no second timer is armed...
        s.arrive(inv(1, 0, 10 * SEC));
        assert_eq!(s.event(10 * SEC + 5, done).len(), 1);
        // ...the first one fires, finds the expiry moved, and re-arms.
        let timer = Event::KeepAlive { instance };
        assert_eq!(
            s.event(6 + 60 * SEC, timer),
            [Action::ArmKeepAlive {
                instance,
                at: SimTime(70 * SEC + 5),
            }]
        );
        assert_eq!(
            s.event(70 * SEC + 5, timer),
            [Action::Evicted {
                instance,
                app: AppId(0),
                host: HostId(0),
                reason: EvictReason::KeepAlive,
            }]
        );
        assert_eq!(s.p.live_instances(), 0);
        assert_eq!(s.gauges().idle_mb, 0);
        assert_eq!(s.p.hosts().free_mb(HostId(0)), 1000);
    }

    #[test]
    fn stale_events_are_ignored() {
        let mut s = Script::new(platform(1, 1000, &[100], 1, 10));
        let instance = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance });
        let done = Event::Done {
            instance,
            job: JobId(0),
        };
        s.event(2, done);
        let at = 2 + SEC;
        s.event(at, Event::KeepAlive { instance });
        assert_eq!(s.p.live_instances(), 0);
        // The old id and its events are dead now, even once its slot is
        // reused by a new instance (one generation on).
        let next = started(&s.arrive(inv(1, 0, at)));
        assert_eq!(
            (next.slot, next.generation),
            (instance.slot, instance.generation + 1)
        );
        assert!(s.event(at, done).is_empty());
        assert!(s.event(at, Event::KeepAlive { instance }).is_empty());
        assert!(s.event(at, Event::Ready { instance }).is_empty());
        assert_eq!(s.gauges().starting, 1);
    }

    #[test]
    fn concurrency_packs_invocations_on_an_instance() {
        let mut cfg = config(1, 1000, &[100], 10);
        cfg.app_concurrency = vec![2];
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        let mut s = Script::new(platform_with(cfg, ttl));
        let a = started(&s.arrive(inv(0, 0, 0)));
        // The second waits for the starting instance: no second start.
        assert!(s.arrive(inv(1, 0, 1)).is_empty());
        assert_eq!(s.p.live_instances(), 1);
        // Ready: both run, in arrival order.
        assert_eq!(
            s.event(2, Event::Ready { instance: a }),
            [execute(a, 0, 0), execute(a, 1, 0)]
        );
        assert_eq!((s.gauges().busy, s.gauges().running), (1, 2));
        // Full: the third gets a new instance.
        let b = started(&s.arrive(inv(2, 0, 3)));
        assert_ne!(a, b);
        // One ends on the first: its free slot takes the next arrival.
        let a0 = s.event(
            7,
            Event::Done {
                instance: a,
                job: JobId(0),
            },
        );
        assert!(matches!(a0[..], [Action::Completed(_)]));
        assert_eq!(s.arrive(inv(3, 0, 8)), [execute(a, 0, 0)]);
        assert_eq!(
            (s.gauges().busy, s.gauges().starting, s.gauges().running),
            (1, 1, 2)
        );
    }

    #[test]
    fn pressure_evicts_the_idle_instance_idle_longest() {
        // Host of 200 MB, apps of 100 MB: two instances fit.
        let mut s = Script::new(platform(1, 200, &[100, 100, 100], 600, 5));
        let ids: Vec<_> = (0..2)
            .map(|f| started(&s.arrive(inv(f as u64, f, 0))))
            .collect();
        for &instance in &ids {
            s.event(2, Event::Ready { instance });
        }
        // App 1 goes idle first, then app 0.
        s.event(
            9,
            Event::Done {
                instance: ids[1],
                job: JobId(1),
            },
        );
        s.event(
            10,
            Event::Done {
                instance: ids[0],
                job: JobId(0),
            },
        );
        assert_eq!(s.gauges().idle, 2);
        // A third app needs room: app 1's instance makes it.
        let a = s.arrive(inv(2, 2, 11));
        assert_eq!(
            a[0],
            Action::Evicted {
                instance: ids[1],
                app: AppId(1),
                host: HostId(0),
                reason: EvictReason::Pressure,
            }
        );
        assert!(
            matches!(a[1..], [Action::Start { app: AppId(2), .. }]),
            "{a:?}"
        );
        assert_eq!((s.gauges().idle, s.gauges().starting), (1, 1));
    }
}
