"""Fixed instants the tests hand to the code as its clock: the suite never depends on the day it runs."""

from __future__ import annotations

from datetime import UTC, datetime

# When the sample partnership file is loaded (before every meeting date the tests use).
FILE_LOADED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
