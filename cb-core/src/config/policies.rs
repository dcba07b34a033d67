//! From configured settings to the runtime policies: the retry, bulkhead and
//! call-timeout sections of a file become a [`RetryPolicy`], a [`Bulkhead`]
//! and a [`Pipeline`] stage, so a file configures the whole pipeline and not
//! only its breaker.

use super::settings::{BulkheadSettings, RetrySettings, Settings};
use crate::CircuitBreaker;
use crate::bulkhead::{Bulkhead, BulkheadBuilder, BulkheadPools};
use crate::error::{ConfigError, Name};
use crate::pipeline::{Pipeline, PipelineBuilder};
use crate::retry::{Backoff, RetryPolicy};

impl RetrySettings {
    /// The retry policy these settings describe: exponential backoff from
    /// `base_delay` by `multiplier`, capped at `max_delay`, jittered,
    /// `max_attempts` in all (the first call included), within `max_elapsed`.
    /// `respect_retry_after` opts in to retrying local rejections after their
    /// `retry_after` (R48).
    ///
    /// ```
    /// use cb_core::config::RetrySettings;
    /// use std::time::Duration;
    ///
    /// let settings = RetrySettings { max_attempts: 4, ..RetrySettings::default() };
    /// let policy = settings.policy()?;
    /// assert_eq!(policy.max_attempts(), 4);
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn policy(&self) -> Result<RetryPolicy, ConfigError> {
        let backoff = Backoff::exponential(self.base_delay)
            .multiplier(self.multiplier)
            .max_delay(self.max_delay)
            .jitter(self.jitter)
            .build()
            .map_err(|e| e.prefixed("retry"))?;
        let mut builder = RetryPolicy::builder()
            .max_attempts(self.max_attempts)
            .backoff(backoff)
            .retry_rejections(self.respect_retry_after);
        if let Some(limit) = self.max_elapsed {
            builder = builder.max_elapsed(limit);
        }
        builder.build().map_err(|e| e.prefixed("retry"))
    }
}

impl BulkheadSettings {
    /// The bulkhead these settings describe, or `None` when the section is
    /// disabled. With an `isolation_pool_name` the bulkhead is the process-wide
    /// pool of that name, shared by every breaker that names it (created by the
    /// first one with these limits); otherwise it is private, named `owner`.
    pub fn bulkhead(&self, owner: &str) -> Result<Option<Bulkhead>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let configure = |b: BulkheadBuilder| {
            let b = b
                .max_concurrent(self.max_concurrent_calls)
                .queue_timeout(self.queue_timeout);
            match self.max_queue_len {
                Some(n) => b.max_queue_len(n),
                None => b,
            }
        };
        let bulkhead = match &self.isolation_pool_name {
            Some(pool) => BulkheadPools::global().get_or_create(pool.clone(), configure),
            None => configure(Bulkhead::builder(owner.to_string())).build(),
        };
        bulkhead.map(Some).map_err(|e| e.prefixed("bulkhead"))
    }
}

impl Settings {
    /// A pipeline builder with every configured stage around `breaker`: retry
    /// (when `max_attempts > 1`), the per-call timeout and the bulkhead (when
    /// their sections are enabled). Add a fallback or classifier, then build.
    ///
    /// ```
    /// use cb_core::config::{ConfigLayers, Environment, Overrides};
    /// use cb_core::CircuitBreaker;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), cb_core::ConfigError> {
    /// let layers = ConfigLayers::new(Environment::Production);
    /// let settings = layers.resolve_settings("search", &Overrides::new().template("external_api"))?;
    /// let breaker = CircuitBreaker::builder("search").config(settings.breaker_config()).build()?;
    /// let pipeline = settings.pipeline::<u32, std::io::Error>("search", breaker)?.build()?;
    /// assert_eq!(pipeline.call(|| async { Ok(7) }).await.unwrap(), 7);
    /// # Ok(()) }
    /// ```
    pub fn pipeline<T, E>(
        &self,
        name: impl Into<Name>,
        breaker: CircuitBreaker,
    ) -> Result<PipelineBuilder<T, E>, ConfigError> {
        let name = name.into();
        let mut builder = Pipeline::builder(name.clone()).breaker(breaker);
        let mut problems = Vec::new();
        if self.retry.max_attempts > 1 {
            match self.retry.policy() {
                Ok(policy) => builder = builder.retry(policy),
                Err(e) => problems.extend(e.into_violations()),
            }
        }
        if self.call_timeout.enabled {
            builder = builder.timeout(self.call_timeout.duration);
        }
        match self.bulkhead.bulkhead(&name) {
            Ok(Some(b)) => builder = builder.bulkhead(b),
            Ok(None) => {}
            Err(e) => problems.extend(e.into_violations()),
        }
        if problems.is_empty() {
            Ok(builder)
        } else {
            Err(ConfigError::new(problems))
        }
    }
}
