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

pub mod decisions;
pub mod hosts;
pub mod snapshots;
#[cfg(test)]
pub(crate) mod testkit;

use std::collections::VecDeque;

use crate::model::Invocation;
use crate::time::{SimDuration, SimTime};
pub use decisions::{Eviction, IdleInstance, KeepAlive, KeepDecision, Placement, SnapshotCache};
use hosts::Hosts;
pub use snapshots::{SnapshotConfig, SnapshotCreate, Snapshots, StartKind};

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
    /// The execution of job `.1` on the instance ended.
    Done(InstanceId, u32),
    /// A keep-alive timer armed by [`Action::ArmKeepAlive`] fired.
    KeepAlive(InstanceId),
    /// A queue timeout armed by [`Action::ArmQueueTimeout`] fired.
    QueueTimeout(u64),
    /// A pre-warm armed by [`Action::ArmPrewarm`] is due for the app; the
    /// second field is the app's pre-warm generation when it was armed (an
    /// arrival of the app in between cancels it).
    Prewarm(u32, u32),
    /// The instance died on its own (its worker crashed).
    Crash(InstanceId),
    /// Job `.1` ran out of its instance's memory: the instance dies.
    Oom(InstanceId, u32),
    /// The retry announced by [`Action::Retry`] with this token is due.
    Retry(u32),
    /// The host fails: every instance on it dies; it takes nothing new.
    HostFail(u32),
    /// The host is back (repaired, or reclaimed capacity returned).
    HostRepair(u32),
    /// A preemption notice for the host: it takes nothing new, its idle
    /// instances move away, its busy ones may finish until the reclaim.
    Preempt(u32),
    /// The preempted host is reclaimed: what still runs there dies.
    Reclaim(u32),
    /// The consolidation controller runs.
    Consolidate,
    /// The instance reached the maximum lifetime ([`Action::ArmLifetime`]).
    Lifetime(InstanceId),
}

impl Event {
    /// A code for the event's kind (1 to 14) and the id it carries (an
    /// instance's slot, a ticket, an app, a host), as the run's
    /// fingerprint mixes them in.
    #[inline]
    pub fn code(&self) -> (u64, u64) {
        match *self {
            Event::Ready(i) => (1, i.slot as u64),
            Event::Done(i, _) => (2, i.slot as u64),
            Event::KeepAlive(i) => (3, i.slot as u64),
            Event::QueueTimeout(t) => (4, t),
            Event::Prewarm(a, _) => (5, a as u64),
            Event::Crash(i) => (6, i.slot as u64),
            Event::Oom(i, _) => (7, i.slot as u64),
            Event::Retry(t) => (8, t as u64),
            Event::HostFail(h) => (9, h as u64),
            Event::HostRepair(h) => (10, h as u64),
            Event::Preempt(h) => (11, h as u64),
            Event::Reclaim(h) => (12, h as u64),
            Event::Consolidate => (13, 0),
            Event::Lifetime(i) => (14, i.slot as u64),
        }
    }
}

/// Why an instance was killed (or recycled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KillReason {
    HostFailure,
    Preemption,
    Oom,
    Crash,
    /// Moved to another host (consolidation, a preemption notice); only
    /// idle instances are relocated, so nothing is lost.
    Relocation,
    /// Recycled at the maximum lifetime, when idle; nothing is lost.
    Lifetime,
}

impl KillReason {
    pub const ALL: [KillReason; 6] = [
        KillReason::HostFailure,
        KillReason::Preemption,
        KillReason::Oom,
        KillReason::Crash,
        KillReason::Relocation,
        KillReason::Lifetime,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in result columns.
    pub fn name(self) -> &'static str {
        match self {
            KillReason::HostFailure => "host_failure",
            KillReason::Preemption => "preemption",
            KillReason::Oom => "oom",
            KillReason::Crash => "crash",
            KillReason::Relocation => "relocation",
            KillReason::Lifetime => "lifetime",
        }
    }
}

/// A function's retry policy: at-least-once, with capped exponential
/// backoff. The platform announces each retry with the cap of its delay
/// (`base x multiplier^(n-1)` for the n-th retry, at most `max`); the driver
/// draws the delay uniformly below the cap ("full jitter", as the AWS SDKs'
/// standard retry mode does).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    pub base: SimDuration,
    pub multiplier: f64,
    pub max: SimDuration,
}

impl RetryPolicy {
    pub const NONE: RetryPolicy = RetryPolicy {
        max_attempts: 1,
        base: SimDuration::ZERO,
        multiplier: 1.0,
        max: SimDuration::ZERO,
    };

    /// The delay cap of retry number `n` (1 = the first retry).
    pub fn cap(&self, n: u32) -> SimDuration {
        let f = self.multiplier.powi(n.saturating_sub(1).min(1000) as i32);
        let ns = (self.base.as_nanos() as f64 * f).min(self.max.as_nanos() as f64);
        SimDuration::from_nanos(ns.max(0.0) as u64)
    }
}

