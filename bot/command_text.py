"""The marker of the slash-command vocabulary, and the words several commands share.

Each command declares its own French name, description and option descriptions where it is
defined, each string wrapped in ``p_(context, text)``: a no-op here, it makes ``pybabel extract``
put the string in the template under its context, and :class:`bot.i18n.PartageTranslator`
localizes it for English from the catalog. Usage in a cog::

    @app_commands.command(
        name=p_("command-name", "rejoindre"),
        description=p_("command-description", "Rejoindre un chantier"),
    )
    @app_commands.describe(chantier=p_("option-description", "Le chantier à rejoindre"))
    async def rejoindre(self, interaction: discord.Interaction, chantier: str) -> None: ...

Option names are Python parameter names (or ``app_commands.rename``) and choices are values,
shared by many commands: they are listed once below so that Babel sees them. Names are lowercase
and unaccented (easy to type); descriptions are at most 100 characters, in both languages;
tests/test_vocabulary.py walks the real command tree and checks each against the catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Translations


def p_(context: str, message: str) -> str:
    """Mark ``message`` for extraction in ``context`` (Babel keyword ``p_:1c,2``); no-op."""
    return message


OPTION_NAMES: tuple[str, ...] = (
    p_("option-name", "chantier"),
    p_("option-name", "atelier"),
    p_("option-name", "reponse"),
    p_("option-name", "seance"),
    p_("option-name", "messages-prives"),
    p_("option-name", "region"),
    p_("option-name", "municipalite"),
    p_("option-name", "mot-cle"),
    p_("option-name", "participer"),
    p_("option-name", "titre"),
    p_("option-name", "dates"),
    p_("option-name", "duree"),
    p_("option-name", "lieu"),
    p_("option-name", "lien"),
    p_("option-name", "capacite"),
    p_("option-name", "genre"),
    p_("option-name", "description"),
    p_("option-name", "raison"),
    p_("option-name", "salon"),
    p_("option-name", "nom"),
    p_("option-name", "emoji"),
    p_("option-name", "fichier"),
    p_("option-name", "debut"),
    p_("option-name", "fin"),
    p_("option-name", "repetition"),
    p_("option-name", "jusqu-au"),
    p_("option-name", "portee"),
    p_("option-name", "cloture"),
    p_("option-name", "publier-le"),
    p_("option-name", "renouveler"),
    p_("option-name", "membre"),
    p_("option-name", "retirer"),
)

# Choice names by option; each name is also the choice's value.
CHOICES: dict[str, tuple[str, ...]] = {
    "reponse": (
        p_("choice-name", "oui"),
        p_("choice-name", "peut-etre"),
        p_("choice-name", "non"),
    ),
    "genre": (
        p_("choice-name", "atelier"),
        p_("choice-name", "referentiel"),
        p_("choice-name", "formation"),
        p_("choice-name", "echange"),
        p_("choice-name", "synthese"),
    ),
    "repetition": (
        p_("choice-name", "hebdomadaire"),
        p_("choice-name", "aux-deux-semaines"),
        p_("choice-name", "mensuelle"),
    ),
    "portee": (
        p_("choice-name", "cette-seance"),
        p_("choice-name", "la-suite"),
    ),
    "fichier": (
        p_("choice-name", "png"),
        p_("choice-name", "xlsx"),
    ),
}


def command(tr: Translations, qualified: str) -> str:
    """``/profil modifier`` in French, ``/profile edit`` in English (from the catalog)."""
    return "/" + " ".join(tr.p_("command-name", part) for part in qualified.split())
