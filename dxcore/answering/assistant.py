"""A question in, an Answer out: the one path the bot, `dxbot ask` and `dxbot shell` share."""

from __future__ import annotations

import re
from dataclasses import replace

from dxcore.alerts.message import change_line
from dxcore.answering import answers as A
from dxcore.answering.i18n import Text, msg
from dxcore.answering.queries import (
    RankingSlice,
    Snapshot,
    latest_rankings,
    list_decisions,
    mean,
    previous_ranking,
    previous_result,
    rank_at,
    tier_counts,
    top,
    unit_result,
    unit_years,
)
from dxcore.answering.reports import (
    chart_answer,
    export_answer,
    unit_history_answer,
    unstored_unit_answer,
    with_fate,
)
from dxcore.conversation.actions import ShowHistory
from dxcore.store.db import Database
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import Catalog, CatalogView
from dxcore.understanding.resolver import AMBIGUOUS, FOUND, NOT_FOUND

SURE_SCORE = 85.0  # below this a found unit is named in a note ("Hiểu là …"), since it was matched loosely


def _scope(intent: I.Intent) -> Text:
    level = A.level_label(intent.level) if intent.level else msg("understood.every_level")
    return msg("understood.scope_year", level=level, year=intent.year) if intent.year else level


def unit_answer(view: CatalogView, unit_id: int, year: int | None = None) -> A.Answer:
    """A unit's result; for a unit that no longer exists, its last result, what it became, and a button to each
    stored successor's latest result."""
    result = unit_result(view.snapshot, unit_id, year)
    if result is None:
        unit = view.snapshot.units.get(unit_id)
        name = unit.name if unit else msg("understood.this_unit")
        answer = A.no_result_answer(name, year, unit_years(view.snapshot, unit_id))
    else:
        answer = A.unit_answer(result)
    return with_fate(view, unit_id, answer)


# Kinds whose question may instead be about one named unit ("quận X có đứng cuối không", "Sở X có bao nhiêu %").
_SECOND_READING = (I.COUNTS, I.TOP, I.BOTTOM, I.TIER_LIST, I.RANK_N, I.FULL_LIST, I.COMPARE, I.THRESHOLD)
CONNECTORS = ("so voi", "voi", "vs", "hay", "hoac", "hon", "kem", "thua", "va", ",")  # strongest first


def _years(view: CatalogView) -> list[int]:
    return sorted({r.decision.evaluated_year for r in view.snapshot.rankings}, reverse=True)


def _no_data(view: CatalogView, intent: I.Intent) -> A.Answer:
    return A.no_data_answer(intent.level, intent.year, _years(view))


def names_unit(view: CatalogView, intent: I.Intent) -> bool:
    """Whether words are left that may name a unit: not only question words, unless they are words of names; or
    a place that is a stored unit's name (a province ranked in a national report)."""
    return any(view.resolver.may_name(token, typed) for token, typed in intent.named) or \
        any(view.resolver.names_with_place(words) for words, _ in intent.places)


_KIND_WORDS = frozenset({"so", "quan", "huyen", "xa", "phuong", "ban", "ubnd", "thi"})


def _names_a_kind(view: CatalogView, intent: I.Intent) -> bool:
    """A kind of body right before a word of some name or a number ("quận 1", "sở du lịch"): the question is about
    one unit, even where none fits."""
    named = intent.named
    return any(w in _KIND_WORDS and (nxt.isdigit() or (view.resolver.is_name_word(nxt) and nxt not in _KIND_WORDS
                                                       and view.resolver.may_name(nxt, typed)))
               for (w, _), (nxt, typed) in zip(named, named[1:]))


