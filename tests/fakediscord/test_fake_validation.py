"""Unit checks of the fake's validators against Discord's rules (no bot needed)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from tests.fakediscord import ApiError
from tests.fakediscord.validation import validate_autocomplete, validate_message, validate_modal
from tests.fakediscord.validation_guild import validate_commands, validate_scheduled_event

log = logging.getLogger(__name__)


def errors_of(call: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ApiError) as info:
        call(*args, **kwargs)
    assert info.value.status == 400
    return info.value.body().get("errors", {"code": info.value.code})


def button(custom_id: str | None = "b", **extra: Any) -> dict[str, Any]:
    data = {"type": 2, "style": 1, "label": "ok", **extra}
    if custom_id is not None:
        data["custom_id"] = custom_id
    return data


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def test_message_rules() -> None:
    validate_message({"content": "x" * 2000})
    assert "content" in errors_of(validate_message, {"content": "x" * 2001})
    assert errors_of(validate_message, {"content": "   "}) == {"code": 50006}
    big = {"title": "t", "description": "d" * 4096}
    assert errors_of(validate_message, {"embeds": [big, big]})["embeds"]["_errors"][0]["code"] == (
        "MAX_EMBED_SIZE_EXCEEDED"
    )
    assert "embeds" in errors_of(validate_message, {"embeds": [{"title": "x"}] * 11})
    fields = [{"name": "n", "value": "v"}] * 26
    assert "fields" in errors_of(validate_message, {"embeds": [{"fields": fields}]})["embeds"]["0"]
    empty_field = {"embeds": [{"fields": [{"name": "", "value": "v"}]}]}
    assert "name" in errors_of(validate_message, empty_field)["embeds"]["0"]["fields"]["0"]
    assert "url" in errors_of(validate_message, {"embeds": [{"url": "ftp://x"}]})["embeds"]["0"]
    mentions = {"content": "hi", "allowed_mentions": {"parse": ["roles"], "roles": ["1"]}}
    assert "allowed_mentions" in errors_of(validate_message, mentions)


def test_component_rules() -> None:
    validate_message({"components": [row(button("a"), button("b"))]})
    assert "components" in errors_of(validate_message, {"components": [row(button("a"))] * 6})
    dup = {"components": [row(button("a"), button("a"))]}
    assert "COMPONENT_CUSTOM_ID_DUPLICATED" in str(errors_of(validate_message, dup))
    link = {"components": [row(button("x", style=5, url="https://example.org"))]}
    assert "custom_id" in str(errors_of(validate_message, link))
    no_id = {"components": [row(button(None))]}
    assert "custom_id" in str(errors_of(validate_message, no_id))
    long_label = {"components": [row(button("a", label="l" * 81))]}
    assert "label" in str(errors_of(validate_message, long_label))
    select = {"type": 3, "custom_id": "s", "options": [{"label": "a", "value": "a"}]}
    assert "COMPONENT_LAYOUT_WIDTH_EXCEEDED" in str(
        errors_of(validate_message, {"components": [row(select, button("b"))]})
    )
    too_many = {**select, "max_values": 2}
    assert "max_values" in str(errors_of(validate_message, {"components": [row(too_many)]}))
    v2 = {"flags": 1 << 15, "content": "no", "components": [{"type": 10, "content": "hi"}]}
    assert "content" in errors_of(validate_message, v2)


def test_modal_and_autocomplete_rules() -> None:
    text = {"type": 4, "custom_id": "t", "style": 1, "label": "Nom"}
    validate_modal({"custom_id": "m", "title": "Titre", "components": [row(text)]})
    long_title = {"custom_id": "m", "title": "T" * 46, "components": [row(text)]}
    assert "title" in errors_of(validate_modal, long_title)["data"]
    long_label = {"custom_id": "m", "title": "T", "components": [row({**text, "label": "L" * 46})]}
    assert "label" in str(errors_of(validate_modal, long_label))
    choices = [{"name": str(i), "value": str(i)} for i in range(26)]
    assert "choices" in errors_of(validate_autocomplete, {"choices": choices})["data"]


def command(name: str = "rsvp", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "Répondre", "type": 1, **extra}


def test_command_rules() -> None:
    option = {"type": 3, "name": "quand", "description": "Date"}
    validate_commands(
        [command(options=[{**option, "required": True}], name_localizations={"fr": "rsvp"})]
    )
    assert "name" in errors_of(validate_commands, [command("RSVP")])["0"]
    assert "name" in errors_of(validate_commands, [command("with space")])["0"]
    assert (
        "fr-FR"
        in errors_of(validate_commands, [command(name_localizations={"fr-FR": "x"})])["0"][
            "name_localizations"
        ]
    )
    assert "description" in errors_of(validate_commands, [command(description="")])["0"]
    bad_order = [option, {**option, "name": "qui", "required": True}]
    assert "required" in str(errors_of(validate_commands, [command(options=bad_order)]))
    assert "APPLICATION_COMMANDS_DUPLICATE_NAME" in str(
        errors_of(validate_commands, [command(), command()])
    )
    many = [{**option, "name": f"o{i}"} for i in range(26)]
    assert "options" in errors_of(validate_commands, [command(options=many)])["0"]
    choices = [{"name": str(i), "value": str(i)} for i in range(26)]
    assert "choices" in str(
        errors_of(validate_commands, [command(options=[{**option, "choices": choices}])])
    )


def test_scheduled_event_rules() -> None:
    now = dt.datetime.now(dt.UTC)
    base = {
        "name": "Collecte",
        "privacy_level": 2,
        "entity_type": 3,
        "entity_metadata": {"location": "Parc"},
        "scheduled_start_time": (now + dt.timedelta(days=1)).isoformat(),
        "scheduled_end_time": (now + dt.timedelta(days=1, hours=2)).isoformat(),
    }
    validate_scheduled_event(base, existing=None, now=now)
    past = {**base, "scheduled_start_time": (now - dt.timedelta(minutes=1)).isoformat()}
    assert "scheduled_start_time" in errors_of(
        validate_scheduled_event, past, existing=None, now=now
    )
    no_end = {k: v for k, v in base.items() if k != "scheduled_end_time"}
    assert "scheduled_end_time" in errors_of(
        validate_scheduled_event, no_end, existing=None, now=now
    )
    no_place = {**base, "entity_metadata": {"location": ""}}
    assert "entity_metadata" in errors_of(
        validate_scheduled_event, no_place, existing=None, now=now
    )
    public = {**base, "privacy_level": 1}
    assert "privacy_level" in errors_of(validate_scheduled_event, public, existing=None, now=now)
    long_text = {**base, "name": "n" * 101, "description": "d" * 1001}
    assert set(errors_of(validate_scheduled_event, long_text, existing=None, now=now)) == {
        "name",
        "description",
    }
