//! The real executor's costs with real worker processes: start latency of
//! each start kind at 0, 16, 128 and 512 MiB of state, and the round trip
//! of a no-op invocation.
//!
//! * `start_cold/N`: `start(Cold)` to `Ready` (spawn, exec, connect, build
//!   N MiB of state).
//! * `start_fork/N`: `start(Fork)` from a ready N MiB template to `Ready`.
//! * `start_warm/N`: `invoke` on an idle N MiB worker to the moment the
//!   worker begins the work (its clock reading, the `Instant` clock).
//! * `dispatch_round_trip`: `invoke` of a no-op to its `Done` in hand.
//!
//! Each timed iteration is followed by an untimed kill (starts), so the
//! machine holds at most one measured worker and its template at a time.
//! Small sample counts keep the file to about two minutes.
//!
//! Run: `cargo bench --bench executor`.

use std::time::{Duration, Instant};

use coldsim::executor::{
    ExecEvent, Executor, ExecutorConfig, InstanceId, JobId, Request, StartKind, WorkerSpec,
};
use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};

const BIN: &str = env!("CARGO_BIN_EXE_coldsim");
const SIZES: [u32; 4] = [0, 16, 128, 512];

struct Driver {
    ex: Executor,
    next_id: u64,
    next_job: u64,
}

impl Driver {
    fn new() -> Driver {
        Driver {
            ex: Executor::new(ExecutorConfig {
                worker_bin: BIN.into(),
            })
            .expect("executor"),
            next_id: 0,
            next_job: 0,
        }
    }

    fn event(&mut self) -> ExecEvent {
        self.ex
            .next_event(Instant::now() + Duration::from_secs(60))
            .expect("an event within 60 s")
    }

    /// Starts an instance; returns its id and the start latency.
    fn start(&mut self, kind: StartKind, spec: WorkerSpec) -> (InstanceId, Duration) {
        self.next_id += 1;
        let id = InstanceId(self.next_id);
        let t0 = Instant::now();
        self.ex.start(id, kind, spec).expect("start");
        match self.event() {
            ExecEvent::Ready { instance, at, .. } if instance == id => (id, at - t0),
            ev => panic!("expected Ready, got {ev:?}"),
        }
    }

    fn kill(&mut self, id: InstanceId) {
        self.ex.kill(id).expect("kill");
        match self.event() {
            ExecEvent::Exited { instance, .. } if instance == id => {}
            ev => panic!("expected Exited, got {ev:?}"),
        }
    }

    /// A no-op invocation: (invoke to work start, invoke to Done in hand).
    fn noop(&mut self, id: InstanceId) -> (Duration, Duration) {
        self.next_job += 1;
        let t0 = Instant::now();
        self.ex
            .invoke(id, JobId(self.next_job), Request::cpu(Duration::ZERO))
            .expect("invoke");
        match self.event() {
            ExecEvent::Done { started, .. } => (started - t0, t0.elapsed()),
            ev => panic!("expected Done, got {ev:?}"),
        }
    }
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

fn starts(c: &mut Criterion) {
    let mut d = Driver::new();
    let mut g = configure(c, "start_cold");
    for mb in SIZES {
        let spec = WorkerSpec::new(mb, 1);
        g.bench_with_input(BenchmarkId::from_parameter(mb), &mb, |b, _| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (id, took) = d.start(StartKind::Cold, spec);
                    total += took;
                    d.kill(id);
                }
                total
            })
        });
    }
    g.finish();

    let mut g = configure(c, "start_fork");
    for mb in SIZES {
        let spec = WorkerSpec::new(mb, 2);
        let (template, _) = d.start(StartKind::Template, spec);
        g.bench_with_input(BenchmarkId::from_parameter(mb), &mb, |b, _| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (id, took) = d.start(StartKind::Fork { template }, spec);
                    total += took;
                    d.kill(id);
                }
                total
            })
        });
        d.kill(template);
    }
    g.finish();

    let mut g = configure(c, "start_warm");
    for mb in SIZES {
        let (id, _) = d.start(StartKind::Cold, WorkerSpec::new(mb, 3));
        g.bench_with_input(BenchmarkId::from_parameter(mb), &mb, |b, _| {
            b.iter_custom(|iters| (0..iters).map(|_| d.noop(id).0).sum())
        });
        d.kill(id);
    }
    g.finish();

    let mut g = configure(c, "dispatch");
    let (id, _) = d.start(StartKind::Cold, WorkerSpec::new(0, 4));
    g.bench_function("round_trip", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| d.noop(id).1).sum())
    });
    d.kill(id);
    g.finish();
}

criterion_group!(benches, starts);
criterion_main!(benches);