/// The consolidation controller's settings (see `Platform::consolidate`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Consolidation {
    /// Consolidate (empty lightly used hosts) or spread (move idle
    /// instances off heavily used ones).
    pub spread: bool,
    /// Consolidate: a host whose used memory is at most this fraction of
    /// its capacity, with only idle instances, is emptied by relocating
    /// them. Spread: a host with more than `1 - threshold` of its memory in
    /// use moves idle instances away until it is below that.
    pub threshold: f64,
    /// Hosts left empty are powered off (and on again when needed).
    pub power_off: bool,
    /// Hosts never powered off below this many powered on.
    pub min_on: u32,
}

/// A host's condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostState {
    Up,
    /// Failed, under repair (still owned: counted as on).
    Failed,
    /// Under a preemption notice: draining.
    Draining,
    /// Reclaimed spot capacity, gone until it returns.
    Reclaimed,
    /// Powered off by consolidation.
    Off,
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
    /// A concurrency limit refused it (`limits.throttle = "reject"`).
    Throttled,
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
    /// How the instance it waited for started; None: it found one ready
    /// (a warm start).
    pub start: Option<StartKind>,
}

impl Completion {
    /// It waited for an instance to start.
    #[inline]
    pub fn cold(&self) -> bool {
        self.start.is_some()
    }
}

