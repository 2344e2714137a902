"""Unit identity expands abbreviations: a unit's name key is unit_key(name), so that "BQL X" and "Ban Quản lý X"
(or "Văn phòng UBND X" and "Văn phòng Ủy ban nhân dân X") printed by two decisions are one unit

Units of one issuer and level that now share a key are merged into the oldest (lowest id; ids are stable once
created): its display name becomes the printing of the newest decision that ranks any of them; their results,
aliases and subscriptions move to it (duplicates dropped), and the others are deleted. Two units ranked in the same
ranking are two units whatever their names say: such a pair is not merged, and the later keeps its old key.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from alembic import op
from dxcore.understanding.text import name_key
from dxcore.understanding.vocabulary import unit_key

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

log = logging.getLogger("dxcore.store.migrations")

CHUNK = 500  # ids per IN list and rows per executemany: SQLite limits bound parameters

unit = sa.table('unit', sa.column('id', sa.Integer), sa.column('issuer', sa.String), sa.column('level', sa.String),
                sa.column('name_key', sa.String), sa.column('name', sa.String))
result = sa.table('result', sa.column('id', sa.Integer), sa.column('ranking_id', sa.Integer),
                  sa.column('unit_id', sa.Integer), sa.column('printed_name', sa.String))
ranking = sa.table('ranking', sa.column('id', sa.Integer), sa.column('decision_id', sa.Integer))
decision = sa.table('decision', sa.column('id', sa.Integer), sa.column('evaluated_year', sa.Integer),
                    sa.column('signed_date', sa.Date))
alias = sa.table('alias', sa.column('id', sa.Integer), sa.column('text_key', sa.String),
                 sa.column('unit_id', sa.Integer), sa.column('user_id', sa.BigInteger))
subscription = sa.table('subscription', sa.column('id', sa.Integer), sa.column('chat_id', sa.BigInteger),
                        sa.column('thread_id', sa.BigInteger), sa.column('scope', sa.String),
                        sa.column('level', sa.String), sa.column('unit_id', sa.Integer))


def _chunks(items: Iterable) -> Iterator[list]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _rows_of(conn: sa.Connection, query: sa.Select, column: sa.ColumnElement, ids: Iterable[int]) -> list:
    return [row for part in _chunks(sorted(ids)) for row in conn.execute(query.where(column.in_(part)))]


def _execute_many(conn: sa.Connection, statement: sa.Executable, rows: list[dict]) -> None:
    for part in _chunks(rows):
        conn.execute(statement, part)


def _settle(keys: dict[int, str], old: dict[int, str], place: dict[int, tuple[str, str]]) -> None:
    """Where two units of one place would end with one key, the one whose key changed keeps its old key (old keys
    are unique): repeated until none collide."""
    while True:
        holders: dict[tuple, list[int]] = defaultdict(list)
        for unit_id, key in keys.items():
            holders[(*place[unit_id], key)].append(unit_id)
        moved = [u for ids in holders.values() if len(ids) > 1 for u in ids if keys[u] != old[u]]
        if not moved:
            return
        for unit_id in moved:
            log.warning("unit %s keeps its key %r: %r is another unit's", unit_id, old[unit_id], keys[unit_id])
            keys[unit_id] = old[unit_id]


def _write_keys(conn: sa.Connection, keys: dict[int, str], old: dict[int, str]) -> None:
    """Two passes through keys no unit holds, so that no update meets a key another one gives up later."""
    changed = {unit_id: key for unit_id, key in keys.items() if key != old[unit_id]}
    statement = sa.update(unit).where(unit.c.id == sa.bindparam('uid')).values(name_key=sa.bindparam('new_key'))
    _execute_many(conn, statement, [{'uid': u, 'new_key': f'#0009:{u}'} for u in changed])
    _execute_many(conn, statement, [{'uid': u, 'new_key': k} for u, k in changed.items()])


def _repoint(conn: sa.Connection, table: sa.TableClause, into: dict[int, int], unique: tuple[str, ...] = (),
             keep_latest: bool = False) -> None:
    """Move ``table``'s rows from merged units to their survivor, first dropping those that would then repeat
    another by the columns of its ``unique`` constraint with unit_id (NULLs counted equal; the earliest row is kept,
    or the latest)."""
    if unique:
        columns = [table.c.id, table.c.unit_id, *(table.c[name] for name in unique)]
        rows = _rows_of(conn, sa.select(*columns), table.c.unit_id, set(into) | set(into.values()))
        kept: set[tuple] = set()
        dropped = []
        for row_id, unit_id, *rest in sorted(rows, reverse=keep_latest):
            same = (into.get(unit_id, unit_id), *rest)
            if same in kept:
                dropped.append(row_id)
            kept.add(same)
        for part in _chunks(dropped):
            conn.execute(sa.delete(table).where(table.c.id.in_(part)))
    _execute_many(conn, sa.update(table).where(table.c.unit_id == sa.bindparam('merged'))
                  .values(unit_id=sa.bindparam('survivor')),
                  [{'merged': merged, 'survivor': survivor} for merged, survivor in into.items()])


def _newest_printing(conn: sa.Connection, into: dict[int, int]) -> dict[int, str]:
    """Each survivor's name as printed by the newest decision that ranks it or a unit merged into it."""
    survivors = set(into.values())
    query = (sa.select(result.c.unit_id, decision.c.evaluated_year, decision.c.signed_date, decision.c.id,
                       result.c.printed_name)
             .join(ranking, ranking.c.id == result.c.ranking_id).join(decision, decision.c.id == ranking.c.decision_id))
    newest: dict[int, tuple] = {}
    for unit_id, *when, printed in _rows_of(conn, query, result.c.unit_id, set(into) | survivors):
        survivor = into.get(unit_id, unit_id)
        if survivor not in newest or tuple(when) > newest[survivor][0]:
            newest[survivor] = (tuple(when), printed)
    return {survivor: printed for survivor, (_, printed) in newest.items()}


