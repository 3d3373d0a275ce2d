"""Logging set-up: one stderr handler, quiet discord.py, secrets masked (STYLE.md rule 13).

``setup_logging`` is called once at start-up, after the configuration is loaded. The handler
carries a ``SecretFilter`` that rewrites every record so that the bot token (registered with
``register_secret``; ``bot.config.load_settings`` does it for the configured token) and anything
shaped like a Discord bot token never reach the output, neither in the message, nor in its
arguments, nor in a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

MASK = "***"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

# Three base64url parts separated by dots, the first at least 20 characters long: the shape of a
# Discord bot token (base64 of the bot's id, a timestamp, an HMAC).
TOKEN_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{10,}(?![A-Za-z0-9_-])"
)
# Shorter values would mask ordinary words.
MIN_SECRET_LENGTH = 4
# Loggers that are chatty at INFO and only interesting when debugging.
QUIET_LOGGERS = ("discord", "alembic", "apscheduler")

_secrets: frozenset[str] = frozenset()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Mask ``value`` wherever it appears in a log record from now on.

    Empty values and values shorter than ``MIN_SECRET_LENGTH`` are ignored.
    """
    global _secrets
    value = value.strip() if isinstance(value, str) else ""
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        _secrets = _secrets | {value}


def mask_secrets(text: str, extra: Iterable[str] = ()) -> str:
    """Return ``text`` with registered secrets, ``extra`` ones and token-shaped strings masked."""
    secrets = set(_secrets)
    secrets.update(s for s in extra if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH)
    # Longest first, so that a secret containing another is masked whole.
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return TOKEN_PATTERN.sub(MASK, text)


def _contains_secret(text: str) -> bool:
    return mask_secrets(text) != text


def _mask_arg(arg: Any) -> Any:
    """Mask one logging argument; non-strings are replaced by their masked text if needed."""
    if isinstance(arg, str):
        return mask_secrets(arg)
    try:
        text = str(arg)
    except Exception:  # an argument whose __str__ fails is left for logging to report
        return arg
    return mask_secrets(text) if _contains_secret(text) else arg


class SecretFilter(logging.Filter):
    """Masks secrets in every record's message, arguments, traceback and stack text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        elif record.msg is not None and _contains_secret(str(record.msg)):
            record.msg = mask_secrets(str(record.msg))
        if isinstance(record.args, Mapping):
            record.args = {key: _mask_arg(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_mask_arg(arg) for arg in record.args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it in its own way
            message = None
        if message is not None and _contains_secret(message):
            # A secret formed only once formatted (e.g. split across arguments): keep the
            # formatted, masked text instead.
            record.msg = mask_secrets(message)
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``logging.format = "json"``), for a log collector: the time in
    UTC (ISO 8601), the level, the logger, the message, and the traceback if any. Secrets are
    masked before (``SecretFilter``)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class _PartageHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler installed by ``setup_logging``; its class marks it as ours."""


def setup_logging(level: str, fmt: str = "text") -> None:
    """Send logs to stderr at ``level`` (DEBUG, INFO, WARNING or ERROR), secrets masked, as
    text lines or (``fmt="json"``) one JSON object per line.

    Calling it again replaces the level and keeps a single handler.
    """
    name = level.strip().upper() if isinstance(level, str) else ""
    if name not in LEVELS:
        raise ValueError(f"logging level must be one of {', '.join(LEVELS)}, got {level!r}")
    numeric = logging.getLevelName(name)

    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _PartageHandler)), None)
    if handler is None:
        handler = _PartageHandler(sys.stderr)
        root.addHandler(handler)
    else:
        handler.stream = sys.stderr  # the current stderr (it may have been replaced since)
    if fmt not in FORMATS:
        raise ValueError(f"logging format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter(LOG_FORMAT, DATE_FORMAT)
    )
    if not any(isinstance(f, SecretFilter) for f in handler.filters):
        handler.addFilter(SecretFilter())
    handler.setLevel(logging.NOTSET)
    root.setLevel(numeric)

    quiet_level = logging.DEBUG if name == "DEBUG" else logging.WARNING
    for logger_name in QUIET_LOGGERS:
        logging.getLogger(logger_name).setLevel(quiet_level)
    logging.captureWarnings(True)
    log.debug("logging set up at %s", name)
