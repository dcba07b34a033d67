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
        self.policy_retrying_rejections(self.respect_retry_after)
    }

    /// [`RetrySettings::policy`], with whether local rejections are retried
    /// chosen by the caller: a function's `#[retry(retry_rejections = ...)]`
    /// says it in code, where a file says it with `respect_retry_after`.
    pub(crate) fn policy_retrying_rejections(&self, rejections: bool) -> Result<RetryPolicy, ConfigError> {
        let backoff = Backoff::exponential(self.base_delay)
            .multiplier(self.multiplier)
            .max_delay(self.max_delay)
            .jitter(self.jitter)
            .build()
            .map_err(|e| e.prefixed("retry"))?;
        let mut builder = RetryPolicy::builder()
            .max_attempts(self.max_attempts)
            .backoff(backoff)
            .retry_rejections(rejections);
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
        self.build(owner, Pool::Private).map(Some)
    }

    /// The bulkhead of a function's `#[bulkhead]`: on because the function
    /// asked for it, and without an `isolation_pool_name` the process-wide
    /// pool named `owner`, so every function of one breaker shares its slots
    /// as it shares the breaker.
    #[cfg(feature = "macros")]
    pub(crate) fn shared_by_owner(&self, owner: &str) -> Result<Bulkhead, ConfigError> {
        self.build(owner, Pool::Owner)
    }

    fn build(&self, owner: &str, unnamed: Pool) -> Result<Bulkhead, ConfigError> {
        let configure = |b: BulkheadBuilder| {
            let b = b
                .max_concurrent(self.max_concurrent_calls)
                .queue_timeout(self.queue_timeout);
            match self.max_queue_len {
                Some(n) => b.max_queue_len(n),
                None => b,
            }
        };
        let bulkhead = match (&self.isolation_pool_name, unnamed) {
            (Some(pool), _) => BulkheadPools::global().get_or_create(pool.clone(), configure),
            #[cfg(feature = "macros")]
            (None, Pool::Owner) => BulkheadPools::global().get_or_create(owner.to_string(), configure),
            (None, Pool::Private) => configure(Bulkhead::builder(owner.to_string())).build(),
        };
        bulkhead.map_err(|e| e.prefixed("bulkhead"))
    }
}

/// Where a bulkhead without an `isolation_pool_name` gets its slots.
#[derive(Debug, Clone, Copy)]
enum Pool {
    /// Its own.
    Private,
    /// The process-wide pool named after its owner.
    #[cfg(feature = "macros")]
    Owner,
}

impl Settings {
    /// A pipeline builder with every configured stage around `breaker`: retry
    /// (when `max_attempts > 1`), the per-call timeout and the bulkhead (when
    /// their sections are enabled). Add a rescue or classifier, then build.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "macros")]
    #[test]
    fn a_functions_bulkhead_is_shared_by_its_breaker_name_and_a_files_is_private() {
        let s = BulkheadSettings {
            enabled: true,
            max_concurrent_calls: 2,
            ..BulkheadSettings::default()
        };
        let owner = "config-policies-shared-owner";
        let a = s.shared_by_owner(owner).unwrap();
        assert!(a.ptr_eq(&s.shared_by_owner(owner).unwrap()));
        assert!(a.ptr_eq(&BulkheadPools::global().get(owner).unwrap()));
        assert_eq!(a.max_concurrent(), 2);
        let private = s.bulkhead(owner).unwrap().unwrap();
        assert!(!private.ptr_eq(&a));
        let off = BulkheadSettings::default();
        assert!(off.bulkhead(owner).unwrap().is_none());
    }

    #[test]
    fn retry_rejections_come_from_the_caller_or_from_respect_retry_after() {
        let s = RetrySettings {
            respect_retry_after: true,
            ..RetrySettings::default()
        };
        assert!(s.policy().unwrap().retries_rejections());
        assert!(!s.policy_retrying_rejections(false).unwrap().retries_rejections());
    }

    /// A policy built in code and one built from a file's section that
    /// leaves every field at its default are the same policy: the two kinds
    /// of defaults are one set of numbers.
    #[test]
    fn retry_settings_defaults_are_the_builders_defaults() {
        let from_settings = RetrySettings::default().policy().unwrap();
        let from_code = RetryPolicy::builder().build().unwrap();
        assert_eq!(from_settings.max_attempts(), from_code.max_attempts());
        assert_eq!(from_settings.backoff(), from_code.backoff());
        assert_eq!(from_settings.max_elapsed(), from_code.max_elapsed());
        assert_eq!(from_settings.retries_rejections(), from_code.retries_rejections());
    }

    #[test]
    fn bulkhead_settings_defaults_are_the_builders_defaults() {
        let on = BulkheadSettings {
            enabled: true,
            ..BulkheadSettings::default()
        };
        let from_settings = on.bulkhead("defaults").unwrap().unwrap();
        let from_code = Bulkhead::builder("defaults").build().unwrap();
        assert_eq!(format!("{from_settings:?}"), format!("{from_code:?}"));
    }
}
