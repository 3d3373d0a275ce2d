"""The directory on the fake Discord: search by region and keyword, pages, a conversation
proposed, accepted and opened as a private thread; DMs closed; declining; consent respected."""

from __future__ import annotations

from cogs.membres.annuaire import AnnuaireService
from db.models import ProposalStatus
from tests.e2e.harness import Server, partage, settle
from tests.e2e.membres_world import give_profile, private_threads
from tests.fakediscord import FakeDiscord
from tests.french import fr


def _listed(handle) -> list[str]:
    """The names the directory page shows, in order."""
    return [f["name"].split(". ", 1)[1] for f in handle.message.embeds[0].get("fields", [])]


async def test_search_propose_accept_opens_a_private_thread_with_both(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild, alice, bob = fake_discord, server.guild, server.alice, server.bob
    carol = fake.add_member(guild, "carol")
    dave = fake.add_member(guild, "dave")  # never consents
    erin = fake.add_member(guild, "erin")  # consents, not listed
    async with partage(fake, settings) as bot:
        await give_profile(
            bot,
            guild,
            alice,
            municipalite="Saint-Jérôme",
            region="15",
            chantiers=["accueil-integration"],
        )
        await give_profile(
            bot,
            guild,
            bob,
            municipalite="Laval",
            region="13",
            fonction="Agent d'intégration",
            expertise=["Francisation", "logement"],
            chantiers=["accueil-integration", "gouvernance"],
        )
        await give_profile(
            bot, guild, carol, municipalite="Gatineau", region="07", expertise=["petite enfance"]
        )
        await give_profile(bot, guild, erin, municipalite="Sherbrooke", region="05", visible=False)
        # dave uses the bot (and so has a member row) without ever consenting.
        await bot.services.rappels.set_dm_reminders(guild.id, dave.user.id, True)
        refused = await fake.slash(
            "jumelage", user=dave, channel=server.general, options={"participer": True}, locale="fr"
        ).response()
        assert (refused.data or {}).get("embeds", [{}])[0].get("title") == "Votre consentement", (
            refused
        )

        def search(**options: str):
            return fake.slash(
                "annuaire", user=alice, channel=server.general, options=options, locale="fr"
            )

        everyone = search()
        assert (await everyone.response()).ephemeral
        assert _listed(everyone) == ["carol", "bob"]  # by municipality; not alice, dave, erin
        by_region = search(region="13")
        await by_region.response()
        assert _listed(by_region) == ["bob"]
        assert "Laval" in by_region.message.embeds[0]["fields"][0]["value"]
        assert fr("région : Laval") in by_region.message.embeds[0]["description"]
        by_name = search(region="laval")
        await by_name.response()
        assert _listed(by_name) == ["bob"]
        by_keyword = search(**{"mot-cle": "francisation"})
        await by_keyword.response()
        assert _listed(by_keyword) == ["bob"]
        by_keyword_accent = search(**{"mot-cle": "ENFANCE"})
        await by_keyword_accent.response()
        assert _listed(by_keyword_accent) == ["carol"]
        by_role = search(**{"mot-cle": "intégration"}, chantier="gouvernance")
        await by_role.response()
        assert _listed(by_role) == ["bob"]
        nobody = search(municipalite="sherbrooke")
        await nobody.response()
        assert (
            _listed(nobody) == []
            and "Personne ne correspond" in (nobody.message.embeds[0]["description"])
        )
        for handle in (everyone, by_region, by_keyword, nobody):
            text = str(handle.message.embeds[0].get("fields", []))
            assert "dave" not in text and "erin" not in text and "Sherbrooke" not in text

        # Autocomplete: regions, and the municipalities of listed members only.
        regions = await fake.autocomplete(
            "annuaire", user=alice, channel=server.general, focused="region", value="mont"
        ).response()
        assert [c["value"] for c in regions.data["choices"]] == ["06", "16"]
        towns = await fake.autocomplete(
            "annuaire", user=alice, channel=server.general, focused="municipalite", value="s"
        ).response()
        assert [c["value"] for c in towns.data["choices"]] == ["Saint-Jérôme"]

        # Propose to bob: he gets a DM with Accept / Decline.
        proposer = fake.click(
            by_region.message, f"annuaire:proposer:{bob.user.id}", user=alice, locale="fr"
        )
        (sent,) = await proposer.wait_followups(1)
        assert "par message privé" in sent.content
        (invitation,) = fake.dms(bob)
        assert "alice vous propose une conversation" in invitation.content
        assert "Saint-Jérôme" in invitation.content
        proposal_id = int(invitation.custom_ids()[0].split(":")[1])
        assert invitation.custom_ids() == [
            f"conversation:{proposal_id}:accepter",
            f"conversation:{proposal_id}:decliner",
        ]
        again = fake.click(
            by_region.message, f"annuaire:proposer:{bob.user.id}", user=alice, locale="fr"
        )
        (refused,) = await again.wait_followups(1)
        assert "déjà en attente" in refused.content

        # Bob accepts: a private thread with both, in the chantier channel they share.
        accepted = fake.click(
            invitation, f"conversation:{proposal_id}:accepter", user=bob, locale="fr"
        )
        await accepted.response()
        await fake.wait_until(lambda: invitation.edits >= 1)
        await settle(fake, bot)
        (thread,) = private_threads(fake, guild)
        assert {alice.user.id, bob.user.id} <= set(thread.member_ids)
        assert carol.user.id not in thread.member_ids
        parent = fake.channels[thread.parent_id]
        assert parent.name == "accueil-integration"
        opening = fake.channel_messages(thread)[0]
        assert f"<@{alice.user.id}>" in opening.content and f"<@{bob.user.id}>" in opening.content
        assert "fil privé" in opening.content
        assert f"<#{thread.id}>" in fake.messages[invitation.id].content
        assert fake.messages[invitation.id].components == []
        stored = await AnnuaireService(bot.sessions, bot.clock).get_proposal(proposal_id)
        assert stored.status == ProposalStatus.ACCEPTED and stored.thread_id == thread.id


async def test_dms_closed_the_invitation_waits_in_a_channel_and_can_be_declined(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild, alice, bob = fake_discord, server.guild, server.alice, server.bob
    fake.close_dms(bob)
    async with partage(fake, settings) as bot:
        await give_profile(bot, guild, alice, municipalite="Rimouski", region="01")
        await give_profile(bot, guild, bob, municipalite="Alma", region="02")
        listing = fake.slash("annuaire", user=alice, channel=server.general, locale="fr")
        await listing.response()
        proposer = fake.click(
            listing.message, f"annuaire:proposer:{bob.user.id}", user=alice, locale="fr"
        )
        (sent,) = await proposer.wait_followups(1)
        assert "ne reçoit pas de messages privés" in sent.content
        assert f"<#{server.general.id}>" in sent.content  # no shared chantier: system channel
        (invitation,) = [m for m in fake.channel_messages(server.general) if m.custom_ids()]
        assert invitation.content.startswith(f"<@{bob.user.id}>")
        assert [int(u) for u in invitation.allowed_mentions["users"]] == [bob.user.id]
        proposal_id = int(invitation.custom_ids()[0].split(":")[1])

        # Only the invited member answers.
        intruder = await fake.click(
            invitation, f"conversation:{proposal_id}:accepter", user=server.staff, locale="fr"
        ).response()
        assert "Seule la personne invitée" in intruder.data["content"]
        declined = await fake.click(
            invitation, f"conversation:{proposal_id}:decliner", user=bob, locale="fr"
        ).response()
        assert declined.type == 7 and "décliné" in declined.data["content"]
        await settle(fake, bot)
        assert private_threads(fake, guild) == []
        stored = await AnnuaireService(bot.sessions, bot.clock).get_proposal(proposal_id)
        assert stored.status == ProposalStatus.DECLINED


async def test_pages_of_the_directory_survive_a_restart(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    towns = ["Amos", "Baie-Comeau", "Chibougamau", "Drummondville", "Eastman", "Farnham"]
    members = [fake.add_member(guild, f"membre{i}") for i in range(len(towns))]
    async with partage(fake, settings) as bot:
        for member, town in zip(members, towns, strict=True):
            await give_profile(bot, guild, member, municipalite=town, expertise=["accueil"])
        first = fake.slash(
            "annuaire",
            user=server.alice,
            channel=server.general,
            locale="fr",
            options={"mot-cle": "accueil"},
        )
        await first.response()
        assert _listed(first) == ["membre0", "membre1", "membre2", "membre3"]
        assert "Page 1 sur 2" in first.message.embeds[0]["footer"]["text"]
    ids = first.message.custom_ids()
    nxt = next(i for i in ids if i.startswith("annuaire:page:1:"))
    assert nxt == "annuaire:page:1::::accueil"
    async with partage(fake, settings):  # a new process: the button still works
        page = await fake.click(first.message, nxt, user=server.alice, locale="fr").response()
        assert page.type == 7
        assert _listed(first) == ["membre4", "membre5"]
        assert "Page 2 sur 2" in first.message.embeds[0]["footer"]["text"]
