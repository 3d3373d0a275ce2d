"""What reminders say: the channel posts, the DMs, the closed-DM notice and the weekly digest,
each in the reader's language (STYLE.md rule 10). Times are Discord timestamps, plus a date from
Babel where the text must stand alone (a DM's notification)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import discord

from bot.i18n import Translations, discord_timestamp
from cogs.ateliers.info import AtelierInfo, SeanceInfo
from cogs.reminders.plan import ClaimedRappel, DigestEntry
from db.models import RappelKind

NO_MENTIONS = discord.AllowedMentions.none()
EMBED_COLOUR = discord.Colour(0x1F6FB2)
DESCRIPTION_MAX = 4000  # Discord allows 4096 per embed description


class StaticView(discord.ui.View):
    """Buttons whose clicks another cog handles (``DynamicItem``s matched by custom id), or
    links: nothing to keep in this process's view store."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        return False


@dataclass(frozen=True)
class Outgoing:
    """One message, ready for ``send``."""

    content: str | None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    allowed_mentions: discord.AllowedMentions = field(default=NO_MENTIONS)

    def kwargs(self) -> dict[str, object]:
        out: dict[str, object] = {
            "content": self.content,
            "allowed_mentions": self.allowed_mentions,
        }
        if self.embed is not None:
            out["embed"] = self.embed
        if self.view is not None:
            out["view"] = self.view
        return out


def _when(seance: SeanceInfo) -> str:
    return (
        f"{discord_timestamp(seance.starts_at, 'F')} ({discord_timestamp(seance.starts_at, 'R')})"
    )


def _places(tr: Translations, atelier: AtelierInfo) -> str:
    counts = atelier.counts
    left = counts.places_restantes
    if left is None:
        return tr._("Places illimitées")
    if left > 0:
        return tr.n_("Places : {n} place restante", "Places : {n} places restantes", left)
    return tr.n_(
        "Places : complet ({n} personne en liste d'attente)",
        "Places : complet ({n} personnes en liste d'attente)",
        counts.attente,
    )


def _seance_line(tr: Translations, claimed: ClaimedRappel) -> list[str]:
    total = len(claimed.atelier.seances)
    if total < 2:
        return []
    return [tr._("Séance {n} sur {total}", n=claimed.seance_number, total=total)]


def _late(tr: Translations, claimed: ClaimedRappel) -> list[str]:
    if not claimed.late:
        return []
    return [tr._("⏰ Envoyé en retard : le bot était hors ligne à l'heure prévue.")]


def _embed(title: str, lines: Sequence[str]) -> discord.Embed:
    return discord.Embed(
        title=title[:256], description="\n".join(lines)[:DESCRIPTION_MAX], colour=EMBED_COLOUR
    )


def rsvp_buttons(tr: Translations, atelier_id: int) -> StaticView:
    view = StaticView()
    for label, answer, style in (
        (tr.p_("bouton", "Oui"), "oui", discord.ButtonStyle.success),
        (tr.p_("bouton", "Peut-être"), "peut-etre", discord.ButtonStyle.secondary),
        (tr.p_("bouton", "Non"), "non", discord.ButtonStyle.danger),
    ):
        view.add_item(
            discord.ui.Button(label=label, style=style, custom_id=f"rsvp:{atelier_id}:{answer}")
        )
    return view


def link_button(tr: Translations, atelier_id: int) -> StaticView:
    """The meeting link stays behind a button: the ateliers cog shows it, ephemeral, to
    registered members only."""
    view = StaticView()
    view.add_item(
        discord.ui.Button(
            label=tr.p_("bouton", "Lien de la réunion"),
            style=discord.ButtonStyle.primary,
            custom_id=f"lien:{atelier_id}",
        )
    )
    return view


def channel_post(tr: Translations, claimed: ClaimedRappel, role_id: int | None) -> Outgoing:
    """The post in the chantier's channel (or, for the follow-up, in the atelier's thread)."""
    atelier, seance = claimed.atelier, claimed.seance
    titre = atelier.titre
    if claimed.kind == RappelKind.SUIVI:
        return Outgoing(
            tr._(
                "Merci d'avoir participé à « {titre} » ! Partagez ici vos ressources "
                "(documents, liens, notes) et poursuivez la discussion : ce fil reste ouvert.",
                titre=titre,
            )
        )
    details = [
        *_seance_line(tr, claimed),
        tr._("Quand : {quand}", quand=_when(seance)),
        tr._("Lieu : {lieu}", lieu=atelier.lieu),
    ]
    if claimed.kind == RappelKind.DEBUT:
        text = tr._("Ça commence : « {titre} » débute maintenant.", titre=titre)
        if atelier.lien:
            details.append(tr._("Personnes inscrites : le lien est derrière le bouton."))
        view = link_button(tr, atelier.id) if atelier.lien else None
        return Outgoing(text, _embed(titre, [*details, *_late(tr, claimed)]), view)
    text = tr._(
        "Rappel : « {titre} » commence {relatif}.",
        titre=titre,
        relatif=discord_timestamp(seance.starts_at, "R"),
    )
    mentions = NO_MENTIONS
    if role_id is not None:
        text = f"<@&{role_id}> {text}"
        mentions = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(role_id)], replied_user=False
        )
    lines = [*details, _places(tr, atelier), *_late(tr, claimed)]
    return Outgoing(text, _embed(titre, lines), rsvp_buttons(tr, atelier.id), mentions)


