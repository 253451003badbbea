"""The meeting's record: `/decision` (status and decisions per target) and `/inform` (a partner's information
for a target's lead officer)."""
