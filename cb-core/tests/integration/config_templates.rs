//! Templates × environments (the Python services' tables) and template errors (R79).

use std::collections::HashMap;

use cb_core::config::{BUILTIN_TEMPLATES, ConfigFile, ConfigLayers, Environment, Layer, Overrides, Template};

fn layers(env: Environment) -> ConfigLayers {
    ConfigLayers::new(env).with_env_source(HashMap::new())
}

/// The Python services' environment table: threshold, open duration, failure rate.
const PYTHON_ENVIRONMENTS: [(Environment, &str, &str, &str); 4] = [
    (Environment::Development, "10", "180s", "0.7"),
    (Environment::Staging, "5", "90s", "0.5"),
    (Environment::Production, "3", "60s", "0.4"),
    (Environment::Testing, "20", "300s", "0.9"),
];

/// The detector each service type gets (the Python services' best practices per service type).
const DETECTORS: [(&str, &str); 5] = [
    ("default", "count_based"),
    ("ai_provider", "adaptive"),
    ("database", "percentage_based"),
    ("mcp_server", "count_based"),
    ("external_api", "time_based"),
];

#[test]
fn every_template_in_every_environment_gets_the_python_services_values() {
    for (template, detector) in DETECTORS {
        for (env, threshold, recovery, rate) in PYTHON_ENVIRONMENTS {
            let e = layers(env)
                .explain("svc", &Overrides::new().template(template))
                .unwrap();
            let v = |p: &str| e.get(p).unwrap().value.clone().unwrap();
            assert_eq!(v("failure_threshold"), threshold, "{template}/{env}");
            assert_eq!(v("open_duration"), recovery, "{template}/{env}");
            assert_eq!(v("failure_rate_threshold"), rate, "{template}/{env}");
            assert_eq!(v("circuit_type"), detector, "{template}/{env}");
            for p in ["failure_threshold", "open_duration", "failure_rate_threshold"] {
                assert_eq!(
                    e.get(p).unwrap().source.layer(),
                    Layer::Environment,
                    "{template}/{env}/{p}"
                );
            }
            // And the core config: the same fraction, detectors per type; the
            // pure rate detectors have no consecutive-failure rule.
            let cfg = e.settings.breaker_config();
            match detector {
                "percentage_based" | "time_based" => assert_eq!(cfg.failure_threshold, None),
                _ => assert_eq!(cfg.failure_threshold, Some(threshold.parse().unwrap())),
            }
            let fraction: f64 = rate.parse().unwrap();
            match detector {
                "count_based" => assert_eq!(cfg.failure_rate_threshold, None),
                _ => assert_eq!(cfg.failure_rate_threshold, Some(fraction)),
            }
            cfg.validate().unwrap();
        }
    }
}

/// Failures before opening each preset allows, lowest to highest, and the service type it is based on.
const PRESET_RANGES: [(&str, u32, u32, &str); 14] = [
    ("claude", 2, 5, "adaptive"),
    ("gpt4", 2, 5, "adaptive"),
    ("deepseek", 2, 5, "adaptive"),
    ("gemini", 3, 8, "adaptive"),
    ("groq", 2, 3, "adaptive"),
    ("ollama", 15, 50, "adaptive"),
    ("huggingface", 3, 8, "adaptive"),
    ("docker", 3, 8, "count_based"),
    ("slack", 3, 8, "count_based"),
    ("kubernetes", 3, 10, "count_based"),
    ("security_scanner", 3, 10, "count_based"),
    ("desktop_commander", 5, 30, "count_based"),
    ("prometheus", 2, 5, "count_based"),
    ("s3", 2, 5, "count_based"),
];

#[test]
fn every_preset_in_every_environment_is_within_its_range_and_strictest_in_production() {
    for (preset, low, high, detector) in PRESET_RANGES {
        assert!(BUILTIN_TEMPLATES.contains(&preset), "{preset}");
        let threshold = |env: Environment| {
            let e = layers(env)
                .explain("svc", &Overrides::new().template(preset))
                .unwrap_or_else(|err| panic!("{preset}/{env}: {err}"));
            let f = e.get("failure_threshold").unwrap();
            assert_eq!(
                f.source.to_string(),
                format!("template `{preset}` ({env})"),
                "the preset, not the environment profile, decides"
            );
            assert_eq!(e.get("circuit_type").unwrap().value.as_deref(), Some(detector));
            f.value.as_deref().unwrap().parse::<u32>().unwrap()
        };
        let production = threshold(Environment::Production);
        for env in Environment::ALL {
            let t = threshold(env);
            assert!(
                (low..=high).contains(&t),
                "{preset}/{env}: {t} not in {low}..={high}"
            );
            assert!(
                production <= t,
                "{preset}: production {production} above {env} {t}"
            );
        }
        assert!(
            production < threshold(Environment::Testing),
            "{preset}: production must be stricter than testing"
        );
    }
}

