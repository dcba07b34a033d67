//! Bulkhead: at most `max_concurrent` calls at once, with a bounded FIFO wait
//! (R51–R54).
//!
//! A free slot is taken and given back with one atomic operation each, no
//! lock, so a bulkhead that is not full costs a call almost nothing. Callers
//! that have to wait queue on a `tokio::sync::Semaphore`, which is fair
//! (first come, first served) and whose `acquire` is cancel-safe: a waiter
//! that times out or is dropped leaves the queue and never strands a permit
//! (R52). While anyone waits, a slot given back goes to the queue, and newcomers
//! queue behind it. Permits are RAII guards released on success, error,
//! timeout, panic and cancellation.
//!
//! Several callers can share one bulkhead by cloning it, or by name through
//! [`BulkheadPools`].

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::{ConfigError, Error, Name, RejectReason, Rejected, Violations};
use crate::registry::Named;

/// A limit on concurrent calls. Cheap to clone; clones share the slots.
///
/// ```
/// use cb_core::Bulkhead;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cb_core::ConfigError> {
/// let pool = Bulkhead::builder("embeddings")
///     .max_concurrent(2)
///     .queue_timeout(Duration::ZERO) // fail fast when full
///     .build()?;
/// let a = pool.try_acquire().unwrap();
/// let b = pool.try_acquire().unwrap();
/// let full = pool.try_acquire().unwrap_err();
/// assert_eq!(full.reason(), cb_core::RejectReason::BulkheadFull);
/// drop(a);
/// assert!(pool.try_acquire().is_ok());
/// # drop(b);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Bulkhead {
    inner: Arc<Inner>,
}

struct Inner {
    name: Name,
    /// Slots free for the taking without the queue.
    free: AtomicUsize,
    /// The waiters' FIFO queue; holds the slots given back while someone
    /// waits (and, briefly, one whose waiter gave up).
    queue: Semaphore,
    max_concurrent: u32,
    queue_timeout: Duration,
    max_queue_len: Option<u32>,
    waiting: AtomicU32,
    rejected: AtomicU64,
}

impl std::fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulkhead")
            .field("name", &self.inner.name)
            .field("max_concurrent", &self.inner.max_concurrent)
            .field("queue_timeout", &self.inner.queue_timeout)
            .field("max_queue_len", &self.inner.max_queue_len)
            .field("available", &self.available())
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

/// A slot in a [`Bulkhead`], released when dropped.
#[must_use = "the slot is released as soon as the permit is dropped"]
pub struct BulkheadPermit<'a> {
    inner: &'a Inner,
}

impl std::fmt::Debug for BulkheadPermit<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkheadPermit")
            .field("bulkhead", &self.inner.name)
            .finish()
    }
}

impl Drop for BulkheadPermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.inner.give_back();
    }
}

// The free count and the waiter count are each written before the other is
// read, both sequentially consistent: a slot given back while a caller starts
// to wait is either seen by that caller or handed to the queue by the giver.
impl Inner {
    #[inline]
    fn take_free(&self) -> bool {
        let mut n = self.free.load(Ordering::SeqCst);
        while n > 0 {
            match self
                .free
                .compare_exchange_weak(n, n - 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(now) => n = now,
            }
        }
        false
    }

    /// A slot without waiting, unless callers are queued (they come first).
    #[inline]
    fn take_now(&self) -> bool {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            return false;
        }
        self.take_free() || self.take_queued()
    }

    /// A slot left in the queue by a waiter that gave up.
    #[cold]
    fn take_queued(&self) -> bool {
        match self.queue.try_acquire() {
            Ok(p) => {
                p.forget();
                true
            }
            Err(_) => false,
        }
    }

    #[inline]
    fn give_back(&self) {
        self.free.fetch_add(1, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.hand_to_queue();
        }
    }

    #[cold]
    fn hand_to_queue(&self) {
        if self.take_free() {
            self.queue.add_permits(1);
        }
    }
}

impl Bulkhead {
    /// Starts building a bulkhead named `name`: 25 slots and no wait by
    /// default (R4J's defaults).
    pub fn builder(name: impl Into<Name>) -> BulkheadBuilder {
        BulkheadBuilder {
            name: name.into(),
            max_concurrent: 25,
            queue_timeout: Duration::ZERO,
            max_queue_len: None,
        }
    }

