//! Hosts and their memory, with the index structures placement needs.
//!
//! Each host has a capacity, free memory, and "idle" memory (held by idle
//! instances, reclaimable by eviction). Two max-segment-trees over the hosts
//! answer "the lowest-numbered host with at least X MB free" and "... with at
//! least X MB free or reclaimable" in O(log hosts), so first-fit placement
//! stays fast with 100,000 hosts; every memory change updates them in
//! O(log hosts).

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
}

/// The hosts of a platform: capacity, free and idle memory per host.
///
/// The free-memory tree is kept exact at every change. The reclaimable tree
/// (free + idle) is needed only when placement fails and idle instances must
/// be evicted, which is rare, while instances go idle and busy at every
/// invocation; so hosts whose idle memory changed are only marked dirty, and
/// [`Hosts::first_reclaimable`] brings the tree up to date before it answers.
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
        }
    }

    pub fn len(&self) -> usize {
        self.free_mb.len()
    }

    pub fn is_empty(&self) -> bool {
        self.free_mb.is_empty()
    }

    pub fn capacity_mb(&self) -> u64 {
        self.capacity_mb
    }

    pub fn free_mb(&self, h: u32) -> u64 {
        self.free_mb[h as usize]
    }

    pub fn idle_mb(&self, h: u32) -> u64 {
        self.idle_mb[h as usize]
    }

    /// Instances (in any state) on host `h`.
    pub fn instances(&self, h: u32) -> u32 {
        self.instances[h as usize]
    }

    /// The lowest-numbered host with at least `mb` free. O(log hosts).
    #[inline]
    pub fn first_free(&self, mb: u64) -> Option<u32> {
        self.free_tree.first_at_least(mb).map(|h| h as u32)
    }

    /// The lowest-numbered host where free plus idle memory is at least `mb`.
    #[inline]
    pub fn first_reclaimable(&mut self, mb: u64) -> Option<u32> {
        for h in self.dirty_list.drain(..) {
            let h = h as usize;
            self.dirty[h] = false;
            self.reclaim_tree.set(h, self.free_mb[h] + self.idle_mb[h]);
        }
        self.reclaim_tree.first_at_least(mb).map(|h| h as u32)
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
        self.free_tree.set(h, self.free_mb[h]);
        self.mark_dirty(h);
    }

    /// A new instance of `mb` starts on `h` (the caller checked it fits).
    #[inline]
    pub(crate) fn alloc(&mut self, h: u32, mb: u64) {
        let h = h as usize;
        debug_assert!(self.free_mb[h] >= mb);
        self.free_mb[h] -= mb;
        self.instances[h] += 1;
        self.refresh(h);
    }

    /// An idle instance of `mb` on `h` is removed.
    #[inline]
    pub(crate) fn release_idle(&mut self, h: u32, mb: u64) {
        let h = h as usize;
        self.idle_mb[h] -= mb;
        self.free_mb[h] += mb;
        self.instances[h] -= 1;
        self.refresh(h);
    }

    /// An instance of `mb` on `h` becomes idle (reclaimable).
    #[inline]
    pub(crate) fn mark_idle(&mut self, h: u32, mb: u64) {
        let h = h as usize;
        self.idle_mb[h] += mb;
        self.mark_dirty(h);
    }

    /// An idle instance of `mb` on `h` is taken for work.
    #[inline]
    pub(crate) fn mark_taken(&mut self, h: u32, mb: u64) {
        let h = h as usize;
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
    }
}
