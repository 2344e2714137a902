"""Reads: every result carries its citation (decision number, date, appendix).

The results are small and change only when a decision is stored, so each process reads them once into a Snapshot
and answers from memory (index.Catalog rebuilds it when the store changes): a question costs no database round
trip. "Latest" means the latest evaluated year, then the latest signed date (DESIGN.md). A year argument is always
the evaluated year, never the signing year.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dxcore.steps import paced
from dxcore.store.models import Decision, Ranking, Result, Unit
from dxcore.understanding.levels import LEVEL_ORDER
from dxcore.understanding.lineage import Lineage, Predecessor, shipped_lineage, year_end
from dxcore.understanding.tiers import TIER_RANK, is_better


@dataclass(frozen=True)
class Citation:
    issuer: str
    number: str
    signed_date: date
    evaluated_year: int
    appendix: str
    level: str
    group: str = ""  # the group within the level, as printed; "" for the whole level


@dataclass(frozen=True)
class Scale:
    """What a ranking's scores are: "percent" (0–100), "points" (out of ``max`` when printed), "index" (0–1); kind
    None: the ranking prints ranks only."""

    kind: str | None = "percent"
    max: Decimal | None = None


PERCENT = Scale()


@dataclass(frozen=True)
class SubScore:
    name: str  # the ranking's sub-index column, as printed
    value: Decimal | None
    printed: str
    maximum: Decimal | None = None  # where the document prints one


@dataclass(frozen=True)
class RankedRow:
    unit_id: int
    name: str  # as printed in this ranking
    rank: int
    score: Decimal | None  # exactly as printed, in ``scale``; None in a rank-only ranking
    tier: str | None  # tier code; None where the ranking prints no tier (or an unknown word, see tier_printed)
    tier_printed: str = ""
    scale: Scale = PERCENT  # the ranking's (one object per ranking)
    subscores: tuple[SubScore, ...] = ()


@dataclass(frozen=True)
class TierGap:
    """How far a unit is from the lowest score that reached the next tier up in the same ranking."""

    tier: str
    lowest: Decimal
    points: Decimal  # the difference, in the ranking's scale


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
    scale: Scale = PERCENT


@dataclass(frozen=True)
class DecisionView:
    id: int
    issuer: str
    number: str
    signed_date: date
    evaluated_year: int
    title: str
    loaded_at: datetime
    published_at: datetime | None
    signer: str | None = None
    signer_title: str | None = None
    basis: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionInfo(DecisionView):
    levels: list[tuple[str, int]] = field(default_factory=list)  # (level code, rows), in document order


@dataclass
class RankingView:
    id: int
    level: str
    position: int
    appendix: str
    stated_counts: list[dict]
    decision: DecisionView
    rows: list[RankedRow]  # in ranking order
    group: str = ""  # as printed ("Khối cơ quan Trung ương"); "" for the whole level
    scale: Scale = PERCENT
    subscore_names: tuple[str, ...] = ()
    subscore_maxima: tuple[Decimal | None, ...] = ()

    @property
    def score_kind(self) -> str | None:
        return self.scale.kind

    @property
    def score_max(self) -> Decimal | None:
        return self.scale.max

    @property
    def citation(self) -> Citation:
        d = self.decision
        return Citation(d.issuer, d.number, d.signed_date, d.evaluated_year, self.appendix, self.level, self.group)

    def slice(self, rows: list[RankedRow]) -> RankingSlice:
        return RankingSlice(self.level, rows, len(self.rows), self.citation, self.scale)

    @cached_property
    def tier_floors(self) -> dict[str, Decimal]:
        """The lowest score that reached each tier (computed once: a ranking may hold thousands of rows)."""
        floors: dict[str, Decimal] = {}
        for row in self.rows:
            if row.tier is not None and row.score is not None:
                floors[row.tier] = min(floors.get(row.tier, row.score), row.score)
        return floors

    @cached_property
    def rank_sizes(self) -> Counter[int]:
        """How many units share each rank."""
        return Counter(row.rank for row in self.rows)


@dataclass(frozen=True)
class UnitView:
    id: int
    name: str  # as printed in the latest decision that ranks it
    level: str
    issuer: str


@dataclass
class Snapshot:
    """Every stored decision's rankings, latest first, and what the lineage files say became of their units."""

    rankings: list[RankingView]
    units: dict[int, UnitView]
    # unit id → (ranking, row index), latest first
    by_unit: dict[int, list[tuple[RankingView, int]]] = field(default_factory=dict)
    lineage: Lineage = field(default_factory=lambda: Lineage((), ()), compare=False)

    def __post_init__(self) -> None:
        for ranking in self.rankings:
            for index, row in enumerate(ranking.rows):
                self.by_unit.setdefault(row.unit_id, []).append((ranking, index))


