use cb_core::circuit_breaker;

#[derive(Debug)]
struct McpError;

#[circuit_breaker(template = "mcp_server", tool_level_breakers = true)]
async fn call_tool(tool: &str) -> Result<String, McpError> {
    Ok(tool.to_owned())
}

fn main() {}
