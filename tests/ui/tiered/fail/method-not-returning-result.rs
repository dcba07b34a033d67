use cb_tiers::tiered;

#[derive(Debug)]
struct ApiError;

#[tiered]
trait Accounts {
    async fn get_account(&self, id: u64) -> u64;
}

fn main() {}
