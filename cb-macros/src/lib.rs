//! Procedural macros for the `cb` resilience SDK.
//!
//! **Do not depend on this crate directly.** `cb-core` re-exports
//! [`circuit_breaker`], [`retry`], [`bulkhead`], [`timeout`], [`template!`]
//! and [`Classify`](derive@Classify) (feature `macros`, on by default);
//! `cb-tiers` re-exports those and adds [`fallback`] and [`tiered`]. The
//! expansions name the runtime through `::cb_core::__private` and
//! `::cb_tiers::__private`; if you renamed the dependency, say so with
//! `crate = "my_name"`.
//!
//! | you write | depend on |
//! |---|---|
//! | `#[circuit_breaker]`, `#[retry]`, `#[bulkhead]`, `#[timeout]`, `template!`, `#[derive(Classify)]` | `cb-core` |
//! | `#[fallback(..)]`, `#[tiered]` (and all of the above) | `cb-tiers` alone: their expansions reach `cb-core` through `::cb_tiers::__private` |
//!
//! Every mistake the macros can see is a compile error at the smallest wrong
//! token, and the function is still emitted so one mistake does not cascade.

mod breaker;
mod classify;
mod common;
mod template;
mod tiered;

use proc_macro::TokenStream;

/// Wraps a function in a named circuit breaker, created once and registered
/// in `cb_core::Registry::global()` under its name.
///
/// ```
/// use cb_core::circuit_breaker;
/// use cb_core::rescue::Cause;
///
/// #[derive(Debug)]
/// struct AiError;
///
/// #[circuit_breaker(name = "claude", template = "ai_provider", environment = "production",
///                   failure_threshold = 2, open_duration = "30s", rescue = cached_answer)]
/// async fn ask_claude(prompt: &str) -> Result<String, AiError> {
///     Err(AiError) // the provider is down
/// }
///
/// fn cached_answer(cause: &Cause<'_, AiError>) -> Result<String, AiError> {
///     Ok(format!("a cached answer ({:?})", cause.kind()))
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// // ask_claude now returns Result<String, cb_core::Error<AiError>>. The
/// // template retries (3 attempts): two failures trip the breaker, which
/// // refuses the third attempt, and the rescue answers.
/// let answer: Result<String, cb_core::Error<AiError>> = ask_claude("hi").await;
/// assert_eq!(answer.unwrap(), "a cached answer (Refused(CircuitOpen))");
/// let breaker = cb_core::Registry::global().get("claude").unwrap();
/// assert_eq!(breaker.config().failure_threshold, Some(2));
/// # }
/// ```
///
/// # Where it goes
///
/// `async fn` and plain `fn`; free functions and methods (`&self`, `self`,
/// generics, `impl Trait` arguments and `impl Trait` inside `Result`);
/// `#[async_trait]` methods (put `#[circuit_breaker]` on the method inside the
/// `#[async_trait] impl`). Anything else (a struct, a `const fn`, a trait
/// method without a body, a function not returning `Result<T, E>`) is a
/// compile error that says so.
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `name = "claude"` | the breaker's name: in the registry, metrics, files (`instances.claude`) and variables (`CIRCUIT_BREAKER_CLAUDE_*`). Default: `module::path::function`. Methods with the same name in one module share a breaker unless named. |
/// | `template = "ai_provider"` | the whole policy of a built-in template (`default`, `ai_provider`, `database`, `mcp_server`, `external_api`, or a per-service preset built on those: `claude`, `gpt4`, `gemini`, `deepseek`, `groq`, `ollama`, `huggingface`, `docker`, `kubernetes`, `desktop_commander`, `prometheus`, `slack`, `s3`, `security_scanner`), or the path of a [`template!`] constant: `template = PAYMENTS`. Every stage the resolved configuration enables runs (see Stages from the configuration) |
/// | `environment = "production"` | pins the environment for this breaker (`development`, `staging`, `production`, `testing`); default: `CB_ENVIRONMENT` |
/// | any breaker field, e.g. `failure_threshold = 2`, `failure_rate_threshold = 0.4`, `open_duration = "30s"` | an override with the canonical names, units and ranges of configuration files: **rates are fractions** in (0, 1] (0.4 is 40 %), **durations are strings** (`"500ms"`, `"30s"`, `"2m"`). The files' and variables' other names (`timeout`, `recovery_timeout`, `fail_max`, ...) are compile errors naming the canonical field |
/// | `call_timeout = "10s"` | a per-call deadline (same as `#[timeout("10s")]`) |
/// | `retry(..)`, `bulkhead(..)` | the stages of `#[retry]` / `#[bulkhead]`, written inline |
/// | `retry = false`, `call_timeout = false`, `bulkhead = false` | switch off a stage the configuration enables (see below) |
/// | `classify(failure = ["5xx"], excluded = ["NotFound", "timeout"])` | error kinds the breaker counts as failures or excluded over the error type's own classification, excluded first: `Classify` variant names as written (case-sensitive), `timeout` (the call-timeout stage's expiry), HTTP statuses (`404`) and classes (`4xx`). Like any field, files, variables and updates at run time may change them (`cb_core::classify::by_name`) |
/// | `rescue = path` | a function `fn(&Cause<'_, E>) -> Result<T, E>` run when the call is refused, fails or times out (not for errors classified as excluded), at most once (R58–R60) |
/// | `error = from` | keep the declared `Result<T, E>`; `E` must implement `From<cb_core::Error<E>>` |
/// | `crate = "my_cb"` | the path of `cb-core` if you renamed it |
///
/// Configuration resolves at the first call through every layer — built-in
/// defaults, template, environment, file, environment variables, then these
/// arguments — so files and variables still apply, and
/// `LiveConfig::update` changes the breaker at run time.
///
/// Arguments refine the template; they cannot contradict it. The rules
/// between fields that configuration files meet (a call timeout above the
/// slow-call threshold, a retry's base delay at most its maximum, a bulkhead
/// queue wait below the call timeout, ...) are checked at compile time over
/// the arguments on top of the template's values, in every environment: a
/// built-in template's by the macro, a [`template!`] constant's by const
/// evaluation. A mistake is an error at the argument naming the template's
/// value, where it would otherwise be refused at run time:
///
/// ```compile_fail
/// # use cb_core::circuit_breaker;
/// # #[derive(Debug)] struct AiError;
/// // ai_provider counts calls over 30 s as slow: a 20 s deadline never lets one.
/// #[circuit_breaker(template = "ai_provider", call_timeout = "20s")]
/// async fn ask(prompt: String) -> Result<String, AiError> { Ok(prompt) }
/// # fn main() {}
/// ```
///
/// # Stages from the configuration
///
/// What the resolved configuration enables, the function gets, in the R61
/// order (rescue ∘ retry ∘ breaker ∘ timeout ∘ bulkhead), whether it comes
/// from the template, a file, variables or the arguments: a call timeout when
/// `call_timeout.enabled`, a bulkhead when `bulkhead.enabled`, and retries
/// when `retry.max_attempts > 1` is set by any layer above the built-in
/// defaults (the defaults' 3 attempts are what `#[retry]` starts from; a
/// function that names nothing is not retried). `template = "ai_provider"`
/// alone thus means a 60 s call timeout, 3 attempts and a 20-call bulkhead,
/// as `explain` and `cb_core::registry::declared()` report. Stages resolve
/// at the first call; later updates change the breaker, not the stages.
///
/// `retry = false`, `call_timeout = false` or `bulkhead = false` switch a
/// stage off whatever the configuration says.
///
/// Retrying runs the body again, so each attempt gets a clone of every
/// argument. A function whose body cannot run twice (an argument that is a
/// pattern or not `Clone`, `self` by value) runs its other stages, and a
/// retry its configuration enables is left out and reported once: logged
/// and listed by `cb_core::registry::config_errors()` under the breaker's
/// name (write `retry = false` to say so). The stages need one `static`
/// pipeline per function, so a blocking `fn`, a generic one, an
/// `#[async_trait]` method, a tier chain, or a `Result` whose types name a
/// reference, a lifetime, `impl Trait` or `Self` gets the breaker alone, and
/// the stages its configuration enables are reported the same way.
///
/// # Its sibling attributes
///
/// `#[retry]`, `#[bulkhead]`, `#[timeout]` and `#[fallback]` on the same
/// function fold into it when written bare (imported), as
/// `cb_core::retry` / `cb_tiers::fallback`, or under the path given with
/// `crate = "..."`. An attribute of another crate whose path ends the same
/// way, such as `#[ntest::timeout(100)]`, is left on the function for that
/// crate.
///
/// # Return type
///
/// By default `Result<T, E>` becomes `Result<T, cb_core::Error<E>>`: the
/// caller sees whether the call was rejected (and `retry_after`), timed out,
/// or failed with the body's own `E` (`Error::Inner`), and rustdoc shows the
/// real type. With `error = from` the signature is kept and `Error<E>`
/// converts into `E` (what a trait implementation whose trait declares
/// `Result<T, E>` needs). A function not returning `Result<T, E>`, or
/// returning a `Result<T>` alias, is a compile error.
///
/// # Classification
///
/// If `E` implements [`Classify`](derive@Classify), its `outcome()` decides
/// what counts as a failure; otherwise every `Err` is a failure.
///
/// # When the configuration is invalid at run time
///
/// Arguments are checked at compile time, but the environment, files and
/// variables are read at run time. If they make the breaker invalid, the
/// call does not fail and nothing panics: the error is logged once with
/// `tracing` (level error) and listed by `cb_core::registry::config_errors()`,
/// and the breaker runs on its template and declared arguments over the
/// built-in layers (never on the library's defaults). When the configuration
/// is repaired (`cb_core::config::install_global`, `LiveConfig::update`, a
/// reload), the breaker resolves through every layer again, template and
/// arguments included. Its per-attempt stages (retry, call timeout,
/// bulkhead) are decided at the function's first call.
///
/// # One name, two functions
///
/// Two functions may share a breaker by naming it alike with the same
/// settings. With different settings, two functions of one crate are a
/// compile error naming the other's place; across crates the first
/// declaration (by file, then line) applies to both, and the conflict is
/// logged once and listed by `config_errors()` with both call sites.
///
/// # What it expands to
///
/// ```text
/// async fn ask_claude(prompt: &str) -> Result<String, ::cb_core::Error<AiError>> {
///     // one entry in cb_core::registry::declared(), before any call
///     ::cb_core::__private::inventory::submit! { Declared::__new("claude", ..) }
///     static __CB_BREAKER: OnceLock<CircuitBreaker> = OnceLock::new();
///     let __cb_breaker = __CB_BREAKER.get_or_init(|| resolve_breaker("claude", overrides, None));
///     let __cb_result = __cb_breaker
///         .call_with(async move { let __cb_ret: Result<String, AiError> = { /* body */ }; __cb_ret },
///                    &classifier)
///         .await;
///     let __cb_result = run_rescue(__cb_result, __cb_breaker, &classifier, cached_answer);
///     __cb_result
/// }
/// ```
///
/// One static per function, resolved once: a call costs what the
/// hand-written `breaker.call(..)` costs (no allocation, no registry lookup).
/// Shown is the breaker-only form (a blocking or generic function, or every
/// stage switched off); otherwise the static is a `cb_core::Pipeline` in the
/// R61 order, built at the first call with the stages the resolved
/// configuration enables, and the arguments are cloned per attempt only when
/// it retries.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    breaker::expand(args.into(), item.into()).into()
}

