"""What every capability shares: who is asking (context), typed errors, platform-neutral replies, the router,
help, identity and workspace resolution, mentions, and the entitlement checks (access)."""
