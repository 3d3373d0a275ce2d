"""What ``/mes-donnees`` hands a member, besides the machine-readable JSON: a document they can
read (what Partage keeps about them, why, for how long, each row with its dates written in
their language and time zone) and spreadsheets Excel opens as they are (one CSV per kind of
data, in a zip; ``bot.spreadsheets``). No Discord here."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any

from bot.command_text import command, p_
from bot.errors import N_
from bot.i18n import Translations
from bot.spreadsheets import csv_bytes
from cogs.privacy.service import MemberExport

#: Each kind of data: its name for people, and why it is kept and for how long.
KINDS: dict[str, tuple[str, str]] = {
    "membre": (
        N_("Vous, sur ce serveur"),
        N_(
            "Votre identifiant Discord, votre nom affiché, votre langue et votre choix de "
            "rappels par message privé, pour vous écrire dans votre langue. Gardé tant que vous "
            "êtes membre du serveur."
        ),
    ),
    "profil": (
        N_("Votre profil"),
        N_(
            "Ce que vous avez rempli avec /profil, avec votre consentement, pour l'annuaire et "
            "le jumelage. Gardé jusqu'à ce que vous le supprimiez ou quittiez le serveur."
        ),
    ),
    "profil_chantier": (
        N_("Les chantiers de votre profil"),
        N_("Les chantiers qui vous intéressent, choisis dans votre profil."),
    ),
    "inscription": (
        N_("Vos réponses aux ateliers"),
        N_(
            "Oui, peut-être ou non, votre place ou votre rang en liste d'attente, pour tenir les "
            "places et vous prévenir. Gardé pour les statistiques du programme, sans votre nom "
            "après votre départ."
        ),
    ),
    "seance_reponse": (
        N_("Vos réponses à des séances"),
        N_("Les séances d'un atelier que vous manquerez ou suivrez seules."),
    ),
    "livraison": (
        N_("Les rappels envoyés par message privé"),
        N_("Pour ne jamais vous envoyer deux fois le même rappel."),
    ),
    "conversation_proposal": (
        N_("Vos propositions d'échange"),
        N_("Les échanges que vous avez proposés ou reçus dans l'annuaire."),
    ),
    "jumelage_participant": (
        N_("Votre participation au jumelage"),
        N_("Votre choix de participer au jumelage, et une pause éventuelle."),
    ),
    "jumelage_pair": (
        N_("Vos jumelages"),
        N_("Les tours de jumelage où vous avez été présenté·e à des collègues."),
    ),
    "jumelage_pair_membre": (
        N_("Votre place dans vos jumelages"),
        N_("Qui faisait partie de chacun de vos jumelages."),
    ),
    "membre_depart": (
        N_("Votre départ du serveur"),
        N_("La date de votre départ : vos données sont effacées après le délai prévu."),
    ),
    "audit_log": (
        N_("Vos gestes d'équipe d'animation"),
        N_("Ce que vous avez fait comme membre de l'équipe (créer, modifier un atelier…)."),
    ),
    "atelier": (
        N_("Les ateliers que vous organisez"),
        N_("Les ateliers où vous êtes indiqué·e comme organisateur ou organisatrice."),
    ),
    "outbox": (
        N_("Les messages en attente d'envoi"),
        N_("Les messages à vous envoyer, effacés une fois envoyés (30 jours au plus)."),
    ),
    "intake": (
        N_("Vos clics en cours d'enregistrement"),
        N_("Une réponse par bouton en train d'être enregistrée (un jour au plus)."),
    ),
    "presence": (
        N_("Vos présences aux séances"),
        N_(
            "Les séances où vous étiez là (bouton « Je suis là » ou liste de l'équipe), pour "
            "vos attestations de participation et les statistiques du programme ; et, si vous "
            "êtes de l'équipe, les présences que vous avez notées."
        ),
    ),
    "coanimateur": (
        N_("Les ateliers que vous coanimez"),
        N_("Les ateliers où l'équipe vous a nommé·e coanimateur ou coanimatrice."),
    ),
    # Between the ateliers (issue 13)
    "personne_ressource": (
        N_("Vos chantiers comme personne-ressource"),
        N_(
            "Les chantiers dont les questions peuvent vous mentionner, avec la date de votre "
            "accord. Retirés avec /ressource ou à l'effacement."
        ),
    ),
    "question": (
        N_("Vos questions"),
        N_(
            "Les questions que vous avez posées : leur fil, leur état et leurs mots-clés. Le "
            "texte reste dans Discord."
        ),
    ),
    "question_mention": (
        N_("Les questions où l'on vous a mentionné·e"),
        N_("Pour ne pas vous solliciter plus que le nombre de fois par semaine prévu."),
    ),
    "relance": (
        N_("Les rappels « peut-être » envoyés"),
        N_("Pour ne vous écrire qu'une fois avant chaque séance."),
    ),
    "document": (
        N_("Les documents que vous avez ajoutés"),
        N_("Les documents et liens joints à des ateliers, avec leur auteur."),
    ),
}


#: Names for people of the columns a member's rows have most often (the others keep the
#: database's name, which the JSON uses too).
COLUMNS: dict[str, str] = {
    "id": p_("colonne", "Numéro"),
    "guild_id": p_("colonne", "Serveur"),
    "user_id": p_("colonne", "Identifiant Discord"),
    "membre_id": p_("colonne", "Membre n°"),
    "display_name": p_("colonne", "Nom affiché"),
    "locale": p_("colonne", "Langue"),
    "dm_reminders": p_("colonne", "Rappels par message privé"),
    "created_at": p_("colonne", "Créé le"),
    "updated_at": p_("colonne", "Modifié le"),
    "pseudonymized_at": p_("colonne", "Rendu anonyme le"),
    "municipalite": p_("colonne", "Municipalité"),
    "municipalite_cle": p_("colonne", "Municipalité (clé de recherche)"),
    "region": p_("colonne", "Région"),
    "fonction": p_("colonne", "Fonction"),
    "expertise": p_("colonne", "Expertise"),
    "recherche_cle": p_("colonne", "Mots de recherche"),
    "visible_annuaire": p_("colonne", "Visible dans l'annuaire"),
    "consent_at": p_("colonne", "Consentement donné le"),
    "consent_version": p_("colonne", "Version du consentement"),
    "chantier_id": p_("colonne", "Chantier n°"),
    "atelier_id": p_("colonne", "Atelier n°"),
    "seance_id": p_("colonne", "Séance n°"),
    "etat": p_("colonne", "Réponse"),
    "reponse": p_("colonne", "Réponse"),
    "rang_attente": p_("colonne", "Rang en liste d'attente"),
    "inscrit_at": p_("colonne", "Place obtenue le"),
    "inscrit": p_("colonne", "Inscrit·e à la séance"),
    "marked_by_user_id": p_("colonne", "Noté par (identifiant Discord)"),
    "added_by_user_id": p_("colonne", "Nommé par (identifiant Discord)"),
    "at": p_("colonne", "Le"),
}


def column(tr: Translations, name: str) -> str:
    """A column's name for people, or the database's when it has none."""
    return tr.p_("colonne", COLUMNS[name]) if name in COLUMNS else name


def _value(tr: Translations, value: Any, zone: str) -> str:
    """A stored value as people read it: a moment in their language and zone, oui/non."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return tr._("oui") if value else tr._("non")
    if isinstance(value, list):
        return ", ".join(_value(tr, v, zone) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(tr, v, zone)}" for k, v in value.items()) or "—"
    if isinstance(value, datetime):
        return tr.format_datetime(value, zone, "long")
    if isinstance(value, date):
        return tr.format_date(value, "long")
    return str(value)