/// Retries a `#[circuit_breaker]` function (R44–R50); each attempt passes
/// through the breaker (R61: rescue ∘ retry ∘ breaker ∘ timeout ∘ bulkhead,
/// whatever order the attributes are written in).
///
/// ```
/// use cb_core::{circuit_breaker, retry};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[derive(Debug)]
/// struct ApiError;
/// static CALLS: AtomicU32 = AtomicU32::new(0);
///
/// #[circuit_breaker(name = "rates", template = "external_api")]
/// #[retry(max_attempts = 3, base_delay = "100ms", max_elapsed = "10s")]
/// async fn get_rates(currency: String) -> Result<String, ApiError> {
///     // fails twice, then answers
///     if CALLS.fetch_add(1, Ordering::SeqCst) < 2 { Err(ApiError) } else { Ok(format!("{currency}: 1.08")) }
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert_eq!(get_rates("EUR".into()).await.unwrap(), "EUR: 1.08");
/// assert_eq!(CALLS.load(Ordering::SeqCst), 3);
/// # }
/// ```
///
/// Arguments: the `retry` section of the configuration — `max_attempts`,
/// `base_delay`, `multiplier`, `max_delay`, `jitter` (`"none"`, `"full"`,
/// `"equal"`, `"decorrelated"` or a factor), `max_elapsed`,
/// `respect_retry_after` — plus `retry_rejections = true` (retry calls the
/// breaker refused; only together with `respect_retry_after = true`).
/// Values not given come from the template, environment, file and variables;
/// `#[retry]` alone takes them all from there. A template, file or variable
/// that sets `retry.max_attempts` retries the function even without this
/// attribute (see `#[circuit_breaker]`); `retry = false` switches that off.
/// Each attempt gets a clone of every argument, so the function needs plain
/// argument names and `Clone` arguments; it must be an `async fn` that is not
/// generic (the pipeline is one static). Compile errors: a retry on an
/// `ai_provider` without `max_elapsed`, `max_delay` below `base_delay`,
/// retrying rejections without `respect_retry_after`.
///
/// # What it expands to
///
/// Its arguments move into the `#[circuit_breaker]` on the same function as
/// `retry(..)`, whose expansion builds a static `Pipeline` with a retry stage.
/// Alone it is an error: it needs the breaker.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    breaker::absorb("retry", args.into(), item.into()).into()
}

