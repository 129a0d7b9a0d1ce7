//! The one way the process takes its `std` locks: a lock whose holder panicked is taken anyway.
//!
//! A Lambda instance serves invocation after invocation, and the runtime turns a panic into one
//! failed invocation (`panic = "unwind"`), not a dead process. Were a panic to poison a lock
//! for good, `lock().unwrap()` would panic in every later invocation of that instance: the
//! memory ledger, the recent answers, the secrets held, the refresh throttle, all refused until
//! Lambda recycles it. The data behind every lock of the crate stays sound when a holder
//! unwinds: each holder reads, or makes its change with one assignment, insert or remove after
//! its checks, so an unwinding holder leaves the value as it was before or after that change,
//! never halfway. So the guard is recovered, not the invocation failed.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, recovering the guard if another holder panicked while holding it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_lock_poisoned_by_a_panicking_holder_is_still_taken() {
        let shared = Arc::new(Mutex::new(vec![1]));
        let holder = shared.clone();
        let panicked = std::thread::spawn(move || {
            let mut held = holder.lock().unwrap();
            held.push(2);
            panic!("an invocation fails while holding the lock");
        })
        .join();
        assert!(panicked.is_err());
        assert!(shared.is_poisoned());
        lock(&shared).push(3);
        assert_eq!(*lock(&shared), [1, 2, 3]);
    }
}
