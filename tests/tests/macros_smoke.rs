#![allow(missing_docs, clippy::unwrap_used)]
use cb_core::circuit_breaker;

#[derive(Debug, PartialEq)]
struct E;

#[circuit_breaker(name = "smoke", failure_threshold = 2, timeout = "30s")]
async fn smoke(x: u32) -> Result<u32, E> {
    if x == 0 { Err(E) } else { Ok(x) }
}

#[tokio::test]
async fn smoke_works() {
    assert_eq!(smoke(1).await.unwrap(), 1);
}
