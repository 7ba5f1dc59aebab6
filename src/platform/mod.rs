//! The sans-IO platform core: hosts, instances and the queue, turning inputs
//! into actions.
//!
//! [`Platform`] never reads a clock, never draws a random number and never
//! does I/O. It is handed `now` and an input (an arrival, an instance that
//! finished starting, an execution that ended, a timer) and appends the
//! [`Action`]s that should follow to a caller's buffer: start an instance on a
//! host, execute an invocation, arm a timer, and the outcomes (an eviction, a
//! completion, a rejection). The simulator performs those actions in virtual
//! time, drawing init times from the scenario's distributions; the real
//! executor would perform them with processes and wall-clock time.
//!
//! # The model
//!
//! * Instances belong to an application (design.md, "the unit of
//!   deployment") and serve one invocation at a time. Lifecycle:
//!   `Starting -> Busy -> Idle -> (Busy | evicted)`. An instance holds its
//!   app's memory on one host from its start until its eviction.
//! * An arrival is served by a warm idle instance of its app if there is
//!   one, on any host (the most recently used one). Otherwise a new instance
//!   is started for it (a cold start) on the host the [`Placement`] policy
//!   picks; if none has room and eviction is on, idle instances of the first
//!   host where that makes room are evicted, least recently used first.
//! * If no instance can be started the invocation waits in a FIFO queue
//!   (bounded, with a timeout; overflow and timeouts are rejections). While
//!   anything waits, new arrivals that need a new instance queue behind it
//!   (no overtaking). A queued invocation is served by the first instance of
//!   its app that finishes, or gets a new instance when memory frees up and
//!   it is at the head of the queue.
//! * When an execution ends with nothing queued for its app, the
//!   [`KeepAlive`] policy decides how long the instance stays idle.
//!
//! # Cancellation
//!
//! Instances live in an arena of slots; a slot's generation counter goes up
//! when its instance is evicted, and an [`Event`] carrying an
//! [`InstanceId`] with an old generation is ignored. An instance has at most
//! one keep-alive timer in the event queue: reusing an instance does not
//! cancel its timer; the timer fires, sees the instance busy or its expiry
//! moved later, and re-arms or does nothing.

pub mod hosts;

use std::collections::VecDeque;

use crate::policy::{Eviction, IdleInstance, KeepAlive, KeepDecision, Placement};
use crate::time::{SimDuration, SimTime};
use crate::workload::Invocation;
use hosts::Hosts;

/// An instance slot and the generation of its current occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId {
    pub slot: u32,
    pub generation: u32,
}

/// Inputs that come back from the outside world (the event queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The instance finished starting.
    Ready(InstanceId),
    /// The instance's current execution ended.
    Done(InstanceId),
    /// A keep-alive timer armed by [`Action::ArmKeepAlive`] fired.
    KeepAlive(InstanceId),
    /// A queue timeout armed by [`Action::ArmQueueTimeout`] fired.
    QueueTimeout(u64),
    /// A pre-warm armed by [`Action::ArmPrewarm`] is due for the app; the
    /// second field is the app's pre-warm generation when it was armed (an
    /// arrival of the app in between cancels it).
    Prewarm(u32, u32),
}

/// Why an instance was evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictReason {
    /// Its keep-alive ran out (or the policy evicted it at once).
    KeepAlive,
    /// A new instance needed its memory.
    Pressure,
}

/// Why an invocation was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    /// No instance could start and the queue was full (or has length 0).
    QueueFull,
    /// It waited in the queue longer than the timeout.
    Timeout,
}

/// A finished invocation and the times of its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub inv: Invocation,
    pub app: u32,
    /// When it was given an instance (arrival + queueing delay).
    pub dispatched: SimTime,
    /// When its execution began (dispatched + init time if cold).
    pub exec_start: SimTime,
    pub end: SimTime,
    pub cold: bool,
}

