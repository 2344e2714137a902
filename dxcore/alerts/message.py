"""What an alert says: the new decision's headline and, for each unit or level a chat follows, the new rank,
percentage and tier with the change since the previous decision ("↑ 3 hạng", "+4,20 điểm %", "Khá → Tốt")."""

from __future__ import annotations

from dxcore.alerts.subscriptions import ALL, LEVEL, UNIT
from dxcore.answering.answers import (
    Answer,
    Section,
    document_title,
    gap_of,
    level_label,
    ranking_label,
    score_of,
    source_line,
    tier_of,
    tier_tally,
)
from dxcore.answering.i18n import Day, Text, Tier, join, msg
from dxcore.answering.queries import RankingView, Snapshot, tier_counts

Follow = tuple[str, str, int]  # (scope, level, unit id), as in Subscription


def _previous(snapshot: Snapshot, ranking: RankingView, unit_id: int):
    """The unit's row in the decision before this one (by evaluated year, then signing date), if it was ranked in
    the same level and group: a rank within another group says nothing of a move."""
    placed = snapshot.by_unit.get(unit_id, [])
    index = next((i for i, (r, _) in enumerate(placed) if r.id == ranking.id), None)
    if index is None or index + 1 >= len(placed):
        return None
    earlier, row_index = placed[index + 1]
    if (earlier.level, earlier.group) != (ranking.level, ranking.group):
        return None
    return earlier.rows[row_index]


def change_line(snapshot: Snapshot, ranking: RankingView, row_index: int) -> Text:
    row = ranking.rows[row_index]
    rank: Text = msg("alert.rank", rank=row.rank, total=len(ranking.rows))
    score = score_of(row)
    percentage: Text | None = msg("alert.percentage", percentage=score, change="") if score else None
    tier: Text | None = msg("alert.tier", tier=tier_of(row)) if tier_of(row) else None
    before = _previous(snapshot, ranking, row.unit_id)
    if before is None:
        return msg("alert.first_time", name=row.name, parts=join(p for p in (rank, percentage, tier) if p))
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
    unit_lines = [change_line(snapshot, r, i) for r in rankings for i, row in enumerate(r.rows)
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
