//! A worker's state and the checksum that proves it is the right one.
//!
//! The state stands for what a real function loads at a cold start (model
//! weights, an index it builds): `state_mb` MiB of 64-bit words, word `i`
//! being [`state_word`]`(seed, i)`, a pure function. Building it is real
//! work: the memory is mapped fresh (`mmap`, so every page is faulted in and
//! zeroed by the kernel) and every word is computed and written.
//!
//! Because the state is a pure function of `(seed, index)`, the executor can
//! check a worker without holding the state. Each invocation carries a nonce;
//! the worker folds the words at [`SAMPLES`] positions derived from the nonce
//! into a checksum ([`checksum_with`]), and the executor recomputes the same
//! fold from the formula ([`expected_checksum`]) at the cost of 64 hashes. A
//! worker whose state is wrong (another seed, another size, corrupted words
//! at the sampled positions) or that corrupts its reply is caught; the nonce
//! changes at every invocation, so a worker cannot replay an old reply, and
//! a corruption of a fraction `f` of the words escapes one invocation with
//! probability `(1 - f)^64`.

use std::io;
use std::ptr::NonNull;
use std::time::Instant;

/// 64-bit words per MiB of state.
pub const WORDS_PER_MB: u64 = (1 << 20) / 8;

/// Positions sampled by one checksum.
pub const SAMPLES: u64 = 64;

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijection of `u64` with good avalanche, the
/// one hash behind the state, the sampled positions and the checksum.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Word `index` of the state built from `seed`.
#[inline]
pub fn state_word(seed: u64, index: u64) -> u64 {
    mix64(seed ^ index.wrapping_add(1).wrapping_mul(GOLDEN))
}

/// The `j`-th sampled position for `nonce` in a state of `words` words
/// (`words > 0`).
#[inline]
pub fn sample_position(nonce: u64, j: u64, words: u64) -> u64 {
    mix64(nonce ^ (j + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93)) % words
}

/// The checksum of a state of `words` words for `nonce`, reading words
/// through `word_at`. The seed and the size enter it too, so even an empty
/// state is checked against the right seed.
pub fn checksum_with(seed: u64, words: u64, nonce: u64, word_at: impl Fn(u64) -> u64) -> u64 {
    let mut acc = mix64(nonce ^ mix64(seed ^ words.wrapping_mul(GOLDEN)));
    if words > 0 {
        for j in 0..SAMPLES {
            acc = mix64(acc ^ word_at(sample_position(nonce, j, words)));
        }
    }
    acc
}

/// What a worker with the right state answers for `nonce`: computed from
/// the formula, without the state.
pub fn expected_checksum(seed: u64, state_mb: u32, nonce: u64) -> u64 {
    checksum_with(seed, u64::from(state_mb) * WORDS_PER_MB, nonce, |i| {
        state_word(seed, i)
    })
}

/// A worker's state: an anonymous private mapping of `state_mb` MiB,
/// unmapped on drop. After a `fork` the child shares the pages copy-on-write.
pub struct State {
    ptr: NonNull<u64>,
    words: usize,
    seed: u64,
}

impl State {
    /// Maps `state_mb` MiB and fills it; returns the state and the time
    /// the fill took.
    pub fn build(state_mb: u32, seed: u64) -> io::Result<(State, std::time::Duration)> {
        let t0 = Instant::now();
        let words = usize::try_from(u64::from(state_mb) * WORDS_PER_MB)
            .map_err(|_| io::Error::other("state too large for this machine"))?;
        let ptr = if words == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: a fresh anonymous mapping; no existing memory is touched.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    words * 8,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(io::Error::last_os_error());
            }
            NonNull::new(p.cast::<u64>()).ok_or_else(|| io::Error::other("mmap returned null"))?
        };
        let mut state = State { ptr, words, seed };
        for (i, w) in state.words_mut().iter_mut().enumerate() {
            *w = state_word(seed, i as u64);
        }
        Ok((state, t0.elapsed()))
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn words(&self) -> &[u64] {
        // SAFETY: `ptr` maps `words` initialised u64s (or is dangling with
        // length 0), owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.words) }
    }

    pub fn words_mut(&mut self) -> &mut [u64] {
        // SAFETY: as in `words`, and `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.words) }
    }

    /// The checksum of this state for `nonce`, read from memory.
    pub fn checksum(&self, nonce: u64) -> u64 {
        let w = self.words();
        checksum_with(self.seed, w.len() as u64, nonce, |i| w[i as usize])
    }
}

