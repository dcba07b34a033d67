//! `explain`: each field's value and the layer that set it.

use std::fmt;

use super::environment::Environment;
use super::settings::Settings;
use super::source::Source;

/// One field of an [`Explanation`].
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The canonical path, e.g. `retry.max_attempts`.
    pub path: &'static str,
    /// The value as files write it (secrets redacted); `None` when unset.
    pub value: Option<String>,
    /// Where it came from.
    pub source: Source,
}

/// What [`ConfigLayers::explain`](super::ConfigLayers::explain) returns:
/// every field, its value and where it came from, plus the resolved settings.
///
/// Its `Display` is a table:
///
/// ```text
/// claude (template `ai_provider`, environment `production`)
///   circuit_type        adaptive   template `ai_provider`
///   failure_threshold   3          environment `production`
///   ...
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The breaker's name.
    pub name: String,
    /// The template used (`default` when none was named).
    pub template: String,
    /// Whether `template` was inferred from the breaker's name
    /// ([`ConfigLayers::with_template_inference`](super::ConfigLayers::with_template_inference)).
    pub template_inferred: bool,
    /// The environment used.
    pub environment: Environment,
    /// Every field, in reference-table order.
    pub fields: Vec<Explained>,
    /// The resolved, validated settings.
    pub settings: Settings,
}

impl Explanation {
    /// The field at `path`.
    pub fn get(&self, path: &str) -> Option<&Explained> {
        self.fields.iter().find(|f| f.path == path)
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inferred = if self.template_inferred {
            ", inferred from the name"
        } else {
            ""
        };
        write!(
            f,
            "{} (template `{}`{inferred}, environment `{}`)",
            self.name, self.template, self.environment
        )?;
        // Manual padding: a width argument panics above u16::MAX, and a value can be that long.
        let width = |s: &str, w: usize| " ".repeat(w.saturating_sub(s.chars().count()));
        let w_path = self.fields.iter().map(|e| e.path.len()).max().unwrap_or(0);
        let w_value = self
            .fields
            .iter()
            .map(|e| e.value.as_deref().unwrap_or("-").chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        let detector = self.settings.breaker.circuit_type;
        for e in &self.fields {
            let value = e.value.as_deref().unwrap_or("-");
            write!(
                f,
                "\n  {}{}  {value}{}  {}",
                e.path,
                width(e.path, w_path),
                width(value, w_value),
                e.source
            )?;
            if e.path == "failure_threshold" && !detector.uses_consecutive_failures() {
                write!(f, " (not used: `{detector}` judges the failure rate only)")?;
            }
        }
        Ok(())
    }
}