def _chat_around_a_fragment(view: CatalogView, intent: I.Intent) -> bool:
    """Words said around a few name-like words, with nothing that asks about results (no "bao nhiêu", "mấy", "%",
    "xếp hạng", no level, year or kind of body): small talk that holds a name's half ("khoa học quá"). A message
    that is only a name (a bare "Sở X" or half a name) is a question about that unit."""
    reading = intent.reading
    if reading is None or intent.explicit or reading.asks or reading.has("domain") or intent.level \
            or intent.year or intent.relative_year or any(token in _KIND_WORDS for token, _ in intent.named):
        return False
    naming = [token for token, typed in intent.named if view.resolver.may_name(token, typed)]
    naming += [word for words, _ in intent.places if view.resolver.names_with_place(words) for word in words]
    return len(naming) < len([t for t in reading.tokens if t not in ",.&-/+%"])


def _found(view: CatalogView, text: str, level: str | None, chat_id: int | None, *, sure: bool = False):
    """The unit the text names, if the resolver finds one (``sure``: not through a typo or a loose match)."""
    resolution = view.resolver.resolve(text, level=level, chat_id=chat_id) if text.strip() else None
    if resolution is None or resolution.status != FOUND:
        return None
    if sure and (resolution.loose or resolution.candidates[0].score < SURE_SCORE):
        return None
    return resolution.unit


def _trimmed(tokens: list[str], shown: list[str]) -> str:
    """A part of a comparison without connectors at its ends ("Sở GTVT cao hơn" → "Sở GTVT")."""
    start, end = 0, len(tokens)
    connectors = [tuple(c.split()) for c in CONNECTORS] + [("cao", "hon"), ("thap", "hon"), ("kem", "hon")]
    changed = True
    while changed and start < end:
        changed = False
        for word in connectors:
            if tuple(tokens[start : start + len(word)]) == word:
                start, changed = start + len(word), True
            if end - len(word) >= start and tuple(tokens[end - len(word) : end]) == word:
                end, changed = end - len(word), True
    return " ".join(shown[start:end])


def mentioned_units(view: CatalogView, tokens: list[str], shown: list[str], chat_id: int | None = None) -> list[int]:
    """Two or more units named in one question ("Sở X với Sở Y", "huyện A và huyện B"): the question split
    at a connector into parts that each name one unit. Names may hold a connector themselves ("Kế hoạch và Đầu
    tư"), so every split is tried, strongest connectors first, and only one where every part resolves counts."""
    for connector in CONNECTORS:
        word = tuple(connector.split())
        for i in range(1, len(tokens) - len(word)):
            if tuple(tokens[i : i + len(word)]) != word:
                continue
            left = _found(view, _trimmed(tokens[:i], shown[:i]), None, chat_id)
            if left is None:
                continue
            after = i + len(word)
            right = _found(view, _trimmed(tokens[after:], shown[after:]), None, chat_id)
            if right is not None and right.id != left.id:
                return [left.id, right.id]
            more = mentioned_units(view, tokens[after:], shown[after:], chat_id)
            if len(more) >= 2 and left.id not in more:
                return [left.id, *more]
    return []


def _selected(view: CatalogView, intent: I.Intent, admits=None) -> list[RankingSlice]:
    """Each level's latest ranking, its rows narrowed to the tier asked about and to what ``admits`` (a
    threshold), in ranking order."""
    return [r.slice([row for row in r.rows if (intent.tier is None or A.tier_in(intent.tier, row.tier))
                     and (admits is None or admits(row))])
            for r in latest_rankings(view.snapshot, intent.level, intent.year)]


def _ends(slices: list[RankingSlice], n: int, *, bottom: bool) -> list[RankingSlice]:
    return [replace(s, rows=s.rows[-n:] if bottom else s.rows[:n]) for s in slices]


def _level_means(view: CatalogView, intent: I.Intent) -> list[A.LevelMean]:
    """The mean per level, of the tier asked about, or of the first or last n ("tb top 3 cấp sở")."""
    slices = _selected(view, intent)
    if intent.n and intent.kind == I.AVERAGE:
        slices = _ends(slices, intent.n, bottom=intent.from_bottom)
    return [A.LevelMean(s.level, level_mean, len(s.rows), s.citation, intent.tier,
                        intent.n if intent.kind == I.AVERAGE else None, intent.from_bottom, s.scale)
            for s in slices if s.rows and (level_mean := mean([row.score for row in s.rows], _places(s.scale)))
            is not None]


