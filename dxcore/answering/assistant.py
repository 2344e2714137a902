"""A question in, an Answer out: the one path the bot, `dxbot ask` and `dxbot shell` share."""

from __future__ import annotations

from dxcore.answering import answers as A
from dxcore.answering.i18n import Text, msg
from dxcore.answering.queries import (
    list_decisions,
    tier_counts,
    top,
    unit_history,
    unit_result,
    unit_years,
    units_of_tier,
)
from dxcore.answering.reports import chart_answer, export_answer
from dxcore.conversation.actions import ShowHistory
from dxcore.store.db import Database
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import Catalog, CatalogView
from dxcore.understanding.resolver import AMBIGUOUS, FOUND

SURE_SCORE = 85.0  # below this a found unit is named in a note ("Hiểu là …"), since it was matched loosely


def _scope(intent: I.Intent) -> Text:
    level = A.level_label(intent.level) if intent.level else msg("understood.every_level")
    return msg("understood.scope_year", level=level, year=intent.year) if intent.year else level


def unit_answer(view: CatalogView, unit_id: int, year: int | None = None) -> A.Answer:
    result = unit_result(view.snapshot, unit_id, year)
    if result is None:
        unit = view.snapshot.units.get(unit_id)
        name = unit.name if unit else msg("understood.this_unit")
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
        note = msg("understood.counts", scope=_scope(intent)) if intent.guessed else None
        return A.counts_answer(levels, intent.tier, note) if levels else A.no_data_answer(intent.level, intent.year)
    if kind in (I.TOP, I.BOTTOM):
        slices = top(view.snapshot, intent.n or I.DEFAULT_TOP, intent.level, intent.year, bottom=kind == I.BOTTOM)
        if not slices:
            return A.no_data_answer(intent.level, intent.year)
        note = None
        if intent.guessed:
            note = msg("understood.bottom" if kind == I.BOTTOM else "understood.top", n=intent.n,
                       scope=_scope(intent))
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
            answer.note = msg("understood.unit", name=resolution.unit.name)
        return answer
    if resolution.status == AMBIGUOUS:
        return A.ambiguous_answer(text, resolution.candidates, intent.year)
    return A.not_found_answer(text, resolution.candidates, intent.year)


def history_answer(view: CatalogView, args: str, chat_id: int | None = None) -> A.Answer:
    """/lichsu <đơn vị>: the unit's results across decisions; buttons when the name is unclear."""
    if not args.strip():
        return A.usage_answer("lichsu")
    resolution = view.resolver.resolve(args, chat_id=chat_id)
    if resolution.unit is None:
        answer = A.ambiguous_answer(args, resolution.candidates, None) if resolution.status == AMBIGUOUS \
            else A.not_found_answer(args, resolution.candidates, None)
        answer.choices = [A.Choice(c.label, ShowHistory(c.action.unit_id)) for c in answer.choices]
        return answer
    return unit_history_answer(view, resolution.unit.id)


def unit_history_answer(view: CatalogView, unit_id: int) -> A.Answer:
    unit = view.snapshot.units[unit_id]
    return A.history_answer(unit.name, unit.level, unit_history(view.snapshot, unit_id))


def answer_text(view: CatalogView, text: str, chat_id: int | None = None) -> A.Answer | None:
    """A message as the bot reads it: a question, or one of the question commands ("/top 3 cấp huyện",
    "/lichsu …", "/bieudo …", "/xuat csv"). None for a command that is not a question (subscriptions, unknown)."""
    command, args = I.split_command(text)
    if command is None:
        return answer_intent(view, I.parse_intent(text), chat_id)
    if command in I.COMMANDS:
        return answer_intent(view, I.command_intent(command, args), chat_id)
    if command == "lichsu":
        return history_answer(view, args, chat_id)
    if command == "bieudo":
        return chart_answer(view, args, chat_id)
    if command == "xuat":
        return export_answer(view, args)
    return None


async def ask(db: Database, catalog: Catalog, text: str | I.Intent, *, chat_id: int | None = None) -> A.Answer:
    """Answer free text or a question command (unknown commands get the help), or an intent read elsewhere."""
    view = await catalog.current(db)
    if isinstance(text, I.Intent):
        return answer_intent(view, text, chat_id)
    return answer_text(view, text, chat_id) or A.help_answer()


async def answer_unit(db: Database, catalog: Catalog, unit_id: int, year: int | None = None) -> A.Answer:
    return unit_answer(await catalog.current(db), unit_id, year)
