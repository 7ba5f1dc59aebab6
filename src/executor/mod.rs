//! The real executor's process layer: function instances as real worker
//! processes (Linux only).
//!
//! # What an instance is
//!
//! A worker is the `coldsim` binary in its hidden `worker` mode
//! ([`worker`]). It builds `state_mb` MiB of real state (mapped fresh and
//! filled with a deterministic function of `(seed, index)`, see [`state`]),
//! standing for model weights or an index being loaded and built, reports
//! ready, then serves invocations one at a time. Three ways to start one,
//! the [`StartKind`]s:
//!
//! * **Cold**: spawn the binary; it builds its state from nothing.
//! * **Template** and **Fork**: a template (SOCK's zygote, Catalyzer's
//!   sfork) is a worker that builds its state once and then only forks; a
//!   fork is a child of the template that shares its state copy-on-write
//!   and is ready as soon as it has connected, without building anything.
//!   `fork` is only ever called by the single-threaded template process,
//!   never by the multi-threaded executor.
//!
//! A warm start is an invocation sent to an idle worker ([`Executor::invoke`]).
//!
//! # The channel
//!
//! The executor listens on one Unix stream socket in Linux's abstract
//! namespace (no file to clean up; the name carries the executor's pid and
//! a random secret). Every worker, spawned or forked, connects to it and
//! sends `Hello { token, pid }` first; the token is unique to the start that
//! asked for the worker and unguessable (a hash of a random secret), and an
//! acceptor thread hands the connection to the instance that owns the
//! token. A fork gets its own connection this way without passing file
//! descriptors: the executor sends `Fork { token }` to the template, the
//! template forks, and the child drops the inherited template connection
//! and connects afresh with the token. Messages are fixed 40-byte frames
//! ([`proto`]).
//!
//! # Threads
//!
//! [`Executor`] is driven from one thread and never blocks except in
//! [`Executor::next_event`]. Each instance has an instance thread that owns
//! its process (spawn, kill, reap, timeouts) and a reader thread that turns
//! the socket into messages; both feed the instance thread's channel, and
//! instance threads send [`ExecEvent`]s to one event channel. So N live
//! workers cost 2N small threads (256 KiB and 64 KiB stacks) plus one
//! acceptor thread.
//!
//! # Process hygiene
//!
//! No worker outlives the executor, even when the executor is SIGKILLed:
//! * A spawned worker gets `PR_SET_PDEATHSIG(SIGKILL)` between `fork` and
//!   `exec`, then checks that its parent is still the executor. The
//!   parent-death signal follows the *thread* that spawned the worker; that
//!   is its instance thread, which lives until the worker is dead and
//!   reaped, so the signal fires exactly when the executor dies.
//! * A fork sets the same signal against its template (single-threaded),
//!   so the template's death takes its forks along; the template ignores
//!   SIGCHLD, so the kernel reaps its forks (no zombies).
//! * Workers stay in the executor's process group: `kill -KILL -PGID` of
//!   the executor's group takes everything too.
//! * [`Executor::kill`] is SIGKILL and reap (a spawned worker: `waitpid`;
//!   a fork, which is not our child: a pidfd, opened while the fork's
//!   connection is known to be alive so pid reuse cannot fool it, then
//!   SIGKILL through it and wait for its exit). Dropping the executor kills
//!   every worker.
//! * Killing a template that still has live forks *retires* it instead: it
//!   unmaps its state at once and its (now tiny) process exits after its
//!   last fork, so evicting a snapshot does not kill the instances made
//!   from it. A second kill is SIGKILL, forks included.
//!
//! # Verification
//!
//! Every invocation carries a fresh nonce and every reply a checksum over
//! 64 nonce-derived positions of the worker's state; the executor
//! recomputes it from the formula ([`state::expected_checksum`]). A reply
//! that does not match fails the invocation with [`Cause::BadChecksum`] and
//! the worker is killed. A worker that crashes, or does not answer within
//! the request's timeout, is killed and its invocation fails likewise; the
//! executor keeps running.
//!
//! # Events
//!
//! Every [`Executor::start`] is followed by exactly one [`ExecEvent::Ready`]
//! or an [`ExecEvent::Exited`] (a failed start); every accepted
//! [`Executor::invoke`] by exactly one [`ExecEvent::Done`] or
//! [`ExecEvent::Failed`]; every instance ends with exactly one
//! [`ExecEvent::Exited`], its last event, sent once its process is gone.
//! Event times are `Instant`s taken when the executor learnt the fact (a
//! reply read from the socket, a kill reaped), not when the driver polled.
//!
//! # Drivers
//!
//! [`driver`] runs a scenario on this layer with the simulator's platform
//! core in wall-clock time; `crate::compare` puts such a run beside the
//! simulator's, priced by a [`calibrate`] profile (`coldsim compare`).

