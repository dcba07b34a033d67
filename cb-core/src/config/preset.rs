//! The per-service presets: built-in templates for one named service, each
//! over a service type (`ai_provider` or `mcp_server`) and each with its
//! own failure threshold per environment, strictest in production.
//!
//! A preset states the threshold for every environment, so the generic
//! environment profile never decides it: what the preset says is what the
//! breaker gets.

use std::time::Duration;

use cb_syntax::names::PRESETS;

use super::environment::Environment;
use super::schema::Value;

/// What one preset sets: its base, its failure threshold in each environment
/// (in [`Environment::ALL`] order: development, staging, production,
/// testing) and the values that set the service apart from its base.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Preset {
    pub(crate) base: &'static str,
    pub(crate) failure_thresholds: [u32; 4],
    pub(crate) values: Vec<(&'static str, Value)>,
}

impl Preset {
    /// The failure threshold the preset sets in `environment`.
    pub(crate) fn failure_threshold(&self, environment: Environment) -> u32 {
        self.failure_thresholds[environment as usize]
    }
}

/// The preset called `name`, if there is one.
pub(crate) fn preset(name: &str) -> Option<Preset> {
    let base = PRESETS.iter().find(|(p, _)| *p == name)?.1;
    let d = |s| Value::Duration(Duration::from_secs(s));
    // Development, staging, production, testing.
    let (failure_thresholds, values): ([u32; 4], Vec<(&'static str, Value)>) = match name {
        // Hosted LLMs: long generations are normal, so only very slow calls count as slow.
        "claude" | "gpt4" | "deepseek" => ([5, 4, 3, 5], vec![("slow_call_duration_threshold", d(45))]),
        "gemini" => ([6, 5, 3, 8], vec![]),
        // Fast inference: a slow call is a symptom, and a short deadline sheds load sooner.
        "groq" => (
            [3, 3, 2, 3],
            vec![
                ("slow_call_duration_threshold", d(5)),
                ("call_timeout.duration", d(15)),
            ],
        ),
        // Local models fail often while loading and run slowly on modest hardware.
        "ollama" => (
            [30, 20, 15, 50],
            vec![
                ("slow_call_duration_threshold", d(120)),
                ("call_timeout.duration", d(300)),
                ("retry.max_attempts", Value::Int(1)),
            ],
        ),
        // Cold starts on shared inference endpoints take minutes.
        "huggingface" => ([6, 5, 3, 8], vec![("call_timeout.duration", d(120))]),
        "docker" => ([6, 5, 3, 8], vec![("call_timeout.duration", d(120))]),
        "kubernetes" => ([8, 5, 3, 10], vec![]),
        // Local file and shell tools: failures are usually the command's, not the server's.
        "desktop_commander" => (
            [20, 10, 5, 30],
            vec![("bulkhead.max_concurrent_calls", Value::Int(5))],
        ),
        "prometheus" => ([4, 3, 2, 5], vec![("call_timeout.duration", d(10))]),
        // Slack rate-limits with Retry-After.
        "slack" => (
            [6, 5, 3, 8],
            vec![("retry.respect_retry_after", Value::Bool(true))],
        ),
        "s3" => ([4, 3, 2, 5], vec![("retry.max_attempts", Value::Int(3))]),
        // Scans of large trees are slow by nature.
        "security_scanner" => ([8, 5, 3, 10], vec![("call_timeout.duration", d(300))]),
        _ => return None,
    };
    Some(Preset {
        base,
        failure_thresholds,
        values,
    })
}
