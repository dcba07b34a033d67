//! A public `#[tiered]` trait whose error type is private to the crate:
//! the only warnings are the trait's own, at the user's method; nothing the macro
//! emits (client trait, routing impls) adds one naming its internals.
#![deny(warnings)]
use cb_tiers::tiered;

#[derive(Debug)]
pub struct Account;
#[derive(Debug)]
struct LookupError;

#[tiered]
pub trait Lookup {
    async fn find(&self, id: u64) -> Result<Account, LookupError>;
}

struct Local;
impl Lookup for Local {
    async fn find(&self, _id: u64) -> Result<Account, LookupError> { Ok(Account) }
}

fn main() {
    let lookup = lookup_tiered((Local,)).tier("local").build().unwrap();
    let _ = lookup.find(1);
}