pub mod calibrate;
pub mod driver;
mod instance;
pub mod proto;
pub mod selftest;
pub mod state;
mod sys;
pub mod worker;

use std::collections::HashMap;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use proto::Fault;

use instance::{Env, Input, Routes};

/// An instance, named by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(pub u64);

/// An invocation, named by the driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl std::fmt::Display for InstanceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How an instance is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    /// Spawn a worker that builds its state from nothing.
    Cold,
    /// Spawn a template: it builds its state once and serves only forks.
    Template,
    /// Fork a worker from a ready (or starting) template; it shares the
    /// template's state copy-on-write. Its spec's state must be the
    /// template's.
    Fork { template: InstanceId },
}

/// What a worker holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSpec {
    /// State size in MiB (0 is allowed: a worker with no state).
    pub state_mb: u32,
    /// Seed of the state's contents.
    pub seed: u64,
    /// A start that has not reported ready after this long is killed and
    /// ends with [`Cause::TimedOut`].
    pub ready_timeout: Duration,
}

impl WorkerSpec {
    /// A spec with a generous ready timeout: 10 s plus 20 ms per MiB (a
    /// cold 512 MiB start takes about 0.2 s on the development VM).
    pub fn new(state_mb: u32, seed: u64) -> WorkerSpec {
        WorkerSpec {
            state_mb,
            seed,
            ready_timeout: Duration::from_secs(10) + Duration::from_millis(20) * state_mb,
        }
    }
}

/// One invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Wall time of the work.
    pub exec: Duration,
    /// I/O-bound work sleeps for `exec`; CPU-bound work computes over the
    /// state for `exec`.
    pub io_bound: bool,
    /// No reply after this long (from the invoke) kills the worker and
    /// fails the invocation with [`Cause::TimedOut`].
    pub timeout: Duration,
    /// An injected fault, for tests.
    pub fault: Option<Fault>,
}

impl Request {
    /// CPU-bound work for `exec`, timeout `2 * exec + 2 s`.
    pub fn cpu(exec: Duration) -> Request {
        Request {
            exec,
            io_bound: false,
            timeout: exec * 2 + Duration::from_secs(2),
            fault: None,
        }
    }

    /// I/O-bound work (a sleep) for `exec`, timeout `2 * exec + 2 s`.
    pub fn io(exec: Duration) -> Request {
        Request {
            io_bound: true,
            ..Request::cpu(exec)
        }
    }

    pub fn with_timeout(self, timeout: Duration) -> Request {
        Request { timeout, ..self }
    }

    pub fn with_fault(self, fault: Fault) -> Request {
        Request {
            fault: Some(fault),
            ..self
        }
    }
}

/// Why an invocation failed or an instance ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// [`Executor::kill`] (or the executor shutting down).
    Killed,
    /// The worker died on its own (the text says how, when known).
    Crashed(String),
    /// No ready report or no reply in time; the worker was killed.
    TimedOut,
    /// The reply's checksum is not the state's; the worker was killed.
    BadChecksum { expected: u64, got: u64 },
    /// The worker broke the protocol; it was killed.
    Protocol(String),
    /// The process could not be started (spawn or fork failed).
    Spawn(String),
    /// The template of a fork was killed, and the fork with it (or before
    /// it connected).
    TemplateGone,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Killed => write!(f, "killed"),
            Cause::Crashed(how) => write!(f, "crashed ({how})"),
            Cause::TimedOut => write!(f, "timed out"),
            Cause::BadChecksum { expected, got } => {
                write!(f, "bad checksum (expected {expected:#x}, got {got:#x})")
            }
            Cause::Protocol(m) => write!(f, "protocol error ({m})"),
            Cause::Spawn(m) => write!(f, "could not start ({m})"),
            Cause::TemplateGone => write!(f, "its template is gone"),
        }
    }
}

