//! Two functions declaring one breaker name: with different settings, the
//! first declaration (by file, then line) wins for both and the conflict is
//! listed once by `config_errors()`, naming both call sites; with the same
//! settings they share one breaker and nothing is reported. In one crate
//! that is a compile error, so each pair's first declaration is in another
//! crate (`cb_tests::duplicate`), as it would be in a program whose
//! libraries both name a breaker.
#![allow(missing_docs, clippy::unwrap_used)]

use cb_core::{Registry, circuit_breaker};

mod second {
    use super::*;

    #[circuit_breaker(name = "dup.differs", failure_threshold = 5)]
    pub async fn call() -> Result<u32, String> {
        Ok(2)
    }

    #[circuit_breaker(name = "dup.same", failure_threshold = 6)]
    pub async fn same() -> Result<u32, String> {
        Ok(2)
    }
}

fn sites(name: &str) -> Vec<String> {
    let all = cb_core::registry::declared();
    let mut sites: Vec<String> = all
        .iter()
        .filter(|d| d.name == name)
        .map(|d| d.location())
        .collect();
    sites.sort_unstable();
    sites
}

#[tokio::test]
async fn one_name_declared_with_different_settings_is_reported_once_and_the_first_declaration_wins() {
    let at = sites("dup.differs");
    assert_eq!(at.len(), 2, "declared() lists both functions");
    // The second one is called first: the first declaration still wins.
    assert_eq!(second::call().await.unwrap(), 2);
    assert_eq!(cb_tests::duplicate::differs().await.unwrap(), 1);
    assert_eq!(second::call().await.unwrap(), 2);
    let b = Registry::global().get("dup.differs").unwrap();
    assert_eq!(b.config().failure_threshold, Some(3));

    let errors = cb_tests::config_errors_of("dup.differs");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let v = &errors[0].violations()[0];
    assert_eq!(v.field, "name");
    assert_eq!(v.value, "\"dup.differs\"");
    assert!(at[0].starts_with("tests/src/duplicate.rs:"), "{at:?}");
    assert!(
        at[1].starts_with("tests/tests/macros_duplicate_names.rs:"),
        "{at:?}"
    );
    let expected = format!(
        "declared twice with different settings: at {} (failure_threshold = 3) and {} (failure_threshold = 5)",
        at[0], at[1]
    );
    assert!(v.allowed.starts_with(&expected), "{}", v.allowed);
}

#[tokio::test]
async fn one_name_declared_twice_with_the_same_settings_is_one_breaker_and_no_report() {
    assert_eq!(sites("dup.same").len(), 2);
    assert_eq!(cb_tests::duplicate::same().await.unwrap(), 1);
    assert_eq!(second::same().await.unwrap(), 2);
    assert_eq!(
        Registry::global()
            .get("dup.same")
            .unwrap()
            .config()
            .failure_threshold,
        Some(6)
    );
    assert!(cb_tests::config_errors_of("dup.same").is_empty());
}
