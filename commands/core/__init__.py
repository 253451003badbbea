"""What every capability shares: who is asking (context), typed errors, platform-neutral replies, the router,
help, the command names (names), dates as replies show them (dates), identity and workspace resolution, mentions,
and the entitlement checks (access)."""
