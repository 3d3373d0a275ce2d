"""/attestation end to end: a member who came gets a form for their name, then a PDF in their
language; a member who did not come is refused at once, without a form."""

from __future__ import annotations

from datetime import date

from cogs.ateliers.service import AtelierDraft
from tests.cogs.helpers import seance
from tests.e2e.harness import Server, partage, settle
from tests.fakediscord import FakeDiscord
from tests.french import fr


async def test_attestation_for_a_member_who_came_and_refusal_for_one_who_did_not(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    async with partage(fake, settings) as bot:
        info = await bot.services.ateliers.create(
            server.guild.id,
            AtelierDraft(
                titre="Territoire et immigration",
                seances=[seance(date(2026, 10, 1)), seance(date(2026, 10, 8))],
            ),
            announce=False,
        )
        await bot.services.presences.add_walk_ins(
            server.guild.id,
            info.seances[0].id,
            [(server.alice.id, "alice")],
            actor_user_id=server.staff.id,
        )
        await settle(fake, bot)

        refused = await fake.slash(
            "attestation",
            user=server.bob,
            channel=server.general,
            options={"atelier": str(info.id)},
            locale="fr",
        ).wait_answer()
        assert refused.ephemeral
        assert fr("Aucune présence n'est notée pour vous à « Territoire et immigration »") in (
            refused.content
        )

        asked = fake.slash(
            "attestation",
            user=server.alice,
            channel=server.general,
            options={"atelier": str(info.id)},
            locale="en-US",
        )
        await asked.response()
        assert asked.modal is not None
        done = fake.injector.submit_modal(
            asked, {"attestation:nom": "Alice Lévesque-Ouellet"}, locale="en-US"
        )
        answer = await done.wait_answer()
        assert answer.ephemeral and "certificate of participation" in answer.content
        [pdf] = answer.attachments
        assert pdf.filename == "attestation-territoire-et-immigration.pdf"
        assert pdf.data.startswith(b"%PDF") and b"DejaVuSans" in pdf.data
