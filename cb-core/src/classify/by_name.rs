//! Classification by name: a configuration (a template, a file, variables,
//! a macro argument) lists error kinds as failures or as excluded, and the
//! breaker applies the lists over the code's own classifier.
//!
//! An error's kind is what [`Classifier::kind`](super::Classifier::kind)
//! reports for it: the variant name for a type with `#[derive(Classify)]`
//! ([`Classify::kind`](super::Classify::kind)), the status for cb-tiers'
//! HTTP errors, and [`ErrorKind::Timeout`] for the pipeline's call-timeout
//! stage. Entries are written as [`cb_syntax::schema::ErrorName`] parses them:
//!
//! | entry | matches |
//! |---|---|
//! | `NotFound` | the variant `NotFound`, exactly (case-sensitive) |
//! | `timeout` | the call-timeout stage's expiry |
//! | `404` | the HTTP status 404 |
//! | `4xx` | every HTTP status from 400 to 499 |
//!
//! Precedence, for a call the code's classifier did not count as a success
//! (an `Err`, or an `Ok` it judged a failure or excluded, such as a 503 or
//! a 404 response): a kind listed in `classify.excluded` is **excluded**;
//! else a kind listed in `classify.failure` is a **failure**; else the
//! code's classifier decides. A success is never reclassified, so the
//! success path reads no list (and `failure = ["200"]` matches nothing).
//!
//! A variant name is checked for its shape only: a file or a template does
//! not know the error types of the functions it configures, so a misspelt
//! variant, or one of a type that does not implement `Classify` (whose
//! errors are unnamed), is accepted and matches nothing. A
//! `#[circuit_breaker]` function's own `classify(..)` naming variants is
//! checked: its error type must implement `Classify`. An entry in both
//! lists is refused.
//!
//! The lists change how a call counts, not whether it is retried: that
//! stays the error type's [`Classify::retryable`](super::Classify::retryable)
//! or the retry stage's predicate.
//!
//! Who honours the lists: [`CircuitBreaker::call_with`](crate::CircuitBreaker::call_with)
//! (and `call`, `call_sync_with`, [`Permit::record_result`](crate::Permit::record_result),
//! [`CircuitBreaker::classify`](crate::CircuitBreaker::classify)), the
//! [`Pipeline`](crate::Pipeline) with a breaker (its breaker's lists, for
//! what the breaker records, the rescue and the concurrency limit), cb-tiers'
//! tier chains (each tier's breaker's lists) and so every
//! `#[circuit_breaker]` function. A bare [`Permit::record`](crate::Permit::record)
//! records the outcome it is given. They are read on the
//! error path only, under the breaker's lock and only when a list is not
//! empty (a flag the success path never reads says so), so an update through
//! [`CircuitBreaker::update_config`](crate::CircuitBreaker::update_config)
//! or the live configuration classifies the next call.
//!
//! ```
//! use cb_core::classify::{ByName, ErrorKind};
//! use cb_core::Outcome;
//!
//! let lists = ByName {
//!     failure: vec!["5xx".into(), "timeout".into()],
//!     excluded: vec!["NotFound".into(), "404".into()],
//! };
//! assert_eq!(lists.apply(Outcome::Failure, ErrorKind::Variant("NotFound")), Outcome::Excluded);
//! assert_eq!(lists.apply(Outcome::Excluded, ErrorKind::Status(503)), Outcome::Failure);
//! assert_eq!(lists.apply(Outcome::Failure, ErrorKind::Status(404)), Outcome::Excluded);
//! // Not listed: the code's classifier decides.
//! assert_eq!(lists.apply(Outcome::Excluded, ErrorKind::Variant("Busy")), Outcome::Excluded);
//! ```

use cb_syntax::schema::{ERROR_NAMES_ALLOWED, ErrorName, LISTED_TWICE, listed_twice};

use crate::error::Violations;
use crate::state::Outcome;

/// What configuration calls an error, for the `classify` lists: reported by
/// [`Classify::kind`](super::Classify::kind) and
/// [`Classifier::kind`](super::Classifier::kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No name: no entry matches it, the code's classifier decides.
    #[default]
    Unnamed,
    /// A variant of the error type, as written in the code (`NotFound`).
    Variant(&'static str),
    /// An HTTP status (matched by `404` and by `4xx`).
    Status(u16),
    /// The call-timeout stage's expiry (matched by `timeout`).
    Timeout,
}

