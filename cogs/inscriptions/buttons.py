"""The answer buttons' custom ids and labels (the contract ``rsvp:<atelier_id>:<reponse>``,
``rsvp:<atelier_id>:serie``),
without Discord: the announcement that carries them belongs to the ateliers feature; the
clicks are answered by this one (``views.py``)."""

from __future__ import annotations

from bot.i18n import Translations
from db.models import Reponse

ANSWER_TEMPLATE = r"rsvp:(?P<atelier>[0-9]{1,20}):(?P<reponse>oui|peut-etre|non)"
LINK_TEMPLATE = r"lien:(?P<atelier>[0-9]{1,20})"
#: « Toute la série »: « oui » to this atelier and the later ones of its series.
SERIE_TEMPLATE = r"rsvp:(?P<atelier>[0-9]{1,20}):serie"
ANSWERS = (Reponse.OUI, Reponse.PEUT_ETRE, Reponse.NON)
#: A place offered from the waiting list (``ateliers.offer_hours``): take it, or pass.
OFFER_TEMPLATE = r"offre:(?P<id>[0-9]{1,18}):(?P<choix>oui|non)"


def answer_custom_id(atelier_id: int, reponse: Reponse) -> str:
    return f"rsvp:{atelier_id}:{reponse.value}"


def link_custom_id(atelier_id: int) -> str:
    return f"lien:{atelier_id}"


def serie_custom_id(atelier_id: int) -> str:
    return f"rsvp:{atelier_id}:serie"


def offer_custom_id(inscription_id: int, choice: str) -> str:
    """``offre:<inscription_id>:oui`` or ``:non``."""
    return f"offre:{inscription_id}:{choice}"


def answer_label(tr: Translations, reponse: Reponse) -> str:
    labels = {
        Reponse.OUI: tr.p_("bouton", "Oui"),
        Reponse.PEUT_ETRE: tr.p_("bouton", "Peut-être"),
        Reponse.NON: tr.p_("bouton", "Non"),
    }
    return labels[reponse]


def link_label(tr: Translations) -> str:
    return tr.p_("bouton", "Lien de la réunion")


def serie_label(tr: Translations) -> str:
    return tr.p_("bouton", "Toute la série")