/// Limits how many calls of a `#[circuit_breaker]` function run at once
/// (R51–R54). A full bulkhead rejects with `Error::Rejected` (`bulkhead_full`),
/// which the breaker does not count (R53).
///
/// ```
/// use cb_core::{bulkhead, circuit_breaker};
///
/// #[derive(Debug)]
/// struct DbError;
///
/// #[circuit_breaker(name = "orders", template = "database")]
/// #[bulkhead(max_concurrent_calls = 10, queue_timeout = "50ms")]
/// async fn load_order(id: u64) -> Result<String, DbError> {
///     Ok(format!("order {id}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(load_order(7).await.unwrap(), "order 7");
/// # }
/// ```
///
/// Arguments: `max_concurrent_calls`, `queue_timeout` (`"0s"`: reject at
/// once), `max_queue_len`, `isolation_pool_name` (functions naming one pool
/// share its slots). Like [`retry`], it needs a non-generic `async fn`.
/// `#[bulkhead]` alone takes every value from the configuration; a template,
/// file or variable with `bulkhead.enabled` applies it even without this
/// attribute, and `bulkhead = false` switches that off.
///
/// # What it expands to
///
/// `bulkhead(..)` inside the `#[circuit_breaker]` on the same function: a
/// bulkhead stage inside the breaker and the timeout of its static pipeline.
#[proc_macro_attribute]
pub fn bulkhead(args: TokenStream, item: TokenStream) -> TokenStream {
    breaker::absorb("bulkhead", args.into(), item.into()).into()
}

