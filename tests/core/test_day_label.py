"""Dates in replies: one formatter, English names whatever the locale, and no strftime date codes in commands/."""

from __future__ import annotations

import ast
import re
from datetime import date

import pytest
from paths import REPO

from commands.core.dates import day_label

COMMANDS = REPO / "commands"
DATE_CODES = re.compile(r"%-?[aAbBdejmyYUWxc]")  # locale-dependent or glibc-only (%-d); %H:%M is fine


@pytest.mark.parametrize(("args", "kwargs", "shown"), [
    ((date(2026, 12, 8),), {}, "Tue 8 Dec"),
    ((date(2026, 12, 8), date(2026, 11, 24)), {}, "Tue 8 Dec"),
    ((date(2027, 1, 12), date(2026, 11, 24)), {}, "Tue 12 Jan 2027"),
    ((date(2026, 12, 4),), {"weekday": False}, "4 Dec"),
    ((date(2026, 12, 4),), {"weekday": False, "year": True}, "4 Dec 2026"),
    ((date(2026, 12, 8),), {"long": True, "year": True}, "Tuesday 8 December 2026"),
    ((date(2027, 5, 12), date(2026, 11, 24)), {"weekday": False, "long": True}, "12 May 2027"),
    ((date(2026, 9, 6),), {"long": True}, "Sunday 6 September"),
])
def test_day_label(args: tuple[date, ...], kwargs: dict[str, bool], shown: str) -> None:
    assert day_label(*args, **kwargs) == shown


def _strings(tree: ast.AST) -> list[ast.Constant]:
    """Every string constant that is not a docstring (strftime patterns and f-string format specs included)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [node for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def test_commands_write_dates_only_through_day_label() -> None:
    found = [f"{path.relative_to(COMMANDS.parent)}:{node.lineno} {node.value!r}"
             for path in sorted(COMMANDS.rglob("*.py"))
             for node in _strings(ast.parse(path.read_text(encoding="utf-8")))
             if DATE_CODES.search(node.value)]
    assert found == []


def test_the_scan_sees_a_strftime_date_code() -> None:
    tree = ast.parse('def f(d):\n    """%a in a docstring is fine"""\n    return f"{d:%-d %b}" + d.strftime("%A")\n')
    assert sorted(n.value for n in _strings(tree) if DATE_CODES.search(n.value)) == ["%-d %b", "%A"]
