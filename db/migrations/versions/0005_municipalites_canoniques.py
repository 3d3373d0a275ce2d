"""municipalities saved before get their canonical name and key

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 04:35:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """« Ville de Sherbrooke » and « Sherbrooke », « Montreal » and « Montréal » become one
    municipality in the directory and the statistics: every saved name goes through the
    normalization of this version (``cogs.membres.noms``, as of revision 0005)."""
    from cogs.membres.noms import municipalite_cle, normalize_municipalite

    conn = op.get_bind()
    profil = sa.table(
        "profil",
        sa.column("id", sa.Integer),
        sa.column("municipalite", sa.String),
        sa.column("municipalite_cle", sa.String),
    )
    rows = conn.execute(
        sa.select(profil.c.id, profil.c.municipalite).where(profil.c.municipalite.is_not(None))
    ).all()
    for row_id, name in rows:
        conn.execute(
            profil.update()
            .where(profil.c.id == row_id)
            .values(
                municipalite=normalize_municipalite(name),
                municipalite_cle=municipalite_cle(name),
            )
        )


def downgrade() -> None:
    """Nothing to undo: the names stay canonical."""
