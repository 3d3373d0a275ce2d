"""Discord-shaped API errors raised by the fake's handlers and validators."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger(__name__)

# kind -> (JSON error code, message), as real Discord answers for unknown entities.
_UNKNOWN: dict[str, tuple[int, str]] = {
    "account": (10001, "Unknown Account"),
    "application": (10002, "Unknown Application"),
    "channel": (10003, "Unknown Channel"),
    "guild": (10004, "Unknown Guild"),
    "member": (10007, "Unknown Member"),
    "message": (10008, "Unknown Message"),
    "overwrite": (10009, "Unknown Overwrite"),
    "role": (10011, "Unknown Role"),
    "user": (10013, "Unknown User"),
    "emoji": (10014, "Unknown Emoji"),
    "webhook": (10015, "Unknown Webhook"),
    "interaction": (10062, "Unknown interaction"),
    "command": (10063, "Unknown application command"),
    "event": (10070, "Unknown Guild Scheduled Event"),
}


class ApiError(Exception):
    """An error answer of the REST API: HTTP status plus Discord's JSON error body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        """The JSON body Discord sends for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def unknown(kind: str) -> ApiError:
    """404 for an entity that does not exist (``kind`` is e.g. ``"channel"``)."""
    code, message = _UNKNOWN[kind]
    return ApiError(404, code, message)


def missing_permissions() -> ApiError:
    """403 50013, what Discord answers when a permission bit is missing."""
    return ApiError(403, 50013, "Missing Permissions")


def missing_access() -> ApiError:
    """403 50001, e.g. a channel the bot cannot see or a guild it is not in."""
    return ApiError(403, 50001, "Missing Access")


def bad_request(code: int, message: str) -> ApiError:
    """400 with a non-form error code (e.g. 50006 empty message)."""
    return ApiError(400, code, message)


class FormErrors:
    """Collects field errors and turns them into Discord's nested ``errors`` object.

    Paths are sequences of keys and list indexes, e.g. ``("embeds", 0, "title")``, which
    becomes ``{"embeds": {"0": {"title": {"_errors": [...]}}}}``.
    """

    def __init__(self) -> None:
        self._items: list[tuple[tuple[str | int, ...], str, str]] = []

    def __bool__(self) -> bool:
        return bool(self._items)

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        self._items.append((tuple(path), code, message))

    def max_length(self, path: Sequence[str | int], value: Any, limit: int) -> None:
        """Record an error if ``value`` (a str or list) is longer than ``limit``."""
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length_between(self, path: Sequence[str | int], value: Any, low: int, high: int) -> None:
        """Record an error unless ``low <= len(value) <= high`` (None counts as required)."""
        if value is None:
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        elif not isinstance(value, str | list):
            self.add(path, "BASE_TYPE_STRING", "Could not interpret value as string.")
        elif not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: Sequence[str | int], value: Any) -> bool:
        """Record an error if ``value`` is missing or empty; return whether it was present."""
        if value is None or value == "" or value == []:
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return False
        return True

    def as_dict(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        for path, code, message in self._items:
            node = root
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return root

    def raise_if_any(self) -> None:
        """Raise the 400 50035 "Invalid Form Body" error if anything was recorded."""
        if self._items:
            log.debug("invalid form body: %s", self._items)
            raise ApiError(400, 50035, "Invalid Form Body", self.as_dict())