_PARTITION = 250  # result rows per step of load_snapshot: a few milliseconds


def _newest_first(decision: DecisionView) -> tuple:
    return (-decision.evaluated_year, -decision.signed_date.toordinal(), -decision.id)


async def load_snapshot(session: AsyncSession) -> Snapshot:
    """Every stored result, read in partitions of a few hundred rows so that a caller on an event loop leaves it
    free between them (10,000 rows cost about 0.2 s in all)."""
    decisions = {
        d.id: DecisionView(d.id, d.issuer, d.number, d.signed_date, d.evaluated_year, d.title, d.loaded_at,
                           d.published_at, d.signer, d.signer_title, tuple(d.basis or ()))
        for d in await session.scalars(select(Decision))
    }
    rankings = {
        r.id: RankingView(r.id, r.level, r.position, r.appendix, r.stated_counts, decisions[r.decision_id], [],
                          r.group_name or "", Scale(r.score_kind, r.score_max), tuple(r.subscore_names or ()),
                          tuple(None if m is None else Decimal(m) for m in r.subscore_maxima or ()))
        for r in await session.scalars(select(Ranking))
    }
    rows = await session.stream(
        select(Result.ranking_id, Result.unit_id, Result.printed_name, Result.rank, Result.score, Result.tier,
               Result.tier_printed, Result.subscores)
        .order_by(Result.ranking_id, Result.position)
    )
    async for part in rows.partitions(_PARTITION):
        for ranking_id, unit_id, name, rank, score, tier, tier_printed, subscores in part:
            if rank is None:
                continue  # printed "Không xếp hạng": stored as printed, but in no ranking an answer reads
            ranking = rankings[ranking_id]
            maxima = ranking.subscore_maxima + (None,) * (len(ranking.subscore_names) - len(ranking.subscore_maxima))
            subs = tuple(SubScore(n, None if x.get("value") is None else Decimal(x["value"]), x.get("printed", ""), m)
                         for n, x, m in zip(ranking.subscore_names, subscores or (), maxima))
            ranking.rows.append(RankedRow(unit_id, name, rank, score, tier, tier_printed or "", ranking.scale, subs))
        await asyncio.sleep(0)
    units = {}
    stored = await session.stream(select(Unit.id, Unit.name, Unit.level, Unit.issuer))
    async for part in stored.partitions(_PARTITION):
        for unit_id, name, level, issuer in part:
            units[unit_id] = UnitView(unit_id, name, level, issuer)
        await asyncio.sleep(0)
    ordered = sorted(rankings.values(), key=lambda r: (_newest_first(r.decision), r.position))
    return Snapshot(ordered, units, lineage=await paced(Lineage.in_steps(shipped_lineage(), units.values())))


def latest_rankings(snapshot: Snapshot, level: str | None = None, year: int | None = None,
                    issuer: str | None = None) -> list[RankingView]:
    """Each issuer's latest ranking of each level (all its groups, from the one decision that ranks the level
    latest), in level order (groups in document order). Asked of no level and no year, only the levels of each
    issuer's latest year are current: a level its latest decisions no longer rank (a district level abolished)
    is answered only when asked for, and its answer names its year."""
    chosen = [r for r in snapshot.rankings
              if (level is None or r.level == level) and (year is None or r.decision.evaluated_year == year)
              and (issuer is None or r.decision.issuer == issuer)]
    newest: dict[tuple[str, str], int] = {}  # rankings are newest first: the first decision seen per level wins
    for ranking in chosen:
        newest.setdefault((ranking.decision.issuer, ranking.level), ranking.decision.id)
    latest = [r for r in chosen if newest[(r.decision.issuer, r.level)] == r.decision.id]
    if level is None and year is None:
        current: dict[str, int] = {}
        for ranking in latest:
            d = ranking.decision
            current[d.issuer] = max(current.get(d.issuer, d.evaluated_year), d.evaluated_year)
        latest = [r for r in latest if r.decision.evaluated_year == current[r.decision.issuer]]
    return sorted(latest, key=lambda r: (r.decision.issuer, LEVEL_ORDER.get(r.level, 99), r.position))


def _next_tier_gap(ranking: RankingView, mine: RankedRow) -> TierGap | None:
    """The nearest better tier present in the ranking, measured against its lowest score."""
    if mine.tier is None or mine.score is None or mine.tier not in TIER_RANK:
        return None
    lowest = {tier: floor for tier, floor in ranking.tier_floors.items() if is_better(tier, mine.tier)}
    if not lowest:
        return None
    tier = max(lowest, key=lambda t: TIER_RANK[t])  # the least-good of the better tiers: the next step up
    return TierGap(tier, lowest[tier], lowest[tier] - mine.score)


