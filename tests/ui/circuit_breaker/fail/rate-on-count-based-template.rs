//! `mcp_server` trips on consecutive failures: a failure rate has no effect.
use cb_core::circuit_breaker;

#[derive(Debug)]
struct ToolError;

#[circuit_breaker(template = "mcp_server", failure_rate_threshold = 0.5)]
fn run_tool(id: u64) -> Result<u64, ToolError> {
    Ok(id)
}

fn main() {}
