//! One registry of named handles, for every kind of handle cb shares by
//! name: breakers, bulkhead pools, dual-path servers.

use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};

use crate::error::Name;
use crate::sync::{MutexExt, RwLockExt};

/// Handles shared by name: the first caller of a name creates its handle,
/// later callers get the same one.
///
/// [`Registry`](super::Registry) (breakers), [`BulkheadPools`](crate::BulkheadPools)
/// and cb-tiers' `DualPathRegistry` are each one of these with their own way
/// to build a handle; their `as_named` gives this view, so code that lists,
/// exports or administers handles (an admin endpoint, a metrics exporter) is
/// written once for all of them.
///
/// - Creation runs once per name, even when many threads ask at the same
///   moment: creations are serialized, and each re-checks the name first.
/// - Lookups ([`get`](Self::get), [`names`](Self::names), ...) never create
///   and never wait for a constructor; they share a read lock.
/// - Everything that lists handles lists them sorted by name.
/// - A panic on another thread never makes the registry unusable: the map is
///   only changed after a constructor returns.
///
/// `T` is a cheap handle (`Clone` shares it), like [`CircuitBreaker`](crate::CircuitBreaker)
/// or an `Arc`.
///
/// ```
/// use cb_core::registry::Named;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let counters: Named<Arc<AtomicU64>> = Named::new();
/// let a = counters.get_or_create("retries", |_| Arc::new(AtomicU64::new(0)));
/// let b = counters.get_or_create("retries", |_| unreachable!("it exists"));
/// a.fetch_add(1, Ordering::Relaxed);
/// assert_eq!(b.load(Ordering::Relaxed), 1); // one counter per name
///
/// counters.get_or_create("errors", |_| Arc::default());
/// assert_eq!(counters.names(), ["errors", "retries"]); // sorted by name
/// assert!(counters.get("timeouts").is_none()); // lookups never create
/// ```
pub struct Named<T> {
    entries: RwLock<BTreeMap<Name, T>>,
    // Held while a constructor runs, so a name is created once without
    // holding `entries` locked (lookups, even from inside a constructor,
    // never wait for one).
    creating: Mutex<()>,
}

impl<T> Default for Named<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for Named<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Named")
            .field("names", &self.names())
            .finish_non_exhaustive()
    }
}

impl<T> Named<T> {
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            entries: RwLock::new(BTreeMap::new()),
            creating: Mutex::new(()),
        }
    }

    /// How many names are registered.
    pub fn len(&self) -> usize {
        self.entries.read_unpoisoned().len()
    }

    /// Whether no name is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries
            .read_unpoisoned()
            .keys()
            .map(ToString::to_string)
            .collect()
    }

    /// Removes `name` and returns its handle. Holders of the handle keep it;
    /// the next get-or-create of `name` makes a new one.
    pub fn remove(&self, name: &str) -> Option<T> {
        self.entries.write_unpoisoned().remove(name)
    }
}

impl<T: Clone> Named<T> {
    /// The handle of `name`, if it exists. Never creates one.
    pub fn get(&self, name: &str) -> Option<T> {
        self.entries.read_unpoisoned().get(name).cloned()
    }

    /// The handle of `name`, made by `make` if it does not exist yet.
    ///
    /// `make` runs at most once per name, however many threads ask at once.
    /// It may look names up in this registry, but must not create in it
    /// (creations are serialized, so that would wait for itself).
    pub fn get_or_create(&self, name: impl Into<Name>, make: impl FnOnce(&Name) -> T) -> T {
        match self.get_or_try_create(name, |n| Ok::<T, std::convert::Infallible>(make(n))) {
            Ok(handle) => handle,
            Err(never) => match never {},
        }
    }

