"""Profiles on the fake Discord: consent first, the form, the card, directory visibility."""

from __future__ import annotations

from sqlalchemy import func, select

from cogs.membres.service import CONSENT_TEXT, CONSENT_VERSION, ProfilService
from db.models import Membre, Profil, Region
from tests.e2e.harness import Server, partage
from tests.e2e.membres_world import chantier_ids, submit
from tests.fakediscord import FakeDiscord
from tests.french import fr

YES = f"profil:consentement:{CONSENT_VERSION}:oui"
NO = f"profil:consentement:{CONSENT_VERSION}:non"


async def _stored_rows(bot, user_id: int) -> tuple[int, int]:
    async with bot.sessions() as s:
        membres = (
            await s.execute(select(func.count()).where(Membre.user_id == user_id))
        ).scalar_one()
        profils = (
            await s.execute(
                select(func.count())
                .select_from(Profil)
                .join(Membre)
                .where(Membre.user_id == user_id)
            )
        ).scalar_one()
    return membres, profils


async def test_consent_comes_first_then_the_form_saves_a_normalized_profile(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, alice = fake_discord, server.alice
    async with partage(fake, settings) as bot:
        profils = ProfilService(bot.sessions, bot.clock)
        ids = await chantier_ids(bot, server.guild)

        # /profil modifier without consent: the consent text and two buttons, nothing stored.
        asked = fake.slash("profil modifier", user=alice, channel=server.general, locale="fr")
        prompt = await asked.response()
        assert prompt.type == 4 and prompt.ephemeral
        embed = prompt.data["embeds"][0]
        assert embed["title"] == "Votre consentement"
        assert fr(CONSENT_TEXT) in embed["description"]
        assert asked.message.custom_ids() == [YES, NO]
        assert await _stored_rows(bot, alice.user.id) == (0, 0)

        # « Non merci »: still nothing stored, and told so.
        refused = await fake.click(asked.message, NO, user=alice, locale="fr").response()
        assert refused.type == 7
        assert "aucun renseignement" in refused.data["content"]
        assert await _stored_rows(bot, alice.user.id) == (0, 0)
        assert await profils.get(server.guild.id, alice.user.id) is None

        # /profil voir without a profile asks for consent too; « J'accepte » opens the form.
        seen = fake.slash("profil voir", user=alice, channel=server.general, locale="fr")
        assert "pas encore de profil" in (await seen.response()).data["embeds"][0]["description"]
        accepted = fake.click(seen.message, YES, user=alice, locale="fr")
        assert (await accepted.response()).type == 9
        form = accepted.modal
        assert form is not None and form["title"] == "Votre profil"
        inputs = [c["component"]["custom_id"] for c in form["components"]]
        assert inputs == [
            "profil:municipalite",
            "profil:region",
            "profil:fonction",
            "profil:chantiers",
            "profil:expertise",
        ]
        info = await profils.get(server.guild.id, alice.user.id)
        assert info is not None and info.consent_version == CONSENT_VERSION
        assert not info.visible_annuaire  # off until the member chooses

        saved_handle = submit(
            fake,
            accepted,
            {
                "profil:municipalite": "  st-jean-SUR-richelieu ",
                "profil:region": ["16"],
                "profil:fonction": "Conseillère en immigration",
                "profil:chantiers": [str(ids["accueil-integration"])],
                "profil:expertise": "francisation, Logement; logement",
            },
        )
        saved = await saved_handle.response()
        assert saved.ephemeral
        assert "Profil enregistré." in saved.data["content"]
        assert fr("« Saint-Jean-sur-Richelieu »") in saved.data["content"]
        assert fr("« st-jean-SUR-richelieu »") in saved.data["content"]
        fields = {f["name"]: f["value"] for f in saved.data["embeds"][0]["fields"]}
        assert fields["Municipalité"] == "Saint-Jean-sur-Richelieu"
        assert fields["Région"] == "Montérégie (16)"
        assert fields["Expertise"] == "francisation, Logement"
        assert fields["Chantiers d'intérêt"] == "Accueil, intégration et enracinement"
        assert "ne paraissez pas" in fields["Annuaire"]
        assert saved_handle.message.allowed_mentions == {"parse": []}

        # Appear in the directory with the card's button.
        card = saved_handle.message
        shown = await fake.click(card, "profil:annuaire:oui", user=alice, locale="fr").response()
        assert shown.type == 7 and "maintenant dans l'annuaire" in shown.data["content"]
        assert "profil:annuaire:non" in card.custom_ids()

        # Edit: the form opens with the saved values; clearing the role clears it.
        edit = fake.click(card, "profil:modifier", user=alice, locale="fr")
        assert (await edit.response()).type == 9
        defaults = {c["component"]["custom_id"]: c["component"] for c in edit.modal["components"]}
        assert defaults["profil:municipalite"]["value"] == "Saint-Jean-sur-Richelieu"
        assert defaults["profil:expertise"]["value"] == "francisation, Logement"
        region_default = [
            o["value"] for o in defaults["profil:region"]["options"] if o.get("default")
        ]
        assert region_default == ["16"]
        again = submit(
            fake,
            edit,
            {
                "profil:fonction": "",
                "profil:region": ["16"],
                "profil:chantiers": [str(ids["gouvernance"]), str(ids["accueil-integration"])],
            },
        )
        assert "Profil enregistré." in (await again.response()).data["content"]
        info = await profils.get(server.guild.id, alice.user.id)
    assert info is not None
    assert info.municipalite == "Saint-Jean-sur-Richelieu"
    assert info.region == Region.MONTEREGIE
    assert info.fonction is None
    assert info.expertise == ("francisation", "Logement")
    assert len(info.chantier_ids) == 2
    assert info.visible_annuaire


async def test_consent_then_no_thanks_does_not_pretend_nothing_is_kept(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, bob = fake_discord, server.bob
    async with partage(fake, settings):
        asked = fake.slash("profil modifier", user=bob, channel=server.general, locale="fr")
        await asked.response()
        assert (await fake.click(asked.message, YES, user=bob, locale="fr").response()).type == 9
        late = await fake.click(asked.message, NO, user=bob, locale="fr").response()
        assert "déjà donné votre consentement" in late.data["content"]
        assert "/profil supprimer" in late.data["content"]
