//! At most one of something per interval, per instance: how often a refused delivery may fetch
//! the secrets again (forged requests must not hammer Secrets Manager; a real rotation is
//! picked up within seconds).

use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Throttle {
    every: Duration,
    last: Option<Instant>,
}

impl Throttle {
    pub fn new(every: Duration) -> Self {
        Throttle { every, last: None }
    }

    /// Whether one may go now; if so, the next may only after the interval.
    pub fn admit(&mut self, now: Instant) -> bool {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) < self.every)
        {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_interval() {
        let start = Instant::now();
        let mut throttle = Throttle::new(Duration::from_secs(5));
        assert!(throttle.admit(start));
        assert!(!throttle.admit(start + Duration::from_secs(4)));
        assert!(throttle.admit(start + Duration::from_secs(5)));
        assert!(!throttle.admit(start + Duration::from_secs(6)));
    }
}
