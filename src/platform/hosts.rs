//! Hosts and their memory, with the index structures placement needs.
//!
//! Each host has a capacity, free memory, and "idle" memory (held by idle
//! instances, reclaimable by eviction). Two max-segment-trees over the hosts
//! answer "the lowest-numbered host with at least X MB free" and "... with at
//! least X MB free or reclaimable" in O(log hosts), so first-fit placement
//! stays fast with 100,000 hosts; every memory change updates them in
//! O(log hosts).
//!
//! For the other placement policies the table also answers, each in
//! O(log hosts): the first host with room at or after a position
//! ([`Hosts::first_free_from`], round-robin and random fallbacks, through the
//! same free-memory tree), the host with the most free memory
//! ([`Hosts::most_free`], worst-fit, from the tree's root), and the host with
//! the least free memory that still fits ([`Hosts::best_fit`], from an ordered
//! set of `(free_mb, host)` pairs that changes only where free memory does,
//! in [`Hosts::alloc`] and [`Hosts::release_idle`]). That set is built at the
//! first best-fit query and maintained from then on, so runs with other
//! policies never pay for its updates (two B-tree operations per change,
//! about 15% of the simulator's time in the `simulate` bench). The total
//! instance count is kept for load-bounded policies.

use std::cell::OnceCell;
use std::collections::BTreeSet;

use crate::model::HostId;

/// A max-segment-tree over `u64` leaves supporting "first leaf >= x".
#[derive(Clone, Debug)]
struct MaxTree {
    /// Number of leaves, a power of two; node 1 is the root, leaf i is at
    /// `size + i`.
    size: usize,
    node: Vec<u64>,
}

impl MaxTree {
    fn new(values: &[u64]) -> Self {
        let size = values.len().next_power_of_two().max(1);
        let mut node = vec![0; 2 * size];
        node[size..size + values.len()].copy_from_slice(values);
        for i in (1..size).rev() {
            node[i] = node[2 * i].max(node[2 * i + 1]);
        }
        MaxTree { size, node }
    }

    #[inline]
    fn set(&mut self, i: usize, v: u64) {
        let mut p = self.size + i;
        self.node[p] = v;
        while p > 1 {
            p /= 2;
            let m = self.node[2 * p].max(self.node[2 * p + 1]);
            if self.node[p] == m {
                break;
            }
            self.node[p] = m;
        }
    }

    /// The lowest leaf index whose value is at least `x`.
    #[inline]
    fn first_at_least(&self, x: u64) -> Option<usize> {
        if self.node[1] < x {
            return None;
        }
        let mut p = 1;
        while p < self.size {
            p = if self.node[2 * p] >= x {
                2 * p
            } else {
                2 * p + 1
            };
        }
        Some(p - self.size)
    }

    /// The largest leaf value.
    #[inline]
    fn max(&self) -> u64 {
        self.node[1]
    }

    /// The lowest leaf index at or after `start` whose value is at least
    /// `x`: climb from the leaf until a right sibling's subtree holds such a
    /// value, then descend into it. O(log leaves).
    #[inline]
    fn first_at_least_from(&self, start: usize, x: u64) -> Option<usize> {
        if start >= self.size {
            return None;
        }
        let mut p = self.size + start;
        if self.node[p] >= x {
            return Some(start);
        }
        loop {
            // Up while p is a right child (the root, 1, is odd and ends at 0).
            while p & 1 == 1 {
                p >>= 1;
            }
            if p == 0 {
                return None;
            }
            p += 1;
            if self.node[p] >= x {
                break;
            }
        }
        while p < self.size {
            p = if self.node[2 * p] >= x {
                2 * p
            } else {
                2 * p + 1
            };
        }
        Some(p - self.size)
    }
}

/// The hosts of a platform: capacity, free and idle memory per host.
///
/// The free-memory tree is kept exact at every change. The reclaimable tree
/// (free + idle) is needed only when placement fails and idle instances must
/// be evicted, which is rare, while instances go idle and busy at every
/// invocation; so hosts whose idle memory changed are only marked dirty, and
/// `Hosts::first_reclaimable` (the platform's, when it must evict) brings the
/// tree up to date before it answers.
#[derive(Clone, Debug)]
pub struct Hosts {
    capacity_mb: u64,
    free_mb: Vec<u64>,
    idle_mb: Vec<u64>,
    instances: Vec<u32>,
    free_tree: MaxTree,
    reclaim_tree: MaxTree,
    dirty: Vec<bool>,
    dirty_list: Vec<u32>,
    /// Every host as `(free_mb, host)`, in order: best-fit's index, built
    /// by the first [`Hosts::best_fit`] and maintained from then on.
    by_free: OnceCell<BTreeSet<(u64, u32)>>,
    /// Instances on all hosts.
    total_instances: u64,
    /// Hosts that take no new instance (failed, being reclaimed, powered
    /// off): every query sees them with no free memory.
    closed: Vec<bool>,
}

