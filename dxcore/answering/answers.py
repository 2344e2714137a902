"""Answer: what to say, as a plain object any adapter renders (plain text here, Telegram HTML in bot/).

Builders take what the queries return and phrase it as message keys with typed parameters (dxcore.answering.i18n); the
renderer words it in Vietnamese (decimal commas) or English. Every answer about results carries its citation.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from dxcore.answering.formatting import format_exact
from dxcore.answering.i18n import (
    VI,
    Appendix,
    Day,
    Gap,
    Level,
    Percent,
    Score,
    Text,
    Tier,
    join,
    msg,
    word,
)
from dxcore.answering.queries import (
    Citation,
    DecisionInfo,
    HistoryPoint,
    LevelCounts,
    RankedRow,
    RankingSlice,
    RankingView,
    Scale,
    UnitResult,
    UnitView,
)
from dxcore.conversation.actions import Action, AskExample, Follow, Pick, Unfollow
from dxcore.paths import data_dir
from dxcore.understanding.levels import level_name
from dxcore.understanding.lineage import (
    ABOLISHED,
    ISSUER_MERGED,
    LEVEL_ABOLISHED,
    RENAMED,
    SPLIT,
    Fate,
    Successor,
)
from dxcore.understanding.resolver import Candidate
from dxcore.understanding.text import name_key
from dxcore.understanding.tiers import TIER_RANK
from dxcore.understanding.vocabulary import unit_key


@dataclass(frozen=True)
class Choice:
    """A button: its label and typed action; ``payload`` is the action sealed for one chat (set by the
    conversation core, see dxcore.conversation.actions), empty until then."""

    label: Text
    action: Action
    payload: str = ""


@dataclass
class Section:
    heading: Text | None
    lines: list[Text] = field(default_factory=list)
    source: Text | None = None


@dataclass
class Answer:
    kind: str
    title: Text
    sections: list[Section] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    note: Text | None = None  # how the question was understood, when that was a guess
    attachments: list[Attachment] = field(default_factory=list)
    brief_lines: int | None = None  # leading lines of each section that make the short version (group chats)
    units: list[int] = field(default_factory=list)  # ids of the units whose figures it shows, main one first

    def render_plain(self, lang: str = VI, *, numbered: bool = False) -> str:
        """Plain text; each choice a line "• label", or "1. label" where typing the number presses it."""
        parts = [word(self.title, lang)]
        if self.note:
            parts.append(word(self.note, lang))
        for section in self.sections:
            block = ([section.heading] if section.heading else []) + section.lines
            if section.source:
                block.append(section.source)
            parts.append("\n".join(word(text, lang) for text in block))
        if self.choices:
            parts.append("\n".join(f"{f'{i}.' if numbered else '•'} {word(c.label, lang)}"
                                    for i, c in enumerate(self.choices, start=1)))
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Attachment:
    """A file sent with the answer: a chart ("photo") or an export ("document"); the answer's text is its caption.
    Drawn when sent, in the reader's language."""

    kind: str
    filename: str
    draw: Callable[[str], bytes]


QUOTE_LIMIT = 80  # characters of a user's own text quoted back (a message may be 4096 characters long)


def quoted(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + '…'}”"


def level_label(code: str) -> Level:
    """"cấp sở", lower-case, for use inside sentences."""
    return Level(code, lower=True)


def ranking_label(c: Citation, *, lower: bool = False) -> Text:
    """A ranking's name: its level ("Cấp sở"), with the group when the level is ranked in groups
    ("Cấp sở – Nhóm sở có TTHC")."""
    level = Level(c.level, lower=lower)
    return msg("group.label", level=level, group=c.group) if c.group else level


def score_of(row: RankedRow) -> Score | None:
    """A row's score in its ranking's terms; None in a rank-only ranking."""
    return None if row.score is None else Score(row.score, row.scale.kind, row.scale.max)


def scale_score(value: Decimal, scale: Scale) -> Score:
    return Score(value, scale.kind, scale.max)


def gap_of(value: Decimal, scale: Scale) -> Gap:
    return Gap(value, scale.kind)


def tier_of(row: RankedRow) -> Tier | None:
    return Tier(row.tier, row.tier_printed) if row.tier or row.tier_printed else None


def document_title(number: str) -> Text:
    """"Quyết định số 1568/QĐ-UBND", or for a report stored under a label ("DTI-2022/BTTTT") "Báo cáo DTI-2022/BTTTT"."""
    return msg("document.decision" if "QĐ" in number.upper() else "document.report", number=number)


def source_line(c: Citation, *, with_appendix: bool = True) -> Text:
    if not with_appendix:
        return msg("source.decision", document=document_title(c.number), date=Day(c.signed_date), issuer=c.issuer,
                   year=c.evaluated_year)
    return msg("source.appendix", document=document_title(c.number), date=Day(c.signed_date), issuer=c.issuer,
               appendix=Appendix(c.appendix), year=c.evaluated_year)


