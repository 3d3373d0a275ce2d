"""Log set-up and secret masking (bot/logsetup.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot import logsetup
from bot.logsetup import SecretFilter, mask_secrets, register_secret, setup_logging

TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0MzI.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"
SECRET = "plain-secret-value"

log = logging.getLogger("tests.logsetup")


@pytest.fixture(autouse=True)
def _restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no registered secret and leaves logging as it found it."""
    monkeypatch.setattr(logsetup, "_secrets", frozenset())
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    discord_level = logging.getLogger("discord").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("discord").setLevel(discord_level)
    logging.captureWarnings(False)


def ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, logsetup._PartageHandler)]


def emitted(capsys: pytest.CaptureFixture[str]) -> str:
    for handler in ours():
        handler.flush()
    return capsys.readouterr().err


def test_registered_token_is_masked_in_message(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    register_secret(SECRET)

    log.info("logging in with %s now", SECRET)
    log.warning(f"token is {SECRET}")  # noqa: G004 - an f-string is what must be caught

    err = emitted(capsys)
    assert SECRET not in err
    assert "logging in with *** now" in err
    assert "token is ***" in err


def test_token_in_args_is_masked_and_record_keeps_other_values() -> None:
    register_secret(SECRET)
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "atelier %s, token %s", (42, SECRET), None
    )

    assert SecretFilter().filter(record) is True

    assert record.getMessage() == "atelier 42, token ***"
    assert SECRET not in repr(record.args)


def test_token_in_mapping_args_and_in_objects_is_masked() -> None:
    register_secret(SECRET)

    class Holder:
        def __str__(self) -> str:
            return f"Holder({SECRET})"

    mapping = logging.LogRecord("x", logging.INFO, __file__, 1, "%(t)s", ({"t": SECRET},), None)
    obj = logging.LogRecord("x", logging.INFO, __file__, 1, "%s", (Holder(),), None)

    SecretFilter().filter(mapping)
    SecretFilter().filter(obj)

    assert mapping.getMessage() == "***"
    assert obj.getMessage() == "Holder(***)"


def test_token_shaped_strings_are_masked_without_registration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging("INFO")

    log.info("header Authorization: Bot %s", TOKEN)

    err = emitted(capsys)
    assert TOKEN not in err
    assert "Authorization: Bot ***" in err


def test_token_in_a_traceback_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    register_secret(SECRET)

    try:
        raise RuntimeError(f"login failed for {SECRET}")
    except RuntimeError:
        log.exception("atelier %s: could not start", 7)

    err = emitted(capsys)
    assert "RuntimeError: login failed for ***" in err
    assert SECRET not in err


def test_ordinary_messages_are_untouched() -> None:
    register_secret(SECRET)
    text = "atelier 42 moved to 2026-12-03 13:30, see https://meet.example.org/abc.def and v1.2.3"

    assert mask_secrets(text) == text


def test_short_or_empty_secrets_are_ignored() -> None:
    register_secret("")
    register_secret("ab")

    assert mask_secrets("a b ab abc") == "a b ab abc"


def test_format_has_time_level_and_logger_name(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")

    log.info("bonjour")

    line = emitted(capsys).strip().splitlines()[-1]
    assert " INFO " in line
    assert "tests.logsetup: bonjour" in line
    assert line[:4].isdigit()


def test_levels_and_discord_quieted(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    log.debug("hidden debug")
    logging.getLogger("discord.gateway").info("gateway chatter")
    logging.getLogger("discord.client").warning("gateway warning")

    err = emitted(capsys)
    assert "hidden debug" not in err
    assert "gateway chatter" not in err
    assert "gateway warning" in err
    assert logging.getLogger("discord").level == logging.WARNING

    setup_logging("debug")
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("discord").level == logging.DEBUG


def test_setup_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    setup_logging("WARNING")

    assert len(ours()) == 1
    assert sum(isinstance(f, SecretFilter) for f in ours()[0].filters) == 1
    assert logging.getLogger().level == logging.WARNING

    log.warning("once")
    assert emitted(capsys).count("once") == 1


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="DEBUG, INFO, WARNING, ERROR"):
        setup_logging("TRACE")


def test_json_format_is_one_object_per_line_with_secrets_masked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    setup_logging("INFO", "json")
    register_secret(SECRET)
    log.info("atelier %s: « %s » annoncé", 7, "Accueil")
    try:
        raise RuntimeError(f"login failed for {SECRET}")
    except RuntimeError:
        log.exception("could not start")

    lines = emitted(capsys).strip().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == log.name
    assert first["message"] == "atelier 7: « Accueil » annoncé"
    assert first["time"].endswith("+00:00")
    assert "RuntimeError: login failed for ***" in second["exception"]
    assert SECRET not in "".join(lines)
    with pytest.raises(ValueError, match="format"):
        setup_logging("INFO", "xml")
