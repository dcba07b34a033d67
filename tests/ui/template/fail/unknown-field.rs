use cb_core::template;

template! { name = "payments", half_open_calls_max = 2 }

fn main() {}
