//! R76/R77: every invalid value is reported, with its path, value and
//! allowed range, all at once; unknown keys get the nearest valid one.

use std::collections::HashMap;

use cb_core::config::{ConfigFile, ConfigLayers, Environment, LoadError, Overrides, Settings};

/// The violations of a single-form YAML document, as `path = value: allowed` lines.
fn errors(yaml: &str) -> Vec<String> {
    match ConfigFile::from_yaml(yaml, &HashMap::new()) {
        Ok(file) => match ConfigLayers::new(Environment::Production)
            .with_env_source(HashMap::new())
            .with_file(file)
        {
            Ok(_) => vec![],
            Err(e) => e.violations().iter().map(ToString::to_string).collect(),
        },
        Err(LoadError::Invalid(e)) => e.violations().iter().map(ToString::to_string).collect(),
        Err(other) => vec![other.to_string()],
    }
}

fn one(yaml: &str) -> String {
    let e = errors(yaml);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().expect("one violation")
}

const INT: &str = "must be an integer >= 1";
const FRACTION: &str = "must be > 0 and <= 1 (a fraction: 0.4 means 40%)";
const POSITIVE: &str = "must be a duration > 0 (seconds, or a string such as \"500ms\", \"30s\", \"2m\")";

#[test]
fn r76_integers_at_least_one() {
    for path in [
        "failure_threshold",
        "success_threshold",
        "half_open_max_calls",
        "minimum_calls",
        "sliding_window_size",
        "window_buckets",
        "priority",
    ] {
        assert_eq!(one(&format!("{path}: 0")), format!("{path} = 0: {INT}"));
    }
    for (sec, key) in [
        ("retry", "max_attempts"),
        ("bulkhead", "max_concurrent_calls"),
        ("health_check", "healthy_threshold"),
        ("health_check", "unhealthy_threshold"),
    ] {
        assert_eq!(
            one(&format!("{sec}:\n  {key}: 0")),
            format!("{sec}.{key} = 0: {INT}")
        );
    }
}

#[test]
fn r76_integers_reject_fractions_strings_negatives_and_overflow() {
    assert_eq!(
        one("failure_threshold: 2.5"),
        format!("failure_threshold = 2.5: {INT}")
    );
    assert_eq!(
        one("failure_threshold: three"),
        format!("failure_threshold = \"three\": {INT}")
    );
    assert_eq!(
        one("failure_threshold: -1"),
        format!("failure_threshold = -1: {INT}")
    );
    assert_eq!(
        one("failure_threshold: 5000000000"),
        "failure_threshold = 5000000000: must be an integer >= 1 and <= 4294967295"
    );
    assert_eq!(
        one("bulkhead:\n  max_queue_len: -1"),
        "bulkhead.max_queue_len = -1: must be an integer >= 0"
    );
}

#[test]
fn r76_rates_are_fractions() {
    assert_eq!(
        one("failure_rate_threshold: 1.5"),
        format!("failure_rate_threshold = 1.5: {FRACTION}")
    );
    assert_eq!(
        one("failure_rate_threshold: 0"),
        format!("failure_rate_threshold = 0: {FRACTION}")
    );
    assert_eq!(
        one("failure_rate_threshold: 40"),
        format!("failure_rate_threshold = 40: {FRACTION}")
    );
    assert_eq!(
        one("failure_rate_threshold: .nan"),
        format!("failure_rate_threshold = NaN: {FRACTION}")
    );
    assert_eq!(
        one("slow_call_rate_threshold: -0.1"),
        format!("slow_call_rate_threshold = -0.1: {FRACTION}")
    );
}

#[test]
fn r77_boundaries_are_accepted() {
    let yaml = "failure_rate_threshold: 1\nhalf_open_max_calls: 1\nminimum_calls: 1000\nsliding_window_size: 10\n\
                bulkhead:\n  queue_timeout: 0\nretry:\n  jitter: 0\n";
    assert_eq!(errors(yaml), Vec::<String>::new());
    assert_eq!(
        errors("retry:\n  jitter: 1\n  multiplier: 1\n"),
        Vec::<String>::new()
    );
}

