//! `coldsim executor-selftest`: a hidden mode that runs an executor with a
//! few cold workers, a template and its forks, puts every cold worker and
//! fork into a hung invocation (so none of them is reading its socket and
//! would notice the executor's death by itself), prints every worker's pid
//! and then waits forever. The leak test (tests/executor.rs) SIGKILLs this
//! process and checks that every pid it printed dies with it: only the
//! parent-death signals can do that. A separate process is needed because
//! the test must kill the executor itself.
//!
//! Output, one line each: `executor PID`, then `cold PID`, `template PID`
//! and `fork PID` for each worker, then `ready`.

use std::io::Write;
use std::time::{Duration, Instant};

use super::{
    ExecError, ExecEvent, Executor, ExecutorConfig, Fault, InstanceId, JobId, Request, StartKind,
    WorkerSpec,
};

/// The hidden `executor-selftest` subcommand's arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SelftestArgs {
    /// Cold workers to start.
    #[arg(long, default_value_t = 2)]
    pub cold: u32,
    /// Forks of one template to start.
    #[arg(long, default_value_t = 2)]
    pub forks: u32,
    /// State of every worker, in MiB.
    #[arg(long, default_value_t = 4)]
    pub state_mb: u32,
}

/// Starts the workers, prints their pids, then waits until killed.
pub fn run(args: &SelftestArgs) -> crate::Result<()> {
    let mut ex = Executor::new(ExecutorConfig::current_exe()?)?;
    let spec = WorkerSpec::new(args.state_mb, 7);
    let template = InstanceId(1_000_000);
    let mut kinds = Vec::new();
    for i in 0..args.cold {
        ex.start(InstanceId(u64::from(i)), StartKind::Cold, spec)?;
        kinds.push((InstanceId(u64::from(i)), "cold"));
    }
    ex.start(template, StartKind::Template, spec)?;
    kinds.push((template, "template"));
    for i in 0..args.forks {
        let id = InstanceId(2_000_000 + u64::from(i));
        ex.start(id, StartKind::Fork { template }, spec)?;
        kinds.push((id, "fork"));
    }
    let mut out = std::io::stdout().lock();
    let io = |e| ExecError::Io {
        what: "selftest: stdout".into(),
        err: e,
    };
    writeln!(out, "executor {}", std::process::id()).map_err(io)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ready = 0;
    while ready < kinds.len() {
        match ex.next_event(deadline) {
            Some(ExecEvent::Ready { instance, pid, .. }) => {
                let kind = kinds
                    .iter()
                    .find(|(id, _)| *id == instance)
                    .map_or("?", |(_, k)| k);
                writeln!(out, "{kind} {pid}").map_err(io)?;
                ready += 1;
            }
            Some(ev) => {
                return Err(ExecError::Io {
                    what: format!("selftest: unexpected {ev:?}"),
                    err: std::io::ErrorKind::Other.into(),
                }
                .into());
            }
            None => {
                return Err(ExecError::Io {
                    what: "selftest: workers not ready in 30 s".into(),
                    err: std::io::ErrorKind::TimedOut.into(),
                }
                .into());
            }
        }
    }
    for (job, (id, kind)) in kinds.iter().enumerate() {
        if *kind != "template" {
            let hang = Request::cpu(Duration::ZERO)
                .with_timeout(Duration::from_secs(86_400))
                .with_fault(Fault::Hang);
            ex.invoke(*id, JobId(job as u64), hang)?;
        }
    }
    // Give the invocations time to reach the workers.
    std::thread::sleep(Duration::from_millis(100));
    writeln!(out, "ready").map_err(io)?;
    out.flush().map_err(io)?;
    drop(out);
    loop {
        let _ = ex.next_event(Instant::now() + Duration::from_secs(3600));
    }
}
