//! One tier: a downstream option behind its own breaker, with an optional
//! timeout, retry and concurrency limit. The same type describes the tiers
//! of a [`TierChain`](crate::TierChain) and those of a [`Tiered`](crate::Tiered) client.

use std::sync::Arc;
use std::time::Duration;

use cb_core::error::Violations;
use cb_core::random::{Random, SplitMix64};
use cb_core::retry::RetryPolicy;
use cb_core::{BreakerConfig, Bulkhead, CircuitBreaker, ConfigError, Name};

use crate::tier_retry::{Retry, TierRetry};

/// One tier: its breaker (whose name is the tier's name), an optional
/// per-call timeout, an optional per-tier retry and an optional concurrency
/// limit.
///
/// A chain's tier is usually given its breaker ([`Tier::new`]). A
/// [`Tiered`](crate::Tiered) client's tier is usually only named
/// ([`Tier::named`], or a plain name): the client gives each method a
/// breaker of its own, named `"{tier}.{method}"`. That breaker is configured
/// like the tier's breaker if the tier chose a configuration (it was given a
/// breaker, or [`config`](Self::config)). Otherwise it takes the client's
/// configuration.
///
/// ```
/// use cb_core::CircuitBreaker;
/// use cb_tiers::Tier;
/// use std::time::Duration;
///
/// let tier = Tier::new(CircuitBreaker::builder("primary").build()?).timeout(Duration::from_secs(2));
/// assert_eq!(tier.name(), "primary");
/// assert_eq!(Tier::named("replica").name(), "replica");
/// # Ok::<(), cb_core::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Tier {
    pub(crate) breaker: CircuitBreaker,
    config: Choice,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Option<Retry>,
    limit: Option<Limit>,
}

/// Where a tier's breaker configuration comes from.
#[derive(Clone, Debug)]
enum Choice {
    /// The default: a tiered client uses its own configuration.
    Default,
    /// Chosen for this tier: the breaker's.
    Chosen,
    /// Chosen, but invalid: reported when the chain or client is built.
    Invalid(ConfigError),
}

#[derive(Clone, Debug)]
enum Limit {
    /// A pool given by the caller, possibly shared with other tiers.
    Pool(Bulkhead),
    /// A private pool of `n` slots, named after the breaker, or why it could
    /// not be built. A tiered client builds one per method.
    Private(usize, Result<Bulkhead, ConfigError>),
}

impl Tier {
    /// A tier guarded by `breaker`, with no timeout and no retry.
    pub fn new(breaker: CircuitBreaker) -> Self {
        Self {
            breaker,
            config: Choice::Chosen,
            timeout: None,
            retry: None,
            limit: None,
        }
    }

    /// A tier named `name`, with a breaker of the default configuration (or,
    /// in a tiered client, of the client's configuration).
    pub fn named(name: impl Into<Name>) -> Self {
        let name = name.into();
        #[allow(clippy::expect_used)]
        let breaker = CircuitBreaker::builder(name)
            .build()
            .expect("the default configuration is valid");
        Self {
            config: Choice::Default,
            ..Self::new(breaker)
        }
    }

    /// Gives the tier a new breaker of this configuration, under the same
    /// name. An invalid configuration is reported by
    /// [`TierChain::new`](crate::TierChain::new) or
    /// [`TieredBuilder::build`](crate::TieredBuilder::build).
    pub fn config(mut self, config: BreakerConfig) -> Self {
        let name = self.breaker.name_handle().clone();
        match CircuitBreaker::builder(name).config(config).build() {
            Ok(breaker) => {
                self.breaker = breaker;
                self.config = Choice::Chosen;
            }
            Err(e) => self.config = Choice::Invalid(e),
        }
        self
    }

    /// Fails a call of this tier that takes longer than `timeout`: the call
    /// is dropped and counts as a failure of the tier (R55, R56).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Retries failed calls of this tier as `retry` says, before moving on.
    pub fn retry(self, retry: impl TierRetry) -> Self {
        self.retry_shared(Arc::new(retry))
    }

    /// Like [`retry`](Self::retry), sharing a policy between tiers.
    pub fn retry_shared(mut self, retry: Arc<dyn TierRetry>) -> Self {
        self.retry = Some(Retry::Custom(retry));
        self
    }

