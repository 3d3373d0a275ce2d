from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import PartageBot


async def setup(bot: PartageBot) -> None:
    from cogs.membres.annuaire_cog import AnnuaireCog
    from cogs.membres.cog import ProfilCog

    await bot.add_cog(ProfilCog(bot))
    await bot.add_cog(AnnuaireCog(bot))
