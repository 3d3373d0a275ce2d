"""The announcement's buttons: « Oui », « Peut-être », « Non », and « Lien de la réunion » while
the atelier has a link. Their custom ids are the inscriptions feature's contract; its
``DynamicItem``s answer the clicks, also on announcements posted before a restart."""

from __future__ import annotations

from typing import Any

import discord

from bot.i18n import Translations
from cogs.ateliers.info import AtelierInfo
from cogs.inscriptions.buttons import (
    ANSWERS,
    answer_custom_id,
    answer_label,
    link_custom_id,
    link_label,
    serie_custom_id,
    serie_label,
)
from db.models import Reponse

_STYLES = {
    Reponse.OUI: discord.ButtonStyle.success,
    Reponse.PEUT_ETRE: discord.ButtonStyle.secondary,
    Reponse.NON: discord.ButtonStyle.danger,
}


def announcement_view(tr: Translations, info: AtelierInfo) -> discord.ui.View | None:
    """The three answer buttons, « Toute la série » in a series, and the meeting-link button
    while there is a link. A cancelled
    atelier has none (None: an edit removes them; a click on an older copy still says it is
    cancelled)."""
    if info.cancelled:
        return None
    view = discord.ui.View(timeout=None)
    for reponse in ANSWERS:
        view.add_item(
            discord.ui.Button[Any](
                label=answer_label(tr, reponse),
                style=_STYLES[reponse],
                custom_id=answer_custom_id(info.id, reponse),
            )
        )
    if info.serie_id is not None:
        view.add_item(
            discord.ui.Button[Any](
                label=serie_label(tr),
                style=discord.ButtonStyle.primary,
                custom_id=serie_custom_id(info.id),
            )
        )
    if info.lien:
        view.add_item(
            discord.ui.Button[Any](
                label=link_label(tr),
                style=discord.ButtonStyle.primary,
                custom_id=link_custom_id(info.id),
            )
        )
    return view
