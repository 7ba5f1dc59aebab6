//! One instance's thread: it starts the worker (spawn, or a fork request to
//! the template's thread), waits for its connection and its ready report,
//! sends invocations and checks replies, enforces timeouts, and kills and
//! reaps the worker. Everything reaches it through one channel of
//! [`Input`]s (commands from the [`Executor`](super::Executor), the
//! connection from the acceptor, frames from the reader thread), so the
//! thread waits in one place, `recv_timeout`, with the current deadline.

use std::collections::HashMap;
use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::proto::Frame;
use super::state::expected_checksum;
use super::sys::{self, Pidfd};
use super::{Anchor, Cause, ExecEvent, InstanceId, JobId, Request, StartKind, WorkerSpec};

/// Tokens of starts whose worker has not connected yet, and where to send
/// the connection.
pub(crate) type Routes = Arc<Mutex<HashMap<u64, Sender<Input>>>>;

/// What is shared by every instance thread.
#[derive(Clone)]
pub(crate) struct Env {
    pub events: Sender<ExecEvent>,
    pub routes: Routes,
    pub socket: String,
    pub worker_bin: PathBuf,
    pub anchor: Anchor,
}

/// Everything an instance thread hears.
pub(crate) enum Input {
    /// From the acceptor: the worker connected and said hello.
    Connected {
        stream: UnixStream,
        pid: u32,
    },
    /// From the reader: a frame, read at the given time.
    Msg(Frame, Instant),
    /// From the reader: the connection closed (the worker exited).
    Eof,
    /// From the reader: the worker sent something that is not a frame.
    Garbled(String),
    Invoke {
        job: JobId,
        req: Request,
        nonce: u64,
        sent: Instant,
    },
    /// To a template's thread: fork a child for `token`.
    Fork {
        token: u64,
        child: Sender<Input>,
    },
    /// From the template's thread to a fork's: your process is `pid`.
    Forked {
        pid: u32,
    },
    /// From the template's thread to a fork's: the fork failed.
    ForkFailed(String),
    /// From the template's thread to a fork's: the template is gone.
    TemplateGone,
    Kill,
    Retire,
    Shutdown,
}

/// What [`run`] needs to start an instance.
pub(crate) struct Launch {
    pub id: InstanceId,
    pub kind: StartKind,
    pub spec: WorkerSpec,
    pub token: u64,
    pub tx: Sender<Input>,
    pub rx: Receiver<Input>,
    pub env: Env,
}

/// The acceptor: reads each new connection's hello and hands the
/// connection to the instance that owns its token. Unknown tokens are
/// dropped. Ends when `stop` is set (the executor connects once to wake it).
pub(crate) fn accept_loop(listener: UnixListener, routes: Routes, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = conn else { continue };
        if stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .is_err()
        {
            continue;
        }
        let Ok(Some(Frame::Hello { token, pid })) = Frame::read_from(&mut stream) else {
            continue;
        };
        if stream.set_read_timeout(None).is_err() {
            continue;
        }
        let route = routes.lock().ok().and_then(|mut r| r.remove(&token));
        if let Some(tx) = route {
            let _ = tx.send(Input::Connected { stream, pid });
        }
    }
}

/// The reader: frames from the socket into the instance's channel.
fn read_loop(mut stream: UnixStream, tx: Sender<Input>) {
    loop {
        let input = match Frame::read_from(&mut stream) {
            Ok(Some(f)) => Input::Msg(f, Instant::now()),
            Ok(None) => Input::Eof,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => Input::Garbled(e.to_string()),
            Err(_) => Input::Eof,
        };
        let last = !matches!(input, Input::Msg(..));
        if tx.send(input).is_err() || last {
            return;
        }
    }
}

enum Proc {
    /// A fork whose pid is not known yet.
    Pending,
    Child(Child),
    Forked {
        pid: u32,
        pidfd: Option<Pidfd>,
    },
}