    /// The bulkhead's name, as rejections report it.
    pub fn name(&self) -> &str {
        self.inner.name.as_str()
    }

    /// The number of slots.
    pub fn max_concurrent(&self) -> u32 {
        self.inner.max_concurrent
    }

    /// Free slots now.
    pub fn available(&self) -> usize {
        self.inner.free.load(Ordering::SeqCst) + self.inner.queue.available_permits()
    }

    /// Calls in flight now.
    pub fn in_flight(&self) -> usize {
        self.inner.max_concurrent as usize - self.available()
    }

    /// Callers waiting for a slot now.
    pub fn waiting(&self) -> u32 {
        self.inner.waiting.load(Ordering::Acquire)
    }

    /// Calls refused since the bulkhead was built.
    pub fn rejected_total(&self) -> u64 {
        self.inner.rejected.load(Ordering::Relaxed)
    }

    /// Whether two handles share one bulkhead.
    pub fn ptr_eq(&self, other: &Bulkhead) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn reject(&self) -> Rejected {
        self.inner.rejected.fetch_add(1, Ordering::Relaxed);
        Rejected::new(self.inner.name.clone(), RejectReason::BulkheadFull, None)
    }

    /// A slot now, or `BulkheadFull` without waiting.
    #[inline]
    pub fn try_acquire(&self) -> Result<BulkheadPermit<'_>, Rejected> {
        match self.try_take() {
            Some(p) => Ok(p),
            None => Err(self.reject()),
        }
    }

    /// A slot free right now, or `None`, without counting a rejection: the
    /// pipeline's fast path, which falls back to [`acquire`](Self::acquire)
    /// when this finds none.
    #[inline]
    pub(crate) fn try_take(&self) -> Option<BulkheadPermit<'_>> {
        self.inner
            .take_now()
            .then(|| BulkheadPermit { inner: &self.inner })
    }

    /// A slot, waiting in FIFO order for at most `queue_timeout` (R51); a
    /// full queue (`max_queue_len`) refuses at once (R54). Dropping the
    /// future gives up the place in the queue and nothing else (R52).
    pub async fn acquire(&self) -> Result<BulkheadPermit<'_>, Rejected> {
        if let Some(p) = self.try_take() {
            return Ok(p);
        }
        if self.inner.queue_timeout.is_zero() {
            return Err(self.reject());
        }
        struct Waiting<'a>(&'a AtomicU32);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let before = self.inner.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.inner.waiting);
        if self.inner.max_queue_len.is_some_and(|max| before >= max) {
            return Err(self.reject());
        }
        // A slot given back since the first look, by a caller that saw no
        // one waiting yet: this caller's if no one was queued before it;
        // otherwise the queue's, which serves the earlier callers first
        // (taking it here would jump the queue, leaving it would strand it).
        if before == 0 {
            if self.inner.take_free() {
                return Ok(BulkheadPermit { inner: &self.inner });
            }
        } else {
            self.inner.hand_to_queue();
        }
        match tokio::time::timeout(self.inner.queue_timeout, self.inner.queue.acquire()).await {
            Ok(Ok(p)) => {
                p.forget(); // the slot is the permit's now, given back to `free`
                Ok(BulkheadPermit { inner: &self.inner })
            }
            // Elapsed: the `Acquire` was dropped, returning any partly assigned permits.
            _ => Err(self.reject()),
        }
    }

    /// Runs `fut` in a slot; a refusal never polls `fut`.
    ///
    /// ```
    /// # use cb_core::Bulkhead;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let pool = Bulkhead::builder("db").max_concurrent(4).build().unwrap();
    /// let rows = pool.call(async { Ok::<_, std::io::Error>(7) }).await.unwrap();
    /// assert_eq!(rows, 7);
    /// # }
    /// ```
    pub async fn call<F, T, E>(&self, fut: F) -> Result<T, Error<E>>
    where
        F: IntoFuture<Output = Result<T, E>>,
    {
        let _permit = self.acquire().await?;
        fut.await.map_err(Error::Inner)
    }
}

