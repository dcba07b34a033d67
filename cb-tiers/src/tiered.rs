//! Tiered clients: one implementation of your trait per tier, one breaker per
//! tier and method.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use cb_core::config::LiveConfig;
use cb_core::error::Violations;
use cb_core::{
    BreakerConfig, CircuitBreaker, CircuitBreakerBuilder, Classifier, ConfigError, Name, Registry,
};

use crate::chain::{Served, TierChain};
use crate::error::ChainError;
use crate::tier::Tier;

type Customize = Arc<dyn Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder + Send + Sync>;

/// Builds a [`Tiered`] client; [`build`](Self::build) reports every problem at once.
#[must_use = "a builder does nothing until `build` is called"]
pub struct TieredBuilder<S> {
    services: S,
    tiers: Vec<Tier>,
    methods: Vec<Name>,
    config: BreakerConfig,
    /// Whether `breaker_config` was called: code wins over the layers.
    explicit_config: bool,
    registry: Option<&'static Registry>,
    customize: Option<Customize>,
}

impl<S> fmt::Debug for TieredBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TieredBuilder")
            .field("tiers", &self.tiers)
            .field("methods", &self.methods)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S> TieredBuilder<S> {
    /// Adds a tier, after those already added: a name, or a [`Tier`] with
    /// its own configuration, timeout, retry or concurrency limit.
    pub fn tier(mut self, tier: impl Into<Tier>) -> Self {
        self.tiers.push(tier.into());
        self
    }

    /// Adds a method; methods are numbered from 0 in the order added.
    pub fn method(mut self, name: impl Into<Name>) -> Self {
        self.methods.push(name.into());
        self
    }

    /// Adds several methods, in order.
    pub fn methods<N: Into<Name>>(mut self, names: impl IntoIterator<Item = N>) -> Self {
        self.methods.extend(names.into_iter().map(Into::into));
        self
    }

    /// The breaker configuration of tiers that have none of their own.
    pub fn breaker_config(mut self, config: BreakerConfig) -> Self {
        self.config = config;
        self.explicit_config = true;
        self
    }

    /// Registers every breaker in `registry` under its name
    /// `"{tier}.{method}"`, where snapshots, metrics and configuration reloads
    /// find it. A breaker without a configuration of its own (per tier, or
    /// [`breaker_config`](Self::breaker_config)) gets the one `registry`
    /// resolves for its name (its [`ConfigSource`](cb_core::ConfigSource)).
    /// A breaker already registered under that name is shared, not rebuilt.
    pub fn in_registry(mut self, registry: &'static Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// [`in_registry`](Self::in_registry) with [`Registry::global`], whose
    /// configuration comes from every layer of [`LiveConfig::global`]
    /// (templates, `CB_ENVIRONMENT`, files, `CIRCUIT_BREAKER_*` variables),
    /// so a tier's breaker is configured like a `#[circuit_breaker]`'s: by name.
    ///
    /// ```
    /// # use cb_tiers::Tiered;
    /// let client = Tiered::builder(())
    ///     .tier("docs-primary")
    ///     .method("get")
    ///     .in_global_registry()
    ///     .build()?;
    /// assert!(cb_core::Registry::global().get("docs-primary.get").is_some());
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn in_global_registry(self) -> Self {
        // Installs the layered configuration as the global registry's source.
        let _ = LiveConfig::global();
        self.in_registry(Registry::global())
    }

    /// Adjusts every breaker's builder before it is built: a clock, listeners...
    ///
    /// ```
    /// # use cb_tiers::Tiered;
    /// use cb_core::clock::ManualClock;
    /// let clock = ManualClock::new();
    /// let client = Tiered::builder(())
    ///     .tier("a")
    ///     .method("get")
    ///     .configure(move |b| b.clock(clock.clone()))
    ///     .build()?;
    /// # Ok::<(), cb_core::ConfigError>(())
    /// ```
    pub fn configure(
        mut self,
        f: impl Fn(CircuitBreakerBuilder) -> CircuitBreakerBuilder + Send + Sync + 'static,
    ) -> Self {
        self.customize = Some(Arc::new(f));
        self
    }

    /// Validates (at least one tier and one method, unique names, valid
    /// breaker configurations) and builds one breaker per tier and method,
    /// named `"{tier}.{method}"`.
    pub fn build(self) -> Result<Tiered<S>, ConfigError> {
        let mut v = Violations::new();
        if self.tiers.is_empty() {
            v.push("tiers", "[]", "must list at least one tier");
        }
        if self.methods.is_empty() {
            v.push("methods", "[]", "must list at least one method");
        }
        for (i, t) in self.tiers.iter().enumerate() {
            if self.tiers[..i].iter().any(|u| u.name() == t.name()) {
                v.push(format!("tiers[{i}].name"), t.name(), "must be unique");
            }
            if t.name().contains('.') {
                v.push(format!("tiers[{i}].name"), t.name(), "must not contain `.`");
            }
            t.check(&mut v);
            if t.chosen_config().is_none()
                && let Err(e) = self.config.validate()
            {
                v.extend(e.prefixed(&format!("tiers.{}", t.name())));
            }
        }
        for (i, m) in self.methods.iter().enumerate() {
            if self.methods[..i].contains(m) {
                v.push(format!("methods[{i}]"), m, "must be unique");
            }
        }
        v.finish()?;

        let mut methods = Vec::with_capacity(self.methods.len());
        let mut problems = Violations::new();
        for method in &self.methods {
            let mut tiers = Vec::with_capacity(self.tiers.len());
            for t in &self.tiers {
                let name = format!("{}.{}", t.name(), method);
                let explicit = t
                    .chosen_config()
                    .or_else(|| self.explicit_config.then(|| self.config.clone()));
                let customize = |b: CircuitBreakerBuilder| match &self.customize {
                    Some(f) => f(b),
                    None => b,
                };
                let breaker = match self.registry {
                    Some(registry) => {
                        let config = match explicit {
                            Some(c) => c,
                            None => match registry.resolve(&name) {
                                Ok(c) => c,
                                Err(e) => {
                                    problems.extend(e.prefixed(&name));
                                    continue;
                                }
                            },
                        };
                        registry.get_or_create(name, |b| customize(b.config(config)))?
                    }
                    None => customize(
                        CircuitBreaker::builder(name).config(explicit.unwrap_or_else(|| self.config.clone())),
                    )
                    .build()?,
                };
                tiers.push(t.with_breaker(breaker));
            }
            if problems.is_empty() {
                methods.push((method.clone(), TierChain::new(tiers)?));
            }
        }
        problems.finish()?;
        Ok(Tiered {
            services: self.services,
            tiers: self
                .tiers
                .iter()
                .map(|t| t.breaker().name_handle().clone())
                .collect(),
            methods: methods.into(),
        })
    }
}

/// A tiered client: your implementations of one trait, tried in order per
/// method, with one breaker per tier and method.
///
/// This is the runtime `#[tiered]` generates code for; by hand, keep the
/// implementations in `S` (a tuple, an array, a struct) and say how to call
/// tier `i`:
///
/// ```
/// use cb_tiers::Tiered;
///
/// trait Ai {
///     async fn ask(&self, prompt: &str) -> Result<String, std::io::Error>;
/// }
/// struct Claude;
/// struct Local;
/// impl Ai for Claude {
///     async fn ask(&self, _: &str) -> Result<String, std::io::Error> { Err(std::io::Error::other("overloaded")) }
/// }
/// impl Ai for Local {
///     async fn ask(&self, prompt: &str) -> Result<String, std::io::Error> { Ok(format!("local: {prompt}")) }
/// }
///
/// const ASK: usize = 0;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Tiered::builder((Claude, Local)).tier("claude").tier("local").method("ask").build()?;
///
/// let (claude, local) = client.services();
/// let served = client
///     .call(ASK, |tier| async move {
///         match tier {
///             0 => claude.ask("hi").await,
///             _ => local.ask("hi").await,
///         }
///     })
///     .await?;
/// assert_eq!(served.value, "local: hi");
/// assert_eq!(served.name, "local.ask");
/// assert_eq!(client.breaker("claude", "ask").unwrap().metrics().calls.failures, 1);
/// # Ok(()) }
/// ```
pub struct Tiered<S> {
    services: S,
    tiers: Box<[Name]>,
    methods: Box<[(Name, TierChain)]>,
}

impl<S> fmt::Debug for Tiered<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tiered")
            .field("tiers", &self.tiers)
            .field("methods", &self.methods)
            .finish_non_exhaustive()
    }
}

