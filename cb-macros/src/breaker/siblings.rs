//! Which attributes next to `#[circuit_breaker]` are ours. `#[retry]`,
//! `#[bulkhead]`, `#[timeout]` and `#[fallback]` fold into it, and a sibling
//! above moves into the `#[circuit_breaker]` below it; both are matched by
//! the whole path, so another crate's `#[ntest::timeout(100)]` stays that
//! crate's attribute and is emitted untouched.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Ident, Lit, Meta, Path};

use super::args::{Arg, ArgValue, Args};

/// The attributes that fold into `#[circuit_breaker]`, and the argument each becomes.
const SIBLINGS: [(&str, &str); 4] = [
    ("retry", "retry"),
    ("bulkhead", "bulkhead"),
    ("timeout", "call_timeout"),
    ("fallback", "tiers"),
];

/// The crates our attributes can be named through: `cb-core` and `cb-tiers`
/// re-export them, `cb-macros` defines them.
const OWN_CRATES: [&str; 3] = ["cb_core", "cb_tiers", "cb_macros"];

/// The argument the sibling attribute `which` becomes (`timeout` → `call_timeout`).
pub(crate) fn argument_of(which: &str) -> &str {
    SIBLINGS
        .iter()
        .find(|(a, _)| *a == which)
        .map_or(which, |(_, k)| *k)
}

/// Whether `path` names our attribute `name`: bare (imported, as the
/// documentation writes it), under one of [`OWN_CRATES`], or under the crate
/// path given with `crate = "..."` (`renamed`). A leading `::` changes nothing.
pub(crate) fn is_ours(path: &Path, name: &str, renamed: Option<&Path>) -> bool {
    let segments: Vec<&Ident> = path.segments.iter().map(|s| &s.ident).collect();
    let Some((last, prefix)) = segments.split_last() else {
        return false;
    };
    if *last != name {
        return false;
    }
    match prefix {
        [] => path.leading_colon.is_none(),
        [root] if OWN_CRATES.iter().any(|c| *root == c) => true,
        _ => renamed.is_some_and(|r| r.segments.iter().map(|s| &s.ident).eq(prefix.iter().copied())),
    }
}

/// The crate path of `crate = "..."` among `args`, when it is one (a wrong
/// one is reported by the validation, not here).
pub(crate) fn renamed(args: &Args) -> Option<Path> {
    args.0
        .iter()
        .find(|a| a.key == "crate")
        .and_then(|a| match &a.value {
            ArgValue::Lit {
                lit: Lit::Str(s),
                negative: None,
            } => s.parse().ok(),
            _ => None,
        })
}

/// The crate path of `crate = "..."` in a `#[circuit_breaker(...)]` attribute.
pub(crate) fn renamed_in(attr: &Attribute) -> Option<Path> {
    match &attr.meta {
        Meta::List(list) => syn::parse2::<Args>(list.tokens.clone())
            .ok()
            .and_then(|args| renamed(&args)),
        _ => None,
    }
}

/// Our sibling below `#[circuit_breaker]` as the argument it becomes:
/// `#[retry(...)]` → `retry(...)`, `#[timeout("5s")]` → `call_timeout("5s")`.
/// `None` for any other attribute, ours or not.
pub(crate) fn sibling_arg(attr: &Attribute, renamed: Option<&Path>) -> Option<syn::Result<Arg>> {
    let path = attr.path();
    let (which, key) = SIBLINGS.iter().find(|(a, _)| is_ours(path, a, renamed))?;
    let span = path
        .segments
        .last()
        .map_or_else(Span::call_site, |s| s.ident.span());
    let tokens = match &attr.meta {
        Meta::List(list) => list.tokens.clone(),
        Meta::Path(_) => TokenStream::new(),
        Meta::NameValue(nv) => {
            return Some(Err(syn::Error::new_spanned(
                nv.eq_token,
                format!("expected `#[{which}(...)]`"),
            )));
        }
    };
    Some(Ok(Arg {
        key: Ident::new(key, span),
        value: ArgValue::Group { span, tokens },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> Path {
        syn::parse_str(s).expect("a path")
    }

    #[test]
    fn ours_bare_or_under_our_crates() {
        for p in [
            "timeout",
            "cb_core::timeout",
            "::cb_core::timeout",
            "cb_tiers::timeout",
            "cb_macros::timeout",
        ] {
            assert!(is_ours(&path(p), "timeout", None), "{p}");
        }
    }

    #[test]
    fn another_crates_attribute_with_our_name_is_not_ours() {
        for p in [
            "ntest::timeout",
            "::timeout",
            "tokio::time::timeout",
            "cb_core::retry",
        ] {
            assert!(!is_ours(&path(p), "timeout", None), "{p}");
        }
    }

    #[test]
    fn a_renamed_crate_is_ours_only_when_named_by_crate() {
        let renamed = path("my::cb");
        assert!(is_ours(&path("my::cb::timeout"), "timeout", Some(&renamed)));
        assert!(is_ours(&path("::my::cb::timeout"), "timeout", Some(&renamed)));
        assert!(!is_ours(&path("my::timeout"), "timeout", Some(&renamed)));
        assert!(!is_ours(&path("my::cb::timeout"), "timeout", None));
    }
}
