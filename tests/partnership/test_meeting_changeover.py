"""`meeting.changeover_minutes` in the partnership file: a whole number of minutes from 0 to 30 (default 5) between
one section and the next; the planner leaves exactly that gap."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from commands.core.errors import FileErrors
from commands.partnership.file import load, parse_file
from models import Partnership
from models.planning import plan_day

SAMPLE = "changeover_minutes: 5, reorder_sections: false}"


def with_changeover(text: str, value: str) -> str:
    assert text.count(SAMPLE) == 1
    return text.replace(SAMPLE, f"changeover_minutes: {value}, reorder_sections: false}}")


def test_changeover_minutes_is_read_and_defaults_to_five(northtown_text: str) -> None:
    assert parse_file(northtown_text, source="n.yaml")["meeting"]["changeover_minutes"] == 5
    assert parse_file(with_changeover(northtown_text, "0"), source="n.yaml")["meeting"]["changeover_minutes"] == 0
    without = northtown_text.replace("changeover_minutes: 5, ", "")
    assert parse_file(without, source="n.yaml")["meeting"]["changeover_minutes"] == 5


@pytest.mark.parametrize("value", ["31", "-1", "2.5", "true", '"5"'])
def test_changeover_minutes_must_be_a_whole_number_from_0_to_30(northtown_text: str, value: str) -> None:
    with pytest.raises(FileErrors) as info:
        parse_file(with_changeover(northtown_text, value), source="n.yaml")
    assert any("meeting.changeover_minutes" in e and "expected a whole number from 0 to 30" in e
               for e in info.value.errors), info.value.errors


def test_the_plan_leaves_the_changeover_between_sections(northtown_loaded, northtown_text: str) -> None:  # type: ignore[no-untyped-def]
    def gaps() -> list[int]:
        with northtown_loaded() as session:
            p = session.scalars(select(Partnership)).one()
            sections = plan_day(session, p, date(2026, 12, 8)).sections
        return [int((b.start - a.end).total_seconds() // 60) for a, b in zip(sections, sections[1:], strict=False)]

    assert gaps() == [5, 5, 5, 5]
    with northtown_loaded.begin() as session:
        assert load(session, with_changeover(northtown_text, "15"), source="n.yaml",
                    now=datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert gaps() == [15, 15, 15, 15]
