"""Answer: what to say, as a plain object any adapter renders (plain text here, Telegram HTML in bot/).

Builders take what the queries return and word it in Vietnamese, with decimal commas and the decision's citation.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from dxcore.formatting import format_date, format_number, format_percent
from dxcore.levels import level_name
from dxcore.paths import data_dir
from dxcore.queries import Citation, DecisionInfo, LevelCounts, RankedRow, RankingSlice, UnitResult
from dxcore.resolver import Candidate
from dxcore.tiers import tier_word


@dataclass(frozen=True)
class Choice:
    label: str
    payload: str  # short, ids not names: fits Telegram's 64-byte callback data


@dataclass
class Section:
    heading: str | None
    lines: list[str] = field(default_factory=list)
    source: str | None = None


@dataclass
class Answer:
    kind: str
    title: str
    sections: list[Section] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    note: str | None = None  # how the question was understood, when that was a guess
    image: bytes | None = None
    brief_lines: int | None = None  # leading lines of each section that make the short version (group chats)

    def render_plain(self) -> str:
        parts = [self.title]
        if self.note:
            parts.append(self.note)
        for section in self.sections:
            block = ([section.heading] if section.heading else []) + section.lines
            if section.source:
                block.append(section.source)
            parts.append("\n".join(block))
        if self.choices:
            parts.append("\n".join(f"• {c.label}" for c in self.choices))
        return "\n\n".join(p for p in parts if p)


QUOTE_LIMIT = 80  # characters of a user's own text quoted back (a message may be 4096 characters long)


def quoted(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + '…'}”"


def level_label(code: str) -> str:
    """"cấp sở", lower-case, for use inside sentences."""
    name = level_name(code)
    return name[:1].lower() + name[1:]


def source_line(c: Citation) -> str:
    return (f"Nguồn: Quyết định số {c.number} ngày {format_date(c.signed_date)} của {c.issuer}, {c.appendix} "
            f"(kết quả năm {c.evaluated_year}).")


def unit_choice(unit_id: int, name: str, year: int | None = None, *, pick: bool = False) -> Choice:
    """A button for a unit; a pick ("p:") answers a question that named several units, and teaches the resolver."""
    return Choice(name, f"{'p' if pick else 'u'}:{unit_id}" + (f":{year}" if year else ""))


def _neighbour(label: str, row: RankedRow, mine: RankedRow) -> str:
    gap = abs(row.percentage - mine.percentage)
    higher = "cao hơn" if row.percentage > mine.percentage else "thấp hơn"
    difference = f", {higher} {format_number(gap)} điểm %" if gap else ", bằng điểm"
    return f"{label}: {row.name} (hạng {row.rank}, {format_percent(row.percentage)}){difference}"


def unit_answer(result: UnitResult) -> Answer:
    row = result.row
    rank = f"{row.rank}/{result.total}"
    if result.tied_with:
        rank += f" (đồng hạng với {result.tied_with} đơn vị)"
    lines = [f"Xếp hạng: {rank}", f"Tỷ lệ: {format_percent(row.percentage)}", f"Xếp loại: {tier_word(row.tier)}"]
    if result.next_tier:
        gap = result.next_tier
        lines.append(
            f"Cần thêm {format_number(gap.points)} điểm % để bằng mức {tier_word(gap.tier)} thấp nhất năm "
            f"{result.citation.evaluated_year} ({format_percent(gap.lowest_percentage)})."
        )
    if result.above:
        lines.append(_neighbour("Đứng trên", result.above, row))
    if result.below:
        lines.append(_neighbour("Đứng dưới", result.below, row))
    title = f"{result.name} ({level_label(result.level)}, năm {result.citation.evaluated_year})"
    return Answer("unit", title, [Section(None, lines, source_line(result.citation))], brief_lines=3)


def _ranked_line(row: RankedRow, with_tier: bool = True) -> str:
    tier = f" ({tier_word(row.tier)})" if with_tier else ""
    return f"{row.rank}. {row.name}: {format_percent(row.percentage)}{tier}"


def counts_answer(levels: list[LevelCounts], tier: str | None, note: str | None = None) -> Answer:
    sections = []
    for lc in levels:
        lines = []
        if tier is not None:
            have = sum(c.count for c in lc.counts if c.tier == tier)
            lines.append(f"{level_label(lc.level).capitalize()} có {have}/{lc.total} đơn vị xếp loại "
                         f"{tier_word(tier)}.")
        lines += [f"{c.label}: {c.count} đơn vị" for c in lc.counts]
        lines.append(f"Tổng số: {lc.total} đơn vị")
        sections.append(Section(f"{level_name(lc.level)} (năm {lc.citation.evaluated_year})", lines,
                                source_line(lc.citation)))
    return Answer("counts", "Thống kê xếp loại", sections, note=note)


def ranking_answer(slices: list[RankingSlice], *, bottom: bool, n: int, note: str | None = None) -> Answer:
    if n == 1:
        title = "Đơn vị đứng cuối" if bottom else "Đơn vị đứng đầu"
    else:
        title = f"{n} đơn vị cuối bảng" if bottom else f"Top {n}"
    sections = [
        Section(f"{level_name(s.level)} (năm {s.citation.evaluated_year}, {s.total} đơn vị)",
                [_ranked_line(r) for r in s.rows], source_line(s.citation))
        for s in slices
    ]
    return Answer("bottom" if bottom else "top", title, sections, note=note)


def tier_list_answer(slices: list[RankingSlice], tier: str) -> Answer:
    sections = []
    for s in slices:
        heading = (f"{level_name(s.level)}: {len(s.rows)}/{s.total} đơn vị xếp loại {tier_word(tier)} "
                   f"(năm {s.citation.evaluated_year})")
        lines = [_ranked_line(r, with_tier=False) for r in s.rows] or ["Không có đơn vị nào."]
        sections.append(Section(heading, lines, source_line(s.citation)))
    return Answer("tier_list", f"Các đơn vị xếp loại {tier_word(tier)}", sections)


def decisions_answer(decisions: list[DecisionInfo]) -> Answer:
    if not decisions:
        return Answer("decisions", "Chưa có quyết định nào.")
    lines = []
    for d in decisions:
        levels = ", ".join(f"{level_label(code)} ({rows} đơn vị)" for code, rows in d.levels)
        lines.append(f"• Quyết định số {d.number} ngày {format_date(d.signed_date)} của {d.issuer}: "
                     f"kết quả năm {d.evaluated_year}; {levels}.")
    return Answer("decisions", "Các quyết định đã có", [Section(None, lines)])


with open(data_dir() / "examples.toml", "rb") as _fh:
    _EXAMPLES = tomllib.load(_fh)
EXAMPLE_UNIT: str = _EXAMPLES["unit"]  # shown in hints; data, so that another issuer's deployment can change it
HELP_EXAMPLES: tuple[str, ...] = tuple(_EXAMPLES["questions"])


def help_answer() -> Answer:
    lines = [
        "Hỏi bằng tiếng Việt, có dấu hay không dấu đều được. Ví dụ:",
        *(f"• {example}" for example in HELP_EXAMPLES),
        "• những đơn vị cấp sở xếp loại Khá",
        "• 2 đơn vị cuối cấp huyện",
        "• các quyết định đã có",
    ]
    return Answer("help", "Tra cứu kết quả Chuyển đổi số", [Section(None, lines)],
                  choices=[Choice(e, f"q:{e}") for e in HELP_EXAMPLES])


def _labels(candidates: tuple[Candidate, ...]) -> list[str]:
    """Unit names, with the issuer when the choices span several ("Sở X (UBND tỉnh Y)")."""
    several = len({c.unit.issuer for c in candidates}) > 1
    return [f"{c.unit.name} ({c.unit.issuer})" if several else c.unit.name for c in candidates]


def ambiguous_answer(query: str, candidates: tuple[Candidate, ...], year: int | None) -> Answer:
    shown = candidates[:5]
    return Answer("ambiguous", f"{quoted(query)} có thể là nhiều đơn vị. Bạn muốn hỏi đơn vị nào?",
                  choices=[unit_choice(c.unit.id, label, year, pick=True) for c, label in zip(shown, _labels(shown))])


def not_found_answer(query: str, suggestions: tuple[Candidate, ...], year: int | None) -> Answer:
    sections = [Section(None, ["Hãy gõ tên đơn vị, ví dụ “Sở Tài chính”, “UBND quận …”, hoặc hỏi “thống kê cấp sở”."])]
    title = f"Không tìm thấy đơn vị {quoted(query)}."
    if suggestions:
        title += " Có phải bạn muốn hỏi:"
    return Answer("not_found", title, sections,
                  choices=[unit_choice(c.unit.id, c.unit.name, year, pick=True) for c in suggestions])


USAGE = {
    "hang": ("/hang <tên đơn vị>", f"/hang {EXAMPLE_UNIT}"),
    "lichsu": ("/lichsu <tên đơn vị>", f"/lichsu {EXAMPLE_UNIT}"),
    "xeploai": ("/xeploai <Tốt | Khá | Trung bình | Yếu> [cấp]", "/xeploai khá cấp sở"),
}


def usage_answer(command: str) -> Answer:
    form, example = USAGE[command]
    return Answer("usage", f"Cách dùng: {form}", [Section(None, [f"Ví dụ: {example}"])])


def no_result_answer(name: str, year: int | None, years: list[int]) -> Answer:
    when = f" năm {year}" if year else ""
    known = f" Có kết quả các năm: {', '.join(map(str, years))}." if years else ""
    return Answer("no_result", f"{name} chưa có kết quả{when}.{known}")


def no_data_answer(level: str | None, year: int | None) -> Answer:
    scope = f" {level_label(level)}" if level else ""
    when = f" năm {year}" if year else ""
    return Answer("no_data", f"Chưa có kết quả xếp hạng{scope}{when}.")


def follow_label(scope: str, level: str, unit_name: str | None) -> str:
    if scope == "all":
        return "Tất cả quyết định mới"
    if scope == "level":
        return level_name(level)
    return unit_name or "Một đơn vị"


def subscriptions_answer(follows: list[tuple[int, str, str, str | None, bool]], *, removing: bool,
                         levels: list[str]) -> Answer:
    """The chat's subscriptions (id, scope, level, unit name, silent); with buttons to remove, or to add."""
    lines = [f"• {follow_label(scope, level, name)}{' (im lặng)' if silent else ''}"
             for _, scope, level, name, silent in follows] or ["Chưa đăng ký nhận thông báo nào."]
    if removing:
        choices = [Choice(f"Bỏ: {follow_label(scope, level, name)}"[:60], f"h:{sub_id}")
                   for sub_id, scope, level, name, _ in follows]
        hint = "Bấm để bỏ một đăng ký, hoặc gõ /huydangky tatca để bỏ hết."
    else:
        choices = [Choice("Tất cả quyết định mới", "s:all")] + [Choice(level_name(lv), f"s:l:{lv}") for lv in levels]
        hint = "Bấm để đăng ký thêm, hoặc gõ /dangky <tên đơn vị> để theo dõi một đơn vị (thêm “im lặng” để không đổ chuông)."
    return Answer("subscriptions", "Đăng ký nhận thông báo khi có quyết định mới", [Section(None, lines + [hint])],
                  choices=choices)


