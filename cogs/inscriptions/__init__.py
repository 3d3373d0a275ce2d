from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import PartageBot


async def setup(bot: PartageBot) -> None:
    from cogs.inscriptions.cog import InscriptionsCog
    from cogs.inscriptions.offres_cog import OffresCog

    await bot.add_cog(InscriptionsCog(bot))
    await bot.add_cog(OffresCog(bot))