def upgrade() -> None:
    conn = op.get_bind()
    units = conn.execute(sa.select(unit.c.id, unit.c.issuer, unit.c.level, unit.c.name_key, unit.c.name)
                         .order_by(unit.c.id)).all()
    old = {u.id: u.name_key for u in units}
    place = {u.id: (u.issuer, u.level) for u in units}
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for u in units:
        groups[(u.issuer, u.level, unit_key(u.name))].append(u.id)
    shared = [u for ids in groups.values() if len(ids) > 1 for u in ids]
    rankings: dict[int, set[int]] = defaultdict(set)
    for unit_id, ranking_id in _rows_of(conn, sa.select(result.c.unit_id, result.c.ranking_id), result.c.unit_id,
                                        shared):
        rankings[unit_id].add(ranking_id)

    keys: dict[int, str] = {}
    into: dict[int, int] = {}  # merged unit → the unit it is merged into
    for (_, _, key), (survivor, *others) in groups.items():
        keys[survivor] = key
        ranked = set(rankings[survivor])
        for other in others:
            if ranked & rankings[other]:
                log.warning("units %s and %s are ranked in one ranking: not merged, %s keeps its key %r",
                            survivor, other, other, old[other])
                keys[other] = old[other]
            else:
                into[other] = survivor
                ranked |= rankings[other]
    _settle(keys, old, place)

    if into:
        _repoint(conn, result, into)  # no ranking has two of them: checked above
        _repoint(conn, alias, into, ('text_key', 'user_id'), keep_latest=True)  # a user's latest pick, as 0005
        _repoint(conn, subscription, into, ('chat_id', 'thread_id', 'scope', 'level'))  # the first made
        names = _newest_printing(conn, into)
        for part in _chunks(into):
            conn.execute(sa.delete(unit).where(unit.c.id.in_(part)))
        _execute_many(conn, sa.update(unit).where(unit.c.id == sa.bindparam('uid')).values(name=sa.bindparam('new')),
                      [{'uid': survivor, 'new': name} for survivor, name in names.items()])
        log.info("merged %d units into %d whose names abbreviate differently", len(into), len(set(into.values())))
    _write_keys(conn, keys, old)


def downgrade() -> None:
    # Merged units stay merged (what was two rows is one unit's history now); only the keys go back to the
    # printed name's name_key, where no other unit holds it.
    conn = op.get_bind()
    units = conn.execute(sa.select(unit.c.id, unit.c.issuer, unit.c.level, unit.c.name_key, unit.c.name)).all()
    old = {u.id: u.name_key for u in units}
    keys = {u.id: name_key(u.name) for u in units}
    _settle(keys, old, {u.id: (u.issuer, u.level) for u in units})
    _write_keys(conn, keys, old)
