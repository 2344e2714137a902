"""Rankings of any kind: a group within a level, a score kind (percent, points out of a maximum, index, or ranks
only), sub-indices; a result's score kept with its printed digits, its tier optional and as printed

Existing rankings are whole-level percentage rankings: group '', score kind 'percent', no sub-indices; a result's
score is its percentage.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# dxcore.store.models.PrintedDecimal as stored: NUMERIC keeps a value's scale on PostgreSQL; SQLite keeps the text.
PRINTED_DECIMAL = sa.Numeric().with_variant(sa.String(length=32), 'sqlite')


RESULT_COLUMNS = "id, ranking_id, unit_id, position, rank, {score}, tier, printed_name"


def _keep_results() -> bool:
    """SQLite alters a table by copying it and dropping the old one, and dropping ``ranking`` deletes every result
    (ON DELETE CASCADE, with foreign keys on): the results are kept aside and put back."""
    if op.get_bind().dialect.name != 'sqlite':
        return False
    op.execute("DROP TABLE IF EXISTS _result_0008")
    op.execute("CREATE TABLE _result_0008 AS SELECT * FROM result")
    return True


def _put_back(score: str, source: str) -> None:
    op.execute(f"INSERT INTO result ({RESULT_COLUMNS.format(score=score)}) "
               f"SELECT {RESULT_COLUMNS.format(score=source)} FROM _result_0008")
    op.execute("DROP TABLE _result_0008")


def upgrade() -> None:
    kept = _keep_results()
    with op.batch_alter_table('ranking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('group_name', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('score_kind', sa.String(length=10), server_default='percent', nullable=True))
        batch_op.add_column(sa.Column('score_max', PRINTED_DECIMAL, nullable=True))
        batch_op.add_column(sa.Column('subscore_names', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('subscore_maxima', sa.JSON(), server_default='[]', nullable=False))
        batch_op.drop_constraint('uq_ranking_decision_id', type_='unique')
        batch_op.create_unique_constraint('uq_ranking_decision_id', ['decision_id', 'level', 'group_name'])
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.alter_column('percentage', new_column_name='score', existing_type=sa.Numeric(precision=6, scale=3),
                              type_=PRINTED_DECIMAL, existing_nullable=False, nullable=True)
        batch_op.alter_column('tier', existing_type=sa.String(length=20), nullable=True)
        batch_op.alter_column('rank', existing_type=sa.Integer(), nullable=True)  # "Không xếp hạng" rows
        batch_op.add_column(sa.Column('tier_printed', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('subscores', sa.JSON(), nullable=True))
    if kept:
        op.execute("DELETE FROM result")
        _put_back("score", "CAST(percentage AS TEXT)")


def downgrade() -> None:
    # Only rankings the old schema can hold go back: whole levels with percentages and tiers.
    op.execute("DELETE FROM ranking WHERE group_name <> '' OR score_kind IS NULL OR score_kind <> 'percent'")
    op.execute("DELETE FROM result WHERE score IS NULL OR tier IS NULL OR rank IS NULL")
    kept = _keep_results()
    with op.batch_alter_table('result', schema=None) as batch_op:
        batch_op.drop_column('subscores')
        batch_op.drop_column('tier_printed')
        batch_op.alter_column('tier', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('rank', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('score', new_column_name='percentage', existing_type=PRINTED_DECIMAL,
                              type_=sa.Numeric(precision=6, scale=3), existing_nullable=True, nullable=False)
    with op.batch_alter_table('ranking', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ranking_decision_id', type_='unique')
        batch_op.create_unique_constraint('uq_ranking_decision_id', ['decision_id', 'level'])
        batch_op.drop_column('subscore_maxima')
        batch_op.drop_column('subscore_names')
        batch_op.drop_column('score_max')
        batch_op.drop_column('score_kind')
        batch_op.drop_column('group_name')
    if kept:
        op.execute("DELETE FROM result")
        _put_back("percentage", "CAST(score AS REAL)")