/// What the platform asks its driver to do, or reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start a new instance of `app` on `host`; report [`Event::Ready`].
    /// `prewarm`: started ahead of demand, with no invocation waiting.
    Start {
        instance: InstanceId,
        app: u32,
        host: u32,
        prewarm: bool,
    },
    /// Run `exec` of work on the instance; report [`Event::Done`].
    Execute {
        instance: InstanceId,
        exec: SimDuration,
    },
    /// Report [`Event::KeepAlive`] at `at`.
    ArmKeepAlive {
        instance: InstanceId,
        at: SimTime,
    },
    /// Report [`Event::QueueTimeout`] with `ticket` at `at`.
    ArmQueueTimeout {
        ticket: u64,
        at: SimTime,
    },
    /// The instance is gone and its memory free.
    Evicted {
        instance: InstanceId,
        app: u32,
        host: u32,
        reason: EvictReason,
    },
    /// Report [`Event::Prewarm`] with `app` and `generation` at `at`.
    ArmPrewarm {
        app: u32,
        generation: u32,
        at: SimTime,
    },
    /// A pre-warmed instance of `app` served its first invocation.
    PrewarmUsed {
        app: u32,
    },
    /// A pre-warmed instance of `app` was evicted without serving any.
    PrewarmWasted {
        app: u32,
    },
    /// The invocation waits in the queue.
    Queued {
        inv: Invocation,
    },
    Completed(Completion),
    Rejected {
        inv: Invocation,
        reason: RejectReason,
    },
}

/// Counts and memory of instances in each state, for time integrals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gauges {
    pub starting: u64,
    pub busy: u64,
    pub idle: u64,
    pub starting_mb: u64,
    pub busy_mb: u64,
    pub idle_mb: u64,
    pub queued: u64,
}

/// Static configuration of a platform.
#[derive(Clone, Debug)]
pub struct PlatformConfig {
    pub hosts: usize,
    pub host_memory_mb: u64,
    /// For each function, its app.
    pub fn_app: Vec<u32>,
    /// For each app, its instance memory.
    pub app_memory_mb: Vec<u64>,
    pub queue_max_len: u32,
    pub queue_timeout: SimDuration,
    /// Evict idle instances when a new one needs their memory.
    pub evict_for_memory: bool,
    /// Which idle instance of an app serves an arrival.
    pub warm: WarmSelect,
    /// For each app, its provisioned concurrency (instances kept from time
    /// 0 and never evicted while the app has no more than this many).
    pub app_min_instances: Vec<u32>,
}

/// Which idle instance of an app serves an arrival.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarmSelect {
    /// The one that went idle last: keeps few instances busy, so that the
    /// others age out under a keep-alive timer (the usual platform choice).
    #[default]
    MostRecentlyUsed,
    /// The one idle longest: spreads use over all instances.
    LeastRecentlyUsed,
    /// The one started last.
    Newest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Free,
    Starting,
    Busy,
    Idle,
}

#[derive(Clone, Copy, Debug)]
struct Job {
    inv: Invocation,
    dispatched: SimTime,
    exec_start: SimTime,
    cold: bool,
}

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Instance {
    generation: u32,
    state: State,
    app: u32,
    host: u32,
    timer_armed: bool,
    expires_at: SimTime,
    /// When it was started, and when it first went idle (MAX: not yet).
    created: SimTime,
    first_idle: SimTime,
    /// Pre-warmed and not used yet.
    prewarmed: bool,
    /// Provisioned concurrency: never evicted (see `Platform::provision`).
    provisioned: bool,
    /// Eviction priority, set when it goes idle (lowest evicted first).
    priority: f64,
    /// Order of going idle (for least-recently-used eviction).
    idle_seq: u64,
    /// Position in its host's instance list.
    host_pos: u32,
    // Links in the app's idle list (most recent first).
    app_prev: u32,
    app_next: u32,
}

/// An app's idle list (most recently idle first) and its pending pre-warm,
/// side by side so that an arrival reads one cache line.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    prewarm: PendingPrewarm,
}

impl List {
    const EMPTY: List = List {
        head: NIL,
        tail: NIL,
        prewarm: PendingPrewarm {
            generation: 0,
            pending: false,
            keep: SimDuration::ZERO,
        },
    };
}

#[derive(Clone, Copy, Debug)]
struct Waiting {
    ticket: u64,
    inv: Invocation,
}

