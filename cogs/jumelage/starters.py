"""Conversation starters for the jumelage: msgids and their values, translated by the cog.

A pair sharing one of the default chantiers gets one of its own; another shared chantier gets the
named template; no shared chantier, a generic one. The choice depends on the pair id only, so it
can be recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.errors import N_

STARTERS_GENERIQUES = (
    N_("Qu'est-ce qui occupe le plus votre équipe ces temps-ci en accueil ou en intégration ?"),
    N_("Quelle initiative de votre municipalité aimeriez-vous faire connaître aux autres ?"),
    N_("Quel défi aimeriez-vous résoudre avec l'aide d'une ou d'un collègue d'ailleurs ?"),
)
STARTERS_PAR_CHANTIER = {
    "gouvernance": (
        N_("Comment votre municipalité travaille-t-elle avec le MIFI et les organismes ?"),
        N_("Votre municipalité a-t-elle une politique d'accueil ? Qu'y trouve-t-on ?"),
    ),
    "accueil-integration": (
        N_("Comment les personnes nouvellement arrivées sont-elles accueillies chez vous ?"),
        N_("Qu'est-ce qui aide le plus les personnes immigrantes à rester dans votre région ?"),
    ),
    "strategies-intervention": (
        N_("Quelle intervention a le mieux fonctionné sur votre territoire, et pourquoi ?"),
        N_("Quelle clientèle aimeriez-vous mieux rejoindre, et comment vous y prenez-vous ?"),
    ),
}
STARTER_CHANTIER = N_(
    "Vous vous intéressez au chantier « {chantier} » : qu'y faites-vous chacun de votre côté ?"
)


@dataclass(frozen=True)
class Starter:
    """A conversation starter: a msgid and its named values."""

    msgid: str
    values: dict[str, Any] = field(default_factory=dict)


def starter_for(pair_id: int, chantier_slug: str | None, chantier_nom: str | None) -> Starter:
    if chantier_slug in STARTERS_PAR_CHANTIER:
        choices = STARTERS_PAR_CHANTIER[chantier_slug]
        return Starter(choices[pair_id % len(choices)])
    if chantier_nom:
        return Starter(STARTER_CHANTIER, {"chantier": chantier_nom})
    return Starter(STARTERS_GENERIQUES[pair_id % len(STARTERS_GENERIQUES)])
