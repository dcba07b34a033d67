//! A wrong method is the only error: the client and its builder are still
//! emitted for the other methods, so the caller below adds none.
use cb_tiers::{ChainError, tiered};

#[derive(Debug)]
pub struct ApiError;

#[tiered]
pub trait Accounts {
    async fn get(&self, id: u64) -> Result<u64, ApiError>;
    async fn reset(&mut self) -> Result<(), ApiError>;
}

async fn caller<A: Accounts + Sync>(a: A) -> Result<u64, ChainError<ApiError>> {
    let client = accounts_tiered((a,)).tier("primary").build().unwrap();
    client.get(7).await
}

fn main() {}
