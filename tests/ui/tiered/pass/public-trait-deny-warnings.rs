//! A public `#[tiered]` trait, with an error type private to the crate,
//! compiles without a warning: what the macro emits is no more visible
//! than the trait's own items need, and its `async fn`s are what
//! `#[tiered]` asks for.
#![deny(warnings)]
use cb_tiers::tiered;

#[derive(Debug)]
pub struct Account;
#[derive(Debug)]
struct LookupError;

mod api {
    // A crate-visible trait over a private error type.
    use super::{Account, LookupError};

    #[cb_tiers::tiered]
    pub(crate) trait Lookup {
        async fn find(&self, id: u64) -> Result<Account, LookupError>;
    }

    pub(crate) struct Local;
    impl Lookup for Local {
        async fn find(&self, _id: u64) -> Result<Account, LookupError> { Ok(Account) }
    }
}

#[tiered]
pub trait Accounts {
    /// Looks one up.
    async fn get_account(&self, id: u64) -> Result<Account, std::io::Error>;
}

pub struct A;
impl Accounts for A {
    async fn get_account(&self, _id: u64) -> Result<Account, std::io::Error> { Ok(Account) }
}

fn main() {
    use api::LookupTiered as _;
    let lookup = api::lookup_tiered((api::Local,)).tier("local").build().unwrap();
    let _ = lookup.find(1);
    let client = accounts_tiered((A, A)).tier("primary").tier("secondary").build().unwrap();
    let _ = client.get_account(7);
}
