"""Attestations de participation: refused without attendance; the séances attended, the total
duration and the name as typed; the PDF in French and English with a font that has every
French character (checked on the PDF's text when poppler's pdftotext is installed)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.errors import Forbidden, InvalidInput
from bot.i18n import I18n
from cogs.ateliers.service import AtelierDraft
from cogs.attestations.pdf import attestation_pdf
from cogs.attestations.service import AttestationService
from cogs.presences.service import PresenceService
from db.models import AuditLog, Genre
from tests.cogs.helpers import GUILD, ateliers_service, seance, user

NAME = "Éloïse Bélanger-Côté"


@pytest.fixture
def attestations(sessions, clock: ManualClock) -> AttestationService:
    return AttestationService(sessions, clock)


async def _atelier_with_attendance(sessions, clock):
    info = await ateliers_service(sessions, clock).create(
        GUILD,
        AtelierDraft(
            titre="Territoire et immigration : l'accueil",
            seances=[seance(date(2026, 12, 3)), seance(date(2026, 12, 10), minutes=120)],
            genre=Genre.FORMATION,
        ),
    )
    presences = PresenceService(sessions, clock)
    for s in info.seances:
        await presences.add_walk_ins(GUILD, s.id, [(user(1), "alice")], actor_user_id=user(900))
    await presences.add_walk_ins(
        GUILD, info.seances[1].id, [(user(2), "bruno")], actor_user_id=user(900)
    )
    return info


def _text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(out.stdout.decode().replace("\u00a0", " ").replace("\u202f", " ").split())


async def test_no_attestation_without_attendance(sessions, clock, attestations) -> None:
    info = await _atelier_with_attendance(sessions, clock)
    with pytest.raises(Forbidden) as refused:
        await attestations.check(GUILD, info.id, user(3))
    assert "Aucune présence n'est notée pour vous" in refused.value.message_id
    assert await attestations.check(GUILD, info.id, user(2)) == info.titre
    with pytest.raises(InvalidInput):
        await attestations.issue(GUILD, info.id, user(1), "   ")


async def test_attestation_lists_the_seances_attended_and_the_total(
    sessions, clock, attestations
) -> None:
    info = await _atelier_with_attendance(sessions, clock)
    mine = await attestations.issue(GUILD, info.id, user(1), f"  {NAME} ")
    assert mine.nom == NAME and mine.seances_total == 2
    assert [a.seance.id for a in mine.seances] == [s.id for s in info.seances]
    assert mine.total_minutes == 90 + 120
    theirs = await attestations.issue(GUILD, info.id, user(2), "Bruno Tremblay")
    assert [a.seance.id for a in theirs.seances] == [info.seances[1].id]
    assert theirs.total_minutes == 120
    async with sessions() as s:
        issued = (
            (await s.execute(select(AuditLog).where(AuditLog.action == "attestation.issue")))
            .scalars()
            .all()
        )
    assert [(a.actor_user_id, a.details["seances"]) for a in issued] == [(user(1), 2), (user(2), 1)]

    i18n = I18n.load()
    pdf = attestation_pdf(i18n.for_locale("fr"), mine)
    assert pdf.startswith(b"%PDF") and b"DejaVuSans" in pdf
    text = _text(pdf)
    for expected in (
        "Opération Partage — GEDCIQ",
        "Attestation de participation",
        NAME,
        "a participé à 2 séances sur 2",
        "« Territoire et immigration : l'accueil »",
        "Formation",
        "jeudi 3 décembre 2026, de 13 h 30 à 15 h (1 h 30)",
        "jeudi 10 décembre 2026, de 13 h 30 à 15 h 30 (2 h)",
        "Durée totale : 3 h 30",
    ):
        assert expected in text, expected
    english = _text(attestation_pdf(i18n.for_locale("en"), theirs))
    for expected in (
        "Certificate of participation",
        "Bruno Tremblay",
        "attended 1 session of 2",
        "Thursday, December 10, 2026, 1:30 p.m. to 3:30 p.m. (2 h)",
        "Total duration: 2 h",
        "Opération Partage — GEDCIQ",
    ):
        assert expected in english, expected