def _places(scale) -> int:
    """Decimals of a mean: two, as people compute it by hand; an index (0–1) keeps four."""
    return 4 if scale.kind == "index" else 2


def _average(view: CatalogView, intent: I.Intent, chat_id: int | None) -> A.Answer:
    unit = _found(view, intent.text, None, chat_id) if names_unit(view, intent) else None
    if unit is not None and (result := unit_result(view.snapshot, unit.id, intent.year)) is not None:
        level_intent = replace(intent, level=result.level, tier=None)
        (level_mean,) = [m for m in _level_means(view, level_intent)] or [None]
        if level_mean is not None:
            return A.average_answer([], None, (result, level_mean))
    if intent.versus_mean:
        sides = []
        for r in latest_rankings(view.snapshot, intent.level, intent.year):
            level_mean = mean([row.score for row in r.rows], _places(r.scale))
            if level_mean is None:
                continue  # ranks only
            keep = (lambda v, m=level_mean: v > m) if intent.versus_mean == "above" else \
                (lambda v, m=level_mean: v < m)
            sides.append((r.slice([row for row in r.rows if row.score is not None and keep(row.score)]),
                          level_mean))
        return A.mean_side_answer(sides, intent.versus_mean) if sides else _no_data(view, intent)
    means = _level_means(view, intent)
    if not means:
        return _no_data(view, intent)
    overall = None
    if len(means) > 1 and all(m.scale.kind == "percent" for m in means):  # only percentages add up across rankings
        rows = [row.score for r in latest_rankings(view.snapshot, intent.level, intent.year) for row in r.rows
                if (intent.tier is None or row.tier == intent.tier) and row.score is not None]
        overall = (mean(rows), len(rows))
    return A.average_answer(means, overall)


def _change(view: CatalogView, intent: I.Intent, chat_id: int | None) -> A.Answer:
    """Against the previous decision of the same issuer; with one decision on record, there is nothing yet."""
    unit = _found(view, intent.text, None, chat_id) if names_unit(view, intent) else None
    decisions = list_decisions(view.snapshot)
    if unit is not None:
        placed = view.snapshot.by_unit.get(unit.id, [])
        if placed and (len(placed) >= 2 or previous_result(view.snapshot, placed[0][0], unit.id).changed_on):
            # compared with its own previous result, or, reorganised since, with what it was made of
            ranking, index = placed[0]
            return A.change_answer([change_line(view.snapshot, ranking, index)], [unit.id])
        if placed and len({d.evaluated_year for d in decisions}) > 1:
            year = placed[0][0].decision.evaluated_year
            return A.change_answer([msg("change.first_time", name=unit.name, year=year)], [unit.id])
        return A.change_answer([A.nothing_to_compare(decisions)], [])
    lines: list[Text] = []
    for r in latest_rankings(view.snapshot, intent.level, intent.year):
        before = previous_ranking(view.snapshot, r)
        if before is None or before.scale != r.scale:
            continue
        now_mean = mean([row.score for row in r.rows], _places(r.scale))
        before_mean = mean([row.score for row in before.rows], _places(r.scale))
        if now_mean is not None and before_mean is not None:
            lines.append(msg("change.level", level=A.ranking_label(r.citation), year=r.decision.evaluated_year,
                             mean=A.scale_score(now_mean, r.scale), before=A.scale_score(before_mean, r.scale),
                             before_year=before.decision.evaluated_year))
    return A.change_answer(lines or [A.nothing_to_compare(decisions)], [])


