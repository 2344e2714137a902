"""Charts and spreadsheets as answers: /bieudo and /xuat. The Answer carries the caption (what, and its source) and
attachments drawn in the reader's language when sent; matplotlib and openpyxl load only when a file is drawn."""

from __future__ import annotations

from datetime import date

from dxcore.answering import answers as A
from dxcore.answering.i18n import Day, Level, Text, join, msg
from dxcore.answering.queries import RankingView, latest_rankings, unit_history
from dxcore.conversation.actions import ShowChart, ShowUnit
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import CatalogView
from dxcore.understanding.lineage import year_end
from dxcore.understanding.resolver import AMBIGUOUS, FOUND, NOT_FOUND
from dxcore.understanding.text import fold


def _scope(args: str) -> I.Intent:
    """Level and year from the arguments, read as /thongke reads them."""
    return I.command_intent("thongke", args)


def _names_only_scope(args: str) -> bool:
    """True when the arguments are just a level and/or a year ("cấp sở 2023", "huyen"), not a unit's name."""
    words = [w for w in fold(args).replace("/", " ").split() if w not in {"cap", "nam", "csv", "xlsx", "excel"}]
    return all(w in I.LEVEL_WORDS or w in {"thi", "tran"} or (w.isdigit() and len(w) == 4) for w in words)


def _ranking_caption(title: Text, rankings: list[RankingView]) -> A.Answer:
    sections = [A.Section(msg("report.level_line", level=Level(r.level), year=r.decision.evaluated_year,
                              total=len(r.rows)), [], A.source_line(r.citation)) for r in rankings]
    return A.Answer("report", title, sections)


def chart_answer(view: CatalogView, args: str, chat_id: int | None = None) -> A.Answer:
    """/bieudo [cấp] [năm]: a bar chart per level; /bieudo <đơn vị>: the unit across decisions."""
    scope = _scope(args)
    if args.strip() and not _names_only_scope(args):
        resolution = view.resolver.resolve(args, chat_id=chat_id)
        if resolution.status == FOUND:
            return unit_chart_answer(view, resolution.unit.id)
        if resolution.status == AMBIGUOUS:
            answer = A.ambiguous_answer(args, resolution.candidates, None)
        else:
            answer = A.not_found_answer(args, resolution.candidates, None)
        answer.choices = [A.Choice(c.label, ShowChart(c.action.unit_id)) for c in answer.choices]
        return answer
    rankings = latest_rankings(view.snapshot, scope.level, scope.year)
    if not rankings:
        return A.no_data_answer(scope.level, scope.year)
    answer = _ranking_caption(msg("report.chart_title"), rankings)
    answer.attachments = [A.Attachment("photo", f"bieudo-{r.level}-{r.decision.evaluated_year}.png",
                                       _ranking_chart(r)) for r in rankings]
    return answer


def unit_chart_answer(view: CatalogView, unit_id: int) -> A.Answer:
    unit = view.snapshot.units[unit_id]
    answer, history = _history_answer(view, unit_id)
    if len(history) >= 2:  # one point is not a trend: the text says it all
        answer.attachments = [A.Attachment("photo", f"bieudo-don-vi-{unit_id}.png", _history_chart(unit.name, history))]
    else:
        answer.note = msg("report.one_decision")
    return answer


def unit_history_answer(view: CatalogView, unit_id: int) -> A.Answer:
    return _history_answer(view, unit_id)[0]


def _history_answer(view: CatalogView, unit_id: int) -> tuple[A.Answer, list]:
    unit, history = view.snapshot.units[unit_id], unit_history(view.snapshot, unit_id)
    return with_fate(view, unit_id, A.history_answer(unit.name, unit.level, history)), history


def with_fate(view: CatalogView, unit_id: int, answer: A.Answer) -> A.Answer:
    """A unit that no longer exists: what it became, and a button to each stored successor's latest result."""
    fate = view.snapshot.lineage.fate(unit_id)
    unit = view.snapshot.units.get(unit_id)
    if fate is None or unit is None:
        return answer
    answer.sections.append(A.Section(None, [A.fate_line(unit.name, fate, view.snapshot.units)]))
    answer.choices += _latest_buttons(view, [u for _, u in fate.successors], after=fate.day)
    return answer


