use cb_core::template;

template! { name = "database", failure_threshold = 2 }

fn main() {}
