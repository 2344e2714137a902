"""The catalog's changes in place and off the loop give exactly what a full read of the store gives (issue 12)."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import pytest
from sqlalchemy import delete, select

from dxcore.answering.queries import load_snapshot
from dxcore.parsing import parse_bytes
from dxcore.steps import run_all
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.store.models import Alias
from dxcore.understanding import catalog as C
from dxcore.understanding.catalog import Catalog, load_resolver, record_pick
from dxcore.understanding.resolver import Resolver, UnitRef, _Blob

FOREVER = 3600.0  # a catalog that never checks the store by itself


@pytest.fixture
async def seeded(db: Database) -> Database:
    await load_shipped_if_empty(db)
    return db


def _reference(rows, curated: dict[str, int]) -> tuple[dict, dict]:
    """The rule as load_resolver applied it before issue 12, over every row in (created_at, id) order."""
    aliases = dict(curated)
    chat_aliases: dict[tuple[int, str], int] = {}
    users: dict[tuple[str, int], set[int]] = defaultdict(set)
    chats: dict[tuple[str, int], set[int]] = defaultdict(set)
    for key, unit_id, source, chat_id, user_id in rows:
        if source == "curated":
            aliases[key] = unit_id
            continue
        if chat_id is not None:
            chat_aliases[(chat_id, key)] = unit_id
            chats[(key, unit_id)].add(chat_id)
        if user_id is not None:
            users[(key, unit_id)].add(user_id)
    for (key, unit_id), voters in users.items():
        if len(voters) >= C.LEARNED_QUORUM and len(chats[(key, unit_id)]) >= C.LEARNED_CHATS:
            aliases.setdefault(key, unit_id)
    return aliases, chat_aliases


async def _full(db: Database) -> tuple[dict, dict]:
    async with db.session() as session:
        resolver = await load_resolver(session)
        rows = (await session.execute(
            select(Alias.text_key, Alias.unit_id, Alias.source, Alias.chat_id, Alias.user_id)
            .order_by(Alias.created_at, Alias.id))).all()
        curated = C._curated(await C._units(session), resolver)
    assert (resolver.aliases, resolver.chat_aliases) == _reference(rows, curated)
    return resolver.aliases, resolver.chat_aliases


def _aliases(catalog: Catalog) -> tuple[dict, dict]:
    return catalog._view.resolver.aliases, catalog._view.resolver.chat_aliases


async def _pick(db: Database, key: str, unit_id: int, chat_id: int, user_id: int) -> C.AliasRow:
    async with db.session() as session, session.begin():
        return await record_pick(session, key, unit_id, chat_id=chat_id, user_id=user_id)


def _index(resolver: Resolver) -> dict:
    return {name: (value.text, value.starts) if isinstance(value, _Blob) else value
            for name, value in vars(resolver).items()}


async def test_the_index_built_in_steps_is_the_constructors(seeded: Database) -> None:
    async with seeded.session() as session:
        units = [UnitRef(u.id, u.name, u.level, u.issuer) for u in await C._units(session)]
    units += [UnitRef(10_000 + i, f"UBND xã Tân Phú {i} (huyện Cờ Đỏ)", "xa", "UBND thành phố Cần Thơ")
              for i in range(300)]
    steps = Resolver.in_steps(units)
    assert _index(run_all(steps)) == _index(Resolver(units))


async def test_picks_applied_in_place_equal_a_full_read(seeded: Database) -> None:
    here, there = Catalog(check_every=FOREVER), Catalog(check_every=0)  # the picking replica, and another
    view_here, view_there = await here.current(seeded), await there.current(seeded)
    resolver = view_here.resolver
    keys = [resolver.alias_key(text) for text in ("Sở KH", "so kh", "sở x", "phòng y")]
    units = sorted(resolver.by_id)[:3]
    rng = random.Random(12)
    for step in range(60):  # users pick again, in other chats, other units: rows move and are replaced
        row = await _pick(seeded, rng.choice(keys), rng.choice(units), chat_id=rng.choice([-100, 7, 8]),
                          user_id=rng.choice([1, 2, 3, 4, 5]))
        here.learned(row)
        await there.current(seeded)
        if step % 10 == 9 or step == 59:
            full = await _full(seeded)
            assert _aliases(here) == full and _aliases(there) == full, step
    assert any(key in _aliases(here)[0] for key in keys)  # the quorum was reached at least once
    assert here._view is view_here and there._view is view_there  # in place: no rebuild


async def test_rows_gone_without_a_new_one_are_noticed(seeded: Database) -> None:
    catalog = Catalog(check_every=0)
    resolver = (await catalog.current(seeded)).resolver
    key, units = resolver.alias_key("Sở KH"), sorted(resolver.by_id)[:2]
    for user, chat in ((1, 7), (2, 8), (3, 7)):
        await _pick(seeded, key, units[0], chat_id=chat, user_id=user)
    await _pick(seeded, key, units[1], chat_id=9, user_id=4)
    assert (await catalog.current(seeded)).resolver.aliases[key] == units[0]
    async with seeded.session() as session, session.begin():  # as a unit's removal would (ON DELETE CASCADE)
        await session.execute(delete(Alias).where(Alias.user_id == 3))
    await catalog.current(seeded)
    assert key not in _aliases(catalog)[0] and _aliases(catalog) == await _full(seeded)


async def test_a_changed_store_is_built_off_the_loop_and_swapped_in(seeded: Database, seed_text: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    builds = []
    in_steps = Resolver.in_steps

    def counted(*args, **kwargs):
        builds.append(1)
        return in_steps(*args, **kwargs)

    monkeypatch.setattr(Resolver, "in_steps", counted)
    catalog = Catalog(check_every=FOREVER)
    old = await catalog.current(seeded)
    later = (seed_text.replace("1568 /QĐ-UBND ngày 12 tháng 7 năm 2024", "2001 /QĐ-UBND ngày 10 tháng 6 năm 2025")
             .replace("năm 2023", "năm 2024").replace("NĂM 2023", "NĂM 2024")
             .replace("Sở Ngoại vụ", "Sở Quy hoạch - Kiến trúc"))
    async with seeded.session() as session, session.begin():
        await store_decision(session, parse_bytes(later.encode(), "later.txt").decision, actor="test")
    catalog._checked = -FOREVER  # the periodic check is due: it runs in the background, the old view answers
    assert await catalog.current(seeded) is old and catalog._task is not None
    waiting = [asyncio.create_task(catalog.changed(seeded)) for _ in range(2)]
    assert await catalog.current(seeded) is old  # still building
    new, again = await asyncio.gather(*waiting)
    assert new is again is await catalog.current(seeded) and new is not old
    assert len(builds) == 3  # the first view, the check's rebuild, and one more for both callers of changed()
    async with seeded.session() as session:
        assert new.snapshot == await load_snapshot(session)
        assert _index(new.resolver) == _index(await load_resolver(session))
    assert new.resolver.resolve("Sở Quy hoạch - Kiến trúc").status == "found"


async def test_a_pick_learned_while_a_new_view_is_built_is_kept(seeded: Database) -> None:
    catalog = Catalog(check_every=FOREVER)
    resolver = (await catalog.current(seeded)).resolver
    key, unit = resolver.alias_key("Sở KH"), sorted(resolver.by_id)[0]
    rebuilding, during = asyncio.create_task(catalog.changed(seeded)), 0
    while catalog._view.resolver is resolver and not rebuilding.done():
        row = await _pick(seeded, key, unit, chat_id=7, user_id=1)
        during += catalog._task is not None
        catalog.learned(row)
        await asyncio.sleep(0)
    await rebuilding
    assert during
    assert catalog._view.resolver is not resolver
    assert _aliases(catalog) == await _full(seeded) and _aliases(catalog)[1][(7, key)] == unit


async def test_close_stops_a_refresh_in_the_background(seeded: Database) -> None:
    catalog = Catalog(check_every=FOREVER)
    old = await catalog.current(seeded)
    catalog._checked = -FOREVER
    assert await catalog.current(seeded) is old and catalog._task is not None  # a check has begun
    task = catalog._task
    await catalog.close()
    assert task.done()
