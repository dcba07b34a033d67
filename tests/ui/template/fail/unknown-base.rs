use cb_core::template;

template! { name = "payments", base = "external_apy" }

fn main() {}
