"""A question → what is asked: a unit's result, tier counts, top/bottom N, the units of a tier, decisions, help.

Works on folded text, so "thống kê cấp sở" and "thong ke cap so" are one question. Whatever is not recognised as
another kind of question is taken to be about a unit, and the resolver decides which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from dxcore.understanding.reading import Bounds, Reading, level_of, read, strip_markup
from dxcore.understanding.text import fold
from dxcore.understanding.tiers import TIER_WORDS

UNIT, COUNTS, TOP, BOTTOM, TIER_LIST, DECISIONS, HELP = "unit", "counts", "top", "bottom", "tier_list", "decisions", "help"
COMPARE, RANK_N, THRESHOLD, AVERAGE, FULL_LIST = "compare", "rank_n", "threshold", "average", "full_list"
CHANGE, METHOD, CHITCHAT, SUBSCORES = "change", "method", "chitchat", "subscores"
DEFAULT_TOP = 5


@dataclass(frozen=True)
class Intent:
    kind: str
    text: str = ""  # what may name units: the question without the words the reading explained
    level: str | None = None
    year: int | None = None
    tier: str | frozenset[str] | None = None  # one tier code, or a set of them ("khá trở lên")
    n: int | None = None
    guessed: bool = False  # a default filled in (how many, which level): the answer says how it understood
    explicit: bool = False  # from a slash command: its kind is not open to a second reading
    relative_year: bool = False  # "năm nay", "mới nhất": the latest results, saying which year they are
    rank: int | None = None
    from_bottom: bool = False
    bounds: Bounds | None = None
    counting: bool = False  # "bao nhiêu sở trên 80%": how many, not which
    versus_mean: str | None = None  # "above" / "below" the mean
    asks_which: bool = False  # "đơn vị nào", "ai": the question wants units named, not one unit's card
    extreme: str | None = None  # SUBSCORES: "lowest" or "highest" asked ("thấp nhất ở tiêu chí nào")
    named: tuple[tuple[str, str], ...] = ()  # words left that may name a unit: (folded, as typed)
    places: tuple[tuple[tuple[str, ...], str], ...] = ()  # places named: (folded words, as typed)
    asked: str = ""  # the question as typed, markup removed: quoted back when no unit is sure
    reading: Reading | None = field(default=None, compare=False, repr=False)


@lru_cache(maxsize=256)
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{'|'.join(phrases)})(?!\w)")


def _has(folded: str, *phrases: str) -> bool:
    """Whether any of the phrases (regular expressions over folded text) stands as whole words."""
    return _pattern(phrases).search(folded) is not None


# Tier words as printed, and the English ones English replies use ("/xeploai good departments").
_ENGLISH_TIERS = {"excellent": "xuat_sac", "good": "tot", "fair": "kha", "average": "trung_binh", "weak": "yeu",
                  "poor": "kem"}
_TIERS_FOLDED = sorted([(fold(w), code) for code, w in TIER_WORDS.items()] + list(_ENGLISH_TIERS.items()),
                       key=lambda p: -len(p[0]))


def _tier_of(folded: str) -> str | None:
    for word, code in _TIERS_FOLDED:
        if _has(folded, word) and not _has(folded, f"{word} nhat"):  # "tốt nhất" is a top question
            return code
    return None


def parse_intent(text: str) -> Intent:
    """What a question asks, decided from its spans (dxcore.understanding.reading)."""
    r = read(text)
    rest = r.rest_text
    common = dict(level=r.level, year=r.year, tier=r.tier, relative_year=r.relative_year, reading=r,
                  asks_which=r.has("which"), asked=" ".join(strip_markup(text).split()), named=tuple(r.named),
                  places=tuple(r.places))
    if r.small_talk in ("help", "empty") or (r.has("help") and not r.rest):
        return Intent(HELP, rest, reading=r)
    if r.small_talk:
        return Intent(CHITCHAT, r.small_talk, reading=r)
    if r.has("subscores") and (r.named or r.places):  # "Sở X thấp nhất ở tiêu chí nào": that unit's sub-indices
        extreme = "lowest" if r.has("bottom") else "highest" if r.has("top") else None
        return Intent(SUBSCORES, rest, extreme=extreme, **common)
    if r.has("method", "subscores"):  # "tiêu chí đánh giá là gì": how units are assessed
        return Intent(METHOD, rest, **common)
    if r.has("change"):
        return Intent(CHANGE, rest, **common)
    counting = r.has("count") or any(t in ("bao", "may", "many") for t in r.tokens)
    if r.bounds is not None:
        return Intent(THRESHOLD, rest, bounds=r.bounds, counting=counting, **common)
    if r.has("average"):
        ends = r.n if r.has("top", "bottom") else None  # "tb cộng top 3 cấp sở": the mean of those three
        return Intent(AVERAGE, rest, versus_mean=r.versus_mean, n=ends, from_bottom=r.has("bottom"), **common)
    if r.rank is not None:
        return Intent(RANK_N, rest, rank=r.rank, from_bottom=r.from_bottom, **common)
    top, bottom = r.has("top"), r.has("bottom") or r.from_bottom
    if top or bottom:
        which = r.has("which") or r.has("superlative")  # "ai cao nhất", "điểm cao nhất là bao nhiêu": the one
        count = r.n if r.n else 1 if which else DEFAULT_TOP
        return Intent(BOTTOM if bottom else TOP, rest, n=max(1, min(count, 1000)),
                      guessed=r.n is None and not which, **common)
    if r.tier is None and (r.has("full_list") or (r.n is not None and r.n > 1 and r.has("domain"))):
        return Intent(FULL_LIST, rest, n=r.n, **common)
    if r.has("count"):
        # "Tốt có mấy sở, kể tên giúp em": how many and which: the list, headed by its count
        wants_names = r.tier is not None and r.has("full_list", "which")
        return Intent(TIER_LIST if wants_names else COUNTS, rest, **common)
    if r.tier is not None and (r.has("listing", "which", "full_list") or r.level is not None):
        return Intent(TIER_LIST, rest, **common)
    if r.has("compare"):
        return Intent(COMPARE, rest, **common)
    if r.has("decisions"):
        return Intent(DECISIONS, rest, **common)
    if not r.named and (r.level is not None or r.year is not None or r.relative_year):
        return Intent(COUNTS, rest, guessed=True, **common)  # "cấp sở", "năm 2024 thì sao": the summary
    return Intent(UNIT, rest, **common)  # the assistant falls back to the summary when no unit is named


# Slash commands (ASCII names) → the kind of question they ask; their arguments are read forgivingly.
COMMANDS = {"hang": UNIT, "thongke": COUNTS, "top": TOP, "cuoi": BOTTOM, "xeploai": TIER_LIST,
            "quyetdinh": DECISIONS, "help": HELP}
# Words that name a level in a command's arguments, Vietnamese and (for the English menu) English.
LEVEL_WORDS = {"so": "so", "huyen": "huyen", "quan": "huyen", "xa": "xa", "phuong": "xa", "tinh": "tinh", "bo": "bo",
               "department": "so", "departments": "so", "district": "huyen", "districts": "huyen",
               "commune": "xa", "communes": "xa", "province": "tinh", "provinces": "tinh", "ministry": "bo",
               "ministries": "bo"}


def command_level(folded: str) -> str | None:
    """The level a command's (folded) arguments name: "cấp huyện", "quận/huyện", "huyen", "districts"."""
    return level_of(folded) or next((LEVEL_WORDS[w] for w in folded.split() if w in LEVEL_WORDS), None)


