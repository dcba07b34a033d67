//! The contract between Validate and Expand: what `valid.rs` has checked and
//! `expand.rs` emits without checking again.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use syn::{LitStr, Path};

use crate::common::fields::Checked;

/// Where the template comes from.
pub(crate) enum TemplateRef {
    Builtin(LitStr),
    /// A `const` made by `template!`.
    Const(Path),
}

/// Per-attempt stages around the breaker (R61). Each runs when the
/// resolved configuration enables it; these say what the function wrote.
#[derive(Default)]
pub(crate) struct Stages {
    /// `#[retry(..)]` / `retry(..)`: retried attempts clone each argument.
    pub(crate) retry: bool,
    pub(crate) retry_rejections: bool,
    /// `#[bulkhead(..)]` / `bulkhead(..)`.
    pub(crate) bulkhead: bool,
    /// `#[timeout(..)]` / `call_timeout = ..`.
    pub(crate) call_timeout: bool,
    /// `retry = false`, `bulkhead = false`, `call_timeout = false`: the
    /// stage never runs, whatever the configuration says.
    pub(crate) no_retry: bool,
    pub(crate) no_bulkhead: bool,
    pub(crate) no_call_timeout: bool,
}

impl Stages {
    /// Whether the function wrote a stage of its own.
    pub(crate) fn any(&self) -> bool {
        self.retry || self.bulkhead || self.call_timeout
    }

    /// Whether every stage is switched off: nothing but the breaker can run.
    pub(crate) fn all_off(&self) -> bool {
        self.no_retry && self.no_bulkhead && self.no_call_timeout
    }
}

/// Everything the expansion needs, checked.
pub(crate) struct Plan {
    pub(crate) krate: TokenStream,
    pub(crate) tiers_krate: TokenStream,
    pub(crate) name: Option<LitStr>,
    pub(crate) template: Option<TemplateRef>,
    pub(crate) environment: Option<String>,
    /// Field path → value, for the code layer of the configuration.
    pub(crate) values: BTreeMap<&'static str, Checked>,
    pub(crate) rescue: Option<Path>,
    pub(crate) error_from: bool,
    pub(crate) tiers: Vec<Path>,
    pub(crate) stages: Stages,
    /// With `template = CONST`: items that fail to compile when the
    /// arguments contradict the constant's values (const evaluation). They
    /// read the constant as `__CB_TEMPLATE`, which the expansion declares.
    pub(crate) template_checks: TokenStream,
}
