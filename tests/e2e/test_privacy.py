"""Privacy on the fake Discord: /profil supprimer leaves nothing of the member in any table and
keeps the counts of past ateliers; /mes-donnees returns every row about the member (checked
against the whole schema); the welcome message; departures erased after the grace period."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from cogs.ateliers.service import AtelierDraft
from cogs.jumelage.service import JumelageService
from cogs.membres.annuaire import AnnuaireService
from cogs.membres.noms import fold
from cogs.membres.service import ProfilService
from cogs.privacy.service import member_tables, unregistered_tables
from db.models import Base, Membre, MembreDepart, Reponse
from tests.cogs.helpers import seance
from tests.e2e.harness import Server, partage, settle
from tests.e2e.membres_world import give_profile
from tests.fakediscord import FakeDiscord
from tests.french import fr

#: About the database itself: on SQLite and PostgreSQL (tests/e2e/conftest.py).
pytestmark = pytest.mark.both_databases

START = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)
X_NAME = "Zéphyrine Quintal-Xanadu"
X_PROFILE = {
    "municipalite": "Sainte-Pétronille",
    "fonction": "Conseillère en zythologie interculturelle",
    "expertise": ["xénolinguistique appliquée", "quokkas urbains"],
}


async def _world(bot: Any, fake: FakeDiscord, server: Server, x: Any) -> dict[str, int]:
    """X everywhere: profile and directory, an accepted conversation with its thread, the
    jumelage, a past atelier (with a per-séance answer), a future one holding the only place
    (bob waits for it), an atelier X organized."""
    guild = server.guild
    gid, xid, bob = guild.id, x.user.id, server.bob.user.id
    await give_profile(bot, guild, x, region="03", chantiers=["accueil-integration"], **X_PROFILE)
    await give_profile(bot, guild, server.alice, municipalite="Laval", region="13")
    annuaire = AnnuaireService(bot.sessions, bot.clock)
    proposal = await annuaire.propose(gid, server.alice.user.id, xid)
    await annuaire.accept(proposal.id, xid)
    await annuaire.set_thread(proposal.id, 900_000_000_000_000_001)
    jumelage = JumelageService(bot.sessions, bot.clock)
    await jumelage.set_participation(gid, xid, True)
    await jumelage.set_participation(gid, server.alice.user.id, True)
    await jumelage.run_round(gid, rng=random.Random(0))

    ateliers, rsvp = bot.services.ateliers, bot.services.inscriptions
    past = await ateliers.create(
        gid,
        AtelierDraft(
            titre="Territoire et immigration",
            seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 10))],
            capacite=3,
        ),
        actor_user_id=xid,
    )
    future = await ateliers.create(
        gid,
        AtelierDraft(
            titre="Petite enfance",
            seances=[seance(date(2027, 2, 4))],
            capacite=1,
            organizer_user_id=xid,
        ),
    )
    for user in (xid, bob, server.alice.user.id):
        await rsvp.answer(
            gid, past.id, user, Reponse.OUI, display_name=X_NAME if user == xid else None
        )
    await rsvp.answer(gid, past.id, xid, Reponse.NON, seance_id=past.seances[1].id)
    await rsvp.answer(gid, future.id, xid, Reponse.OUI, locale="fr")
    await rsvp.answer(gid, future.id, bob, Reponse.OUI, locale="fr")  # waiting
    return {"past": past.id, "future": future.id}


async def _scan(bot: Any, needles: list[str], user_id: int) -> list[str]:
    """Every cell of every table of the schema holding the member's id, name or profile."""
    folded = [fold(n) for n in needles]
    hits = []
    async with bot.sessions() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is None or isinstance(value, bool):
                        continue
                    if isinstance(value, int) and value == user_id:
                        hits.append(f"{table.name}.{column}")
                    text = (
                        json.dumps(value, ensure_ascii=False)
                        if isinstance(value, dict | list)
                        else str(value)
                    )
                    if any(n in fold(text) for n in folded):
                        hits.append(f"{table.name}.{column}={value!r}")
    return hits


