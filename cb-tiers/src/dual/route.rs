//! The routing decision: which paths a call may use, holding the permits it
//! reports (R66).

use std::time::Duration;

use cb_core::Permit;

/// Which paths a call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// Both paths.
    Both,
    /// Only the MCP path.
    McpOnly,
    /// Only the REST path.
    RestOnly,
    /// Neither: use a fallback or cached data.
    None,
}

impl RouteKind {
    /// `both`, `mcp-only`, `rest-only` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Both => "both",
            RouteKind::McpOnly => "mcp-only",
            RouteKind::RestOnly => "rest-only",
            RouteKind::None => "none",
        }
    }
}

/// A routing decision holding the permits it reports (R66): a half-open
/// path's probe slot is reserved at decision time, so two callers cannot both
/// be routed to one free slot.
///
/// Record each permit's outcome once the call over that path is done;
/// dropping a permit unused records `cancelled` and frees its slot.
#[derive(Debug)]
pub enum Route<'a> {
    /// Both paths admitted.
    Both {
        /// The MCP path's permit.
        mcp: Permit<'a>,
        /// The REST path's permit.
        rest: Permit<'a>,
    },
    /// Only the MCP path admitted.
    McpOnly(Permit<'a>),
    /// Only the REST path admitted.
    RestOnly(Permit<'a>),
    /// Neither admitted: serve a fallback or cached data.
    None {
        /// When a path may admit again (R68), when known.
        retry_after: Option<Duration>,
    },
}

impl Route<'_> {
    /// The decision without its permits.
    pub fn kind(&self) -> RouteKind {
        match self {
            Route::Both { .. } => RouteKind::Both,
            Route::McpOnly(_) => RouteKind::McpOnly,
            Route::RestOnly(_) => RouteKind::RestOnly,
            Route::None { .. } => RouteKind::None,
        }
    }
}

/// Which paths are available, from the path states, without reserving
/// anything (a half-open path counts as available). Use
/// [`DualPathBreaker::route`](super::breaker::DualPathBreaker::route) to actually
/// route a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvailablePaths {
    /// The MCP path admits calls.
    pub mcp: bool,
    /// The REST path admits calls.
    pub rest: bool,
}

impl AvailablePaths {
    /// The paths as a routing kind.
    pub fn kind(self) -> RouteKind {
        match (self.mcp, self.rest) {
            (true, true) => RouteKind::Both,
            (true, false) => RouteKind::McpOnly,
            (false, true) => RouteKind::RestOnly,
            (false, false) => RouteKind::None,
        }
    }
}
