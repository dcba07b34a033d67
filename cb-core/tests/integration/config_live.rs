//! Live updates: registry integration, state kept, bad updates rejected whole,
//! listeners told, file reloads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cb_core::config::{ConfigChange, ConfigFile, ConfigLayers, Environment, LiveConfig, Overrides};
use cb_core::{EventKind, Registry, State};

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("cb-config-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("temp file written");
    path
}

fn trip(breaker: &cb_core::CircuitBreaker) {
    while breaker.state() == State::Closed {
        let _ = breaker.call_sync(|| Err::<(), _>("boom"));
    }
}

#[test]
fn r78_registry_breaker_resolves_through_every_layer_on_first_use() {
    let env = vars(&[("CIRCUIT_BREAKER_CLAUDE_MINIMUM_CALLS", "12")]);
    let yaml = "instances:\n  claude:\n    template: ai_provider\n    failure_threshold: 2\n";
    let file = ConfigFile::from_yaml(yaml, &env).unwrap();
    let layers = ConfigLayers::new(Environment::Staging)
        .with_env_source(env)
        .with_file(file)
        .unwrap();
    let registry = Registry::new();
    registry.set_config_source(LiveConfig::new(layers));
    let claude = registry.breaker("claude").unwrap();
    let cfg = claude.config();
    assert_eq!(cfg.failure_threshold, Some(2), "file");
    assert_eq!(cfg.minimum_calls, 12, "variable");
    assert_eq!(cfg.open_duration, Duration::from_secs(90), "staging");
    assert_eq!(cfg.slow_call_rate_threshold, Some(0.8), "ai_provider");
    // Another name gets the defaults under staging.
    assert_eq!(
        registry.breaker("other").unwrap().config().failure_threshold,
        Some(5)
    );
}

#[test]
fn switching_template_inference_on_reconfigures_breakers_named_after_a_preset() {
    let registry = Registry::new();
    let live = LiveConfig::new(ConfigLayers::new(Environment::Development).with_env_source(HashMap::new()));
    registry.set_config_source(live.clone());
    let local = registry.breaker("ollama_llama3").unwrap();
    assert_eq!(local.config().failure_threshold, Some(10), "development profile");
    let changes = live.set_template_inference(&registry, true).unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(
        local.config().failure_threshold,
        Some(30),
        "ollama in development"
    );
    let why = live.explain("ollama_llama3").unwrap();
    assert_eq!((why.template.as_str(), why.template_inferred), ("ollama", true));
}

#[test]
fn a_breaker_whose_configuration_is_invalid_is_not_created() {
    let env = vars(&[("CIRCUIT_BREAKER_BAD_FAILURE_THRESHOLD", "0")]);
    let registry = Registry::new();
    registry.set_config_source(LiveConfig::new(
        ConfigLayers::new(Environment::Production).with_env_source(env),
    ));
    let err = registry.breaker("bad").unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "failure_threshold = \"0\" (from ${CIRCUIT_BREAKER_BAD_FAILURE_THRESHOLD}): must be an integer >= 1"
    );
    assert!(registry.get("bad").is_none());
}

#[test]
fn live_update_keeps_state_and_counters() {
    let registry = Registry::new();
    let live = LiveConfig::new(ConfigLayers::new(Environment::Production).with_env_source(HashMap::new()));
    registry.set_config_source(live.clone());
    let b = registry.breaker("svc").unwrap();
    trip(&b);
    let before = b.metrics();
    assert_eq!(before.state, State::Open);

    live.update(
        &registry,
        "svc",
        Overrides::new()
            .set("success_threshold", 1u32)
            .set("open_duration", "5m"),
    )
    .unwrap();
    let after = b.metrics();
    assert_eq!(b.config().success_threshold, 1);
    assert_eq!(b.config().open_duration, Duration::from_secs(300));
    assert_eq!(after.state, State::Open, "state kept");
    assert_eq!(after.generation, before.generation, "no transition");
    assert_eq!(after.calls, before.calls, "counters kept");
    assert_eq!(after.transitions, before.transitions);
    // Updates accumulate: a second one keeps the first's values.
    live.update(&registry, "svc", Overrides::new().set("minimum_calls", 3u32))
        .unwrap();
    assert_eq!(b.config().success_threshold, 1);
    assert_eq!(b.config().minimum_calls, 3);
}