    /// [`get_or_create`](Self::get_or_create) with a constructor that can
    /// fail: its error is returned and nothing is registered, so a later
    /// call tries again.
    ///
    /// ```
    /// use cb_core::registry::Named;
    ///
    /// let ports: Named<u16> = Named::new();
    /// assert!(ports.get_or_try_create("db", |_| "x".parse::<u16>()).is_err());
    /// assert!(ports.is_empty()); // a failed creation registers nothing
    /// assert_eq!(ports.get_or_try_create("db", |_| "5432".parse::<u16>()), Ok(5432));
    /// ```
    pub fn get_or_try_create<E>(
        &self,
        name: impl Into<Name>,
        make: impl FnOnce(&Name) -> Result<T, E>,
    ) -> Result<T, E> {
        let name = name.into();
        if let Some(handle) = self.get(&name) {
            return Ok(handle);
        }
        let _creating = self.creating.lock_unpoisoned();
        if let Some(handle) = self.get(&name) {
            return Ok(handle);
        }
        let handle = make(&name)?;
        self.entries.write_unpoisoned().insert(name, handle.clone());
        Ok(handle)
    }

    /// Registers `handle` under `name` unless the name is taken; then it
    /// returns the registered handle and keeps it.
    pub fn insert_new(&self, name: impl Into<Name>, handle: T) -> Result<(), T> {
        let mut entries = self.entries.write_unpoisoned();
        match entries.entry(name.into()) {
            std::collections::btree_map::Entry::Occupied(taken) => Err(taken.get().clone()),
            std::collections::btree_map::Entry::Vacant(free) => {
                free.insert(handle);
                Ok(())
            }
        }
    }

    /// Every handle, sorted by name.
    pub fn values(&self) -> Vec<T> {
        self.entries.read_unpoisoned().values().cloned().collect()
    }

    /// Every name with its handle, sorted by name: a consistent view taken
    /// under one lock.
    pub fn entries(&self) -> Vec<(Name, T)> {
        self.entries
            .read_unpoisoned()
            .iter()
            .map(|(n, h)| (n.clone(), h.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn get_or_create_returns_the_handle_of_the_first_creation() {
        let named: Named<Arc<str>> = Named::new();
        let a = named.get_or_create("db", |n| Arc::from(format!("{n}-1")));
        let b = named.get_or_create(String::from("db"), |n| Arc::from(format!("{n}-2")));
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*b, "db-1");
        assert!(Arc::ptr_eq(&named.get("db").unwrap(), &a));
        assert_eq!(named.len(), 1);
    }

    #[test]
    fn racing_threads_create_a_name_once() {
        let named: Named<Arc<usize>> = Named::new();
        let made = AtomicUsize::new(0);
        let barrier = Barrier::new(16);
        let got: Vec<Arc<usize>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|i| {
                    let (named, made, barrier) = (&named, &made, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        named.get_or_create("shared", |_| {
                            made.fetch_add(1, Ordering::SeqCst);
                            Arc::new(i)
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(made.load(Ordering::SeqCst), 1, "one constructor ran");
        assert!(got.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])));
    }

    #[test]
    fn everything_lists_in_name_order() {
        let named: Named<u32> = Named::new();
        for (name, v) in [("zeta", 26), ("alpha", 1), ("mu", 12)] {
            named.get_or_create(name, |_| v);
        }
        assert_eq!(named.names(), ["alpha", "mu", "zeta"]);
        assert_eq!(named.values(), [1, 12, 26]);
        let entries: Vec<(String, u32)> = named
            .entries()
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        assert_eq!(
            entries,
            [("alpha".into(), 1), ("mu".into(), 12), ("zeta".into(), 26)]
        );
    }

    #[test]
    fn a_constructor_may_look_up_the_registry_it_creates_in() {
        let named: Named<u32> = Named::new();
        named.get_or_create("base", |_| 40);
        let derived = named.get_or_create("derived", |_| named.get("base").unwrap() + 2);
        assert_eq!(derived, 42);
    }

    #[test]
    fn insert_new_keeps_the_first_and_remove_frees_the_name() {
        let named: Named<u32> = Named::new();
        assert_eq!(named.insert_new("a", 1), Ok(()));
        assert_eq!(named.insert_new("a", 2), Err(1));
        assert_eq!(named.remove("a"), Some(1));
        assert!(named.is_empty());
        assert_eq!(named.get_or_create("a", |_| 3), 3);
    }

    #[test]
    fn a_panicking_constructor_registers_nothing_and_blocks_no_one() {
        let named: Named<u32> = Named::new();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            named.get_or_create("x", |_| panic!("constructor failed"))
        }));
        assert!(panicked.is_err());
        assert!(named.get("x").is_none());
        assert_eq!(named.get_or_create("x", |_| 7), 7);
    }
}