#[test]
fn a_preset_is_a_base_like_any_other_and_code_still_wins() {
    let mut l = layers(Environment::Production);
    l.add_template(Template::new("opus").base("claude").set("minimum_calls", 7u32))
        .unwrap();
    let e = l
        .explain(
            "opus",
            &Overrides::new().template("opus").set("failure_threshold", 9u32),
        )
        .unwrap();
    assert_eq!(
        e.get("minimum_calls").unwrap().source.to_string(),
        "template `opus`"
    );
    assert_eq!(
        e.get("slow_call_duration_threshold").unwrap().source.to_string(),
        "template `claude`"
    );
    assert_eq!(e.get("failure_threshold").unwrap().value.as_deref(), Some("9"));
    assert_eq!(e.get("failure_threshold").unwrap().source.to_string(), "code");
}

#[test]
fn inference_from_the_breaker_name_is_off_unless_switched_on() {
    let o = Overrides::new();
    let off = layers(Environment::Production)
        .explain("claude_expert_opus", &o)
        .unwrap();
    assert_eq!((off.template.as_str(), off.template_inferred), ("default", false));

    let on = layers(Environment::Production).with_template_inference(true);
    for (breaker, preset) in [
        ("claude_expert_opus", "claude"),
        ("claude", "claude"),
        ("Desktop_Commander-files", "desktop_commander"),
        ("gpt4.turbo", "gpt4"),
        ("s3_backups", "s3"),
    ] {
        let e = on.explain(breaker, &o).unwrap();
        assert_eq!(
            (e.template.as_str(), e.template_inferred),
            (preset, true),
            "{breaker}"
        );
        assert_eq!(
            e.get("failure_threshold").unwrap().source.to_string(),
            format!("template `{preset}` (production)")
        );
        assert!(
            e.to_string().starts_with(&format!(
                "{breaker} (template `{preset}`, inferred from the name, environment"
            )),
            "{e}"
        );
    }
    for breaker in ["s3cret", "claudette", "payments", "my_claude"] {
        let e = on.explain(breaker, &o).unwrap();
        assert_eq!(
            (e.template.as_str(), e.template_inferred),
            ("default", false),
            "{breaker}"
        );
    }
}

#[test]
fn a_named_template_beats_inference_wherever_it_is_named() {
    let yaml = "configs:\n  default: { template: external_api }\n";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let l = layers(Environment::Production)
        .with_template_inference(true)
        .with_file(file)
        .unwrap();
    let e = l.explain("claude_opus", &Overrides::new()).unwrap();
    assert_eq!(
        (e.template.as_str(), e.template_inferred),
        ("external_api", false)
    );
    let e = l
        .explain("claude_opus", &Overrides::new().template("database"))
        .unwrap();
    assert_eq!((e.template.as_str(), e.template_inferred), ("database", false));
}

#[test]
fn inference_is_switched_by_a_variable() {
    let vars = |v: &str| HashMap::from([(cb_core::config::INFER_TEMPLATE_VAR.to_string(), v.to_string())]);
    assert!(
        !ConfigLayers::from_env_source(HashMap::new())
            .unwrap()
            .template_inference()
    );
    assert!(
        !ConfigLayers::from_env_source(vars(""))
            .unwrap()
            .template_inference()
    );
    assert!(
        !ConfigLayers::from_env_source(vars("false"))
            .unwrap()
            .template_inference()
    );
    let on = ConfigLayers::from_env_source(vars(" TRUE")).unwrap();
    assert!(on.template_inference());
    assert_eq!(
        on.explain("groq_fast", &Overrides::new()).unwrap().template,
        "groq"
    );
    let err = ConfigLayers::from_env_source(vars("yes please")).unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "CB_INFER_TEMPLATE = \"yes please\": must be `true` or `false`"
    );
}

