//! The event queue: a 4-ary min-heap keyed by `(time, sequence number)`,
//! plus a FIFO lane for events that arrive in time order.
//!
//! The sequence number comes from one counter shared by both parts, so events
//! at the same time pop in insertion order (the contract in the engine's
//! module doc), whichever part holds them.
//!
//! Many events are scheduled in time order: a keep-alive timer armed at
//! `now + ttl` with a fixed `ttl`, a queue timeout at `now + timeout`. An
//! event no earlier than the last one in the lane is appended to the lane
//! (O(1)); any other goes to the heap (O(log n)). `pop` takes the smaller key
//! of the lane's front and the heap's top; entries are 16 bytes of key plus the event, never boxed.

use std::collections::VecDeque;

use crate::time::SimTime;

/// Children per node: a 4-ary heap is shallower than a binary one, and a
/// node's children share a cache line or two.
const ARITY: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    time: u64,
    seq: u64,
}

struct Entry<E> {
    key: Key,
    event: E,
}

/// The event queue. See the module doc for the ordering contract.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    lane: VecDeque<Entry<E>>,
    seq: u64,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("heap", &self.heap.len())
            .field("lane", &self.lane.len())
            .field("seq", &self.seq)
            .finish()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            heap: Vec::with_capacity(n),
            lane: VecDeque::new(),
            seq: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.lane.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty() && self.lane.is_empty()
    }

    #[inline]
    fn min_key(&self) -> Option<(Key, bool)> {
        match (self.heap.first(), self.lane.front()) {
            (None, None) => None,
            (Some(h), None) => Some((h.key, false)),
            (None, Some(l)) => Some((l.key, true)),
            (Some(h), Some(l)) => Some(if l.key < h.key {
                (l.key, true)
            } else {
                (h.key, false)
            }),
        }
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        self.min_key().map(|(k, _)| SimTime(k.time))
    }

    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let key = Key {
            time: time.0,
            seq: self.seq,
        };
        self.seq += 1;
        if self.lane.back().is_none_or(|b| b.key.time <= time.0) {
            self.lane.push_back(Entry { key, event });
        } else {
            self.heap_push(Entry { key, event });
        }
    }

    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (key, from_lane) = self.min_key()?;
        let e = if from_lane {
            self.lane.pop_front()?
        } else {
            self.heap_pop()?
        };
        debug_assert!(e.key == key);
        Some((SimTime(key.time), e.event))
    }

    #[inline]
    fn heap_push(&mut self, entry: Entry<E>) {
        let key = entry.key;
        self.heap.push(entry);
        let mut i = self.heap.len() - 1;
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if self.heap[parent].key <= key {
                break;
            }
            self.heap.swap(parent, i);
            i = parent;
        }
    }

    #[inline]
    fn heap_pop(&mut self) -> Option<Entry<E>> {
        let last = self.heap.pop()?;
        if self.heap.is_empty() {
            return Some(last);
        }
        // Put `last` at the root and sift it down.
        let top = std::mem::replace(&mut self.heap[0], last);
        let n = self.heap.len();
        let key = self.heap[0].key;
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            if first >= n {
                break;
            }
            let end = (first + ARITY).min(n);
            let mut c = first;
            let mut ck = self.heap[first].key;
            for j in first + 1..end {
                let k = self.heap[j].key;
                if k < ck {
                    c = j;
                    ck = k;
                }
            }
            if key <= ck {
                break;
            }
            self.heap.swap(i, c);
            i = c;
        }
        Some(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pops come out sorted by time, and equal times in insertion order,
        /// with pushes interleaved with pops.
        #[test]
        fn pops_in_key_order(ops in proptest::collection::vec((0u64..20, any::<bool>()), 0..300)) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, usize)> = Vec::new();
            let mut now = 0;
            for (i, (dt, pop)) in ops.into_iter().enumerate() {
                if pop {
                    model.sort();
                    let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                    let got = q.pop().map(|(t, e)| (t.0, e));
                    prop_assert_eq!(got, want);
                    if let Some((t, _)) = got { now = t; }
                } else {
                    q.push(SimTime(now + dt), i);
                    model.push((now + dt, i));
                }
            }
            model.sort();
            for want in model {
                prop_assert_eq!(q.pop().map(|(t, e)| (t.0, e)), Some(want));
            }
            prop_assert!(q.pop().is_none());
        }
    }
}