def ranking_title(ranking: RankingView, lang: str = VI) -> str:
    """The heading of a ranking's chart or sheet."""
    return msg("chart.title", level=ranking_label(ranking.citation),
               level_lower=ranking_label(ranking.citation, lower=True),
               year=ranking.decision.evaluated_year).render(lang)


def ranking_source(citation: Citation, lang: str = VI) -> str:
    """The same citation a text answer gives, worded for a chart or a sheet."""
    return word(source_line(citation), lang)


def pick_choice(unit_id: int, name: Text, year: int | None = None) -> Choice:
    """A unit offered for a question that named several (or none clearly): the tap answers and teaches."""
    return Choice(name, Pick(unit_id, year or 0))


def _neighbour(position: str, row: RankedRow, mine: RankedRow) -> Text:
    if row.score is None or mine.score is None:
        return msg(f"unit.{position}_rank", name=row.name, rank=row.rank)
    gap = abs(row.score - mine.score)
    if not gap:
        difference = msg("unit.same_score")
    elif row.score > mine.score:
        difference = msg("unit.higher_by", points=gap_of(gap, row.scale))
    else:
        difference = msg("unit.lower_by", points=gap_of(gap, row.scale))
    return msg(f"unit.{position}", name=row.name, rank=row.rank, percentage=score_of(row), difference=difference)


def subscores_line(row: RankedRow) -> Text | None:
    """"Chỉ số thành phần: Chính quyền số 0,7120, Kinh tế số 0,6543", in the ranking's order."""
    if not row.subscores:
        return None
    items = [msg("unit.subscore", name=x.name, value=_subscore_value(x.value, x.printed))
             for x in row.subscores]
    return msg("unit.subscores", items=join(items, "; "))


def subscores_answer(result: UnitResult, extreme: str | None) -> Answer:
    """A unit's sub-indices, in the document's order, and which is lowest or highest when asked and comparable:
    shares of each maximum where the document prints them, or the values themselves when they are indices (0–1);
    otherwise (points whose maxima are not printed) they are not compared."""
    row, title = result.row, msg("subscores.title", name=result.name, level=level_label(result.level),
                                 year=result.citation.evaluated_year)
    if not row.subscores:
        lines: list[Text] = [msg("subscores.none")]
    else:
        lines = [msg("subscores.item_of", name=x.name, value=_subscore_value(x.value, x.printed),
                     maximum=_Exact(x.maximum)) if x.maximum is not None
                 else msg("subscores.item", name=x.name, value=_subscore_value(x.value, x.printed))
                 for x in row.subscores]
        valued = [x for x in row.subscores if x.value is not None]
        if extreme and valued:
            if all(x.maximum for x in valued):
                shares, relative = {x.name: x.value / x.maximum for x in valued}, msg("subscores.relative")
            elif row.scale.kind == "index" and all(x.value <= 1 for x in valued):  # one scale, 0–1
                shares, relative = {x.name: x.value for x in valued}, ""
            else:
                shares, relative = None, ""
            if shares is None:
                lines.append(msg("subscores.not_comparable"))
            else:
                pick = min if extreme == "lowest" else max
                lines.append(msg(f"subscores.{extreme}", name=pick(shares, key=shares.__getitem__), relative=relative))
    return Answer("subscores", title, [Section(None, lines, source_line(result.citation))], units=[result.unit_id])


def _subscore_value(value: Decimal | None, printed: str) -> Text:
    return printed if value is None else _Exact(value)


@dataclass(frozen=True)
class _Exact:
    """A number with its printed digits, in the reader's style ("0,7120"; English "0.7120")."""

    value: Decimal

    def render(self, lang: str = VI) -> str:
        return format_exact(self.value, lang)


def unit_answer(result: UnitResult) -> Answer:
    row = result.row
    rank: Text = f"{row.rank}/{result.total}"
    if result.tied_with:
        rank = msg("unit.rank_tied", rank=rank, others=result.tied_with)
    lines: list[Text] = [msg("unit.rank_group", rank=rank, group=result.citation.group) if result.citation.group
                         else msg("unit.rank", rank=rank)]
    if row.score is not None:
        lines.append(msg("unit.percentage", percentage=score_of(row)) if row.scale.kind == "percent"
                     else msg("unit.score", score=score_of(row)))
    if (tier := tier_of(row)) is not None:
        lines.append(msg("unit.tier", tier=tier))
    if (subscores := subscores_line(row)) is not None:
        lines.append(subscores)
    if result.next_tier:
        gap = result.next_tier
        lines.append(msg("unit.gap", points=gap_of(gap.points, row.scale), tier=Tier(gap.tier),
                         year=result.citation.evaluated_year, lowest=scale_score(gap.lowest, row.scale)))
    if result.above:
        lines.append(_neighbour("above", result.above, row))
    if result.below:
        lines.append(_neighbour("below", result.below, row))
    title = msg("unit.title", name=result.name, level=level_label(result.level), year=result.citation.evaluated_year)
    shown = [result.unit_id] + [r.unit_id for r in (result.above, result.below) if r]
    return Answer("unit", title, [Section(None, lines, source_line(result.citation))], brief_lines=len(lines[:3]),
                  units=shown)