#[test]
fn service_types_get_their_distinguishing_defaults() {
    let s = |t: &str| {
        layers(Environment::Production)
            .resolve_settings("svc", &Overrides::new().template(t))
            .unwrap()
    };
    let ai = s("ai_provider");
    assert_eq!(
        ai.breaker.slow_call_rate_threshold,
        Some(0.8),
        "AI providers are slow and variable"
    );
    assert!(ai.retry.respect_retry_after, "AI providers rate-limit");
    assert!(ai.breaker.open_duration_multiplier > 1.0, "adaptive open period");
    let api = s("external_api");
    assert!(api.retry.respect_retry_after, "external APIs send Retry-After");
    assert!(matches!(
        api.breaker_config().window,
        cb_core::Window::Time { .. }
    ));
    assert!(matches!(
        s("database").breaker_config().window,
        cb_core::Window::Count { size: 50 }
    ));
}

/// The template × environment table in docs/configuration.md, read back and
/// compared cell by cell with what the layers resolve.
#[test]
fn the_docs_table_of_every_combination_matches_resolution() {
    let page = include_str!("../../docs/configuration.md");
    let section = page
        .split("### Every template in every environment")
        .nth(1)
        .expect("section");
    let mut lines = section.lines().filter(|l| l.starts_with('|'));
    let header: Vec<&str> = lines
        .next()
        .unwrap()
        .split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let mut rows = 0;
    for line in lines.skip(1) {
        let cells: Vec<&str> = line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
        let template = cells[0].trim_matches('`');
        let env: Environment = cells[1].trim_matches('`').parse().unwrap();
        let e = layers(env)
            .explain("reference", &Overrides::new().template(template))
            .unwrap();
        for (col, cell) in header.iter().zip(&cells).skip(2) {
            let value = e
                .get(col)
                .unwrap()
                .value
                .clone()
                .unwrap_or_else(|| "unset".into());
            assert_eq!(&value, cell, "{template}/{env}/{col}");
        }
        rows += 1;
    }
    assert_eq!(rows, BUILTIN_TEMPLATES.len() * Environment::ALL.len());
}

#[test]
fn r78_a_template_value_beats_the_environment_in_every_environment() {
    for env in Environment::ALL {
        let mut l = layers(env);
        l.add_template(Template::new("tolerant").set("failure_threshold", 30u32))
            .unwrap();
        let e = l.explain("svc", &Overrides::new().template("tolerant")).unwrap();
        let f = e.get("failure_threshold").unwrap();
        assert_eq!(f.value.as_deref(), Some("30"), "{env}");
        assert_eq!(f.source.to_string(), "template `tolerant`", "{env}");
    }
}

#[test]
fn r78_a_templates_own_environment_values_beat_its_others_and_its_bases() {
    let template = Template::new("payments")
        .base("external_api")
        .set("failure_threshold", 10u32)
        .set("minimum_calls", 4u32)
        .in_environment(Environment::Production, |t| {
            t.set("failure_threshold", 3u32).set("open_duration", "20s")
        })
        .in_environment(Environment::Development, |t| t.set("minimum_calls", 2u32));
    let expected = [
        (
            Environment::Production,
            "3",
            "template `payments` (production)",
            "20s",
            "4",
        ),
        (Environment::Development, "10", "template `payments`", "180s", "2"),
        (Environment::Staging, "10", "template `payments`", "90s", "4"),
    ];
    for (env, threshold, source, open, min_calls) in expected {
        let mut l = layers(env);
        l.add_template(template.clone()).unwrap();
        let e = l.explain("pay", &Overrides::new().template("payments")).unwrap();
        let f = e.get("failure_threshold").unwrap();
        assert_eq!(
            (f.value.as_deref(), f.source.to_string().as_str()),
            (Some(threshold), source)
        );
        assert_eq!(
            e.get("open_duration").unwrap().value.as_deref(),
            Some(open),
            "{env}"
        );
        assert_eq!(
            e.get("minimum_calls").unwrap().value.as_deref(),
            Some(min_calls),
            "{env}"
        );
    }
}

