"""docs/roles.md, checked cell by cell against the real commands.

For every row of the matrix and every role, the command runs as a member holding only that role (all DWP, all
attending the organised crime section, so the role is the only difference), in its own transaction that is rolled
back; a refusal (Refused, or the CLI's OnedayError) is `no`, anything else that completes is `yes`. Any other
error fails the test: the matrix must describe commands that run.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from paths import REPO
from sqlalchemy import select

from bot import cli_retention
from commands.core import router
from commands.core.context import Caller
from commands.core.errors import OnedayError, Refused
from commands.core.names import DEFAULT_NAMES
from models import (
    Action,
    ActionStatus,
    Agency,
    Cohort,
    Meeting,
    MeetingStatus,
    Member,
    OnwardRequest,
    OnwardStatus,
    Partnership,
    Section,
    Target,
)
from models.partnership import ROLES

DOC = REPO / "docs" / "roles.md"
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def matrix() -> tuple[list[str], list[tuple[str, dict[str, bool]]]]:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header[0] == "command"
    roles, out = header[1:], []
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        assert set(cells[1:]) <= {"yes", "no"}, line
        out.append((cells[0], {r: c == "yes" for r, c in zip(roles, cells[1:], strict=True)}))
    return roles, out


ROLES_IN_DOC, ROWS = matrix()


@pytest.fixture
def people(northtown_loaded):  # type: ignore[no-untyped-def]
    """One DWP member per role ('role.<role>'); role.lead leads OCG-07; action 1 on OCG-07 is sam.patel's,
    recorded by tom.ashby; one onward request waits for a chair."""
    with northtown_loaded.begin() as session:
        p = session.scalar(select(Partnership))
        dwp = session.scalar(select(Agency).where(Agency.key == "dwp"))
        members = {}
        for role in ROLES:
            m = Member(partnership_id=p.id, key=f"role.{role}", name=f"Role {role.title()}",
                       email=f"{role}@dwp.example", agency_id=dwp.id, roles=[role], cohorts=["ocg"], spoc=False)
            session.add(m)
            members[role] = m
        session.flush()
        target = session.scalar(select(Target).where(Target.ref == "OCG-07"))
        target.lead_id = members["lead"].id
        sam = session.scalar(select(Member).where(Member.key == "sam.patel"))
        tom = session.scalar(select(Member).where(Member.key == "tom.ashby"))
        bea = session.scalar(select(Member).where(Member.key == "bea.morris"))
        session.add(Action(partnership_id=p.id, number=1, target_id=target.id, owner_id=sam.id, created_by_id=tom.id,
                           text="check benefits claim", status=ActionStatus.OPEN, created_at=NOW, updated_at=NOW))
        request = OnwardRequest(partnership_id=p.id, target_id=target.id, requested_by_id=sam.id,
                                recipient_id=bea.id, reason="new offender manager", status=OnwardStatus.PENDING,
                                created_at=NOW)
        session.add(request)
        ocg = session.scalar(select(Cohort).where(Cohort.key == "ocg"))
        meeting = Meeting(partnership_id=p.id, date=date(2026, 12, 1), status=MeetingStatus.PUBLISHED,
                          published_at=NOW, created_at=NOW)  # OCG-07 on its agenda: /decision and /agenda minutes
        meeting.sections.append(Section(partnership_id=p.id, cohort_id=ocg.id, position=0,
                                        starts_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
                                        ends_at=datetime(2026, 12, 1, 11, 0, tzinfo=UTC), target_refs=["OCG-07"]))
        session.add(meeting)
        session.flush()
        request_id = request.id
    return northtown_loaded, request_id


def allowed(factory: Any, request_id: int, role: str, row: str) -> bool:
    session = factory()
    try:
        p = session.scalar(select(Partnership))
        member = session.scalar(select(Member).where(Member.key == f"role.{role}"))
        caller = Caller(session=session, partnership=p, member=member, now=NOW, names=DEFAULT_NAMES)
        try:
            if row.startswith("`/"):
                intent, _, text = row.strip("`").lstrip("/").partition(" ")
                router.dispatch(intent, caller, text)
            elif row.startswith("button `onward.approve`"):
                router.press("onward.approve", caller, str(request_id))
            elif row.startswith("`oneday retention apply --as"):
                cli_retention._actor(session, p, member.key)
            else:
                raise AssertionError(f"the test does not know how to run: {row}")
        except Refused:
            return False
        except OnedayError as exc:
            if row.startswith("`oneday"):
                return False
            raise AssertionError(f"{row} as {role}: {exc.message}") from exc
        return True
    finally:
        session.rollback()
        session.close()


def test_the_matrix_names_every_role_and_every_command() -> None:
    assert ROLES_IN_DOC == list(ROLES)
    intents = {re.match(r"`/(\w+)", row)[1] for row, _ in ROWS if row.startswith("`/")}  # type: ignore[index]
    assert intents == set(router.HANDLERS)
    agenda = {row.strip("`").split()[1] for row, _ in ROWS if row.startswith("`/agenda")}
    assert agenda >= {"plan", "publish", "add", "overrides", "share", "onward"}


@pytest.mark.parametrize("row,expected", ROWS, ids=[r for r, _ in ROWS])
def test_each_role_is_allowed_or_refused_as_the_matrix_says(people, row: str, expected: dict[str, bool]) -> None:  # type: ignore[no-untyped-def]
    factory, request_id = people
    got = {role: allowed(factory, request_id, role, row) for role in ROLES_IN_DOC}
    assert got == expected