def _method(view: CatalogView, intent: I.Intent) -> A.Answer:
    rankings = latest_rankings(view.snapshot, None, intent.year)
    if not rankings:
        return _no_data(view, intent)
    decision = next(d for d in list_decisions(view.snapshot) if d.id == rankings[0].decision.id)
    ranges = []
    for r in rankings:
        if r.decision.id != decision.id:
            continue
        by_tier: dict[str, list] = {}
        for row in r.rows:
            if row.tier is not None and row.score is not None:
                by_tier.setdefault(row.tier, []).append(row.score)
        ranges += [(A.ranking_label(r.citation), tier, A.scale_score(min(v), r.scale), A.scale_score(max(v), r.scale))
                   for tier, v in by_tier.items()]
    return A.method_answer(decision, ranges)


def _latest_note(view: CatalogView, intent: I.Intent) -> Text | None:
    """"năm nay", "mới nhất": the answer says which year the latest results are for."""
    if intent.relative_year and intent.year is None and (years := _years(view)):
        return msg("latest.note", year=years[0])
    return None


def answer_intent(view: CatalogView, intent: I.Intent, chat_id: int | None = None) -> A.Answer:
    answer = _answer_intent(view, intent, chat_id)
    if answer.note is None and answer.kind not in ("chitchat", "offtopic", "help", "ambiguous", "not_found"):
        answer.note = _latest_note(view, intent)
    return answer


def _elsewhere(view: CatalogView, intent: I.Intent) -> str | None:
    """A place the question names that no stored issuer is and no stored unit's name holds ("Sở X" followed by another province's name)."""
    return next((typed for words, typed in intent.places if not view.resolver.knows_place(words)), None)


_ABOUT_RESULTS = (I.UNIT, I.COMPARE, I.RANK_N, I.TOP, I.BOTTOM, I.TIER_LIST, I.COUNTS, I.THRESHOLD, I.AVERAGE,
                  I.FULL_LIST, I.CHANGE, I.SUBSCORES)


_ABOUT_SEVERAL = (I.RANK_N, I.TOP, I.BOTTOM, I.TIER_LIST, I.COUNTS, I.THRESHOLD, I.AVERAGE, I.FULL_LIST)


def _of_issuer_named(view: CatalogView, intent: I.Intent) -> CatalogView:
    """A question about several units that names one stored issuer's place ("top 3 cấp sở quảng nam", "thống kê
    xếp loại đà nẵng") is about that issuer's rankings only: the view, narrowed to them."""
    named = {i for words, _ in intent.places for i in view.resolver.issuers_of_place(words)}
    if len(named) != 1:
        return view
    (issuer,) = named
    snapshot = view.snapshot
    return replace(view, snapshot=Snapshot([r for r in snapshot.rankings if r.decision.issuer == issuer],
                                           snapshot.units))