async def test_profil_supprimer_erases_everything_and_keeps_past_counts(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    x = fake.add_member(guild, "zephyrine", nick=X_NAME)
    clock = ManualClock(START)
    async with partage(fake, settings, clock=clock) as bot:
        ids = await _world(bot, fake, server, x)
        clock.set(datetime(2027, 1, 15, 15, tzinfo=UTC))  # the first atelier is over
        needles = [X_NAME, "zephyrine", X_PROFILE["municipalite"], X_PROFILE["fonction"]]
        needles += X_PROFILE["expertise"]
        assert len(await _scan(bot, needles, x.user.id)) >= 8  # the scan does see X
        past_before = (await bot.services.ateliers.get(ids["past"])).counts

        asked = fake.slash("profil supprimer", user=x, channel=server.general, locale="fr")
        warning = await asked.response()
        assert warning.ephemeral and "C'est définitif" in warning.data["content"]
        cancelled = await fake.click(
            asked.message, "profil:supprimer:annuler", user=x, locale="fr"
        ).response()
        assert cancelled.data["content"] == "Rien n'a été effacé."
        assert await ProfilService(bot.sessions, bot.clock).get(guild.id, x.user.id) is not None

        again = fake.slash("profil supprimer", user=x, channel=server.general, locale="fr")
        await again.response()
        fake.click(again.message, "profil:supprimer:confirmer", user=x, locale="fr")
        await fake.wait_until(lambda: "C'est fait" in again.message.content)
        assert "1 atelier passé reste comptée" in again.message.content
        await settle(fake, bot)

        assert await _scan(bot, needles, x.user.id) == []
        past_after = (await bot.services.ateliers.get(ids["past"])).counts
        assert past_after == past_before
        future = (await bot.services.ateliers.get(ids["future"])).counts
        assert (future.inscrits, future.attente) == (1, 0)
        # Bob got the freed place and is told, as the ateliers cog tells any promotion.
        await fake.wait_until(
            lambda: any("place s'est libérée" in m.content for m in fake.dms(server.bob))
        )
        listing = fake.slash("annuaire", user=server.bob, channel=server.general, locale="fr")
        await listing.response()
        assert "Zéphyrine" not in str(listing.message.embeds)


def _pk(table_name: str, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in Base.metadata.tables[table_name].primary_key.columns)


async def _rows_about(bot: Any, user_id: int) -> dict[str, set[tuple[Any, ...]]]:
    """Independently of the privacy registry, from the schema: rows holding the user's Discord
    id (in any ``*user_id`` column), their member rows, and every row referring through foreign
    keys, transitively, to a member row or to a row hanging from one. (What hangs from an
    atelier they organized is other people's data.)"""
    async with bot.sessions() as s:
        rows = {
            t.name: [dict(r) for r in (await s.execute(select(t))).mappings()]
            for t in Base.metadata.sorted_tables
        }
    mine: dict[str, set[tuple[Any, ...]]] = {}
    chain: dict[str, set[tuple[Any, ...]]] = {
        "membre": {(r["id"],) for r in rows["membre"] if r["user_id"] == user_id}
    }
    changed = True
    while changed:
        changed = False
        for table in Base.metadata.sorted_tables:
            for row in rows[table.name]:
                key = _pk(table.name, row)
                if key in chain.get(table.name, set()) - mine.get(table.name, set()):
                    mine.setdefault(table.name, set()).add(key)
                    changed = True
                if key in chain.get(table.name, set()):
                    continue
                if any(
                    (row[c.name],) in chain.get(fk.column.table.name, set())
                    for c in table.columns
                    for fk in c.foreign_keys
                ):
                    chain.setdefault(table.name, set()).add(key)
                    mine.setdefault(table.name, set()).add(key)
                    changed = True
                elif any(
                    c.name.endswith("user_id") and row[c.name] == user_id for c in table.columns
                ):
                    mine.setdefault(table.name, set()).add(key)
    return mine


async def test_mes_donnees_returns_every_row_about_the_member(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    x = fake.add_member(guild, "zephyrine", nick=X_NAME)
    clock = ManualClock(START)
    async with partage(fake, settings, clock=clock) as bot:
        await _world(bot, fake, server, x)
        expected = await _rows_about(bot, x.user.id)
        assert {"membre", "profil", "profil_chantier", "inscription", "seance_reponse"} <= set(
            expected
        )
        assert {"conversation_proposal", "jumelage_participant", "jumelage_pair_membre"} <= set(
            expected
        )
        assert {"audit_log", "atelier"} <= set(expected)

        handle = fake.slash("mes-donnees", user=x, channel=server.general, locale="fr")
        (answer,) = await handle.wait_followups(1)
        assert answer.ephemeral
        assert "Voici tout ce que Partage conserve sur vous" in answer.content
        files = {a.filename.rsplit(".", 1)[1]: a.data for a in answer.attachments}
        assert set(files) == {"txt", "json", "zip"}
        exported = json.loads(files["json"].decode())
        assert exported["user_id"] == str(x.user.id)
        tables = exported["tables"]
        # Every table of the schema is either exported or declared free of personal data.
        assert unregistered_tables() == set()
        assert list(tables) == [e.table for e in member_tables()]
        for table, keys in expected.items():
            got = {_pk(table, row) for row in tables[table]}
            assert keys <= got, f"{table}: rows about the member missing from the export"
        assert tables["profil"][0]["municipalite"] == X_PROFILE["municipalite"]
        assert tables["membre"][0]["display_name"] == X_NAME

        document = files["txt"].decode("utf-8-sig")
        assert document.startswith("Vos données dans Partage")
        assert X_PROFILE["fonction"] in document and X_NAME in document
        with zipfile.ZipFile(io.BytesIO(files["zip"])) as sheets:
            names = sheets.namelist()
            profil = sheets.read("profil.csv").decode("utf-8-sig")
        assert "profil.csv" in names and "membre.csv" in names
        header, row = list(csv.reader(io.StringIO(profil), delimiter=";"))
        assert row[header.index("Fonction")] == X_PROFILE["fonction"]

        nobody = fake.add_member(guild, "nouvelle")
        await settle(fake, bot)
        empty = fake.slash("mes-donnees", user=nobody, channel=server.general, locale="fr")
        (none,) = await empty.wait_followups(1)
        assert "aucune donnée" in none.content
        assert len(none.attachments) == 3


async def test_welcome_then_departure_erased_after_the_grace_period(
    fake_discord: FakeDiscord, server: Server, settings
) -> None:
    fake, guild = fake_discord, server.guild
    clock = ManualClock(START)
    async with partage(fake, settings, clock=clock) as bot:
        newcomer = fake.add_member(guild, "nouveau")
        shy_user = fake.add_user("discrete")
        fake.close_dms(shy_user)
        shy = fake.add_member(guild, user=shy_user)
        await settle(fake, bot)
        await fake.wait_until(lambda: fake.dms(newcomer) and fake.channel_messages(server.general))
        (welcome,) = fake.dms(newcomer)
        assert welcome.content.startswith(
            "Bienvenue sur le serveur de l'Opération Partage, nouveau"
        )
        assert "/profil modifier" in welcome.content and "/chantiers" in welcome.content
        (public,) = fake.channel_messages(server.general)
        assert public.content.startswith(f"<@{shy.user.id}>")
        assert "Bienvenue" in public.content

        await give_profile(bot, guild, server.alice, municipalite="Laval")
        await give_profile(bot, guild, server.bob, municipalite="Alma")
        fake.remove_member(guild, server.alice)
        fake.remove_member(guild, server.bob)
        await settle(fake, bot)
        await _eventually(lambda: _departures(bot), 2)
        clock.advance(timedelta(days=10))
        fake.add_member(guild, user=server.bob.user)  # bob comes back: his erasure is cancelled
        await settle(fake, bot)
        await _eventually(lambda: _departures(bot), 1)

        clock.advance(timedelta(days=21))  # 31 days after they left
        await bot.get_cog("PrivacyCog").daily()
        profils = ProfilService(bot.sessions, bot.clock)
        assert await profils.get(guild.id, server.alice.user.id) is None
        assert await profils.get(guild.id, server.bob.user.id) is not None
        async with bot.sessions() as s:
            users = set((await s.execute(select(Membre.user_id))).scalars())
        assert server.alice.user.id not in users


async def _departures(bot: Any) -> int:
    async with bot.sessions() as s:
        return len((await s.execute(select(MembreDepart))).all())


async def _eventually(probe: Any, expected: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Listeners run as discord.py tasks: poll until ``await probe()`` gives ``expected``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) != expected:
        assert asyncio.get_running_loop().time() < deadline, fr(f"{value!r} != {expected!r}")
        await asyncio.sleep(0.02)