def _ranked_line(row: RankedRow, with_tier: bool = True) -> Text:
    tier = tier_of(row) if with_tier else None
    score = score_of(row)
    if score is None:
        return msg("ranked.rank_only_tier", rank=row.rank, name=row.name, tier=tier) if tier \
            else msg("ranked.rank_only", rank=row.rank, name=row.name)
    if tier is not None:
        return msg("ranked.line_tier", rank=row.rank, name=row.name, percentage=score, tier=tier)
    return msg("ranked.line", rank=row.rank, name=row.name, percentage=score)


LIST_LIMIT = 200  # rows of one level listed in a chat answer; the rest is counted, and /xuat gives every row


def _shown(slices: list[RankingSlice]) -> list[int]:
    return [row.unit_id for s in slices for row in s.rows[:LIST_LIMIT]]


def _listed(rows: list[RankedRow], with_tier: bool = True) -> list[Text]:
    """A level's rows as lines, at most LIST_LIMIT of them (a commune ranking may hold thousands)."""
    lines: list[Text] = [_ranked_line(r, with_tier) for r in rows[:LIST_LIMIT]]
    if len(rows) > LIST_LIMIT:
        lines.append(msg("list.more", count=len(rows) - LIST_LIMIT))
    return lines


def tier_tally(pairs) -> Text:
    """"Tốt 8, Khá 9, Trung bình 3" from (tier code, count) pairs."""
    return join(msg("tally.item", tier=Tier(tier), count=count) for tier, count in pairs)


TierChoice = str | frozenset[str] | None  # one tier, a set ("khá trở lên"), or none


def tier_in(tier: TierChoice, code: str) -> bool:
    return tier is None or (code == tier if isinstance(tier, str) else code in tier)


def tier_text(tier: TierChoice) -> Text:
    """A tier's name, or the names of a set of tiers, best first ("Tốt, Khá")."""
    if isinstance(tier, str):
        return Tier(tier)
    return join(Tier(code) for code in sorted(tier or (), key=lambda code: TIER_RANK.get(code, 99)))


def counts_answer(levels: list[LevelCounts], tier: TierChoice, note: str | None = None) -> Answer:
    sections = []
    if tier is not None:  # a ranking that prints no tiers (points, ranks only) has none of any tier to count
        levels = [lc for lc in levels if lc.counts] or levels
    for lc in levels:
        lines: list[Text] = []
        if not lc.counts:
            lines.append(msg("counts.untiered", total=lc.total))
        elif tier is not None:
            have = sum(c.count for c in lc.counts if tier_in(tier, c.tier))
            lines.append(msg("counts.of_tier", level=ranking_label(lc.citation), have=have, total=lc.total, tier=tier_text(tier)))
        # The decision's own wording of each tier ("Xếp loại Tốt") when Vietnamese; the tier's name in English.
        # (A tier the decision did not state has no wording of its own: its name, then.)
        lines += [msg("counts.line", label=c.label if c.label != c.tier else Tier(c.tier), tier=Tier(c.tier),
                      count=c.count) for c in lc.counts]
        lines.append(msg("counts.total", total=lc.total))
        sections.append(Section(msg("counts.heading", level=ranking_label(lc.citation),
                                    year=lc.citation.evaluated_year), lines,
                                source_line(lc.citation)))
    if len(levels) > 1:
        total = sum(lc.total for lc in levels)
        lines = [msg("counts.grand_total", total=total)]
        if tier is not None:
            have = sum(c.count for lc in levels for c in lc.counts if tier_in(tier, c.tier))
            lines.append(msg("counts.grand_of_tier", have=have, total=total, tier=tier_text(tier)))
        sections.append(Section(None, lines))
    return Answer("counts", msg("counts.title"), sections, note=note)


