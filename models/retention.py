"""Retention and review (MoPI-style): what is due, as pure rules, and the two records that say it was done.

Police information is kept only while it is needed. MoPI (Management of Police Information) asks for a review
at set dates and for disposal once a record's retention period has run out. Oneday applies that to targets:

- a target's `review` date (partnership file) is when its lead officer and the coordinators are asked whether it
  is still needed (`review_due`);
- a closed target (off the agenda) is kept for the partnership's retention period after its last activity (an
  action, an outcome, a note, a meeting that discussed it, a change to its record); after that its details and
  every free text about it are erased (`erase_on`), keeping depersonalised counts (the action rows, with their
  status and outcome category, so the partnership's figures still add up);
- a meeting's section spaces are archived once its pack has closed (`archive_from`): chat history then stops
  being a live place to read about the day.

The partnership file's `retention:` settings (`RetentionPolicy`) hold the periods; the defaults follow MoPI's
group 3 (six years) and are documented in README.md and docs/.

`TargetErasure` and `SpaceArchive` record what was done, so the plan never proposes it twice and the counts
that were kept can be read back. They hold metadata only, never erased content.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantMixin, UTCDateTime
from models.calendar import ENGLAND_AND_WALES, pack_closes

# What stays where free text about an erased target was: says it was there and why it is gone.
ERASED = "[erased: retention]"

DEFAULT_KEEP_CLOSED_MONTHS = 72  # MoPI group 3: six years
MAX_KEEP_MONTHS = 1200


@dataclass(frozen=True)
class RetentionPolicy:
    """The partnership file's `retention:` block, read with its defaults.

    `keep_months`: how long a closed target is kept after its last activity; `cohorts`: a longer or shorter
    period for one cohort (e.g. organised crime groups, MoPI group 1/2 style); `archive_spaces`: whether section
    spaces are archived once the meeting's pack has closed."""

    keep_months: int = DEFAULT_KEEP_CLOSED_MONTHS
    cohorts: Mapping[str, int] | None = None
    archive_spaces: bool = True

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> RetentionPolicy:
        s = dict(settings or {})
        return cls(keep_months=int(s.get("keep_months", DEFAULT_KEEP_CLOSED_MONTHS)),
                   cohorts={str(k): int(v) for k, v in (s.get("cohorts") or {}).items()},
                   archive_spaces=bool(s.get("archive_spaces", True)))

    def months_for(self, cohort: str) -> int:
        return (self.cohorts or {}).get(cohort, self.keep_months)


def add_months(day: date, months: int) -> date:
    """`day` plus whole months; the 29-31st of a month that is shorter lands on its last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def last_activity(dates: Iterable[date | None]) -> date | None:
    """The latest of a target's activity dates (None when it has none)."""
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def erase_on(*, closed: bool, last: date | None, months: int) -> date | None:
    """The first day a target may be erased: `months` after its last activity, and only once it is closed. An
    active target is never due (it is still on the agenda); one with no activity at all counts from nothing, so
    it is never due either (the caller passes at least its closure)."""
    if not closed or last is None:
        return None
    return add_months(last, months)


def review_due(review: date | None, today: date) -> bool:
    """A target is due for review on and after its review date."""
    return review is not None and review <= today


def archive_from(meeting_day: date, pack_open_working_days: int,
                 closed: Container[date] = ENGLAND_AND_WALES) -> date:
    """The first day a meeting's section spaces may be archived: the day after its pack closes."""
    from datetime import timedelta

    return pack_closes(meeting_day, pack_open_working_days, closed) + timedelta(days=1)


@dataclass(frozen=True)
class Due:
    """One thing the retention plan proposes: `kind` review | erase | archive, with the reason in words."""

    kind: str
    subject: str  # a target reference, or a section ("ocg 2026-12-08")
    on: date  # when it became due
    reason: str


class TargetErasure(TenantMixin, Base):
    """A target erased under the retention policy: when, and the depersonalised counts that were kept."""

    __tablename__ = "target_erasure"
    __table_args__ = (UniqueConstraint("target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    # counts kept, e.g. {"actions": 3, "outcomes": 2, "notes": 4, "messages": 5}
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SpaceArchive(TenantMixin, Base):
    """A section's chat space archived after its meeting's pack closed."""

    __tablename__ = "space_archive"
    __table_args__ = (UniqueConstraint("section_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id", ondelete="CASCADE"))
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime())
