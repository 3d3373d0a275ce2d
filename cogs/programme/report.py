"""An import report as lines of text, in one language (the CLI and /programme importer)."""

from __future__ import annotations

from bot.i18n import Translations
from cogs.ateliers.calendar_checks import warning_lines
from cogs.programme.service import ImportReport, RowError, RowOutcome, Where


def where_text(tr: Translations, row: RowError | RowOutcome) -> str:
    if row.where == Where.LIGNE:
        return tr._("ligne {n}", n=row.line)
    if row.where == Where.CHANTIER:
        return tr._("chantier n° {n}", n=row.line)
    return tr._("atelier n° {n}", n=row.line)


def report_lines(tr: Translations, report: ImportReport) -> list[str]:
    """A summary line, one line per refused row with where it is and why, then the ateliers
    created but not announced and those on a holiday or overlapping another."""
    lines = [
        tr._(
            "{fichier} : {crees} créé(s), {ignores} déjà importé(s), {refuses} refusé(s).",
            fichier=report.fichier,
            crees=report.n_created,
            ignores=report.n_skipped,
            refuses=report.n_refused,
        )
    ]
    if report.chantiers_created:
        lines.append(tr._("Chantiers créés : {slugs}", slugs=", ".join(report.chantiers_created)))
    for row in report.refused:
        where = where_text(tr, row)
        erreur = tr.user_error(row.error)
        if row.titre:
            line = tr._(
                "- {ligne} « {titre} » : {erreur}", ligne=where, titre=row.titre, erreur=erreur
            )
        else:
            line = tr._("- {ligne} : {erreur}", ligne=where, erreur=erreur)
        lines.append(line)
    for done in report.unannounced:
        lines.append(
            tr._(
                "- {ligne} « {titre} » (n° {id}) : non annoncé (pas de chantier avec un salon) ; "
                "/atelier annoncer avec l'option salon",
                ligne=where_text(tr, done),
                titre=done.titre,
                id=done.atelier_id,
            )
        )
    for done, warnings in report.warnings:
        for text in warning_lines(tr, warnings):
            lines.append(
                tr._(
                    "- {ligne} « {titre} » (n° {id}) : {avertissement}",
                    ligne=where_text(tr, done),
                    titre=done.titre,
                    id=done.atelier_id,
                    avertissement=text,
                )
            )
    return lines
