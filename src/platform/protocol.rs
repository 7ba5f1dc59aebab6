//! The core's protocol: the [`Event`]s it is handed, the [`Action`]s it
//! returns, and what those carry (a [`Completion`], the reasons an
//! instance or invocation ends, a host's condition) and the [`Gauges`] it
//! keeps for time integrals.

use crate::model::{AppId, FnId, HostId, Invocation};
use crate::time::{SimDuration, SimTime};

use super::arena::{InstanceId, JobId, RetryToken, Ticket};
use super::snapshots::StartKind;

/// Inputs that come back from the outside world (the event queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The instance finished starting.
    Ready { instance: InstanceId },
    /// The execution of `job` on the instance ended.
    Done { instance: InstanceId, job: JobId },
    /// A keep-alive timer armed by [`Action::ArmKeepAlive`] fired.
    KeepAlive { instance: InstanceId },
    /// A queue timeout armed by [`Action::ArmQueueTimeout`] fired.
    QueueTimeout { ticket: Ticket },
    /// A pre-warm armed by [`Action::ArmPrewarm`] is due for `app`;
    /// `generation` is the app's pre-warm generation when it was armed (an
    /// arrival of the app in between cancels it).
    Prewarm { app: AppId, generation: u32 },
    /// The instance died on its own (its worker crashed).
    Crash { instance: InstanceId },
    /// `job` ran out of its instance's memory: the instance dies.
    Oom { instance: InstanceId, job: JobId },
    /// The retry announced by [`Action::Retry`] with this token is due.
    Retry { token: RetryToken },
    /// The host fails: every instance on it dies; it takes nothing new.
    HostFail { host: HostId },
    /// The host is back (repaired, or reclaimed capacity returned).
    HostRepair { host: HostId },
    /// A preemption notice for the host: it takes nothing new, its idle
    /// instances move away, its busy ones may finish until the reclaim.
    Preempt { host: HostId },
    /// The preempted host is reclaimed: what still runs there dies.
    Reclaim { host: HostId },
    /// The consolidation controller runs.
    Consolidate,
    /// The instance reached the maximum lifetime ([`Action::ArmLifetime`]).
    Lifetime { instance: InstanceId },
}

impl Event {
    /// A code for the event's kind (1 to 14) and the id it carries (an
    /// instance's slot, a ticket, an app, a retry token, a host), as the
    /// run's fingerprint mixes them in. These numbers are part of every
    /// fingerprint ever reported: they never change.
    #[inline]
    pub fn code(&self) -> (u64, u64) {
        match *self {
            Event::Ready { instance } => (1, instance.slot as u64),
            Event::Done { instance, .. } => (2, instance.slot as u64),
            Event::KeepAlive { instance } => (3, instance.slot as u64),
            Event::QueueTimeout { ticket } => (4, ticket.0),
            Event::Prewarm { app, .. } => (5, app.0 as u64),
            Event::Crash { instance } => (6, instance.slot as u64),
            Event::Oom { instance, .. } => (7, instance.slot as u64),
            Event::Retry { token } => (8, token.0 as u64),
            Event::HostFail { host } => (9, host.0 as u64),
            Event::HostRepair { host } => (10, host.0 as u64),
            Event::Preempt { host } => (11, host.0 as u64),
            Event::Reclaim { host } => (12, host.0 as u64),
            Event::Consolidate => (13, 0),
            Event::Lifetime { instance } => (14, instance.slot as u64),
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
    pub app: AppId,
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
        app: AppId,
        host: HostId,
        prewarm: bool,
        kind: StartKind,
        take_snapshot: bool,
    },
    /// Run job `job` (an invocation of `function`) for `exec` on the
    /// instance; report [`Event::Done`]. `exec` already includes any
    /// slow-down after a restore.
    Execute {
        instance: InstanceId,
        job: JobId,
        function: FnId,
        exec: SimDuration,
    },
    /// Report [`Event::KeepAlive`] at `at`.
    ArmKeepAlive {
        instance: InstanceId,
        at: SimTime,
    },
    /// Report [`Event::QueueTimeout`] with `ticket` at `at`.
    ArmQueueTimeout {
        ticket: Ticket,
        at: SimTime,
    },
    /// The instance is gone and its memory free.
    Evicted {
        instance: InstanceId,
        app: AppId,
        host: HostId,
        reason: EvictReason,
    },
    /// Report [`Event::Prewarm`] with `app` and `generation` at `at`.
    ArmPrewarm {
        app: AppId,
        generation: u32,
        at: SimTime,
    },
    /// A pre-warmed instance of `app` served its first invocation.
    PrewarmUsed {
        app: AppId,
    },
    /// A pre-warmed instance of `app` was evicted without serving any.
    PrewarmWasted {
        app: AppId,
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
        app: AppId,
        host: HostId,
        reason: KillReason,
        lost: SimDuration,
        jobs: u32,
    },
    /// An attempt failed and will be retried: report [`Event::Retry`] with
    /// `token` after a delay drawn uniformly in `[0, cap]`.
    Retry {
        token: RetryToken,
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
        app: AppId,
        from: HostId,
        to: HostId,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes are part of every fingerprint ever reported
    /// (`summary.csv`): the same numbers for the same events, for good.
    #[test]
    fn event_codes_are_stable() {
        let instance = InstanceId {
            slot: 7,
            generation: 3,
        };
        let job = JobId(9);
        let host = HostId(4);
        let codes = [
            (Event::Ready { instance }, (1, 7)),
            (Event::Done { instance, job }, (2, 7)),
            (Event::KeepAlive { instance }, (3, 7)),
            (
                Event::QueueTimeout {
                    ticket: Ticket(1 << 40),
                },
                (4, 1 << 40),
            ),
            (
                Event::Prewarm {
                    app: AppId(5),
                    generation: 2,
                },
                (5, 5),
            ),
            (Event::Crash { instance }, (6, 7)),
            (Event::Oom { instance, job }, (7, 7)),
            (
                Event::Retry {
                    token: RetryToken(11),
                },
                (8, 11),
            ),
            (Event::HostFail { host }, (9, 4)),
            (Event::HostRepair { host }, (10, 4)),
            (Event::Preempt { host }, (11, 4)),
            (Event::Reclaim { host }, (12, 4)),
            (Event::Consolidate, (13, 0)),
            (Event::Lifetime { instance }, (14, 7)),
        ];
        for (ev, code) in codes {
            assert_eq!(ev.code(), code, "{ev:?}");
        }
    }

    #[test]
    fn reasons_index_their_names() {
        for (i, r) in KillReason::ALL.into_iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        let names = KillReason::ALL.map(KillReason::name);
        assert_eq!(
            names,
            [
                "host_failure",
                "preemption",
                "oom",
                "crash",
                "relocation",
                "lifetime"
            ]
        );
    }
}