def presence_post(tr: Translations, claimed: ClaimedRappel) -> Outgoing:
    """In the atelier's thread at a séance's start: the « Je suis là » button (attendance; the
    presences feature handles ``presence:<seance_id>``), open until the séance ends."""
    text = tr._(
        "La séance de « {titre} » commence : dites que vous êtes là avec le bouton "
        "(ouvert jusqu'à la fin de la séance).",
        titre=claimed.atelier.titre,
    )
    view = StaticView()
    view.add_item(
        discord.ui.Button(
            label=tr.p_("bouton", "Je suis là"),
            style=discord.ButtonStyle.success,
            custom_id=f"presence:{claimed.seance.id}",
        )
    )
    return Outgoing(text, view=view)


def direct_message(tr: Translations, claimed: ClaimedRappel) -> Outgoing:
    """The DM to a registered member who turned DM reminders on: with the meeting link."""
    atelier, seance = claimed.atelier, claimed.seance
    titre = atelier.titre
    date = tr.format_datetime(seance.starts_at, seance.zone, "full")
    if claimed.kind == RappelKind.SUIVI:
        text = tr._("Merci d'avoir participé à « {titre} » !", titre=titre)
        lines = [
            tr._("Partagez vos ressources et poursuivez la discussion dans le fil de l'atelier.")
        ]
        if atelier.thread_id:
            lines.append(f"<#{atelier.thread_id}>")
        return Outgoing(text, _embed(titre, lines))
    if claimed.kind == RappelKind.DEBUT:
        text = tr._("« {titre} » commence maintenant.", titre=titre)
    else:
        text = tr._("Rappel : « {titre} », {date}.", titre=titre, date=date)
    lines = [
        *_seance_line(tr, claimed),
        tr._("Quand : {quand}", quand=_when(seance)),
        tr._("Lieu : {lieu}", lieu=atelier.lieu),
    ]
    view = None
    if atelier.lien:
        lines.append(tr._("Lien de la réunion : {lien}", lien=atelier.lien))
        view = StaticView()
        view.add_item(discord.ui.Button(label=tr.p_("bouton", "Rejoindre"), url=atelier.lien))
    lines += _late(tr, claimed)
    lines.append(
        tr._(
            "Vous recevez ce message parce que vous avez activé les rappels par message privé "
            "(/rappels pour les désactiver)."
        )
    )
    return Outgoing(text, _embed(titre, lines), view)


def dm_closed_notice(tr: Translations, claimed: ClaimedRappel, user_id: int) -> Outgoing:
    """Said once, in the atelier's thread, to a member whose DMs refused a reminder."""
    text = tr._(
        "{membre} Je n'ai pas pu vous envoyer le rappel de l'atelier « {titre} » par message "
        "privé : vos messages privés sont fermés. Vos rappels par message privé sont donc "
        "désactivés ; pour les réactiver, ouvrez vos messages privés puis utilisez /rappels.",
        membre=f"<@{user_id}>",
        titre=claimed.atelier.titre,
    )
    mentions = discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=False
    )
    return Outgoing(text, allowed_mentions=mentions)


def digest(
    tr: Translations, entries: Sequence[DigestEntry], chantiers: Mapping[int, str]
) -> Outgoing:
    """The weekly digest: the coming ateliers across chantiers, soonest first."""
    title = tr._("Les ateliers des deux prochaines semaines")
    if not entries:
        nothing = tr._("Aucun atelier prévu dans les deux prochaines semaines.")
        return Outgoing(None, _embed(title, [nothing]))
    blocks: list[str] = []
    used = 0
    for shown, entry in enumerate(entries):
        a = entry.atelier
        head = f"**{a.titre}**"
        if a.chantier_id in chantiers:
            head += f" — {chantiers[a.chantier_id]}"
        block = "\n".join([head, *(_when(s) for s in entry.seances), _places(tr, a)])
        rest = len(entries) - shown
        more = tr.n_("… et {n} autre atelier.", "… et {n} autres ateliers.", rest)
        if used + len(block) + len(more) + 4 > DESCRIPTION_MAX:
            blocks.append(more)
            break
        blocks.append(block)
        used += len(block) + 2
    embed = _embed(title, ["\n\n".join(blocks)])
    embed.set_footer(text=tr._("Répondez avec les boutons des annonces ou avec /rsvp."))
    return Outgoing(None, embed)


def add_questions(
    tr: Translations,
    out: Outgoing,
    guild_id: int,
    unanswered: Sequence[int],
    solved: Sequence[int],
) -> None:
    """Between the ateliers: the digest also lists, as links to their threads, the questions
    still waiting for an answer and those solved in the last week (nothing when there are
    none)."""
    if out.embed is None:
        return
    for name, threads in (
        (tr._("Questions qui attendent une réponse"), unanswered),
        (tr._("Questions résolues cette semaine"), solved),
    ):
        if not threads:
            continue
        links = [f"https://discord.com/channels/{guild_id}/{t}" for t in threads[:10]]
        if len(threads) > 10:
            links.append(tr.n_("… et {n} autre.", "… et {n} autres.", len(threads) - 10))
        out.embed.add_field(name=name, value="\n".join(links)[:1024], inline=False)
