"""SQLite: the view through which a newcomer's member row and inscription are one statement

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:40:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``db.models.ateliers.REPONSE_NOUVEAU_MEMBRE`` at this revision (a migration keeps its own
#: copy: the model may change later).
VIEW = (
    "CREATE VIEW reponse_nouveau_membre AS SELECT m.id AS membre_id, m.guild_id, m.user_id,"
    " m.display_name, m.locale, m.dm_reminders, m.created_at, i.atelier_id, i.etat,"
    " i.rang_attente, i.inscrit_at FROM membre AS m JOIN inscription AS i ON i.membre_id = m.id"
)
TRIGGER = (
    "CREATE TRIGGER reponse_nouveau_membre_insert INSTEAD OF INSERT ON reponse_nouveau_membre"
    " BEGIN"
    " INSERT INTO membre (id, guild_id, user_id, display_name, locale, dm_reminders, created_at)"
    " VALUES (NEW.membre_id, NEW.guild_id, NEW.user_id, NEW.display_name, NEW.locale,"
    " NEW.dm_reminders, NEW.created_at);"
    " INSERT INTO inscription (atelier_id, membre_id, etat, rang_attente, inscrit_at, created_at,"
    " updated_at) VALUES (NEW.atelier_id, NEW.membre_id, NEW.etat, NEW.rang_attente,"
    " NEW.inscrit_at, NEW.created_at, NEW.created_at);"
    " END"
)


def upgrade() -> None:
    """A newcomer's answer on SQLite: their member row and their inscription in one insert,
    into this view, whose trigger writes both (one trip to the database instead of two)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(VIEW)
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP VIEW IF EXISTS reponse_nouveau_membre")  # its trigger goes with it