impl ErrorKind {
    /// Whether the configuration entry `entry` names this kind.
    fn named_by(self, entry: &str) -> bool {
        match (ErrorName::parse(entry), self) {
            (Some(ErrorName::Variant(n)), ErrorKind::Variant(v)) => n == v,
            (Some(ErrorName::Timeout), ErrorKind::Timeout) => true,
            (Some(ErrorName::Status(s)), ErrorKind::Status(k)) => s == k,
            (Some(ErrorName::Class(c)), ErrorKind::Status(k)) => k / 100 == c,
            _ => false,
        }
    }
}

/// The `classify` section of a breaker's configuration: error kinds listed
/// as failures or as excluded, over the code's classifier (see the module
/// docs for the entries and the precedence). Empty lists (the default)
/// leave every call to the code's classifier.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ByName {
    /// `classify.failure`: kinds that count as failures, unless excluded.
    pub failure: Vec<String>,
    /// `classify.excluded`: kinds that count as neither success nor failure (R2).
    pub excluded: Vec<String>,
}

impl ByName {
    /// Whether both lists are empty: nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.failure.is_empty() && self.excluded.is_empty()
    }

    /// How an error of kind `kind`, which the code's classifier counted as
    /// `outcome`, counts under these lists.
    pub fn apply(&self, outcome: Outcome, kind: ErrorKind) -> Outcome {
        if kind == ErrorKind::Unnamed {
            outcome
        } else if self.excluded.iter().any(|e| kind.named_by(e)) {
            Outcome::Excluded
        } else if self.failure.iter().any(|e| kind.named_by(e)) {
            Outcome::Failure
        } else {
            outcome
        }
    }

    /// Reports entries of no allowed form and an entry in both lists.
    pub(crate) fn check(&self, v: &mut Violations) {
        for (path, list) in [
            ("classify.failure", &self.failure),
            ("classify.excluded", &self.excluded),
        ] {
            if let Some(bad) = list.iter().find(|e| ErrorName::parse(e).is_none()) {
                v.push(path, format_args!("{bad:?}"), ERROR_NAMES_ALLOWED);
            }
        }
        if let Some(twice) = listed_twice(&self.failure, &self.excluded) {
            v.push("classify.excluded", format_args!("{twice:?}"), LISTED_TWICE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(failure: &[&str], excluded: &[&str]) -> ByName {
        ByName {
            failure: failure.iter().map(|s| s.to_string()).collect(),
            excluded: excluded.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn excluded_beats_failure_and_both_beat_the_code() {
        let l = lists(&["5xx"], &["503"]);
        assert_eq!(
            l.apply(Outcome::Failure, ErrorKind::Status(503)),
            Outcome::Excluded
        );
        assert_eq!(
            l.apply(Outcome::Excluded, ErrorKind::Status(500)),
            Outcome::Failure
        );
        assert_eq!(
            l.apply(Outcome::Excluded, ErrorKind::Status(404)),
            Outcome::Excluded
        );
    }

    #[test]
    fn names_match_exactly() {
        let l = lists(&["timeout"], &["NotFound"]);
        assert_eq!(
            l.apply(Outcome::Failure, ErrorKind::Variant("notfound")),
            Outcome::Failure
        );
        assert_eq!(
            l.apply(Outcome::Excluded, ErrorKind::Variant("Timeout")),
            Outcome::Excluded
        );
        assert_eq!(l.apply(Outcome::Excluded, ErrorKind::Timeout), Outcome::Failure);
        assert_eq!(l.apply(Outcome::Failure, ErrorKind::Unnamed), Outcome::Failure);
    }

    #[test]
    fn bad_entries_and_doubles_are_refused_naming_the_field() {
        let mut v = Violations::new();
        lists(&["5XX", "NotFound"], &["NotFound"]).check(&mut v);
        let msg = v.finish().unwrap_err().to_string();
        assert!(
            msg.contains("classify.failure = \"5XX\": must be a list of error kinds"),
            "{msg}"
        );
        assert!(msg.contains("`1xx`..`5xx`"), "{msg}");
        assert!(
            msg.contains("classify.excluded = \"NotFound\": is also listed in classify.failure"),
            "{msg}"
        );
    }
}