def unit_result(snapshot: Snapshot, unit_id: int, year: int | None = None) -> UnitResult | None:
    """A unit's result in the latest decision that ranks it (or in the given evaluated year)."""
    unit = snapshot.units.get(unit_id)
    placed = next((p for p in snapshot.by_unit.get(unit_id, ())
                   if year is None or p[0].decision.evaluated_year == year), None)
    if unit is None or placed is None:
        return None
    ranking, index = placed
    rows = ranking.rows
    mine = rows[index]
    return UnitResult(
        unit_id=unit.id,
        name=unit.name,
        level=unit.level,
        row=mine,
        total=len(rows),
        tied_with=ranking.rank_sizes[mine.rank] - 1,
        above=rows[index - 1] if index > 0 else None,
        below=rows[index + 1] if index + 1 < len(rows) else None,
        next_tier=_next_tier_gap(ranking, mine),
        citation=ranking.citation,
    )


def unit_years(snapshot: Snapshot, unit_id: int) -> list[int]:
    """Evaluated years in which a unit is ranked, newest first."""
    return sorted({r.decision.evaluated_year for r, _ in snapshot.by_unit.get(unit_id, ())}, reverse=True)


def tier_counts(snapshot: Snapshot, level: str | None = None, year: int | None = None,
                issuer: str | None = None) -> list[LevelCounts]:
    """Tier counts per level, in the decision's own wording and order (tiers it did not state follow)."""
    output = []
    for ranking in latest_rankings(snapshot, level, year, issuer):
        actual: dict[str, int] = {}
        for row in ranking.rows:
            if row.tier is not None:
                actual[row.tier] = actual.get(row.tier, 0) + 1
        counts = [TierCount(c["tier"], c["label"], actual.get(c["tier"], 0)) for c in ranking.stated_counts]
        stated = {c.tier for c in counts}
        counts += [TierCount(t, t, n) for t, n in sorted(actual.items(), key=lambda kv: TIER_RANK.get(kv[0], 99))
                   if t not in stated]
        output.append(LevelCounts(ranking.level, counts, len(ranking.rows), ranking.citation))
    return output


def top(snapshot: Snapshot, n: int, level: str | None = None, year: int | None = None, *, bottom: bool = False,
        issuer: str | None = None) -> list[RankingSlice]:
    """The first (or last) n rows of each level's latest ranking, in ranking order."""
    n = max(n, 0)
    return [r.slice(r.rows[-n:] if bottom and n else r.rows[:n]) for r in latest_rankings(snapshot, level, year, issuer)]


def units_of_tier(snapshot: Snapshot, tier: str, level: str | None = None, year: int | None = None,
                  issuer: str | None = None) -> list[RankingSlice]:
    return [r.slice([row for row in r.rows if row.tier == tier]) for r in latest_rankings(snapshot, level, year, issuer)]


def list_decisions(snapshot: Snapshot) -> list[DecisionInfo]:
    decisions: dict[int, DecisionInfo] = {}
    for ranking in snapshot.rankings:
        d = ranking.decision
        info = decisions.setdefault(d.id, DecisionInfo(**vars(d), levels=[]))
        info.levels.append((ranking.level, len(ranking.rows)))  # rankings come in document order
    return list(decisions.values())


@dataclass(frozen=True)
class HistoryPoint:
    """One result in a unit's history. ``before`` is set when it is a predecessor's (the unit's own body before a
    reorganisation, or a unit merged or split into it): the day the body changed, and what it was."""

    row: RankedRow
    total: int  # size of its ranking
    citation: Citation
    before: date | None = None
    share: str = ""  # the part of the predecessor that came over; "" for all of it
    issuer: str = ""  # the predecessor's issuer, when it is another's (a merged province)
    own: bool = True  # the unit's own result (its body before, when ``before`` is set), not another unit's

    @property
    def order(self) -> tuple:
        c = self.citation
        return (c.evaluated_year, c.signed_date, self.before is not None, not self.own, self.row.name)


Placed = tuple[RankingView, int]


def _body(snapshot: Snapshot, unit_id: int, seen: frozenset[int] = frozenset()) -> list[Placed]:
    """A unit's results and those of the units it was renamed from (before the rename): one body, newest first."""
    placed = list(snapshot.by_unit.get(unit_id, ()))
    for day, old in snapshot.lineage.renamed_from(unit_id):
        if old not in seen and old != unit_id:
            placed += [p for p in _body(snapshot, old, seen | {unit_id}) if year_end(p[0].decision.evaluated_year) < day]
    return sorted(placed, key=lambda p: (_newest_first(p[0].decision), p[0].position))


