//! The plan while it is being checked: each argument's function fills in its
//! part, and problems go to the shared [`Errors`] instead of stopping, so
//! every mistake is reported at once.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, LitStr, Path};

use crate::breaker::plan::{Plan, Stages, TemplateRef};
use crate::common::fields::Checked;
use crate::common::{Errors, krate};

/// The arguments checked so far.
#[derive(Default)]
pub(super) struct Draft {
    pub(super) seen: Seen,
    /// `crate = "..."`, resolved last (its errors join the others).
    pub(super) krate: Option<LitStr>,
    pub(super) name: Option<LitStr>,
    pub(super) template: Option<TemplateRef>,
    pub(super) environment: Option<String>,
    /// Field path → value, for the code layer of the configuration.
    pub(super) values: BTreeMap<&'static str, Checked>,
    /// Field path → the tokens that gave it, where cross-field errors point.
    pub(super) value_at: BTreeMap<&'static str, TokenStream>,
    pub(super) rescue: Option<Path>,
    pub(super) error_from: bool,
    pub(super) tiers: Vec<Path>,
    pub(super) stages: Stages,
    /// The key of each stage given (`retry`, `bulkhead`, `call_timeout`), in
    /// order, where "this stage cannot go on this function" errors point.
    pub(super) stage_keys: Vec<Ident>,
    /// `retry_rejections = true`, when given.
    pub(super) retry_rejections_at: Option<TokenStream>,
}

impl Draft {
    /// The plan, with the runtime crate's path resolved.
    pub(super) fn into_plan(self, errors: &mut Errors) -> Plan {
        // A function with tiers is written against `cb-tiers`, which may be
        // the only dependency: the runtime is reached through its re-export.
        let default = if self.tiers.is_empty() {
            quote!(::cb_core)
        } else {
            quote!(::cb_tiers::__private::cb_core)
        };
        let krate = match krate::path(self.krate.as_ref(), default.clone()) {
            Ok(k) => k,
            Err(e) => {
                errors.add(e);
                default
            }
        };
        let tiers_krate = match &self.krate {
            Some(_) => quote!(#krate),
            None => quote!(::cb_tiers),
        };
        Plan {
            krate,
            tiers_krate,
            name: self.name,
            template: self.template,
            environment: self.environment,
            values: self.values,
            rescue: self.rescue,
            error_from: self.error_from,
            tiers: self.tiers,
            stages: self.stages,
            template_checks: TokenStream::new(),
        }
    }
}

/// The keys given so far, to report each duplicate at its second occurrence.
#[derive(Default)]
pub(super) struct Seen(BTreeSet<String>);

impl Seen {
    /// `false` (and an error at `at`) if `key` was given before.
    pub(super) fn first(&mut self, key: &str, at: &Ident, errors: &mut Errors) -> bool {
        let first = self.0.insert(key.to_owned());
        if !first {
            errors.push(at, format!("duplicate `{key}` argument"));
        }
        first
    }
}