enum Phase {
    Starting,
    Idle,
    Busy {
        job: JobId,
        nonce: u64,
        deadline: Instant,
    },
    Retiring,
}

struct Inst {
    id: InstanceId,
    spec: WorkerSpec,
    template: bool,
    token: u64,
    tx: Sender<Input>,
    rx: Receiver<Input>,
    env: Env,
    proc: Proc,
    conn: Option<UnixStream>,
    reader: Option<JoinHandle<()>>,
    phase: Phase,
    start_deadline: Instant,
    kill_asked: bool,
    /// Fork: the template has died (so this fork dies of its parent-death
    /// signal).
    template_gone: bool,
    /// Template: forks asked before ready.
    fork_queue: Vec<(u64, Sender<Input>)>,
    /// Template: forks asked, not yet answered.
    fork_pending: HashMap<u64, Sender<Input>>,
    /// Template: every fork made, told if the template dies.
    fork_children: Vec<Sender<Input>>,
}

/// `t + d`, or a century after `t` if that overflows (a timeout of
/// `Duration::MAX` means "never").
fn after(t: Instant, d: Duration) -> Instant {
    t.checked_add(d)
        .or_else(|| t.checked_add(Duration::from_secs(100 * 365 * 86_400)))
        .unwrap_or(t)
}

/// The thread body of one instance.
pub(crate) fn run(l: Launch) {
    let template = l.kind == StartKind::Template;
    let mut inst = Inst {
        id: l.id,
        spec: l.spec,
        template,
        token: l.token,
        tx: l.tx,
        rx: l.rx,
        env: l.env,
        proc: Proc::Pending,
        conn: None,
        reader: None,
        phase: Phase::Starting,
        start_deadline: after(Instant::now(), l.spec.ready_timeout),
        kill_asked: false,
        template_gone: false,
        fork_queue: Vec::new(),
        fork_pending: HashMap::new(),
        fork_children: Vec::new(),
    };
    let cause = match l.kind {
        StartKind::Cold | StartKind::Template => match inst.spawn() {
            Ok(child) => {
                inst.proc = Proc::Child(child);
                inst.serve()
            }
            Err(e) => Cause::Spawn(e.to_string()),
        },
        StartKind::Fork { .. } => inst.serve(),
    };
    inst.finish(cause);
}

impl Inst {
    fn emit(&self, ev: ExecEvent) {
        let _ = self.env.events.send(ev);
    }

