//! The arenas and the ids that name what is in them: instance slots (with
//! their generations, so that events for a slot's earlier occupant are
//! recognised and ignored), job slots, retry tokens and queue tickets, and
//! the intrusive lists threaded through the instances (each app's idle
//! list and its list of instances with a free slot). Inside the core a
//! slot is a bare `u32` index (`NIL` ends a list); the ids name slots in
//! the protocol.

use crate::model::{AppId, HostId, Invocation, dense_id};
use crate::time::{SimDuration, SimTime};

use super::Platform;
use super::snapshots::StartKind;

/// An instance slot and the generation of its current occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId {
    pub slot: u32,
    pub generation: u32,
}

dense_id!(
    /// A job slot: an invocation given an instance, until it ends (the
    /// slot is then reused). Named by [`Action::Execute`] and the events
    /// that end the execution.
    ///
    /// [`Action::Execute`]: super::Action::Execute
    JobId
);

dense_id!(
    /// A failed attempt waiting for its retry, named by [`Action::Retry`]
    /// and [`Event::Retry`] (the slot is reused once the retry is due).
    ///
    /// [`Action::Retry`]: super::Action::Retry
    /// [`Event::Retry`]: super::Event::Retry
    RetryToken
);

/// A place in the queue (for memory or for a concurrency limit): tickets
/// are issued in arrival order, one per queued invocation, and never
/// reused. Named by [`Action::ArmQueueTimeout`] and
/// [`Event::QueueTimeout`].
///
/// [`Action::ArmQueueTimeout`]: super::Action::ArmQueueTimeout
/// [`Event::QueueTimeout`]: super::Event::QueueTimeout
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub u64);

/// An instance slot's state (`Free`: no instance in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    Free,
    Starting,
    Busy,
    Idle,
}

/// An invocation given an instance, until it ends.
#[derive(Clone, Copy, Debug)]
pub(super) struct Job {
    pub(super) inv: Invocation,
    pub(super) dispatched: SimTime,
    pub(super) exec_start: SimTime,
    pub(super) start: Option<StartKind>,
    /// Next job waiting for the same starting instance (NIL: none).
    pub(super) next: u32,
    /// The instance slot it runs or waits on.
    pub(super) inst: u32,
    pub(super) live: bool,
}

/// The end of a list of slots (and "no slot").
pub(super) const NIL: u32 = u32::MAX;

/// An instance slot's occupant.
#[derive(Clone, Debug)]
pub(super) struct Instance {
    pub(super) generation: u32,
    pub(super) state: State,
    pub(super) app: AppId,
    pub(super) host: HostId,
    pub(super) timer_armed: bool,
    pub(super) expires_at: SimTime,
    /// When it was started, and when it first went idle (MAX: not yet).
    pub(super) created: SimTime,
    pub(super) first_idle: SimTime,
    /// Pre-warmed and not used yet.
    pub(super) prewarmed: bool,
    /// Provisioned concurrency: never evicted (see `Platform::provision`).
    pub(super) provisioned: bool,
    /// How it started, and whether it takes its app's snapshot.
    pub(super) kind: StartKind,
    pub(super) took_snapshot: bool,
    /// Invocations still to be slowed after a restore.
    pub(super) slowed_left: u32,
    /// Eviction priority, set when it goes idle (lowest evicted first).
    pub(super) priority: f64,
    /// Order of going idle (for least-recently-used eviction).
    pub(super) idle_seq: u64,
    /// Position in its host's instance list.
    pub(super) host_pos: u32,
    /// Jobs it runs or starts for.
    pub(super) active: u32,
    /// Jobs waiting for it to start (a list through `Job::next`).
    pub(super) pending: u32,
    // Links in the app's idle list (most recent first).
    pub(super) app_prev: u32,
    pub(super) app_next: u32,
    // Links in the app's list of busy or starting instances with a free
    // slot (only with concurrency > 1).
    pub(super) in_spare: bool,
    pub(super) spare_prev: u32,
    pub(super) spare_next: u32,
    /// Past its maximum lifetime: recycled when next idle, takes no more
    /// work meanwhile.
    pub(super) retiring: bool,
}

impl Instance {
    /// A slot's content before its first instance.
    const FREE: Instance = Instance {
        generation: 0,
        state: State::Free,
        app: AppId(0),
        host: HostId(0),
        timer_armed: false,
        expires_at: SimTime::ZERO,
        created: SimTime::ZERO,
        first_idle: SimTime::MAX,
        prewarmed: false,
        provisioned: false,
        kind: StartKind::Full,
        took_snapshot: false,
        slowed_left: 0,
        priority: 0.0,
        idle_seq: 0,
        host_pos: 0,
        active: 0,
        pending: NIL,
        app_prev: NIL,
        app_next: NIL,
        in_spare: false,
        spare_prev: NIL,
        spare_next: NIL,
        retiring: false,
    };
}