def ranking_answer(slices: list[RankingSlice], *, bottom: bool, n: int, note: Text | None = None) -> Answer:
    n = min(n, max((len(s.rows) for s in slices), default=n))  # "top 500" of a ranking of 20 is its 20
    if n == 1:
        title = msg("ranking.last_one" if bottom else "ranking.first_one")
    else:
        title = msg("ranking.last_n" if bottom else "ranking.top_n", n=n)
    sections = [
        Section(msg("ranking.heading", level=ranking_label(s.citation), year=s.citation.evaluated_year,
                    total=s.total), _listed(s.rows), source_line(s.citation))
        for s in slices
    ]
    return Answer("bottom" if bottom else "top", title, sections, note=note, units=_shown(slices))


def tier_list_answer(slices: list[RankingSlice], tier: TierChoice) -> Answer:
    sections = []
    for s in slices:
        heading = msg("tier_list.heading", level=ranking_label(s.citation), have=len(s.rows), total=s.total, tier=tier_text(tier),
                      year=s.citation.evaluated_year)
        lines = _listed(s.rows, with_tier=False) or [msg("tier_list.none")]
        sections.append(Section(heading, lines, source_line(s.citation)))
    return Answer("tier_list", msg("tier_list.title", tier=tier_text(tier)), sections, units=_shown(slices))


def decisions_answer(decisions: list[DecisionInfo]) -> Answer:
    if not decisions:
        return Answer("decisions", msg("decisions.none"))
    lines: list[Text] = []
    for d in decisions:
        levels = join(msg("decisions.level", level=level_label(code), rows=rows) for code, rows in d.levels)
        lines.append(msg("decisions.line", document=document_title(d.number), date=Day(d.signed_date), issuer=d.issuer,
                         year=d.evaluated_year, levels=levels))
    return Answer("decisions", msg("decisions.title"), [Section(None, lines)])


with open(data_dir() / "examples.toml", "rb") as _fh:
    _EXAMPLES = tomllib.load(_fh)
EXAMPLE_UNIT: str = _EXAMPLES["unit"]  # shown in hints; data, so that another issuer's deployment can change it
HELP_EXAMPLES: tuple[str, ...] = tuple(_EXAMPLES["questions"])


def help_answer() -> Answer:
    # The examples are the buttons (bullets in plain text): listing them in the text too would say them twice.
    return Answer("help", msg("help.title"), [Section(None, [msg("help.intro"), msg("help.more")])],
                  choices=[Choice(e, AskExample(i)) for i, e in enumerate(HELP_EXAMPLES)])


def _labels(candidates: tuple[Candidate, ...]) -> list[Text]:
    """Unit names as printed, with what tells them apart in parentheses when the choices span several levels or
    issuers ("Phường 3 (cấp xã)", "Sở X (UBND tỉnh Y)")."""
    levels = len({c.unit.level for c in candidates}) > 1
    issuers = len({c.unit.issuer for c in candidates}) > 1
    labels: list[Text] = []
    for c in candidates:
        extra = ([level_label(c.unit.level)] if levels else []) + ([c.unit.issuer] if issuers else [])
        labels.append(msg("choice.label", name=c.unit.name, extra=join(extra)) if extra else c.unit.name)
    return labels


def ambiguous_answer(query: str, candidates: tuple[Candidate, ...], year: int | None) -> Answer:
    shown = candidates[:5]
    return Answer("ambiguous", msg("ambiguous.title", query=quoted(query)),
                  choices=[pick_choice(c.unit.id, label, year) for c, label in zip(shown, _labels(shown))])


def not_found_answer(query: str, suggestions: tuple[Candidate, ...], year: int | None) -> Answer:
    sections = [Section(None, [msg("not_found.hint")])]
    title = msg("not_found.suggest" if suggestions else "not_found.title", query=quoted(query))
    return Answer("not_found", title, sections,
                  choices=[pick_choice(c.unit.id, label, year) for c, label in zip(suggestions, _labels(suggestions))])


# Commands whose argument is required: how to write it, with an example (the unit comes from data/examples.toml).
USAGE = {"hang": {"unit": EXAMPLE_UNIT}, "lichsu": {"unit": EXAMPLE_UNIT}, "xeploai": {}, "bieudo": {"unit": EXAMPLE_UNIT}}


def usage_answer(command: str) -> Answer:
    params = USAGE[command]
    return Answer("usage", msg(f"usage.{command}.form", **params), [Section(None, [msg(f"usage.{command}.example",
                                                                                       **params)])])


def _year_scope(year: int | None) -> Text:
    return msg("scope.year", year=year) if year else ""


def no_result_answer(name: Text, year: int | None, years: list[int]) -> Answer:
    return Answer("no_result", msg("no_result.title", name=name, when=_year_scope(year), known=_years_known(years)))


def no_data_answer(level: str | None, year: int | None, years: list[int] = ()) -> Answer:
    """Nothing for that level or year; ``years`` are the evaluated years on record, said so the user can ask again."""
    scope = msg("scope.level", level=level_label(level)) if level else ""
    return Answer("no_data", msg("no_data.title", scope=scope, when=_year_scope(year), known=_years_known(years)))