/// What happened. See the module doc for the order guarantees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEvent {
    /// The worker has its state and waits for invocations (a template:
    /// for forks). `init` is the worker's own measure of its state build.
    Ready {
        instance: InstanceId,
        pid: u32,
        init: Duration,
        at: Instant,
    },
    /// The invocation ran and its checksum was verified. `started` is when
    /// the worker began the work (its CLOCK_MONOTONIC, the `Instant` clock).
    Done {
        instance: InstanceId,
        job: JobId,
        checksum: u64,
        started: Instant,
        at: Instant,
    },
    /// The invocation failed; an `Exited` for the instance follows.
    Failed {
        instance: InstanceId,
        job: JobId,
        reason: Cause,
        at: Instant,
    },
    /// The instance's process is gone; its id may be reused.
    Exited {
        instance: InstanceId,
        cause: Cause,
        at: Instant,
    },
}

impl ExecEvent {
    pub fn instance(&self) -> InstanceId {
        match self {
            ExecEvent::Ready { instance, .. }
            | ExecEvent::Done { instance, .. }
            | ExecEvent::Failed { instance, .. }
            | ExecEvent::Exited { instance, .. } => *instance,
        }
    }

    pub fn at(&self) -> Instant {
        match self {
            ExecEvent::Ready { at, .. }
            | ExecEvent::Done { at, .. }
            | ExecEvent::Failed { at, .. }
            | ExecEvent::Exited { at, .. } => *at,
        }
    }
}

impl From<ExecError> for crate::Error {
    fn from(e: ExecError) -> Self {
        crate::Error::Exec(Box::new(e))
    }
}

/// Misuse of the executor, or a failure to set it up.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("instance {0} already exists")]
    Duplicate(InstanceId),
    #[error("no live instance {0}")]
    Unknown(InstanceId),
    #[error("instance {0} is {1}, not idle")]
    NotIdle(InstanceId, &'static str),
    #[error("instance {0} is a template: it serves forks, not invocations")]
    IsTemplate(InstanceId),
    #[error("instance {0} is not a template (or is being killed): it cannot fork")]
    NotTemplate(InstanceId),
    #[error(
        "a fork must have its template's state: template {template} has {have}, the fork asks {want}"
    )]
    ForkSpec {
        template: InstanceId,
        have: String,
        want: String,
    },
    #[error("{what}: {err}")]
    Io { what: String, err: io::Error },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ExecError {
    move |err| ExecError::Io {
        what: what.into(),
        err,
    }
}

/// Where the worker binary is.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// The `coldsim` binary (it has the hidden `worker` mode). Tests and
    /// benches pass `env!("CARGO_BIN_EXE_coldsim")`.
    pub worker_bin: PathBuf,
}

impl ExecutorConfig {
    /// Workers are this very binary (for the `coldsim` CLI itself).
    pub fn current_exe() -> crate::Result<ExecutorConfig> {
        let worker_bin =
            std::env::current_exe().map_err(io_err("cannot find the coldsim binary"))?;
        Ok(ExecutorConfig { worker_bin })
    }
}

/// The converter from a worker's CLOCK_MONOTONIC reading to an `Instant`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    instant: Instant,
    mono_ns: u64,
}

impl Anchor {
    fn now() -> Anchor {
        Anchor {
            instant: Instant::now(),
            mono_ns: sys::monotonic_ns(),
        }
    }

    pub(crate) fn to_instant(self, ns: u64) -> Instant {
        if ns >= self.mono_ns {
            self.instant + Duration::from_nanos(ns - self.mono_ns)
        } else {
            self.instant
                .checked_sub(Duration::from_nanos(self.mono_ns - ns))
                .unwrap_or(self.instant)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Starting,
    Idle,
    Busy(JobId),
    Retiring,
    Dying,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Idle => "idle",
            Phase::Busy(_) => "busy",
            Phase::Retiring => "retiring",
            Phase::Dying => "being killed",
        }
    }
}

