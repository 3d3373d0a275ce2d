"""A button nothing handles (a forged or malformed custom id, or one a version of the bot no
longer has) is answered, ephemerally, in the member's language: Discord never shows « Échec de
l'interaction »; a real button still goes to its handler only."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Server, partage
from tests.fakediscord import FakeDiscord

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _button(custom_id: str) -> dict:
    return {
        "type": 1,
        "components": [{"type": 2, "style": 1, "label": "?", "custom_id": custom_id}],
    }


@pytest.mark.parametrize(
    ("custom_id", "locale", "text"),
    [
        ("inconnu:1", "fr", "Ce bouton n'est plus valide."),
        ("rsvp:abc:oui", "fr", "Ce bouton n'est plus valide."),
        ("rsvp:1:peut-etre-pas", "en-US", "This button is no longer valid."),
    ],
)
async def test_an_unhandled_button_is_answered(
    fake_discord: FakeDiscord, server: Server, settings, custom_id: str, locale: str, text: str
) -> None:
    fake = fake_discord
    async with partage(fake, settings):
        message = fake.create_message(
            server.general, fake.bot_user, content="Ancien message", components=[_button(custom_id)]
        )
        handle = fake.click(message, custom_id, user=server.alice, locale=locale)
        record = await handle.response(timeout=5)
    assert record.ephemeral
    assert record.data["content"] == text
    assert len(handle.callbacks) == 1


async def test_a_handled_button_is_not_answered_twice(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    """``rsvp:<id>:oui`` for an atelier that does not exist: the answer button's own handler
    says so, and the fallback stays silent."""
    fake = fake_discord
    async with partage(fake, settings):
        message = fake.create_message(
            server.general, fake.bot_user, content="Annonce", components=[_button("rsvp:999:oui")]
        )
        handle = fake.click(message, "rsvp:999:oui", user=server.alice, locale="fr")
        await handle.wait_answer(timeout=5)
        await fake.sync()
    texts = [str((c.data or {}).get("content")) for c in handle.callbacks]
    assert not any("plus valide" in t for t in texts), texts
    assert "introuvable" in handle.message.content  # type: ignore[union-attr]
