"""Fixed instants the tests hand to the code as its clock: the suite never depends on the day it runs."""

from __future__ import annotations

from datetime import UTC, datetime

# When the sample partnership file is loaded (before every meeting date the tests use).
FILE_LOADED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)

# Where the in-process Slack stack's clock starts unless a test sets it: a week before the sample meeting
# (8 December 2026), so dates written in tests ("by 2026-12-30") mean the same whenever the suite runs.
STACK_START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