struct Handle {
    tx: Sender<Input>,
    thread: Option<JoinHandle<()>>,
    kind: StartKind,
    spec: WorkerSpec,
    phase: Phase,
    pid: Option<u32>,
    /// For a template: forks started and not yet exited.
    live_forks: u32,
}

/// The real executor. See the module doc.
pub struct Executor {
    env: Env,
    instances: HashMap<InstanceId, Handle>,
    events: Receiver<ExecEvent>,
    secret: u64,
    counter: u64,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

/// A random 64-bit secret from the kernel, or (failing that) from the
/// clock and pid, hashed.
fn random_secret() -> u64 {
    use std::io::Read;
    let mut b = [0u8; 8];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok();
    let r = if ok { u64::from_le_bytes(b) } else { 0 };
    state::mix64(r ^ sys::monotonic_ns() ^ (u64::from(std::process::id()) << 32))
}

impl Executor {
    /// Binds the socket and starts the acceptor thread.
    pub fn new(cfg: ExecutorConfig) -> crate::Result<Executor> {
        let secret = random_secret();
        let socket = format!("coldsim-exec-{}-{secret:016x}", std::process::id());
        let addr = SocketAddr::from_abstract_name(socket.as_bytes())
            .map_err(io_err("abstract socket name"))?;
        let listener = UnixListener::bind_addr(&addr)
            .map_err(io_err(format!("cannot listen on @{socket}")))?;
        let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
        let (etx, erx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let routes = routes.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("coldsim-acceptor".into())
                .stack_size(128 * 1024)
                .spawn(move || instance::accept_loop(listener, routes, stop))
                .map_err(io_err("cannot start the acceptor thread"))?
        };
        Ok(Executor {
            env: Env {
                events: etx,
                routes,
                socket,
                worker_bin: cfg.worker_bin,
                anchor: Anchor::now(),
            },
            instances: HashMap::new(),
            events: erx,
            secret,
            counter: 0,
            stop,
            acceptor: Some(acceptor),
        })
    }

    fn fresh(&mut self) -> u64 {
        self.counter += 1;
        state::mix64(self.secret.wrapping_add(self.counter))
    }

    /// Starts an instance; returns at once. Its `Ready` (or `Exited`)
    /// comes through [`Executor::next_event`].
    pub fn start(
        &mut self,
        instance: InstanceId,
        kind: StartKind,
        spec: WorkerSpec,
    ) -> crate::Result<()> {
        if self.instances.contains_key(&instance) {
            return Err(ExecError::Duplicate(instance).into());
        }
        if let StartKind::Fork { template } = kind {
            let t = self
                .instances
                .get(&template)
                .ok_or(ExecError::Unknown(template))?;
            if t.kind != StartKind::Template || matches!(t.phase, Phase::Retiring | Phase::Dying) {
                return Err(ExecError::NotTemplate(template).into());
            }
            if (t.spec.state_mb, t.spec.seed) != (spec.state_mb, spec.seed) {
                let show = |s: &WorkerSpec| format!("{} MiB seed {}", s.state_mb, s.seed);
                return Err(ExecError::ForkSpec {
                    template,
                    have: show(&t.spec),
                    want: show(&spec),
                }
                .into());
            }
        }
        let token = self.fresh();
        let (tx, rx) = mpsc::channel();
        if let Ok(mut r) = self.env.routes.lock() {
            r.insert(token, tx.clone());
        }
        let launch = instance::Launch {
            id: instance,
            kind,
            spec,
            token,
            tx: tx.clone(),
            rx,
            env: self.env.clone(),
        };
        let thread = match std::thread::Builder::new()
            .name(format!("coldsim-inst-{instance}"))
            .stack_size(256 * 1024)
            .spawn(move || instance::run(launch))
        {
            Ok(t) => t,
            Err(e) => {
                if let Ok(mut r) = self.env.routes.lock() {
                    r.remove(&token);
                }
                return Err(io_err("cannot start an instance thread")(e).into());
            }
        };
        if let StartKind::Fork { template } = kind
            && let Some(t) = self.instances.get_mut(&template)
        {
            t.live_forks += 1;
            let _ = t.tx.send(Input::Fork {
                token,
                child: tx.clone(),
            });
        }
        self.instances.insert(
            instance,
            Handle {
                tx,
                thread: Some(thread),
                kind,
                spec,
                phase: Phase::Starting,
                pid: None,
                live_forks: 0,
            },
        );
        Ok(())
    }

