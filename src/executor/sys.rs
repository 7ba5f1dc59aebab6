//! The few Linux system calls the executor and its workers need beyond std,
//! each behind a small safe function: the parent-death signal, `fork`,
//! SIGCHLD disposition, pidfds, and the monotonic clock.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Asks the kernel to SIGKILL this process when the thread that created it
/// exits, then checks that the parent is still `expected_parent` (it could
/// have died before the request). Returns false if it already died.
/// Async-signal-safe: it runs between `fork` and `exec`.
pub fn die_with_parent(expected_parent: u32) -> bool {
    // SAFETY: plain system calls without pointers.
    unsafe {
        if libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ) != 0
        {
            return false;
        }
        libc::getppid() as u32 == expected_parent
    }
}

/// Terminates the calling process at once, without unwinding or atexit
/// handlers (what a forked child must use on a setup failure).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` never returns and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// What `fork` returned.
pub enum Forked {
    Child,
    Parent(u32),
}

/// `fork(2)`.
///
/// # Safety
/// The calling process must be single-threaded: the child gets a copy of
/// the calling thread only, and any lock another thread held stays locked
/// forever.
pub unsafe fn fork() -> io::Result<Forked> {
    // SAFETY: the caller guarantees a single-threaded process.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as u32)),
    }
}

/// SIGCHLD ignored: the kernel reaps this process's children as they exit
/// (no zombies), and `wait` blocks until every child is gone.
pub fn ignore_sigchld() {
    // SAFETY: installing a disposition, no handler code runs.
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_IGN);
    }
}

/// SIGCHLD back to its default (in a forked child of a template).
pub fn default_sigchld() {
    // SAFETY: as above.
    unsafe {
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
    }
}

/// Blocks until this process has no child left (with SIGCHLD ignored,
/// `wait` returns ECHILD only then).
pub fn wait_all_children() {
    loop {
        // SAFETY: a null status pointer is allowed.
        let r = unsafe { libc::wait(std::ptr::null_mut()) };
        if r == -1 && io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

/// The number of threads of this process, from /proc/self/status.
pub fn thread_count() -> Option<u32> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
}

/// CLOCK_MONOTONIC in nanoseconds: the clock behind `std::time::Instant` on
/// Linux, the same in every process of the machine.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// A process file descriptor: signals and exit notification for a process
/// that is not our child (a fork of a template), immune to pid reuse once
/// opened.
pub struct Pidfd(OwnedFd);

impl Pidfd {
    /// `pidfd_open(pid)`.
    pub fn open(pid: u32) -> io::Result<Pidfd> {
        // SAFETY: a system call with integer arguments.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel returned a new descriptor we now own.
        Ok(Pidfd(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
    }

    /// SIGKILL through the pidfd (ESRCH if it has already exited).
    pub fn kill(&self) -> io::Result<()> {
        // SAFETY: a valid pidfd and a null siginfo.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits up to `timeout` for the process to exit; true if it has.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.0.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        loop {
            // SAFETY: one valid pollfd.
            let r = unsafe { libc::poll(&mut pfd, 1, ms) };
            if r >= 0 {
                return r > 0;
            }
            if io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return false;
            }
        }
    }
}

/// True if the peer of socket `fd` has not hung up (a zero-timeout poll for
/// POLLRDHUP).
pub fn peer_open(fd: std::os::fd::RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let r = unsafe { libc::poll(&mut pfd, 1, 0) };
    r == 0
}

/// SIGKILL to `pid` (for a process whose pidfd could not be opened).
pub fn kill_pid(pid: u32) {
    // SAFETY: a plain system call.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}
