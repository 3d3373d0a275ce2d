"""The French vocabulary of the slash commands (COMMANDS.md), for cogs and for Babel.

Cogs declare their commands in French with these texts; :class:`bot.i18n.PartageTranslator`
localizes them for English from the catalog. Each string is wrapped in ``p_(context, text)``, a
no-op marker here, so that ``pybabel extract`` puts it in the template under its context and
``pybabel update`` keeps its English translation. Names are lowercase and unaccented (easy to
type); descriptions are at most 100 characters, in both languages. Usage in a cog::

    @app_commands.command(name="rejoindre", description=DESCRIPTIONS["rejoindre"])
    @app_commands.describe(**option_descriptions("rejoindre"))
    async def rejoindre(self, interaction: discord.Interaction, chantier: str) -> None: ...

Keys are qualified command names (``"atelier creer"``); option keys are (command, option name).
A new command, option or choice gets its line here and its English in the ``.po``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.i18n import Translations


def p_(context: str, message: str) -> str:
    """Mark ``message`` for extraction in ``context`` (Babel keyword ``p_:1c,2``); no-op."""
    return message


COMMAND_NAMES: tuple[str, ...] = (
    # Members
    p_("command-name", "aide"),
    p_("command-name", "chantiers"),
    p_("command-name", "rejoindre"),
    p_("command-name", "quitter"),
    p_("command-name", "ateliers"),
    p_("command-name", "rsvp"),
    p_("command-name", "mes-inscriptions"),
    p_("command-name", "rappels"),
    p_("command-name", "profil"),
    p_("command-name", "voir"),
    p_("command-name", "modifier"),
    p_("command-name", "supprimer"),
    p_("command-name", "annuaire"),
    p_("command-name", "jumelage"),
    p_("command-name", "mes-donnees"),
    # Staff
    p_("command-name", "atelier"),
    p_("command-name", "creer"),
    p_("command-name", "annuler"),
    p_("command-name", "participants"),
    p_("command-name", "annoncer"),
    p_("command-name", "chantier"),
    p_("command-name", "archiver"),
    p_("command-name", "programme"),
    p_("command-name", "importer"),
    p_("command-name", "statistiques"),
)

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
}

# Command and group descriptions, by qualified name.
DESCRIPTIONS: dict[str, str] = {
    # Members
    "aide": p_("command-description", "Ce que fait Partage, ses commandes et les chantiers"),
    "chantiers": p_(
        "command-description",
        "Les chantiers, avec leur salon, leurs membres et leur prochain atelier",
    ),
    "rejoindre": p_(
        "command-description", "Rejoindre un chantier (ses annonces et rappels vous mentionneront)"
    ),
    "quitter": p_("command-description", "Quitter un chantier"),
    "ateliers": p_(
        "command-description", "Les prochains ateliers, les places restantes et votre réponse"
    ),
    "rsvp": p_("command-description", "Répondre oui, peut-être ou non à un atelier"),
    "mes-inscriptions": p_(
        "command-description", "Vos prochains ateliers et vos places en liste d'attente"
    ),
    "rappels": p_("command-description", "Activer ou désactiver vos rappels par message privé"),
    "profil": p_("command-description", "Votre profil de membre"),
    "profil voir": p_("command-description", "Voir votre profil"),
    "profil modifier": p_("command-description", "Remplir ou modifier votre profil"),
    "profil supprimer": p_("command-description", "Supprimer votre profil"),
    "annuaire": p_("command-description", "Trouver des collègues inscrits à l'annuaire"),
    "jumelage": p_(
        "command-description", "Participer au jumelage entre collègues de municipalités différentes"
    ),
    "mes-donnees": p_(
        "command-description", "Tout ce que Partage conserve sur vous, dans un fichier"
    ),
    # Staff
    "atelier": p_("command-description", "Gérer les ateliers (équipe d'animation)"),
    "atelier creer": p_("command-description", "Créer un atelier et publier son annonce"),
    "atelier modifier": p_("command-description", "Modifier un atelier et prévenir les inscrits"),
    "atelier annuler": p_("command-description", "Annuler un atelier et prévenir les inscrits"),
    "atelier participants": p_(
        "command-description", "Les réponses et la liste d'attente d'un atelier, en CSV"
    ),
    "atelier annoncer": p_("command-description", "Publier de nouveau l'annonce d'un atelier"),
    "chantier": p_("command-description", "Gérer les chantiers (équipe d'animation)"),
    "chantier creer": p_("command-description", "Créer un chantier, ses salons et son rôle"),
    "chantier archiver": p_(
        "command-description",
        "Archiver un chantier (plus de nouvel atelier, salons en lecture seule)",
    ),
    "programme": p_("command-description", "Gérer le programme (équipe d'animation)"),
    "programme importer": p_(
        "command-description", "Importer plusieurs ateliers d'un fichier CSV ou TOML"
    ),
    "statistiques": p_(
        "command-description",
        "Membres et inscriptions par région et municipalité, avec un graphique",
    ),
}

# Option descriptions, by (qualified command name, option name).
OPTION_DESCRIPTIONS: dict[tuple[str, str], str] = {
    # Members
    ("rejoindre", "chantier"): p_("option-description", "Le chantier à rejoindre"),
    ("quitter", "chantier"): p_("option-description", "Le chantier à quitter"),
    ("ateliers", "chantier"): p_("option-description", "Seulement les ateliers de ce chantier"),
    ("rsvp", "atelier"): p_("option-description", "L'atelier"),
    ("rsvp", "reponse"): p_("option-description", "Votre réponse"),
    ("rsvp", "seance"): p_(
        "option-description", "Une seule séance de l'atelier (sinon, toutes ses séances)"
    ),
    ("rappels", "messages-prives"): p_(
        "option-description", "Recevoir les rappels par message privé"
    ),
    ("annuaire", "region"): p_("option-description", "La région administrative"),
    ("annuaire", "chantier"): p_("option-description", "Un chantier qui les intéresse"),
    ("annuaire", "municipalite"): p_("option-description", "La municipalité"),
    ("annuaire", "mot-cle"): p_("option-description", "Un mot de leur rôle ou de leur expertise"),
    ("jumelage", "participer"): p_("option-description", "Participer au jumelage"),
    # Staff: atelier creer
    ("atelier creer", "titre"): p_("option-description", "Le titre de l'atelier"),
    ("atelier creer", "chantier"): p_("option-description", "Le chantier de l'atelier"),
    ("atelier creer", "dates"): p_(
        "option-description",
        "Les séances séparées par des points-virgules, par exemple 3 décembre 2026 13 h 30",
    ),
    ("atelier creer", "duree"): p_(
        "option-description", "La durée de chaque séance, en minutes (90 par défaut)"
    ),
    ("atelier creer", "lieu"): p_("option-description", "Le lieu (visioconférence par défaut)"),
    ("atelier creer", "lien"): p_(
        "option-description", "Le lien de la réunion, montré aux inscrits seulement"
    ),
    ("atelier creer", "capacite"): p_("option-description", "Le nombre de places"),
    ("atelier creer", "genre"): p_("option-description", "Le genre d'atelier (atelier par défaut)"),
    ("atelier creer", "description"): p_("option-description", "La description de l'atelier"),
    # Staff: atelier modifier (every option of creer, all optional)
    ("atelier modifier", "atelier"): p_("option-description", "L'atelier à modifier"),
    ("atelier modifier", "titre"): p_("option-description", "Le nouveau titre"),
    ("atelier modifier", "chantier"): p_("option-description", "Le nouveau chantier"),
    ("atelier modifier", "dates"): p_(
        "option-description", "Les nouvelles séances, séparées par des points-virgules"
    ),
    ("atelier modifier", "duree"): p_(
        "option-description", "La nouvelle durée de chaque séance, en minutes"
    ),
    ("atelier modifier", "lieu"): p_("option-description", "Le nouveau lieu"),
    ("atelier modifier", "lien"): p_("option-description", "Le nouveau lien de la réunion"),
    ("atelier modifier", "capacite"): p_("option-description", "Le nouveau nombre de places"),
    ("atelier modifier", "genre"): p_("option-description", "Le nouveau genre d'atelier"),
    ("atelier modifier", "description"): p_("option-description", "La nouvelle description"),
    # Staff: the other atelier commands
    ("atelier annuler", "atelier"): p_("option-description", "L'atelier à annuler"),
    ("atelier annuler", "raison"): p_("option-description", "La raison, communiquée aux inscrits"),
    ("atelier participants", "atelier"): p_("option-description", "L'atelier"),
    ("atelier annoncer", "atelier"): p_("option-description", "L'atelier à annoncer"),
    ("atelier annoncer", "salon"): p_(
        "option-description", "Le salon où publier (celui du chantier par défaut)"
    ),
    # Staff: chantier, programme, statistiques
    ("chantier creer", "nom"): p_("option-description", "Le nom du chantier"),
    ("chantier creer", "description"): p_("option-description", "La description du chantier"),
    ("chantier creer", "emoji"): p_("option-description", "L'emoji du chantier"),
    ("chantier archiver", "chantier"): p_("option-description", "Le chantier à archiver"),
    ("programme importer", "fichier"): p_(
        "option-description", "Le fichier du programme (CSV ou TOML)"
    ),
    ("statistiques", "debut"): p_(
        "option-description", "À partir de cette date, par exemple 2026-09-01"
    ),
    ("statistiques", "fin"): p_("option-description", "Jusqu'à cette date, par exemple 2026-12-31"),
}


def option_descriptions(command: str) -> dict[str, str]:
    """The option descriptions of ``command`` for ``app_commands.describe(**...)``.

    Keys are Python parameter names: an option ``messages-prives`` is the parameter
    ``messages_prives``, renamed with ``app_commands.rename(messages_prives="messages-prives")``.
    """
    return {
        option.replace("-", "_"): text
        for (name, option), text in OPTION_DESCRIPTIONS.items()
        if name == command
    }


def command(tr: Translations, qualified: str) -> str:
    """``/profil modifier`` in French, ``/profile edit`` in English (from the catalog)."""
    return "/" + " ".join(tr.p_("command-name", part) for part in qualified.split())


# --- Between the ateliers (issue 13): questions, FAQ, personnes-ressources, library ----------

COMMAND_NAMES += (
    p_("command-name", "question"),
    p_("command-name", "poser"),
    p_("command-name", "resolue"),
    p_("command-name", "faq"),
    p_("command-name", "ressource"),
    p_("command-name", "referentiels"),
    p_("command-name", "documents"),
)

DESCRIPTIONS.update(
    {
        "question": p_("command-description", "Les questions aux collègues d'un chantier"),
        "question poser": p_(
            "command-description", "Poser une question aux personnes-ressources d'un chantier"
        ),
        "question resolue": p_(
            "command-description", "Marquer comme résolue la question de ce fil"
        ),
        "faq": p_("command-description", "Chercher dans les questions résolues"),
        "ressource": p_(
            "command-description",
            "Devenir ou ne plus être personne-ressource d'un chantier",
        ),
        "referentiels": p_(
            "command-description",
            "Chercher dans les référentiels et les documents des ateliers",
        ),
        "atelier documents": p_(
            "command-description", "Joindre un document ou un lien à un atelier"
        ),
    }
)

OPTION_DESCRIPTIONS.update(
    {
        ("question poser", "chantier"): p_("option-description", "Le chantier de la question"),
        ("faq", "mot-cle"): p_("option-description", "Un mot de la question"),
        ("ressource", "chantier"): p_("option-description", "Le chantier"),
        ("ressource", "participer"): p_(
            "option-description", "Accepter d'être mentionné·e sur ses questions"
        ),
        ("referentiels", "mot-cle"): p_("option-description", "Un mot du titre"),
        ("referentiels", "chantier"): p_("option-description", "Le chantier"),
        ("atelier documents", "atelier"): p_("option-description", "L'atelier"),
        ("atelier documents", "titre"): p_("option-description", "Le titre du document"),
        ("atelier documents", "lien"): p_("option-description", "Un lien (https://…)"),
        ("atelier documents", "fichier"): p_("option-description", "Ou un fichier"),
    }
)
