//! Following `base` links: a template's chain of bases and a file
//! instance's `base_config` chain, root first, with cycles and unknown
//! names reported.

use super::ConfigLayers;
use crate::config::file::Body;
use crate::config::schema::{backticked, nearest};
use crate::config::template::{BUILTIN_TEMPLATES, CheckedTemplate, Template};
use crate::error::{ConfigError, Violations};

impl ConfigLayers {
    /// The named template and its bases, `default` first.
    pub(super) fn template_chain(&self, name: &str) -> Result<Vec<CheckedTemplate>, ConfigError> {
        let mut v = Violations::new();
        let find = |n: &str| -> Option<CheckedTemplate> {
            if let Some(t) = self.code_templates.get(n) {
                return Some(t.clone());
            }
            if let Some(b) = self.file.templates.get(n) {
                return Some(CheckedTemplate {
                    name: n.to_owned(),
                    base: b.base.clone(),
                    entries: b.entries.clone(),
                    environments: b.environments.clone(),
                });
            }
            let builtin = Template::builtin(n)?;
            let mut scratch = Violations::new(); // built-ins are checked by a unit test
            Some(CheckedTemplate::check(&builtin, "", &mut scratch))
        };
        let mut out: Vec<CheckedTemplate> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut current = Some(name.to_owned());
        let mut referrer: Option<String> = None;
        while let Some(n) = current {
            if let Some(pos) = seen.iter().position(|s| *s == n) {
                let mut cycle: Vec<&str> = seen[pos..].iter().map(String::as_str).collect();
                cycle.push(&n);
                v.push(
                    format!(
                        "templates.{}.base",
                        seen.last().map_or(n.as_str(), String::as_str)
                    ),
                    format!("{n:?}"),
                    format!("template cycle: {}", cycle.join(" -> ")),
                );
                return Err(v.finish().err().unwrap_or_else(|| ConfigError::new(vec![])));
            }
            let Some(found) = find(&n) else {
                let mut known: Vec<String> = BUILTIN_TEMPLATES.iter().map(|s| s.to_string()).collect();
                known.extend(self.code_templates.keys().cloned());
                known.extend(self.file.templates.keys().cloned());
                known.sort();
                known.dedup();
                let mut allowed = format!("unknown template `{n}`; expected one of {}", backticked(&known));
                if let Some(best) = nearest(&n, &known) {
                    allowed = format!("unknown template `{n}`; did you mean `{best}`?");
                }
                let at = match &referrer {
                    Some(r) => format!("templates.{r}.base"),
                    None => "template".to_owned(),
                };
                v.push(at, format!("{n:?}"), allowed);
                return Err(v.finish().err().unwrap_or_else(|| ConfigError::new(vec![])));
            };
            seen.push(n.clone());
            let base = found.base.clone();
            out.push(found);
            referrer = Some(n.clone());
            current = match base {
                Some(b) => Some(b),
                None if n != "default" => Some("default".to_owned()),
                None => None,
            };
        }
        out.reverse();
        Ok(out)
    }
}

/// Follows `base` links from `start` through `lookup`, root first.
/// Errors are `(field, value, allowed)` for the link that failed.
#[allow(clippy::type_complexity)]
pub(super) fn chain<'a>(
    start: &Option<String>,
    link: &str,
    what: &str,
    lookup: &dyn Fn(&str) -> Option<&'a Body>,
) -> Result<Vec<(String, &'a Body)>, (String, String, String)> {
    let mut out: Vec<(String, &'a Body)> = Vec::new();
    let mut current = start.clone();
    while let Some(n) = current {
        if out.iter().any(|(s, _)| *s == n) {
            let mut names: Vec<&str> = out.iter().map(|(s, _)| s.as_str()).collect();
            names.push(&n);
            return Err((
                link.to_owned(),
                format!("{n:?}"),
                format!("{what} cycle: {}", names.join(" -> ")),
            ));
        }
        let Some(body) = lookup(&n) else {
            return Err((link.to_owned(), format!("{n:?}"), format!("unknown {what} `{n}`")));
        };
        out.push((n, body));
        current = body.base.clone();
    }
    out.reverse();
    Ok(out)
}
