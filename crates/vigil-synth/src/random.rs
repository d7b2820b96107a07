//! The one source of randomness: a ChaCha generator seeded from the config.
//!
//! ChaCha is used (not `rand`'s default generator, which may change between
//! releases) because its output for a seed is fixed by its specification, so
//! a seed means the same borough on every machine (with the pinned `rand`
//! version: `Cargo.lock` is committed). Separate streams of the same seed drive the world and
//! the agencies' recording, so changing a noise rate changes the records but
//! not who the children are or who exploits them.
//!
//! Ids (of events and of the entities they record) are drawn from here too,
//! never from the clock, so the same seed gives the same ids.

use chrono::{DateTime, Utc};
use rand::{Rng as _, RngCore, SeedableRng};
use rand_chacha::ChaCha12Rng;
use uuid::Uuid;

/// A seeded random source with the draws the generator needs.
pub struct Rng {
    inner: ChaCha12Rng,
}

/// Which part of the generator a stream drives.
#[derive(Clone, Copy)]
pub enum Stream {
    World = 1,
    Recording = 2,
    /// The flat person records of [`crate::linkage`].
    Linkage = 3,
}

impl Rng {
    pub fn new(seed: u64, stream: Stream) -> Rng {
        let mut inner = ChaCha12Rng::seed_from_u64(seed);
        inner.set_stream(stream as u64);
        Rng { inner }
    }

    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.inner.gen::<f64>()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// An integer in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.inner.gen_range(lo..=hi)
        }
    }

    /// An index in `0..n` (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        self.inner.gen_range(0..n)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An index drawn with the given (non-negative, not all zero) weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.iter().rposition(|w| *w > 0.0).unwrap_or(0)
    }

    /// Waiting time, in seconds, to the next event of a process that happens
    /// `per_week` times a week on average (exponential).
    pub fn wait_secs(&mut self, per_week: f64) -> i64 {
        if per_week <= 0.0 {
            return i64::MAX / 4;
        }
        let u = 1.0 - self.unit(); // (0, 1]
        let weeks = -ln(u) / per_week;
        (weeks * 7.0 * 86_400.0).min(1.0e12) as i64
    }

    /// A random (version 4) UUID for an entity.
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        self.inner.fill_bytes(&mut b);
        uuid::Builder::from_random_bytes(b).into_uuid()
    }

    /// A version 7 UUID for an event: the time it happened, then random bits,
    /// so event ids sort roughly by time as Vigil's own ids do.
    pub fn event_id(&mut self, at: DateTime<Utc>) -> Uuid {
        let mut b = [0u8; 10];
        self.inner.fill_bytes(&mut b);
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &b)
            .into_uuid()
    }
}

/// Natural logarithm from basic arithmetic only. The platform's `ln` may
/// round differently from one C library to another; addition,
/// multiplication and division are exactly specified by IEEE 754, so this
/// gives the same bits everywhere and a seed the same borough everywhere.
fn ln(x: f64) -> f64 {
    debug_assert!(x > 0.0 && x.is_finite());
    // x = m * 2^e with m in [1, 2) (x is normal: it is at least 2^-53).
    let bits = x.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // ln(m) = 2 atanh(s), s = (m - 1) / (m + 1) in [0, 1/3).
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    for k in 0..24 {
        sum += term / f64::from(2 * k + 1);
        term *= s2;
    }
    const LN_2: f64 = std::f64::consts::LN_2;
    e as f64 * LN_2 + 2.0 * sum
}

#[cfg(test)]
mod tests {
    #[test]
    fn ln_from_arithmetic_matches_the_library() {
        for x in [1e-16, 0.001, 0.1, 0.5, 0.75, 1.0, 1.5, 2.0, 1e6] {
            let (a, b) = (super::ln(x), f64::ln(x));
            assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0), "{x}: {a} {b}");
        }
    }

    use super::*;

    #[test]
    fn same_seed_same_draws_and_streams_differ() {
        let mut a = Rng::new(7, Stream::World);
        let mut b = Rng::new(7, Stream::World);
        let mut c = Rng::new(7, Stream::Recording);
        let xa: Vec<u64> = (0..5).map(|_| a.int(0, 1 << 40) as u64).collect();
        let xb: Vec<u64> = (0..5).map(|_| b.int(0, 1 << 40) as u64).collect();
        let xc: Vec<u64> = (0..5).map(|_| c.int(0, 1 << 40) as u64).collect();
        assert_eq!(xa, xb);
        assert_ne!(xa, xc);
    }

    #[test]
    fn weighted_and_waits_behave() {
        let mut r = Rng::new(1, Stream::World);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[r.weighted(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 30_000.0;
        assert!((share - 0.75).abs() < 0.02, "{share}");
        let mean: f64 = (0..20_000).map(|_| r.wait_secs(1.0) as f64).sum::<f64>() / 20_000.0;
        let week = 7.0 * 86_400.0;
        assert!((mean / week - 1.0).abs() < 0.05, "{}", mean / week);
    }
}