#[test]
fn r78_a_file_template_carries_environment_sections() {
    let yaml = "
templates:
  llm:
    base: ai_provider
    failure_threshold: 8
    environments:
      production: { failure_threshold: 2, retry: { max_attempts: 1 } }
      dev: { failure_threshold: 12 }
instances:
  claude: { template: llm }
";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    for (env, threshold, attempts, source) in [
        (Environment::Production, "2", "1", "template `llm` (production)"),
        (
            Environment::Development,
            "12",
            "3",
            "template `llm` (development)",
        ),
        (Environment::Testing, "8", "3", "template `llm`"),
    ] {
        let l = layers(env).with_file(file.clone()).unwrap();
        let e = l.explain("claude", &Overrides::new()).unwrap();
        let f = e.get("failure_threshold").unwrap();
        assert_eq!(
            (f.value.as_deref(), f.source.to_string().as_str()),
            (Some(threshold), source)
        );
        assert_eq!(
            e.get("retry.max_attempts").unwrap().value.as_deref(),
            Some(attempts)
        );
    }

    #[cfg(feature = "toml")]
    {
        let toml =
            "[templates.llm]\nbase = \"ai_provider\"\nenvironments.production = { failure_threshold = 2 }\n";
        let file = ConfigFile::from_toml(toml, &HashMap::new()).unwrap();
        let e = layers(Environment::Production)
            .with_file(file)
            .unwrap()
            .explain("x", &Overrides::new().template("llm"))
            .unwrap();
        assert_eq!(
            e.get("failure_threshold").unwrap().source.to_string(),
            "template `llm` (production)"
        );
    }

    let bad = "templates:\n  llm:\n    environments:\n      prodution: { failure_threshold: 2 }\n      staging: { failure_treshold: 2 }\n";
    let err = ConfigFile::from_yaml(bad, &HashMap::new()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("templates.llm.environments.prodution = \"prodution\""),
        "{text}"
    );
    assert!(text.contains("did you mean `production`?"), "{text}");
    assert!(
        text.contains("templates.llm.environments.staging.failure_treshold"),
        "{text}"
    );
}

#[test]
fn user_templates_inherit_through_several_levels() {
    let yaml = "
templates:
  llm: { base: ai_provider, minimum_calls: 8 }
  chat_llm: { base: llm, sliding_window_size: 30 }
  premium_chat: { base: chat_llm, success_threshold: 5 }
instances:
  claude: { template: premium_chat }
";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let l = layers(Environment::Production).with_file(file).unwrap();
    let e = l.explain("claude", &Overrides::new()).unwrap();
    let at = |p: &str| {
        let f = e.get(p).unwrap();
        (f.value.clone().unwrap(), f.source.to_string())
    };
    assert_eq!(
        at("success_threshold"),
        ("5".into(), "template `premium_chat`".into())
    );
    assert_eq!(
        at("sliding_window_size"),
        ("30".into(), "template `chat_llm`".into())
    );
    assert_eq!(at("minimum_calls"), ("8".into(), "template `llm`".into()));
    assert_eq!(
        at("circuit_type"),
        ("adaptive".into(), "template `ai_provider`".into())
    );
}

#[test]
fn user_default_template_changes_every_breakers_baseline() {
    let mut l = layers(Environment::Production);
    l.add_template(Template::new("default").set("minimum_calls", 4u32))
        .unwrap();
    let s = l
        .resolve_settings("x", &Overrides::new().template("database"))
        .unwrap();
    assert_eq!(s.breaker.minimum_calls, 10, "database sets its own");
    let s = l
        .resolve_settings("x", &Overrides::new().template("mcp_server"))
        .unwrap();
    assert_eq!(s.breaker.minimum_calls, 4, "inherited from the user's default");
}