#[test]
fn live_update_rejects_a_bad_update_whole() {
    let registry = Registry::new();
    let live = LiveConfig::new(ConfigLayers::new(Environment::Production).with_env_source(HashMap::new()));
    registry.set_config_source(live.clone());
    let b = registry.breaker("svc").unwrap();
    let old = b.config();
    let err = live
        .update(
            &registry,
            "svc",
            Overrides::new()
                .set("failure_threshold", 9u32)
                .set("failure_rate_threshold", 1.5),
        )
        .unwrap_err();
    assert_eq!(
        err.violations()[0].to_string(),
        "svc.failure_rate_threshold = 1.5: must be > 0 and <= 1 (a fraction: 0.4 means 40%)"
    );
    assert_eq!(b.config(), old, "the good half was not applied either");
    assert_eq!(live.resolve("svc").unwrap(), old, "the layers were not changed");
    assert!(live.layers().overrides("svc").is_none());
}

#[test]
fn listeners_are_told_of_changes() {
    let registry = Registry::new();
    let live = LiveConfig::new(ConfigLayers::new(Environment::Production).with_env_source(HashMap::new()));
    registry.set_config_source(live.clone());
    let b = registry.breaker("svc").unwrap();
    let changes: Arc<Mutex<Vec<ConfigChange>>> = Arc::default();
    let seen = changes.clone();
    live.subscribe(move |c: &ConfigChange| seen.lock().unwrap().push(c.clone()));
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    b.subscribe(move |e: &cb_core::Event| ev.lock().unwrap().push(e.kind.clone()));

    live.update(&registry, "svc", Overrides::new().set("failure_threshold", 9u32))
        .unwrap();
    let got = changes.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (
            got[0].name.as_str(),
            got[0].before.failure_threshold,
            got[0].after.failure_threshold
        ),
        ("svc", Some(3), Some(9))
    );
    assert_eq!(got[0].settings.breaker.failure_threshold, 9);
    assert!(events.lock().unwrap().contains(&EventKind::ConfigUpdated));

    // A no-op update and a rejected one tell nobody.
    live.update(&registry, "svc", Overrides::new().set("failure_threshold", 9u32))
        .unwrap();
    let _ = live.update(&registry, "svc", Overrides::new().set("failure_threshold", 0u32));
    assert_eq!(changes.lock().unwrap().len(), 1);
}

#[test]
fn an_update_before_first_use_applies_when_the_breaker_is_created() {
    let registry = Registry::new();
    let live = LiveConfig::new(ConfigLayers::new(Environment::Production).with_env_source(HashMap::new()));
    registry.set_config_source(live.clone());
    live.update(
        &registry,
        "later",
        Overrides::new().set("failure_threshold", 11u32),
    )
    .unwrap();
    assert_eq!(
        registry.breaker("later").unwrap().config().failure_threshold,
        Some(11)
    );
}