/// A per-call deadline for a `#[circuit_breaker]` function (R55–R57): a call
/// that takes longer is dropped and returns `Error::Timeout`, and the breaker
/// counts it as a failure.
///
/// ```
/// use cb_core::{circuit_breaker, timeout};
/// use std::time::Duration;
///
/// #[derive(Debug)]
/// struct AiError;
///
/// #[circuit_breaker(name = "slow-ai", template = "ai_provider")]
/// #[timeout("45s")] // above the template's 30 s slow-call threshold
/// async fn ask(prompt: String) -> Result<String, AiError> {
///     tokio::time::sleep(Duration::from_secs(120)).await; // hangs
///     Ok(prompt)
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// assert!(ask("hi".into()).await.unwrap_err().is_timeout());
/// # }
/// ```
///
/// The argument is a duration string (or `duration = "20s"`); `#[timeout]`
/// alone turns the call timeout on with the resolved duration (template,
/// file, variables). A template, file or variable that enables the call
/// timeout applies it even without this attribute; `call_timeout = false`
/// switches that off. Not to be
/// confused with the breaker argument `timeout = "30s"`, which (as in files)
/// is how long the circuit stays open. A `slow_call_duration_threshold` not
/// below it is a compile error, whether written as an argument or set by the
/// template (`#[timeout("20s")]` under `ai_provider`, whose calls count as
/// slow after 30 s, is refused), and so is a bulkhead queue wait not below it.
///
/// # What it expands to
///
/// `call_timeout("45s")` inside the `#[circuit_breaker]` on the same function.
#[proc_macro_attribute]
pub fn timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    breaker::absorb("timeout", args.into(), item.into()).into()
}

