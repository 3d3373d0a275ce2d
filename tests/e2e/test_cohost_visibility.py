"""Co-hosts and Discord's default permissions, end to end: ``/atelier`` asks for Manage Events
by default, and Discord sets who sees a command for ``/atelier`` as a whole (a bot cannot change
it). So naming a co-host who would not see it tells staff exactly where to allow them, once;
removing their last co-hosting says the access can go; a member who already sees ``/atelier``
gets no steps."""

from __future__ import annotations

from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_rsvp import atelier_id_of
from tests.e2e.test_ateliers_support import create_atelier, text_of
from tests.fakediscord import FakeDiscord
from tests.fakediscord.permissions import Perm
from tests.french import fr

STEPS = fr(
    "1. Paramètres du serveur → Intégrations → {application} ;\n"
    "2. dans Commandes, /atelier → Ajouter des membres ou des rôles → {nom} ;\n"
    "3. cochez ✓, puis Enregistrer les modifications."
)


async def test_naming_a_cohost_tells_staff_how_to_show_them_atelier(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake = fake_discord
    events = fake.add_role(server.guild, "Événements", permissions=int(Perm.MANAGE_EVENTS))
    dora = fake.add_member(server.guild, "dora", roles=[events])
    async with partage(fake, settings) as bot:
        _, text = await create_atelier(fake, server, capacite=5)
        atelier_id = atelier_id_of(text)
        _, other_text = await create_atelier(
            fake, server, titre="Logement", capacite=5, dates="17 décembre 2030 13 h 30"
        )
        other_id = atelier_id_of(other_text)
        await settle(fake, bot)
        application = bot.user.name if bot.user else "Partage"

        async def coanimer(atelier: int, membre, **options) -> str:
            return await text_of(
                fake.slash(
                    "atelier coanimer",
                    user=server.staff,
                    channel=server.general,
                    options={"atelier": str(atelier), "membre": membre, **options},
                    locale="fr",
                )
            )

        named = await coanimer(atelier_id, server.alice)
        also = await coanimer(other_id, server.alice)
        with_events = await coanimer(atelier_id, dora)
        removed_one = await coanimer(atelier_id, server.alice, retirer=True)
        removed_last = await coanimer(other_id, server.alice, retirer=True)
        in_english = await text_of(
            fake.slash(
                "atelier coanimer",
                user=server.staff,
                channel=server.general,
                options={"atelier": str(atelier_id), "membre": server.bob},
                locale="en-US",
            )
        )
    steps = STEPS.format(application=application, nom="alice")
    assert fr("coanime maintenant « Territoire et immigration »") in named
    assert steps in named and fr("« Gérer les événements »") in named
    assert f"<@{server.alice.id}> y verra aussi les autres sous-commandes" in named
    assert steps in also
    # Dora holds Manage Events: Discord already lists /atelier to her.
    assert fr("coanime maintenant") in with_events and "Intégrations" not in with_events
    # Alice still co-hosts « Logement »: her access stays; after the last one, it can go.
    assert "Intégrations" not in removed_one
    assert fr("ne coanime plus aucun atelier : vous pouvez lui retirer l'accès") in removed_last
    assert "Server Settings → Integrations →" in in_english and "Add members or roles" in (
        in_english
    )
