"""What a decision says about itself: its signer and the documents it is based on

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signer', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('signer_title', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('basis', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_column('basis')
        batch_op.drop_column('signer_title')
        batch_op.drop_column('signer')
