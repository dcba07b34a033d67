//! The loader never panics, whatever the document: a bounded random-document
//! generator (structured documents, mutated real files and raw noise, in
//! YAML and TOML) feeds `ConfigFile::parse`, and whatever parses is resolved
//! and explained too. A fixed RNG seed per run keeps failures reproducible; set
//! `CB_FUZZ_ITERATIONS` to run longer.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use cb_core::config::{ConfigFile, ConfigLayers, Environment, Format, Overrides};

/// xorshift64*: small, seedable, good enough to pick shapes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const KEYS: &[&str] = &[
    "name",
    "template",
    "base_config",
    "base",
    "metadata",
    "description",
    "templates",
    "configs",
    "instances",
    "breakers",
    "circuit_type",
    "failure_threshold",
    "fail_max",
    "success_threshold",
    "open_duration",
    "timeout",
    "half_open_max_calls",
    "failure_rate_threshold",
    "minimum_calls",
    "sliding_window_size",
    "window_duration",
    "window_buckets",
    "slow_call_rate_threshold",
    "slow_call_duration_threshold",
    "open_duration_multiplier",
    "max_open_duration",
    "half_open_max_wait",
    "closed_count_interval",
    "tool_level_breakers",
    "enable_tool_level_breakers",
    "service_category",
    "priority",
    "retry",
    "bulkhead",
    "bulkhead_config",
    "call_timeout",
    "health_check",
    "health_check_config",
    "max_attempts",
    "base_delay",
    "multiplier",
    "max_delay",
    "jitter",
    "max_elapsed",
    "respect_retry_after",
    "enabled",
    "max_concurrent_calls",
    "queue_timeout",
    "max_queue_len",
    "isolation_pool_name",
    "duration",
    "interval",
    "health_check_interval",
    "health_check_timeout",
    "url",
    "check",
    "healthy_threshold",
    "unhealthy_threshold",
    "default",
    "claude",
    "ai_provider",
    "database",
    "x",
    "",
    "ünïcödé",
    "a.b",
    "key with space",
];

const STRINGS: &[&str] = &[
    "30s",
    "500ms",
    "2m",
    "1h30m",
    "0",
    "-1s",
    "1e400",
    "nan",
    "inf",
    "adaptive",
    "count_based",
    "full",
    "none",
    "true",
    "false",
    "${X}",
    "${X:-3}",
    "${MISSING}",
    "${",
    "${}",
    "$$",
    "${A-B}",
    "https://u:p@h.example/x",
    "ftp://x",
    "ai_provider",
    "default",
    "claude",
    "",
    " ",
    "\u{0}",
    "\u{202e}",
    "💥",
    "9999999999999999999999",
    "0.4",
    "1.5",
    "${X:-${Y}}",
    "\\",
    "\"",
    "'",
];

#[derive(Debug, Clone)]
enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Doc>),
    Map(Vec<(String, Doc)>),
}

