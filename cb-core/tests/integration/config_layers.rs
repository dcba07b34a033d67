//! R78: each layer overrides the one below it, field by field.

use std::collections::HashMap;

use cb_core::config::{
    ConfigFile, ConfigLayers, Environment, Explanation, Layer, Overrides, Settings, Template,
};

/// Two distinct valid values for every field, written as a file, a variable
/// or code would write them. Each is valid on its own over the defaults.
const FIELDS: &[(&str, &str, &str)] = &[
    ("circuit_type", "percentage_based", "time_based"),
    ("failure_threshold", "7", "8"),
    ("success_threshold", "4", "6"),
    ("open_duration", "70s", "80s"),
    ("half_open_max_calls", "4", "5"),
    ("failure_rate_threshold", "0.25", "0.75"),
    ("minimum_calls", "11", "12"),
    ("sliding_window_size", "30", "40"),
    ("window_duration", "20s", "40s"),
    ("window_buckets", "4", "8"),
    ("slow_call_rate_threshold", "0.6", "0.9"),
    ("slow_call_duration_threshold", "2s", "3s"),
    ("open_duration_multiplier", "1.5", "3"),
    ("max_open_duration", "120s", "240s"),
    ("half_open_max_wait", "7s", "9s"),
    ("closed_count_interval", "3600s", "7200s"),
    ("service_category", "ai", "ml"),
    ("priority", "2", "3"),
    ("retry.max_attempts", "4", "5"),
    ("retry.base_delay", "1s", "2s"),
    ("retry.multiplier", "1.5", "3"),
    ("retry.max_delay", "20s", "40s"),
    ("retry.jitter", "equal", "decorrelated"),
    ("retry.max_elapsed", "50s", "60s"),
    ("retry.respect_retry_after", "true", "false"),
    ("bulkhead.enabled", "true", "false"),
    ("bulkhead.max_concurrent_calls", "7", "9"),
    ("bulkhead.queue_timeout", "1s", "2s"),
    ("bulkhead.max_queue_len", "0", "10"),
    ("bulkhead.isolation_pool_name", "pool_a", "pool_b"),
    ("call_timeout.enabled", "true", "false"),
    ("call_timeout.duration", "20s", "25s"),
    ("health_check.enabled", "true", "false"),
    ("health_check.interval", "20s", "40s"),
    ("health_check.timeout", "2s", "4s"),
    ("health_check.healthy_threshold", "2", "3"),
    ("health_check.unhealthy_threshold", "4", "5"),
    ("health_check.url", "https://a.example/h", "https://b.example/h"),
    ("health_check.check", "db_ping", "cache_ping"),
    ("classify.failure", "Unavailable", "5xx"),
    ("classify.excluded", "NotFound", "404"),
];

const TEXT_FIELDS: [&str; 4] = [
    "service_category",
    "bulkhead.isolation_pool_name",
    "health_check.url",
    "health_check.check",
];

/// Where a test puts a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum At {
    Template,
    File,
    GlobalVar,
    BreakerVar,
    Code,
}

impl At {
    fn layer(self) -> Layer {
        match self {
            At::Template => Layer::Template,
            At::File => Layer::File,
            At::GlobalVar | At::BreakerVar => Layer::EnvVar,
            At::Code => Layer::Code,
        }
    }
}

fn var_name(prefix: &str, path: &str) -> String {
    format!("{prefix}{}", path.replace('.', "_").to_ascii_uppercase())
}

fn yaml_for(path: &str, value: &str) -> String {
    match path.split_once('.') {
        Some((sec, key)) => format!("instances:\n  svc:\n    {sec}:\n      {key}: {value}\n"),
        None => format!("instances:\n  svc:\n    {path}: {value}\n"),
    }
}

