//! Locks that recover from poisoning.
//!
//! cb's locks guard plain values (counters, maps of handles, configuration
//! layers) that every writer leaves consistent before anything can panic, so a
//! panic on another thread is no reason to stop serving. These extension
//! traits take the lock and, if a panicking thread poisoned it, carry on with
//! the data as it is. They are the one place that decision is written.
//!
//! ```
//! use cb_core::sync::{MutexExt, RwLockExt};
//! use std::sync::{Mutex, RwLock};
//!
//! let counts = Mutex::new(0_u32);
//! *counts.lock_unpoisoned() += 1;
//! let names = RwLock::new(vec!["claude"]);
//! names.write_unpoisoned().push("gpt4");
//! assert_eq!(names.read_unpoisoned().len(), 2);
//! ```

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// [`Mutex::lock`] that ignores poisoning.
pub trait MutexExt<T: ?Sized> {
    /// Locks the mutex, recovering the guard if another thread panicked while holding it.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> MutexExt<T> for Mutex<T> {
    #[inline]
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// [`RwLock::read`] and [`RwLock::write`] that ignore poisoning.
pub trait RwLockExt<T: ?Sized> {
    /// Takes a shared read guard, recovering it from poisoning.
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T>;
    /// Takes the exclusive write guard, recovering it from poisoning.
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    #[inline]
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[inline]
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_still_hands_out_its_value() {
        let m = std::sync::Arc::new(Mutex::new(7));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m2.lock_unpoisoned();
            panic!("poison it");
        })
        .join();
        assert!(m.is_poisoned());
        assert_eq!(*m.lock_unpoisoned(), 7);
    }
}
