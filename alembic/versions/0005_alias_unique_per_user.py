"""Learned aliases: one row per (text, unit, user)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Repeated taps made duplicate rows: keep each user's latest pick of a unit for a text, then forbid more.
    op.execute(sa.text(
        "DELETE FROM alias WHERE user_id IS NOT NULL AND id NOT IN ("
        " SELECT max(id) FROM alias WHERE user_id IS NOT NULL GROUP BY text_key, unit_id, user_id)"
    ))
    with op.batch_alter_table('alias', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_alias_text_key'), ['text_key', 'unit_id', 'user_id'])


def downgrade() -> None:
    with op.batch_alter_table('alias', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_alias_text_key'), type_='unique')
