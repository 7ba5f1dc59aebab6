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
//! executor performs them with processes and wall-clock time.
//!
//! # The model
//!
//! * Instances belong to an application (design.md, "the unit of
//!   deployment") and serve up to `concurrency` invocations at once (1, the
//!   default, is AWS Lambda; more is Cloud Run or Knative). Lifecycle:
//!   `Starting -> Busy -> Idle -> (Busy | evicted)`; an instance is busy
//!   while it runs at least one invocation. It holds its app's memory on one
//!   host from its start until its eviction.
//! * An arrival goes to an instance of its app that has a free slot: first
//!   one already busy or starting (packing, as Knative's activator does),
//!   then an idle one (the most recently used, by default). Otherwise a new
//!   instance is started for it (a cold start) on the host the [`Placement`]
//!   policy picks; if none has room and eviction is on, idle instances of
//!   the first host where that makes room are evicted, lowest eviction
//!   priority first. Invocations given to a starting instance wait for it
//!   and count as cold.
//! * With snapshots on ([`snapshots`]), a new instance restores from the
//!   host's snapshot cache or the remote store when it can, and the first
//!   full init of an app takes its snapshot: three kinds of cold start.
//! * Concurrency limits (per function and global) admit an invocation or
//!   throttle it: reject it, or hold it in arrival order until a slot
//!   frees (`limits.throttle`). An admitted invocation holds its slot until
//!   it ends, including while it waits for memory.
//! * If no instance can be started the invocation waits in a FIFO queue
//!   (bounded, with a timeout; overflow and timeouts are rejections). While
//!   anything waits, new arrivals that need a new instance queue behind it
//!   (no overtaking). A queued invocation is served by the first instance of
//!   its app that frees a slot, or gets a new instance when memory frees up
//!   and it is at the head of the queue. Throttled and memory-queued
//!   invocations share the queue's length bound.
//! * When an instance's last execution ends with nothing queued for its
//!   app, the [`KeepAlive`] policy decides how long it stays idle.
//! * Instances can be killed (a host fails or is reclaimed, an execution
//!   runs out of memory, a worker crashes) or relocated (consolidation,
//!   a preemption notice). The invocations a killed instance was running or
//!   starting for fail; each is retried after a backoff (at-least-once)
//!   until its function's `max_attempts`, then counted as failed. Work
//!   thrown away is reported. Closed hosts (failed, reclaimed, draining,
//!   powered off) take no new instance. Instances past the maximum lifetime
//!   are recycled when next idle.
//!
//! # Cancellation
//!
//! Instances live in an arena of slots; a slot's generation counter goes up
//! when its instance is evicted, and an [`Event`] carrying an
//! [`InstanceId`] with an old generation is ignored. An instance has at most
//! one keep-alive timer in the event queue: reusing an instance does not
//! cancel its timer; the timer fires, sees the instance busy or its expiry
//! moved later, and re-arms or does nothing. Invocations live in a second
//! arena of jobs, named by the events that end them.
//!
//! # Where things are
//!
//! `Platform` is one type whose `impl` is split by concern: `protocol.rs`
//! (events, actions, reasons, gauges), `config.rs`, `arena.rs` (slots,
//! ids, generations, the idle and spare lists), `admission.rs` (limits,
//! dispatch, the queue), `lifecycle.rs` (start, ready, execute, finish,
//! keep-alive, eviction), `prewarm.rs` (pre-warms and provisioned
//! instances), `kill.rs` (kills, retries, host faults, relocation),
//! `consolidation.rs` and `invariants.rs`; [`Platform::handle`] in this
//! file routes each event to them. The decisions left to policies are in
//! [`decisions`], the host table in [`hosts`], the snapshot index in
//! [`snapshots`].

mod admission;
mod arena;
mod config;
mod consolidation;
pub mod decisions;
pub mod hosts;
mod invariants;
mod kill;
mod lifecycle;
mod prewarm;
mod protocol;
pub mod snapshots;
#[cfg(test)]
pub(crate) mod testkit;

use std::collections::VecDeque;

use crate::model::{AppId, HostId, Invocation};
use crate::time::SimTime;
use admission::{Limits, Waiting};
use arena::{Instance, Job, List, State};
pub use arena::{InstanceId, JobId, RetryToken, Ticket};
pub use config::{Consolidation, PlatformConfig, RetryPolicy, Throttle, WarmSelect};
pub use decisions::{Eviction, IdleInstance, KeepAlive, KeepDecision, Placement, SnapshotCache};
use hosts::Hosts;
pub use protocol::{
    Action, Completion, Event, EvictReason, Gauges, HostState, KillReason, RejectReason,
};
pub use snapshots::{SnapshotConfig, SnapshotCreate, Snapshots, StartKind};