def follow_label(scope: str, level: str, unit_name: str | None) -> Text:
    if scope == "all":
        return msg("follow.all")
    if scope == "level":
        return Level(level)
    return unit_name or msg("follow.unit")


def subscriptions_answer(follows: list[tuple[int, str, str, str | None, bool]], *, removing: bool,
                         levels: list[str]) -> Answer:
    """The chat's subscriptions (id, scope, level, unit name, silent); with buttons to remove, or to add."""
    lines: list[Text] = [msg("subscriptions.item_silent" if silent else "subscriptions.item",
                             label=follow_label(scope, level, name))
                         for _, scope, level, name, silent in follows] or [msg("subscriptions.none")]
    if removing:
        choices = [Choice(msg("subscriptions.remove", label=follow_label(scope, level, name)), Unfollow(sub_id))
                   for sub_id, scope, level, name, _ in follows]
        hint = msg("subscriptions.remove_hint")
    else:
        choices = [Choice(msg("follow.all"), Follow("all"))] + [Choice(Level(lv), Follow("level", lv)) for lv in levels]
        hint = msg("subscriptions.add_hint")
    return Answer("subscriptions", msg("subscriptions.title"), [Section(None, lines + [hint])], choices=choices)


def subscribed_answer(label: Text, created: bool, silent: bool) -> Answer:
    how = msg("subscriptions.silent") if silent else ""
    title = msg("subscribed.new" if created else "subscribed.already", label=label, how=how)
    return Answer("subscribed", title, [Section(None, [msg("subscribed.hint")])])


def unsubscribed_answer(label: Text | None, removed: int) -> Answer:
    if not removed:
        return Answer("unsubscribed", msg("unsubscribed.nothing"))
    return Answer("unsubscribed", msg("unsubscribed.one", label=label) if label
                  else msg("unsubscribed.many", removed=removed))


def not_allowed_answer() -> Answer:
    return Answer("not_allowed", msg("subscriptions.admins_only"))


def _figures(row: RankedRow, template: str = "history.figure", tier_template: str = "history.figure") -> Text:
    """", 70,74%, Khá": what a row has besides its rank (a rank-only row: nothing)."""
    parts: list[Text] = []
    if (score := score_of(row)) is not None:
        parts.append(msg(template, figure=score) if template == "history.figure" else msg(template, score=score))
    if (tier := tier_of(row)) is not None:
        parts.append(msg(tier_template, figure=tier) if tier_template == "history.figure"
                     else msg(tier_template, tier=tier))
    return join(parts, "")


def history_answer(name: str, level: str, history: list[HistoryPoint], fate: Text | None = None) -> Answer:
    """Oldest first; a predecessor's result is labelled as its ("Năm 2023, trước 1/3/2025: Sở A, hạng 3/20"), and
    the unit's own earlier printing is named when it differs from today's."""
    lines: list[Text] = []
    for point in history:
        row, c = point.row, point.citation
        figures = dict(year=c.evaluated_year, rank=row.rank, total=point.total, figures=_figures(row),
                       document=document_title(c.number))
        if point.before is not None:
            lines.append(msg("history.before_line", day=Day(point.before), name=row.name,
                             share=share_words(point.share),
                             issuer=msg("history.of_issuer", issuer=point.issuer) if point.issuer else "", **figures))
        elif unit_key(row.name) != unit_key(name):
            lines.append(msg("history.line_as", name=row.name, **figures))
        else:
            lines.append(msg("history.line", **figures))
    sections = [Section(None, lines or [msg("history.none")])]
    if fate is not None:
        sections.append(Section(None, [fate]))
    return Answer("history", msg("history.title", name=name, level=level_label(level)), sections)


def share_words(share: str) -> Text:
    """" (phần báo chí, xuất bản)" after a unit's name: the part of it that went somewhere; "" for all of it."""
    return msg("history.share", share=share) if share else ""


def fate_line(name: str, fate: Fate, units: Mapping[int, UnitView]) -> Text:
    """What became of a unit that no longer exists: merged, split, renamed, abolished, or its province merged.
    Successors are named as their latest decision prints them when stored (``units``: the snapshot's)."""
    def called(successor: Successor, unit_id: int | None) -> str:
        return units[unit_id].name if unit_id in units else successor.name

    day = Day(fate.day)
    if fate.kind == ISSUER_MERGED:
        return msg("fate.issuer_merged", day=day, name=name, into=fate.issuer_into)
    if fate.kind == LEVEL_ABOLISHED:
        return msg("fate.abolished_level", day=day, name=name, level=level_label(fate.level))
    if fate.kind == ABOLISHED:
        return msg("fate.abolished", day=day, name=name)
    if fate.kind == SPLIT:
        return msg("fate.split", day=day, name=name, parts=join(
            (msg("fate.part", share=s.share, into=called(s, i)) for s, i in fate.successors), "; "))
    (main, main_id), *others = fate.successors
    text = msg("fate.renamed" if fate.kind == RENAMED else "fate.merged", day=day, name=name, into=called(main, main_id))
    if others:
        text = join([text, join((msg("fate.share", share=s.share, into=called(s, i)) for s, i in others), " ")], " ")
    return text