#[test]
fn r79_unknown_template_is_named_with_a_suggestion() {
    let err = layers(Environment::Production)
        .resolve("x", &Overrides::new().template("ai_provder"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration (1 problem):\n  - template = \"ai_provder\": unknown template `ai_provder`; did you \
         mean `ai_provider`?"
    );
    let err = layers(Environment::Production)
        .resolve("x", &Overrides::new().template("zzz"))
        .unwrap_err();
    assert_eq!(
        err.violations()[0].allowed,
        "unknown template `zzz`; expected one of `ai_provider`, `claude`, `database`, `deepseek`, `default`, \
         `desktop_commander`, `docker`, `external_api`, `gemini`, `gpt4`, `groq`, `huggingface`, `kubernetes`, \
         `mcp_server`, `ollama`, `prometheus`, `s3`, `security_scanner`, `slack`"
    );
}

#[test]
fn r79_unknown_base_names_the_template_that_refers_to_it() {
    let file = ConfigFile::from_yaml("templates:\n  mine: { base: nope }\n", &HashMap::new()).unwrap();
    let err = layers(Environment::Production).with_file(file).unwrap_err();
    assert_eq!(err.violations()[0].field, "templates.mine.base");
    assert!(
        err.violations()[0].allowed.starts_with("unknown template `nope`"),
        "{err}"
    );
}

#[test]
fn r79_template_cycles_are_rejected_by_name() {
    let yaml = "templates:\n  a: { base: b }\n  b: { base: c }\n  c: { base: a }\n";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let err = layers(Environment::Production).with_file(file).unwrap_err();
    let first = &err.violations()[0];
    assert_eq!(
        first.to_string(),
        "templates.c.base = \"a\": template cycle: a -> b -> c -> a"
    );

    let file = ConfigFile::from_yaml("templates:\n  me: { base: me }\n", &HashMap::new()).unwrap();
    let err = layers(Environment::Production).with_file(file).unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "templates.me.base = \"me\": template cycle: me -> me"
    );
}

#[test]
fn r79_shared_config_cycles_are_rejected_by_name() {
    let yaml =
        "configs:\n  a: { base_config: b }\n  b: { base_config: a }\ninstances:\n  svc: { base_config: a }\n";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let err = layers(Environment::Production).with_file(file).unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "instances.svc.base_config = \"a\": config cycle: a -> b -> a"
    );
}

#[test]
fn r79_builtin_templates_cannot_be_redefined() {
    let err = layers(Environment::Production)
        .add_template(Template::new("database"))
        .unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "templates.database = \"database\": is a built-in template; give yours another name with `base: database`"
    );
}

#[test]
fn r79_a_file_cannot_redefine_a_builtin_template() {
    let file =
        ConfigFile::from_yaml("templates:\n  database: { minimum_calls: 3 }\n", &HashMap::new()).unwrap();
    let err = layers(Environment::Production).with_file(file).unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "templates.database = \"database\": is a built-in template; give yours another name with `base: database`"
    );
}

/// A breaker built from `yaml` (one anonymous configuration) in production.
fn breaker_from(yaml: &str) -> (cb_core::CircuitBreaker, String) {
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).expect("a valid file");
    let layers = layers(Environment::Production).with_file(file).expect("checks");
    let e = layers.explain("db", &Overrides::new()).expect("resolves");
    let breaker = cb_core::CircuitBreaker::builder("db")
        .config(e.settings.breaker_config())
        .build()
        .expect("a valid breaker");
    (breaker, e.to_string())
}

#[test]
fn rate_detectors_have_no_consecutive_failure_rule_and_explain_says_so() {
    use cb_core::State;
    let rates =
        "failure_threshold: 3\nfailure_rate_threshold: 0.5\nminimum_calls: 10\nsliding_window_size: 10\n";
    let fail = |b: &cb_core::CircuitBreaker| {
        let _ = b.call_sync(|| Err::<(), _>("down"));
    };
    let succeed = |b: &cb_core::CircuitBreaker| b.call_sync(|| Ok::<_, &str>(())).unwrap();
    for detector in ["percentage_based", "time_based"] {
        let (b, explained) = breaker_from(&format!("circuit_type: {detector}\n{rates}"));
        for _ in 0..9 {
            succeed(&b);
        }
        // Three in a row is 3 of the last 10 calls: below the rate, so closed.
        for _ in 0..3 {
            fail(&b);
        }
        assert_eq!(b.state(), State::Closed, "{detector}");
        // The rate still trips it (10 of 19 calls in the time window).
        for _ in 0..7 {
            fail(&b);
        }
        assert_eq!(b.state(), State::Open, "{detector}");
        let line = explained
            .lines()
            .find(|l| l.contains("failure_threshold"))
            .unwrap();
        assert!(
            line.ends_with(&format!("(not used: `{detector}` judges the failure rate only)")),
            "{line}"
        );
    }
    // count_based and adaptive keep the rule.
    for detector in ["count_based", "adaptive"] {
        let (b, explained) = breaker_from(&format!("circuit_type: {detector}\n{rates}"));
        for _ in 0..9 {
            succeed(&b);
        }
        for _ in 0..3 {
            fail(&b);
        }
        assert_eq!(b.state(), State::Open, "{detector}");
        assert!(!explained.contains("not used"), "{detector}");
    }
}
