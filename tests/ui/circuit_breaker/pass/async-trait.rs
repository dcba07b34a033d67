//! `#[circuit_breaker]` inside an `#[async_trait]` impl: the trait declares
//! the wrapped error, or the method keeps its signature with `error = from`.
use cb_core::{Error, circuit_breaker};

#[derive(Debug)]
pub struct DbError;

impl From<Error<DbError>> for DbError {
    fn from(_: Error<DbError>) -> Self {
        DbError
    }
}

#[async_trait::async_trait]
pub trait Store {
    async fn load(&self, id: u64) -> Result<u64, Error<DbError>>;
    async fn save(&self, id: u64) -> Result<(), DbError>;
}

pub struct Db;

#[async_trait::async_trait]
impl Store for Db {
    #[circuit_breaker(name = "db.load")]
    async fn load(&self, id: u64) -> Result<u64, DbError> {
        Ok(id)
    }

    #[circuit_breaker(name = "db.save", error = from)]
    async fn save(&self, _id: u64) -> Result<(), DbError> {
        Ok(())
    }
}

fn main() {
    let _store: Box<dyn Store> = Box::new(Db);
}