DOUBTS_SHOWN = 30  # doubtful cells of a scan listed in the preview; the rest are counted


def doubts_section(doubts: list[str]) -> Section:
    """The cells OCR repaired or doubts, each with its place (the first DOUBTS_SHOWN; the rest counted)."""
    more = [msg("preview.more_doubts", count=len(doubts) - DOUBTS_SHOWN)] if len(doubts) > DOUBTS_SHOWN else []
    return Section(msg("preview.doubts"), list(doubts[:DOUBTS_SHOWN]) + more)


def preview_answer(decision, warnings: list[str], alerts: int, stored_status: str | None,
                   doubts: list[str] | None = None) -> Answer:
    """What an admin checks before publishing: the decision as read, its counts, warnings, who will be told; for
    a scan (``doubts`` not None: read by OCR), that it is one and each cell OCR repaired or doubts, with its place."""
    lines: list[Text] = [msg("preview.decision", document=document_title(decision.number or ""), date=Day(decision.signed_date),
                             issuer=decision.issuer, year=decision.evaluated_year)]
    for level in decision.levels:
        counts = Counter(row.tier for row in level.rows if row.tier)
        # In Điều 1's order when it states counts; otherwise the tiers printed, best first.
        order = [c.tier for c in level.stated_counts] or sorted(counts, key=lambda t: TIER_RANK.get(t, 99))
        appendix = name_key(level.appendix) != name_key(level_name(level.code))  # a report's table may have none
        label: Text = Level(level.code, lower=appendix)
        label = msg("group.label", level=label, group=level.group) if level.group else label
        if appendix:
            label = join([Appendix(level.appendix), label])
        if order:
            lines.append(msg("preview.level", ranking=label, rows=len(level.rows),
                             tiers=tier_tally((t, counts.get(t, 0)) for t in order)))
        else:  # ranks and scores only
            lines.append(msg("preview.level_untiered", ranking=label, rows=len(level.rows)))
    if stored_status == "published":
        lines.append(msg("preview.already_published"))
    elif stored_status == "conflict":
        lines.append(msg("preview.conflict"))
    else:
        lines.append(msg("preview.audience", alerts=alerts))
    if doubts is not None:
        lines.append(msg("preview.scanned", doubts=len(doubts)) if doubts else msg("preview.scanned_sure"))
    sections = [Section(None, lines)]
    if doubts:
        sections.append(doubts_section(doubts))
    if warnings:
        sections.append(Section(msg("preview.warnings"), list(warnings[:10])))
    return Answer("preview", msg("preview.title"), sections)


RECEIPT_STATUSES = ("sent", "blocked", "failed")


def receipt_answer(number: str, counts: dict[str, int], migrated: int) -> Answer:
    """For admins once every alert of a publish run has been handled."""
    lines: list[Text] = [msg(f"receipt.{status}", count=counts.get(status, 0)) for status in RECEIPT_STATUSES]
    lines.append(msg("receipt.migrated", count=migrated))
    return Answer("receipt", msg("receipt.title", document=document_title(number)), [Section(None, lines)])


# --- kinds that read the rankings in other ways ------------------------------------------------------------------


def compare_answer(results: list[UnitResult]) -> Answer:
    """Two or more units side by side: each result, who is higher and by how much, and by how many places when
    they share a ranking."""
    lines: list[Text] = [msg("compare.line", name=r.name, rank=r.row.rank, total=r.total,
                             level=ranking_label(r.citation, lower=True),
                             figures=_figures(r.row, "compare.score", "compare.tier")) for r in results]
    for first, second in zip(results, results[1:]):
        comparable = first.row.score is not None and second.row.score is not None \
            and first.row.scale == second.row.scale
        if not comparable:
            higher, lower = (first, second) if first.row.rank <= second.row.rank else (second, first)
        else:
            higher, lower = (first, second) if first.row.score >= second.row.score else (second, first)
            gap = higher.row.score - lower.row.score
            if gap:
                lines.append(msg("compare.higher", higher=higher.name, lower=lower.name,
                                 points=gap_of(gap, first.row.scale)))
            else:
                lines.append(msg("compare.same", first=first.name, second=second.name,
                                 percentage=score_of(first.row)))
        if first.citation == second.citation:
            places = lower.row.rank - higher.row.rank
            lines.append(msg("compare.places", level=ranking_label(first.citation, lower=True), higher=higher.name,
                             lower=lower.name, places=places) if places
                         else msg("compare.tied", level=ranking_label(first.citation, lower=True)))
        else:
            lines.append(msg("compare.other_levels"))
    sources = list(dict.fromkeys(r.citation for r in results))
    sections = [Section(None, lines, source_line(sources[0]) if len(sources) == 1 else None)]
    sections += [Section(None, [], source_line(c)) for c in sources] if len(sources) > 1 else []
    return Answer("compare", msg("compare.title"), sections, units=[r.unit_id for r in results])


