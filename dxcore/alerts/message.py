"""What an alert says: the new decision's headline and, for each unit or level a chat follows, the new rank,
percentage and tier with the change since the previous decision ("↑ 3 hạng", "+4,20 điểm %", "Khá → Tốt")."""

from __future__ import annotations

from dxcore.alerts.subscriptions import ALL, LEVEL, UNIT
from dxcore.answering.answers import (
    Answer,
    Section,
    document_title,
    fate_line,
    gap_of,
    level_label,
    ranking_label,
    score_of,
    share_words,
    source_line,
    tier_of,
    tier_tally,
)
from dxcore.answering.i18n import Day, Text, Tier, join, msg
from dxcore.answering.queries import (
    HistoryPoint,
    RankingView,
    Snapshot,
    previous_result,
    tier_counts,
)
from dxcore.understanding.lineage import ABOLISHED, LEVEL_ABOLISHED, year_end

Follow = tuple[str, str, int]  # (scope, level, unit id), as in Subscription


def change_line(snapshot: Snapshot, ranking: RankingView, row_index: int) -> Text:
    """The unit's new result and its change since its previous one, when that is the same body ranked in the same
    level and group (a rank in another group says nothing of a move); a unit that took over others since says
    what they had instead."""
    row = ranking.rows[row_index]
    rank: Text = msg("alert.rank", rank=row.rank, total=len(ranking.rows))
    score = score_of(row)
    percentage: Text | None = msg("alert.percentage", percentage=score, change="") if score else None
    tier: Text | None = msg("alert.tier", tier=tier_of(row)) if tier_of(row) else None
    previous = previous_result(snapshot, ranking, row.unit_id)
    if previous.changed_on is not None:
        parts = join(p for p in (rank, percentage, tier) if p)
        if not previous.predecessors:
            return msg("alert.new_body", name=row.name, parts=parts, day=Day(previous.changed_on))
        days = sorted({p.before for p in previous.predecessors})  # each predecessor under the day it came over
        return msg("alert.line_before", name=row.name, parts=parts, before=join(
            (msg("alert.before_day", day=Day(day), units=join(
                (predecessor_result(p) for p in previous.predecessors if p.before == day), "; ")) for day in days),
            ". "))
    same = previous.same
    if same is None or (same.citation.level, same.citation.group) != (ranking.level, ranking.group):
        return msg("alert.first_time", name=row.name, parts=join(p for p in (rank, percentage, tier) if p))
    before = same.row
    moved = before.rank - row.rank
    rank = rank + (msg("alert.moved_up" if moved > 0 else "alert.moved_down", places=abs(moved)) if moved
                   else msg("alert.kept_rank"))
    delta = row.score - before.score if score and before.score is not None and before.scale == row.scale else None
    if delta:
        percentage = msg("alert.percentage", percentage=score,
                         change=msg("alert.points", sign="+" if delta > 0 else "−", points=gap_of(abs(delta), row.scale)))
    if tier is not None and before.tier is not None and before.tier != row.tier:
        tier = msg("alert.tier_change", before=Tier(before.tier, before.tier_printed), after=tier_of(row))
    return msg("alert.line", name=row.name, parts=join(p for p in (rank, percentage, tier) if p))


def predecessor_result(point: HistoryPoint) -> Text:
    """"Sở A (phần x) hạng 3/20, 98,31%, Tốt (năm 2023)": a predecessor's last result, labelled as its."""
    row = point.row
    figures = [msg("alert.rank", rank=row.rank, total=point.total), score_of(row), tier_of(row)]
    return msg("alert.predecessor", name=row.name, share=share_words(point.share),
               issuer=msg("history.of_issuer", issuer=point.issuer) if point.issuer else "",
               figures=join(f for f in figures if f), year=point.citation.evaluated_year)


def successors_in(snapshot: Snapshot, unit_id: int, rankings: list[RankingView]) -> set[int]:
    """The units of these rankings that took over a unit they no longer rank (followed, it is followed through
    them), for a decision of after the change."""
    return snapshot.lineage.successors_among(unit_id, {row.unit_id for r in rankings for row in r.rows},
                                             year_end(rankings[0].decision.evaluated_year))


def _ceased_lines(snapshot: Snapshot, followed: set[int], rankings: list[RankingView]) -> list[Text]:
    """What became of each followed unit this decision no longer ranks, when a lineage file says: a merged one is
    followed through its successors here; an abolished one is said once, in its issuer's first decision after."""
    d = rankings[0].decision
    lines: list[Text] = []
    for unit_id in sorted(followed):
        fate, unit = snapshot.lineage.fate(unit_id), snapshot.units.get(unit_id)
        if fate is None or unit is None or fate.day > year_end(d.evaluated_year):
            continue
        if fate.kind in (ABOLISHED, LEVEL_ABOLISHED):
            if unit.issuer != d.issuer or any(
                    r.decision.issuer == d.issuer and fate.day <= year_end(r.decision.evaluated_year)
                    and (r.decision.evaluated_year, r.decision.signed_date) < (d.evaluated_year, d.signed_date)
                    for r in snapshot.rankings):
                continue
        elif not successors_in(snapshot, unit_id, rankings):
            continue
        lines.append(fate_line(unit.name, fate, snapshot.units))
    return lines


def alert_answer(snapshot: Snapshot, decision_id: int, follows: list[Follow]) -> Answer:
    rankings = [r for r in snapshot.rankings if r.decision.id == decision_id]
    if not rankings:
        raise LookupError(f"decision {decision_id} is not in the snapshot")
    d = rankings[0].decision
    headline: list[Text] = [msg("alert.decision", document=document_title(d.number), date=Day(d.signed_date),
                                issuer=d.issuer)]
    by_ranking = {(lc.level, lc.citation.group): lc
                  for lc in tier_counts(snapshot, year=d.evaluated_year, issuer=d.issuer)}
    for ranking in rankings:
        counts = by_ranking.get((ranking.level, ranking.group))
        if counts and counts.counts and counts.citation.number == d.number:  # a ranking without tiers: no tally
            headline.append(msg("alert.level_counts", level=ranking_label(ranking.citation), total=counts.total,
                                tiers=tier_tally((c.tier, c.count) for c in counts.counts)))
    sections = [Section(None, headline)]
    followed_units = {unit_id for scope, _, unit_id in follows if scope == UNIT}
    followed_levels = {level for scope, level, _ in follows if scope == LEVEL}
    followed_units |= {s for u in set(followed_units) for s in successors_in(snapshot, u, rankings)}
    unit_lines = _ceased_lines(snapshot, followed_units, rankings)
    unit_lines += [change_line(snapshot, r, i) for r in rankings for i, row in enumerate(r.rows)
                   if row.unit_id in followed_units and r.level not in followed_levels]
    if unit_lines:
        sections.append(Section(msg("alert.followed"), unit_lines))
    for ranking in rankings:
        if ranking.level in followed_levels:
            sections.append(Section(ranking_label(ranking.citation),
                                    [change_line(snapshot, ranking, i) for i in range(len(ranking.rows))]))
    sections[-1].source = source_line(rankings[0].citation, with_appendix=False)
    follows_all = any(scope == ALL for scope, _, _ in follows)
    levels = ""
    if not follows_all and not unit_lines and not followed_levels:
        levels = msg("alert.levels", levels=join(level_label(r.level) for r in rankings))
    return Answer("alert", msg("alert.title", year=d.evaluated_year, levels=levels), sections)