def _answer_intent(view: CatalogView, intent: I.Intent, chat_id: int | None) -> A.Answer:
    text, kind = intent.text, intent.kind
    if kind in _ABOUT_RESULTS and (place := _elsewhere(view, intent)) is not None:
        return A.elsewhere_answer(place, sorted({r.decision.issuer for r in view.snapshot.rankings}))
    if kind == I.COUNTS and intent.guessed and len(intent.places) == 1 and \
            (unit := view.resolver.unit_named(intent.places[0][0], intent.level)) is not None:
        return unit_answer(view, unit.id, intent.year)  # "tỉnh P xếp hạng mấy": the province, not a summary
    if kind in _ABOUT_SEVERAL and intent.places:
        view = _of_issuer_named(view, intent)
    if kind in (I.COMPARE, I.TOP, I.BOTTOM) and not intent.explicit and intent.reading is not None:
        # "quận A, quận B, quận C: quận nào cao nhất": the units named, compared
        units = mentioned_units(view, intent.reading.rest, intent.reading.rest_shown, chat_id)
        results = [r for u in units if (r := unit_result(view.snapshot, u, intent.year)) is not None]
        if len(results) >= 2:
            return A.compare_answer(results)
        if kind == I.COMPARE:
            kind = I.UNIT
    if kind in _SECOND_READING and not intent.explicit and not intent.asks_which and names_unit(view, intent):
        # "Sở X có bao nhiêu phần trăm", "quận X có đứng cuối không", "sở X có trên 60% không": a unit named is
        # what is asked about; a unit-like name that fits no unit ("quận 1 top mấy") is not found, never a list.
        if _found(view, text, None, chat_id) is not None or _names_a_kind(view, intent):
            intent, kind = replace(intent, kind=I.UNIT, level=None, tier=None), I.UNIT
    if kind == I.HELP:
        return A.help_answer()
    if kind == I.CHITCHAT:
        return A.chitchat_answer(text) if text != "empty" else A.help_answer()
    if kind == I.DECISIONS:
        return A.decisions_answer(list_decisions(view.snapshot))
    if kind == I.METHOD:
        return _method(view, intent)
    if kind == I.CHANGE:
        return _change(view, intent, chat_id)
    if kind == I.SUBSCORES:
        unit = _found(view, text, intent.level, chat_id)
        if unit is None:  # not sure which unit: asked as a unit question (a choice's card shows the sub-indices)
            return _answer_intent(view, replace(intent, kind=I.UNIT), chat_id)
        result = unit_result(view.snapshot, unit.id, intent.year)
        return A.subscores_answer(result, intent.extreme) if result else _no_data(view, intent)
    if kind == I.AVERAGE:
        return _average(view, intent, chat_id)
    if kind == I.THRESHOLD:
        slices = _selected(view, intent, lambda row: A.admits(intent.bounds, row))
        return A.threshold_answer(slices, intent.bounds, counting=intent.counting, tier=intent.tier) if slices \
            else _no_data(view, intent)
    if kind == I.RANK_N:
        slices = rank_at(view.snapshot, intent.rank, intent.level, intent.year, from_bottom=intent.from_bottom)
        return A.rank_answer(slices, intent.rank, from_bottom=intent.from_bottom) if slices \
            else _no_data(view, intent)
    if kind == I.FULL_LIST:
        slices = top(view.snapshot, 10_000, intent.level, intent.year)
        return A.full_list_answer(slices) if slices else _no_data(view, intent)
    if kind == I.COUNTS:
        levels = tier_counts(view.snapshot, intent.level, intent.year)
        note = msg("understood.counts", scope=_scope(intent)) if intent.guessed else None
        return A.counts_answer(levels, intent.tier, note) if levels else _no_data(view, intent)
    if kind in (I.TOP, I.BOTTOM):
        slices = _ends(_selected(view, intent), intent.n or I.DEFAULT_TOP, bottom=kind == I.BOTTOM)
        if not slices:
            return _no_data(view, intent)
        note = None
        if intent.guessed:
            note = msg("understood.bottom" if kind == I.BOTTOM else "understood.top", n=intent.n,
                       scope=_scope(intent))
        return A.ranking_answer(slices, bottom=kind == I.BOTTOM, n=intent.n or I.DEFAULT_TOP, note=note)
    if kind == I.TIER_LIST:
        if intent.tier is None:
            return A.usage_answer("xeploai")
        slices = _selected(view, intent)
        return A.tier_list_answer(slices, intent.tier) if slices else _no_data(view, intent)

    if not text.strip() or (not intent.explicit and not names_unit(view, intent)):
        if text.strip() and (gone := unstored_unit_answer(view, text, intent.level)) is not None:
            return gone  # a unit no stored decision ranks, named by a lineage file
        if intent.year is not None or intent.relative_year or intent.level is not None:
            # "cấp sở", "năm 2024 thì sao": the summary of that level or year
            return _answer_intent(view, replace(intent, kind=I.COUNTS, guessed=True), chat_id)
        return A.usage_answer("hang") if intent.explicit else A.help_answer()
    if _chat_around_a_fragment(view, intent):
        # "cho xin thông tin", "khoa học quá": everyday words, not a unit (unless a lineage file names them)
        return unstored_unit_answer(view, text, intent.level) or A.help_answer()
    resolution = view.resolver.resolve(text, level=intent.level, chat_id=chat_id)
    if resolution.status == NOT_FOUND and (gone := unstored_unit_answer(view, text, intent.level)) is not None:
        return gone  # before reading two names side by side: the whole text names one unit no decision ranks
    if resolution.status != FOUND and len(intent.places) == 1 and not any(
            view.resolver.may_name(token, typed) for token, typed in intent.named):
        # Only a place is named, and it is the whole name of one unit ("P DTI" with a national report stored,
        # where P is also an issuer's place, a word that names no unit on its own).
        if (unit := view.resolver.unit_named(intent.places[0][0], intent.level)) is not None:
            return unit_answer(view, unit.id, intent.year)
    if resolution.status != FOUND and intent.reading is not None and not intent.explicit:
        # "sở tài chính và sở tài nguyên": two units named side by side, without a word of comparison
        units = mentioned_units(view, intent.reading.rest, intent.reading.rest_shown, chat_id)
        results = [r for u in units if (r := unit_result(view.snapshot, u, intent.year)) is not None]
        if len(results) >= 2:
            return A.compare_answer(results)
    if resolution.status == FOUND:
        answer = unit_answer(view, resolution.unit.id, intent.year)
        if resolution.loose or (resolution.candidates and resolution.candidates[0].score < SURE_SCORE):
            answer.note = msg("understood.unit", name=resolution.unit.name)
        return answer
    if resolution.status == AMBIGUOUS:
        return A.ambiguous_answer(intent.asked or text, resolution.candidates, intent.year)
    if not resolution.candidates and intent.reading is not None and not intent.reading.has("domain") \
            and intent.level is None and intent.year is None:
        return A.offtopic_answer()
    return A.not_found_answer(intent.asked or text, resolution.candidates, intent.year)


