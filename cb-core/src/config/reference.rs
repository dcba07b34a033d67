#![doc = include_str!("../../docs/configuration.md")]

use std::fmt::Write as _;

use super::env::{NoEnv, PREFIX, var_names};
use super::environment::Environment;
use super::layers::ConfigLayers;
use super::overrides::Overrides;
use super::schema::{FIELDS, SECTIONS, show};
use super::settings::Settings;
use super::template::{BUILTIN_TEMPLATES, Template};
use cb_syntax::names::PRESETS;

/// The generated part of this page: the field table, the environment table
/// and the template × environment table, as Markdown. A test checks that
/// `docs/configuration.md` contains exactly this, so the page cannot drift
/// from the code (`CB_BLESS=1 cargo test -p cb-core reference` rewrites it).
pub fn tables() -> String {
    let mut out = String::new();
    let defaults = Settings::default().values();
    // The service types get a column each; the presets, a table of their own.
    let templates: Vec<Template> = BUILTIN_TEMPLATES[1..BUILTIN_TEMPLATES.len() - PRESETS.len()]
        .iter()
        .filter_map(|n| Template::builtin(n))
        .collect();

    out.push_str("### Fields\n\n");
    out.push_str("`·` = not set by the template (the built-in default applies). Rates are fractions.\n\n");
    let _ = write!(out, "| field | type | allowed | default |");
    for t in &templates {
        let _ = write!(out, " `{}` |", t.name());
    }
    out.push_str(" variable (all breakers) | meaning |\n|---|---|---|---|");
    out.push_str(&"---|".repeat(templates.len()));
    out.push_str("---|---|\n");
    for spec in FIELDS {
        let default = defaults
            .iter()
            .find(|(p, _)| *p == spec.path)
            .and_then(|(_, v)| v.as_ref())
            .map_or_else(|| "unset".to_owned(), |v| show(spec, v));
        let mut names = vec![format!("`{}`", spec.path)];
        names.extend(spec.aliases.iter().map(|a| format!("`{a}`")));
        let _ = write!(
            out,
            "| {} | {} | {} | {} |",
            names.join(" / "),
            if spec.optional {
                format!("{}, optional", spec.kind.type_name())
            } else {
                spec.kind.type_name().into()
            },
            spec.kind.range(),
            default
        );
        for t in &templates {
            let set = t.values.iter().rev().find(|(p, _)| p == spec.path);
            let shown = set
                .and_then(|(_, v)| super::schema::coerce(spec, v).ok())
                .map(|v| show(spec, &v));
            let _ = write!(out, " {} |", shown.unwrap_or_else(|| "·".into()));
        }
        let _ = writeln!(out, " `{}` | {} |", var_names(PREFIX, spec)[0], spec.doc);
    }
    out.push_str("\nSections may also be written with the Python services' names: ");
    let aliases: Vec<String> = SECTIONS
        .iter()
        .flat_map(|(s, a)| a.iter().map(move |a| format!("`{a}` for `{s}`")))
        .collect();
    out.push_str(&aliases.join(", "));
    out.push_str(".\n\nRefused wherever they are written, until cb takes them:");
    for (names, why) in cb_syntax::schema::NOT_YET {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let _ = write!(out, " {} ({why});", names.join(" / "));
    }
    out.pop();
    out.push_str(".\n\n### Environments\n\n");
    out.push_str(
        "| environment | failure_threshold | open_duration | failure_rate_threshold |\n|---|---|---|---|\n",
    );
    for env in Environment::ALL {
        let v = env.values();
        let _ = writeln!(out, "| `{env}` | {} | {} | {} |", v[0].1, v[1].1, v[2].1);
    }

    out.push_str("\n### Presets\n\n");
    out.push_str(
        "Built-in templates for one service each. `failure_threshold` is set per environment by the \
         preset itself, strictest in production.\n\n| preset | based on |",
    );
    for env in Environment::ALL {
        let _ = write!(out, " `{env}` |");
    }
    out.push_str(" also sets |\n|---|---|---|---|---|---|---|\n");
    for (name, base) in PRESETS {
        let _ = write!(out, "| `{name}` | `{base}` |");
        for env in Environment::ALL {
            let threshold = ConfigLayers::new(env)
                .with_env_source(NoEnv)
                .explain("reference", &Overrides::new().template(name))
                .ok()
                .and_then(|e| e.get("failure_threshold").and_then(|f| f.value.clone()))
                .unwrap_or_else(|| "invalid".into());
            let _ = write!(out, " {threshold} |");
        }
        let also: Vec<String> = Template::builtin(name)
            .map(|t| t.values)
            .unwrap_or_default()
            .iter()
            .filter_map(|(path, v)| {
                let spec = super::schema::field(path)?;
                let v = super::schema::coerce(spec, v).ok()?;
                Some(format!("`{path}` = {}", show(spec, &v)))
            })
            .collect();
        let _ = writeln!(
            out,
            " {} |",
            if also.is_empty() {
                "·".into()
            } else {
                also.join(", ")
            }
        );
    }

    out.push_str("\n### Every template in every environment\n\n");
    out.push_str("Resolved with no file, no variables and no code overrides.\n\n");
    let cols = [
        "circuit_type",
        "failure_threshold",
        "open_duration",
        "failure_rate_threshold",
        "minimum_calls",
        "sliding_window_size",
        "window_duration",
        "slow_call_rate_threshold",
        "slow_call_duration_threshold",
        "half_open_max_calls",
        "success_threshold",
        "max_open_duration",
        "retry.max_attempts",
        "bulkhead.enabled",
        "call_timeout.enabled",
        "call_timeout.duration",
        "health_check.enabled",
    ];
    out.push_str("| template | environment |");
    for c in cols {
        let _ = write!(out, " {c} |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(cols.len()));
    out.push('\n');
    for t in BUILTIN_TEMPLATES {
        for env in Environment::ALL {
            let layers = ConfigLayers::new(env).with_env_source(NoEnv);
            let _ = write!(out, "| `{t}` | `{env}` |");
            match layers.explain("reference", &Overrides::new().template(t)) {
                Ok(e) => {
                    for c in cols {
                        let v = e
                            .get(c)
                            .and_then(|f| f.value.clone())
                            .unwrap_or_else(|| "unset".into());
                        let _ = write!(out, " {v} |");
                    }
                }
                Err(err) => {
                    let _ = write!(out, " invalid: {} |", err.to_string().replace('\n', " "));
                }
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    const BEGIN: &str = "<!-- BEGIN GENERATED: cb_core::config::reference::tables() -->\n";
    const END: &str = "<!-- END GENERATED -->";

    /// The page must contain exactly what the code generates.
    #[test]
    fn reference_tables_match_the_code() {
        let page = include_str!("../../docs/configuration.md");
        let generated = super::tables();
        let (Some(start), Some(end)) = (page.find(BEGIN), page.find(END)) else {
            panic!("docs/configuration.md lacks the generated-section markers");
        };
        let current = &page[start + BEGIN.len()..end];
        if current != generated {
            if std::env::var_os("CB_BLESS").is_some() {
                let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
                let updated = format!("{}{BEGIN}{generated}{}", &page[..start], &page[end..]);
                std::fs::write(path, updated).unwrap();
                return;
            }
            panic!(
                "docs/configuration.md is out of date with the code; run `CB_BLESS=1 cargo test -p cb-core \
                 reference` and review the diff"
            );
        }
    }

    /// The page's table of rules between fields lists each rule the code
    /// checks ([`cb_syntax::rules::RULES`]) once, in its order.
    #[test]
    fn the_cross_field_table_lists_every_rule() {
        let page = include_str!("../../docs/configuration.md");
        let section = page
            .split("## Cross-field rules")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("docs/configuration.md has a `Cross-field rules` section");
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
        assert_eq!(rows.len(), cb_syntax::rules::RULES.len(), "{rows:#?}");
        for (row, rule) in rows.iter().zip(cb_syntax::rules::RULES) {
            for path in rule.fields().take(2) {
                assert!(row.contains(path), "{row} should name {path}");
            }
        }
    }
}
