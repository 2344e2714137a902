"""Reads from the store. Every result carries its citation (decision number, date, appendix).

"Latest" means the latest evaluated year, then the latest signed date (DESIGN.md). A year argument is always the
evaluated year, never the signing year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dxcore.levels import LEVEL_ORDER
from dxcore.models import Decision, Ranking, Result, Unit
from dxcore.tiers import TIER_RANK, is_better


@dataclass(frozen=True)
class Citation:
    issuer: str
    number: str
    signed_date: date
    evaluated_year: int
    appendix: str
    level: str


@dataclass(frozen=True)
class RankedRow:
    unit_id: int
    name: str  # as printed in this ranking
    rank: int
    percentage: Decimal
    tier: str


@dataclass(frozen=True)
class TierGap:
    """How far a unit is from the lowest percentage that reached the next tier up in the same ranking."""

    tier: str
    lowest_percentage: Decimal
    points: Decimal


@dataclass(frozen=True)
class UnitResult:
    unit_id: int
    name: str
    level: str
    row: RankedRow
    total: int
    tied_with: int  # other units sharing the rank
    above: RankedRow | None
    below: RankedRow | None
    next_tier: TierGap | None
    citation: Citation


@dataclass(frozen=True)
class TierCount:
    tier: str
    label: str  # the decision's own wording ("Xếp loại Tốt")
    count: int


@dataclass(frozen=True)
class LevelCounts:
    level: str
    counts: list[TierCount]
    total: int
    citation: Citation


@dataclass(frozen=True)
class RankingSlice:
    level: str
    rows: list[RankedRow]
    total: int
    citation: Citation


@dataclass(frozen=True)
class DecisionInfo:
    id: int
    issuer: str
    number: str
    signed_date: date
    evaluated_year: int
    title: str
    levels: list[tuple[str, int]]  # (level code, rows)
    loaded_at: datetime
    published_at: datetime | None


def _citation(ranking: Ranking) -> Citation:
    d = ranking.decision
    return Citation(d.issuer, d.number, d.signed_date, d.evaluated_year, ranking.appendix, ranking.level)


def _row(result: Result) -> RankedRow:
    return RankedRow(result.unit_id, result.printed_name, result.rank, result.percentage, result.tier)


def _rankings_query(level: str | None, year: int | None, issuer: str | None) -> Select:
    query = select(Ranking).join(Ranking.decision).options(selectinload(Ranking.decision))
    if level is not None:
        query = query.where(Ranking.level == level)
    if year is not None:
        query = query.where(Decision.evaluated_year == year)
    if issuer is not None:
        query = query.where(Decision.issuer == issuer)
    return query.order_by(Decision.evaluated_year.desc(), Decision.signed_date.desc(), Ranking.position)


async def latest_rankings(
    session: AsyncSession, level: str | None = None, year: int | None = None, issuer: str | None = None
) -> list[Ranking]:
    """The latest ranking of each (issuer, level), in level order; with ``level``, at most one per issuer."""
    latest: dict[tuple[str, str], Ranking] = {}
    for ranking in await session.scalars(_rankings_query(level, year, issuer)):
        latest.setdefault((ranking.decision.issuer, ranking.level), ranking)
    return sorted(latest.values(), key=lambda r: (r.decision.issuer, LEVEL_ORDER.get(r.level, 99), r.position))


async def _results(session: AsyncSession, ranking: Ranking) -> list[Result]:
    query = select(Result).where(Result.ranking_id == ranking.id).order_by(Result.position)
    return list(await session.scalars(query))


def _next_tier_gap(results: list[Result], mine: Result) -> TierGap | None:
    """The nearest better tier present in the ranking, measured against its lowest percentage."""
    lowest: dict[str, Decimal] = {}
    for r in results:
        if is_better(r.tier, mine.tier):
            lowest[r.tier] = min(lowest.get(r.tier, r.percentage), r.percentage)
    if not lowest:
        return None
    tier = max(lowest, key=lambda t: TIER_RANK[t])  # the least-good of the better tiers: the next step up
    return TierGap(tier, lowest[tier], lowest[tier] - mine.percentage)


async def unit_result(session: AsyncSession, unit_id: int, year: int | None = None) -> UnitResult | None:
    """A unit's result in the latest decision that ranks it (or in the given evaluated year)."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        return None
    query = (
        select(Result)
        .join(Result.ranking)
        .join(Ranking.decision)
        .where(Result.unit_id == unit_id)
        .options(selectinload(Result.ranking).selectinload(Ranking.decision))
        .order_by(Decision.evaluated_year.desc(), Decision.signed_date.desc())
        .limit(1)
    )
    if year is not None:
        query = query.where(Decision.evaluated_year == year)
    mine = await session.scalar(query)
    if mine is None:
        return None
    results = await _results(session, mine.ranking)
    index = next(i for i, r in enumerate(results) if r.id == mine.id)
    return UnitResult(
        unit_id=unit.id,
        name=unit.name,
        level=unit.level,
        row=_row(mine),
        total=len(results),
        tied_with=sum(1 for r in results if r.rank == mine.rank) - 1,
        above=_row(results[index - 1]) if index > 0 else None,
        below=_row(results[index + 1]) if index + 1 < len(results) else None,
        next_tier=_next_tier_gap(results, mine),
        citation=_citation(mine.ranking),
    )