/// The platform core. See the module doc.
pub struct Platform {
    cfg: PlatformConfig,
    hosts: Hosts,
    insts: Vec<Instance>,
    free_slots: Vec<u32>,
    /// Every invocation given an instance and not yet ended.
    jobs: Vec<Job>,
    free_jobs: Vec<u32>,
    app_idle: Vec<List>,
    /// Every live instance of each host, in no order: scanned only when
    /// idle instances must be evicted for memory, which is rare, so that
    /// going idle and busy (at every invocation) touches no host list.
    host_insts: Vec<Vec<u32>>,
    next_idle_seq: u64,
    app_queue: Vec<VecDeque<Waiting>>,
    /// Every queued ticket in arrival order with its app; entries already
    /// served through their app's queue are skipped lazily.
    order: VecDeque<(Ticket, AppId)>,
    next_ticket: u64,
    gauges: Gauges,
    placement: Box<dyn Placement>,
    keepalive: Box<dyn KeepAlive>,
    eviction: Box<dyn Eviction>,
    /// Whether the policies want the per-invocation callbacks.
    keepalive_learns: bool,
    eviction_ranks: bool,
    /// Whether any app serves more than one invocation per instance.
    multi: bool,
    limits: Option<Limits>,
    snapshots: Option<Snapshots>,
    /// Failed attempts waiting for their retry, by token.
    retries: Vec<Option<Invocation>>,
    free_retries: Vec<u32>,
    pending_retries: u64,
    host_state: Vec<HostState>,
    /// Held invocations admitted by slots that kills freed, dispatched by
    /// [`Platform::after_kill`].
    deferred: Vec<Invocation>,
}

impl Platform {
    pub fn new(
        cfg: PlatformConfig,
        placement: Box<dyn Placement>,
        keepalive: Box<dyn KeepAlive>,
        eviction: Box<dyn Eviction>,
    ) -> Self {
        let apps = cfg.app_memory_mb.len();
        let fns = cfg.fn_app.len();
        let limited = cfg.global_limit.is_some() || cfg.fn_limit.iter().any(Option::is_some);
        let limits = limited.then(|| Limits {
            fn_limit: (0..fns)
                .map(|f| cfg.fn_limit.get(f).copied().flatten().unwrap_or(u32::MAX))
                .collect(),
            global: cfg.global_limit.map_or(u64::MAX, u64::from),
            throttle: cfg.throttle,
            inflight: vec![0; fns],
            total: 0,
            held: vec![VecDeque::new(); fns],
            order: VecDeque::new(),
        });
        Platform {
            hosts: Hosts::new(cfg.hosts, cfg.host_memory_mb),
            insts: Vec::new(),
            free_slots: Vec::new(),
            jobs: Vec::new(),
            free_jobs: Vec::new(),
            app_idle: vec![List::EMPTY; apps],
            host_insts: vec![Vec::new(); cfg.hosts],
            next_idle_seq: 0,
            app_queue: vec![VecDeque::new(); apps],
            order: VecDeque::new(),
            next_ticket: 0,
            keepalive_learns: keepalive.learns_from_arrivals(),
            eviction_ranks: eviction.ranks(),
            placement,
            keepalive,
            eviction,
            multi: cfg.app_concurrency.iter().any(|&k| k > 1),
            limits,
            snapshots: None,
            retries: Vec::new(),
            free_retries: Vec::new(),
            pending_retries: 0,
            host_state: vec![HostState::Up; cfg.hosts],
            deferred: Vec::new(),
            gauges: Gauges {
                hosts_on: cfg.hosts as u64,
                ..Gauges::default()
            },
            cfg,
        }
    }

    /// Turns snapshot reuse on, with this index of caches and store.
    pub fn with_snapshots(mut self, snapshots: Snapshots) -> Self {
        self.snapshots = Some(snapshots);
        self
    }

    pub fn hosts(&self) -> &Hosts {
        &self.hosts
    }

    pub fn snapshots(&self) -> Option<&Snapshots> {
        self.snapshots.as_ref()
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
        (self.jobs.len() - self.free_jobs.len()) as u64
            + self.gauges.queued
            + self.gauges.throttled
            + self.pending_retries
    }

    /// The condition of host `h`.
    pub fn host_state(&self, h: HostId) -> HostState {
        self.host_state[h.index()]
    }

    /// An event armed earlier comes back at `now`. Events for an
    /// instance that is gone (an older generation of its slot) or no
    /// longer in the state the event expects are ignored.
    #[inline]
    pub fn handle(&mut self, now: SimTime, ev: Event, out: &mut Vec<Action>) {
        match ev {
            Event::Ready { instance } => {
                if let Some(slot) = self.live(instance, State::Starting) {
                    self.ready(slot, now, out);
                }
            }
            Event::Done { instance, job } => {
                if let Some(slot) = self.live(instance, State::Busy) {
                    self.finish(slot, job.0, now, out);
                }
            }
            Event::KeepAlive { instance } => self.keepalive_due(instance, now, out),
            Event::QueueTimeout { ticket } => self.timeout(ticket, now, out),
            Event::Crash { instance } => {
                if let Some(slot) = self.live_any(instance) {
                    self.kill(slot, KillReason::Crash, now, out);
                    self.after_kill(now, out);
                }
            }
            Event::Oom { instance, .. } => {
                if let Some(slot) = self.live(instance, State::Busy) {
                    self.kill(slot, KillReason::Oom, now, out);
                    self.after_kill(now, out);
                }
            }
            Event::Retry { token } => self.retry_due(token, now, out),
            Event::HostFail { host } => self.host_fail(host, now, out),
            Event::HostRepair { host } => self.host_repair(host, now, out),
            Event::Preempt { host } => self.preempt(host, now, out),
            Event::Reclaim { host } => self.reclaim(host, now, out),
            Event::Consolidate => self.consolidate(now, out),
            Event::Lifetime { instance } => self.lifetime_due(instance, now, out),
            Event::Prewarm { app, generation } => self.prewarm_due(app, generation, now, out),
        }
    }
}