    /// Sends an invocation to an idle (ready, not busy) worker; returns at
    /// once. Its `Done` or `Failed` comes through [`Executor::next_event`].
    pub fn invoke(&mut self, instance: InstanceId, job: JobId, req: Request) -> crate::Result<()> {
        let nonce = self.fresh();
        let h = self
            .instances
            .get_mut(&instance)
            .ok_or(ExecError::Unknown(instance))?;
        if h.kind == StartKind::Template {
            return Err(ExecError::IsTemplate(instance).into());
        }
        if h.phase != Phase::Idle {
            return Err(ExecError::NotIdle(instance, h.phase.name()).into());
        }
        h.phase = Phase::Busy(job);
        let _ = h.tx.send(Input::Invoke {
            job,
            req,
            nonce,
            sent: Instant::now(),
        });
        Ok(())
    }

    /// Kills an instance (SIGKILL and reap); returns at once, its `Exited`
    /// follows (after a `Failed` for a running invocation). A template with
    /// live forks is retired instead (see the module doc); killing it again
    /// SIGKILLs it and its forks. Killing an instance already being killed
    /// does nothing.
    pub fn kill(&mut self, instance: InstanceId) -> crate::Result<()> {
        let h = self
            .instances
            .get_mut(&instance)
            .ok_or(ExecError::Unknown(instance))?;
        match h.phase {
            Phase::Dying => {}
            Phase::Idle if h.kind == StartKind::Template && h.live_forks > 0 => {
                h.phase = Phase::Retiring;
                let _ = h.tx.send(Input::Retire);
            }
            _ => {
                h.phase = Phase::Dying;
                let _ = h.tx.send(Input::Kill);
            }
        }
        Ok(())
    }

    /// The next event, waiting until `deadline` at most (`None` then).
    pub fn next_event(&mut self, deadline: Instant) -> Option<ExecEvent> {
        let wait = deadline.saturating_duration_since(Instant::now());
        let ev = self.events.recv_timeout(wait).ok()?;
        self.observe(&ev);
        Some(ev)
    }

    /// Keeps the handles in step with what the instances report.
    fn observe(&mut self, ev: &ExecEvent) {
        match ev {
            ExecEvent::Ready { instance, pid, .. } => {
                if let Some(h) = self.instances.get_mut(instance) {
                    h.pid = Some(*pid);
                    if h.phase == Phase::Starting {
                        h.phase = Phase::Idle;
                    }
                }
            }
            ExecEvent::Done { instance, job, .. } => {
                if let Some(h) = self.instances.get_mut(instance)
                    && h.phase == Phase::Busy(*job)
                {
                    h.phase = Phase::Idle;
                }
            }
            ExecEvent::Failed { instance, .. } => {
                if let Some(h) = self.instances.get_mut(instance) {
                    h.phase = Phase::Dying;
                }
            }
            ExecEvent::Exited { instance, .. } => {
                if let Some(mut h) = self.instances.remove(instance) {
                    if let Some(t) = h.thread.take() {
                        let _ = t.join();
                    }
                    if let StartKind::Fork { template } = h.kind
                        && let Some(t) = self.instances.get_mut(&template)
                    {
                        t.live_forks = t.live_forks.saturating_sub(1);
                    }
                }
            }
        }
    }

    /// Live instances (started and not yet reported `Exited`).
    pub fn live(&self) -> usize {
        self.instances.len()
    }

    /// The worker's pid, once it has reported ready.
    pub fn pid(&self, instance: InstanceId) -> Option<u32> {
        self.instances.get(&instance).and_then(|h| h.pid)
    }
}

impl Drop for Executor {
    /// Kills every worker, waits for them and stops every thread.
    fn drop(&mut self) {
        for h in self.instances.values() {
            let _ = h.tx.send(Input::Shutdown);
        }
        for h in self.instances.values_mut() {
            if let Some(t) = h.thread.take() {
                let _ = t.join();
            }
        }
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(addr) = SocketAddr::from_abstract_name(self.env.socket.as_bytes()) {
            let _ = UnixStream::connect_addr(&addr);
        }
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}
