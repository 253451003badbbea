"""The domain: entities and pure rules. Knows no chat platform.

Importing this package registers every table on `Base.metadata` (Alembic and the tests rely on that).
"""

from models import entitlement_cache  # noqa: F401 (registers the rule-version hooks in every process)
from models.action import Action, ActionStatus, Outcome
from models.action_note import ActionNote
from models.agenda_override import AgendaOverride, OverrideKind
from models.audit import AuditEvent
from models.base import Base
from models.chat_state import HomeView, SeenEvent
from models.meeting import Invitation, Meeting, MeetingStatus, Section
from models.meeting_record import (
    Attendance,
    AttendanceStatus,
    Decision,
    DiscussionStatus,
    Minutes,
    PartnerInformation,
    TargetDiscussion,
)
from models.onward import OnwardRequest, OnwardStatus
from models.outbox import OutboxMessage
from models.pacing import ConversationPace
from models.partnership import Agency, ChatIdentity, Cohort, Member, Partnership
from models.reminder_mark import ReminderMark
from models.retention import SpaceArchive, TargetErasure
from models.target import PartnerView, Target, TargetDetails, TargetStatus
from models.workspace import Workspace

__all__ = [
    "Action",
    "ActionNote",
    "ActionStatus",
    "AgendaOverride",
    "Attendance",
    "AttendanceStatus",
    "Agency",
    "AuditEvent",
    "Base",
    "ChatIdentity",
    "Decision",
    "DiscussionStatus",
    "HomeView",
    "Cohort",
    "ConversationPace",
    "Invitation",
    "Meeting",
    "MeetingStatus",
    "Minutes",
    "Member",
    "Outcome",
    "OnwardRequest",
    "OnwardStatus",
    "OutboxMessage",
    "OverrideKind",
    "PartnerInformation",
    "PartnerView",
    "Partnership",
    "ReminderMark",
    "SeenEvent",
    "Section",
    "SpaceArchive",
    "Target",
    "TargetDiscussion",
    "TargetDetails",
    "TargetErasure",
    "TargetStatus",
    "Workspace",
]
