"""Between the ateliers, the rules: personnes-ressources and the routing of a question (expertise
by French stems, never the asker, not an opted-out member, the weekly cap, other municipalities
first, least recently asked first), the bump, resolution and the FAQ, the library, the
« peut-être » nudge and the follow-up after an atelier's last séance. Manual clock, no Discord."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.config import QuestionsConfig
from bot.errors import Forbidden, InvalidInput, NotFound
from cogs.ateliers.service import AtelierDraft
from cogs.chantiers.service import ChantierService
from cogs.inscriptions.service import InscriptionService
from cogs.membres.service import ConsentRequired, ProfilChanges, ProfilService
from cogs.privacy.service import PrivacyService
from cogs.questions.bibliotheque import PAGE_SIZE, BibliothequeService
from cogs.questions.mots import stems
from cogs.questions.service import QuestionService
from cogs.questions.suivi import SuiviService
from db.models import OutboxKind, OutboxMessage, Reponse
from db.outbox import OutboxStore
from tests.cogs.helpers import GUILD, ateliers_service, seance, set_dm_reminders, user

FORUM = 900_000_000_000_000_001
THREAD = 900_000_000_000_000_100


@pytest.fixture
def questions(sessions, clock: ManualClock) -> QuestionService:
    return QuestionService(sessions, clock, QuestionsConfig(bump_hours=48, weekly_cap=2))


@pytest.fixture
def profils(sessions, clock: ManualClock) -> ProfilService:
    return ProfilService(sessions, clock)


async def _chantier(sessions, clock, nom: str = "Accueil et intégration") -> str:
    chantiers = ChantierService(sessions, clock)
    info = await chantiers.create(GUILD, nom)
    await chantiers.set_discord_ids(info.id, forum_id=FORUM + info.id)
    return info.slug


async def _ressource(
    profils: ProfilService,
    questions: QuestionService,
    n: int,
    slug: str,
    town: str,
    expertise: list[str],
) -> int:
    await profils.give_consent(GUILD, user(n), display_name=f"Membre {n}")
    await profils.update(GUILD, user(n), ProfilChanges(municipalite=town, expertise=expertise))
    result = await questions.set_ressource(GUILD, user(n), slug, True)
    assert result.participe
    return user(n)


def test_stems_ignore_accents_case_and_inflection() -> None:
    assert stems("Politiques d'ACCUEIL des immigrants") == stems("politique accueil immigrant")
    assert stems("Intégration") == stems("integration")
    assert stems("le la les de des et pour") == []


async def test_opting_in_needs_a_profile_and_can_be_withdrawn(
    questions: QuestionService, profils: ProfilService, sessions, clock
) -> None:
    slug = await _chantier(sessions, clock)
    with pytest.raises(ConsentRequired):
        await questions.set_ressource(GUILD, user(1), slug, True)
    with pytest.raises(NotFound):
        await questions.set_ressource(GUILD, user(1), "inconnu", True)
    await _ressource(profils, questions, 1, slug, "Laval", ["logement"])
    again = await questions.set_ressource(GUILD, user(1), slug, True)  # twice: one row
    assert again.expertise == ("logement",)
    left = await questions.set_ressource(GUILD, user(1), slug, False)
    assert not left.participe
    await profils.give_consent(GUILD, user(2), display_name="Membre 2")
    post = await questions.ask(GUILD, user(2), slug, "Logement", "Le logement des familles ?")
    assert post.mention_user_ids == ()  # the one who matched has left


async def test_routing_matches_expertise_never_the_asker_and_other_towns_first(
    questions: QuestionService, profils: ProfilService, sessions, clock: ManualClock
) -> None:
    slug = await _chantier(sessions, clock)
    other = await _chantier(sessions, clock, "Gouvernance")
    rimouski = await _ressource(profils, questions, 1, slug, "Rimouski", ["politique d'accueil"])
    sherbrooke = await _ressource(
        profils, questions, 2, slug, "Sherbrooke", ["Politiques d’accueil", "francisation"]
    )
    laval = await _ressource(profils, questions, 3, slug, "Laval", ["accueil des réfugiés"])
    await _ressource(profils, questions, 4, slug, "Gatineau", ["logement"])  # no match
    await _ressource(profils, questions, 5, other, "Québec", ["accueil"])  # another chantier
    await _ressource(profils, questions, 6, slug, "Rimouski", ["ACCUEIL"])  # asker's town

    # Asked by member 1 (Rimouski): never themself; Rimouski's other member comes last.
    post = await questions.ask(
        GUILD,
        rimouski,
        slug,
        "Politique d'accueil",
        "Par où commencer une politique d'accueil des nouveaux arrivants ?",
        "Ville de 50 000 habitants",
    )
    assert rimouski not in post.mention_user_ids
    assert set(post.mention_user_ids) == {sherbrooke, laval, user(6)}
    assert post.mention_user_ids[-1] == user(6)  # same municipality as the asker: last
    assert post.forum_id is not None

    # The least recently asked come first: 2 and 3 were just asked, 6 as well; a new asker
    # from elsewhere gets them in order of their last mention (equal), then best match.
    await profils.give_consent(GUILD, user(7), display_name="Membre 7")
    clock.advance(timedelta(hours=1))
    second = await questions.ask(GUILD, user(7), slug, "Accueil", "Une question sur l'accueil")
    assert rimouski in second.mention_user_ids  # never asked yet: first
    assert second.mention_user_ids[0] == rimouski


async def test_a_member_who_left_the_server_is_not_asked(
    questions: QuestionService, profils: ProfilService, sessions, clock
) -> None:
    slug = await _chantier(sessions, clock)
    gone = await _ressource(profils, questions, 1, slug, "Laval", ["logement"])
    stays = await _ressource(profils, questions, 2, slug, "Laval", ["logement"])
    await PrivacyService(sessions, clock).member_left(GUILD, gone)
    post = await questions.ask(GUILD, user(3), slug, "Logement", "Logement social ?")
    assert post.mention_user_ids == (stays,)


async def test_weekly_cap(questions: QuestionService, profils: ProfilService, sessions, clock):
    slug = await _chantier(sessions, clock)
    expert = await _ressource(profils, questions, 1, slug, "Laval", ["logement"])
    await profils.give_consent(GUILD, user(2), display_name="Membre 2")
    for _ in range(2):  # weekly_cap = 2
        post = await questions.ask(GUILD, user(2), slug, "Logement", "Logement social ?")
        assert post.mention_user_ids == (expert,)
        clock.advance(timedelta(hours=1))
    third = await questions.ask(GUILD, user(2), slug, "Logement", "Encore le logement")
    assert third.mention_user_ids == ()
    clock.advance(timedelta(days=7))
    fourth = await questions.ask(GUILD, user(2), slug, "Logement", "Logement, une semaine après")
    assert fourth.mention_user_ids == (expert,)


async def test_a_question_refuses_mentions_and_needs_a_forum(
    questions: QuestionService, sessions, clock
) -> None:
    slug = await _chantier(sessions, clock)
    with pytest.raises(InvalidInput):
        await questions.ask(GUILD, user(1), slug, "Titre", "Bonjour @everyone")
    with pytest.raises(InvalidInput):
        await questions.ask(GUILD, user(1), slug, "Titre", "Voir <@123456789012345678>")
    chantiers = ChantierService(sessions, clock)
    bare = await chantiers.create(GUILD, "Sans forum")
    with pytest.raises(Exception, match="forum"):
        await questions.ask(GUILD, user(1), bare.slug, "Titre", "Texte")


async def test_bump_once_after_the_delay_with_one_more_personne_ressource(
    questions: QuestionService, profils: ProfilService, sessions, clock: ManualClock
) -> None:
    slug = await _chantier(sessions, clock)
    experts = [
        await _ressource(profils, questions, n, slug, f"Ville {n}", ["logement"])
        for n in (1, 2, 3, 4)
    ]
    await profils.give_consent(GUILD, user(9), display_name="Membre 9")
    post = await questions.ask(GUILD, user(9), slug, "Logement", "Logement abordable ?")
    assert len(post.mention_user_ids) == 3
    await questions.set_thread(post.question_id, THREAD)
    clock.advance(timedelta(hours=47))
    assert await questions.due_bumps() == []
    clock.advance(timedelta(hours=1))
    (due,) = await questions.due_bumps()
    assert (due.question_id, due.thread_id, due.asker_user_id) == (
        post.question_id,
        THREAD,
        user(9),
    )
    plan = await questions.claim_bump(post.question_id)
    assert plan is not None and plan.thread_id == THREAD
    (extra,) = set(experts) - set(post.mention_user_ids)
    assert plan.extra_user_id == extra
    assert await questions.claim_bump(post.question_id) is None  # once
    assert await questions.due_bumps() == []


async def test_a_question_never_posted_is_dropped_and_frees_the_cap(
    questions: QuestionService, profils: ProfilService, sessions, clock: ManualClock
) -> None:
    slug = await _chantier(sessions, clock)
    expert = await _ressource(profils, questions, 1, slug, "Laval", ["logement"])
    lost = await questions.ask(GUILD, user(2), slug, "Logement", "Logement ?")  # never posted
    posted = await questions.ask(GUILD, user(2), slug, "Logement", "Logement social ?")
    assert lost.mention_user_ids == (expert,) and posted.mention_user_ids == (expert,)
    await questions.set_thread(posted.question_id, THREAD)
    clock.advance(timedelta(minutes=14))
    assert await questions.drop_unposted() == 0
    blocked = await questions.ask(GUILD, user(3), slug, "Logement", "Toujours ?")
    assert blocked.mention_user_ids == ()  # weekly cap 2 reached
    await questions.set_thread(blocked.question_id, THREAD + 1)
    clock.advance(timedelta(minutes=2))
    assert await questions.drop_unposted() == 0  # its post still waits in the outbox
    store = OutboxStore(sessions, "test")
    (row,) = [
        r
        for r in await store.due(clock.now())
        if r.kind == OutboxKind.QUESTION and r.topic == f"question:{lost.question_id}"
    ]
    item = await store.claim(row.id, clock.now())
    assert item is not None
    await store.failed(item, clock.now(), "403 50013: Missing Permissions", permanent=True)
    assert await questions.drop_unposted() == 1  # the lost one only
    again = await questions.ask(GUILD, user(3), slug, "Logement", "Encore ?")
    assert again.mention_user_ids == (expert,)  # its mention no longer counts


async def test_an_answered_question_is_not_bumped(
    questions: QuestionService, sessions, clock: ManualClock
) -> None:
    slug = await _chantier(sessions, clock)
    post = await questions.ask(GUILD, user(9), slug, "Logement", "Logement abordable ?")
    await questions.set_thread(post.question_id, THREAD)
    clock.advance(timedelta(hours=49))
    await questions.mark_answered(post.question_id)
    assert await questions.due_bumps() == []
    assert await questions.claim_bump(post.question_id) is None


async def test_resolve_by_the_asker_or_staff_then_the_faq_finds_it(
    questions: QuestionService, sessions, clock: ManualClock
) -> None:
    slug = await _chantier(sessions, clock)
    post = await questions.ask(
        GUILD, user(1), slug, "Politique d'intégration", "Comment évaluer une politique ?"
    )
    await questions.set_thread(post.question_id, THREAD)
    other = await questions.ask(GUILD, user(1), slug, "Francisation", "Cours du soir ?")
    await questions.set_thread(other.question_id, THREAD + 1)
    with pytest.raises(NotFound):
        await questions.resolve(GUILD, THREAD + 99, user(1), staff=False)
    with pytest.raises(Forbidden):
        await questions.resolve(GUILD, THREAD, user(2), staff=False)
    assert (await questions.faq(GUILD, "integration")).total == 0  # not solved yet
    resolved = await questions.resolve(GUILD, THREAD, user(1), staff=False)
    assert not resolved.already and resolved.forum_id == post.forum_id
    assert (await questions.resolve(GUILD, THREAD, user(2), staff=True)).already
    await questions.resolve(GUILD, THREAD + 1, user(2), staff=True)

    found = await questions.faq(GUILD, "INTEGRATION")  # no accent, capitals
    assert [i.thread_id for i in found.items] == [THREAD]
    assert (await questions.faq(GUILD, "politiques")).total == 1  # another form of the word
    assert (await questions.faq(GUILD, "logement")).total == 0
    with pytest.raises(InvalidInput):
        await questions.faq(GUILD, "de")
    digest = await questions.digest(GUILD, clock.now() - timedelta(days=7))
    assert digest.unanswered == () and set(digest.solved) == {THREAD, THREAD + 1}


async def test_faq_pages(questions: QuestionService, sessions, clock: ManualClock) -> None:
    slug = await _chantier(sessions, clock)
    for n in range(7):
        post = await questions.ask(GUILD, user(1), slug, f"Logement {n}", "Logement")
        await questions.set_thread(post.question_id, THREAD + n)
        await questions.resolve(GUILD, THREAD + n, user(1), staff=False)
        clock.advance(timedelta(minutes=1))
    first = await questions.faq(GUILD, "logement")
    assert (first.total, first.pages, len(first.items)) == (7, 2, 5)
    assert first.items[0].thread_id == THREAD + 6  # newest first
    last = await questions.faq(GUILD, "logement", page=9)
    assert (last.page, len(last.items)) == (1, 2)


async def test_library_search_ignores_accents_and_filters_by_chantier(
    sessions, clock: ManualClock
) -> None:
    chantiers = ChantierService(sessions, clock)
    accueil = await chantiers.create(GUILD, "Accueil")
    gouvernance = await chantiers.create(GUILD, "Gouvernance")
    ateliers = ateliers_service(sessions, clock)
    a = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Référentiel d'accueil",
            seances=[seance(date(2026, 12, 3))],
            chantier_id=accueil.id,
        ),
    )
    b = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Gouvernance", seances=[seance(date(2026, 12, 4))], chantier_id=gouvernance.id
        ),
    )
    library = BibliothequeService(sessions, clock)
    doc = await library.add(
        GUILD, a.id, "Présentation — Établir une politique", url="https://example.org/p.pdf"
    )
    await library.add(GUILD, b.id, "Diaporama", filename="gouvernance.pdf", by_user_id=user(1))
    with pytest.raises(InvalidInput):
        await library.add(GUILD, a.id, "Deux", url="https://x.org", filename="x.pdf")
    with pytest.raises(InvalidInput):
        await library.add(GUILD, a.id, "Pas un lien", url="javascript:alert(1)")
    with pytest.raises(InvalidInput):
        await library.add(GUILD, a.id, "Titre @everyone", url="https://x.org")
    assert [d.titre for d in await library.of_atelier(a.id)] == [doc.titre]  # the web page
    found = await library.search(GUILD, "etablir referentiel")  # title + atelier, no accents
    assert [d.id for d in found.items] == [doc.id]
    assert (await library.search(GUILD, None, accueil.slug)).total == 1
    assert (await library.search(GUILD, "diaporama", accueil.slug)).total == 0
    assert (await library.search(GUILD)).total == 2
    assert (await library.search(GUILD, "%")).total == 0  # a word, not a LIKE pattern
    assert (await library.search(GUILD, "_")).total == 0
    with pytest.raises(NotFound):
        await library.search(GUILD, None, "inconnu")
    # Pages are cut in the database: the page past the last is the last.
    for n in range(PAGE_SIZE + 2):
        await library.add(GUILD, b.id, f"Compte rendu {n}", url=f"https://example.org/{n}")
    last = await library.search(GUILD, "compte rendu", page=9)
    assert (last.total, last.page, len(last.items)) == (PAGE_SIZE + 2, 1, 2)
    assert [d.titre for d in last.items] == ["Compte rendu 1", "Compte rendu 0"]  # newest first


async def test_nudge_goes_once_to_peut_etre_members_with_dm_reminders_on(
    sessions, clock: ManualClock
) -> None:
    ateliers = ateliers_service(sessions, clock)
    rsvp = InscriptionService(sessions, clock)
    start = clock.now() + timedelta(days=5)
    atelier = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Territoire",
            seances=[seance(start.date()), seance(start.date() + timedelta(days=7))],
        ),
    )
    first = atelier.seances[0]
    for n, reponse in ((1, Reponse.PEUT_ETRE), (2, Reponse.PEUT_ETRE), (3, Reponse.OUI)):
        await rsvp.answer(GUILD, atelier.id, user(n), reponse, display_name=f"Membre {n}")
    for n in (1, 3):
        await set_dm_reminders(sessions, clock, GUILD, user(n), True)
    # Member 4 said « oui » to the atelier but « peut-être » to the first séance.
    await rsvp.answer(GUILD, atelier.id, user(4), Reponse.OUI)
    await rsvp.answer(GUILD, atelier.id, user(4), Reponse.PEUT_ETRE, seance_id=first.id)
    await set_dm_reminders(sessions, clock, GUILD, user(4), True)

    suivi = SuiviService(sessions, clock)
    assert await suivi.due_nudges() == []  # five days ahead: not yet
    clock.set(first.starts_at - timedelta(days=2, minutes=1))
    assert await suivi.due_nudges() == []
    clock.advance(timedelta(minutes=2))  # two days before the séance
    due = await suivi.due_nudges()
    assert sorted((d.user_id, d.seance_id) for d in due) == [
        (user(1), first.id),
        (user(4), first.id),
    ]  # not 2 (DM reminders off), not 3 (« oui »)
    for d in due:
        assert await suivi.claim_nudge(d.seance_id, d.membre_id)
        assert not await suivi.claim_nudge(d.seance_id, d.membre_id)
    assert await suivi.due_nudges() == []


async def test_followup_after_the_last_seance_once(sessions, clock: ManualClock) -> None:
    ateliers = ateliers_service(sessions, clock)
    start = clock.now() + timedelta(days=1)
    atelier = await ateliers.create(
        GUILD,
        AtelierDraft(
            titre="Territoire",
            seances=[seance(start.date()), seance(start.date() + timedelta(days=7))],
            organizer_user_id=user(1),
        ),
    )
    await ateliers.set_announcement(atelier.id, channel_id=1, message_id=2, thread_id=THREAD)
    suivi = SuiviService(sessions, clock)
    clock.advance(timedelta(days=2))  # after the first séance only
    assert await suivi.due_followups() == []
    clock.advance(timedelta(days=7))
    (due,) = await suivi.due_followups()
    assert (due.atelier_id, due.thread_id, due.organizer_user_id) == (atelier.id, THREAD, user(1))
    assert await suivi.claim_followup(atelier.id)
    assert not await suivi.claim_followup(atelier.id)
    assert await suivi.due_followups() == []
    await suivi.set_poll(atelier.id, THREAD, 555)
    assert [(p.atelier_id, p.channel_id, p.message_id) for p in await suivi.polls_to_read()] == [
        (atelier.id, THREAD, 555)
    ]
    gathering = await suivi.gathering(atelier.id, GUILD)
    assert gathering.gathering_thread_id is None
    assert await suivi.set_gathering_thread(atelier.id, 777)
    assert not await suivi.set_gathering_thread(atelier.id, 778)
    await suivi.set_results(atelier.id, {"Excellent": 3, "Bien": 1}, final=False)
    assert len(await suivi.polls_to_read()) == 1  # read again until it closes
    clock.advance(timedelta(days=10))  # unread for long after it closed: no longer read
    assert await suivi.polls_to_read() == []
    clock.advance(timedelta(days=-10))
    await suivi.set_results(atelier.id, {"Excellent": 4, "Bien": 1}, final=True)
    assert await suivi.polls_to_read() == []
    (result,) = await suivi.results(GUILD)
    assert (result.titre, result.counts, result.final) == (
        "Territoire",
        {"Excellent": 4, "Bien": 1},
        True,
    )


async def test_no_followup_for_ateliers_long_past(sessions, clock: ManualClock) -> None:
    ateliers = ateliers_service(sessions, clock)
    atelier = await ateliers.create(
        GUILD,
        AtelierDraft(titre="Vieux", seances=[seance((clock.now() + timedelta(days=1)).date())]),
    )
    await ateliers.set_announcement(atelier.id, channel_id=1, message_id=2, thread_id=THREAD)
    clock.advance(timedelta(days=30))
    assert await SuiviService(sessions, clock).due_followups() == []


async def _outbox(sessions, kind: OutboxKind) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return list(rows.scalars())


async def test_the_question_its_bump_nudge_and_followup_are_outbox_rows(
    questions: QuestionService, profils: ProfilService, sessions, clock: ManualClock
) -> None:
    """STYLE.md rule 7: each message is written with its change (the question with its post,
    each claim with its message), once."""
    slug = await _chantier(sessions, clock)
    experts = [
        await _ressource(profils, questions, n, slug, f"Ville {n}", ["logement"])
        for n in (1, 2, 3, 4)
    ]
    post = await questions.ask(GUILD, user(9), slug, "Logement", "Logement abordable ?", "Laval")
    (row,) = await _outbox(sessions, OutboxKind.QUESTION)
    assert row.topic == f"question:{post.question_id}" and row.user_id == user(9)
    assert await questions.who_of(post.question_id) == (user(9), list(post.mention_user_ids))
    assert not {"mention_user_ids", "asker_user_id"} & set(row.payload)  # read at delivery
    assert (row.payload["titre"], row.payload["contexte"]) == ("Logement", "Laval")
    assert await questions.thread_of(post.question_id) is None
    await questions.set_thread(post.question_id, THREAD)
    assert await questions.thread_of(post.question_id) == THREAD
    assert await questions.thread_recorded(THREAD) and not await questions.thread_recorded(1)

    clock.advance(timedelta(hours=48))
    plan = await questions.claim_bump(post.question_id)
    assert plan is not None and await questions.claim_bump(post.question_id) is None
    (bump,) = await _outbox(sessions, OutboxKind.BUMP)
    (extra,) = set(experts) - set(post.mention_user_ids)
    assert bump.payload["extra_user_id"] == extra and bump.payload["thread_id"] == THREAD

    ateliers = ateliers_service(sessions, clock)
    start = clock.now() + timedelta(days=1)
    atelier = await ateliers.create(
        GUILD, AtelierDraft(titre="Territoire", seances=[seance(start.date())])
    )
    await ateliers.set_announcement(atelier.id, channel_id=1, message_id=2, thread_id=THREAD)
    rsvp = InscriptionService(sessions, clock)
    await rsvp.answer(GUILD, atelier.id, user(1), Reponse.PEUT_ETRE)
    await set_dm_reminders(sessions, clock, GUILD, user(1), True)
    suivi = SuiviService(sessions, clock)
    (due,) = await suivi.due_nudges()
    assert await suivi.claim_nudge(due.seance_id, due.membre_id)
    assert not await suivi.claim_nudge(due.seance_id, due.membre_id)
    (nudge,) = await _outbox(sessions, OutboxKind.NUDGE)
    assert nudge.user_id == user(1) and nudge.payload["titre"] == "Territoire"
    assert nudge.expires_at <= due.starts_at  # a nudge after the séance began is no use

    clock.advance(timedelta(days=2))
    assert [f.atelier_id for f in await suivi.due_followups()] == [atelier.id]
    assert await suivi.claim_followup(atelier.id)
    assert not await suivi.claim_followup(atelier.id)
    parts = await _outbox(sessions, OutboxKind.FOLLOWUP)
    assert [p.payload["part"] for p in parts] == ["poll", "continuer"]
    assert {p.payload["thread_id"] for p in parts} == {THREAD}
