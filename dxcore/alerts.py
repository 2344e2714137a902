"""What an alert says: the new decision's headline and, for each unit or level a chat follows, the new rank,
percentage and tier with the change since the previous decision ("↑ 3 hạng", "+4,20 điểm %", "Khá → Tốt")."""

from __future__ import annotations

from dxcore.answers import Answer, Section, level_label, source_line
from dxcore.formatting import format_date, format_number, format_percent
from dxcore.levels import level_name
from dxcore.queries import RankingView, Snapshot, tier_counts
from dxcore.subscriptions import ALL, LEVEL, UNIT
from dxcore.tiers import tier_word

Follow = tuple[str, str, int]  # (scope, level, unit id), as in Subscription


def _previous(snapshot: Snapshot, ranking: RankingView, unit_id: int):
    """The unit's row in the decision before this one (by evaluated year, then signing date), if it was ranked."""
    placed = snapshot.by_unit.get(unit_id, [])
    index = next((i for i, (r, _) in enumerate(placed) if r.id == ranking.id), None)
    if index is None or index + 1 >= len(placed):
        return None
    earlier, row_index = placed[index + 1]
    return earlier.rows[row_index]


def change_line(snapshot: Snapshot, ranking: RankingView, row_index: int) -> str:
    row = ranking.rows[row_index]
    parts = [f"hạng {row.rank}/{len(ranking.rows)}", format_percent(row.percentage), tier_word(row.tier)]
    before = _previous(snapshot, ranking, row.unit_id)
    if before is None:
        return f"{row.name}: {', '.join(parts)} (lần đầu xếp hạng)"
    moved = before.rank - row.rank
    parts[0] += f" ({'↑' if moved > 0 else '↓'} {abs(moved)} hạng)" if moved else " (giữ hạng)"
    delta = row.percentage - before.percentage
    if delta:
        parts[1] += f" ({'+' if delta > 0 else '−'}{format_number(abs(delta))} điểm %)"
    if before.tier != row.tier:
        parts[2] = f"{tier_word(before.tier)} → {tier_word(row.tier)}"
    return f"{row.name}: {', '.join(parts)}"


def alert_answer(snapshot: Snapshot, decision_id: int, follows: list[Follow]) -> Answer:
    rankings = [r for r in snapshot.rankings if r.decision.id == decision_id]
    if not rankings:
        raise LookupError(f"decision {decision_id} is not in the snapshot")
    d = rankings[0].decision
    headline = [f"Quyết định số {d.number} ngày {format_date(d.signed_date)} của {d.issuer}."]
    by_level = {lc.level: lc for lc in tier_counts(snapshot, year=d.evaluated_year, issuer=d.issuer)}
    for ranking in rankings:
        counts = by_level.get(ranking.level)
        if counts and counts.citation.number == d.number:
            tiers = ", ".join(f"{tier_word(c.tier)} {c.count}" for c in counts.counts)
            headline.append(f"{level_name(ranking.level)} ({counts.total} đơn vị): {tiers}.")
    sections = [Section(None, headline)]
    followed_units = {unit_id for scope, _, unit_id in follows if scope == UNIT}
    followed_levels = {level for scope, level, _ in follows if scope == LEVEL}
    unit_lines = [change_line(snapshot, r, i) for r in rankings for i, row in enumerate(r.rows)
                  if row.unit_id in followed_units and r.level not in followed_levels]
    if unit_lines:
        sections.append(Section("Đơn vị bạn theo dõi", unit_lines))
    for ranking in rankings:
        if ranking.level in followed_levels:
            sections.append(Section(f"{level_name(ranking.level)}",
                                    [change_line(snapshot, ranking, i) for i in range(len(ranking.rows))]))
    sections[-1].source = source_line(rankings[0].citation).replace(f", {rankings[0].appendix}", "")
    follows_all = any(scope == ALL for scope, _, _ in follows)
    title = f"Kết quả Chuyển đổi số năm {d.evaluated_year} đã được công bố"
    if not follows_all and not unit_lines and not followed_levels:
        title += f" ({', '.join(level_label(r.level) for r in rankings)})"
    return Answer("alert", title, sections)
