//! Event queue cost: the "hold" model (pop the earliest event, push one a
//! random delay later) at several heap sizes, in events per second.
//!
//! Run: `cargo bench --bench engine`.

use coldsim::engine::{EventQueue, RngStream};
use coldsim::time::SimTime;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue_hold");
    const OPS: u64 = 100_000;
    g.throughput(Throughput::Elements(OPS));
    for size in [16usize, 1_000, 100_000] {
        g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            let mut rng = RngStream::from_seed_u64(1);
            let mut q: EventQueue<u64> = EventQueue::with_capacity(size + 1);
            for i in 0..size as u64 {
                q.push(SimTime(rng.next_u64() % 1_000_000), i);
            }
            b.iter(|| {
                for _ in 0..OPS {
                    let (t, e) = q.pop().unwrap();
                    q.push(SimTime(t.0 + rng.next_u64() % 1_000_000), e);
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