/// Tiers: the annotated function is tier 1, then each listed function in
/// order; a tier whose circuit is open is skipped without a call, and when
/// all fail the error lists every tier and why (`cb_tiers::ChainError`).
/// From `cb-tiers`.
///
/// ```
/// use cb_tiers::{ChainError, circuit_breaker, fallback};
///
/// #[derive(Debug)]
/// struct AiError;
///
/// #[fallback(ask_gpt, ask_local)]          // ask_claude is tier 1
/// #[circuit_breaker(name = "tiers.claude", template = "ai_provider")]
/// async fn ask_claude(prompt: &str) -> Result<String, AiError> {
///     Err(AiError)
/// }
///
/// async fn ask_gpt(_prompt: &str) -> Result<String, AiError> {
///     Err(AiError)
/// }
///
/// async fn ask_local(prompt: &str) -> Result<String, AiError> {
///     Ok(format!("local: {prompt}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // ask_claude returns Result<String, cb_tiers::ChainError<AiError>>.
/// let answer: Result<String, ChainError<AiError>> = ask_claude("hi").await;
/// assert_eq!(answer.unwrap(), "local: hi");
/// # }
/// ```
///
/// Each listed path is an `async fn` taking the same arguments (after `self`
/// for methods: `#[fallback(Self::backup)]`) and returning the same
/// `Result<T, E>`; a tier that does not is a compile error at its path:
/// ``tier `ask_gpt` must take the same arguments and return the same
/// `Result<String, AiError>` as `ask_claude` ``. Each tier
/// has its own breaker in the global registry, named like a default
/// `#[circuit_breaker]` name (`module::ask_gpt`), so files and variables
/// configure it by that name. List plain functions: a tier function with its
/// own `#[circuit_breaker]` returns `Error<E>` and does not match. Arguments
/// are cloned for each tier. A recovered tier gets the next call first (R64).
/// Without `#[circuit_breaker]`, it makes a breaker with default arguments.
///
/// # Which tier served a call
///
/// The function keeps its signature, and a companion `<fn>_served` with the
/// same parameters and visibility returns `Result<cb_tiers::Served<T>, _>`:
/// the value with the serving tier's position (0 is the function itself) and
/// breaker name. Both run the one chain; use whichever the caller needs.
///
/// ```
/// use cb_tiers::{circuit_breaker, fallback};
///
/// #[derive(Debug)]
/// struct AiError;
///
/// #[fallback(ask_local)]
/// #[circuit_breaker(name = "served.claude")]
/// async fn ask_claude(prompt: &str) -> Result<String, AiError> {
///     Err(AiError)
/// }
///
/// async fn ask_local(prompt: &str) -> Result<String, AiError> {
///     Ok(format!("local: {prompt}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let served = ask_claude_served("hi").await.unwrap();
/// assert_eq!(served.value, "local: hi");
/// assert_eq!(served.tier, 1); // the second tier, in declared order
/// assert!(served.name.ends_with("::ask_local")); // its breaker's name
/// # }
/// ```
///
/// A trait implementation has no room for a method the trait does not
/// declare, so `#[fallback]` on an `async fn` there is a compile error about
/// `<fn>_served`; so is a function of yours already named `<fn>_served`. An
/// associated function without `self` whose tiers are all free functions
/// looks like a free function to the macro; list a tier as `Self::..` or
/// take `&self`.
///
/// # What it expands to
///
/// `tiers(ask_gpt, ask_local)` inside the `#[circuit_breaker]`, whose
/// expansion is two functions. `ask_claude_served` (documented "Like
/// `ask_claude`, and says which tier served the call.", and allowed to be
/// unused) keeps a static `cb_tiers::TierChain` of the breakers and calls
/// `chain.call_with(|tier| match tier { 0 => body, 1 => ask_gpt(..), _ => ask_local(..) })`,
/// each tier through a check that reports a mismatched signature at its
/// path; with `error = from` its error is converted to `E`. `ask_claude`
/// calls it and drops the tier: `ask_claude_served(..).await.map(Served::into_value)`.
#[proc_macro_attribute]
pub fn fallback(args: TokenStream, item: TokenStream) -> TokenStream {
    breaker::absorb("fallback", args.into(), item.into()).into()
}

