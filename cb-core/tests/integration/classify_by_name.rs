//! Classification by name: a file's, a variable's or an update's
//! `classify.failure` / `classify.excluded` sort a call's error over the
//! code's classifier, and a bad entry is refused naming the field.
#![allow(clippy::unwrap_used)] // helpers shared by the tests unwrap like the tests do

use std::collections::HashMap;
use std::time::Duration;

use cb_core::classify::ErrorKind;
use cb_core::config::{ConfigFile, ConfigLayers, Environment, LiveConfig, Overrides};
use cb_core::{ByClassify, CircuitBreaker, Classifier, Classify, Outcome, Pipeline, Registry, State};

/// An error type that says how it counts, as `#[derive(Classify)]` would:
/// every variant a failure, named after itself.
#[derive(Debug)]
enum ApiError {
    NotFound,
    Unavailable,
}

impl Classify for ApiError {
    fn outcome(&self) -> Outcome {
        Outcome::Failure
    }
    fn retryable(&self) -> bool {
        true
    }
    fn kind(&self) -> ErrorKind {
        match self {
            ApiError::NotFound => ErrorKind::Variant("NotFound"),
            ApiError::Unavailable => ErrorKind::Variant("Unavailable"),
        }
    }
}

/// An HTTP-like classifier: every error a failure, named by its status.
struct ByStatus;
impl Classifier<(), u16> for ByStatus {
    fn classify(&self, r: &Result<(), u16>) -> Outcome {
        match r {
            Ok(()) => Outcome::Success,
            Err(_) => Outcome::Failure,
        }
    }
    fn kind(&self, r: &Result<(), u16>) -> ErrorKind {
        r.as_ref()
            .err()
            .map_or(ErrorKind::Unnamed, |s| ErrorKind::Status(*s))
    }
}

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn live(yaml: &str, env: &[(&str, &str)]) -> (Registry, LiveConfig) {
    let env = vars(env);
    let file = ConfigFile::from_yaml(yaml, &env).unwrap();
    let layers = ConfigLayers::new(Environment::Testing)
        .with_env_source(env)
        .with_file(file)
        .unwrap();
    let registry = Registry::new();
    let live = LiveConfig::new(layers);
    registry.set_config_source(live.clone());
    (registry, live)
}

fn fail(breaker: &CircuitBreaker, error: ApiError) {
    let _ = breaker.call_sync_with(|| Err::<(), _>(error), &ByClassify);
}

#[test]
fn errors_a_file_lists_as_excluded_do_not_trip_the_breaker() {
    let yaml = "instances:\n  api:\n    failure_threshold: 2\n    classify:\n      excluded: [NotFound]\n";
    let (registry, _) = live(yaml, &[]);
    let api = registry.breaker("api").unwrap();
    for _ in 0..10 {
        fail(&api, ApiError::NotFound);
    }
    assert_eq!(api.state(), State::Closed);
    assert_eq!(api.metrics().calls.excluded, 10);
    fail(&api, ApiError::Unavailable);
    fail(&api, ApiError::Unavailable);
    assert_eq!(
        api.state(),
        State::Open,
        "an error not listed counts as its type says"
    );
}

#[test]
fn an_update_at_run_time_classifies_the_next_call() {
    let (registry, live) = live("instances:\n  api:\n    failure_threshold: 1\n", &[]);
    let api = registry.breaker("api").unwrap();
    live.update(
        &registry,
        "api",
        Overrides::new().set("classify.excluded", ["NotFound"]),
    )
    .unwrap();
    fail(&api, ApiError::NotFound);
    assert_eq!(api.state(), State::Closed, "excluded by the update");

    live.update(
        &registry,
        "api",
        Overrides::new().set("classify.excluded", Vec::<String>::new()),
    )
    .unwrap();
    fail(&api, ApiError::NotFound);
    assert_eq!(api.state(), State::Open, "the type's own classification again");
}

