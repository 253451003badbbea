"""The typed errors every command raises. One handler per platform turns them into replies.

Each carries a message fit to show the user and, where it helps, a correct example.
"""

from __future__ import annotations


class OnedayError(Exception):
    def __init__(self, message: str, *, example: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.example = example


class UsageError(OnedayError):
    """The input was malformed: say what was wrong and show a correct example."""


class FormInvalid(UsageError):
    """A submitted form has wrong fields: field name -> what is wrong with it."""

    def __init__(self, field_errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in field_errors.items()))
        self.field_errors = field_errors


class Refused(OnedayError):
    """The caller may not do this. The message never hints whether a reference exists."""


class NotFound(OnedayError):
    """A reference that the caller may know about does not exist."""


class FileErrors(OnedayError):
    """A file failed validation: every problem found, each with its place in the file."""

    def __init__(self, errors: list[str], *, source: str) -> None:
        self.errors = errors
        self.source = source
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(f"{source}: {len(errors)} {noun}; nothing was written")