# Commands that ask something and are answered by dxcore.answering.assistant.answer_text (the others change subscriptions).
QUESTION_COMMANDS = (*COMMANDS, "lichsu", "bieudo", "xuat")


def split_command(text: str) -> tuple[str | None, str]:
    """"/top@dxbot 3 cấp sở" → ("top", "3 cấp sở"); text that is not a command → (None, text)."""
    if not text.startswith("/"):
        return None, text
    head, args = (re.split(r"\s+", text, maxsplit=1) + [""])[:2]
    name = head[1:].split("@")[0].lower()
    return (name, args.strip()) if name else (None, text)


def command_intent(command: str, args: str) -> Intent:
    """"/top huyện 3", "/top 3 cấp huyện", "/thongke so 2023", "/xeploai trung bình quận/huyện"."""
    kind = COMMANDS[command]
    folded = re.sub(r"[^\w%]+", " ", fold(args)).strip()
    year = None
    if m := re.search(r"(?<!\w)(?:nam )?(20\d\d)(?!\w)", folded):
        year = int(m.group(1))
        folded = (folded[: m.start()] + folded[m.end() :]).strip()
    if kind == UNIT:
        return Intent(UNIT, args, year=year, explicit=True)
    level = command_level(folded)
    numbers = [int(n) for n in re.findall(r"(?<!\w)(\d{1,3})(?!\w)", folded)]
    n = max(1, min(numbers[0], 100)) if numbers else DEFAULT_TOP
    return Intent(kind, args, level, year, _tier_of(folded), n if kind in (TOP, BOTTOM) else None, explicit=True)
