"""Running a targets import the way `oneday targets import` does, shared by the import tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moments import FILE_LOADED
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from commands.partnership import file as partnership
from commands.partnership import targets_import


def run_import(factory: sessionmaker[Session], path: Path, **kwargs: Any) -> targets_import.ImportReport:
    with db.unit_of_work(factory) as session:
        p = partnership.select_partnership(session, None)
        return targets_import.import_targets(session, p, path, **{"now": FILE_LOADED, **kwargs})
