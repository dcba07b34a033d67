//! One name, one set of settings: two functions of a crate that name the
//! same breaker share it, so declaring it twice with different settings
//! would leave one of them with settings it did not ask for. rustc expands
//! a crate's macros in one process, so the first declaration is kept there
//! and a different second one is refused, naming both places. (Breakers of
//! one name in different crates are checked at run time.)

use std::collections::BTreeMap;
use std::sync::Mutex;

use syn::LitStr;

use crate::common::Errors;

/// A declaration seen: its settings, as text, and where it was written.
struct Seen {
    settings: String,
    file: String,
    line: usize,
}

/// Breaker name → its first declaration in this crate.
static DECLARED: Mutex<BTreeMap<String, Seen>> = Mutex::new(BTreeMap::new());

/// Records the breaker `name` with `settings` (every argument that
/// configures it, as text), or reports that the crate declared it before
/// with other settings. Skipped where there is no compiling crate to speak
/// of: outside a macro expansion (unit tests) and in rust-analyzer's
/// long-lived macro server (which marks itself with
/// `RUST_ANALYZER_INTERNALS_DO_NOT_USE`), where edits would leave stale
/// declarations behind.
pub(super) fn check(name: &LitStr, settings: String, errors: &mut Errors) {
    if !proc_macro::is_available() || std::env::var_os("RUST_ANALYZER_INTERNALS_DO_NOT_USE").is_some() {
        return;
    }
    let span = name.span().unwrap();
    let (file, line) = (span.file(), span.line());
    let mut declared = DECLARED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match declared.get(&name.value()) {
        // The same call site expanded again is the same declaration.
        Some(first) if first.file == file && first.line == line => {}
        Some(first) if first.settings != settings => errors.push(
            name,
            format!(
                "the breaker `{}` is also declared at {}:{} with other settings; functions naming one \
                 breaker share it, so give them the same settings or different names",
                name.value(),
                first.file,
                first.line
            ),
        ),
        Some(_) => {}
        None => {
            declared.insert(name.value(), Seen { settings, file, line });
        }
    }
}
