"""One error type for users (STYLE.md rule 12).

A ``UserError`` carries a catalog message id (the French source text, marked with ``N_`` so that
Babel extracts it) and the named values to format it with. The tree error handler translates it
into the caller's locale and answers ephemerally. Services raise these; they never format text.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


class Quantity(int):
    """A number in a message that people read as a quantity (not an id): written with the
    reader's digit grouping, « 10 000 », "10,000"."""


class UserError(Exception):
    """An error whose message is meant for the user, translated at the edge."""

    def __init__(self, message_id: str, **values: Any) -> None:
        super().__init__(message_id)
        self.message_id = message_id
        self.values = values

    def __str__(self) -> str:
        try:
            return self.message_id.format(**self.values)
        except (KeyError, IndexError, ValueError):
            return self.message_id


class NotFound(UserError):
    """Something named by the user does not exist (atelier, séance, chantier…)."""


class Forbidden(UserError):
    """The caller may not do this (not staff, not registered…)."""


class InvalidInput(UserError):
    """The caller's input cannot be used (a date, a number, a file…)."""


class Conflict(UserError):
    """The request clashes with the current state (cancelled atelier, full séance…)."""