    /// Retries failed calls of this tier with a cb-core [`RetryPolicy`]. The
    /// rules are those of a pipeline's retry: at most `max_attempts` calls of
    /// the tier (R44), backoff with jitter under the cap (R45), a downstream's
    /// `Retry-After` as the minimum wait, `max_elapsed` from the tier's first
    /// attempt (R50), and the policy's budget, to which each tier call
    /// deposits. Every attempt goes through the tier's breaker. If the breaker
    /// refuses an attempt, the tier ends with its last failure (R48), even if
    /// the policy retries rejections.
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        self.retry_policy_with_random(policy, SplitMix64::from_entropy())
    }

    /// Like [`retry_policy`](Self::retry_policy), drawing jitter from
    /// `random` (give it a fixed start for reproducible delays, R95).
    pub fn retry_policy_with_random(mut self, policy: RetryPolicy, random: impl Random) -> Self {
        self.retry = Some(Retry::Policy {
            policy,
            random: Arc::new(random),
        });
        self
    }

    /// Runs this tier's calls through `bulkhead` (a private or a named,
    /// shared pool). A call that finds no slot within the bulkhead's queue
    /// timeout skips the tier (`skipped_bulkhead_full`, R63) without touching
    /// the breaker's statistics (R53). In a tiered client, every method's
    /// tier shares this pool.
    pub fn bulkhead(mut self, bulkhead: Bulkhead) -> Self {
        self.limit = Some(Limit::Pool(bulkhead));
        self
    }

    /// Admits at most `n` calls of this tier at once, without a queue. It is
    /// a shorthand for [`bulkhead`](Self::bulkhead) with a private pool named
    /// after the tier; in a tiered client, each method has a pool of its own.
    /// `n = 0` is reported by [`TierChain::new`](crate::TierChain::new).
    pub fn max_concurrent(mut self, n: usize) -> Self {
        let slots = u32::try_from(n).unwrap_or(u32::MAX);
        let pool = Bulkhead::builder(self.breaker.name_handle().clone())
            .max_concurrent(slots)
            .build();
        self.limit = Some(Limit::Private(n, pool));
        self
    }

    /// The tier's name: its breaker's name.
    pub fn name(&self) -> &str {
        self.breaker.name()
    }

    /// The tier's breaker.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The per-call timeout, if any.
    pub fn call_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The bulkhead this tier's calls go through, if any.
    pub(crate) fn pool(&self) -> Option<&Bulkhead> {
        match &self.limit {
            Some(Limit::Pool(pool) | Limit::Private(_, Ok(pool))) => Some(pool),
            _ => None,
        }
    }

    /// Whether a tiered client configures this tier's breakers itself
    /// (`None`: with its own configuration), or how.
    pub(crate) fn chosen_config(&self) -> Option<BreakerConfig> {
        match self.config {
            Choice::Default => None,
            Choice::Chosen | Choice::Invalid(_) => Some(self.breaker.config()),
        }
    }

    /// Adds this tier's invalid values to `v`, under `tiers.{name}`.
    pub(crate) fn check(&self, v: &mut Violations) {
        let name = self.name();
        if let Some(d) = self.timeout {
            v.positive(&format!("tiers.{name}.timeout"), d);
        }
        if let Choice::Invalid(e) = &self.config {
            v.extend(e.clone().prefixed(&format!("tiers.{name}")));
        }
        if let Some(Limit::Private(_, Err(e))) = &self.limit {
            v.extend(e.clone().prefixed(&format!("tiers.{name}.bulkhead")));
        }
    }

    /// This tier with `breaker` instead of its own: a tiered client's tier
    /// for one method. A private pool is rebuilt for the new breaker.
    pub(crate) fn with_breaker(&self, breaker: CircuitBreaker) -> Self {
        let tier = Self {
            breaker,
            config: Choice::Chosen,
            timeout: self.timeout,
            retry: self.retry.clone(),
            limit: None,
        };
        match &self.limit {
            Some(Limit::Pool(pool)) => tier.bulkhead(pool.clone()),
            Some(Limit::Private(n, _)) => tier.max_concurrent(*n),
            None => tier,
        }
    }
}

impl From<&'static str> for Tier {
    fn from(name: &'static str) -> Self {
        Tier::named(name)
    }
}

impl From<String> for Tier {
    fn from(name: String) -> Self {
        Tier::named(name)
    }
}