#[test]
fn r76_durations_positive_or_non_negative() {
    for path in [
        "open_duration",
        "slow_call_duration_threshold",
        "window_duration",
        "half_open_max_wait",
    ] {
        assert_eq!(one(&format!("{path}: 0")), format!("{path} = 0: {POSITIVE}"));
    }
    for (sec, key) in [
        ("retry", "base_delay"),
        ("call_timeout", "duration"),
        ("health_check", "interval"),
        ("health_check", "timeout"),
        ("retry", "max_elapsed"),
    ] {
        let e = errors(&format!("{sec}:\n  {key}: 0s"));
        assert!(e.contains(&format!("{sec}.{key} = \"0s\": {POSITIVE}")), "{e:#?}");
    }
    assert_eq!(
        one("bulkhead:\n  queue_timeout: -1"),
        "bulkhead.queue_timeout = -1: must be a duration >= 0 (seconds, or a string such as \"500ms\", \"30s\", \"2m\")"
    );
    assert_eq!(
        one("open_duration: soon"),
        format!("open_duration = \"soon\": {POSITIVE}")
    );
}

#[test]
fn r76_multipliers_at_least_one() {
    assert_eq!(
        one("open_duration_multiplier: 0.5"),
        "open_duration_multiplier = 0.5: must be a finite number >= 1"
    );
    assert_eq!(
        one("retry:\n  multiplier: .inf"),
        "retry.multiplier = inf: must be a finite number >= 1"
    );
}

#[test]
fn r76_jitter_modes_and_factor() {
    let allowed = "must be one of `none`, `full`, `equal`, `decorrelated`, or a number >= 0 and <= 1 (proportional jitter)";
    assert_eq!(
        one("retry:\n  jitter: 1.5"),
        format!("retry.jitter = 1.5: {allowed}")
    );
    assert_eq!(
        one("retry:\n  jitter: fuzzy"),
        format!("retry.jitter = \"fuzzy\": {allowed}")
    );
}

#[test]
fn r76_detector_names_with_suggestion() {
    assert_eq!(
        one("circuit_type: adaptiv"),
        "circuit_type = \"adaptiv\": must be one of `count_based`, `percentage_based`, `time_based`, `adaptive`; \
         did you mean `adaptive`?"
    );
}

#[test]
fn r76_booleans_texts_and_urls() {
    assert_eq!(
        one("retry:\n  respect_retry_after: maybe"),
        "retry.respect_retry_after = \"maybe\": must be true or false"
    );
    assert_eq!(
        one("service_category: \"\""),
        "service_category = \"\": must be a non-empty string"
    );
    assert_eq!(
        one("health_check:\n  url: ftp://x.example/"),
        "health_check.url = \"ftp://x.example/\": must be an http:// or https:// URL"
    );
}

#[test]
fn r76_wrong_shapes() {
    assert_eq!(
        one("failure_threshold: [1, 2]"),
        format!("failure_threshold = <a list>: {INT}")
    );
    assert_eq!(
        one("failure_threshold:"),
        format!("failure_threshold = <null>: {INT}")
    );
    assert_eq!(
        one("retry: 3"),
        "retry = <an integer>: must be a mapping of `retry` settings"
    );
    assert_eq!(
        errors("- a\n- b"),
        ["<document> = <a list>: must be a mapping of keys to values"]
    );
}

#[test]
fn r76_unknown_keys_suggest_the_nearest() {
    assert_eq!(
        one("failure_treshold: 3"),
        "failure_treshold = <key>: unknown key; did you mean `failure_threshold`?"
    );
    assert_eq!(
        one("retry:\n  max_attempt: 3"),
        "retry.max_attempt = <key>: unknown key; did you mean `max_attempts`?"
    );
    assert_eq!(
        one("bulkhed:\n  enabled: true"),
        "bulkhed = <key>: unknown key; did you mean `bulkhead`?"
    );
    assert_eq!(one("zzzzzz: 1"), "zzzzzz = <key>: unknown key");
    assert_eq!(
        one("instances: {}\nconfig: {}"),
        "config = <key>: unknown key; a file with sections accepts `templates`, `configs`, `instances`, \
         `breakers`, `metadata`; did you mean `configs`?"
    );
    // metadata is free-form.
    assert_eq!(
        errors("metadata:\n  anything: [1, {x: y}]\n  version: 2"),
        Vec::<String>::new()
    );
}

