"""Chat ids per platform (commands/core/platforms.py): Teams mentions resolve through ChatIdentity like Slack
ones, and workspace links take each platform's own kind of id."""

from __future__ import annotations

import pytest
from actions_support import NOW, make_runner, reply_text, run
from moments import FILE_LOADED
from sqlalchemy import select

from bot import db
from commands.core import mentions, workspaces
from commands.core.context import Caller
from commands.core.errors import UsageError
from commands.core.platforms import PLATFORMS
from models import Action, ChatIdentity, Member, Partnership

SAM_BOT_ID = "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g4JDrqA8vw"
SAM_ENTRA = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


@pytest.fixture
def teams_sam(northtown_loaded):  # type: ignore[no-untyped-def]
    """Sam Patel with a Teams identity as the Teams adapter stores it (the Bot Framework's 29: id)."""
    with db.unit_of_work(northtown_loaded) as session:
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        assert sam is not None
        sam.identities.append(ChatIdentity(partnership_id=sam.partnership_id, platform="teams", user_id=SAM_BOT_ID))
    return northtown_loaded


def test_every_platform_has_an_example_of_each_id_that_its_own_pattern_accepts() -> None:
    for p in PLATFORMS.values():
        assert p.user.fullmatch(p.user_example) and p.mention.fullmatch(p.user_example)
        assert p.workspace.fullmatch(p.workspace_example)
        others = [o for o in PLATFORMS.values() if o is not p]
        assert not any(o.user.fullmatch(p.user_example) for o in others)


def test_a_mention_with_a_teams_29_id_names_the_member_with_that_identity(teams_sam) -> None:  # type: ignore[no-untyped-def]
    with teams_sam() as session:
        p = session.scalar(select(Partnership))
        tom = session.scalar(select(Member).where(Member.key == "tom.ashby"))
        assert p is not None and tom is not None
        caller = Caller(session, p, tom, NOW)
        found = mentions.find(caller, f"@{{teams:{SAM_BOT_ID}}}")
        assert found is not None and found.key == "sam.patel"
        assert mentions.humanise(caller, f"ask @{{teams:{SAM_BOT_ID}}} first") == "ask @sam.patel first"
        assert mentions.find(caller, "@{teams:29:someone-else}") is None
        assert mentions.find(caller, "@{teams:U0SAM}") is None  # a Slack id is no Teams id
        assert mentions.find(caller, "@{slack:U0SAM}") is not None

    # and through a command, as a Teams adapter would pass it
    result = run(make_runner(teams_sam), "tom", "action", f"OCG-07 @{{teams:{SAM_BOT_ID}}} check benefits claim in 2 weeks")
    assert result.reply.title == "Action #1 recorded", reply_text(result)
    with teams_sam() as session:
        action = session.scalar(select(Action))
        assert action is not None and action.owner.key == "sam.patel"


def test_a_mention_with_an_entra_object_id_in_any_case_names_the_member(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    with db.unit_of_work(northtown_loaded) as session:
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        assert sam is not None
        sam.identities.append(ChatIdentity(partnership_id=sam.partnership_id, platform="teams", user_id=SAM_ENTRA))
        session.flush()
        caller = Caller(session, sam.partnership, sam, NOW)
        for token in (f"@{{teams:{SAM_ENTRA}}}", f"@{{teams:{SAM_ENTRA.upper()}}}"):
            found = mentions.find(caller, token)
            assert found is not None and found.key == "sam.patel"


def test_workspace_links_take_each_platforms_own_ids(northtown_loaded) -> None:  # type: ignore[no-untyped-def]
    tenant = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
    with db.unit_of_work(northtown_loaded) as session:
        p = session.scalar(select(Partnership))
        assert p is not None
        said = workspaces.link(session, p, platform="teams", workspace_id=tenant, now=FILE_LOADED)
        assert said == f"teams workspace {tenant.lower()} linked to northtown"
        found = workspaces.partnership_for(session, platform="teams", workspace_id=tenant, fallback_key=None)
        assert found.key == "northtown"
        with pytest.raises(UsageError) as slack_refused:
            workspaces.link(session, p, platform="slack", workspace_id=tenant, now=FILE_LOADED)
        assert slack_refused.value.message == f"'{tenant}' is not a Slack workspace (team) id"
        assert slack_refused.value.example == "oneday slack link-workspace T0123ABCD"
        with pytest.raises(UsageError) as teams_refused:
            workspaces.link(session, p, platform="teams", workspace_id="T0NORTH", now=FILE_LOADED)
        assert teams_refused.value.message == "'T0NORTH' is not a Teams tenant id"
        assert teams_refused.value.example == "oneday teams link-workspace 72f988bf-86f1-41af-91ab-2d7cd011db47"
        assert workspaces.link(session, p, platform="slack", workspace_id="T0NORTH", now=FILE_LOADED).endswith(
            "linked to northtown")
