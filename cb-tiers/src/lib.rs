//! Tier chains for the `cb` resilience SDK (primary → secondary → tertiary,
//! skipping tiers whose circuit is open).
