//! Files: the Python services' example file, both formats, shared configs, interpolation (R80).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use cb_core::config::{ConfigFile, ConfigLayers, Detector, Environment, Format, Layer, LoadError, Overrides};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn layers_with(file: ConfigFile) -> ConfigLayers {
    ConfigLayers::new(Environment::Production)
        .with_env_source(HashMap::new())
        .with_file(file)
        .expect("valid file")
}

#[test]
fn the_python_services_example_file_loads_as_written() {
    for name in ["claude_production.yaml", "claude_production.toml"] {
        let file = ConfigFile::load(fixture(name), &HashMap::new()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(file.instance_names().collect::<Vec<_>>(), ["claude_production"]);
        let layers = layers_with(file);
        let e = layers.explain("claude_production", &Overrides::new()).unwrap();
        assert_eq!(e.template, "ai_provider", "metadata.template names the template");
        let s = &e.settings;
        assert_eq!(s.breaker.circuit_type, Detector::Adaptive);
        assert_eq!(s.breaker.failure_threshold, 2);
        assert_eq!(
            s.breaker.open_duration,
            Duration::from_secs(30),
            "`timeout` is the open duration"
        );
        assert_eq!(s.breaker.failure_rate_threshold, 0.3);
        assert_eq!(s.breaker.minimum_calls, 10);
        assert_eq!(s.breaker.service_category.as_deref(), Some("ai"));
        assert_eq!(s.breaker.priority, Some(1));
        assert!(s.bulkhead.enabled);
        assert_eq!(s.bulkhead.max_concurrent_calls, 20);
        assert_eq!(s.bulkhead.isolation_pool_name.as_deref(), Some("ai_claude_prod"));
        assert_eq!(s.bulkhead.queue_timeout, Duration::from_secs(10));
        assert!(s.health_check.enabled);
        assert_eq!(s.health_check.interval, Duration::from_secs(30));
        assert_eq!(s.health_check.timeout, Duration::from_secs(5));
        assert_eq!(s.breaker.sliding_window_size, 20, "from ai_provider");
        assert_eq!(
            e.get("failure_threshold").unwrap().source.to_string(),
            "file `failure_threshold`"
        );
        assert_eq!(
            e.get("health_check.interval").unwrap().source.to_string(),
            "file `health_check_config.health_check_interval`"
        );
        let cfg = s.breaker_config();
        assert_eq!(cfg.failure_rate_threshold, Some(0.3));
        assert_eq!(cfg.open_duration, Duration::from_secs(30));
        // Its `metadata:` is kept and queryable, not skipped.
        let m = layers.metadata("claude_production");
        assert_eq!(m.tags, ["ai", "production", "critical"]);
        assert_eq!(m.environment, Some(Environment::Production));
        assert_eq!(m.version.as_deref(), Some("1.0.0"));
        assert_eq!(m.description.as_deref(), Some("Production Claude configuration"));
        assert_eq!(layers.tagged("critical"), ["claude_production"]);
        assert_eq!(
            layers.for_environment(Environment::Production),
            ["claude_production"]
        );
        assert!(layers.for_environment(Environment::Staging).is_empty());
        assert_eq!(
            layers.by_priority().unwrap(),
            [("claude_production".to_string(), 1)]
        );
    }
}

#[test]
fn a_multi_file_in_yaml_and_toml_resolves_the_same() {
    let yaml = "
templates:
  chat: { base: ai_provider, minimum_calls: 8 }
configs:
  default:
    retry: { max_attempts: 2 }
  critical:
    template: chat
    failure_threshold: 2
instances:
  claude:
    base_config: critical
    open_duration: 45s
    call_timeout: { duration: 90s }
";
    let toml = r#"
[templates.chat]
base = "ai_provider"
minimum_calls = 8

[configs.default.retry]
max_attempts = 2

[configs.critical]
template = "chat"
failure_threshold = 2

[instances.claude]
base_config = "critical"
open_duration = "45s"
call_timeout = { duration = "90s" }
"#;
    let a = layers_with(ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap());
    let b = layers_with(ConfigFile::from_toml(toml, &HashMap::new()).unwrap());
    let sa = a.resolve_settings("claude", &Overrides::new()).unwrap();
    let sb = b.resolve_settings("claude", &Overrides::new()).unwrap();
    assert_eq!(sa, sb);
    assert_eq!(sa.breaker.minimum_calls, 8);
    assert_eq!(sa.breaker.failure_threshold, 2);
    assert_eq!(sa.breaker.open_duration, Duration::from_secs(45));
    assert_eq!(sa.retry.max_attempts, 2);
    assert_eq!(sa.call_timeout.duration, Duration::from_secs(90));
    assert!(sa.call_timeout.enabled);
}

#[test]
fn a_section_written_in_a_file_is_on_unless_it_says_otherwise() {
    let l =
        layers_with(ConfigFile::from_yaml("bulkhead: { max_concurrent_calls: 4 }", &HashMap::new()).unwrap());
    let e = l.explain("x", &Overrides::new()).unwrap();
    assert!(e.settings.bulkhead.enabled);
    assert_eq!(e.get("bulkhead.enabled").unwrap().source.layer(), Layer::File);
    let l = layers_with(
        ConfigFile::from_yaml(
            "bulkhead: { enabled: false, max_concurrent_calls: 4 }",
            &HashMap::new(),
        )
        .unwrap(),
    );
    assert!(
        !l.resolve_settings("x", &Overrides::new())
            .unwrap()
            .bulkhead
            .enabled
    );
}

#[test]
fn durations_accept_numbers_and_human_strings() {
    let yaml = "open_duration: 2m\nslow_call_duration_threshold: 1.5\nretry: { base_delay: 250ms, max_delay: \"1h\" }";
    let s = layers_with(ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap())
        .resolve_settings("x", &Overrides::new())
        .unwrap();
    assert_eq!(s.breaker.open_duration, Duration::from_secs(120));
    assert_eq!(
        s.breaker.slow_call_duration_threshold,
        Duration::from_millis(1500)
    );
    assert_eq!(s.retry.base_delay, Duration::from_millis(250));
    assert_eq!(s.retry.max_delay, Duration::from_secs(3600));
}

#[test]
fn r80_variables_and_defaults_are_interpolated_before_checking() {
    let env = vars(&[("FT", "4"), ("POOL", "ai"), ("EMPTY", "")]);
    let yaml = "failure_threshold: ${FT}\nopen_duration: ${RT:-90s}\nminimum_calls: \"${EMPTY:-6}\"\n\
                bulkhead: { isolation_pool_name: \"${POOL}_pool\" }";
    let l = layers_with(ConfigFile::from_yaml(yaml, &env).unwrap());
    let s = l.resolve_settings("x", &Overrides::new()).unwrap();
    assert_eq!(s.breaker.failure_threshold, 4);
    assert_eq!(s.breaker.open_duration, Duration::from_secs(90));
    assert_eq!(s.breaker.minimum_calls, 6);
    assert_eq!(s.bulkhead.isolation_pool_name.as_deref(), Some("ai_pool"));
}

fn invalid(result: Result<ConfigFile, LoadError>) -> Vec<String> {
    match result {
        Err(LoadError::Invalid(e)) => e.violations().iter().map(ToString::to_string).collect(),
        other => panic!("expected invalid values, got {other:?}"),
    }
}

#[test]
fn r80_a_missing_variable_without_default_names_the_variable_and_the_field() {
    assert_eq!(
        invalid(ConfigFile::from_yaml(
            "instances:\n  svc:\n    failure_threshold: ${CB_FT}",
            &HashMap::new()
        )),
        [
            "instances.svc.failure_threshold = \"${CB_FT}\": environment variable `CB_FT` is not set and has no default"
        ]
    );
}

#[test]
fn r80_an_unparsable_value_names_the_variable_the_field_and_the_value() {
    let env = vars(&[("CB_FT", "three")]);
    assert_eq!(
        invalid(ConfigFile::from_yaml("failure_threshold: ${CB_FT}", &env)),
        ["failure_threshold = \"three\" (from ${CB_FT}): must be an integer >= 1"]
    );
    assert_eq!(
        invalid(ConfigFile::from_toml(
            "failure_rate_threshold = \"${RATE:-40}\"",
            &HashMap::new()
        )),
        ["failure_rate_threshold = \"40\" (from ${RATE}): must be > 0 and <= 1 (a fraction: 0.4 means 40%)"]
    );
}

#[test]
fn r80_malformed_interpolations() {
    assert_eq!(
        invalid(ConfigFile::from_yaml(
            "failure_threshold: \"${CB_FT\"",
            &HashMap::new()
        )),
        ["failure_threshold = \"${CB_FT\": unterminated `${` (write `${VAR}` or `${VAR:-default}`)"]
    );
    assert_eq!(
        invalid(ConfigFile::from_yaml(
            "failure_threshold: \"${CB FT}\"",
            &HashMap::new()
        )),
        [
            "failure_threshold = \"${CB FT}\": invalid variable name `CB FT` in `${...}` (use letters, digits and `_`)"
        ]
    );
    assert_eq!(
        invalid(ConfigFile::from_yaml("template: ${TPL}", &HashMap::new())),
        ["template = \"${TPL}\": environment variable `TPL` is not set and has no default"]
    );
}

#[test]
fn syntax_errors_give_a_position_and_never_quote_the_document() {
    let err = ConfigFile::from_toml(
        "password = \"hunter2\"\nfailure_threshold = = 3\n",
        &HashMap::new(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            LoadError::Syntax {
                format: Format::Toml,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("line 2"), "{text}");
    assert!(!text.contains("hunter2") && !text.contains("= ="), "{text}");
    let err = ConfigFile::from_yaml("a: [1, 2\nb: hunter2", &HashMap::new()).unwrap_err();
    assert!(
        matches!(
            err,
            LoadError::Syntax {
                format: Format::Yaml,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn files_are_chosen_by_extension() {
    let err = ConfigFile::load(fixture("nothing.json"), &HashMap::new()).unwrap_err();
    assert!(matches!(err, LoadError::UnknownFormat(_)), "{err}");
    let err = ConfigFile::load(fixture("missing.yaml"), &HashMap::new()).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err}");
    assert_eq!(Format::from_path("a/b.YML".as_ref()), Some(Format::Yaml));
}

#[test]
fn an_empty_document_is_an_empty_file() {
    let file = ConfigFile::from_yaml("", &HashMap::new()).unwrap();
    assert_eq!(file, ConfigFile::default());
    let file = ConfigFile::from_toml("", &HashMap::new()).unwrap();
    assert_eq!(file, ConfigFile::default());
}

#[test]
fn the_open_duration_answers_to_its_older_names_in_files_and_variables() {
    // `open_duration` is the one name in code and macros; files and
    // variables written for the Python services or pybreaker keep working.
    for (key, grown, max) in [
        (
            "recovery_timeout",
            "recovery_timeout_multiplier",
            "max_recovery_timeout",
        ),
        ("reset_timeout", "open_duration_multiplier", "max_open_duration"),
        ("timeout", "open_duration_multiplier", "max_open_duration"),
    ] {
        let yaml = format!("{key}: 20s\n{grown}: 2\n{max}: 80s");
        let s = layers_with(ConfigFile::from_yaml(&yaml, &HashMap::new()).unwrap())
            .resolve_settings("x", &Overrides::new())
            .unwrap();
        assert_eq!(s.breaker.open_duration, Duration::from_secs(20), "{key}");
        assert_eq!(s.breaker.open_duration_multiplier, 2.0, "{grown}");
        assert_eq!(
            s.breaker.max_open_duration,
            Some(Duration::from_secs(80)),
            "{max}"
        );
    }
    for var in [
        "CIRCUIT_BREAKER_X_RECOVERY_TIMEOUT",
        "CIRCUIT_BREAKER_X_RESET_TIMEOUT",
        "CIRCUIT_BREAKER_X_TIMEOUT",
    ] {
        let s = ConfigLayers::new(Environment::Production)
            .with_env_source(vars(&[(var, "25s")]))
            .resolve_settings("x", &Overrides::new())
            .unwrap();
        assert_eq!(s.breaker.open_duration, Duration::from_secs(25), "{var}");
    }
}

#[test]
fn pybreaker_and_gobreaker_setting_names_are_aliases_in_files_and_variables() {
    // pybreaker's `fail_max` / `reset_timeout`, gobreaker's `max_requests` /
    // `interval` (top level: the closed state's count interval; inside
    // `health_check`, `interval` stays the time between checks).
    let yaml = "fail_max: 4\nreset_timeout: 20s\nmax_requests: 2\ninterval: 1h\n\
                health_check:\n  interval: 15s\n  timeout: 3s\n";
    let s = layers_with(ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap())
        .resolve_settings("x", &Overrides::new())
        .unwrap();
    assert_eq!(s.breaker.failure_threshold, 4);
    assert_eq!(s.breaker.open_duration, Duration::from_secs(20));
    assert_eq!(s.breaker.half_open_max_calls, 2);
    assert_eq!(s.breaker.closed_count_interval, Some(Duration::from_secs(3600)));
    assert_eq!(s.health_check.interval, Duration::from_secs(15));

    let env = vars(&[
        ("CIRCUIT_BREAKER_FAIL_MAX", "6"),
        ("CIRCUIT_BREAKER_X_RESET_TIMEOUT", "25s"),
        ("CIRCUIT_BREAKER_MAX_REQUESTS", "4"),
        ("CIRCUIT_BREAKER_X_INTERVAL", "30m"),
    ]);
    let layers = ConfigLayers::from_env_source(env).unwrap();
    let s = layers.resolve_settings("x", &Overrides::new()).unwrap();
    assert_eq!(s.breaker.failure_threshold, 6);
    assert_eq!(s.breaker.open_duration, Duration::from_secs(25));
    assert_eq!(s.breaker.half_open_max_calls, 4);
    assert_eq!(s.breaker.closed_count_interval, Some(Duration::from_secs(1800)));
    let why = layers.explain("x", &Overrides::new()).unwrap();
    assert_eq!(
        why.get("half_open_max_calls").unwrap().source.to_string(),
        "env `CIRCUIT_BREAKER_MAX_REQUESTS`"
    );
}

#[test]
fn configurations_are_found_by_tag_environment_and_priority() {
    let yaml = "
configs:
  default: { metadata: { tags: [managed] } }
  llm: { priority: 2, metadata: { tags: [ai], environment: staging, description: LLM providers } }
instances:
  claude: { base_config: llm, priority: 1, metadata: { tags: [critical, ai], environment: prod } }
  ollama: { base_config: llm, description: Local models }
  orders: { metadata: { tags: [critical] } }
";
    let layers = layers_with(ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap());
    assert_eq!(layers.tagged("critical"), ["claude", "orders"]);
    assert_eq!(layers.tagged("ai"), ["claude", "ollama"], "inherited from `llm`");
    assert_eq!(
        layers.tagged("managed"),
        ["claude", "ollama", "orders"],
        "from `configs.default`"
    );
    assert!(layers.tagged("nothing").is_empty());
    // The nearest configuration's environment wins: `claude` says production itself.
    assert_eq!(layers.for_environment(Environment::Production), ["claude"]);
    assert_eq!(layers.for_environment(Environment::Staging), ["ollama"]);
    let claude = layers.metadata("claude");
    assert_eq!(
        claude.tags,
        ["managed", "ai", "critical"],
        "combined, base first, no repeats"
    );
    assert_eq!(claude.description.as_deref(), Some("LLM providers"));
    assert_eq!(
        layers.metadata("ollama").description.as_deref(),
        Some("Local models")
    );
    assert_eq!(
        layers.by_priority().unwrap(),
        [("claude".to_string(), 1), ("ollama".to_string(), 2)],
        "priority is a label: it orders this list and nothing else"
    );
    let plain = layers.resolve("claude", &Overrides::new()).unwrap();
    let mut unlabelled = layers.clone();
    unlabelled.set_overrides("claude", Overrides::new().set("priority", 9u32));
    assert_eq!(unlabelled.resolve("claude", &Overrides::new()).unwrap(), plain);
}

#[test]
fn metadata_that_cannot_be_a_label_is_an_error_naming_the_field() {
    let err = |yaml: &str| {
        ConfigFile::from_yaml(yaml, &HashMap::new())
            .unwrap_err()
            .to_string()
    };
    let e = err("instances:\n  a: { metadata: { environment: prodution } }");
    assert!(
        e.contains(
            "instances.a.metadata.environment = \"prodution\": must be one of `development`, `staging`, \
             `production`, `testing`; did you mean `production`?"
        ),
        "{e}"
    );
    let e = err("instances:\n  a: { metadata: { tags: critical } }");
    assert!(
        e.contains("instances.a.metadata.tags = <a string>: must be a list of strings, e.g. [ai, critical]"),
        "{e}"
    );
    let e = err("instances:\n  a: { metadata: { tags: [ok, { x: 1 }] } }");
    assert!(
        e.contains("instances.a.metadata.tags[1] = <a mapping>: must be a string"),
        "{e}"
    );
}