def subscribed_answer(label: str, created: bool, silent: bool) -> Answer:
    how = " (im lặng)" if silent else ""
    title = f"Đã đăng ký: {label}{how}." if created else f"Đã đăng ký từ trước: {label}{how}."
    return Answer("subscribed", title, [Section(None, ["Khi có quyết định mới, bot sẽ báo kết quả và thay đổi."])])


def unsubscribed_answer(label: str | None, removed: int) -> Answer:
    if not removed:
        return Answer("unsubscribed", "Không có đăng ký nào như vậy để bỏ.")
    return Answer("unsubscribed", f"Đã bỏ đăng ký: {label}." if label else f"Đã bỏ {removed} đăng ký.")


def not_allowed_answer() -> Answer:
    return Answer("not_allowed", "Trong nhóm, chỉ quản trị viên mới thay đổi được đăng ký nhận thông báo.")


def history_answer(name: str, level: str, history: list) -> Answer:
    lines = [f"Năm {c.evaluated_year}: hạng {row.rank}/{total}, {format_percent(row.percentage)}, "
             f"{tier_word(row.tier)} (Quyết định số {c.number})" for row, total, c in history]
    return Answer("history", f"{name} ({level_label(level)}) qua các năm",
                  [Section(None, lines or ["Chưa có kết quả nào."])])


