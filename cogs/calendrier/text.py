"""The words of the site, the feeds and ``/calendrier``, in the reader's language (French
source texts through the catalogs). No Discord here."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import Translations
from cogs.ateliers import text as atelier_text
from cogs.ateliers.info import Counts
from cogs.calendrier.service import FeedAtelier, FeedSeance
from db.models import Genre


def labels(tr: Translations) -> dict[str, str]:
    """The fixed words of the pages."""
    return {
        "site": tr._("Opération Partage"),
        "agenda": tr._("Agenda des ateliers"),
        "intro": tr._(
            "Les ateliers à venir des chantiers de l'Opération Partage, le réseau des "
            "professionnels municipaux et gouvernementaux de l'immigration au Québec."
        ),
        "upcoming": tr._("Ateliers à venir"),
        "none": tr._("Aucun atelier à venir pour le moment."),
        "chantier": tr._("Chantier"),
        "chantiers": tr._("Chantiers"),
        "seances": tr._("Séances"),
        "lieu": tr._("Lieu"),
        "places": tr._("Places"),
        "genre": tr._("Genre"),
        "cancelled": tr._("Annulé"),
        "seance_cancelled": tr._("séance annulée"),
        "subscribe": tr._("S'abonner au calendrier de ce chantier (.ics)"),
        "add": tr._("Ajouter à mon calendrier (.ics)"),
        "back": tr._("Retour à l'agenda"),
        "details": tr._("Voir l'atelier"),
        "register": tr._(
            "Pour vous inscrire : dans le serveur Discord de l'Opération Partage, bouton "
            "« Oui » de l'annonce de l'atelier, ou la commande /rsvp. Le lien de la "
            "rencontre est donné aux personnes inscrites."
        ),
        "language": tr._("Langue"),
        "navigation": tr._("Navigation"),
        "footer": tr._("Un service du GEDCIQ, par le bot Partage."),
        "not_found": tr._("Page introuvable."),
        "documents": tr._("Documents de l'atelier"),
    }


def genre_label(tr: Translations, genre: str) -> str:
    """The genre as the announcements name it (``cogs.ateliers.text``)."""
    return atelier_text.genre_label(tr, Genre(genre))


def when(tr: Translations, seance: FeedSeance) -> str:
    """« jeudi 3 décembre 2030 à 13 h 30 », "Thursday, December 3, 2030 at 1:30 PM"."""
    if seance.local_time is None:
        return tr.format_date(seance.local_date)
    shown = tr.format_datetime(seance.starts_at, seance.zone)
    # "1:30 p.m." stays on one line, as « 13 h 30 » does.
    return shown.replace(" a.m.", "\u00a0a.m.").replace(" p.m.", "\u00a0p.m.")


def places(tr: Translations, counts: Counts | None) -> str:
    if counts is None or counts.capacite is None:
        return tr._("places illimitées")
    left = counts.places_restantes or 0
    if left == 0:
        if counts.attente:
            return tr.n_(
                "complet, {n} personne en liste d'attente",
                "complet, {n} personnes en liste d'attente",
                counts.attente,
                n=counts.attente,
            )
        return tr._("complet")
    return tr.n_(
        "{n} place restante sur {capacite}",
        "{n} places restantes sur {capacite}",
        left,
        n=left,
        capacite=counts.capacite,
    )


def cancelled_line(tr: Translations, atelier: FeedAtelier) -> str:
    if atelier.raison_annulation:
        return tr._("Atelier annulé : {raison}", raison=atelier.raison_annulation)
    return tr._("Atelier annulé.")


def describer(
    tr: Translations, page_url: Callable[[int], str]
) -> Callable[[FeedAtelier, FeedSeance], str]:
    """An event's DESCRIPTION: which séance of how many, the atelier's text, its page, and (in
    a private feed) the meeting link."""

    def describe(atelier: FeedAtelier, seance: FeedSeance) -> str:
        parts = []
        live = [s.id for s in atelier.live_seances]
        if len(live) > 1 and seance.id in live:
            parts.append(
                tr._("Séance {n} sur {total}", n=live.index(seance.id) + 1, total=len(live))
            )
        if atelier.cancelled:
            parts.append(cancelled_line(tr, atelier))
        elif seance.cancelled:
            parts.append(tr._("Cette séance n'a plus lieu."))
        if atelier.description:
            parts.append(atelier.description)
        if atelier.lien and not seance.cancelled:
            parts.append(tr._("Lien de la rencontre : {lien}", lien=atelier.lien))
        parts.append(tr._("Page de l'atelier : {url}", url=page_url(atelier.id)))
        return "\n\n".join(parts)

    return describe


def subscribe_help(tr: Translations) -> str:
    """How to subscribe in Outlook (web and desktop), Google and Apple."""
    return "\n".join(
        [
            tr._(
                "**Outlook sur le web** : Calendrier → Ajouter un calendrier → "
                "S'abonner à partir du web → collez l'adresse."
            ),
            tr._(
                "**Outlook (application)** : Calendrier → Ajouter un calendrier → "
                "À partir d'Internet → collez l'adresse."
            ),
            tr._(
                "**Google Agenda** (sur ordinateur) : Autres agendas → + → "
                "À partir de l'URL → collez l'adresse."
            ),
            tr._(
                "**Apple Calendrier** : Fichier → Nouvel abonnement à un calendrier → collez "
                "l'adresse (iPhone : Réglages → Calendrier → Comptes → Ajouter un compte → "
                "Autre → Ajouter un calendrier avec abonnement)."
            ),
            tr._(
                "Les calendriers abonnés se mettent à jour seuls, souvent avec quelques heures "
                "de retard (Google : jusqu'à un jour)."
            ),
        ]
    )