def readable(tr: Translations, export: MemberExport, zone: str) -> str:
    """The document: what is kept, why, for how long, then every row."""
    lines = [
        tr._("Vos données dans Partage"),
        "=" * len(tr._("Vos données dans Partage")),
        "",
        tr._(
            "Document produit le {date} pour l'identifiant Discord {user}, sur le serveur {guild}.",
            date=tr.format_datetime(export.generated_at, zone, "long"),
            user=str(export.user_id),
            guild=str(export.guild_id),
        ),
        tr._(
            "Il contient tout ce que Partage conserve sur vous sur ce serveur. Pour corriger "
            "votre profil : {modifier} ; pour tout effacer : {supprimer}. Le fichier JSON "
            "joint contient les mêmes données, lisibles par un programme.",
            modifier=command(tr, "profil modifier"),
            supprimer=command(tr, "profil supprimer"),
        ),
    ]
    titles = export.context.get("ateliers", {})
    empty = []
    for table, rows in export.tables.items():
        title, why = KINDS.get(table, (table, ""))
        if not rows:
            empty.append(tr._(title))
            continue
        heading = f"{tr._(title)} ({tr.format_number(len(rows))})"
        lines += ["", heading, "-" * len(heading), tr._(why) if why else ""]
        for row in rows:
            lines.append("")
            for name, value in row.items():
                label = column(tr, name)
                shown = _value(tr, value, zone)
                if name == "atelier_id" and str(value) in titles:
                    shown = tr._("{id} (« {titre} »)", id=value, titre=titles[str(value)]["titre"])
                shown = shown.replace("\n", "\n      ")  # a value on several lines stays under
                lines.append(tr._("  {champ} : {valeur}", champ=label, valeur=shown))
    if empty:
        lines += ["", tr._("Rien n'est conservé sur vous dans : {liste}.", liste=", ".join(empty))]
    return "\n".join(lines).rstrip() + "\n"


def spreadsheets_zip(tr: Translations, export: MemberExport, zone: str) -> bytes:
    """One CSV per kind of data that has rows, named after it, in a zip."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, rows in export.tables.items():
            if not rows:
                continue
            columns = list(rows[0])
            data = csv_bytes(
                tr.locale,
                [column(tr, c) for c in columns],
                (
                    ["" if row[c] is None else _value(tr, row[c], zone) for c in columns]
                    for row in rows
                ),
            )
            archive.writestr(f"{table}.csv", data)
    return out.getvalue()
