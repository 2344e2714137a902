"""Checks a parsed decision against itself: ranks, percentages, tiers, Điều 1 counts, duplicates.

Every problem is reported at once, each at its location; warnings never block storing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from itertools import groupby

from dxcore.answering.formatting import format_percent
from dxcore.answering.i18n import msg
from dxcore.parsing.model import (
    Location,
    ParsedDecision,
    ParsedLevel,
    ParsedRow,
    Problem,
)
from dxcore.understanding.levels import level_name
from dxcore.understanding.text import name_key
from dxcore.understanding.tiers import is_better, thresholds_for, tier_word

_pct = format_percent


def _check_level(level: ParsedLevel, problems: list[Problem]) -> None:
    rows = level.rows
    title = level_name(level.code)
    if not rows:
        problems.append(Problem(level.loc, msg("problem.table_empty", level=title)))
        return
    complete = all(r.score is not None for r in rows)
    ascending = sorted(r.score for r in rows if r.score is not None)
    for position, row in enumerate(rows):
        if row.score is None:
            continue
        if not 0 <= row.score <= 100:
            problems.append(Problem(row.loc, msg("problem.percentage_range", percentage=_pct(row.score))))
        above = rows[position - 1].score if position else None
        if above is not None and row.score > above:
            problems.append(Problem(row.loc, msg("problem.percentage_increases", percentage=_pct(row.score),
                                                 above=_pct(above))))
        if row.rank is not None and complete:
            expected = 1 + len(ascending) - bisect_right(ascending, row.score)
            if row.rank != expected:
                problems.append(Problem(row.loc, msg("problem.rank_wrong", rank=row.rank, expected=expected,
                                                     higher=expected - 1)))
    _check_tier_order(rows, problems)
    seen: dict[str, Location] = {}
    for row in rows:
        key = name_key(row.name)
        if key in seen:
            problems.append(Problem(row.loc, msg("problem.listed_twice", name=row.name, level=title, where=seen[key])))
        else:
            seen[key] = row.loc
    _check_counts(level, problems)


def _check_tier_order(rows: list[ParsedRow], problems: list[Problem]) -> None:
    """A lower percentage never has a better tier than any higher percentage in the same ranking."""
    graded = sorted((r for r in rows if r.tier and r.score is not None), key=lambda r: -r.score)
    worst_higher: str | None = None  # the worst tier among strictly higher percentages
    for _, group in groupby(graded, key=lambda r: r.score):
        group = list(group)
        for row in group:
            if worst_higher and is_better(row.tier, worst_higher):
                problems.append(Problem(row.loc, msg("problem.tier_order", tier=tier_word(row.tier),
                                                     percentage=_pct(row.score), worse=tier_word(worst_higher))))
        for row in group:
            if worst_higher is None or is_better(worst_higher, row.tier):
                worst_higher = row.tier


def _check_counts(level: ParsedLevel, problems: list[Problem]) -> None:
    title = level_name(level.code)
    if not level.stated_counts:
        problems.append(Problem(level.loc, msg("problem.no_counts", level=title)))
        return
    actual = Counter(r.tier for r in level.rows if r.tier)
    stated = {c.tier: c for c in level.stated_counts}
    for tier in list(stated) + [t for t in actual if t not in stated]:
        said = stated[tier].count if tier in stated else 0
        if said != actual.get(tier, 0):
            loc = stated[tier].loc if tier in stated else level.counts_loc or level.loc
            problems.append(Problem(loc, msg("problem.count_mismatch", said=said, level=title, tier=tier_word(tier),
                                             actual=actual.get(tier, 0))))


def validate(decision: ParsedDecision) -> tuple[list[Problem], list[Problem]]:
    """Errors and warnings of a parsed decision."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    where = Location(decision.source)
    missing = [what for what, value in (("issuer", decision.issuer), ("number", decision.number),
                                        ("signed", decision.signed_date), ("year", decision.evaluated_year)) if not value]
    errors.extend(Problem(where, msg("problem.not_found", what=msg(f"problem.what.{what}"))) for what in missing)
    if not decision.levels:
        errors.append(Problem(where, msg("problem.no_table")))
    for level in decision.levels:
        _check_level(level, errors)
    thresholds = thresholds_for(decision.issuer) if decision.issuer else None
    if thresholds:
        for level in decision.levels:
            for row in level.rows:
                if row.tier and row.score is not None:
                    expected = thresholds.expected_tier(row.score)
                    if expected and expected != row.tier:
                        warnings.append(Problem(row.loc, msg(
                            "problem.threshold", name=row.name, percentage=_pct(row.score),
                            tier=tier_word(row.tier), issuer=thresholds.issuer, expected=tier_word(expected))))
    return errors, warnings
