//! The path expansions use to reach the runtime: `::cb_core` (or
//! `::cb_tiers`) unless the user wrote `crate = "..."`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

/// `crate = "my_cb"` → `::my_cb`; none → `default` (e.g. `::cb_core`).
pub(crate) fn path(krate: Option<&LitStr>, default: TokenStream) -> syn::Result<TokenStream> {
    match krate {
        None => Ok(default),
        Some(lit) => {
            let p: syn::Path = lit.parse().map_err(|_| {
                syn::Error::new_spanned(
                    lit,
                    "expected a crate path such as `\"cb_core\"` or `\"::my::cb\"`",
                )
            })?;
            if p.leading_colon.is_some() {
                Ok(quote!(#p))
            } else {
                Ok(quote!(:: #p))
            }
        }
    }
}
