"""A member's own page (Slack's App Home): their actions, their sections, the partnership's health."""
