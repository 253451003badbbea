"""Refresh the vendored Slack Web API method reference from a newer copy of slack-ruby/slack-api-ref.

The tests' fake Slack (tests/fake_slack.py) checks every call against these files, so only the methods Oneday
and its fakes use are kept in the repository: the clone then needs nothing outside itself. This script copies
exactly those again (every ``methods/<method>.json`` already here, plus any method named on the command line)
and the licence notice, so a refresh never widens the set by accident.

    python tests/slack_api_ref/refresh.py SOURCE [METHOD ...] [--dest DIR]

SOURCE is a copy of the reference: a directory holding ``LICENSE.md`` and ``methods/``, where each method is
``methods/<method>.json`` or deeper (``methods/chat/chat.postMessage.json``); both layouts are searched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def vendored(dest: Path) -> list[str]:
    """The methods kept in ``dest`` today: the list a refresh copies again."""
    return sorted(p.stem for p in (dest / "methods").glob("*.json"))


def find(source: Path, method: str) -> Path | None:
    """``method``'s file in the source, whichever layout it uses (flat or one folder per family)."""
    flat = source / "methods" / f"{method}.json"
    if flat.is_file():
        return flat
    return next((p for p in sorted((source / "methods").rglob(f"{method}.json")) if p.is_file()), None)


def refresh(source: Path, dest: Path = HERE, extra: tuple[str, ...] = ()) -> list[str]:
    """Copy the licence and every vendored (plus extra) method from ``source`` into ``dest``; the methods copied.

    Nothing is written unless every method is found, so a partial source never leaves a half-refreshed copy."""
    methods = sorted(set(vendored(dest)) | set(extra))
    licence = source / "LICENSE.md"
    found = {m: find(source, m) for m in methods}
    missing = [m for m, path in found.items() if path is None]
    if missing or not licence.is_file():
        raise SystemExit(f"not in {source}: {', '.join(missing) or 'LICENSE.md'}")
    (dest / "methods").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(licence, dest / "LICENSE.md")
    for method, path in found.items():
        assert path is not None
        shutil.copyfile(path, dest / "methods" / f"{method}.json")
    return methods


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Refresh the vendored Slack Web API method reference.")
    parser.add_argument("source", type=Path, help="a copy of slack-api-ref (LICENSE.md and methods/)")
    parser.add_argument("methods", nargs="*", help="methods to add, e.g. chat.scheduleMessage")
    parser.add_argument("--dest", type=Path, default=HERE, help="where the vendored copy lives (default: here)")
    args = parser.parse_args(argv)
    copied = refresh(args.source, args.dest, tuple(args.methods))
    print(f"copied LICENSE.md and {len(copied)} methods into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
