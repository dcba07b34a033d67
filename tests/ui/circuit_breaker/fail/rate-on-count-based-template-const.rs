//! `TOOLS` inherits `mcp_server`'s consecutive-failure detector: a window
//! size has no effect on it.
use cb_core::{circuit_breaker, template};

template! {
    pub const TOOLS = { base = "mcp_server", failure_threshold = 4 };
}

#[derive(Debug)]
struct ToolError;

#[circuit_breaker(template = TOOLS, sliding_window_size = 50)]
fn run_tool(id: u64) -> Result<u64, ToolError> {
    Ok(id)
}

fn main() {}
