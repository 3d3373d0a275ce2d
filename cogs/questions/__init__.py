from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import PartageBot


async def setup(bot: PartageBot) -> None:
    from cogs.questions.cog import QuestionsCog
    from cogs.questions.library import BibliothequeCog

    await bot.add_cog(QuestionsCog(bot))
    await bot.add_cog(BibliothequeCog(bot))