/// An app's idle list (most recently idle first) and its pending pre-warm,
/// side by side so that an arrival reads one cache line.
#[derive(Clone, Copy, Debug)]
pub(super) struct List {
    pub(super) head: u32,
    pub(super) tail: u32,
    /// Head of the app's list of instances with a free slot.
    pub(super) spare: u32,
    pub(super) prewarm: PendingPrewarm,
}

impl List {
    pub(super) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
        spare: NIL,
        prewarm: PendingPrewarm {
            generation: 0,
            pending: false,
            keep: SimDuration::ZERO,
        },
    };
}

/// An app's pending pre-warm: its generation (an arrival of the app
/// cancels it) and how long its instance stays idle once ready.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PendingPrewarm {
    pub(super) generation: u32,
    /// A pre-warm is armed and not yet started or cancelled.
    pub(super) pending: bool,
    pub(super) keep: SimDuration,
}

impl Platform {
    /// The slot of `id` if it is current and in `state`.
    #[inline]
    pub(super) fn live(&self, id: InstanceId, state: State) -> Option<u32> {
        let inst = self.insts.get(id.slot as usize)?;
        (inst.generation == id.generation && inst.state == state).then_some(id.slot)
    }

    #[inline]
    pub(super) fn live_any(&self, id: InstanceId) -> Option<u32> {
        let inst = self.insts.get(id.slot as usize)?;
        (inst.generation == id.generation && inst.state != State::Free).then_some(id.slot)
    }

    #[inline]
    pub(super) fn id(&self, slot: u32) -> InstanceId {
        InstanceId {
            slot,
            generation: self.insts[slot as usize].generation,
        }
    }

    /// Moves an instance to `to`, keeping the gauges in step.
    #[inline]
    pub(super) fn set_state(&mut self, slot: u32, to: State) {
        let inst = &mut self.insts[slot as usize];
        let mb = self.cfg.app_memory_mb[inst.app.index()];
        let g = &mut self.gauges;
        match inst.state {
            State::Starting => {
                g.starting -= 1;
                g.starting_mb -= mb;
            }
            State::Busy => {
                g.busy -= 1;
                g.busy_mb -= mb;
            }
            State::Idle => {
                g.idle -= 1;
                g.idle_mb -= mb;
            }
            State::Free => {}
        }
        match to {
            State::Starting => {
                g.starting += 1;
                g.starting_mb += mb;
            }
            State::Busy => {
                g.busy += 1;
                g.busy_mb += mb;
            }
            State::Idle => {
                g.idle += 1;
                g.idle_mb += mb;
            }
            State::Free => {}
        }
        inst.state = to;
    }

