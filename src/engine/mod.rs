//! The event engine: a clock, an event queue and seeded random streams. It
//! knows nothing about FaaS.
//!
//! # Ordering contract
//!
//! Every event has a key `(time, sequence number)`. The sequence number is
//! taken from a counter at insertion, so **events at the same time pop in
//! insertion order**. Time never goes backwards: popping returns events in
//! non-decreasing time.
//!
//! Arrivals do not go through the heap. A workload is a pre-sorted stream,
//! and [`Engine::next`] merges it with the heap: at each step it takes
//! whichever is earlier. At equal times the heap event pops first, so a
//! completion at `t` frees its instance before an arrival at `t` looks for
//! one. This keeps the heap small (it holds only in-flight work and timers,
//! never the future of the workload) and saves a push and a pop per arrival.
//!
//! # Cancellation
//!
//! Nothing is ever searched for in the heap. Components that may cancel an
//! event (an instance reused before its keep-alive timer, or killed before it
//! finishes starting) stamp the event with a generation counter and ignore
//! it when it pops with a stale generation.
//!
//! # Randomness
//!
//! [`rng::Streams`] derives an independent generator for each
//! `(seed, component, index, replicate)`, so a result never depends on the
//! order in which components draw, on the thread count or on the wall clock.

pub mod queue;
pub mod rng;

pub use queue::EventQueue;
pub use rng::{RngStream, Streams};

use crate::time::SimTime;

/// Something that happens at a known simulated time (an arrival).
pub trait Timed {
    fn time(&self) -> SimTime;
}

/// What [`Engine::next`] returns: a heap event or the next arrival.
#[derive(Debug)]
pub enum Next<E, A> {
    Event(SimTime, E),
    Arrival(A),
}

/// The clock plus the event heap; arrivals are merged in by [`Engine::next`].
#[derive(Debug)]
pub struct Engine<E> {
    queue: EventQueue<E>,
    now: SimTime,
    popped: u64,
}

impl<E> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Engine<E> {
    pub fn new() -> Self {
        Engine {
            queue: EventQueue::new(),
            now: SimTime::ZERO,
            popped: 0,
        }
    }

    /// The time of the last event popped.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Events popped so far, arrivals included.
    pub fn events(&self) -> u64 {
        self.popped
    }

    /// Events waiting in the heap (arrivals not included).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// The time of the next heap event (arrivals not included).
    pub fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// Schedules `event` at `time`. Scheduling in the past is a logic error;
    /// the event is clamped to `now` so that time never runs backwards.
    #[inline]
    pub fn schedule(&mut self, time: SimTime, event: E) {
        debug_assert!(time >= self.now, "event scheduled in the past");
        self.queue.push(time.max(self.now), event);
    }

    /// Pops the earlier of the heap's next event and the stream's next
    /// arrival (the heap first at equal times). None when both are empty.
    #[inline]
    pub fn next<A: Timed, I: Iterator<Item = A>>(
        &mut self,
        arrivals: &mut std::iter::Peekable<I>,
    ) -> Option<Next<E, A>> {
        let heap_t = self.queue.peek_time();
        let arr_t = arrivals.peek().map(Timed::time);
        let take_heap = match (heap_t, arr_t) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(h), Some(a)) => h <= a,
        };
        self.popped += 1;
        if take_heap {
            let (t, e) = self.queue.pop()?;
            self.now = t;
            Some(Next::Event(t, e))
        } else {
            let a = arrivals.next()?;
            debug_assert!(a.time() >= self.now, "arrival stream is not sorted");
            self.now = self.now.max(a.time());
            Some(Next::Arrival(a))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct A(u64);
    impl Timed for A {
        fn time(&self) -> SimTime {
            SimTime(self.0)
        }
    }

    #[test]
    fn merges_heap_first_on_ties() {
        let mut e: Engine<&'static str> = Engine::new();
        e.schedule(SimTime(5), "h5");
        e.schedule(SimTime(10), "h10a");
        e.schedule(SimTime(10), "h10b");
        let mut arr = vec![A(1), A(10), A(12)].into_iter().peekable();
        let mut seen = Vec::new();
        while let Some(n) = e.next(&mut arr) {
            seen.push(match n {
                Next::Event(t, s) => format!("{}@{}", s, t.0),
                Next::Arrival(a) => format!("a@{}", a.0),
            });
        }
        assert_eq!(seen, ["a@1", "h5@5", "h10a@10", "h10b@10", "a@10", "a@12"]);
        assert_eq!(e.events(), 6);
    }
}
