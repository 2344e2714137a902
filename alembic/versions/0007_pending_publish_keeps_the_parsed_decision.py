"""A held preview keeps the parsed decision: Publish stores it without downloading or reading the file again

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:30:00
"""

import sqlalchemy as sa

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Previews held by the old code know only the file: the admin sends the file again (the button says so).
    op.execute("DELETE FROM pending_publish")
    with op.batch_alter_table('pending_publish', schema=None) as batch_op:
        batch_op.drop_column('file_id')
        batch_op.add_column(sa.Column('file_hash', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('parsed', sa.Text(), nullable=False))


def downgrade() -> None:
    op.execute("DELETE FROM pending_publish")
    with op.batch_alter_table('pending_publish', schema=None) as batch_op:
        batch_op.drop_column('parsed')
        batch_op.drop_column('file_hash')
        batch_op.add_column(sa.Column('file_id', sa.String(length=300), nullable=False))