def preview_answer(decision, warnings: list[str], alerts: int, stored_status: str | None) -> Answer:
    """What an admin checks before publishing: the decision as read, its counts, warnings, who will be told."""
    lines = [f"Quyết định số {decision.number} ngày {format_date(decision.signed_date)} của {decision.issuer}, "
             f"kết quả năm {decision.evaluated_year}."]
    for level in decision.levels:
        counts: dict[str, int] = {}
        for row in level.rows:
            counts[row.tier] = counts.get(row.tier, 0) + 1
        tiers = ", ".join(f"{tier_word(c.tier)} {counts.get(c.tier, 0)}" for c in level.stated_counts)
        lines.append(f"{level.appendix}, {level_label(level.code)}: {len(level.rows)} đơn vị ({tiers}).")
    if stored_status == "published":
        lines.append("Quyết định này đã được công bố trước đây: sẽ không gửi thông báo lần nữa.")
    elif stored_status == "conflict":
        lines.append("Đã có quyết định cùng số với nội dung khác: không thể công bố (dùng dxbot ingest --replace).")
    else:
        lines.append(f"Sẽ gửi thông báo tới {alerts} nhóm/người đăng ký.")
    sections = [Section(None, lines)]
    if warnings:
        sections.append(Section("Lưu ý", warnings[:10]))
    return Answer("preview", "Xem trước quyết định", sections)


RECEIPT_WORDS = {"sent": "đã gửi", "blocked": "bị chặn hoặc bot bị xóa khỏi nhóm", "failed": "không gửi được"}


def receipt_answer(number: str, counts: dict[str, int], migrated: int) -> Answer:
    """For admins once every alert of a publish run has been handled."""
    lines = [f"{RECEIPT_WORDS[status].capitalize()}: {counts.get(status, 0)}" for status in RECEIPT_WORDS]
    lines.append(f"Nhóm đã chuyển thành siêu nhóm (gửi tới địa chỉ mới): {migrated}")
    return Answer("receipt", f"Đã gửi xong thông báo Quyết định số {number}", [Section(None, lines)])
