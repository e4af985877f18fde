//! Waits between attempts: exponential backoff with jitter, capped by the poll interval, reset after
//! a success. Pure given its random source, so tests can check the bounds.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff: the n-th consecutive failure waits a random time in `[d/2, d]` where
/// `d = min(cap, initial · 2ⁿ)`. The jitter spreads a fleet of VMs restarted together.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    /// `initial` is the first wait's upper bound; `cap` (the poll interval) bounds every wait.
    pub fn new(initial: Duration, cap: Duration) -> Self {
        Self {
            initial: initial.min(cap),
            cap,
            failures: 0,
        }
    }

    /// The upper bound of the next wait (without jitter).
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(31)).unwrap_or(u32::MAX);
        self.initial
            .checked_mul(factor)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The wait after one more failure, drawn from `rng`.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let floor = ceiling / 2;
        let spread = ceiling.saturating_sub(floor).as_micros();
        let extra = if spread == 0 {
            0
        } else {
            rng.random_range(0..=u64::try_from(spread).unwrap_or(u64::MAX))
        };
        floor + Duration::from_micros(extra)
    }

    /// After a success the next failure starts from `initial` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> rand::rngs::StdRng {
        rand::rngs::StdRng::seed_from_u64(7)
    }

    #[test]
    fn delays_grow_exponentially_until_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(10));
        let ceilings: Vec<u64> = (0..8)
            .map(|_| {
                let c = backoff.ceiling().as_millis() as u64;
                backoff.next_delay(&mut rng());
                c
            })
            .collect();
        assert_eq!(
            ceilings,
            vec![500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]
        );
    }

    #[test]
    fn every_delay_is_within_half_and_all_of_its_ceiling_and_never_above_the_cap() {
        let cap = Duration::from_secs(3);
        let mut backoff = Backoff::new(Duration::from_millis(100), cap);
        let mut rng = rng();
        for _ in 0..200 {
            let ceiling = backoff.ceiling();
            let delay = backoff.next_delay(&mut rng);
            assert!(
                delay <= ceiling && delay >= ceiling / 2,
                "{delay:?} vs {ceiling:?}"
            );
            assert!(delay <= cap);
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let mut rng = rng();
        let delays: std::collections::BTreeSet<Duration> = (0..20)
            .map(|_| {
                Backoff::new(Duration::from_secs(8), Duration::from_secs(8)).next_delay(&mut rng)
            })
            .collect();
        assert!(delays.len() > 10, "{delays:?}");
    }

    #[test]
    fn reset_starts_again_from_the_initial_delay() {
        let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        for _ in 0..6 {
            backoff.next_delay(&mut rng());
        }
        assert_eq!(backoff.ceiling(), Duration::from_secs(5));
        backoff.reset();
        assert_eq!(backoff.failures(), 0);
        assert_eq!(backoff.ceiling(), Duration::from_millis(200));
    }

    #[test]
    fn initial_above_the_cap_is_clamped() {
        let mut backoff = Backoff::new(Duration::from_secs(60), Duration::from_secs(1));
        assert!(backoff.next_delay(&mut rng()) <= Duration::from_secs(1));
    }

    #[test]
    fn huge_failure_counts_do_not_overflow() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        backoff.failures = u32::MAX - 1;
        assert_eq!(backoff.ceiling(), Duration::from_secs(30));
        backoff.next_delay(&mut rng());
        backoff.next_delay(&mut rng());
        assert_eq!(backoff.failures(), u32::MAX);
    }
}
