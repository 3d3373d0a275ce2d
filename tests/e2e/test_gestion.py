"""By hand, end to end: staff name a co-host (shown in the announcement); the co-host registers
and removes a member (the member is told by DM), exports the participants and opens the
attendance of their atelier, but not of another one; a member without rights is refused."""

from __future__ import annotations

from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_rsvp import atelier_id_of
from tests.e2e.test_ateliers_support import (
    announcements,
    chantier_channel,
    create_atelier,
    text_of,
)
from tests.fakediscord import FakeDiscord
from tests.french import fr


async def test_cohost_registers_and_removes_a_member_by_hand(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    carole = fake.add_member(server.guild, "carole")
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=5)
        atelier_id = atelier_id_of(text)
        _, other_text = await create_atelier(
            fake, server, titre="Logement", capacite=5, dates="17 décembre 2030 13 h 30"
        )
        other_id = atelier_id_of(other_text)
        await settle(fake, bot)

        def slash(name: str, user, **options) -> str:
            return fake.slash(
                f"atelier {name}", user=user, channel=server.general, options=options, locale="fr"
            )

        # A member is refused; staff name Alice co-host.
        refused = await text_of(
            slash("inscrire", server.bob, atelier=str(atelier_id), membre=carole)
        )
        assert "Réservé à l'équipe d'animation" in refused
        named = await text_of(
            slash("coanimer", server.staff, atelier=str(atelier_id), membre=server.alice)
        )
        assert fr("coanime maintenant « Territoire et immigration »") in named
        await settle(fake, bot)
        message = next(
            m
            for m in announcements(fake, chantier_channel(fake, server))
            if f"rsvp:{atelier_id}:oui" in m.custom_ids()
        )
        cohosts = next(f for f in message.embeds[0]["fields"] if f["name"] == "Coanimation")
        assert cohosts["value"] == f"<@{server.alice.id}>"

        # The co-host registers Carole, who is told by DM.
        done = await text_of(
            slash("inscrire", server.alice, atelier=str(atelier_id), membre=carole)
        )
        assert fr("est inscrit·e à « Territoire et immigration » et en est prévenu·e") in done
        await settle(fake, bot)
        [dm] = fake.dms(carole)
        assert fr("L'équipe d'animation vous a inscrit·e à « Territoire et immigration »") in (
            dm.content
        )
        counts = await bot.services.inscriptions.counts(atelier_id)
        assert counts.inscrits == 1

        # Her co-host rights: participants and attendance of this atelier, not of another.
        export = await fake.slash(
            "atelier participants",
            user=server.alice,
            channel=server.general,
            options={"atelier": str(atelier_id)},
            locale="fr",
        ).wait_answer()
        assert next(a.filename for a in export.attachments).endswith(".csv")
        other = await text_of(slash("presences", server.alice, atelier=str(other_id)))
        assert "Réservé à l'équipe d'animation" in other

        # /atelier documents: the co-host attaches a link to her atelier, not to another one.
        attached = await text_of(
            slash(
                "documents",
                server.alice,
                atelier=str(atelier_id),
                titre="Guide d'accueil",
                lien="https://example.org/guide.pdf",
            )
        )
        assert fr("Document « Guide d'accueil » ajouté à l'atelier") in attached
        elsewhere = await text_of(
            slash(
                "documents",
                server.alice,
                atelier=str(other_id),
                titre="Autre",
                lien="https://example.org/autre.pdf",
            )
        )
        assert "Réservé à l'équipe d'animation" in elsewhere
        assert [d.titre for d in await bot.services.bibliotheque.of_atelier(atelier_id)] == [
            "Guide d'accueil"
        ]
        assert await bot.services.bibliotheque.of_atelier(other_id) == []

        # The co-host removes Carole, who is told.
        removed = await text_of(
            slash("retirer", server.alice, atelier=str(atelier_id), membre=carole)
        )
        assert fr("est retiré·e de « Territoire et immigration »") in removed
        await settle(fake, bot)
        assert len(fake.dms(carole)) == 2
        assert fr("vous a retiré·e de « Territoire et immigration »") in fake.dms(carole)[1].content
        assert (await bot.services.inscriptions.counts(atelier_id)).inscrits == 0