async def unit_years(session: AsyncSession, unit_id: int) -> list[int]:
    """Evaluated years in which a unit is ranked, newest first."""
    query = (
        select(Decision.evaluated_year)
        .join(Ranking, Ranking.decision_id == Decision.id)
        .join(Result, Result.ranking_id == Ranking.id)
        .where(Result.unit_id == unit_id)
        .distinct()
        .order_by(Decision.evaluated_year.desc())
    )
    return list(await session.scalars(query))


async def tier_counts(
    session: AsyncSession, level: str | None = None, year: int | None = None, issuer: str | None = None
) -> list[LevelCounts]:
    """Tier counts per level, in the decision's own wording and order (tiers it did not state follow)."""
    output = []
    for ranking in await latest_rankings(session, level, year, issuer):
        query = select(Result.tier, func.count()).where(Result.ranking_id == ranking.id).group_by(Result.tier)
        actual = dict((await session.execute(query)).all())
        counts = [TierCount(c["tier"], c["label"], actual.get(c["tier"], 0)) for c in ranking.stated_counts]
        stated = {c.tier for c in counts}
        counts += [TierCount(t, t, n) for t, n in sorted(actual.items(), key=lambda kv: TIER_RANK[kv[0]])
                   if t not in stated]
        output.append(LevelCounts(ranking.level, counts, sum(actual.values()), _citation(ranking)))
    return output


async def top(
    session: AsyncSession,
    n: int,
    level: str | None = None,
    year: int | None = None,
    *,
    bottom: bool = False,
    issuer: str | None = None,
) -> list[RankingSlice]:
    """The first (or last) n rows of each level's latest ranking, in ranking order."""
    output = []
    for ranking in await latest_rankings(session, level, year, issuer):
        total = await session.scalar(select(func.count()).where(Result.ranking_id == ranking.id)) or 0
        order = Result.position.desc() if bottom else Result.position
        query = select(Result).where(Result.ranking_id == ranking.id).order_by(order).limit(max(n, 0))
        rows = [_row(r) for r in await session.scalars(query)]
        if bottom:
            rows.reverse()
        output.append(RankingSlice(ranking.level, rows, total, _citation(ranking)))
    return output


async def units_of_tier(
    session: AsyncSession, tier: str, level: str | None = None, year: int | None = None, issuer: str | None = None
) -> list[RankingSlice]:
    output = []
    for ranking in await latest_rankings(session, level, year, issuer):
        results = await _results(session, ranking)
        rows = [_row(r) for r in results if r.tier == tier]
        output.append(RankingSlice(ranking.level, rows, len(results), _citation(ranking)))
    return output


async def list_decisions(session: AsyncSession) -> list[DecisionInfo]:
    query = (
        select(Decision)
        .options(selectinload(Decision.rankings))
        .order_by(Decision.evaluated_year.desc(), Decision.signed_date.desc())
    )
    decisions = list(await session.scalars(query))
    sizes = dict(
        (await session.execute(select(Result.ranking_id, func.count()).group_by(Result.ranking_id))).all()
    )
    return [
        DecisionInfo(
            d.id, d.issuer, d.number, d.signed_date, d.evaluated_year, d.title,
            [(r.level, sizes.get(r.id, 0)) for r in d.rankings], d.loaded_at, d.published_at,
        )
        for d in decisions
    ]
