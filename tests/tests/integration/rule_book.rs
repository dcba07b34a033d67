//! The rule book (`docs/semantics.md`) states every rule and names only tests
//! that exist, so a renamed or moved test cannot leave it pointing at nothing.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn book() -> String {
    fs::read_to_string(repository().join("docs/semantics.md")).unwrap()
}

#[test]
fn every_numbered_rule_has_an_entry() {
    let book = book();
    let missing: Vec<u32> = (1..=95)
        .filter(|n| !book.contains(&format!("\n### R{n}. ")))
        .collect();
    assert!(missing.is_empty(), "rules without an entry: {missing:?}");
}

#[test]
fn every_test_the_rule_book_names_exists() {
    let book = book();
    let mut named = 0;
    let mut missing = Vec::new();
    for line in book.lines() {
        let Some(item) = line.strip_prefix("- `").and_then(|l| l.strip_suffix('`')) else {
            continue;
        };
        let Some((path, name)) = item.rsplit_once("::") else {
            continue;
        };
        named += 1;
        let found =
            fs::read_to_string(repository().join(path)).is_ok_and(|src| src.contains(&format!("fn {name}(")));
        if !found {
            missing.push(item.to_owned());
        }
    }
    assert!(named > 100, "the rule book lists its tests as `path::function`");
    assert!(
        missing.is_empty(),
        "the rule book names tests that do not exist (update docs/semantics.md): {missing:#?}"
    );
}
