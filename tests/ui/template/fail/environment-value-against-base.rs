//! An environment's values meet the base's too: `database` waits up to 2s
//! for a bulkhead slot, which a 1s production call timeout cannot contain.
use cb_core::template;

template! { name = "orders", base = "database", production(call_timeout = "1s") }

fn main() {}
