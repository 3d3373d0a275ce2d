from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core import PartageBot


async def setup(bot: PartageBot) -> None:
    from cogs.questions.cog import QuestionsCog

    await bot.add_cog(QuestionsCog(bot))