/// On a trait: the routing implementation over an ordered set of its
/// implementations, with one breaker per tier and method. From `cb-tiers`.
///
/// ```
/// use cb_tiers::tiered;
///
/// #[derive(Debug)]
/// struct ApiError;
///
/// #[tiered]
/// trait Accounts {
///     async fn get_account(&self, id: u64) -> Result<String, ApiError>;
/// }
///
/// struct Primary;
/// struct Cache;
/// impl Accounts for Primary {
///     async fn get_account(&self, _id: u64) -> Result<String, ApiError> { Err(ApiError) }
/// }
/// impl Accounts for Cache {
///     async fn get_account(&self, id: u64) -> Result<String, ApiError> { Ok(format!("cached {id}")) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = accounts_tiered((Primary, Cache)).tier("primary").tier("cache").build()?;
/// let account = client.get_account(7).await.map_err(|e| format!("{e:?}"))?; // fails over transparently
/// assert_eq!(account, "cached 7");
/// # Ok(()) }
/// ```
///
/// Methods must be `async fn(&self, ..) -> Result<T, E>` with plain argument
/// names (arguments are cloned per tier); an argument `crate = "..."` renames
/// `cb-tiers`.
///
/// Each client has its own breakers by default. Call
/// `.in_global_registry()` on the builder to resolve every breaker through
/// the configuration layers by its name `"{tier}.{method}"` (templates,
/// environment, files, variables) and register it in the global registry,
/// where metrics and reloads see it (clients built that way share breakers
/// by name).
///
/// # What it expands to
///
/// The trait unchanged, plus:
/// - `trait AccountsTiered` with the same methods returning
///   `Result<T, cb_tiers::ChainError<E>>`, each beside a companion
///   `get_account_served` returning `Result<cb_tiers::Served<T>, _>`, which
///   says which tier served the call (a trait method of yours with that
///   name is a compile error), implemented for
///   `cb_tiers::Tiered<(A,)>` … `Tiered<(A, B, .., H)>` (up to 8
///   implementations of any types) and `Tiered<Vec<S>>` (any number of one type);
/// - `fn accounts_tiered(services) -> TieredBuilder<_>` with the trait's
///   methods registered; its breakers are named `"{tier}.{method}"`.
#[proc_macro_attribute]
pub fn tiered(args: TokenStream, item: TokenStream) -> TokenStream {
    tiered::expand(args.into(), item.into()).into()
}