    /// Spawns the worker binary, with the parent-death signal set between
    /// fork and exec (see the module doc of `executor`).
    fn spawn(&self) -> io::Result<Child> {
        let mut cmd = Command::new(&self.env.worker_bin);
        cmd.arg("worker")
            .arg("--socket")
            .arg(&self.env.socket)
            .arg("--state-mb")
            .arg(self.spec.state_mb.to_string())
            .arg("--seed")
            .arg(self.spec.seed.to_string());
        if self.template {
            cmd.arg("--template");
        }
        cmd.env(super::worker::TOKEN_ENV, self.token.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        let parent = std::process::id();
        // SAFETY: the hook only makes async-signal-safe system calls
        // (prctl, getppid) and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if sys::die_with_parent(parent) {
                    Ok(())
                } else {
                    Err(io::Error::other("the executor died during the spawn"))
                }
            });
        }
        cmd.spawn()
    }

    /// The event loop; returns why the instance ended, its process gone.
    fn serve(&mut self) -> Cause {
        loop {
            let deadline = match self.phase {
                Phase::Starting => Some(self.start_deadline),
                Phase::Busy { deadline, .. } => Some(deadline),
                Phase::Idle | Phase::Retiring => None,
            };
            let input = match deadline {
                Some(d) => match self
                    .rx
                    .recv_timeout(d.saturating_duration_since(Instant::now()))
                {
                    Ok(i) => i,
                    Err(RecvTimeoutError::Timeout) => return self.end(Cause::TimedOut),
                    Err(RecvTimeoutError::Disconnected) => return self.end(Cause::Killed),
                },
                None => match self.rx.recv() {
                    Ok(i) => i,
                    Err(_) => return self.end(Cause::Killed),
                },
            };
            if let Some(cause) = self.handle(input) {
                return cause;
            }
        }
    }

    /// Handles one input; `Some(cause)` once the instance has ended.
    fn handle(&mut self, input: Input) -> Option<Cause> {
        match input {
            Input::Connected { stream, pid } => self.connected(stream, pid),
            Input::Msg(frame, at) => self.message(frame, at),
            Input::Eof => {
                if matches!(self.phase, Phase::Retiring) {
                    return Some(self.end(Cause::Killed));
                }
                if self.template_gone {
                    return Some(self.end(Cause::TemplateGone));
                }
                let how = self.reap_crashed();
                Some(self.end(Cause::Crashed(how)))
            }
            Input::Garbled(m) => Some(self.end(Cause::Protocol(m))),
            Input::Invoke {
                job,
                req,
                nonce,
                sent,
            } => {
                let frame = Frame::Invoke {
                    nonce,
                    exec_ns: req.exec.as_nanos().min(u64::MAX as u128) as u64,
                    io_bound: req.io_bound,
                    fault: req.fault,
                };
                let deadline = after(sent, req.timeout);
                if !matches!(self.phase, Phase::Idle) {
                    // The executor only sends to idle instances; anything
                    // else is a bug, which ends the instance cleanly.
                    let at = Instant::now();
                    self.emit(ExecEvent::Failed {
                        instance: self.id,
                        job,
                        reason: Cause::Protocol(
                            "invocation sent to a worker that is not idle".into(),
                        ),
                        at,
                    });
                    return Some(self.end(Cause::Protocol("invocation while not idle".into())));
                }
                self.phase = Phase::Busy {
                    job,
                    nonce,
                    deadline,
                };
                if self.send(frame).is_err() {
                    let how = self.reap_crashed();
                    return Some(self.end(Cause::Crashed(how)));
                }
                None
            }
            Input::Fork { token, child } => {
                match self.phase {
                    _ if !self.template => {
                        let _ = child.send(Input::ForkFailed("not a template".into()));
                    }
                    Phase::Starting => self.fork_queue.push((token, child)),
                    Phase::Idle => {
                        self.fork_pending.insert(token, child);
                        if self.send(Frame::Fork { token }).is_err() {
                            let how = self.reap_crashed();
                            return Some(self.end(Cause::Crashed(how)));
                        }
                    }
                    Phase::Busy { .. } | Phase::Retiring => {
                        let _ = child.send(Input::TemplateGone);
                    }
                }
                None
            }
            Input::Forked { pid } => {
                if matches!(self.proc, Proc::Pending) {
                    // Opened right away: the fork was alive a moment ago,
                    // so its pid is almost surely still its own.
                    let pidfd = Pidfd::open(pid).ok();
                    self.proc = Proc::Forked { pid, pidfd };
                }
                if self.kill_asked {
                    return Some(self.end(Cause::Killed));
                }
                None
            }
            Input::ForkFailed(m) => Some(Cause::Spawn(m)),
            Input::TemplateGone => {
                if self.conn.is_none() {
                    Some(self.end(Cause::TemplateGone))
                } else {
                    self.template_gone = true;
                    None
                }
            }
            Input::Kill | Input::Shutdown => {
                if matches!(self.proc, Proc::Pending) {
                    // A fork not made yet: wait for its pid, or for the
                    // template to say it will not come.
                    self.kill_asked = true;
                    if matches!(input, Input::Shutdown) {
                        return Some(Cause::Killed);
                    }
                    return None;
                }
                Some(self.end(Cause::Killed))
            }
            Input::Retire => {
                if self.template
                    && matches!(self.phase, Phase::Idle)
                    && self.send(Frame::Retire).is_ok()
                {
                    self.phase = Phase::Retiring;
                    None
                } else {
                    Some(self.end(Cause::Killed))
                }
            }
        }
    }

    fn connected(&mut self, stream: UnixStream, pid: u32) -> Option<Cause> {
        match &self.proc {
            Proc::Child(c) if c.id() != pid => {
                drop(stream);
                return Some(self.end(Cause::Protocol(format!(
                    "worker {} said it was pid {pid}",
                    c.id()
                ))));
            }
            Proc::Forked { pid: p, .. } if *p != pid => {
                drop(stream);
                return Some(self.end(Cause::Protocol(format!("fork {p} said it was pid {pid}"))));
            }
            Proc::Forked { pidfd: Some(_), .. } | Proc::Child(_) => {}
            Proc::Pending | Proc::Forked { pidfd: None, .. } => {
                // Opened, then checked against the connection: if the fork
                // has not hung up after the pidfd was opened, it was alive
                // then, its pid was its own, and the pidfd names it.
                let pidfd = Pidfd::open(pid)
                    .ok()
                    .filter(|_| sys::peer_open(stream.as_raw_fd()));
                self.proc = Proc::Forked { pid, pidfd };
            }
        }
        let reader_stream = match stream.try_clone() {
            Ok(s) => s,
            Err(e) => return Some(self.end(Cause::Protocol(format!("socket: {e}")))),
        };
        let tx = self.tx.clone();
        match std::thread::Builder::new()
            .name(format!("coldsim-read-{}", self.id))
            .stack_size(64 * 1024)
            .spawn(move || read_loop(reader_stream, tx))
        {
            Ok(h) => self.reader = Some(h),
            Err(e) => return Some(self.end(Cause::Protocol(format!("reader thread: {e}")))),
        }
        self.conn = Some(stream);
        if self.kill_asked {
            return Some(self.end(Cause::Killed));
        }
        None
    }

    fn message(&mut self, frame: Frame, at: Instant) -> Option<Cause> {
        match (frame, &self.phase) {
            (Frame::Ready { init_ns }, Phase::Starting) => {
                self.phase = Phase::Idle;
                let pid = match &self.proc {
                    Proc::Child(c) => c.id(),
                    Proc::Forked { pid, .. } => *pid,
                    Proc::Pending => 0,
                };
                self.emit(ExecEvent::Ready {
                    instance: self.id,
                    pid,
                    init: Duration::from_nanos(init_ns),
                    at,
                });
                for (token, child) in std::mem::take(&mut self.fork_queue) {
                    if let Some(c) = self.handle(Input::Fork { token, child }) {
                        return Some(c);
                    }
                }
                None
            }
            (
                Frame::Reply {
                    nonce,
                    checksum,
                    started_ns,
                    ..
                },
                &Phase::Busy {
                    job, nonce: want, ..
                },
            ) => {
                if nonce != want {
                    return Some(self.end(Cause::Protocol(format!(
                        "reply for nonce {nonce:#x}, expected {want:#x}"
                    ))));
                }
                let expected = expected_checksum(self.spec.seed, self.spec.state_mb, nonce);
                if checksum != expected {
                    return Some(self.end(Cause::BadChecksum {
                        expected,
                        got: checksum,
                    }));
                }
                self.phase = Phase::Idle;
                self.emit(ExecEvent::Done {
                    instance: self.id,
                    job,
                    checksum,
                    started: self.env.anchor.to_instant(started_ns),
                    at,
                });
                None
            }
            (Frame::Forked { token, pid }, _) if self.template => {
                if let Some(child) = self.fork_pending.remove(&token) {
                    let _ = child.send(Input::Forked { pid });
                    self.fork_children.push(child);
                }
                None
            }
            (Frame::ForkFailed { token, errno }, _) if self.template => {
                if let Some(child) = self.fork_pending.remove(&token) {
                    let e = io::Error::from_raw_os_error(errno);
                    let _ = child.send(Input::ForkFailed(format!("fork: {e}")));
                }
                None
            }
            (f, _) => Some(self.end(Cause::Protocol(format!("unexpected {f:?}")))),
        }
    }

    fn send(&mut self, frame: Frame) -> io::Result<()> {
        match self.conn.as_mut() {
            Some(c) => frame.write_to(c),
            None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// After an end of stream: how the worker died (a spawned worker is
    /// reaped here; a fork's status belongs to its template).
    fn reap_crashed(&mut self) -> String {
        match &mut self.proc {
            Proc::Child(c) => match c.wait() {
                Ok(st) => match (st.signal(), st.code()) {
                    (Some(sig), _) => format!("killed by signal {sig}"),
                    (None, Some(code)) => format!("exited with code {code}"),
                    _ => st.to_string(),
                },
                Err(e) => format!("wait: {e}"),
            },
            Proc::Forked { .. } => "the fork's connection closed".into(),
            Proc::Pending => "never started".into(),
        }
    }

    /// SIGKILL and reap (idempotent), close the connection, join the reader.
    fn terminate(&mut self) {
        match &mut self.proc {
            Proc::Child(c) => {
                let _ = c.kill();
                let _ = c.wait();
            }
            Proc::Forked {
                pidfd: Some(fd), ..
            } => {
                let _ = fd.kill();
                fd.wait_exit(Duration::from_secs(5));
            }
            Proc::Forked { pid, pidfd: None } => {
                // No pidfd (pidfd_open failed, or the fork had hung up):
                // signal the pid only while the fork's connection shows it
                // alive, so a reused pid is never hit.
                if let Some(c) = self.conn.as_ref()
                    && sys::peer_open(c.as_raw_fd())
                {
                    sys::kill_pid(*pid);
                }
            }
            Proc::Pending => {}
        }
        if let Some(c) = self.conn.take() {
            let _ = c.shutdown(Shutdown::Both);
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// Kills the worker and fails the running invocation with `cause`.
    fn end(&mut self, cause: Cause) -> Cause {
        // A template's forks die with it (their parent-death signal): tell
        // them before it dies, so that a fork's closed connection, which can
        // only come later, reads as TemplateGone and not as a crash.
        if self.template {
            for child in &self.fork_children {
                let _ = child.send(Input::TemplateGone);
            }
        }
        self.terminate();
        if let Phase::Busy { job, .. } = self.phase {
            self.emit(ExecEvent::Failed {
                instance: self.id,
                job,
                reason: cause.clone(),
                at: Instant::now(),
            });
            self.phase = Phase::Idle;
        }
        cause
    }

    /// The last act: make sure the process is gone, fail whatever is left
    /// in the channel, tell the forks, report `Exited`.
    fn finish(mut self, cause: Cause) {
        self.terminate();
        if let Ok(mut r) = self.env.routes.lock() {
            r.remove(&self.token);
        }
        let gone = std::mem::take(&mut self.fork_children)
            .into_iter()
            .chain(self.fork_pending.drain().map(|(_, c)| c))
            .chain(
                std::mem::take(&mut self.fork_queue)
                    .into_iter()
                    .map(|(_, c)| c),
            );
        for child in gone {
            let _ = child.send(Input::TemplateGone);
        }
        while let Ok(input) = self.rx.try_recv() {
            match input {
                Input::Invoke { job, .. } => self.emit(ExecEvent::Failed {
                    instance: self.id,
                    job,
                    reason: cause.clone(),
                    at: Instant::now(),
                }),
                Input::Fork { child, .. } => {
                    let _ = child.send(Input::TemplateGone);
                }
                Input::Connected { stream, .. } => drop(stream),
                _ => {}
            }
        }
        self.emit(ExecEvent::Exited {
            instance: self.id,
            cause,
            at: Instant::now(),
        });
    }
}
