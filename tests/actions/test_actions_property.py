"""Arbitrary text into /action, /outcome and /actions (and their buttons and forms): never an unhandled
error, never a partial write. Whatever happens is one of: nothing changed; only a refusal's audit row;
or a whole change (its rows and its audit row together).
"""

from __future__ import annotations

import pytest
from actions_support import INCIDENT, counts, make_runner, press, reply_text, run, submit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Text shaped like what people type, plus anything at all.
WORDS = st.sampled_from(["OCG-07", "ocg-07", "OCG-99", "GNG-01", "@sam.patel", "@{slack:U0SAM}", "@{slack:U0X}",
                         "@bea.morris", "@", "by", "due", "Friday", "5/12", "31/11", "in", "2", "weeks", "update",
                         "reassign", "cancel", "1", "#1", "99", "nfa", "benefit-sanction", "page", "overdue",
                         "<!channel>", "<@U0SAM>", "x" * 600, "end of month", "\n", "\u202e", "next friday"])
TEXT = st.one_of(st.lists(WORDS, max_size=8).map(" ".join), st.text(max_size=300))
COMMON = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _assert_whole(before: dict[str, int], after: dict[str, int]) -> None:
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    if not changed:
        return
    assert changed.get("audit_event", 0) == 1, changed  # every change, or a refusal, has exactly one audit row
    rest = {t: d for t, d in changed.items() if t not in ("audit_event", "outbox_message")}
    assert rest in ({}, {"action": 1}, {"action_note": 1}, {"outcome": 1}), changed


@pytest.fixture
def runner_and_factory(seeded):  # type: ignore[no-untyped-def]
    return make_runner(seeded), seeded


@pytest.fixture
def seeded(northtown_loaded):  # type: ignore[no-untyped-def]
    from actions_support import run as run_

    assert run_(make_runner(northtown_loaded), "tom", "action", "OCG-07 @sam.patel check claim in 2 weeks").reply.title
    return northtown_loaded


@pytest.mark.parametrize("intent", ["action", "outcome", "actions"])
@COMMON
@given(who=st.sampled_from(["tom", "sam", "bea", "rose", "ruth"]), text=TEXT)
def test_any_text_to_any_command(runner_and_factory, intent: str, who: str, text: str) -> None:  # type: ignore[no-untyped-def]
    runner, factory = runner_and_factory
    before = counts(factory)
    result = run(runner, who, intent, text)
    assert INCIDENT not in reply_text(result)
    _assert_whole(before, counts(factory))


@COMMON
@given(who=st.sampled_from(["tom", "sam", "bea"]),
       action=st.sampled_from(["action.confirm", "action.correct", "action.done", "action.update", "action.redate",
                               "actions.page", "action.keep", "action.rewrite", "outcome.keep", "outcome.edit"]),
       value=st.one_of(TEXT, st.builds(lambda r, o, t, d: f'{{"r":"{r}","o":"{o}","t":"{t}","d":"{d}","x":0}}',
                                       st.sampled_from(["OCG-07", "GNG-01", ""]),
                                       st.sampled_from(["sam.patel", "bea.morris", "x"]),
                                       st.text(max_size=20).map(lambda s: s.replace('"', "").replace("\\", "")),
                                       st.sampled_from(["", "2026-12-01", "2026-13-01", "x"]))))
def test_any_button_value(runner_and_factory, who: str, action: str, value: str) -> None:  # type: ignore[no-untyped-def]
    runner, factory = runner_and_factory
    before = counts(factory)
    assert INCIDENT not in reply_text(press(runner, who, action, value))
    _assert_whole(before, counts(factory))


@COMMON
@given(who=st.sampled_from(["tom", "sam", "bea"]),
       callback=st.sampled_from(["action.create", "action.note", "outcome.record", "action.change"]),
       values=st.dictionaries(st.sampled_from(["target", "owner", "text", "due", "note", "category", "action"]),
                              TEXT, max_size=7),
       context=st.sampled_from(["", "1", "99", "repeat-ok", "x", "1 kept:x", "repeat-ok kept:",
                                '{"v":"update","n":1,"d":"","p":""}', '{"v":"due","n":1,"d":"2026-12-01","p":"x"}']))
def test_any_form_values(runner_and_factory, who: str, callback: str, values: dict[str, str],  # type: ignore[no-untyped-def]
                         context: str) -> None:
    runner, factory = runner_and_factory
    before = counts(factory)
    assert INCIDENT not in reply_text(submit(runner, who, callback, values, context))
    _assert_whole(before, counts(factory))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["/action", "/outcome", "/actions"]), text=TEXT)
def test_any_text_over_http_is_answered_without_a_server_error(slack_env, command: str, text: str) -> None:  # type: ignore[no-untyped-def]
    answer = slack_env.command("U0TOM", command, text)
    assert answer.status == 200
    assert INCIDENT not in answer.text
