use cb_tiers::tiered;

#[derive(Debug)]
struct ApiError;

#[tiered]
trait Accounts {
    fn get_account(&self, id: u64) -> Result<u64, ApiError>;
}

fn main() {}
