//! Parse: the shape of `#[circuit_breaker(...)]` arguments, nothing more.
//!
//! ```text
//! args    := (arg),* ,?
//! arg     := key = value | key ( ... )
//! value   := literal | -literal | path | [ literal, ... ]
//! ```
//! Meaning (known keys, ranges, duplicates) is `valid.rs`'s job, so every
//! problem can be reported at once.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, Path, Token};

/// One argument.
pub(crate) struct Arg {
    pub(crate) key: Ident,
    pub(crate) value: ArgValue,
}

/// What follows the key.
pub(crate) enum ArgValue {
    /// `= 3`, `= -1`, `= "30s"`, `= true`.
    Lit { lit: Lit, negative: Option<Token![-]> },
    /// `= cached_answer`, `= PAYMENTS`, `= from`.
    Path(Path),
    /// `( ... )`: a section such as `retry(max_attempts = 3)` or `tiers(a, b)`.
    Group { span: Span, tokens: TokenStream },
    /// `= ["NotFound", "4xx"]`: a list (`classify(excluded = [..])`).
    List { tokens: TokenStream, items: Vec<Lit> },
}

impl ArgValue {
    /// The tokens to point at when the value is wrong.
    pub(crate) fn spanned(&self) -> TokenStream {
        match self {
            ArgValue::Lit { lit, negative } => {
                let mut t = negative.to_token_stream();
                lit.to_tokens(&mut t);
                t
            }
            ArgValue::Path(p) => p.to_token_stream(),
            ArgValue::Group { tokens, .. } | ArgValue::List { tokens, .. } => tokens.clone(),
        }
    }
}

/// Every argument, in order.
pub(crate) struct Args(pub(crate) Vec<Arg>);

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = Ident::parse_any(input)
            .map_err(|e| syn::Error::new(e.span(), "expected an argument such as `name = \"...\"`"))?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            if input.peek(Token![-]) {
                let negative = Some(input.parse::<Token![-]>()?);
                ArgValue::Lit {
                    lit: input.parse()?,
                    negative,
                }
            } else if input.peek(Lit) {
                ArgValue::Lit {
                    lit: input.parse()?,
                    negative: None,
                }
            } else if input.peek(syn::token::Bracket) {
                let content;
                let bracket = syn::bracketed!(content in input);
                let items = Punctuated::<Lit, Token![,]>::parse_terminated(&content)?;
                let mut tokens = TokenStream::new();
                bracket.surround(&mut tokens, |t| items.to_tokens(t));
                ArgValue::List {
                    tokens,
                    items: items.into_iter().collect(),
                }
            } else if input.peek(Ident::peek_any) || input.peek(Token![::]) {
                ArgValue::Path(Path::parse_mod_style(input).or_else(|_| input.parse())?)
            } else {
                return Err(input.error(format!(
                    "expected a value for `{key}`: a literal such as `3`, `0.5`, `\"30s\"`, `true`, a list such as `[\"NotFound\"]`, or a path"
                )));
            }
        } else if input.peek(syn::token::Paren) {
            let content;
            let paren = syn::parenthesized!(content in input);
            ArgValue::Group {
                span: paren.span.join(),
                tokens: content.parse()?,
            }
        } else {
            return Err(syn::Error::new_spanned(
                &key,
                format!("expected `=` after `{key}`: write `{key} = <value>`"),
            ));
        };
        Ok(Arg { key, value })
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let list = Punctuated::<Arg, Token![,]>::parse_terminated(input)?;
        Ok(Args(list.into_iter().collect()))
    }
}

/// `tiers(a, b::c)` and `#[fallback(a, b)]`: paths separated by commas.
pub(crate) struct PathList(pub(crate) Vec<Path>);

impl Parse for PathList {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let list = Punctuated::<Path, Token![,]>::parse_terminated(input)?;
        Ok(PathList(list.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_every_value_shape() {
        let a: Args = syn::parse2(quote!(
            name = "a",
            failure_threshold = -1,
            rescue = x::y,
            retry(max_attempts = 3),
            crate = "c",
            excluded = ["NotFound", 404]
        ))
        .unwrap();
        assert_eq!(a.0.len(), 6);
        assert!(matches!(&a.0[5].value, ArgValue::List { items, .. } if items.len() == 2));
        assert!(matches!(
            a.0[1].value,
            ArgValue::Lit {
                negative: Some(_),
                ..
            }
        ));
        assert!(matches!(a.0[2].value, ArgValue::Path(_)));
        assert!(matches!(a.0[3].value, ArgValue::Group { .. }));
        assert_eq!(a.0[4].key.to_string(), "crate");
    }

    #[test]
    fn a_key_without_value_says_what_to_write() {
        let e = syn::parse2::<Args>(quote!(failure_threshold)).err().unwrap();
        assert!(
            e.to_string().contains("write `failure_threshold = <value>`"),
            "{e}"
        );
    }
}
