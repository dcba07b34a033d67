use cb_core::template;

template! { name = "payments", slow_call_rate_threshold = 0 }

fn main() {}