    /// A free instance slot (the caller fills it): a freed one, whose
    /// generation has already moved on, or a new one.
    #[inline]
    pub(super) fn alloc_slot(&mut self) -> u32 {
        match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.insts.push(Instance::FREE);
                (self.insts.len() - 1) as u32
            }
        }
    }

    /// A job for `inv`, dispatched now.
    #[inline]
    pub(super) fn new_job(
        &mut self,
        inv: Invocation,
        now: SimTime,
        start: Option<StartKind>,
    ) -> u32 {
        let job = Job {
            inv,
            dispatched: now,
            exec_start: now,
            start,
            next: NIL,
            inst: NIL,
            live: true,
        };
        match self.free_jobs.pop() {
            Some(j) => {
                self.jobs[j as usize] = job;
                j
            }
            None => {
                self.jobs.push(job);
                (self.jobs.len() - 1) as u32
            }
        }
    }

    /// Puts the instance in its app's list of instances with a free slot,
    /// or takes it out, as its load says.
    pub(super) fn update_spare(&mut self, slot: u32) {
        let (app, active, in_spare, state) = {
            let i = &self.insts[slot as usize];
            (i.app.index(), i.active, i.in_spare, i.state)
        };
        let k = self.cfg.app_concurrency[app];
        let should = active >= 1
            && active < k
            && matches!(state, State::Starting | State::Busy)
            && !self.insts[slot as usize].retiring;
        if should == in_spare {
            return;
        }
        if should {
            let head = self.app_idle[app].spare;
            let i = &mut self.insts[slot as usize];
            i.in_spare = true;
            i.spare_prev = NIL;
            i.spare_next = head;
            if head != NIL {
                self.insts[head as usize].spare_prev = slot;
            }
            self.app_idle[app].spare = slot;
        } else {
            let (p, n) = {
                let i = &mut self.insts[slot as usize];
                i.in_spare = false;
                (i.spare_prev, i.spare_next)
            };
            if p != NIL {
                self.insts[p as usize].spare_next = n;
            } else {
                self.app_idle[app].spare = n;
            }
            if n != NIL {
                self.insts[n as usize].spare_prev = p;
            }
            let i = &mut self.insts[slot as usize];
            i.spare_prev = NIL;
            i.spare_next = NIL;
        }
    }

    pub(super) fn push_idle(&mut self, slot: u32, now: SimTime) {
        let app = self.insts[slot as usize].app;
        if self.eviction_ranks {
            self.insts[slot as usize].priority = self.eviction.priority(app, now);
        }
        let app = app.index();
        // App list: push front (most recently used first).
        let head = self.app_idle[app].head;
        {
            let i = &mut self.insts[slot as usize];
            i.app_prev = NIL;
            i.app_next = head;
        }
        if head != NIL {
            self.insts[head as usize].app_prev = slot;
        } else {
            self.app_idle[app].tail = slot;
        }
        self.app_idle[app].head = slot;
        let seq = self.next_idle_seq;
        self.next_idle_seq += 1;
        self.insts[slot as usize].idle_seq = seq;
    }

    pub(super) fn unlink_idle(&mut self, slot: u32) {
        let (app, ap, an) = {
            let i = &self.insts[slot as usize];
            (i.app.index(), i.app_prev, i.app_next)
        };
        if ap != NIL {
            self.insts[ap as usize].app_next = an;
        } else {
            self.app_idle[app].head = an;
        }
        if an != NIL {
            self.insts[an as usize].app_prev = ap;
        } else {
            self.app_idle[app].tail = ap;
        }
        let i = &mut self.insts[slot as usize];
        i.app_prev = NIL;
        i.app_next = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{Action, Event, WarmSelect};
    use super::*;
    use crate::time::SimDuration;

    /// Three instances of one app, started in order, then idle in the
    /// order 1, 2, 0; the instance the next arrival gets under `warm`.
    fn pick(warm: WarmSelect) -> (Vec<InstanceId>, InstanceId) {
        let mut cfg = config(1, 1000, &[100], 10);
        cfg.warm = warm;
        let ttl = Box::new(FixedTtl(SimDuration::from_secs(60)));
        let mut s = Script::new(platform_with(cfg, ttl));
        let ids: Vec<_> = (0..3).map(|i| started(&s.arrive(inv(i, 0, i)))).collect();
        for &instance in &ids {
            s.event(5, Event::Ready { instance });
        }
        for (t, i) in [(10, 1), (11, 2), (12, 0)] {
            s.event(
                t,
                Event::Done {
                    instance: ids[i],
                    job: JobId(i as u32),
                },
            );
        }
        assert_eq!(s.gauges().idle, 3);
        let a = s.arrive(inv(3, 0, 20));
        let [Action::Execute { instance, .. }] = a[..] else {
            panic!("{a:?}")
        };
        (ids, instance)
    }

    #[test]
    fn warm_selection_reads_the_idle_list() {
        let (ids, got) = pick(WarmSelect::MostRecentlyUsed);
        assert_eq!(got, ids[0]);
        let (ids, got) = pick(WarmSelect::LeastRecentlyUsed);
        assert_eq!(got, ids[1]);
        let (ids, got) = pick(WarmSelect::Newest);
        assert_eq!(got, ids[2]);
    }

    #[test]
    fn a_freed_slot_is_reused_one_generation_on() {
        let mut s = Script::new(platform(1, 1000, &[100], 0, 10));
        let first = started(&s.arrive(inv(0, 0, 0)));
        s.event(1, Event::Ready { instance: first });
        // No keep-alive: evicted as soon as it ends.
        let a = s.event(
            6,
            Event::Done {
                instance: first,
                job: JobId(0),
            },
        );
        assert!(matches!(a[1], Action::Evicted { instance, .. } if instance == first));
        let second = started(&s.arrive(inv(1, 0, 7)));
        assert_eq!(
            second,
            InstanceId {
                slot: first.slot,
                generation: first.generation + 1,
            }
        );
        assert_eq!(s.p.insts.len(), 1);
    }
}
