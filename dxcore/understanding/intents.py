"""A question → what is asked: a unit's result, tier counts, top/bottom N, the units of a tier, decisions, help.

Works on folded text, so "thống kê cấp sở" and "thong ke cap so" are one question. Whatever is not recognised as
another kind of question is taken to be about a unit, and the resolver decides which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dxcore.understanding.levels import detect_level
from dxcore.understanding.text import fold
from dxcore.understanding.tiers import TIER_WORDS

UNIT, COUNTS, TOP, BOTTOM, TIER_LIST, DECISIONS, HELP = "unit", "counts", "top", "bottom", "tier_list", "decisions", "help"
DEFAULT_TOP = 5


@dataclass(frozen=True)
class Intent:
    kind: str
    text: str = ""  # the question, for the resolver (it takes question words out itself)
    level: str | None = None
    year: int | None = None
    tier: str | None = None
    n: int | None = None
    guessed: bool = False  # a default filled in (how many, which level): the answer says how it understood
    explicit: bool = False  # from a slash command: its kind is not open to a second reading


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
# Levels as questions name them, beyond the document phrases levels.detect_level knows.
_LEVEL_WORDS = [
    (r"(?:cac|nhung|may|bao nhieu) (?:so|so nganh|so, nganh)", "so"),
    (r"(?:cac|nhung|may|bao nhieu) (?:quan|huyen|quan huyen|dia phuong)", "huyen"),
    (r"(?:cac|nhung|may|bao nhieu) (?:xa|phuong|xa phuong)", "xa"),
    (r"(?:so|quan|huyen|xa|phuong) nao", None),  # filled from the word itself below
    (r"cap quan", "huyen"),
    (r"departments?", "so"), (r"districts?", "huyen"), (r"communes?", "xa"), (r"provinces?", "tinh"),
    (r"ministr(?:y|ies)", "bo"),  # the level names English replies use
]
_WHICH = {"so": "so", "quan": "huyen", "huyen": "huyen", "xa": "xa", "phuong": "xa"}

_HELP_WORDS = ("help", "giup", "tro giup", "huong dan", "cach dung", "lam duoc gi", "ban la ai", "start", "menu")
_GREETINGS = {"chao", "xin", "hello", "hi", "alo", "bot", "ban", "oi", "a", "ad", "admin", "shop", "hey", "em", "anh",
              "chi", "nhe", "nha"}
_BOTTOM = ("cuoi", "cuoi cung", "cuoi bang", "chot bang", "thap nhat", "kem nhat", "bet", "duoi cung", "bottom")
_TOP = ("top", "dan dau", "dung dau", "cao nhat", "tot nhat", "hang dau", "dau bang", "xuat sac nhat", "dung nhat")
_COUNT = ("bao nhieu don vi", "may don vi", "thong ke", "so luong", "tong hop", "bao nhieu co quan",
          "bao nhieu dia phuong", "co bao nhieu", "co may", "bao nhieu so", "bao nhieu quan", "bao nhieu huyen",
          "bao nhieu xa", "may so", "may quan", "may huyen", "ty le xep loai", "phan bo")
_LIST = ("nhung", "cac", "danh sach", "liet ke", "nao", "ke ten", "gom")
_DECISIONS = ("quyet dinh", "van ban", "nguon du lieu", "du lieu nao")


def level_of(folded: str) -> str | None:
    for pattern, code in _LEVEL_WORDS:
        m = re.search(rf"(?<!\w){pattern}(?!\w)", folded)
        if m:
            return code or _WHICH.get(m.group(0).split()[0])
    return detect_level(folded)


def _tier_of(folded: str) -> str | None:
    for word, code in _TIERS_FOLDED:
        if _has(folded, word) and not _has(folded, f"{word} nhat"):  # "tốt nhất" is a top question
            return code
    return None


_BARE_LEVEL = {"so": "so", "quan": "huyen", "huyen": "huyen", "xa": "xa", "phuong": "xa"}


def _bare_level(folded: str) -> str | None:
    """A lone level word ("/top huyện 3"): only where no unit is being named."""
    return next((_BARE_LEVEL[w] for w in folded.split() if w in _BARE_LEVEL), None)


def parse_intent(text: str) -> Intent:
    folded = re.sub(r"[^\w%]+", " ", fold(text)).strip()
    # Help only when nothing else is said: "xem giúp mình sở X hạng mấy" is a question about Sở X.
    if not folded or set(_pattern(_HELP_WORDS).sub(" ", folded).split()) <= _GREETINGS:
        return Intent(HELP, text)
    year = None
    if m := re.search(r"(?<!\w)(?:nam )?(20\d\d)(?!\w)", folded):
        year = int(m.group(1))
        folded = (folded[: m.start()] + folded[m.end() :]).strip()
    level = level_of(folded)
    tier = _tier_of(folded)
    numbers = [int(n) for n in re.findall(r"(?<!\w)(\d{1,3})(?!\w)", folded)]
    n = numbers[0] if numbers else None

    bottom, top = _has(folded, *_BOTTOM), _has(folded, *_TOP)
    if bottom or top:
        which = _has(folded, "nao", "ai")
        guessed = n is None and not which
        count = n if n else 1 if which else DEFAULT_TOP
        level = level or _bare_level(folded)
        return Intent(BOTTOM if bottom else TOP, text, level, year, None, max(1, min(count, 100)), guessed)
    if _has(folded, *_COUNT):
        return Intent(COUNTS, text, level or _bare_level(folded), year, tier)
    if tier is not None and (_has(folded, *_LIST) or level is not None):
        return Intent(TIER_LIST, text, level or _bare_level(folded), year, tier)
    if _has(folded, *_DECISIONS):
        return Intent(DECISIONS, text, level, year)
    if level is not None and len(folded.split()) <= 3:
        return Intent(COUNTS, text, level, year, guessed=True)  # "cấp sở": the level's summary
    return Intent(UNIT, text, level, year, tier)


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
    head, _, args = text.partition(" ")
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
