//! The real executor with real worker processes: starts of each kind,
//! verified invocations, injected faults (crash, hang, wrong checksum,
//! corrupted state), misuse, process hygiene (no worker outlives a
//! SIGKILLed executor) and `coldsim calibrate --quick`.
//!
//! States are a few MiB except in the fork-versus-cold check (128 MiB), so
//! the file runs in seconds.

#![cfg(feature = "executor")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coldsim::executor::state::{State, expected_checksum};
use coldsim::executor::{
    Cause, ExecEvent, Executor, ExecutorConfig, Fault, InstanceId, JobId, Request, StartKind,
    WorkerSpec,
};

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");

fn executor() -> Executor {
    Executor::new(ExecutorConfig {
        worker_bin: BIN.into(),
    })
    .expect("executor starts")
}

/// The next event, failing the test after `secs` seconds.
fn next(ex: &mut Executor, secs: u64) -> ExecEvent {
    ex.next_event(Instant::now() + Duration::from_secs(secs))
        .unwrap_or_else(|| panic!("no event in {secs} s"))
}

/// Starts `id` and waits for its `Ready`; returns the pid.
fn start(ex: &mut Executor, id: u64, kind: StartKind, spec: WorkerSpec) -> u32 {
    ex.start(InstanceId(id), kind, spec).unwrap();
    match next(ex, 20) {
        ExecEvent::Ready { instance, pid, .. } if instance == InstanceId(id) => pid,
        ev => panic!("expected Ready of {id}, got {ev:?}"),
    }
}

fn invoke_ok(ex: &mut Executor, id: u64, job: u64, req: Request) -> ExecEvent {
    let t0 = Instant::now();
    ex.invoke(InstanceId(id), JobId(job), req).unwrap();
    let ev = next(ex, 20);
    match &ev {
        ExecEvent::Done {
            instance,
            job: j,
            started,
            at,
            ..
        } => {
            assert_eq!((*instance, *j), (InstanceId(id), JobId(job)));
            assert!(t0 <= *started && started <= at, "{t0:?} {started:?} {at:?}");
            assert!(*at - *started >= req.exec, "the work lasted its time");
        }
        ev => panic!("expected Done of {id}/{job}, got {ev:?}"),
    }
    ev
}

fn kill(ex: &mut Executor, id: u64) {
    ex.kill(InstanceId(id)).unwrap();
    match next(ex, 20) {
        ExecEvent::Exited {
            instance,
            cause: Cause::Killed,
            ..
        } if instance == InstanceId(id) => {}
        ev => panic!("expected Exited(Killed) of {id}, got {ev:?}"),
    }
}

/// Alive: /proc has it and it is not a zombie.
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            state != Some("Z") && state != Some("X")
        }
        Err(_) => false,
    }
}

