"""Where the repository is, for tests in any folder below tests/ (never a path outside it)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NORTHTOWN = REPO / "bot" / "sample" / "northtown.yaml"