impl<S> Tiered<S> {
    /// Starts building a client over `services`.
    pub fn builder(services: S) -> TieredBuilder<S> {
        TieredBuilder {
            services,
            tiers: Vec::new(),
            methods: Vec::new(),
            config: BreakerConfig::default(),
            explicit_config: false,
            registry: None,
            customize: None,
        }
    }

    /// The implementations, one per tier.
    pub fn services(&self) -> &S {
        &self.services
    }

    /// The tier names, in order.
    pub fn tier_names(&self) -> &[Name] {
        &self.tiers
    }

    /// The method names, in index order.
    pub fn method_names(&self) -> impl Iterator<Item = &str> {
        self.methods.iter().map(|(m, _)| m.as_str())
    }

    /// The index of the method named `name`.
    pub fn method_index(&self, name: &str) -> Option<usize> {
        self.methods.iter().position(|(m, _)| m == name)
    }

    /// The tier chain of method `index`.
    pub fn chain(&self, index: usize) -> Option<&TierChain> {
        self.methods.get(index).map(|(_, c)| c)
    }

    /// The breaker of `tier` for `method`.
    pub fn breaker(&self, tier: &str, method: &str) -> Option<&CircuitBreaker> {
        let t = self.tiers.iter().position(|n| n == tier)?;
        let chain = self.chain(self.method_index(method)?)?;
        chain.tiers().get(t).map(Tier::breaker)
    }

    /// Every breaker, method by method, tier by tier.
    pub fn breakers(&self) -> impl Iterator<Item = &CircuitBreaker> {
        self.methods
            .iter()
            .flat_map(|(_, c)| c.tiers().iter().map(Tier::breaker))
    }

    /// Calls method `index` through its tier chain; `call(tier)` runs the
    /// method on tier `tier`'s implementation.
    pub async fn call<T, E, F, Fut>(&self, index: usize, call: F) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        match self.chain(index) {
            Some(chain) => chain.call(call).await,
            None => Err(ChainError::UnknownMethod { index }),
        }
    }

    /// Like [`call`](Self::call), with a classifier (R4).
    pub async fn call_with<T, E, F, Fut, C>(
        &self,
        index: usize,
        call: F,
        classifier: &C,
    ) -> Result<Served<T>, ChainError<E>>
    where
        F: FnMut(usize) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classifier<T, E> + ?Sized,
    {
        match self.chain(index) {
            Some(chain) => chain.call_with(call, classifier).await,
            None => Err(ChainError::UnknownMethod { index }),
        }
    }
}