#[test]
fn r76_a_field_set_twice_through_an_alias() {
    assert_eq!(
        one("open_duration: 30\ntimeout: 40"),
        "timeout = <key>: sets the same field as `open_duration`; keep one"
    );
}

#[test]
fn r76_cross_field_rules() {
    assert_eq!(
        one("max_open_duration: 30s"),
        "max_open_duration = 30s: must be >= open_duration (60s)"
    );
    assert_eq!(
        one("circuit_type: time_based\nwindow_duration: 5ms\nwindow_buckets: 10"),
        "window_duration = 5ms: must be >= 1ms per bucket (10 buckets => >= 10ms)"
    );
    assert_eq!(
        one(
            "slow_call_rate_threshold: 0.5\nslow_call_duration_threshold: 30s\ncall_timeout:\n  duration: 30s"
        ),
        "slow_call_duration_threshold = 30s: must be < call_timeout.duration (30s): a call is cut \
         off at its timeout, so it could never count as slow"
    );
    assert_eq!(
        one("retry:\n  base_delay: 2s\n  max_delay: 1s"),
        "retry.max_delay = 1s: must be >= retry.base_delay (2s)"
    );
    assert_eq!(
        one("bulkhead:\n  queue_timeout: 30s\ncall_timeout:\n  duration: 30s"),
        "bulkhead.queue_timeout = 30s: must be < call_timeout.duration (30s): the queue wait \
         counts toward the call's timeout (R61)"
    );
    assert_eq!(
        one("health_check:\n  interval: 5s\n  timeout: 5s"),
        "health_check.timeout = 5s: must be < health_check.interval (5s)"
    );
    // The same rules apply to a hand-built Settings.
    let mut s = Settings::default();
    s.health_check.timeout = s.health_check.interval;
    assert_eq!(
        s.validate().unwrap_err().violations()[0].field,
        "health_check.timeout"
    );
}

#[test]
fn r76_every_problem_is_reported_at_once() {
    let yaml = "
instances:
  claude:
    failure_threshold: 0
    failure_rate_threshold: 1.5
    circuit_type: adaptiv
    retry: { max_attempts: 0, jiter: full }
  gpt:
    open_duration: -5
    unknown_thing: 1
";
    let e = errors(yaml);
    assert_eq!(
        e,
        [
            "instances.claude.failure_threshold = 0: must be an integer >= 1",
            "instances.claude.failure_rate_threshold = 1.5: must be > 0 and <= 1 (a fraction: 0.4 means 40%)",
            "instances.claude.circuit_type = \"adaptiv\": must be one of `count_based`, `percentage_based`, \
             `time_based`, `adaptive`; did you mean `adaptive`?",
            "instances.claude.retry.max_attempts = 0: must be an integer >= 1",
            "instances.claude.retry.jiter = <key>: unknown key; did you mean `jitter`?",
            &format!("instances.gpt.open_duration = -5: {POSITIVE}"),
            "instances.gpt.unknown_thing = <key>: unknown key",
        ]
    );
}

#[test]
fn r76_code_overrides_and_variables_are_checked_too() {
    let vars = HashMap::from([(
        "CIRCUIT_BREAKER_SVC_MINIMUM_CALLS".to_string(),
        "lots".to_string(),
    )]);
    let layers = ConfigLayers::new(Environment::Production).with_env_source(vars);
    let err = layers
        .resolve(
            "svc",
            &Overrides::new()
                .set("failure_rate_threshold", 40.0)
                .set("failure_threshold", 0u32)
                .set("nope", 1u32),
        )
        .unwrap_err();
    let lines: Vec<String> = err.violations().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "minimum_calls = \"lots\" (from ${CIRCUIT_BREAKER_SVC_MINIMUM_CALLS}): must be an integer >= 1",
            "failure_rate_threshold = 40: must be > 0 and <= 1 (a fraction: 0.4 means 40%)",
            "failure_threshold = 0: must be an integer >= 1",
            "nope = 1: unknown field",
        ]
    );
}

#[test]
fn r76_the_environment_variable_must_name_an_environment() {
    let vars = HashMap::from([("CB_ENVIRONMENT".to_string(), "prodution".to_string())]);
    let err = ConfigLayers::from_env_source(vars).unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "CB_ENVIRONMENT = \"prodution\": must be one of `development`, `staging`, `production`, `testing`; did you \
         mean `production`?"
    );
}

