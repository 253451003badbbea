"""Refusals take the same path whether or not the reference exists: the same SQL statements, in the same order,
and the same words, so neither the answer nor the work behind it (its time) tells an outsider that OCG-07 exists.
(No timing is asserted: the statements run are what the time is made of. For an unknown reference the rule is
applied to a section chosen from the reference, so list lengths vary as they do between real sections: they are
compared as shapes.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from actions_support import make_runner, reply_text, run
from sqlalchemy import event


@contextmanager
def statements(factory: Any) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = factory.kw["bind"]

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(re.sub(r"IN \((\?, )*\?\)", "IN (...)", " ".join(statement.split())))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize(("intent", "existing", "unknown"), [
    ("action", "OCG-07 @sam.patel check the claim", "OCG-98 @sam.patel check the claim"),
    ("actions", "OCG-07", "OCG-98"),
    ("action", "update 1 visited, no answer", "update 99 visited, no answer"),
])
def test_a_forbidden_reference_and_an_unknown_one_run_the_same_statements(
        northtown_loaded: Any, intent: str, existing: str, unknown: str) -> None:
    runner = make_runner(northtown_loaded)
    made = run(runner, "tom", "action", "OCG-07 @sam.patel check benefits claim in 2 weeks")
    assert made.reply.title == "Action #1 recorded"
    run(runner, "bea", intent, unknown)  # warm any per-process caches once
    with statements(northtown_loaded) as forbidden_path:
        forbidden = run(runner, "bea", intent, existing)
    with statements(northtown_loaded) as unknown_path:
        missing = run(runner, "bea", intent, unknown)
    assert "either it doesn't exist or you are not in" in reply_text(forbidden)
    assert reply_text(forbidden).replace("OCG-07", "X").replace("action 1", "action N") == \
        reply_text(missing).replace("OCG-98", "X").replace("action 99", "action N")
    assert len(forbidden_path) > 5
    assert forbidden_path == unknown_path