/// A user-defined template, checked at compile time: a `const` that
/// `#[circuit_breaker(template = PAYMENTS)]` accepts by path.
///
/// ```
/// use cb_core::{circuit_breaker, template};
///
/// template! {
///     /// Our payment provider: strict, few probes.
///     pub const PAYMENTS = { base = "external_api", success_threshold = 3, half_open_max_calls = 1 };
/// }
/// // or, naming the const after the template (`LEDGER`, `pub`):
/// template! { name = "ledger", base = PAYMENTS, minimum_calls = 20 }
/// // and values for one environment only:
/// template! { name = "refunds", base = PAYMENTS, failure_threshold = 8, production(failure_threshold = 2) }
///
/// #[derive(Debug)]
/// struct PayError;
///
/// #[circuit_breaker(name = "charge", template = PAYMENTS, failure_threshold = 2)]
/// async fn charge(cents: u64) -> Result<u64, PayError> {
///     Ok(cents)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// charge(100).await.unwrap();
/// let config = cb_core::Registry::global().get("charge").unwrap().config();
/// assert_eq!(config.success_threshold, 3);
/// assert_eq!(LEDGER.base, Some("payments"));
/// assert_eq!(REFUNDS.environments[0].0, cb_core::config::Environment::Production);
/// # }
/// ```
///
/// Arguments: `name` (lowercase; default: the const's name in lowercase),
/// `base` (a built-in template or another `template!` const), every breaker
/// field, `call_timeout`, `retry(..)`, `bulkhead(..)` and `classify(..)` sections — with
/// the units and ranges of configuration files, checked when your crate
/// compiles. Built-in names cannot be redefined. As in files, a template's
/// values beat the environment's generic profile, and an environment group
/// such as `production(failure_threshold = 3)` (or `development(..)`,
/// `staging(..)`, `testing(..)`) holds values for that environment only.
///
/// # What it expands to
///
/// `pub const PAYMENTS: cb_core::config::StaticTemplate = StaticTemplate { name: "payments",
/// base: Some("external_api"), values: &[("failure_threshold", StaticValue::Int(2)), ..],
/// environments: &[(Environment::Production, &[..]), ..] };`
/// — added to the global configuration the first time a breaker using it is resolved.
#[proc_macro]
pub fn template(input: TokenStream) -> TokenStream {
    template::expand(input.into()).into()
}

/// Derives `cb_core::Classify` for an error enum: one `#[classify(...)]` per
/// variant, read by breakers, retries, tier chains and metrics. A variant
/// left unclassified is a compile error.
///
/// ```
/// use cb_core::{Classify, Outcome};
///
/// #[derive(Debug, Classify)]
/// enum ApiError {
///     #[classify(failure)]                          // retryable by default
///     Unavailable,
///     #[classify(failure, retry_after = wait)]      // a Duration or Option<Duration> field
///     RateLimited { wait: std::time::Duration },
///     #[classify(failure, retryable = false)]
///     Unauthorized,
///     #[classify(excluded)]                         // the caller's problem: neutral, not retried
///     NotFound,
/// }
///
/// assert_eq!(ApiError::NotFound.outcome(), Outcome::Excluded);
/// assert!(!ApiError::Unauthorized.retryable());
/// let wait = std::time::Duration::from_secs(2);
/// assert_eq!(ApiError::RateLimited { wait }.retry_after(), Some(wait));
/// ```
///
/// Per variant: exactly one of `failure` / `excluded`; `retryable` or
/// `retryable = false` (default: failures are retryable, excluded errors are
/// not, and `excluded, retryable` is an error); `retry_after = field` (or a
/// tuple index). On the enum, `#[classify(crate = "...")]` renames `cb-core`.
///
/// `kind()` gives each error its variant's name as written
/// (`ErrorKind::Variant("NotFound")`): the name a configuration's
/// `classify.failure` / `classify.excluded` lists match, so a file or a
/// `#[circuit_breaker(classify(excluded = ["NotFound"]))]` can re-sort
/// variants without touching the type.
///
/// # What it expands to
///
/// `impl cb_core::Classify for ApiError { fn outcome(&self) -> Outcome { match self { .. } }
/// fn retryable(&self) -> bool { .. } fn retry_after(&self) -> Option<Duration> { .. }
/// fn kind(&self) -> ErrorKind { .. } }`.
/// `#[circuit_breaker]` picks it up for any function whose error type implements it.
#[proc_macro_derive(Classify, attributes(classify))]
pub fn derive_classify(input: TokenStream) -> TokenStream {
    classify::expand(input.into()).into()
}