#[test]
fn r80_secrets_are_never_echoed() {
    // Credentials in a URL.
    let e = one("health_check:\n  url: \"https://admin:hunter2@db.example:8080 /health\"");
    assert!(!e.contains("hunter2"), "{e}");
    assert_eq!(
        e,
        "health_check.url = \"https://<redacted>@db.example:8080 /health\": must be an http:// or https:// URL"
    );
    // A value from a variable whose name says it is secret.
    let vars = HashMap::from([("DB_PASSWORD".to_string(), "hunter2".to_string())]);
    let err = ConfigFile::from_yaml("failure_threshold: ${DB_PASSWORD}", &vars).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid configuration (1 problem):\n  - failure_threshold = <redacted> (from ${{DB_PASSWORD}}): {INT}"
        )
    );
    // explain() shows a URL without its credentials.
    let file = ConfigFile::from_yaml(
        "health_check:\n  url: https://u:hunter2@h.example/x",
        &HashMap::new(),
    )
    .unwrap();
    let layers = ConfigLayers::new(Environment::Production)
        .with_env_source(HashMap::new())
        .with_file(file)
        .unwrap();
    let text = layers.explain("svc", &Overrides::new()).unwrap().to_string();
    assert!(
        text.contains("https://<redacted>@h.example/x") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn r76_a_misspelt_variable_is_reported_with_the_nearest_name() {
    let vars = HashMap::from(
        [
            ("CIRCUIT_BREAKER_FAILURE_TRESHOLD", "3"),
            ("CIRCUIT_BREAKER_CLAUDE_RETRY_MAX_ATEMPTS", "2"),
            ("CIRCUIT_BREAKER_CLAUDE_RETRY_MAX_ATTEMPTS", "2"),
            ("CIRCUIT_BREAKER_WHATEVER", "1"),
            ("CIRCUIT_BREAKER_OTHER_THING", ""),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let lines = |err: cb_core::ConfigError| -> Vec<String> {
        err.violations().iter().map(ToString::to_string).collect()
    };
    let expected = [
        "CIRCUIT_BREAKER_CLAUDE_RETRY_MAX_ATEMPTS = \"2\": matches no breaker field; did you mean \
         `CIRCUIT_BREAKER_CLAUDE_RETRY_MAX_ATTEMPTS`?",
        "CIRCUIT_BREAKER_FAILURE_TRESHOLD = \"3\": matches no breaker field; did you mean \
         `CIRCUIT_BREAKER_FAILURE_THRESHOLD`?",
        "CIRCUIT_BREAKER_WHATEVER = \"1\": matches no breaker field (`CIRCUIT_BREAKER_<FIELD>` or \
         `CIRCUIT_BREAKER_<NAME>_<FIELD>`, see the configuration reference)",
    ];
    // Reading the environment reports them ...
    assert_eq!(
        lines(ConfigLayers::from_env_source(vars.clone()).unwrap_err()),
        expected
    );
    // ... and so does checking a file against it.
    let file = ConfigFile::from_yaml("failure_threshold: 5", &HashMap::new()).unwrap();
    let err = ConfigLayers::new(Environment::Production)
        .with_env_source(vars)
        .with_file(file)
        .unwrap_err();
    assert_eq!(lines(err), expected);
}

#[test]
fn r76_field_errors_and_cross_field_rules_are_reported_in_one_pass() {
    assert_eq!(
        errors("failure_threshold: 0\nretry:\n  base_delay: 2s\n  max_delay: 1s"),
        [
            format!("failure_threshold = 0: {INT}"),
            "retry.max_delay = 1s: must be >= retry.base_delay (2s)".to_string(),
        ]
    );
    assert_eq!(
        errors(
            "instances:\n  a:\n    minimum_calls: 0\n    health_check:\n      interval: 5s\n      timeout: 5s"
        ),
        [
            format!("instances.a.minimum_calls = 0: {INT}"),
            "instances.a.health_check.timeout = 5s: must be < health_check.interval (5s)".to_string(),
        ]
    );
}

#[test]
fn r76_an_oversized_duration_is_too_large_not_non_positive() {
    let too_large = "is too large: a duration must be at most 100 years (3153600000s)";
    assert_eq!(
        one("open_duration: 99999999999999s"),
        format!("open_duration = \"99999999999999s\": {too_large}")
    );
    assert_eq!(
        one("open_duration: 99999999999999"),
        format!("open_duration = 99999999999999: {too_large}")
    );
    assert_eq!(
        one("retry:\n  max_delay: 5000000000.5"),
        format!("retry.max_delay = 5000000000.5: {too_large}")
    );
    // A value that is not a duration at all still says what a duration is.
    assert_eq!(
        one("open_duration: -5s"),
        format!("open_duration = \"-5s\": {POSITIVE}")
    );
    let vars = HashMap::from([("CIRCUIT_BREAKER_OPEN_DURATION".to_string(), "400000d".to_string())]);
    let err = ConfigLayers::new(Environment::Production)
        .with_env_source(vars)
        .resolve("svc", &Overrides::new())
        .unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        format!("open_duration = \"400000d\" (from ${{CIRCUIT_BREAKER_OPEN_DURATION}}): {too_large}")
    );
}

#[test]
fn r76_a_request_timeout_points_at_the_call_deadline() {
    let pointer = "unknown key; a call's deadline (a request timeout) is `call_timeout.duration`";
    assert_eq!(
        one("instances:\n  api:\n    request_timeout: 30s"),
        format!("instances.api.request_timeout = <key>: {pointer}")
    );
    assert_eq!(
        one("retry:\n  max_attempts: 2\n  timeout: 30s"),
        format!("retry.timeout = <key>: {pointer}")
    );
    assert_eq!(
        one("timeout_config:\n  timeout: 30"),
        format!("timeout_config.timeout = <key>: {pointer}")
    );
    // A top-level `timeout` is still pybreaker's open period, and a health
    // check's `timeout` is its own.
    assert_eq!(
        errors("timeout: 30s\nhealth_check:\n  timeout: 1s"),
        Vec::<String>::new()
    );
}

const NOT_YET: &str = "one breaker per MCP tool takes effect with the MCP client integration, \
                       not available yet; remove it";

#[test]
fn per_tool_breakers_are_refused_until_the_mcp_integration_exists() {
    for key in ["tool_level_breakers", "enable_tool_level_breakers"] {
        assert_eq!(one(&format!("{key}: true")), format!("{key} = <key>: {NOT_YET}"));
        assert_eq!(
            errors(&format!("instances:\n  tools:\n    {key}: false")),
            [format!("instances.tools.{key} = <key>: {NOT_YET}")]
        );
        assert_eq!(
            errors(&format!(
                "templates:\n  tools:\n    base: mcp_server\n    {key}: true"
            )),
            [format!("templates.tools.{key} = <key>: {NOT_YET}")]
        );
    }
    for var in [
        "CIRCUIT_BREAKER_TOOL_LEVEL_BREAKERS",
        "CIRCUIT_BREAKER_GITHUB_TOOL_LEVEL_BREAKERS",
        "CIRCUIT_BREAKER_ENABLE_TOOL_LEVEL_BREAKERS",
    ] {
        let vars = HashMap::from([(var.to_string(), "true".to_string())]);
        let e = ConfigLayers::from_env_source(vars).unwrap_err().to_string();
        assert!(e.contains(&format!("{var} = \"true\": {NOT_YET}")), "{e}");
    }
}

#[test]
fn per_tool_breakers_are_refused_in_code_templates_and_overrides_too() {
    use cb_core::config::Template;
    let mut layers = ConfigLayers::new(Environment::Production).with_env_source(HashMap::new());
    let t = Template::new("tools")
        .base("mcp_server")
        .set("tool_level_breakers", true);
    let e = layers.add_template(t).unwrap_err().to_string();
    assert!(
        e.contains(&format!("templates.tools.tool_level_breakers = true: {NOT_YET}")),
        "{e}"
    );
    let o = Overrides::new().set("enable_tool_level_breakers", true);
    let e = layers.resolve("tools", &o).unwrap_err().to_string();
    assert!(
        e.contains(&format!("enable_tool_level_breakers = true: {NOT_YET}")),
        "{e}"
    );
}