impl Hosts {
    pub fn new(count: usize, capacity_mb: u64) -> Self {
        let free = vec![capacity_mb; count];
        Hosts {
            capacity_mb,
            free_tree: MaxTree::new(&free),
            reclaim_tree: MaxTree::new(&free),
            free_mb: free,
            idle_mb: vec![0; count],
            instances: vec![0; count],
            dirty: vec![false; count],
            dirty_list: Vec::new(),
            by_free: OnceCell::new(),
            total_instances: 0,
            closed: vec![false; count],
        }
    }

    pub fn len(&self) -> usize {
        self.free_mb.len()
    }

    pub fn is_empty(&self) -> bool {
        self.free_mb.is_empty()
    }

    /// Every host, in order.
    pub fn ids(&self) -> impl Iterator<Item = HostId> + use<> {
        (0..self.free_mb.len() as u32).map(HostId)
    }

    pub fn capacity_mb(&self) -> u64 {
        self.capacity_mb
    }

    /// Free memory of `h` for a new instance: 0 while it is closed.
    #[inline]
    pub fn free_mb(&self, h: HostId) -> u64 {
        self.eff(h.index())
    }

    /// Memory of `h` not held by any instance, closed or not.
    pub fn unused_mb(&self, h: HostId) -> u64 {
        self.free_mb[h.index()]
    }

    #[inline]
    fn eff(&self, h: usize) -> u64 {
        if self.closed[h] { 0 } else { self.free_mb[h] }
    }

    pub fn is_closed(&self, h: HostId) -> bool {
        self.closed[h.index()]
    }

    /// Closes `h` to new instances (or opens it again); its instances stay.
    pub(crate) fn set_closed(&mut self, h: HostId, closed: bool) {
        let h = h.index();
        if self.closed[h] == closed {
            return;
        }
        let old = self.eff(h);
        self.closed[h] = closed;
        self.refresh(h);
        self.reindex(h, old);
    }

    pub fn idle_mb(&self, h: HostId) -> u64 {
        self.idle_mb[h.index()]
    }

    /// Instances (in any state) on host `h`.
    pub fn instances(&self, h: HostId) -> u32 {
        self.instances[h.index()]
    }

    /// The lowest-numbered host with at least `mb` free. O(log hosts).
    #[inline]
    pub fn first_free(&self, mb: u64) -> Option<HostId> {
        self.free_tree.first_at_least(mb).map(|h| HostId(h as u32))
    }

    /// The lowest-numbered host at or after `start` with at least `mb`
    /// free (no wrapping: None if every host from `start` on is too full).
    /// O(log hosts).
    #[inline]
    pub fn first_free_from(&self, start: HostId, mb: u64) -> Option<HostId> {
        self.free_tree
            .first_at_least_from(start.index(), mb)
            .filter(|&h| h < self.len())
            .map(|h| HostId(h as u32))
    }

    /// The host with the least free memory that is still at least `mb`,
    /// the lowest-numbered among equals (best-fit). O(log hosts); the
    /// first call builds the index in O(hosts log hosts).
    #[inline]
    pub fn best_fit(&self, mb: u64) -> Option<HostId> {
        let set = self.by_free.get_or_init(|| {
            (0..self.free_mb.len())
                .map(|h| (self.eff(h), h as u32))
                .collect()
        });
        set.range((mb, 0)..).next().map(|&(_, h)| HostId(h))
    }

    /// The host with the most free memory, the lowest-numbered among equals
    /// (worst-fit); None only when there are no hosts. O(log hosts).
    #[inline]
    pub fn most_free(&self) -> Option<HostId> {
        if self.is_empty() {
            return None;
        }
        self.free_tree
            .first_at_least(self.free_tree.max())
            .map(|h| HostId(h as u32))
    }

    /// The largest free memory of any host (0 with no hosts). O(1).
    #[inline]
    pub fn max_free_mb(&self) -> u64 {
        self.free_tree.max()
    }

    /// Instances (in any state) on all hosts. O(1).
    #[inline]
    pub fn total_instances(&self) -> u64 {
        self.total_instances
    }

    /// The lowest-numbered host where free plus idle memory is at least `mb`.
    #[inline]
    pub(crate) fn first_reclaimable(&mut self, mb: u64) -> Option<HostId> {
        for h in self.dirty_list.drain(..) {
            let h = h as usize;
            self.dirty[h] = false;
            let r = if self.closed[h] {
                0
            } else {
                self.free_mb[h] + self.idle_mb[h]
            };
            self.reclaim_tree.set(h, r);
        }
        self.reclaim_tree
            .first_at_least(mb)
            .map(|h| HostId(h as u32))
    }