def _latest_buttons(view: CatalogView, units: list[int | None], after: date | None = None) -> list[A.Choice]:
    """A button to each unit's latest result; with ``after`` (successors of a unit that ceased that day), to what
    each has become since, step by step, and only for a result of after that day: a successor's result from
    before the change is not what the unit became."""
    lineage = view.snapshot.lineage
    shown = [u for unit in units if unit is not None for u in (lineage.became(unit) if after else [unit])]
    return [A.Choice(msg("fate.latest", name=view.snapshot.units[u].name), ShowUnit(u))
            for u in dict.fromkeys(shown) if u in view.snapshot.units and (placed := view.snapshot.by_unit.get(u))
            and (after is None or year_end(placed[0][0].decision.evaluated_year) >= after)]


def unstored_unit_answer(view: CatalogView, text: str, level: str | None = None) -> A.Answer | None:
    """A unit the lineage files name of which no decision is stored, when the text names it surely: what became
    of it or what it was formed from, with buttons to the stored units' latest results. None otherwise."""
    named, resolver = view.unstored
    if not named or view.resolver.resolve(text, level=level).status != NOT_FOUND:
        return None  # a stored unit it may name comes first
    resolution = resolver.resolve(text, level=level)
    if resolution.status != FOUND or resolution.loose:
        return None
    issuer, level, name = named[-resolution.unit.id - 1]
    lineage, units = view.snapshot.lineage, view.snapshot.units
    lines: list[Text] = [msg("fate.not_stored", name=name)]
    choices: list[A.Choice] = []
    if (fate := lineage.fate_of_name(issuer, level, name)) is not None:
        lines.append(A.fate_line(name, fate, units))
        choices = _latest_buttons(view, [u for _, u in fate.successors], after=fate.day)
    if formed := lineage.formed_from(issuer, level, name):
        lines.append(msg("fate.formed", day=Day(formed[0].day), name=name, sources=join(
            (msg("fate.source", name=units[p.unit_id].name if p.unit_id in units else p.name,
                 share=A.share_words(p.share)) for p in formed), "; ")))
        choices += _latest_buttons(view, [p.unit_id for p in formed])
    return A.Answer("lineage", msg("fate.title", name=name, level=Level(level, lower=True)),
                    [A.Section(None, lines)], choices=choices)


def export_answer(view: CatalogView, args: str) -> A.Answer:
    """/xuat [cấp] [năm] [csv]: the rankings as an XLSX workbook (one sheet per level) or a CSV file."""
    scope = _scope(args)
    rankings = latest_rankings(view.snapshot, scope.level, scope.year)
    if not rankings:
        return A.no_data_answer(scope.level, scope.year)
    as_csv = "csv" in fold(args).split()
    answer = _ranking_caption(msg("report.export_title"), rankings)
    answer.attachments = [A.Attachment("document", _export_name(rankings, "csv" if as_csv else "xlsx"),
                                       _export(rankings, as_csv))]
    return answer


def _ranking_chart(ranking: RankingView):
    def draw(lang: str) -> bytes:
        from dxcore.answering.charts import ranking_chart

        return ranking_chart(ranking, lang)
    return draw


def _history_chart(name: str, history: list):
    def draw(lang: str) -> bytes:
        from dxcore.answering.charts import history_chart

        return history_chart(name, history, lang)
    return draw


def _export_name(rankings: list[RankingView], ext: str) -> str:
    from dxcore.answering.exports import export_filename

    return export_filename(rankings, ext)


def _export(rankings: list[RankingView], as_csv: bool):
    def write(lang: str) -> bytes:
        from dxcore.answering.exports import rankings_csv, rankings_xlsx

        return (rankings_csv if as_csv else rankings_xlsx)(rankings, lang)
    return write
