"""Text shown in Discord shows what it says: mentions and masked links are refused."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.shown_text import HAS_MASKED_LINK, HAS_MENTION, check_shown


@pytest.mark.parametrize(
    ("text", "message", "excerpt"),
    [
        (
            "[Zoom officiel](http://evil.example)",
            HAS_MASKED_LINK,
            "[Zoom officiel](http://evil.example)",
        ),
        ("Salle [B](<https://x.example>)", HAS_MASKED_LINK, "[B](<https://x.example>)"),
        ('[ici](https://x.example "titre")', HAS_MASKED_LINK, '[ici](https://x.example "titre")'),
        ("Bienvenue @everyone", HAS_MENTION, "@everyone"),
        ("@here demain", HAS_MENTION, "@here"),
        ("Pour <@&123456789012345678>", HAS_MENTION, "<@&123456789012345678>"),
        ("Avec <@!42> et <@42>", HAS_MENTION, "<@!42>"),
        ("Salon <#77>", HAS_MENTION, "<#77>"),
        ("Code `x` [a](https://y.example)", HAS_MASKED_LINK, "[a](https://y.example)"),
    ],
)
def test_refused(text: str, message: str, excerpt: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_shown(None, "correct", text)
    assert caught.value.message_id == message
    assert caught.value.values == {"extrait": excerpt.replace("`", "'")}


@pytest.mark.parametrize(
    "text",
    [
        "Accueillir les personnes immigrantes : [partie 1]",
        "Voir https://www.gedciq.ca/ateliers (inscription)",
        "Écrire à accueil@here.ca ou info@everyone.example",
        "Salle [B] (2e étage)",
        "**Important** : apportez vos questions",
        "",
    ],
)
def test_accepted(text: str) -> None:
    check_shown(text, None)