    #[inline]
    fn mark_dirty(&mut self, h: usize) {
        if !self.dirty[h] {
            self.dirty[h] = true;
            self.dirty_list.push(h as u32);
        }
    }

    #[inline]
    fn refresh(&mut self, h: usize) {
        self.free_tree.set(h, self.eff(h));
        self.mark_dirty(h);
    }

    /// Moves host `h` in the best-fit index (if built) from `old` free MB to
    /// its current free memory.
    #[inline]
    fn reindex(&mut self, h: usize, old: u64) {
        let new = self.eff(h);
        if let Some(set) = self.by_free.get_mut()
            && new != old
        {
            set.remove(&(old, h as u32));
            set.insert((new, h as u32));
        }
    }

    // The four mutators below are public so that a policy can be tested and
    // benchmarked on a standalone table; the platform hands its own table to
    // policies only as `&Hosts`.

    /// A new instance of `mb` starts on `h` (the caller checked it fits).
    #[inline]
    pub fn alloc(&mut self, h: HostId, mb: u64) {
        let h = h.index();
        debug_assert!(self.free_mb[h] >= mb);
        let old = self.eff(h);
        self.free_mb[h] -= mb;
        self.instances[h] += 1;
        self.total_instances += 1;
        self.refresh(h);
        self.reindex(h, old);
    }

    /// An idle instance of `mb` on `h` is removed.
    #[inline]
    pub fn release_idle(&mut self, h: HostId, mb: u64) {
        let h = h.index();
        let old = self.eff(h);
        self.idle_mb[h] -= mb;
        self.free_mb[h] += mb;
        self.instances[h] -= 1;
        self.total_instances -= 1;
        self.refresh(h);
        self.reindex(h, old);
    }

    /// An instance of `mb` on `h` becomes idle (reclaimable).
    #[inline]
    pub fn mark_idle(&mut self, h: HostId, mb: u64) {
        let h = h.index();
        self.idle_mb[h] += mb;
        self.mark_dirty(h);
    }

