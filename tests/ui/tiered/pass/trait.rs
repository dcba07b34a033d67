//! `#[tiered]` on a trait: the routing implementation for tuples and `Vec`s.
use cb_tiers::{ChainError, tiered};

#[derive(Debug, Clone)]
pub struct Account;
#[derive(Debug)]
pub struct ApiError;

#[tiered]
pub trait Accounts {
    /// Looks one up.
    async fn get_account(&self, id: u64) -> Result<Account, ApiError>;
    async fn search(&self, query: String, limit: usize) -> Result<Vec<Account>, ApiError>;
}

pub struct A;
impl Accounts for A {
    async fn get_account(&self, _id: u64) -> Result<Account, ApiError> {
        Ok(Account)
    }
    async fn search(&self, _q: String, _l: usize) -> Result<Vec<Account>, ApiError> {
        Ok(vec![])
    }
}

async fn use_it() -> Result<Account, ChainError<ApiError>> {
    let client = accounts_tiered((A, A, A)).tier("primary").tier("secondary").tier("tertiary").build().unwrap();
    client.search("x".into(), 3).await?;
    client.get_account(7).await
}

fn main() {
    let _ = use_it();
}
