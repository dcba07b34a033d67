use cb_core::circuit_breaker;

#[derive(Debug)]
struct ApiError;

// gobreaker's `MaxRequests`: files and variables accept `max_requests`.
#[circuit_breaker(max_requests = 2)]
async fn fetch(id: u32) -> Result<u32, ApiError> {
    Ok(id)
}

fn main() {}