/// Builds a [`Bulkhead`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct BulkheadBuilder {
    name: Name,
    max_concurrent: u32,
    queue_timeout: Duration,
    max_queue_len: Option<u32>,
}

impl BulkheadBuilder {
    /// Calls allowed at once (`>= 1`).
    pub fn max_concurrent(mut self, n: u32) -> Self {
        self.max_concurrent = n;
        self
    }
    /// How long a caller may wait for a slot; zero refuses at once when full.
    pub fn queue_timeout(mut self, d: Duration) -> Self {
        self.queue_timeout = d;
        self
    }
    /// Callers allowed to wait at once; more are refused at once (R54).
    pub fn max_queue_len(mut self, n: u32) -> Self {
        self.max_queue_len = Some(n);
        self
    }
    /// Checks every value (R76).
    pub fn build(self) -> Result<Bulkhead, ConfigError> {
        let mut v = Violations::new();
        v.at_least_one("max_concurrent", self.max_concurrent.into());
        const MAX: u64 = (usize::MAX >> 4) as u64;
        if u64::from(self.max_concurrent) > MAX {
            v.push("max_concurrent", self.max_concurrent, format!("must be <= {MAX}"));
        }
        v.finish()?;
        Ok(Bulkhead {
            inner: Arc::new(Inner {
                free: AtomicUsize::new(self.max_concurrent as usize),
                queue: Semaphore::new(0),
                name: self.name,
                max_concurrent: self.max_concurrent,
                queue_timeout: self.queue_timeout,
                max_queue_len: self.max_queue_len,
                waiting: AtomicU32::new(0),
                rejected: AtomicU64::new(0),
            }),
        })
    }
}

/// Named bulkheads shared by several callers: the first caller of a name
/// creates its pool, later callers share it. A [`Named`] registry of
/// bulkheads; [`as_named`](Self::as_named) lists it like any other.
///
/// ```
/// use cb_core::BulkheadPools;
///
/// let pools = BulkheadPools::new();
/// let a = pools.get_or_create("gpu", |b| b.max_concurrent(4))?;
/// let b = pools.get_or_create("gpu", |b| b.max_concurrent(99))?; // already exists
/// assert!(a.ptr_eq(&b));
/// assert_eq!(b.max_concurrent(), 4);
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Debug, Default)]
pub struct BulkheadPools {
    pools: Named<Bulkhead>,
}

impl BulkheadPools {
    /// An empty set of pools.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide pools.
    pub fn global() -> &'static BulkheadPools {
        static GLOBAL: OnceLock<BulkheadPools> = OnceLock::new();
        GLOBAL.get_or_init(BulkheadPools::new)
    }

    /// The pool named `name`, created with `configure` if it does not exist
    /// (once, however many callers ask at the same time).
    pub fn get_or_create(
        &self,
        name: impl Into<Name>,
        configure: impl FnOnce(BulkheadBuilder) -> BulkheadBuilder,
    ) -> Result<Bulkhead, ConfigError> {
        self.pools
            .get_or_try_create(name, |name| configure(Bulkhead::builder(name.clone())).build())
    }

    /// The pool named `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Bulkhead> {
        self.pools.get(name)
    }

    /// The names of every pool, sorted.
    pub fn names(&self) -> Vec<String> {
        self.pools.names()
    }

    /// The pools as a [`Named`] registry, to list or export them with the
    /// same code as any other named handles.
    pub fn as_named(&self) -> &Named<Bulkhead> {
        &self.pools
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r76_zero_concurrency_is_a_config_error() {
        let err = Bulkhead::builder("b").max_concurrent(0).build().unwrap_err();
        assert_eq!(err.violations()[0].field, "max_concurrent");
    }

    #[tokio::test(start_paused = true)]
    async fn r54_a_full_queue_refuses_at_once() {
        let b = Bulkhead::builder("b")
            .max_concurrent(1)
            .queue_timeout(Duration::from_secs(10))
            .max_queue_len(0)
            .build()
            .unwrap();
        let _held = b.try_acquire().unwrap();
        let t = tokio::time::Instant::now();
        assert!(b.acquire().await.is_err());
        assert_eq!(t.elapsed(), Duration::ZERO);
        assert_eq!(b.waiting(), 0);
    }
}
