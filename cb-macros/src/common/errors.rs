//! Collects every problem, each spanned at its own token.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Every error found while validating, combined into one `syn::Error`.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds an error pointing at `at`.
    pub(crate) fn push(&mut self, at: impl ToTokens, msg: impl std::fmt::Display) {
        self.add(syn::Error::new_spanned(at, msg));
    }
    /// Adds an error at a span.
    pub(crate) fn push_at(&mut self, span: proc_macro2::Span, msg: impl std::fmt::Display) {
        self.add(syn::Error::new(span, msg));
    }
    /// Adds an existing error.
    pub(crate) fn add(&mut self, err: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(err),
            none => *none = Some(err),
        }
    }
    /// `Ok` when nothing was pushed.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The user's tokens followed by the errors: one mistake does not cascade
/// into "cannot find function" errors at every call site.
pub(crate) fn with_error(mut out: TokenStream, err: syn::Error) -> TokenStream {
    out.extend(err.into_compile_error());
    out
}
