//! `database` gives each call 10s: a queue wait of 10s, which counts toward
//! it, would leave the call no time at all.
use cb_core::{bulkhead, circuit_breaker};

#[derive(Debug)]
struct DbError;

#[circuit_breaker(template = "database")]
#[bulkhead(queue_timeout = "10s")]
async fn query(id: u64) -> Result<u64, DbError> {
    Ok(id)
}

fn main() {}
