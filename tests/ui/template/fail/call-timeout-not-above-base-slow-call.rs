//! A template's values meet its built-in base's: `ai_provider` counts calls
//! over 30s as slow, which a 20s call timeout would make unreachable.
use cb_core::template;

template! { name = "chat", base = "ai_provider", call_timeout = "20s" }

fn main() {}
