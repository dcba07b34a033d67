use cb_tiers::tiered;

#[derive(Debug)]
struct ApiError;

#[tiered]
struct Accounts;

fn main() {}