def _years_known(years: list[int]) -> Text:
    return msg("no_result.years", years=", ".join(map(str, years))) if years else ""


def rank_answer(slices: list[RankingSlice], rank: int, *, from_bottom: bool) -> Answer:
    sections = []
    for s in slices:
        heading = msg("ranking.heading", level=ranking_label(s.citation), year=s.citation.evaluated_year,
                      total=s.total)
        if s.rows:
            lines = _listed(s.rows)
        elif rank > s.total:
            lines = [msg("rank_n.none", level=ranking_label(s.citation), year=s.citation.evaluated_year, total=s.total,
                         rank=rank)]
        else:
            lines = [msg("rank_n.skipped", rank=rank)]
        sections.append(Section(heading, lines, source_line(s.citation)))
    title = msg("rank_n.title_bottom" if from_bottom else "rank_n.title", rank=rank)
    return Answer("rank_n", title, sections, units=_shown(slices))


def threshold_value(value: Decimal, scale: Scale) -> Decimal:
    """A threshold as asked ("trên 90%", "trên 800 điểm") on a ranking's scale: percentages and points compare with
    the score as it is; an index (0–1) with the number read as a percentage when it is above 1 ("trên 90%": 0,90)."""
    return value / 100 if scale.kind == "index" and value > 1 else value


def admits(bounds, row: RankedRow) -> bool:
    """Whether a row's score meets a threshold; a rank-only row never does."""
    if row.score is None:
        return False
    value = row.score
    if row.scale.kind == "index" and any(b is not None and b > 1 for b in (bounds.low, bounds.high)):
        value = value * 100
    return bounds.admits(value)


def _bound(value: Decimal, scale: Scale) -> Text:
    if scale.kind in ("points", "index"):
        return Score(threshold_value(value, scale), scale.kind)
    return Percent(value)


def condition(bounds, scale: Scale = Scale()) -> Text:
    """"trên 90%", "từ 70% đến 80%" for a threshold's bounds; "trên 90 điểm", "trên chỉ số 0,90" on a ranking of
    points or an index."""
    low, high = bounds.low, bounds.high
    if low is not None and high is not None:
        return msg("threshold.between", low=_bound(low, scale), high=_bound(high, scale))
    if low is not None:
        return msg("threshold.at_least" if bounds.low_inclusive else "threshold.above", value=_bound(low, scale))
    return msg("threshold.at_most" if bounds.high_inclusive else "threshold.below", value=_bound(high, scale))


def threshold_answer(slices: list[RankingSlice], bounds, *, counting: bool, tier: TierChoice = None) -> Answer:
    sections = []
    for s in slices:
        heading = msg("threshold.heading", level=ranking_label(s.citation), have=len(s.rows), total=s.total,
                      year=s.citation.evaluated_year)
        sections.append(Section(heading, _listed(s.rows) or [msg("tier_list.none")],
                                source_line(s.citation)))
    scales = {s.scale for s in slices}
    scale = scales.pop() if len(scales) == 1 else Scale()
    key = "threshold.count_title" if counting else "threshold.title"
    if scale.kind in ("points", "index"):
        key += "_score"
    title = msg(key, condition=condition(bounds, Scale(scale.kind)))
    if tier is not None:
        title = title + msg("threshold.of_tier", tier=tier_text(tier))
    return Answer("threshold", title, sections, units=_shown(slices))


@dataclass(frozen=True)
class LevelMean:
    level: str
    mean: Decimal
    count: int
    citation: Citation
    tier: str | frozenset[str] | None = None
    ends: int | None = None  # the mean of the first (or, ``bottom``, last) n only
    bottom: bool = False
    scale: Scale = Scale()