/// The platform core. See the module doc.
pub struct Platform {
    cfg: PlatformConfig,
    hosts: Hosts,
    insts: Vec<Instance>,
    /// The invocation each instance slot runs or starts for (kept apart
    /// from `insts` so that an instance fits in one cache line or so).
    jobs: Vec<Option<Job>>,
    free_slots: Vec<u32>,
    app_idle: Vec<List>,
    /// Every live instance of each host, in no order: scanned only when
    /// idle instances must be evicted for memory, which is rare, so that
    /// going idle and busy (at every invocation) touches no host list.
    host_insts: Vec<Vec<u32>>,
    next_idle_seq: u64,
    app_queue: Vec<VecDeque<Waiting>>,
    /// Every queued ticket in arrival order with its app; entries already
    /// served through their app's queue are skipped lazily.
    order: VecDeque<(u64, u32)>,
    next_ticket: u64,
    gauges: Gauges,
    placement: Box<dyn Placement>,
    keepalive: Box<dyn KeepAlive>,
    eviction: Box<dyn Eviction>,
    /// Whether the policies want the per-invocation callbacks.
    keepalive_learns: bool,
    eviction_ranks: bool,
}

/// An app's pending pre-warm: its generation (an arrival of the app
/// cancels it) and how long its instance stays idle once ready.
#[derive(Clone, Copy, Debug, Default)]
struct PendingPrewarm {
    generation: u32,
    /// A pre-warm is armed and not yet started or cancelled.
    pending: bool,
    keep: SimDuration,
}

impl Platform {
    pub fn new(
        cfg: PlatformConfig,
        placement: Box<dyn Placement>,
        keepalive: Box<dyn KeepAlive>,
        eviction: Box<dyn Eviction>,
    ) -> Self {
        let apps = cfg.app_memory_mb.len();
        Platform {
            hosts: Hosts::new(cfg.hosts, cfg.host_memory_mb),
            insts: Vec::new(),
            jobs: Vec::new(),
            free_slots: Vec::new(),
            app_idle: vec![List::EMPTY; apps],
            host_insts: vec![Vec::new(); cfg.hosts],
            next_idle_seq: 0,
            app_queue: vec![VecDeque::new(); apps],
            order: VecDeque::new(),
            next_ticket: 0,
            gauges: Gauges::default(),
            keepalive_learns: keepalive.learns_from_arrivals(),
            eviction_ranks: eviction.ranks(),
            placement,
            keepalive,
            eviction,
            cfg,
        }
    }

    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    pub fn gauges(&self) -> Gauges {
        self.gauges
    }

    /// Instances alive (starting, busy or idle).
    pub fn live_instances(&self) -> u64 {
        self.gauges.starting + self.gauges.busy + self.gauges.idle
    }

    /// Invocations given an instance or waiting, not yet ended.
    pub fn outstanding(&self) -> u64 {
        self.gauges.starting + self.gauges.busy + self.gauges.queued
    }

    /// A new invocation arrives at `now`.
    #[inline]
    pub fn arrival(&mut self, now: SimTime, inv: Invocation, out: &mut Vec<Action>) {
        let app = self.cfg.fn_app[inv.function as usize];
        if self.keepalive_learns {
            self.keepalive.on_arrival(app, now);
        }
        // The arrival a pending pre-warm was waiting for has come: cancel it.
        let p = &mut self.app_idle[app as usize].prewarm;
        if p.pending {
            p.pending = false;
            p.generation = p.generation.wrapping_add(1);
        }
        let idle = self.pick_warm(app);
        if idle != NIL {
            self.take_idle(idle);
            self.run_warm(idle, inv, now, out);
            return;
        }
        if self.gauges.queued == 0 && self.try_start(app, inv, now, out) {
            return;
        }
        self.enqueue(app, inv, now, out);
    }

