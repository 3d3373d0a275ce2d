"""Between the ateliers, end to end with the real bot on the fake Discord, time driven by the
bot's clock: a question mentions the matching personnes-ressources (not the asker, not one who
opted out, not one over the weekly cap), is bumped once after the delay with one more, is solved
and found by /faq; a document attached to an atelier is found by /referentiels typed without
accents; the « peut-être » nudge goes once, not to members with DM reminders off; after the
last séance the thread gets the poll and the « Je veux continuer » button, whose clickers are
gathered in a private thread with the organiser. Nothing pings anyone but the intended people."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.clock import ManualClock
from tests.e2e.harness import Server, partage, settings_for, settle
from tests.e2e.membres_world import give_profile, private_threads, submit
from tests.e2e.test_ateliers_support import GOUVERNANCE, create_atelier, text_of
from tests.fakediscord import ChannelType, FakeDiscord, Upload
from tests.fakediscord.models import Channel, Member, Message
from tests.french import fr

START = datetime(2030, 11, 20, 17, 0, tzinfo=UTC)  # before the séances of DATES


@pytest.fixture
def between_settings(fake_discord: FakeDiscord, server: Server, db_url: str) -> Any:
    return settings_for(fake_discord, server, db_url, questions={"bump_hours": 1, "weekly_cap": 1})


def _forum(fake: FakeDiscord, server: Server, slug: str = GOUVERNANCE) -> Channel:
    return next(
        c
        for c in fake.channels_in(server.guild, type=ChannelType.FORUM)
        if c.name == f"{slug}-questions"
    )


def _posts(fake: FakeDiscord, forum: Channel) -> list[Channel]:
    return [
        c
        for c in fake.channels_in(forum.guild_id, threads=True)
        if c.parent_id == forum.id and not c.deleted
    ]


def _pinged(message: Message) -> set[int]:
    """Who the message really pings (the fake applies allowed_mentions)."""
    assert not message.mention_everyone and not message.mention_role_ids
    return set(message.mention_user_ids)


async def _ask(
    fake: FakeDiscord,
    server: Server,
    who: Member,
    titre: str,
    texte: str,
    contexte: str = "",
    *,
    locale: str = "fr",
) -> str:
    opened = fake.slash(
        "question poser",
        user=who,
        channel=server.general,
        options={"chantier": GOUVERNANCE},
        locale="fr",
    )
    assert (await opened.response()).type == 9  # the form
    sent = submit(
        fake,
        opened,
        {"question:titre": titre, "question:texte": texte, "question:contexte": contexte},
        locale=locale,
    )
    return await text_of(sent)


async def _ressource(
    fake: FakeDiscord, server: Server, who: Member, participer: bool = True
) -> str:
    handle = fake.slash(
        "ressource",
        user=who,
        channel=server.general,
        options={"chantier": GOUVERNANCE, "participer": participer},
        locale="fr",
    )
    return await text_of(handle)


async def test_questions_routed_bumped_solved_and_found(
    fake_discord: FakeDiscord, server: Server, between_settings: Any
) -> None:
    fake, guild = fake_discord, server.guild
    people = {"alice": server.alice, "bob": server.bob}
    for name in ("claire", "denis", "emma", "felix", "gaelle", "harry"):
        people[name] = fake.add_member(guild, name)
    towns = {
        "alice": ("Montréal", ["francisation"]),
        "bob": ("Laval", ["politiques d'accueil"]),
        "claire": ("Gatineau", ["Accueil des réfugiés"]),
        "denis": ("Québec", ["accueil"]),
        "emma": ("Sherbrooke", ["ACCUEIL", "logement"]),
        "felix": ("Rimouski", ["logement"]),
        "gaelle": ("Saguenay", ["politique d’intégration et d’accueil"]),
        "harry": ("Trois-Rivières", ["accueil"]),
    }
    uid = {name: m.user.id for name, m in people.items()}
    clock = ManualClock(START)
    async with partage(fake, between_settings, clock=clock) as bot:
        for name, (town, expertise) in towns.items():
            await give_profile(
                bot, guild, people[name], municipalite=town, expertise=expertise, visible=False
            )
        for name in ("bob", "claire", "denis", "emma", "felix", "gaelle"):
            said = await _ressource(fake, server, people[name])
            assert "Vous êtes personne-ressource du chantier" in said
        ivan = fake.add_member(guild, "ivan")  # no profile: consent is asked first
        asked = fake.slash(
            "ressource",
            user=ivan,
            channel=server.general,
            options={"chantier": GOUVERNANCE, "participer": True},
            locale="fr",
        )
        consent = (await asked.response()).data["embeds"][0]
        assert consent["title"] == "Votre consentement"
        assert "expertise de votre profil" in consent["description"]
        left = await _ressource(fake, server, people["denis"], participer=False)
        assert "Vous n'êtes plus personne-ressource" in left
        forum = _forum(fake, server)

        # Q1, asked by bob (himself a match): claire, emma and gaelle, never bob, not denis
        # (opted out), not felix (no matching expertise), not harry (not a personne-ressource).
        answer = await _ask(
            fake,
            server,
            people["bob"],
            "Politique d'accueil : par où commencer ?",
            "Nous voulons une première politique d'accueil des personnes immigrantes.",
            "Ville de 400 000 habitants",
        )
        assert "Votre question est publiée" in answer
        assert fr("3 personnes-ressources sont mentionnées") in answer
        await settle(fake, bot)
        (q1,) = _posts(fake, forum)
        assert q1.name == "Politique d'accueil : par où commencer ?"
        opening = fake.channel_messages(q1)[0]
        assert _pinged(opening) == {uid["claire"], uid["emma"], uid["gaelle"]}
        assert "Ville de 400 000 habitants" in opening.content
        assert f"<@{uid['bob']}>" in opening.content  # named, not pinged
        tags = {int(t["id"]): t["name"] for t in fake.channel(forum.id).available_tags}
        assert [tags[t] for t in q1.applied_tags] == ["Ouverte"]

        # Q2, asked by alice: the weekly cap (1) keeps claire, emma and gaelle out; bob is free.
        await _ask(fake, server, people["alice"], "Accueil des familles", "Des pistes d'accueil ?")
        await settle(fake, bot)
        (q2,) = [t for t in _posts(fake, forum) if t.id != q1.id]
        names = {v: k for k, v in uid.items()}
        assert {names.get(u, u) for u in _pinged(fake.channel_messages(q2)[0])} == {"bob"}

        # harry joins; claire answers Q1 in its thread; an hour later only Q2 is bumped, once,
        # with harry as the one more personne-ressource.
        await _ressource(fake, server, people["harry"])
        fake.user_sends(q1, people["claire"], "Voici notre politique de 2024.")
        cog = bot.get_cog("QuestionsCog")
        clock.advance(timedelta(minutes=59))
        await cog.tick()
        await settle(fake, bot)
        assert len(fake.channel_messages(q2)) == 1
        clock.advance(timedelta(minutes=2))
        await cog.tick()
        await cog.tick()
        await settle(fake, bot)
        bumps = fake.channel_messages(q2)[1:]
        assert len(bumps) == 1
        assert "attend encore une réponse" in bumps[0].content
        assert _pinged(bumps[0]) == {uid["harry"]}
        assert [m.author.id for m in fake.channel_messages(q1)[1:]] == [uid["claire"]]  # answered

        # Solved by its asker (not by someone else); the FAQ finds it without accents.
        refused = fake.slash("question resolue", user=people["alice"], channel=q1, locale="fr")
        assert "Seule la personne qui a posé la question" in await text_of(refused)
        solved = fake.slash("question resolue", user=people["bob"], channel=q1, locale="fr")
        assert "Question marquée comme résolue" in await text_of(solved)
        await settle(fake, bot)
        tags = {int(t["id"]): t["name"] for t in fake.channel(forum.id).available_tags}
        assert [tags[t] for t in fake.channel(q1.id).applied_tags] == ["Résolue"]
        elsewhere = fake.slash(
            "question resolue", user=people["bob"], channel=server.general, locale="fr"
        )
        assert "dans le fil d'une question" in await text_of(elsewhere)

        faq = fake.slash(
            "faq",
            user=people["felix"],
            channel=server.general,
            options={"mot-cle": "POLITIQUES"},
            locale="fr",
        )
        found = await faq.wait_answer(timeout=10)
        assert found.ephemeral
        assert "Politique d'accueil : par où commencer ?" in found.content
        assert f"/channels/{guild.id}/{q1.id}" in found.content
        assert "Première réponse" in found.content and "Résolue" in found.content
        assert "Accueil des familles" not in found.content  # not solved
        nothing = fake.slash(
            "faq",
            user=people["felix"],
            channel=server.general,
            options={"mot-cle": "zythologie"},
            locale="fr",
        )
        assert "Aucune question résolue" in await text_of(nothing)

        # The weekly digest lists Q2 (no answer yet) and Q1 (solved this week), as links.
        await bot.services.rappels.set_digest_channel(guild.id, server.general.id)
        digest_id = await bot.get_cog("RemindersCog").post_digest(guild.id)
        (digest,) = [m for m in fake.channel_messages(server.general) if m.id == digest_id]
        fields = {f["name"]: f["value"] for f in digest.embeds[0].get("fields", [])}
        assert fields["Questions qui attendent une réponse"].endswith(f"/{guild.id}/{q2.id}")
        assert fields["Questions résolues cette semaine"].endswith(f"/{guild.id}/{q1.id}")
        assert _pinged(digest) == set()

        # Nothing in these flows pings anyone else.
        for thread in (q1, q2):
            for message in fake.channel_messages(thread):
                if message.author.id == fake.bot_user.id:
                    assert _pinged(message) <= {
                        uid["claire"],
                        uid["emma"],
                        uid["gaelle"],
                        uid["bob"],
                        uid["harry"],
                    }
        for handle in (refused, solved, faq, nothing):
            assert handle.message is not None and handle.message.mention_user_ids == []


async def test_documents_nudge_poll_and_gathering(
    fake_discord: FakeDiscord, server: Server, settings: Any
) -> None:
    fake, guild = fake_discord, server.guild
    clock = ManualClock(START)
    carole = fake.add_member(guild, "carole")
    async with partage(fake, settings, clock=clock) as bot:
        _, created = await create_atelier(fake, server, titre="Référentiel d'accueil")
        assert "Atelier" in created
        await settle(fake, bot)
        (atelier,) = await bot.services.ateliers.choices(guild.id, "", upcoming_only=True)
        info = await bot.services.ateliers.get(atelier.id)
        assert info.thread_id is not None
        thread = fake.channel(info.thread_id)

        # Documents: a link and a file, announced in the thread, found without accents.
        added = fake.slash(
            "atelier documents",
            user=server.staff,
            channel=server.general,
            options={
                "atelier": str(atelier.id),
                "titre": "Présentation — Établir une politique",
                "lien": "https://example.org/presentation.pdf",
            },
            locale="fr",
        )
        assert "ajouté à l'atelier" in await text_of(added)
        filed = fake.slash(
            "atelier documents",
            user=server.staff,
            channel=server.general,
            options={
                "atelier": str(atelier.id),
                "titre": "Synthèse des échanges",
                "fichier": Upload("synthese.pdf", b"%PDF-1.4 synthese", "application/pdf"),
            },
            locale="fr",
        )
        assert "ajouté à l'atelier" in await text_of(filed)
        refused = fake.slash(
            "atelier documents",
            user=server.alice,
            channel=server.general,
            options={"atelier": str(atelier.id), "titre": "X", "lien": "https://x.org"},
            locale="fr",
        )
        assert "Réservé à l'équipe d'animation et aux personnes qui coaniment" in await text_of(
            refused
        )
        await settle(fake, bot)
        posted = [m for m in fake.channel_messages(thread) if "Nouveau document" in m.content]
        assert len(posted) == 2
        assert "https://example.org/presentation.pdf" in posted[0].content
        assert [a.filename for a in posted[1].attachments] == ["synthese.pdf"]
        assert all(m.mention_user_ids == [] for m in posted)
        search = fake.slash(
            "referentiels",
            user=server.bob,
            channel=server.general,
            options={"mot-cle": "etablir politique", "chantier": GOUVERNANCE},
            locale="fr",
        )
        listed = await text_of(search)
        assert "Présentation — Établir une politique" in listed
        assert "https://example.org/presentation.pdf" in listed
        assert "Synthèse" not in listed
        every = await text_of(
            fake.slash(
                "referentiels", user=server.bob, channel=server.general, options={}, locale="fr"
            )
        )
        assert "Synthèse des échanges" in every and f"/{thread.id}/{posted[1].id}" in every
        assert fr("2 documents") in every

        # Five more links: two pages, turned with « Suivant ».
        for n in range(5):
            more = fake.slash(
                "atelier documents",
                user=server.staff,
                channel=server.general,
                options={
                    "atelier": str(atelier.id),
                    "titre": f"Diapositives {n}",
                    "lien": f"https://example.org/{n}.pdf",
                },
                locale="fr",
            )
            await text_of(more)
        paged = fake.slash(
            "referentiels", user=server.bob, channel=server.general, options={}, locale="fr"
        )
        page_one = await paged.wait_answer(timeout=10)
        assert fr("7 documents (page 1 sur 2)") in page_one.content
        assert "Diapositives 4" in page_one.content  # newest first
        assert "Présentation" not in page_one.content
        (row,) = page_one.components
        previous, following = row["components"]
        assert previous.get("disabled") and not following.get("disabled")
        turned = fake.click(page_one, following["custom_id"], user=server.bob, locale="fr")
        await turned.response()
        page_two = fake.messages[page_one.id]
        assert fr("(page 2 sur 2)") in page_two.content
        assert "Présentation — Établir une politique" in page_two.content

        # The « peut-être » nudge: alice (DM reminders on) once, bob (off) never.
        for member in (server.alice, server.bob):
            handle = fake.slash(
                "rsvp",
                user=member,
                channel=server.general,
                options={"atelier": str(atelier.id), "reponse": "peut-etre"},
                locale="fr",
            )
            await text_of(handle)
        await bot.services.rappels.set_dm_reminders(guild.id, server.alice.user.id, True)
        cog = bot.get_cog("QuestionsCog")
        first = info.seances[0].starts_at
        clock.set(first - timedelta(days=2, minutes=5))
        await cog.tick()
        await settle(fake, bot)
        assert not [m for m in fake.dms(server.alice) if "peut-être" in m.content]
        clock.set(first - timedelta(days=2) + timedelta(minutes=1))
        await cog.tick()
        await cog.tick()
        await settle(fake, bot)
        nudges = [m for m in fake.dms(server.alice) if fr("répondu « peut-être »") in m.content]
        assert len(nudges) == 1 and "Référentiel d'accueil" in nudges[0].content
        assert nudges[0].mention_user_ids == []
        assert not [m for m in fake.dms(server.bob) if "peut-être" in m.content]
        assert not any("peut-être" in m.content for m in fake.channel_messages(thread))

        # After the last séance: the poll and the button in the thread, once.
        last = info.seances[-1]
        clock.set((last.ends_at or last.starts_at) + timedelta(minutes=10))
        await cog.tick()
        await cog.tick()
        await settle(fake, bot)
        polls = [m for m in fake.channel_messages(thread) if m.poll is not None]
        assert len(polls) == 1
        poll = polls[0].poll
        assert poll["question"]["text"] == fr("Comment avez-vous trouvé l'atelier ?")
        assert len(poll["answers"]) == 4
        hours = (poll["expiry"] - datetime.now(UTC)).total_seconds() / 3600
        assert 47.5 < hours <= 48.0
        continuer = [
            m
            for m in fake.channel_messages(thread)
            if f"suivi:continuer:{atelier.id}" in m.custom_ids()
        ]
        assert len(continuer) == 1 and continuer[0].mention_user_ids == []

        # Votes are read back into /statistiques.
        fake.vote(polls[0], 1, server.alice)
        fake.vote(polls[0], 1, server.bob)
        fake.vote(polls[0], 3, carole)
        await cog.tick()
        stats = fake.slash("statistiques", user=server.staff, channel=server.general, locale="fr")
        shown = await stats.wait_answer(timeout=15)
        fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
        line = fields["Sondages après les ateliers"]
        assert "Référentiel d'accueil" in line and "(en cours)" in line
        assert fr("Excellent : 2") in line and fr("Moyen : 1") in line
        assert fr("Bien : 0") in line

        before = {t.id for t in private_threads(fake, guild)}
        first_click = fake.click(
            continuer[0], f"suivi:continuer:{atelier.id}", user=carole, locale="fr"
        )
        assert "fil de suivi" in await text_of(first_click)
        second_click = fake.click(
            continuer[0], f"suivi:continuer:{atelier.id}", user=server.bob, locale="en-GB"
        )
        assert "You are in the follow-up thread" in await text_of(second_click)
        await settle(fake, bot)
        (gathering,) = [t for t in private_threads(fake, guild) if t.id not in before]
        assert {carole.user.id, server.bob.user.id, server.staff.user.id} <= set(
            gathering.member_ids
        )
        assert server.alice.user.id not in gathering.member_ids
        for message in fake.channel_messages(gathering):
            assert _pinged(message) <= {carole.user.id, server.staff.user.id}

    # After a restart the button still works: alice joins the same thread, nobody is pinged,
    # and the follow-up is not posted again.
    async with partage(fake, settings, clock=clock) as bot:
        await bot.get_cog("QuestionsCog").tick()
        late = fake.click(
            continuer[0], f"suivi:continuer:{atelier.id}", user=server.alice, locale="fr"
        )
        assert f"<#{gathering.id}>" in await text_of(late)
        await settle(fake, bot)
        assert server.alice.user.id in fake.channel(gathering.id).member_ids
        assert [t for t in private_threads(fake, guild) if t.id not in before] == [gathering]
        joined = fake.channel_messages(gathering)[-1]
        assert "alice" in joined.content and _pinged(joined) == set()
        assert len([m for m in fake.channel_messages(thread) if m.poll is not None]) == 1


async def _advancing(
    clock: ManualClock,
    done: Any,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> None:
    """Move the bot's clock a second every tenth of a second until ``done()``: the outbox's
    retries (1 s, then 2 s of the bot's clock) come due while Discord is answered for real."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not done():
        assert loop.time() < end, "not delivered in time"
        clock.advance(timedelta(seconds=1))
        await asyncio.sleep(0.1)


async def test_a_question_and_a_nudge_held_up_by_discord_go_out_once(
    fake_discord: FakeDiscord, server: Server, between_settings: Any
) -> None:
    """Both are outbox rows: Discord failing (503s, which discord.py does not retry itself)
    delays them; the sender retries; each goes out once and pings only whom it should."""
    fake, guild = fake_discord, server.guild
    clock = ManualClock(START)
    async with partage(fake, between_settings, clock=clock) as bot:
        await give_profile(bot, guild, server.bob, municipalite="Laval", expertise=["logement"])
        assert "Vous êtes personne-ressource" in await _ressource(fake, server, server.bob)
        forum = _forum(fake, server)
        await settle(fake, bot)

        route = "/channels/{channel_id}/threads"
        rule = fake.fail_next("POST", route, status=503, times=5)
        asking = asyncio.create_task(
            _ask(fake, server, server.alice, "Logement abordable", "Des pistes de logement ?")
        )
        await _advancing(clock, asking.done)
        said = asking.result()
        # Five refusals take longer than the command waits: the member is told it will appear.
        assert fr("Discord ne l'a pas encore publiée") in said
        assert fr("« Gouvernance") in said or "forum du chantier" in said
        await _advancing(clock, lambda: len(_posts(fake, forum)) == 1)
        await asyncio.sleep(0.5)
        await settle(fake, bot)
        (post,) = _posts(fake, forum)
        assert post.name == "Logement abordable"
        assert rule.served == 5
        created = [c for c in fake.calls("POST", route) if c.path.endswith(f"/{forum.id}/threads")]
        assert [c.status for c in created if c.status >= 300] == [503] * 5
        assert len([c for c in created if c.status < 300]) == 1
        opening = fake.channel_messages(post)[0]
        assert _pinged(opening) == {server.bob.user.id}
        async with bot.sessions() as session:
            from sqlalchemy import select

            from db.models import OutboxMessage, Question

            assert await session.scalar(select(Question.thread_id)) == post.id
            assert (await session.execute(select(OutboxMessage))).scalars().all() == []

        # The « peut-être » nudge two days before a séance (days later: the unanswered question
        # is bumped at the same tick). Discord refuses two posts; each goes out once.
        await create_atelier(fake, server, titre="Logement social")
        await settle(fake, bot)
        (atelier,) = await bot.services.ateliers.choices(guild.id, "", upcoming_only=True)
        info = await bot.services.ateliers.get(atelier.id)
        rsvp = fake.slash(
            "rsvp",
            user=server.alice,
            channel=server.general,
            options={"atelier": str(atelier.id), "reponse": "peut-etre"},
            locale="fr",
        )
        await text_of(rsvp)
        await bot.services.rappels.set_dm_reminders(guild.id, server.alice.user.id, True)
        await settle(fake, bot)
        clock.set(info.seances[0].starts_at - timedelta(days=2) + timedelta(minutes=1))
        dm = await bot.create_dm(discord.Object(server.alice.user.id))
        dm_rule = fake.fail_next("POST", f"/channels/{dm.id}/messages", status=503, times=2)
        bump_rule = fake.fail_next("POST", f"/channels/{post.id}/messages", status=503, times=1)
        messages = "/channels/{channel_id}/messages"
        await bot.get_cog("QuestionsCog").tick()

        def nudges() -> list[Message]:
            return [m for m in fake.dms(server.alice) if fr("répondu « peut-être »") in m.content]

        def bumps() -> list[Message]:
            return fake.channel_messages(post)[1:]

        await _advancing(clock, lambda: len(nudges()) == 1 and len(bumps()) == 1)
        await bot.get_cog("QuestionsCog").tick()  # claimed once: not again
        await asyncio.sleep(1.0)
        await settle(fake, bot)
        assert len(nudges()) == 1 and nudges()[0].mention_user_ids == []
        assert len(bumps()) == 1 and "attend encore une réponse" in bumps()[0].content
        assert _pinged(bumps()[0]) == set()  # bob was asked already; nobody more to ask
        assert (dm_rule.served, bump_rule.served) == (2, 1)
        for sent, words, refusals in (
            (nudges()[0], "peut-être", 2),
            (bumps()[0], "attend encore", 1),
        ):
            tries = [
                c
                for c in fake.calls("POST", messages)
                if c.json and words in str(c.json.get("content"))
            ]
            assert [c.status for c in tries] == [503] * refusals + [200]
            assert {c.json["nonce"] for c in tries} == {sent.nonce}  # one nonce: never twice


async def test_a_british_member_asking_keeps_the_day_first_date_order(
    fake_discord: FakeDiscord, server: Server, between_settings: Any
) -> None:
    """Asking a question records the member's language as the other commands do: « en-GB »
    stays « en-GB » (later reminders write « 3 December »), it is not cut down to « en »."""
    from sqlalchemy import select

    from db.models import Membre

    fake = fake_discord
    async with partage(fake, between_settings) as bot:
        await settle(fake, bot)
        await _ask(
            fake, server, server.alice, "Logement", "Le logement des familles", locale="en-GB"
        )
        async with bot.sessions() as session:
            stored = await session.scalar(
                select(Membre.locale).where(Membre.user_id == server.alice.id)
            )
    assert stored == "en-GB"