def _point(placed: Placed, before: date | None = None, came: Predecessor | None = None) -> HistoryPoint:
    ranking, index = placed
    return HistoryPoint(ranking.rows[index], len(ranking.rows), ranking.citation, before,
                        came.share if came else "", came.issuer if came else "", came is None)


def _predecessors(snapshot: Snapshot, unit_id: int, after: date, until: date) -> list[HistoryPoint]:
    """The last result before the day of each unit that came into this one within (after, until]."""
    points = []
    for came in snapshot.lineage.sources(unit_id):
        if came.unit_id in (None, unit_id) or not after < came.day <= until:
            continue
        earlier = [p for p in _body(snapshot, came.unit_id) if year_end(p[0].decision.evaluated_year) < came.day]
        if earlier:
            points.append(_point(earlier[0], came.day, came))
    return points


def unit_history(snapshot: Snapshot, unit_id: int) -> list[HistoryPoint]:
    """A unit's results across decisions, oldest first. Results of a body it no longer is (before it took over
    another unit) and of every unit merged or split into it are there too, each labelled as the predecessor's."""
    points: list[HistoryPoint] = []
    seen = {unit_id}

    def collect(unit: int, came: Predecessor | None) -> None:
        body = _body(snapshot, unit)
        # The body shown as the unit's own is that of its latest result: a reorganisation after it has no results
        # yet to set apart from the earlier ones, and what it took over then is not in what is shown
        until = year_end(body[0][0].decision.evaluated_year) if body and came is None else date.max
        bounds = snapshot.lineage.boundaries(unit)
        current = sum(1 for day in bounds if day <= until)
        for placed in body:
            year = placed[0].decision.evaluated_year
            if came is not None:
                if year_end(year) < came.day:
                    points.append(_point(placed, came.day, came))
                continue
            era = snapshot.lineage.era(unit, year)
            points.append(_point(placed, bounds[era] if era < current else None))
        for source in snapshot.lineage.sources(unit):
            # A predecessor's own predecessors count only if it had taken them over before it passed on
            if source.unit_id is not None and source.unit_id not in seen and source.day <= until \
                    and (came is None or source.day < came.day):
                seen.add(source.unit_id)
                collect(source.unit_id, source)

    collect(unit_id, None)
    return sorted(points, key=lambda p: p.order)


@dataclass(frozen=True)
class Previous:
    """What a result is compared with: the unit's previous result while it is the same body (``same``); once it
    took over others (``changed_on``), the last results of what it was made of, each labelled (``predecessors``,
    possibly none: a new body)."""

    same: HistoryPoint | None = None
    changed_on: date | None = None
    predecessors: tuple[HistoryPoint, ...] = ()


def previous_result(snapshot: Snapshot, ranking: RankingView, unit_id: int) -> Previous:
    mine = _newest_first(ranking.decision)
    earlier = [p for p in _body(snapshot, unit_id) if _newest_first(p[0].decision) > mine]
    until = year_end(ranking.decision.evaluated_year)
    since = year_end(earlier[0][0].decision.evaluated_year) if earlier else date.min
    changed = [day for day in snapshot.lineage.boundaries(unit_id) if since < day <= until]
    if not changed:
        return Previous(_point(earlier[0]) if earlier else None)
    own = [_point(earlier[0], changed[0])] if earlier else []
    return Previous(None, changed[0], tuple(own + _predecessors(snapshot, unit_id, since, until)))


def rank_at(snapshot: Snapshot, rank: int, level: str | None = None, year: int | None = None, *,
            from_bottom: bool = False, issuer: str | None = None) -> list[RankingSlice]:
    """The units at rank N of each level's latest ranking (ties share a rank, so there may be several or none);
    ``from_bottom``: the N-th row counted from the end, with any units tied with it."""
    slices = []
    for r in latest_rankings(snapshot, level, year, issuer):
        if from_bottom:
            at = r.rows[-rank].rank if 0 < rank <= len(r.rows) else None
        else:
            at = rank
        slices.append(r.slice([row for row in r.rows if row.rank == at]))
    return slices


def mean(values: list[Decimal | None], places: int = 2) -> Decimal | None:
    """The plain mean of the scores there are, rounded half-up to two decimals (an index: four), as people compute
    it by hand."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return (sum(values) / len(values)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def previous_ranking(snapshot: Snapshot, ranking: RankingView) -> RankingView | None:
    """The same issuer's ranking of the same level in the decision before this one."""
    older = [r for r in snapshot.rankings if r.level == ranking.level and r.decision.issuer == ranking.decision.issuer
             and r.group == ranking.group and _newest_first(r.decision) > _newest_first(ranking.decision)]
    return older[0] if older else None
