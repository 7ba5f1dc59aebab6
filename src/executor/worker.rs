//! The worker process: `coldsim worker --socket NAME --state-mb N --seed S
//! [--template]`, with its start token in the environment (`COLDSIM_WORKER_TOKEN`).
//! It is started by the executor only; the subcommand is hidden.
//!
//! A worker connects to the executor's socket and says hello first (so the
//! executor has its connection while it builds), builds its state, reports
//! ready and then:
//!
//! * a serving worker runs invocations one at a time: CPU-bound work over
//!   the state (or a sleep, for I/O-bound work) for the requested time, then
//!   a reply with the state checksum for the request's nonce;
//! * a template only forks: for each `Fork { token }` it forks a child that
//!   sets its parent-death signal, drops the template's connection,
//!   connects with the token and serves like any worker, on the template's
//!   state shared copy-on-write. A template refuses to start unless it is
//!   single-threaded, because `fork` copies only the calling thread.
//!
//! Every worker ends quietly when the executor closes its connection.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::time::{Duration, Instant};

use super::proto::{Fault, Frame};
use super::state::{State, cpu_work};
use super::sys;
use super::{ExecError, io_err};

/// The environment variable that carries a spawned worker's start token.
pub const TOKEN_ENV: &str = "COLDSIM_WORKER_TOKEN";

/// The hidden `worker` subcommand's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct WorkerArgs {
    /// The executor's socket (a name in the abstract namespace).
    #[arg(long)]
    pub socket: String,
    /// State size in MiB.
    #[arg(long)]
    pub state_mb: u32,
    /// Seed of the state's contents.
    #[arg(long)]
    pub seed: u64,
    /// Be a template: build the state once, then only fork.
    #[arg(long)]
    pub template: bool,
}

fn connect(socket: &str, token: u64) -> io::Result<UnixStream> {
    let addr = SocketAddr::from_abstract_name(socket.as_bytes())?;
    let mut conn = UnixStream::connect_addr(&addr)?;
    Frame::Hello {
        token,
        pid: std::process::id(),
    }
    .write_to(&mut conn)?;
    Ok(conn)
}

/// The worker's main.
pub fn run(args: &WorkerArgs) -> crate::Result<()> {
    let token: u64 = std::env::var(TOKEN_ENV)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ExecError::Io {
            what: format!("worker: {TOKEN_ENV} is not set to a number"),
            err: io::ErrorKind::InvalidInput.into(),
        })?;
    let mut conn = connect(&args.socket, token).map_err(io_err("worker: connect"))?;
    let (state, init) =
        State::build(args.state_mb, args.seed).map_err(io_err("worker: building the state"))?;
    Frame::Ready {
        init_ns: init.as_nanos() as u64,
    }
    .write_to(&mut conn)
    .map_err(io_err("worker: ready"))?;
    if args.template {
        template(conn, state, args)
    } else {
        Ok(serve(conn, state).map_err(io_err("worker"))?)
    }
}

/// Serves invocations until the executor hangs up.
fn serve(mut conn: UnixStream, mut state: State) -> io::Result<()> {
    loop {
        let Some(frame) = Frame::read_from(&mut conn)? else {
            return Ok(());
        };
        let Frame::Invoke {
            nonce,
            exec_ns,
            io_bound,
            fault,
        } = frame
        else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a worker expects invocations, got {frame:?}"),
            ));
        };
        match fault {
            Some(Fault::Crash) => std::process::abort(),
            Some(Fault::Hang) => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Some(Fault::CorruptState) => {
                for w in state.words_mut() {
                    *w ^= 0x5555_5555_5555_5555;
                }
            }
            Some(Fault::BadChecksum) | None => {}
        }
        let started_ns = sys::monotonic_ns();
        let exec = Duration::from_nanos(exec_ns);
        let digest = if io_bound {
            std::thread::sleep(exec);
            nonce
        } else {
            cpu_work(state.words(), nonce, exec)
        };
        let mut checksum = state.checksum(nonce);
        if fault == Some(Fault::BadChecksum) {
            checksum ^= 1;
        }
        Frame::Reply {
            nonce,
            checksum,
            started_ns,
            digest,
        }
        .write_to(&mut conn)?;
    }
}

/// The template loop: fork on request, retire on request.
fn template(mut conn: UnixStream, state: State, args: &WorkerArgs) -> crate::Result<()> {
    if sys::thread_count() != Some(1) {
        return Err(ExecError::Io {
            what: "template: not single-threaded, refusing to fork".into(),
            err: io::ErrorKind::Unsupported.into(),
        }
        .into());
    }
    sys::ignore_sigchld();
    let me = std::process::id();
    loop {
        let frame = Frame::read_from(&mut conn).map_err(io_err("template"))?;
        match frame {
            None => return Ok(()),
            Some(Frame::Fork { token }) => {
                // SAFETY: checked above that this process has one thread,
                // and a worker starts none.
                match unsafe { sys::fork() } {
                    Ok(sys::Forked::Child) => {
                        drop(conn);
                        return fork_child(token, state, me, args);
                    }
                    Ok(sys::Forked::Parent(pid)) => {
                        Frame::Forked { token, pid }.write_to(&mut conn)
                    }
                    Err(e) => Frame::ForkFailed {
                        token,
                        errno: e.raw_os_error().unwrap_or(0),
                    }
                    .write_to(&mut conn),
                }
                .map_err(io_err("template"))?;
            }
            Some(Frame::Retire) => {
                // Unmap the state now (the forks keep their pages), stay
                // until the last fork has exited, then exit; the connection
                // closes last, which tells the executor.
                drop(state);
                sys::wait_all_children();
                return Ok(());
            }
            Some(f) => {
                return Err(ExecError::Io {
                    what: format!("template: unexpected {f:?}"),
                    err: io::ErrorKind::InvalidData.into(),
                }
                .into());
            }
        }
    }
}

/// A fork's life: tie it to the template, connect, serve.
fn fork_child(token: u64, state: State, template: u32, args: &WorkerArgs) -> crate::Result<()> {
    let t0 = Instant::now();
    if !sys::die_with_parent(template) {
        sys::exit_now(1);
    }
    sys::default_sigchld();
    let Ok(mut conn) = connect(&args.socket, token) else {
        sys::exit_now(1);
    };
    Frame::Ready {
        init_ns: t0.elapsed().as_nanos() as u64,
    }
    .write_to(&mut conn)
    .map_err(io_err("fork: ready"))?;
    Ok(serve(conn, state).map_err(io_err("fork"))?)
}
