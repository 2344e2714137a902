"""A question in, an Answer out: the one path the bot, `dxbot ask` and `dxbot shell` share."""

from __future__ import annotations

from dxcore import answers as A
from dxcore import intents as I
from dxcore.db import Database
from dxcore.index import Catalog, CatalogView
from dxcore.queries import list_decisions, tier_counts, top, unit_result, unit_years, units_of_tier
from dxcore.resolver import AMBIGUOUS, FOUND

SURE_SCORE = 85.0  # below this a found unit is named in a note ("Hiểu là …"), since it was matched loosely


def _scope(intent: I.Intent) -> str:
    level = A.level_label(intent.level) if intent.level else "mỗi cấp"
    return level + (f", năm {intent.year}" if intent.year else "")


def unit_answer(view: CatalogView, unit_id: int, year: int | None = None) -> A.Answer:
    result = unit_result(view.snapshot, unit_id, year)
    if result is None:
        unit = view.snapshot.units.get(unit_id)
        name = unit.name if unit else "Đơn vị này"
        return A.no_result_answer(name, year, unit_years(view.snapshot, unit_id))
    return A.unit_answer(result)


_SECOND_READING = (I.COUNTS, I.TOP, I.BOTTOM, I.TIER_LIST)


def answer_intent(view: CatalogView, intent: I.Intent, chat_id: int | None = None) -> A.Answer:
    text, kind = intent.text, intent.kind
    if kind in _SECOND_READING and not intent.explicit:
        # "Sở X có bao nhiêu phần trăm", "quận X có đứng cuối không": a named unit is what is asked about.
        named = view.resolver.resolve(text, chat_id=chat_id)
        if named.status == FOUND:
            intent = I.Intent(I.UNIT, text, None, intent.year)
            kind = I.UNIT
    if kind == I.HELP:
        return A.help_answer()
    if kind == I.DECISIONS:
        return A.decisions_answer(list_decisions(view.snapshot))
    if kind == I.COUNTS:
        levels = tier_counts(view.snapshot, intent.level, intent.year)
        note = f"Hiểu là: thống kê xếp loại {_scope(intent)}." if intent.guessed else None
        return A.counts_answer(levels, intent.tier, note) if levels else A.no_data_answer(intent.level, intent.year)
    if kind in (I.TOP, I.BOTTOM):
        slices = top(view.snapshot, intent.n or I.DEFAULT_TOP, intent.level, intent.year, bottom=kind == I.BOTTOM)
        if not slices:
            return A.no_data_answer(intent.level, intent.year)
        note = None
        if intent.guessed:
            what = "cuối bảng" if kind == I.BOTTOM else "đầu bảng"
            note = f"Hiểu là: {intent.n} đơn vị {what} {_scope(intent)}."
        return A.ranking_answer(slices, bottom=kind == I.BOTTOM, n=intent.n or I.DEFAULT_TOP, note=note)
    if kind == I.TIER_LIST:
        if intent.tier is None:
            return A.usage_answer("xeploai")
        slices = units_of_tier(view.snapshot, intent.tier, intent.level, intent.year)
        return A.tier_list_answer(slices, intent.tier) if slices else A.no_data_answer(intent.level, intent.year)

    if not text.strip():
        return A.usage_answer("hang")
    resolution = view.resolver.resolve(text, level=intent.level, chat_id=chat_id)
    if resolution.status == FOUND:
        answer = unit_answer(view, resolution.unit.id, intent.year)
        if resolution.loose or (resolution.candidates and resolution.candidates[0].score < SURE_SCORE):
            answer.note = f"Hiểu là hỏi về {resolution.unit.name}."
        return answer
    if resolution.status == AMBIGUOUS:
        return A.ambiguous_answer(text, resolution.candidates, intent.year)
    return A.not_found_answer(text, resolution.candidates, intent.year)


async def ask(db: Database, catalog: Catalog, text: str | I.Intent, *, chat_id: int | None = None) -> A.Answer:
    """Answer free text, or an intent already read from a command."""
    intent = I.parse_intent(text) if isinstance(text, str) else text
    return answer_intent(await catalog.current(db), intent, chat_id)


async def answer_unit(db: Database, catalog: Catalog, unit_id: int, year: int | None = None) -> A.Answer:
    return unit_answer(await catalog.current(db), unit_id, year)
