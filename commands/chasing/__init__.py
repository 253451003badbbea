"""Chasing owners until they report: reminder rounds, escalation to the chair and lead, the chair's digest."""