#[test]
fn reload_applies_a_changed_file_and_keeps_state() {
    let path = temp_file(
        "reload.yaml",
        "instances:\n  a: { failure_threshold: 4 }\n  b: { failure_threshold: 5 }\n",
    );
    let layers = ConfigLayers::new(Environment::Production).with_env_source(HashMap::new());
    let live = LiveConfig::from_path(layers, &path).unwrap();
    let registry = Registry::new();
    registry.set_config_source(live.clone());
    let (a, b) = (registry.breaker("a").unwrap(), registry.breaker("b").unwrap());
    trip(&a);

    std::fs::write(
        &path,
        "instances:\n  a: { failure_threshold: 6 }\n  b: { failure_threshold: 5 }\n",
    )
    .unwrap();
    let changes = live.reload(&registry).unwrap();
    assert_eq!(
        changes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["a"],
        "only what changed"
    );
    assert_eq!(a.config().failure_threshold, Some(6));
    assert_eq!(a.state(), State::Open, "state kept across a reload");

    // A reload that breaks one breaker changes none, and keeps the old file.
    std::fs::write(
        &path,
        "instances:\n  a: { failure_threshold: 7 }\n  b: { failure_threshold: 0 }\n",
    )
    .unwrap();
    let err = live.reload(&registry).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration (1 problem):\n  - instances.b.failure_threshold = 0: must be an integer >= 1"
    );
    assert_eq!(a.config().failure_threshold, Some(6));
    assert_eq!(b.config().failure_threshold, Some(5));
    assert_eq!(live.resolve("a").unwrap().failure_threshold, Some(6));

    // A file that parses but makes an existing breaker invalid is rejected too.
    std::fs::write(&path, "instances:\n  a: { max_open_duration: 1s }\n").unwrap();
    let err = live.reload(&registry).unwrap_err();
    assert!(
        err.to_string()
            .contains("max_open_duration = 1s: must be >= open_duration (60s)"),
        "{err}"
    );
    assert_eq!(a.config().failure_threshold, Some(6));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn reload_keeps_code_updates_and_declarations() {
    let path = temp_file("keep.yaml", "instances:\n  db: { minimum_calls: 4 }\n");
    let live = LiveConfig::from_path(
        ConfigLayers::new(Environment::Production).with_env_source(HashMap::new()),
        &path,
    )
    .unwrap();
    let registry = Registry::new();
    let db = live
        .breaker(&registry, "db", Overrides::new().template("database"))
        .unwrap();
    live.update(&registry, "db", Overrides::new().set("success_threshold", 1u32))
        .unwrap();
    std::fs::write(&path, "instances:\n  db: { minimum_calls: 5 }\n").unwrap();
    live.reload(&registry).unwrap();
    let cfg = db.config();
    assert_eq!(cfg.minimum_calls, 5);
    assert_eq!(cfg.success_threshold, 1, "the run-time update survives");
    assert_eq!(
        cfg.window,
        cb_core::Window::Count { size: 50 },
        "the declared template survives"
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn replacing_the_environment_updates_running_breakers() {
    let registry = Registry::new();
    let live = LiveConfig::new(ConfigLayers::new(Environment::Production).with_env_source(HashMap::new()));
    registry.set_config_source(live.clone());
    let b = registry.breaker("svc").unwrap();
    assert_eq!(b.config().failure_threshold, Some(3));
    live.replace_layers(
        &registry,
        ConfigLayers::new(Environment::Testing).with_env_source(HashMap::new()),
    )
    .unwrap();
    assert_eq!(b.config().failure_threshold, Some(20));
}

#[test]
fn reload_without_a_path_is_an_error() {
    let live = LiveConfig::new(ConfigLayers::new(Environment::Production));
    assert!(live.reload(&Registry::new()).is_err());
}

#[test]
fn live_configuration_is_queryable_by_tag_environment_and_priority_across_updates() {
    let yaml =
        "instances:\n  claude: { priority: 2, metadata: { tags: [critical], environment: production } }\n";
    let layers = ConfigLayers::new(Environment::Production)
        .with_env_source(HashMap::new())
        .with_file(ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap())
        .unwrap();
    let live = LiveConfig::new(layers);
    let registry = Registry::new();
    live.breaker(&registry, "search", Overrides::new().set("priority", 1u32))
        .unwrap();
    assert_eq!(live.tagged("critical"), ["claude"]);
    assert_eq!(live.for_environment(Environment::Production), ["claude"]);
    assert_eq!(live.metadata("claude").tags, ["critical"]);
    assert_eq!(
        live.by_priority().unwrap(),
        [("search".to_string(), 1), ("claude".to_string(), 2)]
    );
    // A run-time update moves the label and nothing else about the breaker.
    let before = registry.get("search").unwrap().config();
    live.update(&registry, "search", Overrides::new().set("priority", 3u32))
        .unwrap();
    assert_eq!(
        live.by_priority().unwrap(),
        [("claude".to_string(), 2), ("search".to_string(), 3)]
    );
    assert_eq!(registry.get("search").unwrap().config(), before);
}
