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

/// Per-attempt stages around the breaker (R61), each opted into in code.
#[derive(Default)]
pub(crate) struct Stages {
    pub(crate) retry: bool,
    pub(crate) retry_rejections: bool,
    pub(crate) bulkhead: bool,
    pub(crate) call_timeout: bool,
}

impl Stages {
    pub(crate) fn any(&self) -> bool {
        self.retry || self.bulkhead || self.call_timeout
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
}
