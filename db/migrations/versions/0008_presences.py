"""attendance (presence), co-hosts (coanimateur), offers (inscription.offre_expire_le)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 20:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Who came to each séance, the co-hosts of each atelier, and the deadline of a place
    offered from the waiting list (reviewed by hand)."""
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("seance_id", sa.Integer(), nullable=False),
        sa.Column("membre_id", sa.Integer(), nullable=False),
        sa.Column("inscrit", sa.Boolean(), nullable=False),
        sa.Column("marked_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["membre_id"],
            ["membre.id"],
            name=op.f("fk_presence_membre_id_membre"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["seance_id"],
            ["seance.id"],
            name=op.f("fk_presence_seance_id_seance"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence")),
        sa.UniqueConstraint("seance_id", "membre_id", name=op.f("uq_presence_seance_id_membre_id")),
    )
    op.create_index(op.f("ix_presence_guild_id"), "presence", ["guild_id"], unique=False)
    op.create_index(op.f("ix_presence_membre_id"), "presence", ["membre_id"], unique=False)
    op.create_table(
        "coanimateur",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("atelier_id", sa.Integer(), nullable=False),
        sa.Column("membre_id", sa.Integer(), nullable=False),
        sa.Column("added_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["atelier_id"],
            ["atelier.id"],
            name=op.f("fk_coanimateur_atelier_id_atelier"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["membre_id"],
            ["membre.id"],
            name=op.f("fk_coanimateur_membre_id_membre"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coanimateur")),
        sa.UniqueConstraint(
            "atelier_id", "membre_id", name=op.f("uq_coanimateur_atelier_id_membre_id")
        ),
    )
    op.create_index(op.f("ix_coanimateur_guild_id"), "coanimateur", ["guild_id"], unique=False)
    op.create_index(op.f("ix_coanimateur_membre_id"), "coanimateur", ["membre_id"], unique=False)
    with op.batch_alter_table("inscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offre_expire_le", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_inscription_offre_expire_le"), ["offre_expire_le"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inscription_offre_expire_le"))
        batch_op.drop_column("offre_expire_le")
    op.drop_index(op.f("ix_coanimateur_membre_id"), table_name="coanimateur")
    op.drop_index(op.f("ix_coanimateur_guild_id"), table_name="coanimateur")
    op.drop_table("coanimateur")
    op.drop_index(op.f("ix_presence_membre_id"), table_name="presence")
    op.drop_index(op.f("ix_presence_guild_id"), table_name="presence")
    op.drop_table("presence")