    /// An idle instance of `mb` on `h` is taken for work.
    #[inline]
    pub fn mark_taken(&mut self, h: HostId, mb: u64) {
        let h = h.index();
        self.idle_mb[h] -= mb;
        self.mark_dirty(h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The tree's answer equals a linear scan's after random updates.
        #[test]
        fn first_fit_matches_scan(
            n in 1usize..40,
            ops in proptest::collection::vec((0usize..40, 0u64..100, 0u64..110), 0..100),
        ) {
            let vals0 = vec![100u64; n];
            let mut t = MaxTree::new(&vals0);
            let mut vals = vals0;
            for (i, v, q) in ops {
                let i = i % n;
                vals[i] = v;
                t.set(i, v);
                let scan = vals.iter().position(|&x| x >= q);
                prop_assert_eq!(t.first_at_least(q), scan);
            }
        }

        /// The tree's "first at or after" equals a linear scan's.
        #[test]
        fn first_from_matches_scan(
            n in 1usize..40,
            ops in proptest::collection::vec((0usize..40, 0u64..100, 0usize..45, 0u64..110), 0..100),
        ) {
            let mut vals = vec![100u64; n];
            let mut t = MaxTree::new(&vals);
            for (i, v, start, q) in ops {
                let i = i % n;
                vals[i] = v;
                t.set(i, v);
                let scan = (start..n).find(|&j| vals[j] >= q);
                let got = t.first_at_least_from(start, q).filter(|&j| j < n);
                prop_assert_eq!(got, scan, "start {} q {} vals {:?}", start, q, vals);
            }
        }

        /// After random allocations and releases, every placement index of
        /// the host table answers as a linear scan over the hosts does.
        #[test]
        fn indexes_match_scan(
            n in 1usize..24,
            cap in 1u64..200,
            ops in proptest::collection::vec((any::<bool>(), 0usize..24, 0u64..200, 0usize..64), 0..120),
        ) {
            let mut h = Hosts::new(n, cap);
            // Live instances as (host, mb, idle).
            let mut live: Vec<(u32, u64, bool)> = Vec::new();
            let mut closed = vec![false; n];
            for (grow, host, mb, pick) in ops {
                if pick % 7 == 3 {
                    // Close or reopen a host: it keeps its instances.
                    let host = host % n;
                    closed[host] = !closed[host];
                    h.set_closed(HostId(host as u32), closed[host]);
                } else if grow || live.is_empty() {
                    let host = (host % n) as u32;
                    let mb = mb % (cap + 1);
                    if h.free_mb(HostId(host)) >= mb {
                        h.alloc(HostId(host), mb);
                        live.push((host, mb, false));
                    }
                } else {
                    let i = pick % live.len();
                    let (host, mb, idle) = live[i];
                    if idle {
                        // Evict it, or take it for work again.
                        if pick % 2 == 0 {
                            h.release_idle(HostId(host), mb);
                            live.swap_remove(i);
                        } else {
                            h.mark_taken(HostId(host), mb);
                            live[i].2 = false;
                        }
                    } else {
                        h.mark_idle(HostId(host), mb);
                        live[i].2 = true;
                    }
                }
                let free: Vec<u64> = (0..n)
                    .map(|j| {
                        let used: u64 = live.iter().filter(|l| l.0 as usize == j).map(|l| l.1).sum();
                        prop_assert_eq!(h.unused_mb(HostId(j as u32)), cap - used);
                        Ok(if closed[j] { 0 } else { cap - used })
                    })
                    .collect::<Result<_, TestCaseError>>()?;
                prop_assert_eq!(
                    (0..n as u32).map(|j| h.free_mb(HostId(j))).collect::<Vec<_>>(),
                    free.clone()
                );
                for q in [1, (cap / 2).max(1), cap] {
                    let reclaim = (0..n).find(|&j| {
                        let idle: u64 = live.iter().filter(|l| l.0 as usize == j && l.2).map(|l| l.1).sum();
                        !closed[j] && free[j] + idle >= q
                    });
                    prop_assert_eq!(h.first_reclaimable(q), reclaim.map(|j| HostId(j as u32)));
                }
                let insts: u64 = (0..n as u32).map(|j| h.instances(HostId(j)) as u64).sum();
                prop_assert_eq!(insts, live.len() as u64);
                prop_assert_eq!(h.total_instances(), insts);
                let max = *free.iter().max().unwrap();
                prop_assert_eq!(h.max_free_mb(), max);
                prop_assert_eq!(h.most_free(), free.iter().position(|&f| f == max).map(|j| HostId(j as u32)));
                for q in [0, 1, mb % (cap + 1), cap / 2, cap, cap + 1] {
                    prop_assert_eq!(
                        h.first_free(q),
                        free.iter().position(|&f| f >= q).map(|j| HostId(j as u32))
                    );
                    // Least free that fits, lowest index among equals.
                    let best = (0..n)
                        .filter(|&j| free[j] >= q)
                        .min_by_key(|&j| (free[j], j))
                        .map(|j| HostId(j as u32));
                    prop_assert_eq!(h.best_fit(q), best, "q {} free {:?}", q, free);
                    // An index built now answers as the maintained one.
                    let mut fresh = h.clone();
                    fresh.by_free = OnceCell::new();
                    prop_assert_eq!(fresh.best_fit(q), best);
                    for start in [0, pick % n, n - 1, n, n + 3] {
                        let scan = (start..n).find(|&j| free[j] >= q).map(|j| HostId(j as u32));
                        prop_assert_eq!(h.first_free_from(HostId(start as u32), q), scan);
                    }
                }
            }
        }
    }

    #[test]
    fn index_queries_by_hand() {
        // Free: [100, 40, 70, 40, 100].
        let mut h = Hosts::new(5, 100);
        h.alloc(HostId(1), 60);
        h.alloc(HostId(2), 30);
        h.alloc(HostId(3), 60);
        assert_eq!(h.total_instances(), 3);
        assert_eq!(h.first_free_from(HostId(1), 50), Some(HostId(2)));
        assert_eq!(h.first_free_from(HostId(3), 50), Some(HostId(4)));
        assert_eq!(h.first_free_from(HostId(3), 40), Some(HostId(3)));
        assert_eq!(h.first_free_from(HostId(5), 0), None);
        assert_eq!(h.first_free_from(HostId(0), 101), None);
        assert_eq!(h.best_fit(30), Some(HostId(1)));
        assert_eq!(h.best_fit(41), Some(HostId(2)));
        assert_eq!(h.best_fit(71), Some(HostId(0)));
        assert_eq!(h.best_fit(101), None);
        assert_eq!(h.most_free(), Some(HostId(0)));
        assert_eq!(h.max_free_mb(), 100);
        h.alloc(HostId(0), 10);
        assert_eq!(h.most_free(), Some(HostId(4)));
        h.mark_idle(HostId(2), 30);
        h.release_idle(HostId(2), 30);
        assert_eq!(h.best_fit(95), Some(HostId(2)));
        assert_eq!(h.most_free(), Some(HostId(2)));
        assert_eq!(h.total_instances(), 3);
        assert_eq!(Hosts::new(0, 10).most_free(), None);
        assert_eq!(Hosts::new(0, 10).first_free_from(HostId(0), 0), None);
    }
}
