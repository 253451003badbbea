"""Email as a delivery platform of Oneday (bot/platforms.py): the fallback for invitees no chat platform reaches.

Only itineraries without target references are sent this way (commands/agenda/publish.py, reach.py). An email
is an outbox row like any other (idempotency key, lease, retries, pacing, failures recorded), sent through SMTP
(`SMTP_URL`, `SMTP_FROM`).
"""