/// What the platform asks its driver to do, or reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start a new instance of `app` on `host` by `kind`; report
    /// [`Event::Ready`]. `prewarm`: started ahead of demand, with no
    /// invocation waiting. `take_snapshot`: a full init that also takes the
    /// app's snapshot before it is ready.
    Start {
        instance: InstanceId,
        app: u32,
        host: u32,
        prewarm: bool,
        kind: StartKind,
        take_snapshot: bool,
    },
    /// Run job `job` (an invocation of `function`) for `exec` on the
    /// instance; report [`Event::Done`]. `exec` already includes any
    /// slow-down after a restore.
    Execute {
        instance: InstanceId,
        job: u32,
        function: u32,
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
    /// The invocation waits in the queue for memory.
    Queued {
        inv: Invocation,
    },
    /// The invocation waits for a concurrency limit.
    Throttled {
        inv: Invocation,
    },
    /// The instance was killed (its process, if any, must die); `lost` is
    /// the execution time thrown away, `jobs` the invocations it ran or
    /// started for.
    Killed {
        instance: InstanceId,
        app: u32,
        host: u32,
        reason: KillReason,
        lost: SimDuration,
        jobs: u32,
    },
    /// An attempt failed and will be retried: report [`Event::Retry`] with
    /// `token` after a delay drawn uniformly in `[0, cap]`.
    Retry {
        token: u32,
        cap: SimDuration,
        reason: KillReason,
    },
    /// The invocation failed for good (its attempts are spent).
    Failed {
        inv: Invocation,
        reason: KillReason,
    },
    /// Report [`Event::Lifetime`] at `at`.
    ArmLifetime {
        instance: InstanceId,
        at: SimTime,
    },
    /// An idle instance of `app` moved from host `from` (killed there,
    /// started again on `to` by the start that follows).
    Relocated {
        app: u32,
        from: u32,
        to: u32,
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
    /// Invocations waiting for memory.
    pub queued: u64,
    /// Invocations executing (on busy instances).
    pub running: u64,
    /// Invocations waiting for a concurrency limit.
    pub throttled: u64,
    /// Hosts powered on (up, failed under repair, or draining).
    pub hosts_on: u64,
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
    /// For each app, the invocations one instance serves at once (>= 1).
    pub app_concurrency: Vec<u32>,
    /// For each function, its concurrency limit (None: no limit).
    pub fn_limit: Vec<Option<u32>>,
    /// The limit over all functions (None: no limit).
    pub global_limit: Option<u32>,
    pub throttle: Throttle,
    /// For each function, its retry policy.
    pub fn_retry: Vec<RetryPolicy>,
    /// Instances are recycled after this long (when next idle).
    pub max_lifetime: Option<SimDuration>,
    /// Preempted hosts relocate their idle instances (else evict them).
    pub relocate_on_notice: bool,
    pub consolidation: Option<Consolidation>,
}

impl PlatformConfig {
    /// A configuration with one app per function and no limits, for tests
    /// and benches.
    pub fn simple(hosts: usize, host_memory_mb: u64, app_memory_mb: &[u64]) -> Self {
        let n = app_memory_mb.len();
        PlatformConfig {
            hosts,
            host_memory_mb,
            fn_app: (0..n as u32).collect(),
            app_memory_mb: app_memory_mb.to_vec(),
            queue_max_len: 1000,
            queue_timeout: SimDuration::from_secs(30),
            evict_for_memory: true,
            warm: WarmSelect::MostRecentlyUsed,
            app_min_instances: vec![0; n],
            app_concurrency: vec![1; n],
            fn_limit: vec![None; n],
            global_limit: None,
            throttle: Throttle::Reject,
            fn_retry: vec![RetryPolicy::NONE; n],
            max_lifetime: None,
            relocate_on_notice: true,
            consolidation: None,
        }
    }
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

/// What happens to an invocation that a concurrency limit refuses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Throttle {
    /// Reject it at once, as AWS Lambda answers a synchronous invocation
    /// over its limit (HTTP 429, "TooManyRequestsException").
    #[default]
    Reject,
    /// Hold it, in arrival order per function, until the limit lets it in
    /// (as Lambda holds asynchronous invocations); it shares the `[queue]`
    /// length bound and timeout with invocations waiting for memory.
    Queue,
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
    start: Option<StartKind>,
    /// Next job waiting for the same starting instance (NIL: none).
    next: u32,
    /// The instance slot it runs or waits on.
    inst: u32,
    live: bool,
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
    /// How it started, and whether it takes its app's snapshot.
    kind: StartKind,
    took_snapshot: bool,
    /// Invocations still to be slowed after a restore.
    slowed_left: u32,
    /// Eviction priority, set when it goes idle (lowest evicted first).
    priority: f64,
    /// Order of going idle (for least-recently-used eviction).
    idle_seq: u64,
    /// Position in its host's instance list.
    host_pos: u32,
    /// Jobs it runs or starts for.
    active: u32,
    /// Jobs waiting for it to start (a list through `Job::next`).
    pending: u32,
    // Links in the app's idle list (most recent first).
    app_prev: u32,
    app_next: u32,
    // Links in the app's list of busy or starting instances with a free
    // slot (only with concurrency > 1).
    in_spare: bool,
    spare_prev: u32,
    spare_next: u32,
    /// Past its maximum lifetime: recycled when next idle, takes no more
    /// work meanwhile.
    retiring: bool,
}

/// An app's idle list (most recently idle first) and its pending pre-warm,
/// side by side so that an arrival reads one cache line.
#[derive(Clone, Copy, Debug)]
struct List {
    head: u32,
    tail: u32,
    /// Head of the app's list of instances with a free slot.
    spare: u32,
    prewarm: PendingPrewarm,
}

impl List {
    const EMPTY: List = List {
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

#[derive(Clone, Copy, Debug)]
struct Waiting {
    ticket: u64,
    inv: Invocation,
}

/// Concurrency limits and the invocations they hold back.
struct Limits {
    fn_limit: Vec<u32>,
    global: u64,
    throttle: Throttle,
    /// Admitted invocations not yet ended, per function and in all.
    inflight: Vec<u32>,
    total: u64,
    /// Held invocations per function, and all of them in arrival order
    /// (entries already admitted through their function's queue are
    /// skipped lazily).
    held: Vec<VecDeque<Waiting>>,
    order: VecDeque<(u64, u32)>,
}

impl Limits {
    #[inline]
    fn admits(&self, f: u32) -> bool {
        self.inflight[f as usize] < self.fn_limit[f as usize] && self.total < self.global
    }

    /// Whether the order entry `(ticket, f)` still waits.
    fn waiting(&self, ticket: u64, f: u32) -> bool {
        self.held[f as usize]
            .front()
            .is_some_and(|w| w.ticket <= ticket)
    }

    fn skip_stale(&mut self) {
        while let Some(&(t, f)) = self.order.front() {
            if self.waiting(t, f) {
                break;
            }
            self.order.pop_front();
        }
    }
}

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
    order: VecDeque<(u64, u32)>,
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
    pub fn host_state(&self, h: u32) -> HostState {
        self.host_state[h as usize]
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
        if self.limits.is_some() && !self.admit(inv, now, out) {
            return;
        }
        self.dispatch(app, inv, now, out);
    }

    /// Admits an arrival under the concurrency limits, or throttles it
    /// (false).
    fn admit(&mut self, inv: Invocation, now: SimTime, out: &mut Vec<Action>) -> bool {
        let Some(l) = self.limits.as_mut() else {
            return true;
        };
        let f = inv.function;
        if l.admits(f) {
            l.inflight[f as usize] += 1;
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
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        l.held[f as usize].push_back(Waiting { ticket, inv });
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
    fn release(&mut self, f: u32) -> Option<Invocation> {
        let l = self.limits.as_mut()?;
        l.inflight[f as usize] -= 1;
        l.total -= 1;
        if self.gauges.throttled == 0 {
            return None;
        }
        // The oldest held invocation that the limits now admit: with no
        // global limit only `f`'s own can be; otherwise scan in arrival
        // order (O(held) at worst, documented).
        let pick = if l.global == u64::MAX {
            (!l.held[f as usize].is_empty() && l.admits(f)).then_some(f)
        } else {
            l.skip_stale();
            l.order
                .iter()
                .find(|&&(t, g)| l.waiting(t, g) && l.admits(g))
                .map(|&(_, g)| g)
        };
        let g = pick?;
        let w = l.held[g as usize].pop_front()?;
        l.inflight[g as usize] += 1;
        l.total += 1;
        self.gauges.throttled -= 1;
        Some(w.inv)
    }

    /// Gives an admitted invocation an instance: one of its app with a free
    /// slot, a new one, or a place in the queue.
    #[inline]
    fn dispatch(&mut self, app: u32, inv: Invocation, now: SimTime, out: &mut Vec<Action>) {
        if self.multi {
            let s = self.app_idle[app as usize].spare;
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

    /// An event armed earlier comes back at `now`.
    #[inline]
    pub fn handle(&mut self, now: SimTime, ev: Event, out: &mut Vec<Action>) {
        match ev {
            Event::Ready(id) => {
                if let Some(slot) = self.live(id, State::Starting) {
                    self.ready(slot, now, out);
                }
            }
            Event::Done(id, job) => {
                if let Some(slot) = self.live(id, State::Busy) {
                    self.finish(slot, job, now, out);
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
            Event::QueueTimeout(ticket) => self.timeout(ticket, now, out),
            Event::Crash(id) => {
                if let Some(slot) = self.live_any(id) {
                    self.kill(slot, KillReason::Crash, now, out);
                    self.after_kill(now, out);
                }
            }
            Event::Oom(id, _) => {
                if let Some(slot) = self.live(id, State::Busy) {
                    self.kill(slot, KillReason::Oom, now, out);
                    self.after_kill(now, out);
                }
            }
            Event::Retry(token) => {
                if let Some(inv) = self.retries.get_mut(token as usize).and_then(Option::take) {
                    self.free_retries.push(token);
                    self.pending_retries -= 1;
                    self.arrival(now, inv, out);
                }
            }
            Event::HostFail(h) => self.host_fail(h, now, out),
            Event::HostRepair(h) => self.host_repair(h, now, out),
            Event::Preempt(h) => self.preempt(h, now, out),
            Event::Reclaim(h) => self.reclaim(h, now, out),
            Event::Consolidate => self.consolidate(now, out),
            Event::Lifetime(id) => {
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
        let host = match self.place(app, mb) {
            Some(h) => h,
            None if self.power_on_for(mb) => self.place(app, mb)?,
            None => return None,
        };
        Some(self.new_instance(app, host, None, now, out))
    }

    /// The placement policy's host for a new instance, if one has room.
    #[inline]
    fn place(&mut self, app: u32, mb: u64) -> Option<u32> {
        match &self.snapshots {
            Some(s) => self.placement.place_near(&self.hosts, s, app, mb),
            None => self.placement.place(&self.hosts, app, mb),
        }
    }

    /// An instance finished starting: run what waits for it, or (a
    /// pre-warm) serve the app's queue or go idle.
    fn ready(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) {
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

    /// A pre-warmed instance is ready: serve the app's queue, or go idle for
    /// as long as the keep-alive policy says.
    fn prewarm_ready(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) {
        let app = self.insts[slot as usize].app;
        self.set_state(slot, State::Busy);
        self.insts[slot as usize].prewarmed = true;
        let k = self.cfg.app_concurrency[app as usize];
        let mut served = 0;
        while served < k {
            let Some(w) = self.app_queue[app as usize].pop_front() else {
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
            self.app_idle[app as usize].prewarm.keep
        };
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

    /// Moves an instance to `to`, keeping the gauges in step.
    #[inline]
    fn set_state(&mut self, slot: u32, to: State) {
        let inst = &mut self.insts[slot as usize];
        let mb = self.cfg.app_memory_mb[inst.app as usize];
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

    /// Gives `inv` a slot of an instance that has one (starting, busy, or
    /// idle and just taken out of the idle list): it runs now, or when the
    /// instance is ready.
    #[inline]
    fn attach(&mut self, slot: u32, inv: Invocation, now: SimTime, out: &mut Vec<Action>) {
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
            let mb = self.cfg.app_memory_mb[app as usize];
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
    fn attach_pending(&mut self, slot: u32, inv: Invocation, now: SimTime) {
        let kind = self.insts[slot as usize].kind;
        let j = self.new_job(inv, now, Some(kind));
        self.jobs[j as usize].inst = slot;
        let inst = &mut self.insts[slot as usize];
        inst.active += 1;
        self.jobs[j as usize].next = inst.pending;
        inst.pending = j;
    }

    /// A job for `inv`, dispatched now.
    #[inline]
    fn new_job(&mut self, inv: Invocation, now: SimTime, start: Option<StartKind>) -> u32 {
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

    /// Starts job `j` on busy instance `slot`, slowed if the instance was
    /// restored and its working set is not back yet.
    #[inline]
    fn execute(&mut self, slot: u32, j: u32, now: SimTime, out: &mut Vec<Action>) {
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
            job: j,
            function,
            exec,
        });
    }

    /// `exec` stretched by the restore slow-down (one fewer left).
    #[cold]
    fn slowed(&mut self, slot: u32, exec: SimDuration) -> SimDuration {
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

    /// Puts the instance in its app's list of instances with a free slot,
    /// or takes it out, as its load says.
    fn update_spare(&mut self, slot: u32) {
        let (app, active, in_spare, state) = {
            let i = &self.insts[slot as usize];
            (i.app as usize, i.active, i.in_spare, i.state)
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

    /// Job `j` ended on busy instance `slot`: the instance takes the next
    /// invocation waiting for its app, or keeps running others, or goes
    /// idle.
    fn finish(&mut self, slot: u32, j: u32, now: SimTime, out: &mut Vec<Action>) {
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
        if let Some(w) = self.app_queue[app as usize].pop_front() {
            // Its entry in `order` is now stale and skipped later.
            self.gauges.queued -= 1;
            self.attach(slot, w.inv, now, out);
        } else if let Some(inv) =
            admitted.take_if(|inv| self.cfg.fn_app[inv.function as usize] == app)
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
            let a = self.cfg.fn_app[inv.function as usize];
            self.dispatch(a, inv, now, out);
        }
    }

    /// The last execution of an instance ended with nothing queued for its
    /// app: the keep-alive policy decides.
    fn idle_decision(&mut self, slot: u32, app: u32, now: SimTime, out: &mut Vec<Action>) {
        if self.multi {
            self.update_spare(slot);
        }
        let draining = if self.insts[slot as usize].retiring {
            let host = self.insts[slot as usize].host;
            if self.host_state[host as usize] != HostState::Draining {
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
    fn go_idle(&mut self, slot: u32, now: SimTime, keep: SimDuration, out: &mut Vec<Action>) {
        let (app, host) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
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
    fn take_idle(&mut self, slot: u32) {
        let (app, host) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
        self.unlink_idle(slot);
        self.hosts.mark_taken(host, mb);
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
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
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
                });
                (self.insts.len() - 1) as u32
            }
        };
        let inst = &mut self.insts[slot as usize];
        inst.app = app;
        inst.host = host;
        inst.host_pos = self.host_insts[host as usize].len() as u32;
        self.host_insts[host as usize].push(slot);
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
    fn find_host(&mut self, app: u32, out: &mut Vec<Action>) -> Option<u32> {
        let mb = self.cfg.app_memory_mb[app as usize];
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
        self.set_state(slot, State::Free);
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
        if self.gauges.queued + self.gauges.throttled >= self.cfg.queue_max_len as u64 {
            self.reject_admitted(inv, RejectReason::QueueFull, now, out);
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

    /// Rejects an invocation the limits had admitted, freeing its slot for
    /// a held one.
    fn reject_admitted(
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
            let a = self.cfg.fn_app[next.function as usize];
            self.dispatch(a, next, now, out);
        }
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

    /// Serves the head of the queue while instances or memory allow.
    fn drain_queue(&mut self, now: SimTime, out: &mut Vec<Action>) {
        while self.gauges.queued > 0 {
            self.skip_stale();
            let Some(&(_, app)) = self.order.front() else {
                break;
            };
            let Some(w) = self.app_queue[app as usize].front().copied() else {
                break;
            };
            let spare = if self.multi {
                self.app_idle[app as usize].spare
            } else {
                NIL
            };
            if spare != NIL {
                self.attach(spare, w.inv, now, out);
            } else if !self.try_start(app, w.inv, now, out) {
                break;
            }
            self.order.pop_front();
            self.app_queue[app as usize].pop_front();
            self.gauges.queued -= 1;
            if self.multi {
                self.fill_from_queue(app, now, out);
            }
        }
    }

    /// Gives the app's queued invocations the free slots of its busy or
    /// starting instances (a new instance with concurrency > 1 has some):
    /// they need no memory, so they do not wait behind other apps.
    fn fill_from_queue(&mut self, app: u32, now: SimTime, out: &mut Vec<Action>) {
        loop {
            let spare = self.app_idle[app as usize].spare;
            if spare == NIL {
                break;
            }
            let Some(w) = self.app_queue[app as usize].pop_front() else {
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
    fn timeout(&mut self, ticket: u64, now: SimTime, out: &mut Vec<Action>) {
        self.skip_stale();
        if self.order.front().map(|&(t, _)| t) == Some(ticket) {
            let Some((_, app)) = self.order.pop_front() else {
                return;
            };
            if let Some(w) = self.app_queue[app as usize].pop_front() {
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
        if let Some(w) = l.held[f as usize].pop_front() {
            debug_assert_eq!(w.ticket, ticket);
            self.gauges.throttled -= 1;
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

    /// Kills the instance in `slot`, whatever its state: the invocations it
    /// runs or starts for fail (and are retried or failed for good), its
    /// memory is freed. The caller drains the queue afterwards
    /// ([`Platform::after_kill`]), once for a batch of kills.
    fn kill(&mut self, slot: u32, reason: KillReason, now: SimTime, out: &mut Vec<Action>) {
        let id = self.id(slot);
        let (app, host, state, took) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host, i.state, i.took_snapshot)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
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
        let list = &mut self.host_insts[host as usize];
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
    fn after_kill(&mut self, now: SimTime, out: &mut Vec<Action>) {
        while let Some(inv) = self.deferred.pop() {
            let a = self.cfg.fn_app[inv.function as usize];
            self.dispatch(a, inv, now, out);
        }
        if self.gauges.queued > 0 {
            self.drain_queue(now, out);
        }
    }

    /// A failed attempt: retried after a backoff if its function's policy
    /// allows another attempt, else failed for good.
    fn retry_or_fail(&mut self, inv: Invocation, reason: KillReason, out: &mut Vec<Action>) {
        let pol = self.cfg.fn_retry[inv.function as usize];
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
                t
            }
            None => {
                self.retries.push(Some(retry));
                (self.retries.len() - 1) as u32
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
    fn kill_host(&mut self, h: u32, reason: KillReason, now: SimTime, out: &mut Vec<Action>) {
        while let Some(&slot) = self.host_insts[h as usize].last() {
            self.kill(slot, reason, now, out);
        }
    }

    fn set_host(&mut self, h: u32, st: HostState) {
        let on =
            |s: HostState| matches!(s, HostState::Up | HostState::Failed | HostState::Draining);
        let old = self.host_state[h as usize];
        if on(old) && !on(st) {
            self.gauges.hosts_on -= 1;
        } else if !on(old) && on(st) {
            self.gauges.hosts_on += 1;
        }
        self.host_state[h as usize] = st;
        self.hosts.set_closed(h, st != HostState::Up);
    }

    /// Host `h` fails: everything on it dies, and it is closed until
    /// repaired. A host already down is left alone.
    fn host_fail(&mut self, h: u32, now: SimTime, out: &mut Vec<Action>) {
        if !matches!(
            self.host_state[h as usize],
            HostState::Up | HostState::Draining
        ) {
            return;
        }
        self.set_host(h, HostState::Failed);
        self.kill_host(h, KillReason::HostFailure, now, out);
        self.after_kill(now, out);
    }

    /// Host `h` is back and takes instances again.
    fn host_repair(&mut self, h: u32, now: SimTime, out: &mut Vec<Action>) {
        if matches!(
            self.host_state[h as usize],
            HostState::Failed | HostState::Reclaimed
        ) {
            self.set_host(h, HostState::Up);
            self.after_kill(now, out);
        }
    }

    /// A preemption notice for host `h`: it is closed; its idle instances
    /// move to other hosts (or are evicted); busy ones may finish.
    fn preempt(&mut self, h: u32, now: SimTime, out: &mut Vec<Action>) {
        if self.host_state[h as usize] != HostState::Up {
            return;
        }
        self.set_host(h, HostState::Draining);
        let insts: Vec<u32> = self.host_insts[h as usize].clone();
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
    fn reclaim(&mut self, h: u32, now: SimTime, out: &mut Vec<Action>) {
        if !matches!(
            self.host_state[h as usize],
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
    fn relocate(&mut self, slot: u32, now: SimTime, out: &mut Vec<Action>) -> bool {
        let (app, from, expires, provisioned) = {
            let i = &self.insts[slot as usize];
            (i.app, i.host, i.expires_at, i.provisioned)
        };
        let mb = self.cfg.app_memory_mb[app as usize];
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

    /// The consolidation controller: empties lightly used hosts that hold
    /// only idle instances by relocating those (fullest targets first:
    /// best-fit), and powers empty hosts off, keeping `min_on` on. Hosts
    /// are powered on again when an instance finds no room
    /// (`Platform::power_on_for`).
    pub fn consolidate(&mut self, now: SimTime, out: &mut Vec<Action>) {
        let Some(c) = self.cfg.consolidation else {
            return;
        };
        let cap = self.hosts.capacity_mb();
        if c.spread {
            self.spread(c.threshold, now, out);
            return;
        }
        for h in 0..self.hosts.len() as u32 {
            if self.host_state[h as usize] != HostState::Up {
                continue;
            }
            let used = cap - self.hosts.unused_mb(h);
            let all_idle = self.host_insts[h as usize]
                .iter()
                .all(|&i| self.insts[i as usize].state == State::Idle);
            let light = used > 0 && (used as f64) <= c.threshold * cap as f64 && all_idle;
            if light {
                // Close it while moving, so nothing is placed back on it.
                self.hosts.set_closed(h, true);
                let idle: Vec<u32> = self.host_insts[h as usize].clone();
                for slot in idle {
                    if !self.relocate(slot, now, out) {
                        break;
                    }
                }
                self.hosts.set_closed(h, false);
            }
            let empty = self.host_insts[h as usize].is_empty();
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
    fn spread(&mut self, threshold: f64, now: SimTime, out: &mut Vec<Action>) {
        let cap = self.hosts.capacity_mb();
        let high = ((1.0 - threshold) * cap as f64) as u64;
        for h in 0..self.hosts.len() as u32 {
            if self.host_state[h as usize] != HostState::Up || cap - self.hosts.unused_mb(h) <= high
            {
                continue;
            }
            self.hosts.set_closed(h, true);
            let mut idle: Vec<u32> = self.host_insts[h as usize]
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
    fn power_on_for(&mut self, mb: u64) -> bool {
        if self.cfg.consolidation.is_none() || mb > self.hosts.capacity_mb() {
            return false;
        }
        match (0..self.hosts.len() as u32).find(|&h| self.host_state[h as usize] == HostState::Off)
        {
            Some(h) => {
                self.set_host(h, HostState::Up);
                true
            }
            None => false,
        }
    }

    /// Checks every internal invariant; used by tests after each event.
    pub fn check_invariants(&self) -> Result<(), String> {
        let h = self.hosts.len();
        let mut used = vec![0u64; h];
        let mut idle = vec![0u64; h];
        let mut count = vec![0u32; h];
        let mut g = Gauges {
            queued: self.gauges.queued,
            throttled: self.gauges.throttled,
            hosts_on: self
                .host_state
                .iter()
                .filter(|s| matches!(s, HostState::Up | HostState::Failed | HostState::Draining))
                .count() as u64,
            ..Gauges::default()
        };
        for (h, st) in self.host_state.iter().enumerate() {
            if self.hosts.is_closed(h as u32) != (*st != HostState::Up) {
                return Err(format!("host {h} is {st:?} but closed is out of step"));
            }
            if matches!(
                st,
                HostState::Failed | HostState::Reclaimed | HostState::Off
            ) && !self.host_insts[h].is_empty()
            {
                return Err(format!("host {h} is {st:?} and still has instances"));
            }
        }
        let retries = self.retries.iter().filter(|r| r.is_some()).count() as u64;
        if retries != self.pending_retries
            || retries as usize + self.free_retries.len() != self.retries.len()
        {
            return Err("pending retries out of step".into());
        }
        if !self.deferred.is_empty() {
            return Err("admitted invocations left undispatched".into());
        }
        let mut idle_per_app = vec![0usize; self.app_idle.len()];
        let mut spare_per_app = vec![0usize; self.app_idle.len()];
        let mut attached = 0u64;
        for inst in self.insts.iter() {
            if inst.state == State::Free {
                continue;
            }
            let mb = self.cfg.app_memory_mb[inst.app as usize];
            used[inst.host as usize] += mb;
            count[inst.host as usize] += 1;
            let k = self.cfg.app_concurrency[inst.app as usize];
            let mut pending = 0;
            let mut j = inst.pending;
            while j != NIL {
                pending += 1;
                if !self.jobs[j as usize].live {
                    return Err("a freed job waits for an instance".into());
                }
                j = self.jobs[j as usize].next;
            }
            match inst.state {
                State::Starting => {
                    g.starting += 1;
                    g.starting_mb += mb;
                    if pending != inst.active {
                        return Err(format!(
                            "starting instance with {} jobs, {pending} pending",
                            inst.active
                        ));
                    }
                }
                State::Busy => {
                    g.busy += 1;
                    g.busy_mb += mb;
                    g.running += inst.active as u64;
                    if inst.active == 0 || pending != 0 {
                        return Err("busy instance with no job or pending jobs".into());
                    }
                }
                State::Idle => {
                    g.idle += 1;
                    g.idle_mb += mb;
                    idle[inst.host as usize] += mb;
                    idle_per_app[inst.app as usize] += 1;
                    if inst.active != 0 {
                        return Err("idle instance with jobs".into());
                    }
                }
                State::Free => {}
            }
            if inst.active > k {
                return Err(format!("instance runs {} > concurrency {k}", inst.active));
            }
            attached += inst.active as u64;
            let should_spare = inst.active >= 1
                && inst.active < k
                && matches!(inst.state, State::Starting | State::Busy)
                && !inst.retiring;
            if inst.in_spare != should_spare {
                return Err(format!(
                    "instance with {} of {k} jobs in state {:?}: spare {}",
                    inst.active, inst.state, inst.in_spare
                ));
            }
            if inst.in_spare {
                spare_per_app[inst.app as usize] += 1;
            }
        }
        let live_jobs = self.jobs.iter().filter(|j| j.live).count() as u64;
        if live_jobs != attached || live_jobs as usize + self.free_jobs.len() != self.jobs.len() {
            return Err(format!(
                "{live_jobs} live jobs, {attached} attached to instances"
            ));
        }
        for i in 0..h {
            let hi = i as u32;
            if used[i] > self.hosts.capacity_mb() {
                return Err(format!("host {i} over capacity: {} MB used", used[i]));
            }
            if self.hosts.unused_mb(hi) + used[i] != self.hosts.capacity_mb() {
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
        if self.gauges.queued + self.gauges.throttled > self.cfg.queue_max_len as u64 {
            return Err("more waiting than the queue holds".into());
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
            let mut walked = 0;
            let mut cur = self.app_idle[app].spare;
            while cur != NIL {
                walked += 1;
                cur = self.insts[cur as usize].spare_next;
            }
            if walked != spare_per_app[app] {
                return Err(format!("app {app} spare list out of step"));
            }
            if (n > 0 || spare_per_app[app] > 0) && !self.app_queue[app].is_empty() {
                return Err(format!("app {app} has free slots and queued work"));
            }
        }
        match &self.limits {
            Some(l) => {
                // Admitted = given an instance or waiting for memory.
                let mut per_fn = vec![0u32; l.inflight.len()];
                for j in self.jobs.iter().filter(|j| j.live) {
                    per_fn[j.inv.function as usize] += 1;
                }
                for q in &self.app_queue {
                    for w in q {
                        per_fn[w.inv.function as usize] += 1;
                    }
                }
                if per_fn != l.inflight || per_fn.iter().map(|&n| n as u64).sum::<u64>() != l.total
                {
                    return Err("concurrency counts out of step".into());
                }
                if l.total > l.global || per_fn.iter().zip(&l.fn_limit).any(|(&n, &lim)| n > lim) {
                    return Err("a concurrency limit is exceeded".into());
                }
                let held: usize = l.held.iter().map(VecDeque::len).sum();
                if held as u64 != self.gauges.throttled {
                    return Err("throttled count out of step".into());
                }
                for (f, q) in l.held.iter().enumerate() {
                    if !q.is_empty() && l.admits(f as u32) {
                        return Err(format!("function {f} is held while its limits admit it"));
                    }
                }
            }
            None => {
                if self.gauges.throttled != 0 {
                    return Err("throttled invocations with no limits".into());
                }
            }
        }
        if let Some(s) = &self.snapshots {
            s.check()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::testkit::{FirstFit, FixedTtl, Lru};

    fn platform(hosts: usize, host_mb: u64, mem: &[u64], ttl: u64, qlen: u32) -> Platform {
        let mut cfg = PlatformConfig::simple(hosts, host_mb, mem);
        cfg.queue_max_len = qlen;
        cfg.queue_timeout = SimDuration::from_secs(10);
        Platform::new(
            cfg,
            Box::new(FirstFit),
            Box::new(FixedTtl(SimDuration::from_secs(ttl))),
            Box::new(Lru),
        )
    }

    fn inv(id: u64, f: u32, t: u64) -> Invocation {
        Invocation {
            id,
            function: f,
            arrival: SimTime(t),
            exec: SimDuration(5),
            attempt: 0,
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
                job: 0,
                function: 0,
                exec: SimDuration(5)
            }]
        );
        out.clear();
        p.handle(SimTime(8), Event::Done(instance, 0), &mut out);
        assert!(matches!(out[0], Action::Completed(c) if c.cold() && c.exec_start == SimTime(3)));
        assert!(matches!(out[1], Action::ArmKeepAlive { .. }));
        out.clear();
        p.arrival(SimTime(9), inv(1, 0, 9), &mut out);
        assert_eq!(
            out,
            [Action::Execute {
                instance,
                job: 0,
                function: 0,
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
        p.handle(SimTime(10), Event::Done(ids[0], 0), &mut out);
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
        p.handle(SimTime(2), Event::Done(instance, 0), &mut out);
        let at = 2 + 1_000_000_000;
        p.handle(SimTime(at), Event::KeepAlive(instance), &mut out);
        assert_eq!(p.live_instances(), 0);
        out.clear();
        // The old id and its events are dead now.
        p.handle(SimTime(at), Event::Done(instance, 0), &mut out);
        p.handle(SimTime(at), Event::KeepAlive(instance), &mut out);
        assert!(out.is_empty());
    }
}
