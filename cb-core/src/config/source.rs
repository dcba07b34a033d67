//! Where a resolved value came from: the layer and, within it, the template,
//! environment, file key or variable. Its own module because both resolution
//! ([`ConfigLayers`](super::ConfigLayers)) and `explain` speak of it.

use std::fmt;

use super::environment::Environment;

/// The layer a value came from, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// The built-in defaults ([`Settings::default`](super::Settings::default)).
    Default,
    /// The environment's generic profile (development / staging / production
    /// / testing), below every template so that what a template declares is
    /// what its breakers get.
    Environment,
    /// A template (the `default` template, then the named one and its bases),
    /// including its values for the current environment.
    Template,
    /// The file: `configs.default`, the instance's `base_config` chain, the instance.
    File,
    /// `CIRCUIT_BREAKER_<FIELD>`, then `CIRCUIT_BREAKER_<NAME>_<FIELD>`.
    EnvVar,
    /// Overrides passed in code (macro arguments, then run-time updates).
    Code,
}

/// Where exactly a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The built-in defaults.
    Default,
    /// The template with this name.
    Template(String),
    /// The template with this name, in its values for this environment.
    TemplateEnvironment(String, Environment),
    /// This environment.
    Environment(Environment),
    /// This key of the file, e.g. `instances.claude.failure_threshold`.
    File(String),
    /// This variable.
    EnvVar(String),
    /// Code.
    Code,
}

impl Source {
    /// The layer.
    pub fn layer(&self) -> Layer {
        match self {
            Source::Default => Layer::Default,
            Source::Template(_) | Source::TemplateEnvironment(..) => Layer::Template,
            Source::Environment(_) => Layer::Environment,
            Source::File(_) => Layer::File,
            Source::EnvVar(_) => Layer::EnvVar,
            Source::Code => Layer::Code,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Template(t) => write!(f, "template `{t}`"),
            Source::TemplateEnvironment(t, e) => write!(f, "template `{t}` ({e})"),
            Source::Environment(e) => write!(f, "environment `{e}`"),
            Source::File(p) => write!(f, "file `{p}`"),
            Source::EnvVar(v) => write!(f, "env `{v}`"),
            Source::Code => f.write_str("code"),
        }
    }
}