def average_answer(means: list[LevelMean], overall: tuple[Decimal, int] | None,
                   unit: tuple[UnitResult, LevelMean] | None = None) -> Answer:
    lines: list[Text] = []
    if unit is not None:
        result, level_mean = unit
        scale = result.row.scale
        gap = result.row.score - level_mean.mean
        key = "unit_above" if gap > 0 else "unit_below" if gap < 0 else "unit_equal"
        lines.append(msg(f"average.{key}", name=result.name, percentage=score_of(result.row),
                         level=ranking_label(result.citation, lower=True), mean=scale_score(level_mean.mean, scale),
                         points=gap_of(abs(gap), scale)))
    for m in means:
        level, mean_score = ranking_label(m.citation), scale_score(m.mean, m.scale)
        if m.ends:
            lines.append(msg("average.bottom_n" if m.bottom else "average.top_n", level=level, n=m.count,
                             year=m.citation.evaluated_year, mean=mean_score))
        elif m.tier:
            lines.append(msg("average.tier", level=level, tier=tier_text(m.tier), year=m.citation.evaluated_year,
                             mean=mean_score, count=m.count))
        else:
            lines.append(msg("average.level", level=level, year=m.citation.evaluated_year,
                             mean=mean_score, count=m.count))
    if overall is not None:
        lines.append(msg("average.all", count=overall[1], mean=Percent(overall[0])))
    lines.append(msg("average.how"))
    citations = list(dict.fromkeys([m.citation for m in means] + ([unit[1].citation] if unit else [])))
    sections = [Section(None, lines)] + [Section(None, [], source_line(c, with_appendix=False))
                                         for c in dict.fromkeys(_decision_of(c) for c in citations)]
    return Answer("average", msg("average.title"), sections, units=[unit[0].unit_id] if unit else [])


def _decision_of(citation: Citation) -> Citation:
    """The citation without its appendix: one source line per decision."""
    return Citation(citation.issuer, citation.number, citation.signed_date, citation.evaluated_year, "", "")


def mean_side_answer(sides: list[tuple[RankingSlice, Decimal]], side: str) -> Answer:
    """The units above or below their level's mean."""
    sections = []
    for s, level_mean in sides:
        heading = msg(f"average.side_heading_{side}", level=ranking_label(s.citation), year=s.citation.evaluated_year,
                      mean=scale_score(level_mean, s.scale), have=len(s.rows), total=s.total)
        sections.append(Section(heading, _listed(s.rows) or [msg("tier_list.none")],
                                source_line(s.citation)))
    return Answer("average", msg(f"average.side_title_{side}"), sections,
                  units=_shown([s for s, _ in sides]))


def full_list_answer(slices: list[RankingSlice]) -> Answer:
    sections = [Section(msg("ranking.heading", level=ranking_label(s.citation), year=s.citation.evaluated_year,
                            total=s.total), _listed(s.rows), source_line(s.citation)) for s in slices]
    return Answer("full_list", msg("full_list.title"), sections, units=_shown(slices))


def change_answer(lines: list[Text], shown: list[int]) -> Answer:
    return Answer("change", msg("change.title"), [Section(None, lines)], units=shown)


def nothing_to_compare(decisions: list[DecisionInfo]) -> Text:
    years = sorted({d.evaluated_year for d in decisions})
    return msg("change.none", years=", ".join(map(str, years)),
               decisions=join(document_title(d.number) for d in decisions))


def method_answer(decision: DecisionInfo, tier_ranges: list[tuple[str, str, Score, Score]]) -> Answer:
    """What the decision says about itself, and how its tiers fell (it states no thresholds of its own)."""
    lines: list[Text] = [msg("method.decision", document=document_title(decision.number), date=Day(decision.signed_date),
                             issuer=decision.issuer, year=decision.evaluated_year)]
    lines.append(msg("method.signer", title=decision.signer_title or "", name=decision.signer)
                 if decision.signer else msg("method.no_signer"))
    sections = [Section(None, lines)]
    if decision.basis:
        sections.append(Section(msg("method.basis"), [f"• {line}" for line in decision.basis]))
    if tier_ranges:
        sections.append(Section(msg("method.tiers", year=decision.evaluated_year), [
            msg("method.tier_range", level=level, tier=Tier(tier), lowest=low, highest=high)
            for level, tier, low, high in tier_ranges]))
    return Answer("method", msg("method.title"), sections)


def chitchat_answer(kind: str) -> Answer:
    if kind == "greeting":
        return Answer("chitchat", msg("chitchat.greeting"), choices=help_answer().choices)
    return Answer("chitchat", msg("chitchat.thanks" if kind == "thanks" else "chitchat.ack"))


def offtopic_answer() -> Answer:
    return Answer("offtopic", msg("offtopic.title"), choices=help_answer().choices)


def elsewhere_answer(place: str, issuers: list[str]) -> Answer:
    """A question about another province's units: none are stored, and no namesake here is the one asked about."""
    return Answer("not_found", msg("elsewhere.title", place=place, issuers=join(issuers)),
                  [Section(None, [msg("not_found.hint")])])
