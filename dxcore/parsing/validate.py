"""Checks a parsed decision against itself: ranks, scores, tiers, Điều 1 counts, duplicates.

Every problem is reported at once, each at its location; warnings never block storing. Each ranking (a level, or a
group of it) is checked on its own, in its own terms: percentages 0–100, points 0 to the ranking's maximum, indices
0–1; ranks as competition ranking on the score ("1, 2, 2, 4"), or in order when the table prints ranks only.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from decimal import Decimal
from itertools import groupby

from dxcore.answering.formatting import format_percent
from dxcore.answering.i18n import Score, msg
from dxcore.parsing.model import (
    Location,
    ParsedDecision,
    ParsedLevel,
    ParsedRow,
    Problem,
)
from dxcore.understanding.levels import level_name
from dxcore.understanding.tiers import is_better, thresholds_for, tier_word
from dxcore.understanding.vocabulary import unit_key

_pct = format_percent
_ONE = Decimal(1)


def ranking_name(level: ParsedLevel) -> str:
    """"Cấp xã", or "Cấp xã – Các xã thuộc huyện Gò Dầu" for a group of a level."""
    return f"{level_name(level.code)} – {level.group}" if level.group else level_name(level.code)


def assumed_max(level: ParsedLevel) -> Decimal | None:
    """Points out of a maximum the document does not print: 100 or 1.000, whichever the highest score fits, for the
    range check only (never stored: answers show such scores without a maximum). None when above 1.000."""
    top = max((r.score for r in level.rows if r.score is not None), default=Decimal(0))
    return next((m for m in (Decimal(100), Decimal(1000)) if top <= m), None)


def _score(level: ParsedLevel, value: Decimal) -> object:
    return _pct(value) if level.score_kind == "percent" else Score(value, level.score_kind, level.score_max)


def _check_level(level: ParsedLevel, problems: list[Problem], counts_expected: bool,
                 together: list[ParsedLevel] | None = None) -> None:
    rows = level.rows
    title = ranking_name(level)
    if not rows:
        problems.append(Problem(level.loc, msg("problem.table_empty", level=title)))
        return
    percent = level.score_kind == "percent"
    top = {"percent": Decimal(100), "index": _ONE}.get(level.score_kind or "", level.score_max)
    if level.score_kind == "points" and top is None:
        top = assumed_max(level)
    out_of_range = 0
    for row in rows:
        if row.score is not None and not 0 <= row.score <= (top if top is not None else row.score):
            out_of_range += 1
            if out_of_range <= 3:  # a wrong kind or maximum puts every row out of range: say it a few times only
                problems.append(Problem(row.loc, msg("problem.percentage_range", percentage=_pct(row.score))
                                        if percent else msg("problem.score_range", score=_score(level, row.score),
                                                            maximum=str(top), ranking=title)))
    rows = [r for r in rows if not r.unranked]  # units evaluated but not ranked stand outside the order
    ranked = any(r.rank is not None for r in rows)  # without ranks the order of the rows says nothing
    complete = level.score_kind is not None and all(r.score is not None for r in rows)
    ascending = sorted(r.score for r in rows if r.score is not None)
    for position, row in enumerate(rows):
        if row.score is None:
            continue
        above = rows[position - 1].score if position else None
        if above is not None and row.score > above and ranked:
            problems.append(Problem(row.loc, msg("problem.percentage_increases", percentage=_pct(row.score),
                                                 above=_pct(above)) if percent else
                                    msg("problem.score_increases", score=_score(level, row.score),
                                        above=_score(level, above))))
        if row.rank is not None and complete:
            expected = 1 + len(ascending) - bisect_right(ascending, row.score)
            if row.rank != expected:
                problems.append(Problem(row.loc, msg("problem.rank_wrong" if percent else "problem.rank_wrong_score",
                                                     rank=row.rank, expected=expected, higher=expected - 1)))
    if not complete:
        _check_rank_order(rows, problems)
    _check_tier_order(level, problems)
    seen: dict[str, Location] = {}
    for row in level.rows:
        key = unit_key(row.name)  # "BQL X" and "Ban Quản lý X" are one unit: the store would keep one of them
        if key in seen:
            problems.append(Problem(row.loc, msg("problem.listed_twice", name=row.name, level=title, where=seen[key])))
        else:
            seen[key] = row.loc
    if together is not None and together[0] is not level:
        return  # counted with the first group of its level: one statement for the groups together
    if level.stated_counts or (counts_expected and any(r.tier for r in level.rows)):
        _check_counts(level, problems, together)


def _check_rank_order(rows: list[ParsedRow], problems: list[Problem]) -> None:
    """Ranks without scores: in order, each either shared with the row above or its position (1, 2, 2, 4)."""
    previous: int | None = None
    for position, row in enumerate(rows, start=1):
        if row.rank is None:
            continue
        if previous is not None and row.rank < previous:
            problems.append(Problem(row.loc, msg("problem.rank_order", rank=row.rank, above=previous)))
        elif row.rank != previous and row.rank != position:
            problems.append(Problem(row.loc, msg("problem.rank_wrong", rank=row.rank, expected=position,
                                                 higher=position - 1)))
        previous = row.rank


def _check_tier_order(level: ParsedLevel, problems: list[Problem]) -> None:
    """A lower score never has a better tier than any higher score in the same ranking."""
    graded = sorted((r for r in level.rows if r.tier and r.score is not None), key=lambda r: -r.score)
    worst_higher: str | None = None  # the worst tier among strictly higher scores
    for _, group in groupby(graded, key=lambda r: r.score):
        group = list(group)
        for row in group:
            if worst_higher and is_better(row.tier, worst_higher):
                problems.append(Problem(row.loc, msg("problem.tier_order", tier=tier_word(row.tier),
                                                     percentage=_pct(row.score), worse=tier_word(worst_higher))
                                        if level.score_kind == "percent" else
                                        msg("problem.tier_order_score", tier=tier_word(row.tier),
                                            score=_score(level, row.score), worse=tier_word(worst_higher))))
        for row in group:
            if worst_higher is None or is_better(worst_higher, row.tier):
                worst_higher = row.tier


def _check_counts(level: ParsedLevel, problems: list[Problem], together: list[ParsedLevel] | None = None) -> None:
    """Điều 1's counts against the tiers of the table; of all the groups ``together`` when Điều 1 counts a level
    ranked in groups as a whole ("Cấp xã: được đánh giá theo từng huyện …; có 02 đơn vị đạt loại Tốt")."""
    title = level_name(level.code) if together else ranking_name(level)
    if not level.stated_counts:
        problems.append(Problem(level.loc, msg("problem.no_counts", level=title)))
        return
    actual = Counter(r.tier for lv in together or [level] for r in lv.rows if r.tier)
    stated = {c.tier: c for c in level.stated_counts}
    for tier in list(stated) + [t for t in actual if t not in stated]:
        said = stated[tier].count if tier in stated else 0
        if said != actual.get(tier, 0):
            loc = stated[tier].loc if tier in stated else level.counts_loc or level.loc
            problems.append(Problem(loc, msg("problem.count_mismatch", said=said, level=title, tier=tier_word(tier),
                                             actual=actual.get(tier, 0))))


def validate(decision: ParsedDecision, *, facts_checked: bool = True) -> tuple[list[Problem], list[Problem]]:
    """Errors and warnings of a parsed decision. ``facts_checked`` False: the missing issuer, number, date and year
    were already reported (a report, in one error naming the flags that give them)."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    where = Location(decision.source)
    missing = [what for what, value in (("issuer", decision.issuer), ("number", decision.number),
                                        ("signed", decision.signed_date), ("year", decision.evaluated_year)) if not value]
    if facts_checked:
        errors.extend(Problem(where, msg("problem.not_found", what=msg(f"problem.what.{what}"))) for what in missing)
    if not decision.levels:
        errors.append(Problem(where, msg("problem.no_table")))
    # Điều 1 stating counts for some rankings but not for another with tiers is a gap; stating none is a
    # publication that does not count (most points-only ones).
    counts_expected = any(lv.stated_counts for lv in decision.levels)
    shared: list[list[ParsedLevel]] = []  # the groups of one level that one statement of Điều 1 counts together
    for level in decision.levels:
        peers = next((p for p in shared if level.stated_counts and p[0].code == level.code
                      and p[0].stated_counts == level.stated_counts), None)
        if peers is None:
            shared.append([level])
        else:
            peers.append(level)
    together = {id(lv): peers for peers in shared if len(peers) > 1 for lv in peers}
    for level in decision.levels:
        _check_level(level, errors, counts_expected, together.get(id(level)))
    thresholds = thresholds_for(decision.issuer) if decision.issuer else None
    if thresholds and thresholds.minimums:
        for level in decision.levels:
            if level.score_kind != "percent":
                continue
            for row in level.rows:
                if row.tier and row.score is not None:
                    expected = thresholds.expected_tier(row.score)
                    if expected and expected != row.tier:
                        warnings.append(Problem(row.loc, msg(
                            "problem.threshold", name=row.name, percentage=_pct(row.score),
                            tier=tier_word(row.tier), issuer=thresholds.issuer, expected=tier_word(expected))))
    return errors, warnings