fn gen_doc(rng: &mut Rng, depth: usize) -> Doc {
    let leaf = depth >= 4 || rng.chance(55);
    if leaf {
        return match rng.below(6) {
            0 => Doc::Null,
            1 => Doc::Bool(rng.chance(50)),
            2 => Doc::Int(*rng.pick(&[0, 1, -1, 3, 100, i64::MAX, i64::MIN, u32::MAX as i64 + 1])),
            3 => Doc::Float(*rng.pick(&[0.0, -0.0, 0.4, 1.0, 1.5, f64::NAN, f64::INFINITY, -1e308, 1e-320])),
            _ => Doc::Str(rng.pick(STRINGS).to_string()),
        };
    }
    if rng.chance(20) {
        let n = rng.below(4);
        return Doc::List((0..n).map(|_| gen_doc(rng, depth + 1)).collect());
    }
    let n = rng.below(6);
    Doc::Map(
        (0..n)
            .map(|_| (rng.pick(KEYS).to_string(), gen_doc(rng, depth + 1)))
            .collect(),
    )
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn float_text(x: f64, yaml: bool) -> String {
    match (x.is_nan(), x.is_infinite(), yaml) {
        (true, _, true) => ".nan".into(),
        (true, _, false) => "nan".into(),
        (_, true, true) => {
            if x > 0.0 {
                ".inf".into()
            } else {
                "-.inf".into()
            }
        }
        (_, true, false) => {
            if x > 0.0 {
                "inf".into()
            } else {
                "-inf".into()
            }
        }
        _ => format!("{x:?}"),
    }
}

fn to_yaml(d: &Doc) -> String {
    match d {
        Doc::Null => "null".into(),
        Doc::Bool(b) => b.to_string(),
        Doc::Int(n) => n.to_string(),
        Doc::Float(x) => float_text(*x, true),
        Doc::Str(s) => quote(s),
        Doc::List(items) => format!("[{}]", items.iter().map(to_yaml).collect::<Vec<_>>().join(", ")),
        Doc::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}: {}", quote(k), to_yaml(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn to_toml_value(d: &Doc) -> Option<String> {
    Some(match d {
        Doc::Null => return None,
        Doc::Bool(b) => b.to_string(),
        Doc::Int(n) => n.to_string(),
        Doc::Float(x) => float_text(*x, false),
        Doc::Str(s) => quote(s),
        Doc::List(items) => format!(
            "[{}]",
            items
                .iter()
                .filter_map(to_toml_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Doc::Map(entries) => format!(
            "{{ {} }}",
            entries
                .iter()
                .filter_map(|(k, v)| to_toml_value(v).map(|v| format!("{} = {v}", quote(k))))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn to_toml(d: &Doc) -> String {
    match d {
        Doc::Map(entries) => entries
            .iter()
            .filter_map(|(k, v)| to_toml_value(v).map(|v| format!("{} = {v}\n", quote(k))))
            .collect(),
        other => to_toml_value(other)
            .map(|v| format!("x = {v}\n"))
            .unwrap_or_default(),
    }
}

const EXAMPLE_YAML: &str = include_str!("../fixtures/claude_production.yaml");
const EXAMPLE_TOML: &str = include_str!("../fixtures/claude_production.toml");
const NOISE: &[char] = &[
    ':', '-', ' ', '\n', '\t', '[', ']', '{', '}', '"', '\'', '#', '&', '*', '!', '|', '>', '=', ',', '.',
    '$', '%', '@', '`', '?', '0', '1', 'a', 'é', '\u{0}', '\u{feff}',
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.below(8) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(20)).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            1 => chars.insert(at.min(chars.len()), *rng.pick(NOISE)),
            2 if !chars.is_empty() => {
                let start = rng.below(chars.len());
                let end = (start + rng.below(40)).min(chars.len());
                let slice: Vec<char> = chars[start..end].to_vec();
                let at = at.min(chars.len());
                chars.splice(at..at, slice);
            }
            _ => {
                let s = rng.pick(STRINGS);
                let at = at.min(chars.len());
                chars.splice(at..at, s.chars());
            }
        }
    }
    chars.into_iter().collect()
}

fn noise(rng: &mut Rng) -> String {
    (0..rng.below(200)).map(|_| *rng.pick(NOISE)).collect()
}

/// Parses `text` and, if it is accepted, resolves every breaker it names.
/// Returns whether it was accepted; panics (failing the test) only if the
/// library panicked.
fn exercise(text: &str, format: Format) -> bool {
    let env: HashMap<String, String> = HashMap::from([("X".into(), "7".into()), ("Y".into(), "oops".into())]);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Ok(file) = ConfigFile::parse(text, format, &env) else {
            return false;
        };
        let names: Vec<String> = file.instance_names().map(str::to_owned).collect();
        let Ok(layers) = ConfigLayers::new(Environment::Production)
            .with_env_source(env.clone())
            .with_file(file)
        else {
            return false;
        };
        for name in names.iter().map(String::as_str).chain(["unnamed"]) {
            if let Ok(e) = layers.explain(name, &Overrides::new()) {
                let _ = e.to_string();
                e.settings
                    .breaker_config()
                    .validate()
                    .expect("resolved settings give a valid core config");
            }
        }
        true
    }));
    match outcome {
        Ok(accepted) => accepted,
        Err(_) => {
            let shown: String = text.chars().take(2000).collect();
            panic!(
                "the loader panicked on this {format} document ({} bytes):\n{shown}",
                text.len()
            )
        }
    }
}

#[test]
fn the_loader_never_panics_on_arbitrary_documents() {
    let iterations: usize = std::env::var("CB_FUZZ_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for i in 0..iterations {
        let doc = gen_doc(&mut rng, 0);
        accepted += usize::from(exercise(&to_yaml(&doc), Format::Yaml));
        accepted += usize::from(exercise(&to_toml(&doc), Format::Toml));
        exercise(&mutate(&mut rng, EXAMPLE_YAML), Format::Yaml);
        exercise(&mutate(&mut rng, EXAMPLE_TOML), Format::Toml);
        if i % 4 == 0 {
            let n = noise(&mut rng);
            exercise(&n, Format::Yaml);
            exercise(&n, Format::Toml);
        }
    }
    // The generator must reach the resolver, not only the syntax checks.
    assert!(
        accepted > iterations / 20,
        "only {accepted} documents were accepted"
    );
}

#[test]
fn hostile_documents_are_refused_without_panicking() {
    let deep = |open: &str, close: &str, n: usize| format!("a: {}1{}", open.repeat(n), close.repeat(n));
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
    let nested_block: String = (0..200).map(|i| format!("{}k:\n", "  ".repeat(i))).collect();
    let docs = [
        deep("[", "]", 100_000),
        deep("{a: ", "}", 10_000),
        laughs.to_owned(),
        nested_block,
        "failure_threshold: !!binary aGk=".into(),
        "failure_threshold: 99999999999999999999999999999".into(),
        format!("service_category: \"{}\"", "x".repeat(1 << 20)),
        "? [a, b]\n: 1".into(),
        "a: *undefined".into(),
        "---\na: 1\n---\nb: 2".into(),
        "\u{feff}failure_threshold: 3".into(),
    ];
    for doc in &docs {
        exercise(doc, Format::Yaml);
    }
    for doc in [
        format!("a = {}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("a = {}", "{ b = ".repeat(10_000)),
        "a.b.c.d.e.f.g.h = 1\n[a]\nb = 2".into(),
        "failure_threshold = 1979-05-27T07:32:00Z".into(),
        "failure_threshold = 0x7fffffffffffffff".into(),
    ] {
        exercise(&doc, Format::Toml);
    }
}