impl Drop for State {
    fn drop(&mut self) {
        if self.words > 0 {
            // SAFETY: the mapping was made by `build` with this length and is
            // unmapped once.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.words * 8);
            }
        }
    }
}

/// CPU-bound work for `exec` of wall time: stream over the state from a
/// nonce-derived offset, folding every word into a digest (an empty state
/// hashes instead). The digest is returned so the work cannot be optimised
/// away; it is not verified (how far the worker got depends on its speed).
pub fn cpu_work(words: &[u64], nonce: u64, exec: std::time::Duration) -> u64 {
    const CHUNK: usize = 4096;
    let deadline = Instant::now() + exec;
    let mut digest = nonce;
    let n = words.len();
    let mut pos = if n > 0 {
        (nonce % n as u64) as usize
    } else {
        0
    };
    while Instant::now() < deadline {
        if n == 0 {
            for _ in 0..CHUNK {
                digest = mix64(digest);
            }
        } else {
            for _ in 0..CHUNK {
                digest = (digest.rotate_left(5) ^ words[pos]).wrapping_mul(GOLDEN);
                pos += 1;
                if pos == n {
                    pos = 0;
                }
            }
        }
    }
    digest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_state_matches_the_formula() {
        let (state, _) = State::build(1, 42).unwrap();
        assert_eq!(state.words().len() as u64, WORDS_PER_MB);
        for i in [0u64, 1, 17, WORDS_PER_MB - 1] {
            assert_eq!(state.words()[i as usize], state_word(42, i));
        }
        for nonce in [0u64, 1, 0xdead_beef, u64::MAX] {
            assert_eq!(state.checksum(nonce), expected_checksum(42, 1, nonce));
        }
    }

    #[test]
    fn checksum_catches_wrong_seed_size_and_corruption() {
        let nonce = 7;
        let good = expected_checksum(1, 1, nonce);
        assert_ne!(good, expected_checksum(2, 1, nonce), "seed");
        assert_ne!(good, expected_checksum(1, 2, nonce), "size");
        assert_ne!(
            expected_checksum(1, 0, nonce),
            expected_checksum(2, 0, nonce)
        );
        assert_ne!(good, expected_checksum(1, 1, nonce + 1), "nonce");
        // One corrupted word at a sampled position changes the checksum.
        let (mut state, _) = State::build(1, 1).unwrap();
        let p = sample_position(nonce, 5, WORDS_PER_MB) as usize;
        state.words_mut()[p] ^= 1;
        assert_ne!(state.checksum(nonce), good);
    }

    #[test]
    fn sampled_positions_stay_in_range() {
        for words in [1u64, 2, 3, 1000, WORDS_PER_MB * 512] {
            for j in 0..SAMPLES {
                assert!(sample_position(99, j, words) < words);
            }
        }
    }

    #[test]
    fn cpu_work_runs_for_about_its_time() {
        let (state, _) = State::build(1, 3).unwrap();
        let t0 = Instant::now();
        let a = cpu_work(state.words(), 5, std::time::Duration::from_millis(20));
        assert!(t0.elapsed() >= std::time::Duration::from_millis(20));
        assert_ne!(a, 5);
        // Zero time does no work.
        assert_eq!(cpu_work(state.words(), 5, std::time::Duration::ZERO), 5);
    }
}