/// Resolves breaker `svc` in production with `path` set at each `(layer, value)`.
fn explain_with(path: &str, sets: &[(At, &str)]) -> Explanation {
    let mut vars = HashMap::new();
    let mut overrides = Overrides::new();
    let mut template = None;
    let mut yaml = None;
    for &(at, value) in sets {
        match at {
            At::Template => template = Some(Template::new("t").set(path, value)),
            At::File => yaml = Some(yaml_for(path, value)),
            At::GlobalVar => {
                vars.insert(var_name("CIRCUIT_BREAKER_", path), value.to_owned());
            }
            At::BreakerVar => {
                vars.insert(var_name("CIRCUIT_BREAKER_SVC_", path), value.to_owned());
            }
            At::Code => overrides = overrides.set(path, value),
        }
    }
    let mut layers = ConfigLayers::new(Environment::Production).with_env_source(vars.clone());
    if let Some(t) = template {
        layers.add_template(t).expect("valid template");
        overrides = overrides.template("t");
    }
    if let Some(y) = yaml {
        let file = ConfigFile::from_yaml(&y, &vars).unwrap_or_else(|e| panic!("{path}: {e}"));
        layers = layers.with_file(file).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    layers
        .explain("svc", &overrides)
        .unwrap_or_else(|e| panic!("{path} {sets:?}: {e}"))
}

fn shown(path: &str, raw: &str) -> String {
    if TEXT_FIELDS.contains(&path) {
        format!("{raw:?}")
    } else if path.starts_with("classify.") {
        // A list of one, however it was written.
        format!("[{raw:?}]")
    } else {
        raw.to_owned()
    }
}

#[test]
fn r78_the_table_covers_every_field() {
    let paths: Vec<&str> = Settings::default().values().into_iter().map(|(p, _)| p).collect();
    let ours: Vec<&str> = FIELDS.iter().map(|(p, _, _)| *p).collect();
    assert_eq!(ours, paths, "add the new field to FIELDS");
}

#[test]
fn r78_each_layer_overrides_the_one_below_per_field() {
    let order = [At::Template, At::File, At::GlobalVar, At::BreakerVar, At::Code];
    for &(path, x, y) in FIELDS {
        for pair in order.windows(2) {
            let (lower, upper) = (pair[0], pair[1]);
            let alone = explain_with(path, &[(lower, x)]);
            let field = alone.get(path).unwrap();
            assert_eq!(
                field.value.as_deref(),
                Some(shown(path, x).as_str()),
                "{path} at {lower:?}"
            );
            assert_eq!(
                field.source.layer(),
                lower.layer(),
                "{path} at {lower:?}: {}",
                field.source
            );

            let both = explain_with(path, &[(lower, x), (upper, y)]);
            let field = both.get(path).unwrap();
            assert_eq!(
                field.value.as_deref(),
                Some(shown(path, y).as_str()),
                "{path}: {upper:?} over {lower:?}"
            );
            assert_eq!(
                field.source.layer(),
                upper.layer(),
                "{path}: {upper:?} over {lower:?}"
            );
        }
    }
}

#[test]
fn r78_per_breaker_variable_beats_the_global_one() {
    let e = explain_with(
        "failure_threshold",
        &[(At::GlobalVar, "7"), (At::BreakerVar, "8")],
    );
    let f = e.get("failure_threshold").unwrap();
    assert_eq!(
        f.source.to_string(),
        "env `CIRCUIT_BREAKER_SVC_FAILURE_THRESHOLD`"
    );
    let e = explain_with("failure_threshold", &[(At::GlobalVar, "7")]);
    assert_eq!(
        e.get("failure_threshold").unwrap().source.to_string(),
        "env `CIRCUIT_BREAKER_FAILURE_THRESHOLD`"
    );
}

#[test]
fn r78_defaults_then_environment_then_template_then_file() {
    // The environment sets exactly failure_threshold, open_duration and failure_rate_threshold.
    let layers = ConfigLayers::new(Environment::Staging).with_env_source(HashMap::new());
    let plain = layers.explain("svc", &Overrides::new()).unwrap();
    assert_eq!(plain.get("minimum_calls").unwrap().source.layer(), Layer::Default);
    assert_eq!(
        plain.get("failure_threshold").unwrap().source.layer(),
        Layer::Environment
    );

    let mut layers = layers;
    layers
        .add_template(
            Template::new("t")
                .set("failure_threshold", 9u32)
                .set("minimum_calls", 4u32),
        )
        .unwrap();
    let e = layers.explain("svc", &Overrides::new().template("t")).unwrap();
    assert_eq!(e.get("minimum_calls").unwrap().value.as_deref(), Some("4"));
    assert_eq!(e.get("minimum_calls").unwrap().source.layer(), Layer::Template);
    // What the template declares beats the environment's generic profile...
    assert_eq!(e.get("failure_threshold").unwrap().value.as_deref(), Some("9"));
    assert_eq!(
        e.get("failure_threshold").unwrap().source.to_string(),
        "template `t`"
    );
    // ...which still fills what the template leaves.
    assert_eq!(
        e.get("open_duration").unwrap().source.to_string(),
        "environment `staging`"
    );

    let file =
        ConfigFile::from_yaml("instances:\n  svc:\n    failure_threshold: 2\n", &HashMap::new()).unwrap();
    let layers = layers.with_file(file).unwrap();
    let e = layers.explain("svc", &Overrides::new().template("t")).unwrap();
    assert_eq!(e.get("failure_threshold").unwrap().value.as_deref(), Some("2"));
    assert_eq!(
        e.get("failure_threshold").unwrap().source.to_string(),
        "file `instances.svc.failure_threshold`"
    );
}

#[test]
fn r78_instance_beats_its_shared_config_which_beats_configs_default() {
    let yaml = "
configs:
  default: { minimum_calls: 7, success_threshold: 7, half_open_max_calls: 7 }
  shared: { base_config: root, success_threshold: 8, half_open_max_calls: 8 }
  root: { half_open_max_calls: 6, sliding_window_size: 66 }
instances:
  svc: { base_config: shared, half_open_max_calls: 9 }
";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let layers = ConfigLayers::new(Environment::Production)
        .with_env_source(HashMap::new())
        .with_file(file)
        .unwrap();
    let e = layers.explain("svc", &Overrides::new()).unwrap();
    let at = |p: &str| {
        let f = e.get(p).unwrap();
        (f.value.clone().unwrap(), f.source.to_string())
    };
    assert_eq!(
        at("minimum_calls"),
        ("7".into(), "file `configs.default.minimum_calls`".into())
    );
    assert_eq!(
        at("sliding_window_size"),
        ("66".into(), "file `configs.root.sliding_window_size`".into())
    );
    assert_eq!(
        at("success_threshold"),
        ("8".into(), "file `configs.shared.success_threshold`".into())
    );
    assert_eq!(
        at("half_open_max_calls"),
        ("9".into(), "file `instances.svc.half_open_max_calls`".into())
    );
    // A breaker the file does not name still gets configs.default.
    let other = layers.explain("other", &Overrides::new()).unwrap();
    assert_eq!(other.get("minimum_calls").unwrap().value.as_deref(), Some("7"));
}

#[test]
fn r78_template_named_by_code_beats_the_files() {
    let yaml = "instances:\n  svc:\n    template: database\n";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let layers = ConfigLayers::new(Environment::Production)
        .with_env_source(HashMap::new())
        .with_file(file)
        .unwrap();
    assert_eq!(
        layers.explain("svc", &Overrides::new()).unwrap().template,
        "database"
    );
    let e = layers
        .explain("svc", &Overrides::new().template("mcp_server"))
        .unwrap();
    assert_eq!(e.template, "mcp_server");
    assert_eq!(
        e.get("circuit_type").unwrap().value.as_deref(),
        Some("count_based")
    );
}

#[test]
fn r78_runtime_overrides_beat_declared_and_passed_ones() {
    let mut layers = ConfigLayers::new(Environment::Production).with_env_source(HashMap::new());
    layers.declare(
        "svc",
        Overrides::new()
            .template("database")
            .set("minimum_calls", 3u32)
            .set("priority", 1u32),
    );
    layers.set_overrides("svc", Overrides::new().set("minimum_calls", 5u32));
    let s = layers
        .resolve_settings(
            "svc",
            &Overrides::new().set("minimum_calls", 4u32).set("priority", 2u32),
        )
        .unwrap();
    assert_eq!(s.breaker.minimum_calls, 5);
    assert_eq!(s.breaker.priority, Some(2));
    assert_eq!(
        s.breaker.sliding_window_size, 50,
        "declared template `database` applies"
    );
}

#[test]
fn r78_explain_prints_every_field_with_its_layer() {
    let vars = HashMap::from([(
        "CIRCUIT_BREAKER_CLAUDE_MINIMUM_CALLS".to_string(),
        "12".to_string(),
    )]);
    let layers = ConfigLayers::new(Environment::Production).with_env_source(vars);
    let e = layers
        .explain(
            "claude",
            &Overrides::new().template("ai_provider").set("priority", 1u32),
        )
        .unwrap();
    let text = e.to_string();
    assert!(
        text.starts_with("claude (template `ai_provider`, environment `production`)"),
        "{text}"
    );
    for line in [
        "circuit_type",
        "adaptive",
        "template `ai_provider`",
        "environment `production`",
        "env `CIRCUIT_BREAKER_CLAUDE_MINIMUM_CALLS`",
        "code",
    ] {
        assert!(text.contains(line), "{line} missing in\n{text}");
    }
    assert_eq!(text.lines().count(), 1 + Settings::default().values().len());
}

#[test]
fn r78_an_empty_variable_counts_as_unset() {
    let vars = HashMap::from([("CIRCUIT_BREAKER_FAILURE_THRESHOLD".to_string(), String::new())]);
    let layers = ConfigLayers::new(Environment::Production).with_env_source(vars);
    let e = layers.explain("svc", &Overrides::new()).unwrap();
    assert_eq!(
        e.get("failure_threshold").unwrap().source.layer(),
        Layer::Environment
    );
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn r78_the_python_services_variables_are_read_only_when_switched_on() {
    let python = vars(&[
        ("MAX_RETRY_ATTEMPTS", "5"),
        ("RETRY_BASE_DELAY", "0.5"),
        ("RETRY_MAX_DELAY", "30"),
        ("RETRY_EXPONENTIAL_BASE", "3"),
        ("RETRY_JITTER_ENABLED", "False"),
        ("HEALTH_CHECK_INTERVAL", "20"),
        ("HEALTH_CHECK_TIMEOUT", "4s"),
    ]);
    let off = ConfigLayers::new(Environment::Production).with_env_source(python.clone());
    assert!(!off.legacy_variables());
    let s = off.resolve_settings("svc", &Overrides::new()).unwrap();
    assert_eq!(s.retry, Settings::default().retry);
    assert_eq!(s.health_check, Settings::default().health_check);

    let on = off.with_legacy_variables(true);
    let e = on.explain("svc", &Overrides::new()).unwrap();
    for (path, value, var) in [
        ("retry.max_attempts", "5", "MAX_RETRY_ATTEMPTS"),
        ("retry.base_delay", "500ms", "RETRY_BASE_DELAY"),
        ("retry.max_delay", "30s", "RETRY_MAX_DELAY"),
        ("retry.multiplier", "3", "RETRY_EXPONENTIAL_BASE"),
        ("retry.jitter", "none", "RETRY_JITTER_ENABLED"),
        ("health_check.interval", "20s", "HEALTH_CHECK_INTERVAL"),
        ("health_check.timeout", "4s", "HEALTH_CHECK_TIMEOUT"),
    ] {
        let f = e.get(path).unwrap();
        assert_eq!(f.value.as_deref(), Some(value), "{path}");
        assert_eq!(f.source.to_string(), format!("env `{var}`"), "{path}");
    }
    assert_eq!(e.settings.retry.jitter, cb_core::config::Jitter::None);

    // `true` is the default jitter; the SDK's own variables win over the old names.
    let both = vars(&[
        ("RETRY_JITTER_ENABLED", "true"),
        ("MAX_RETRY_ATTEMPTS", "5"),
        ("CIRCUIT_BREAKER_RETRY_MAX_ATTEMPTS", "2"),
        ("CB_LEGACY_VARIABLES", "true"),
    ]);
    let layers = ConfigLayers::from_env_source(both).unwrap();
    assert!(layers.legacy_variables());
    let s = layers.resolve_settings("svc", &Overrides::new()).unwrap();
    assert_eq!(s.retry.jitter, cb_core::config::Jitter::Full);
    assert_eq!(s.retry.max_attempts, 2);

    // A value that is not a boolean, or out of range, names the old variable.
    let bad = vars(&[("RETRY_JITTER_ENABLED", "sometimes"), ("MAX_RETRY_ATTEMPTS", "0")]);
    let err = ConfigLayers::new(Environment::Production)
        .with_env_source(bad)
        .with_legacy_variables(true)
        .resolve("svc", &Overrides::new())
        .unwrap_err();
    let lines: Vec<String> = err.violations().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "retry.max_attempts = \"0\" (from ${MAX_RETRY_ATTEMPTS}): must be an integer >= 1",
            "retry.jitter = \"sometimes\" (from ${RETRY_JITTER_ENABLED}): must be true or false",
        ]
    );
    let err = ConfigLayers::from_env_source(vars(&[("CB_LEGACY_VARIABLES", "yes")])).unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "CB_LEGACY_VARIABLES = \"yes\": must be `true` or `false`"
    );
}
