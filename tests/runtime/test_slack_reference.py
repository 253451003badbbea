"""The Slack method reference the fake checks calls against is the copy vendored in the repository.

A clone anywhere must pass without any folder beside it, and the copy holds exactly the methods Oneday calls and
its two fakes answer: a new Slack call in the code without its method file is refused by the fake (and flagged
here), and a method nobody uses any more is not carried along.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
import slack_reference as ref
from fake_slack import FakeSlack
from paths import REPO
from slack_api_ref.refresh import refresh
from slack_requests import clear_proxy_env
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from test_manifest import methods_called

from bot.fakeslack.server import FakeSlack as DemoSlack

REPO = REPO
VENDORED = REPO / "tests" / "slack_api_ref"
# A real Slack method (it is in Slack's full reference) that Oneday never calls, so it is not vendored.
NOT_VENDORED = "chat.scheduleMessage"


def handled(cls: type, prefix: str) -> set[str]:
    """The Web API methods a fake answers, from its handler names (`_api_chat_postMessage` -> chat.postMessage)."""
    return {name.removeprefix(prefix).replace("_", ".") for name in dir(cls) if name.startswith(prefix)}


def test_the_reference_is_the_vendored_copy_inside_the_repository() -> None:
    assert ref.REFERENCE_DIR == VENDORED / "methods"
    assert ref.REFERENCE_DIR.resolve().is_relative_to(REPO.resolve())
    assert set(ref.methods()) == {p.stem for p in ref.REFERENCE_DIR.glob("*.json")}
    assert "MIT License" in (VENDORED / "LICENSE.md").read_text(encoding="utf-8")
    assert "slack-ruby/slack-api-ref" in (VENDORED / "README.md").read_text(encoding="utf-8")


def test_the_vendored_methods_are_exactly_those_the_code_calls_and_the_fakes_answer() -> None:
    needed = set(methods_called()) | handled(FakeSlack, "_api_") | handled(DemoSlack, "api_")
    assert {"chat.postMessage", "oauth.v2.access", "apps.connections.open"} <= needed  # the scans work
    have = set(ref.methods())
    assert not needed - have, (f"vendor these: python tests/slack_api_ref/refresh.py SOURCE "
                               f"{' '.join(sorted(needed - have))}")
    assert not have - needed, f"nothing calls these; delete their files: {sorted(have - needed)}"


def test_a_method_missing_from_the_reference_is_refused_by_the_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not ref.exists(NOT_VENDORED)
    clear_proxy_env(monkeypatch)  # slack_sdk honours HTTP(S)_PROXY even for 127.0.0.1
    with FakeSlack() as fake:
        client = WebClient(base_url=fake.base_url, token="xoxb-test", timeout=5)
        with pytest.raises(SlackApiError) as raised:
            client.api_call(NOT_VENDORED, json={"channel": "C1", "text": "later", "post_at": 1})
        assert raised.value.response["error"] == "unknown_method"
        assert fake.calls == [] and [c.method for c in fake.rejected] == [NOT_VENDORED]


def test_no_code_looks_for_the_reference_outside_the_repository() -> None:
    """The old lookups (an environment variable, the shared folder beside the clone, an absolute path) stay gone."""
    # spelled in pieces so that this test's own text is not a match for the checks that look for them
    banned = ("/" + "work/", "../" + "shared", "parents" + "[2]", "SLACK_API_REF_DIR")
    this = Path(__file__).resolve()
    found = [f"{path.relative_to(REPO)}: {word}"
             for top in ("bot", "commands", "models", "migrations", "tests", "benchmarks")
             for path in sorted((REPO / top).rglob("*.py")) if path.resolve() != this
             for word in banned if word in path.read_text(encoding="utf-8")]
    assert not found


def test_refresh_copies_the_same_methods_again_from_either_layout(tmp_path: Path) -> None:
    source = tmp_path / "upstream"  # one folder per family, as the upstream repository may lay it out
    for path in (VENDORED / "methods").glob("*.json"):
        family = source / "methods" / path.stem.split(".")[0]
        family.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, family / path.name)
    shutil.copyfile(VENDORED / "LICENSE.md", source / "LICENSE.md")
    dest = tmp_path / "vendored"
    shutil.copytree(VENDORED / "methods", dest / "methods")
    (dest / "methods" / "chat.postMessage.json").write_text("{}", encoding="utf-8")

    assert refresh(source, dest) == sorted(ref.methods())
    names = sorted(p.name for p in (VENDORED / "methods").glob("*.json"))
    assert filecmp.cmpfiles(VENDORED / "methods", dest / "methods", names, shallow=False)[0] == names
    assert filecmp.cmp(VENDORED / "LICENSE.md", dest / "LICENSE.md", shallow=False)
    with pytest.raises(SystemExit, match=NOT_VENDORED):
        refresh(source, dest, (NOT_VENDORED,))
    assert not (dest / "methods" / f"{NOT_VENDORED}.json").exists()