#[test]
fn r3_a_listed_exclusion_beats_a_listed_failure_and_both_beat_the_code() {
    let toml = "[instances.api]\nfailure_threshold = 1\n[instances.api.classify]\n\
                failure = [\"5xx\"]\nexcluded = [\"503\"]\n";
    let file = ConfigFile::from_toml(toml, &HashMap::new()).unwrap();
    let layers = ConfigLayers::new(Environment::Testing)
        .with_env_source(HashMap::new())
        .with_file(file)
        .unwrap();
    let registry = Registry::new();
    registry.set_config_source(LiveConfig::new(layers));
    let api = registry.breaker("api").unwrap();
    // The code excludes every error and names it by its status.
    struct Excluding;
    impl Classifier<(), u16> for Excluding {
        fn classify(&self, r: &Result<(), u16>) -> Outcome {
            match r {
                Ok(()) => Outcome::Success,
                Err(_) => Outcome::Excluded,
            }
        }
        fn kind(&self, r: &Result<(), u16>) -> ErrorKind {
            r.as_ref()
                .err()
                .map_or(ErrorKind::Unnamed, |s| ErrorKind::Status(*s))
        }
    }
    assert_eq!(
        api.classify(&Err(503), &ByStatus),
        Outcome::Excluded,
        "503 is excluded"
    );
    assert_eq!(
        api.classify(&Err(502), &Excluding),
        Outcome::Failure,
        "5xx beats the code"
    );
    assert_eq!(
        api.classify(&Err(404), &Excluding),
        Outcome::Excluded,
        "not listed"
    );
    assert_eq!(api.classify(&Err(404), &ByStatus), Outcome::Failure, "not listed");
    assert_eq!(api.classify(&Ok(()), &ByStatus), Outcome::Success);
    let _ = api.call_sync_with(|| Err::<(), u16>(503), &ByStatus);
    assert_eq!(api.state(), State::Closed);
    let _ = api.call_sync_with(|| Err::<(), u16>(502), &ByStatus);
    assert_eq!(api.state(), State::Open, "5xx is a failure");
}

#[test]
fn variables_list_error_kinds_separated_by_commas() {
    let (registry, _) = live(
        "instances:\n  api: {}\n",
        &[("CIRCUIT_BREAKER_API_CLASSIFY_EXCLUDED", "NotFound, 4xx ,timeout")],
    );
    let cfg = registry.breaker("api").unwrap().config();
    assert_eq!(cfg.classify.excluded, ["NotFound", "4xx", "timeout"]);
    assert!(cfg.classify.failure.is_empty());
}

#[test]
fn a_bad_entry_is_refused_naming_the_field_and_the_allowed_forms() {
    let err = ConfigFile::from_yaml("classify:\n  failure: [\"5XX\"]\n", &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(err.contains("classify.failure"), "{err}");
    assert!(err.contains("\"5XX\" is none of these"), "{err}");
    assert!(
        err.contains("`timeout`") && err.contains("100-599") && err.contains("`1xx`..`5xx`"),
        "{err}"
    );

    let one = ConfigFile::from_yaml("classify:\n  excluded: NotFound\n", &HashMap::new());
    assert!(one.is_ok(), "one name is a list of one, as in a variable");

    let err = ConfigFile::from_yaml("classify:\n  excluded: [{a: 1}]\n", &HashMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("classify.excluded = <a list holding a mapping>"),
        "{err}"
    );
}

#[test]
fn an_error_kind_in_both_lists_is_refused() {
    let yaml =
        "instances:\n  api:\n    classify:\n      failure: [NotFound, 5xx]\n      excluded: [NotFound]\n";
    let file = ConfigFile::from_yaml(yaml, &HashMap::new()).unwrap();
    let err = ConfigLayers::new(Environment::Testing)
        .with_env_source(HashMap::new())
        .with_file(file)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("instances.api.classify.excluded = \"NotFound\": is also listed in classify.failure"),
        "{err}"
    );
    let update = Overrides::new()
        .set("classify.failure", ["4xx"])
        .set("classify.excluded", ["4xx"]);
    let (registry, live) = live("instances:\n  api: {}\n", &[]);
    let api = registry.breaker("api").unwrap();
    assert!(live.update(&registry, "api", update).is_err());
    assert!(
        api.config().classify.is_empty(),
        "a refused update changes nothing"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pipeline_whose_breaker_lists_timeout_as_excluded_does_not_trip_on_its_timeouts() {
    let breaker = CircuitBreaker::builder("slow")
        .config(cb_core::BreakerConfig {
            failure_threshold: Some(1),
            classify: cb_core::classify::ByName {
                failure: Vec::new(),
                excluded: vec!["timeout".into()],
            },
            ..Default::default()
        })
        .build()
        .unwrap();
    let pipeline = Pipeline::<(), ApiError>::builder("slow")
        .breaker(breaker.clone())
        .classifier(ByClassify)
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = pipeline
            .call(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(())
            })
            .await;
        assert!(matches!(r, Err(cb_core::Error::Timeout { .. })), "{r:?}");
    }
    assert_eq!(breaker.state(), State::Closed);
    let r = pipeline.call(|| async { Err(ApiError::Unavailable) }).await;
    assert!(r.is_err());
    assert_eq!(breaker.state(), State::Open, "other errors still count");
}

#[test]
fn a_file_mixes_names_statuses_and_classes_as_the_reference_shows() {
    let yaml = "instances:\n  inventory:\n    classify:\n      failure: [5xx, timeout]\n      excluded: [NotFound, 404]\n";
    let (registry, live) = live(yaml, &[]);
    let cfg = registry.breaker("inventory").unwrap().config();
    assert_eq!(cfg.classify.failure, ["5xx", "timeout"]);
    assert_eq!(cfg.classify.excluded, ["NotFound", "404"]);
    let why = live.explain("inventory").unwrap().to_string();
    assert!(why.contains("classify.excluded"), "{why}");
}