def history_answer(view: CatalogView, args: str, chat_id: int | None = None) -> A.Answer:
    """/lichsu <đơn vị>: the unit's results across decisions; buttons when the name is unclear."""
    if not args.strip():
        return A.usage_answer("lichsu")
    resolution = view.resolver.resolve(args, chat_id=chat_id)
    if resolution.status == NOT_FOUND and (gone := unstored_unit_answer(view, args)) is not None:
        return gone
    if resolution.unit is None:
        answer = A.ambiguous_answer(args, resolution.candidates, None) if resolution.status == AMBIGUOUS \
            else A.not_found_answer(args, resolution.candidates, None)
        answer.choices = [A.Choice(c.label, ShowHistory(c.action.unit_id)) for c in answer.choices]
        return answer
    return unit_history_answer(view, resolution.unit.id)


LONG_MESSAGE = 12  # words: past this, a message of several sentences is answered by its last asking one
_SENTENCE_END = re.compile(r"(?<=[.?!;:…\n])\s+")
_NO_ANSWER = ("not_found", "offtopic", "chitchat", "help", "usage", "ambiguous")


def answer_question(view: CatalogView, text: str, chat_id: int | None = None) -> A.Answer:
    """Free text. A long message (a report's worth of preamble, then the question) is answered by its last sentence
    that asks something the data answers; the whole is read only when no sentence does."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(text.split()) > LONG_MESSAGE and len(sentences) > 1:
        for sentence in reversed(sentences):
            candidate = answer_intent(view, I.parse_intent(sentence), chat_id)
            if candidate.kind not in _NO_ANSWER:
                return candidate
    return answer_intent(view, I.parse_intent(text), chat_id)


def answer_text(view: CatalogView, text: str, chat_id: int | None = None) -> A.Answer | None:
    """A message as the bot reads it: a question, or one of the question commands ("/top 3 cấp huyện",
    "/lichsu …", "/bieudo …", "/xuat csv"). None for a command that is not a question (subscriptions, unknown)."""
    command, args = I.split_command(text)
    if command is None:
        return answer_question(view, text, chat_id)
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