    /// An event armed earlier comes back at `now`.
    #[inline]
    pub fn handle(&mut self, now: SimTime, ev: Event, out: &mut Vec<Action>) {
        match ev {
            Event::Ready(id) => {
                if let Some(slot) = self.live(id, State::Starting) {
                    if self.jobs[slot as usize].is_none() {
                        self.prewarm_ready(slot, now, out);
                        return;
                    }
                    let inst = &mut self.insts[slot as usize];
                    inst.state = State::Busy;
                    let mb = self.cfg.app_memory_mb[inst.app as usize];
                    let job = self.jobs[slot as usize]
                        .as_mut()
                        .expect("a starting instance has a job");
                    job.exec_start = now;
                    let exec = job.inv.exec;
                    self.gauges.starting -= 1;
                    self.gauges.starting_mb -= mb;
                    self.gauges.busy += 1;
                    self.gauges.busy_mb += mb;
                    out.push(Action::Execute { instance: id, exec });
                }
            }
            Event::Done(id) => {
                if let Some(slot) = self.live(id, State::Busy) {
                    self.finish(slot, now, out);
                }
            }
            Event::KeepAlive(id) => {
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
            Event::QueueTimeout(ticket) => self.timeout(ticket, out),
            Event::Prewarm(app, generation) => {
                let p = &mut self.app_idle[app as usize].prewarm;
                if p.pending && p.generation == generation {
                    p.pending = false;
                    let _ = self.prewarm_start(app, now, out);
                }
            }
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
        for app in 0..self.cfg.app_min_instances.len() as u32 {
            for _ in 0..self.cfg.app_min_instances[app as usize] {
                if let Some(slot) = self.prewarm_start(app, now, out) {
                    self.insts[slot as usize].provisioned = true;
                }
            }
        }
    }

    /// The idle instance of `app` that serves the next arrival, or NIL.
    #[inline]
    fn pick_warm(&self, app: u32) -> u32 {
        let list = self.app_idle[app as usize];
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

    /// A pre-warm is due: start an instance of `app` with no invocation, if
    /// a host has free memory (a pre-warm never evicts).
    fn prewarm_start(&mut self, app: u32, now: SimTime, out: &mut Vec<Action>) -> Option<u32> {
        let mb = self.cfg.app_memory_mb[app as usize];
        let host = self.placement.place(&self.hosts, app, mb)?;
        Some(self.new_instance(app, host, None, now, out))
    }

    /// A pre-warmed instance is ready: serve the app's queue, or go idle for
    /// as long as the keep-alive policy says.
    fn prewarm_ready(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) {
        let app = self.insts[slot as usize].app;
        let mb = self.cfg.app_memory_mb[app as usize];
        self.gauges.starting -= 1;
        self.gauges.starting_mb -= mb;
        self.insts[slot as usize].prewarmed = true;
        if let Some(w) = self.app_queue[app as usize].pop_front() {
            self.gauges.queued -= 1;
            self.run_warm(slot, w.inv, now, out);
            return;
        }
        let keep = self.app_idle[app as usize].prewarm.keep;
        self.go_idle(slot, now, keep, out);
        self.drain_queue(now, out);
    }

    /// The slot of `id` if it is current and in `state`.
    #[inline]
    fn live(&self, id: InstanceId, state: State) -> Option<u32> {
        let inst = self.insts.get(id.slot as usize)?;
        (inst.generation == id.generation && inst.state == state).then_some(id.slot)
    }

    #[inline]
    fn live_any(&self, id: InstanceId) -> Option<u32> {
        let inst = self.insts.get(id.slot as usize)?;
        (inst.generation == id.generation && inst.state != State::Free).then_some(id.slot)
    }

    #[inline]
    fn id(&self, slot: u32) -> InstanceId {
        InstanceId {
            slot,
            generation: self.insts[slot as usize].generation,
        }
    }

    /// An execution ended: serve the app's queue, or go idle.
    fn finish(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) {
        let app = self.insts[slot as usize].app;
        let job = self.jobs[slot as usize]
            .take()
            .expect("a busy instance has a job");
        out.push(Action::Completed(Completion {
            inv: job.inv,
            app,
            dispatched: job.dispatched,
            exec_start: job.exec_start,
            end: now,
            cold: job.cold,
        }));
        if let Some(w) = self.app_queue[app as usize].pop_front() {
            // Its entry in `order` is now stale and skipped later.
            self.gauges.queued -= 1;
            self.gauges.busy -= 1; // run_warm counts it busy again
            self.gauges.busy_mb -= self.cfg.app_memory_mb[app as usize];
            self.run_warm(slot, w.inv, now, out);
            return;
        }
        let mb = self.cfg.app_memory_mb[app as usize];
        self.gauges.busy -= 1;
        self.gauges.busy_mb -= mb;
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
                let p = &mut self.app_idle[app as usize].prewarm;
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
        self.drain_queue(now, out);
    }

    /// Puts a (no longer busy or starting) instance in the idle lists for
    /// `keep`, arming its timer; zero evicts it at once (through the idle
    /// state, so that eviction has one path).
    fn go_idle(&mut self, slot: u32, now: SimTime, keep: SimDuration, out: &mut Vec<Action>) {
        let (app, host) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
        let inst = &mut self.insts[slot as usize];
        inst.state = State::Idle;
        inst.expires_at = now + keep;
        let provisioned = inst.provisioned;
        let arm = !inst.timer_armed && !keep.is_zero() && !provisioned;
        if arm {
            inst.timer_armed = true;
        }
        self.gauges.idle += 1;
        self.gauges.idle_mb += mb;
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

    /// Runs `inv` on an instance that is not in any idle list.
    #[inline]
    fn run_warm(&mut self, slot: u32, inv: Invocation, now: SimTime, out: &mut Vec<Action>) {
        let inst = &mut self.insts[slot as usize];
        if inst.prewarmed {
            inst.prewarmed = false;
            out.push(Action::PrewarmUsed { app: inst.app });
        }
        let app = inst.app;
        if self.eviction_ranks {
            self.eviction.on_use(app, now);
        }
        let inst = &mut self.insts[slot as usize];
        inst.state = State::Busy;
        self.jobs[slot as usize] = Some(Job {
            inv,
            dispatched: now,
            exec_start: now,
            cold: false,
        });
        let mb = self.cfg.app_memory_mb[inst.app as usize];
        self.gauges.busy += 1;
        self.gauges.busy_mb += mb;
        out.push(Action::Execute {
            instance: self.id(slot),
            exec: inv.exec,
        });
    }

    /// Takes an idle instance out of its lists for work.
    #[inline]
    fn take_idle(&mut self, slot: u32) {
        let (app, host) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
        self.unlink_idle(slot);
        self.hosts.mark_taken(host, mb);
        self.gauges.idle -= 1;
        self.gauges.idle_mb -= mb;
    }

    /// Starts a new instance for `inv` if a host can take it (evicting idle
    /// instances if allowed). False if not.
    fn try_start(
        &mut self,
        app: u32,
        inv: Invocation,
        now: SimTime,
        out: &mut Vec<Action>,
    ) -> bool {
        let Some(host) = self.find_host(app, out) else {
            return false;
        };
        if self.eviction_ranks {
            self.eviction.on_use(app, now);
        }
        self.new_instance(app, host, Some(inv), now, out);
        true
    }

    /// Starts an instance of `app` on `host` (which has room): for `inv`
    /// (a cold start), or with no invocation (a pre-warm).
    fn new_instance(
        &mut self,
        app: u32,
        host: u32,
        inv: Option<Invocation>,
        now: SimTime,
        out: &mut Vec<Action>,
    ) -> u32 {
        let mb = self.cfg.app_memory_mb[app as usize];
        self.hosts.alloc(host, mb);
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.jobs.push(None);
                self.insts.push(Instance {
                    generation: 0,
                    state: State::Free,
                    app: 0,
                    host: 0,
                    timer_armed: false,
                    expires_at: SimTime::ZERO,
                    created: SimTime::ZERO,
                    first_idle: SimTime::MAX,
                    prewarmed: false,
                    provisioned: false,
                    priority: 0.0,
                    app_prev: NIL,
                    app_next: NIL,
                    idle_seq: 0,
                    host_pos: 0,
                });
                (self.insts.len() - 1) as u32
            }
        };
        let inst = &mut self.insts[slot as usize];
        inst.state = State::Starting;
        inst.app = app;
        inst.host = host;
        inst.host_pos = self.host_insts[host as usize].len() as u32;
        self.host_insts[host as usize].push(slot);
        inst.timer_armed = false;
        inst.created = now;
        inst.first_idle = SimTime::MAX;
        inst.prewarmed = false;
        inst.provisioned = false;
        self.jobs[slot as usize] = inv.map(|inv| Job {
            inv,
            dispatched: now,
            exec_start: now,
            cold: true,
        });
        self.gauges.starting += 1;
        self.gauges.starting_mb += mb;
        out.push(Action::Start {
            instance: self.id(slot),
            app,
            host,
            prewarm: inv.is_none(),
        });
        slot
    }

    /// A host for a new instance of `app`, evicting idle instances if the
    /// placement policy finds no room and eviction is on.
    fn find_host(&mut self, app: u32, out: &mut Vec<Action>) -> Option<u32> {
        let mb = self.cfg.app_memory_mb[app as usize];
        if let Some(h) = self.placement.place(&self.hosts, app, mb) {
            return Some(h);
        }
        if !self.cfg.evict_for_memory {
            return None;
        }
        let h = self.hosts.first_reclaimable(mb)?;
        while self.hosts.free_mb(h) < mb {
            // The idle instance of the host with the lowest eviction
            // priority, the one idle longest among equals.
            let victim = self.host_insts[h as usize]
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
    fn evict(&mut self, slot: u32, reason: EvictReason, out: &mut Vec<Action>) {
        let id = self.id(slot);
        let (app, host) = {
            let i = &self.insts[slot as usize];
            debug_assert_eq!(i.state, State::Idle);
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
        self.unlink_idle(slot);
        self.hosts.release_idle(host, mb);
        self.gauges.idle -= 1;
        self.gauges.idle_mb -= mb;
        // Leave the host's instance list (swap-remove, fixing the moved one).
        let pos = self.insts[slot as usize].host_pos as usize;
        let list = &mut self.host_insts[host as usize];
        list.swap_remove(pos);
        if let Some(&moved) = list.get(pos) {
            self.insts[moved as usize].host_pos = pos as u32;
        }
        if self.insts[slot as usize].prewarmed {
            out.push(Action::PrewarmWasted { app });
        }
        let inst = &mut self.insts[slot as usize];
        inst.state = State::Free;
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

    fn enqueue(&mut self, app: u32, inv: Invocation, now: SimTime, out: &mut Vec<Action>) {
        if self.gauges.queued >= self.cfg.queue_max_len as u64 {
            out.push(Action::Rejected {
                inv,
                reason: RejectReason::QueueFull,
            });
            return;
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.app_queue[app as usize].push_back(Waiting { ticket, inv });
        self.order.push_back((ticket, app));
        self.gauges.queued += 1;
        out.push(Action::Queued { inv });
        out.push(Action::ArmQueueTimeout {
            ticket,
            at: now + self.cfg.queue_timeout,
        });
    }

    /// Drops entries of `order` that were served through their app's queue.
    #[inline]
    fn skip_stale(&mut self) {
        while let Some(&(ticket, app)) = self.order.front() {
            if self.app_queue[app as usize].front().map(|w| w.ticket) == Some(ticket) {
                break;
            }
            self.order.pop_front();
        }
    }

    /// Starts instances for the head of the queue while memory allows.
    fn drain_queue(&mut self, now: SimTime, out: &mut Vec<Action>) {
        while self.gauges.queued > 0 {
            self.skip_stale();
            let Some(&(_, app)) = self.order.front() else {
                break;
            };
            let Some(w) = self.app_queue[app as usize].front().copied() else {
                break;
            };
            if !self.try_start(app, w.inv, now, out) {
                break;
            }
            self.order.pop_front();
            self.app_queue[app as usize].pop_front();
            self.gauges.queued -= 1;
        }
    }

    /// A queue timeout fired. Timeouts are all the same length and tickets
    /// are issued in time order, so a ticket still waiting is the oldest
    /// one: the head of the queue.
    fn timeout(&mut self, ticket: u64, out: &mut Vec<Action>) {
        self.skip_stale();
        if self.order.front().map(|&(t, _)| t) != Some(ticket) {
            return; // already served
        }
        let Some((_, app)) = self.order.pop_front() else {
            return;
        };
        if let Some(w) = self.app_queue[app as usize].pop_front() {
            debug_assert_eq!(w.ticket, ticket);
            self.gauges.queued -= 1;
            out.push(Action::Rejected {
                inv: w.inv,
                reason: RejectReason::Timeout,
            });
        }
    }

    fn push_idle(&mut self, slot: u32, now: SimTime) {
        let app = self.insts[slot as usize].app as usize;
        if self.eviction_ranks {
            self.insts[slot as usize].priority = self.eviction.priority(app as u32, now);
        }
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

    fn unlink_idle(&mut self, slot: u32) {
        let (app, ap, an) = {
            let i = &self.insts[slot as usize];
            (i.app as usize, i.app_prev, i.app_next)
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

    /// Checks every internal invariant; used by tests after each event.
    pub fn check_invariants(&self) -> Result<(), String> {
        let h = self.hosts.len();
        let mut used = vec![0u64; h];
        let mut idle = vec![0u64; h];
        let mut count = vec![0u32; h];
        let mut g = Gauges {
            queued: self.gauges.queued,
            ..Gauges::default()
        };
        let mut idle_per_app = vec![0usize; self.app_idle.len()];
        for (slot, inst) in self.insts.iter().enumerate() {
            if inst.state == State::Free {
                continue;
            }
            let mb = self.cfg.app_memory_mb[inst.app as usize];
            used[inst.host as usize] += mb;
            count[inst.host as usize] += 1;
            match inst.state {
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
                    idle[inst.host as usize] += mb;
                    idle_per_app[inst.app as usize] += 1;
                }
                State::Free => {}
            }
            let job = &self.jobs[slot];
            let job_ok = match inst.state {
                State::Busy => job.is_some(),
                State::Idle => job.is_none(),
                _ => true,
            };
            if !job_ok {
                return Err(format!("instance in {:?} with job {:?}", inst.state, job));
            }
        }
        for i in 0..h {
            let hi = i as u32;
            if used[i] > self.hosts.capacity_mb() {
                return Err(format!("host {i} over capacity: {} MB used", used[i]));
            }
            if self.hosts.free_mb(hi) + used[i] != self.hosts.capacity_mb() {
                return Err(format!("host {i} free memory out of step"));
            }
            if self.hosts.idle_mb(hi) != idle[i] || self.hosts.instances(hi) != count[i] {
                return Err(format!("host {i} idle memory or count out of step"));
            }
            let list = &self.host_insts[i];
            if list.len() != count[i] as usize
                || list.iter().enumerate().any(|(p, &slot)| {
                    let inst = &self.insts[slot as usize];
                    inst.host != hi || inst.host_pos as usize != p || inst.state == State::Free
                })
            {
                return Err(format!("host {i} instance list out of step"));
            }
        }
        if g != self.gauges {
            return Err(format!("gauges {:?} != recount {:?}", self.gauges, g));
        }
        let queued: usize = self.app_queue.iter().map(VecDeque::len).sum();
        if queued as u64 != self.gauges.queued {
            return Err("queue length out of step".into());
        }
        for (app, &n) in idle_per_app.iter().enumerate() {
            let mut walked = 0;
            let mut cur = self.app_idle[app].head;
            while cur != NIL {
                walked += 1;
                cur = self.insts[cur as usize].app_next;
            }
            if walked != n {
                return Err(format!("app {app} idle list has {walked}, expected {n}"));
            }
            if n > 0 && !self.app_queue[app].is_empty() {
                return Err(format!("app {app} has idle instances and queued work"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{first_fit::FirstFit, fixed_ttl::FixedTtl, lru::Lru};

    fn platform(hosts: usize, host_mb: u64, mem: &[u64], ttl: u64, qlen: u32) -> Platform {
        Platform::new(
            PlatformConfig {
                hosts,
                host_memory_mb: host_mb,
                fn_app: (0..mem.len() as u32).collect(),
                app_memory_mb: mem.to_vec(),
                queue_max_len: qlen,
                queue_timeout: SimDuration::from_secs(10),
                evict_for_memory: true,
                warm: WarmSelect::MostRecentlyUsed,
                app_min_instances: vec![0; mem.len()],
            },
            Box::new(FirstFit),
            Box::new(FixedTtl {
                ttl: SimDuration::from_secs(ttl),
                reset: Default::default(),
            }),
            Box::new(Lru),
        )
    }

    fn inv(id: u64, f: u32, t: u64) -> Invocation {
        Invocation {
            id,
            function: f,
            arrival: SimTime(t),
            exec: SimDuration(5),
        }
    }

    #[test]
    fn cold_then_warm() {
        let mut p = platform(1, 1000, &[100], 60, 10);
        let mut out = Vec::new();
        p.arrival(SimTime(0), inv(0, 0, 0), &mut out);
        let Action::Start { instance, .. } = out[0] else {
            panic!("{out:?}")
        };
        out.clear();
        p.handle(SimTime(3), Event::Ready(instance), &mut out);
        assert_eq!(
            out,
            [Action::Execute {
                instance,
                exec: SimDuration(5)
            }]
        );
        out.clear();
        p.handle(SimTime(8), Event::Done(instance), &mut out);
        assert!(matches!(out[0], Action::Completed(c) if c.cold && c.exec_start == SimTime(3)));
        assert!(matches!(out[1], Action::ArmKeepAlive { .. }));
        out.clear();
        p.arrival(SimTime(9), inv(1, 0, 9), &mut out);
        assert_eq!(
            out,
            [Action::Execute {
                instance,
                exec: SimDuration(5)
            }]
        );
        p.check_invariants().unwrap();
    }

    #[test]
    fn pressure_evicts_lru_idle_and_queue_waits() {
        // Host of 200 MB, apps of 100 MB: two instances fit.
        let mut p = platform(1, 200, &[100, 100, 100], 600, 5);
        let mut out = Vec::new();
        let mut ids = Vec::new();
        for f in 0..2 {
            p.arrival(SimTime(0), inv(f as u64, f, 0), &mut out);
            let Action::Start { instance, .. } = out[0] else {
                panic!()
            };
            ids.push(instance);
            out.clear();
        }
        // A third app finds no room and nothing idle: it queues.
        p.arrival(SimTime(1), inv(2, 2, 1), &mut out);
        assert!(matches!(out[0], Action::Queued { .. }));
        out.clear();
        for &id in &ids {
            p.handle(SimTime(2), Event::Ready(id), &mut out);
        }
        out.clear();
        // App 0 finishes: it goes idle, and the queue head evicts it at once.
        p.handle(SimTime(10), Event::Done(ids[0]), &mut out);
        let kinds: Vec<_> = out.iter().map(std::mem::discriminant).collect();
        assert!(matches!(out[0], Action::Completed(_)));
        assert!(out.iter().any(|a| matches!(
            a,
            Action::Evicted {
                reason: EvictReason::Pressure,
                ..
            }
        )));
        assert!(
            matches!(out.last(), Some(Action::Start { app: 2, .. })),
            "{kinds:?}"
        );
        p.check_invariants().unwrap();
    }

    #[test]
    fn stale_timer_is_ignored() {
        let mut p = platform(1, 1000, &[100], 1, 10);
        let mut out = Vec::new();
        p.arrival(SimTime(0), inv(0, 0, 0), &mut out);
        let Action::Start { instance, .. } = out[0] else {
            panic!()
        };
        p.handle(SimTime(1), Event::Ready(instance), &mut out);
        p.handle(SimTime(2), Event::Done(instance), &mut out);
        let at = 2 + 1_000_000_000;
        p.handle(SimTime(at), Event::KeepAlive(instance), &mut out);
        assert_eq!(p.live_instances(), 0);
        out.clear();
        // The old id and its events are dead now.
        p.handle(SimTime(at), Event::Done(instance), &mut out);
        p.handle(SimTime(at), Event::KeepAlive(instance), &mut out);
        assert!(out.is_empty());
    }
}
