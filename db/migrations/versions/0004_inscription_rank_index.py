"""inscription index on (atelier_id, etat, rang_attente)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 03:30:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """An answer reads each state's count and the last rank of the waiting list from this index
    alone (the last rank: one lookup instead of reading every waiting row)."""
    op.drop_index("ix_inscription_atelier_etat", table_name="inscription")
    op.create_index(
        "ix_inscription_atelier_etat", "inscription", ["atelier_id", "etat", "rang_attente"]
    )


def downgrade() -> None:
    op.drop_index("ix_inscription_atelier_etat", table_name="inscription")
    op.create_index("ix_inscription_atelier_etat", "inscription", ["atelier_id", "etat"])
