"""Concurrent `/action`s each get their own number and an answer, never an incident: a unit of work that lost
the race for the next number (or SQLite's one writer) is run again from the start by the runner."""

from __future__ import annotations

import threading

from actions_support import make_runner, reply_text, run
from sqlalchemy import select

from models import Action


def test_sixteen_actions_at_once_are_all_recorded_with_distinct_numbers(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    runner = make_runner(northtown_loaded)
    answers: list[str] = []
    start = threading.Barrier(16)

    def one(i: int) -> None:
        start.wait()
        answers.append(reply_text(run(runner, "tom", "action", f"OCG-07 @sam.patel task number {i} by Friday")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not [a for a in answers if "Something went wrong" in a], answers
    assert sum("recorded" in a for a in answers) == 16
    with northtown_loaded() as session:
        numbers = list(session.scalars(select(Action.number).where(Action.text.is_not(None))))
        texts = {a.text for a in session.scalars(select(Action))}
    assert len(numbers) == len(set(numbers))
    assert {f"task number {i}" for i in range(16)} <= texts
