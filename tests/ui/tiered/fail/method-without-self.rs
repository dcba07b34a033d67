use cb_tiers::tiered;

#[derive(Debug)]
struct ApiError;

#[tiered]
trait Accounts {
    async fn get_account(id: u64) -> Result<u64, ApiError>;
}

fn main() {}
