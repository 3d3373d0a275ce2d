"""ateliers planning: series, answers' closing, scheduled publication, several announcements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """``atelier.serie_id`` (the id of the series' first atelier), ``cloture`` (answers close),
    ``publie_le`` (the announcement is due then); ``annonce``: further live announcements."""
    with op.batch_alter_table("atelier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("serie_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cloture", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("publie_le", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_atelier_serie_id"), ["serie_id"], unique=False)
    op.create_table(
        "annonce",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("atelier_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["atelier_id"],
            ["atelier.id"],
            name=op.f("fk_annonce_atelier_id_atelier"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annonce")),
        sa.UniqueConstraint(
            "atelier_id", "channel_id", name=op.f("uq_annonce_atelier_id_channel_id")
        ),
    )
    with op.batch_alter_table("annonce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_annonce_atelier_id"), ["atelier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("annonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_annonce_atelier_id"))
    op.drop_table("annonce")
    with op.batch_alter_table("atelier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_atelier_serie_id"))
        batch_op.drop_column("publie_le")
        batch_op.drop_column("cloture")
        batch_op.drop_column("serie_id")