fn parent_of(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn gone_within(pid: u32, secs: u64) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Expects `Failed { reason }` for the job and then `Exited` with the same
/// cause; checks the worker is gone.
fn expect_failure(ex: &mut Executor, id: u64, job: u64, pid: u32, want: fn(&Cause) -> bool) {
    match next(ex, 20) {
        ExecEvent::Failed {
            instance,
            job: j,
            reason,
            ..
        } => {
            assert_eq!((instance, j), (InstanceId(id), JobId(job)));
            assert!(want(&reason), "unexpected reason {reason:?}");
        }
        ev => panic!("expected Failed, got {ev:?}"),
    }
    match next(ex, 20) {
        ExecEvent::Exited {
            instance, cause, ..
        } => {
            assert_eq!(instance, InstanceId(id));
            assert!(want(&cause), "unexpected cause {cause:?}");
        }
        ev => panic!("expected Exited, got {ev:?}"),
    }
    assert!(!alive(pid), "worker {pid} killed and reaped");
}

#[test]
fn checksum_is_the_state_s_and_catches_a_wrong_state() {
    let (state, _) = State::build(2, 11).unwrap();
    for nonce in [1u64, 2, 0xfeed] {
        assert_eq!(state.checksum(nonce), expected_checksum(11, 2, nonce));
        assert_ne!(state.checksum(nonce), expected_checksum(12, 2, nonce));
        assert_ne!(state.checksum(nonce), expected_checksum(11, 1, nonce));
    }
}

#[test]
fn cold_worker_serves_verified_invocations_and_dies_on_kill() {
    let mut ex = executor();
    let pid = start(&mut ex, 1, StartKind::Cold, WorkerSpec::new(4, 1));
    assert!(alive(pid));
    assert_eq!(parent_of(pid), Some(std::process::id()));
    assert_eq!(ex.pid(InstanceId(1)), Some(pid));
    for job in 0..3 {
        invoke_ok(&mut ex, 1, job, Request::cpu(Duration::from_millis(5)));
    }
    invoke_ok(&mut ex, 1, 3, Request::io(Duration::from_millis(5)));
    invoke_ok(&mut ex, 1, 4, Request::cpu(Duration::ZERO));
    kill(&mut ex, 1);
    assert!(!alive(pid));
    assert_eq!(ex.live(), 0);
    // The id can be used again.
    start(&mut ex, 1, StartKind::Cold, WorkerSpec::new(0, 1));
    invoke_ok(&mut ex, 1, 5, Request::cpu(Duration::from_millis(1)));
}

#[test]
fn forks_share_the_template_state_and_survive_its_retirement() {
    let mut ex = executor();
    let spec = WorkerSpec::new(8, 3);
    // Forks asked while the template is still starting wait for it.
    ex.start(InstanceId(10), StartKind::Template, spec).unwrap();
    ex.start(
        InstanceId(11),
        StartKind::Fork {
            template: InstanceId(10),
        },
        spec,
    )
    .unwrap();
    let mut pids = std::collections::HashMap::new();
    for _ in 0..2 {
        match next(&mut ex, 20) {
            ExecEvent::Ready { instance, pid, .. } => {
                pids.insert(instance.0, pid);
            }
            ev => panic!("{ev:?}"),
        }
    }
    let tpid = pids[&10];
    let f2 = start(
        &mut ex,
        12,
        StartKind::Fork {
            template: InstanceId(10),
        },
        spec,
    );
    pids.insert(12, f2);
    for id in [11, 12] {
        assert_eq!(
            parent_of(pids[&id]),
            Some(tpid),
            "fork {id} is the template's child"
        );
        invoke_ok(&mut ex, id, id * 10, Request::cpu(Duration::from_millis(5)));
    }
    assert!(matches!(
        ex.invoke(InstanceId(10), JobId(1), Request::cpu(Duration::ZERO)),
        Err(coldsim::Error::Exec(e))
            if matches!(e.downcast_ref(), Some(coldsim::executor::ExecError::IsTemplate(_)))
    ));
    // Killing the template with live forks retires it: the forks go on.
    ex.kill(InstanceId(10)).unwrap();
    assert!(
        ex.start(
            InstanceId(13),
            StartKind::Fork {
                template: InstanceId(10)
            },
            spec
        )
        .is_err()
    );
    invoke_ok(&mut ex, 11, 111, Request::cpu(Duration::from_millis(5)));
    kill(&mut ex, 11);
    invoke_ok(&mut ex, 12, 121, Request::cpu(Duration::from_millis(5)));
    ex.kill(InstanceId(12)).unwrap();
    // The last fork's exit lets the template go.
    let mut exited = Vec::new();
    while exited.len() < 2 {
        match next(&mut ex, 20) {
            ExecEvent::Exited {
                instance, cause, ..
            } => {
                assert_eq!(cause, Cause::Killed);
                exited.push(instance.0);
            }
            ev => panic!("{ev:?}"),
        }
    }
    exited.sort();
    assert_eq!(exited, [10, 12]);
    for pid in pids.values() {
        assert!(gone_within(*pid, 5), "pid {pid} gone");
    }
}

#[test]
fn a_second_kill_of_a_template_takes_its_forks_along() {
    let mut ex = executor();
    let spec = WorkerSpec::new(2, 8);
    let t = start(&mut ex, 1, StartKind::Template, spec);
    let f = start(
        &mut ex,
        2,
        StartKind::Fork {
            template: InstanceId(1),
        },
        spec,
    );
    ex.kill(InstanceId(1)).unwrap(); // retire: the fork lives on
    invoke_ok(&mut ex, 2, 1, Request::cpu(Duration::from_millis(1)));
    ex.kill(InstanceId(1)).unwrap(); // SIGKILL
    let mut causes = Vec::new();
    for _ in 0..2 {
        match next(&mut ex, 20) {
            ExecEvent::Exited {
                instance, cause, ..
            } => causes.push((instance.0, cause)),
            ev => panic!("{ev:?}"),
        }
    }
    causes.sort_by_key(|c| c.0);
    assert_eq!(causes, [(1, Cause::Killed), (2, Cause::TemplateGone)]);
    assert!(gone_within(t, 5) && gone_within(f, 5));
    assert_eq!(ex.live(), 0);
}

#[test]
fn a_crash_fails_the_invocation_and_the_executor_keeps_working() {
    let mut ex = executor();
    let spec = WorkerSpec::new(2, 5);
    let p1 = start(&mut ex, 1, StartKind::Cold, spec);
    let p2 = start(&mut ex, 2, StartKind::Cold, spec);
    ex.invoke(
        InstanceId(1),
        JobId(1),
        Request::cpu(Duration::ZERO).with_fault(Fault::Crash),
    )
    .unwrap();
    expect_failure(
        &mut ex,
        1,
        1,
        p1,
        |c| matches!(c, Cause::Crashed(how) if how.contains("signal 6")),
    );
    invoke_ok(&mut ex, 2, 2, Request::cpu(Duration::from_millis(2)));
    // A crashing fork, too; its template and sibling are unharmed.
    start(&mut ex, 3, StartKind::Template, spec);
    let f = start(
        &mut ex,
        4,
        StartKind::Fork {
            template: InstanceId(3),
        },
        spec,
    );
    start(
        &mut ex,
        5,
        StartKind::Fork {
            template: InstanceId(3),
        },
        spec,
    );
    ex.invoke(
        InstanceId(4),
        JobId(3),
        Request::cpu(Duration::ZERO).with_fault(Fault::Crash),
    )
    .unwrap();
    expect_failure(&mut ex, 4, 3, f, |c| matches!(c, Cause::Crashed(_)));
    invoke_ok(&mut ex, 5, 4, Request::cpu(Duration::from_millis(2)));
    start(
        &mut ex,
        6,
        StartKind::Fork {
            template: InstanceId(3),
        },
        spec,
    );
    invoke_ok(&mut ex, 6, 5, Request::cpu(Duration::from_millis(2)));
    assert!(alive(p2));
}

#[test]
fn a_hang_past_the_timeout_is_killed() {
    let mut ex = executor();
    let pid = start(&mut ex, 1, StartKind::Cold, WorkerSpec::new(1, 5));
    let t0 = Instant::now();
    let req = Request::cpu(Duration::from_millis(10))
        .with_timeout(Duration::from_millis(300))
        .with_fault(Fault::Hang);
    ex.invoke(InstanceId(1), JobId(7), req).unwrap();
    expect_failure(&mut ex, 1, 7, pid, |c| *c == Cause::TimedOut);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // A slow but honest invocation within its timeout is fine.
    start(&mut ex, 2, StartKind::Cold, WorkerSpec::new(1, 5));
    invoke_ok(&mut ex, 2, 8, Request::io(Duration::from_millis(50)));
}

#[test]
fn a_wrong_checksum_or_a_corrupted_state_is_caught() {
    let mut ex = executor();
    let spec = WorkerSpec::new(2, 9);
    let p = start(&mut ex, 1, StartKind::Cold, spec);
    invoke_ok(&mut ex, 1, 1, Request::cpu(Duration::from_millis(1)));
    ex.invoke(
        InstanceId(1),
        JobId(2),
        Request::cpu(Duration::ZERO).with_fault(Fault::BadChecksum),
    )
    .unwrap();
    expect_failure(
        &mut ex,
        1,
        2,
        p,
        |c| matches!(c, Cause::BadChecksum { expected, got } if expected ^ got == 1),
    );
    // A fork that corrupts its copy-on-write state is caught; the template
    // and the other forks keep the right state.
    start(&mut ex, 2, StartKind::Template, spec);
    let f = start(
        &mut ex,
        3,
        StartKind::Fork {
            template: InstanceId(2),
        },
        spec,
    );
    ex.invoke(
        InstanceId(3),
        JobId(3),
        Request::cpu(Duration::ZERO).with_fault(Fault::CorruptState),
    )
    .unwrap();
    expect_failure(&mut ex, 3, 3, f, |c| matches!(c, Cause::BadChecksum { .. }));
    start(
        &mut ex,
        4,
        StartKind::Fork {
            template: InstanceId(2),
        },
        spec,
    );
    invoke_ok(&mut ex, 4, 4, Request::cpu(Duration::from_millis(1)));
    // So is a cold worker with a corrupted state.
    let c = start(&mut ex, 5, StartKind::Cold, WorkerSpec::new(0, 9));
    ex.invoke(
        InstanceId(5),
        JobId(5),
        Request::cpu(Duration::ZERO).with_fault(Fault::BadChecksum),
    )
    .unwrap();
    expect_failure(&mut ex, 5, 5, c, |c| matches!(c, Cause::BadChecksum { .. }));
}

#[test]
fn kill_while_starting_or_busy() {
    let mut ex = executor();
    // Busy: the invocation fails as Killed, then the instance exits.
    let pid = start(&mut ex, 1, StartKind::Cold, WorkerSpec::new(1, 1));
    ex.invoke(
        InstanceId(1),
        JobId(1),
        Request::cpu(Duration::from_secs(20)),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    ex.kill(InstanceId(1)).unwrap();
    expect_failure(&mut ex, 1, 1, pid, |c| *c == Cause::Killed);
    // Starting: no Ready, just Exited.
    ex.start(InstanceId(2), StartKind::Cold, WorkerSpec::new(64, 1))
        .unwrap();
    ex.kill(InstanceId(2)).unwrap();
    match next(&mut ex, 20) {
        ExecEvent::Exited {
            instance, cause, ..
        } => {
            assert_eq!((instance, cause), (InstanceId(2), Cause::Killed));
        }
        ev => panic!("{ev:?}"),
    }
    // A start that does not report ready in time.
    let mut spec = WorkerSpec::new(256, 1);
    spec.ready_timeout = Duration::from_millis(1);
    ex.start(InstanceId(3), StartKind::Cold, spec).unwrap();
    match next(&mut ex, 20) {
        ExecEvent::Exited {
            instance, cause, ..
        } => {
            assert_eq!((instance, cause), (InstanceId(3), Cause::TimedOut));
        }
        ev => panic!("{ev:?}"),
    }
    assert_eq!(ex.live(), 0);
}

#[test]
fn misuse_is_an_error_not_a_panic() {
    let mut ex = executor();
    let spec = WorkerSpec::new(0, 1);
    let req = Request::cpu(Duration::ZERO);
    assert!(ex.invoke(InstanceId(9), JobId(1), req).is_err(), "unknown");
    assert!(ex.kill(InstanceId(9)).is_err(), "unknown");
    ex.start(InstanceId(1), StartKind::Cold, spec).unwrap();
    assert!(
        ex.start(InstanceId(1), StartKind::Cold, spec).is_err(),
        "duplicate"
    );
    assert!(
        ex.invoke(InstanceId(1), JobId(1), req).is_err(),
        "not ready yet"
    );
    assert!(
        ex.start(
            InstanceId(2),
            StartKind::Fork {
                template: InstanceId(1)
            },
            spec
        )
        .is_err(),
        "not a template"
    );
    assert!(matches!(next(&mut ex, 20), ExecEvent::Ready { .. }));
    ex.invoke(
        InstanceId(1),
        JobId(1),
        Request::cpu(Duration::from_millis(50)),
    )
    .unwrap();
    assert!(ex.invoke(InstanceId(1), JobId(2), req).is_err(), "busy");
    assert!(matches!(next(&mut ex, 20), ExecEvent::Done { .. }));
    ex.start(InstanceId(3), StartKind::Template, spec).unwrap();
    let e = ex
        .start(
            InstanceId(4),
            StartKind::Fork {
                template: InstanceId(3),
            },
            WorkerSpec::new(1, 1),
        )
        .unwrap_err();
    assert!(e.to_string().contains("template 3 has 0 MiB"), "{e}");
}

#[test]
fn dropping_the_executor_kills_every_worker() {
    let mut ex = executor();
    let spec = WorkerSpec::new(1, 1);
    let mut pids = vec![start(&mut ex, 1, StartKind::Cold, spec)];
    pids.push(start(&mut ex, 2, StartKind::Template, spec));
    pids.push(start(
        &mut ex,
        3,
        StartKind::Fork {
            template: InstanceId(2),
        },
        spec,
    ));
    drop(ex);
    for pid in pids {
        assert!(gone_within(pid, 5), "pid {pid} gone");
    }
}

/// The leak test: an executor in its own process (the hidden
/// `executor-selftest` mode) starts cold workers, a template and forks; the
/// test SIGKILLs the executor, so no destructor runs, and every worker must
/// die within a few seconds (parent-death signals: the executor's death
/// kills the cold workers and the template, the template's its forks).
#[test]
fn no_worker_outlives_a_killed_executor() {
    let mut child = Command::new(BIN)
        .args([
            "executor-selftest",
            "--cold",
            "3",
            "--forks",
            "3",
            "--state-mb",
            "4",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut pids = Vec::new();
    let mut kinds = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        if line == "ready" {
            break;
        }
        let (kind, pid) = line.split_once(' ').unwrap();
        let pid: u32 = pid.parse().unwrap();
        if kind != "executor" {
            assert!(alive(pid), "{kind} {pid} alive before the kill");
            pids.push(pid);
            kinds.push(kind.to_string());
        }
    }
    kinds.sort();
    assert_eq!(
        kinds,
        ["cold", "cold", "cold", "fork", "fork", "fork", "template"]
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let leaked: Vec<u32> = pids.into_iter().filter(|&p| !gone_within(p, 5)).collect();
    for &pid in &leaked {
        // Do not leave them behind (they hold the test's stderr).
        // SAFETY: a plain system call on a pid we just saw alive.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    assert!(
        leaked.is_empty(),
        "workers {leaked:?} outlived the executor"
    );
}

/// Fork is faster than cold at 128 MiB: a coarse sanity check (medians of
/// three), not a timing benchmark; see benches/executor.rs for those.
#[test]
fn fork_is_faster_than_cold_at_128_mib() {
    let mut ex = executor();
    let spec = WorkerSpec::new(128, 4);
    let timed = |ex: &mut Executor, id: u64, kind: StartKind| {
        let t0 = Instant::now();
        start(ex, id, kind, spec);
        let d = t0.elapsed();
        kill(ex, id);
        d
    };
    let mut cold: Vec<Duration> = (0..3).map(|i| timed(&mut ex, i, StartKind::Cold)).collect();
    start(&mut ex, 100, StartKind::Template, spec);
    let fork_kind = StartKind::Fork {
        template: InstanceId(100),
    };
    let mut fork: Vec<Duration> = (0..3).map(|i| timed(&mut ex, 10 + i, fork_kind)).collect();
    cold.sort();
    fork.sort();
    assert!(fork[1] < cold[1], "fork {fork:?} vs cold {cold:?}");
}

#[test]
fn calibrate_quick_writes_a_profile_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("profile.toml");
    let t0 = Instant::now();
    let o = Command::new(BIN)
        .args(["calibrate", "--quick", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(t0.elapsed() < Duration::from_secs(50));
    let p = coldsim::calibration::CalibrationProfile::load(&out).unwrap();
    assert!(p.quick);
    assert_eq!(p.cold.points.len(), 3);
    assert!(
        p.cold.per_mb_ms > 0.0,
        "a cold start costs more with more state"
    );
    assert!(p.machine.cores >= 1 && !p.machine.cpu_model.is_empty());
    // Nothing but the profile is left in the folder.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1);
}

#[test]
fn calibrate_rejects_bad_paths_and_flags_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["calibrate", "--quick", "--out", "/nonexistent-dir/p.toml"],
        vec![
            "calibrate",
            "--quick",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        vec!["calibrate", "--quick"],
        vec!["calibrate", "--fast", "--out", "p.toml"],
    ] {
        let o = Command::new(BIN)
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("coldsim: error:"), "{err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file written"
    );
    // A broken profile names the file and the place.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "schema = 1\nquick = \"yes\"\n").unwrap();
    let e = coldsim::calibration::CalibrationProfile::load(&bad).unwrap_err();
    assert!(e.to_string().contains("bad.toml:2:9"), "{e}");
    assert_eq!(e.exit_code(), 2);
}
