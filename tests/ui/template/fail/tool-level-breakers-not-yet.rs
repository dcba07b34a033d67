use cb_core::template;

template! { name = "tools", base = "mcp_server", enable_tool_level_breakers = true }

fn main() {}
