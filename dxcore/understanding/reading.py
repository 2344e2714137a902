"""A question read as spans: courtesy, small talk, years, levels, tiers, numbers with their role, cue words — and
what is left, which names units. The kind of question follows from what was found (dxcore.understanding.intents).

Works on folded tokens (no case, no diacritics, đ → d), after markup is stripped, shorthand spelled out
("bn" → "bao nhiêu") and English glossed into Vietnamese words; all of that language is data (data/phrasing.toml,
data/english.toml, data/vocabulary.toml), never a case per question.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from dxcore.paths import data_dir
from dxcore.understanding.levels import detect_level
from dxcore.understanding.text import clean, fold
from dxcore.understanding.tiers import TIER_RANK, TIER_WORDS
from dxcore.understanding.vocabulary import default_vocabulary

Phrase = tuple[str, ...]

_MARKUP_RE = re.compile(r"(?is)<(script|style)\b.*?</\1\s*>|<[^<>]{0,300}>|[*_`~|#]+|&[a-z]+;|(?<!\w)@\w+")
# A vowel or a question mark typed three times or more is drawn out ("mấyyyy", "???"); consonants are not
# ("TTTT" is Thông tin và Truyền thông).
_ELONGATED_RE = re.compile(r"([aăâeêioôơuưyáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ?!.])\1{2,}",
                           re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)?|\w+|[%,&/+.-]")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")


class Phrases(frozenset):
    """Folded phrases of one list of data, with how each is written (diacritics kept): a folded match counts only
    where what was typed agrees with the writing."""

    written: dict[Phrase, set[Phrase]]


def _phrases(items: Iterable[str]) -> Phrases:
    written: dict[Phrase, set[Phrase]] = {}
    for item in items:
        if item.strip():
            written.setdefault(tuple(_TOKEN_RE.findall(fold(item))), set()).add(
                tuple(_TOKEN_RE.findall(clean(item).casefold())))
    phrases = Phrases(written)
    phrases.written = written
    return phrases


def _agrees(typed: str, written: str, strict: bool) -> bool:
    """The same, or written without diacritics, or typed without them by someone who types none ("thua" may be
    "thưa"); from someone who types diacritics, "thua" is "thua" and "thưa" is not "thua"."""
    typed = typed.casefold()
    return typed == written or written == fold(written) or (not strict and typed == fold(typed))


def _typed_as_written(phrases: frozenset[Phrase], phrase: Phrase, shown: Sequence[str], strict: bool) -> bool:
    forms = getattr(phrases, "written", {}).get(phrase)
    return not forms or any(len(w) == len(shown) and all(_agrees(t, x, strict) for t, x in zip(shown, w))
                            for w in forms)


def types_diacritics(shown: Sequence[str]) -> bool:
    return any(token.casefold() != fold(token) for token in shown)


@dataclass(frozen=True)
class Phrasing:
    """data/phrasing.toml and data/english.toml, folded into token phrases."""

    shorthand: dict[Phrase, tuple[Phrase, Phrase]]  # key → (its words folded, as written)
    shorthand_typed: dict[Phrase, frozenset[str]]  # each key as written in the data (diacritics kept, lower case)
    courtesy: frozenset[Phrase]
    pronouns: frozenset[Phrase]
    intro_verbs: frozenset[Phrase]
    roles: frozenset[Phrase]
    greetings: frozenset[Phrase]
    thanks: frozenset[Phrase]
    acks: frozenset[Phrase]
    help: frozenset[Phrase]
    cues: dict[str, frozenset[Phrase]]
    ordinals: dict[str, int]
    ordinal_phrases: Phrases  # as written, for their diacritics
    gloss: dict[Phrase, Phrase]
    english_markers: frozenset[str]
    places: Phrases

    @classmethod
    def load(cls) -> Phrasing:
        with open(data_dir() / "phrasing.toml", "rb") as fh:
            raw = tomllib.load(fh)
        with open(data_dir() / "english.toml", "rb") as fh:
            english = tomllib.load(fh)
        with open(data_dir() / "places.toml", "rb") as fh:
            places = tomllib.load(fh)["places"]
        intro, talk, cues = raw["self_introduction"], raw["small_talk"], raw["cues"]
        gloss = {tuple(_TOKEN_RE.findall(key.lower())): _both(value) for key, value in english["gloss"].items()}
        return cls(
            shorthand={tuple(_TOKEN_RE.findall(fold(k))): _both(v) for k, v in raw["shorthand"].items()},
            shorthand_typed=_written_keys(raw["shorthand"]),
            courtesy=_phrases(raw["courtesy"]["phrases"]),
            pronouns=_phrases(intro["pronouns"]),
            intro_verbs=_phrases(intro["verbs"]),
            roles=_phrases(intro["roles"]),
            greetings=_phrases(talk["greetings"]),
            thanks=_phrases(talk["thanks"]),
            acks=_phrases(talk["acks"]),
            help=_phrases(talk["help"]),
            cues={name: _phrases(values) for name, values in cues.items() if isinstance(values, list)},
            ordinals={fold(k): v for k, v in raw["ordinals"].items()},
            ordinal_phrases=_phrases(raw["ordinals"]),
            gloss=gloss,
            english_markers=frozenset(english["markers"]) | {k for key in gloss for k in key},
            places=_phrases(places),
        )


@cache
def phrasing() -> Phrasing:
    return Phrasing.load()


def strip_markup(text: str) -> str:
    """A question as words: HTML tags, markdown marks and invisible characters out, NFC, drawn-out letters
    ("mấyyyyy", "???") shortened."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _ELONGATED_RE.sub(r"\1", _MARKUP_RE.sub(" ", text))


def _longest_first(phrases: Iterable[Phrase]) -> list[Phrase]:
    return sorted(phrases, key=len, reverse=True)


@cache
def _index(phrases: frozenset[Phrase]) -> dict[str, list[Phrase]]:
    by_first: dict[str, list[Phrase]] = {}
    for phrase in _longest_first(phrases):
        if phrase:
            by_first.setdefault(phrase[0], []).append(phrase)
    return by_first


def find(tokens: Sequence[str], phrases: frozenset[Phrase], taken: set[int] | None = None,
         shown: Sequence[str] | None = None, strict: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each phrase found in ``tokens``, longest first, never overlapping ``taken`` or each other;
    with ``shown`` (the tokens as typed), only where the diacritics typed agree with the phrase's (``strict``: the
    user types diacritics, so a word typed without them means a word without them)."""
    by_first = _index(phrases)
    spans: list[tuple[int, int]] = []
    busy = set(taken or ())
    i = 0
    while i < len(tokens):
        for phrase in by_first.get(tokens[i], ()):
            end = i + len(phrase)
            if tuple(tokens[i:end]) == phrase and not busy.intersection(range(i, end)) \
                    and (shown is None or _typed_as_written(phrases, phrase, shown[i:end], strict)):
                spans.append((i, end))
                busy.update(range(i, end))
                i = end - 1
                break
        i += 1
    return spans


_ENGLISH_KINDS = frozenset({"district", "department", "ward", "commune", "province", "ministry", "committee"})
_JOINERS = frozenset("&-/+.")
_ACRONYM_PART = re.compile(r"[bcdfghklmnpqrstvx]{2,3}")  # a run of initials (consonants only)
_SYMBOLS = frozenset("&-/+.,%")


def _written_keys(keys: Iterable[str]) -> dict[Phrase, frozenset[str]]:
    written: dict[Phrase, set[str]] = {}
    for key in keys:
        written.setdefault(tuple(_TOKEN_RE.findall(fold(key))), set()).add(clean(key).casefold())
    return {key: frozenset(forms) for key, forms in written.items()}


def _initials(token: str, table: dict) -> bool:
    """A run of initials that is no shorthand itself ("LĐ" next to "TB" makes "TB" part of "LĐ-TB-XH")."""
    return bool(_ACRONYM_PART.fullmatch(token)) and (token,) not in table


def _both(text: str) -> tuple[Phrase, Phrase]:
    """A data text's words folded, and as written (diacritics kept)."""
    return tuple(_TOKEN_RE.findall(fold(text))), tuple(_TOKEN_RE.findall(clean(text).casefold()))


def _replace(tokens: list[str], shown: list[str], table: dict[Phrase, tuple[Phrase, Phrase]],
             typed: dict[Phrase, frozenset[str]] | None = None) -> tuple[list[str], list[str]]:
    """Phrases of ``tokens`` replaced by their entries in ``table`` (longest first, whole tokens); ``shown``, the
    same tokens as typed (diacritics kept), follows along. With ``typed`` (a key → how it is written), a key
    written with diacritics ("gđ") stands only for itself typed so ("GD" of "GD&ĐT" is not "giám đốc"), and a
    token joined to another by "&", "-" or "/" is part of an abbreviation, never shorthand."""
    out: list[str] = []
    out_shown: list[str] = []
    spans = dict(find(tokens, frozenset(table)))
    i = 0
    while i < len(tokens):
        end = spans.get(i)
        if end is not None and typed is not None:
            key = tuple(tokens[i:end])
            forms = typed.get(key, frozenset())
            as_typed = " ".join(shown[i:end]).casefold()
            marked = as_typed in forms and as_typed != fold(as_typed)  # "cđs", "gđ" typed as written: meant so
            joined = (i and tokens[i - 1] in _JOINERS) or (end < len(tokens) and tokens[end] in _JOINERS) \
                or (not marked and ((i and _initials(tokens[i - 1], table))
                                    or (end < len(tokens) and _initials(tokens[end], table))))  # "LĐ TB XH"
            plain = any(form == fold(form) for form in forms)
            if joined or (not plain and as_typed not in forms):
                end = None
        if end is not None:
            folded, written = table[tuple(tokens[i:end])]
            out.extend(folded)
            out_shown.extend(written if len(written) == len(folded) else folded)
            i = end
        else:
            out.append(tokens[i])
            out_shown.append(shown[i])
            i += 1
    return out, out_shown


def reads_as_english(text: str) -> bool:
    """No Vietnamese letters, and most words English ones the glossary knows."""
    if fold(text) != clean(text).casefold():
        return False
    words = [w for w in re.findall(r"[a-z]+", text.lower().replace("'s", "")) if len(w) > 1]
    known = sum(1 for w in words if w in phrasing().english_markers)
    kinds = any(w in _ENGLISH_KINDS for w in words)  # "O Mon district": a name and one English word
    return bool(words) and (known >= 2 or kinds) and known * 2 >= len(words)


def tokenize(text: str) -> tuple[list[str], list[str], bool, bool]:
    """Folded tokens of a question, shorthand spelled out and English glossed; the same tokens as typed
    (lower case, diacritics kept: the resolver weighs them); whether it was English; whether the user types
    diacritics."""
    text = strip_markup(text)
    english = reads_as_english(text)
    p = phrasing()
    if english:
        text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"rank \1", text)  # "the 5th ranked", "came 2nd"
        typed = _TOKEN_RE.findall(re.sub(r"'s\b", " s", text))
        # A capitalised word inside the sentence is a name even when it is also an English filler ("Co Do").
        names = {w.lower() for i, w in enumerate(typed) if i and w[:1].isupper() and not w.isupper()
                 and (w.lower(),) in p.gloss and not p.gloss[(w.lower(),)][0]}
        table = {k: v for k, v in p.gloss.items() if not (len(k) == 1 and k[0] in names)}
        _, shown = _replace([w.lower() for w in typed], typed, table)
        tokens = [fold(w) for w in shown]
    else:
        tokens = _TOKEN_RE.findall(fold(text))
        shown = _TOKEN_RE.findall(clean(text))
        if len(shown) != len(tokens):  # cannot happen for NFC text; never let it misalign the two
            shown = list(tokens)
    strict = types_diacritics(shown)  # judged on what was typed, before shorthand is spelled out
    tokens, shown = _replace(tokens, shown, p.shorthand, p.shorthand_typed)
    tokens, shown = _numbers_in_words(tokens, shown)
    return tokens, shown, english, strict


_DIGIT_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5, "sau": 6, "bay": 7, "tam": 8,
                "chin": 9}
_NUMBER_WORDS = frozenset(_DIGIT_WORDS) | {"muoi", "tram", "linh", "le"}


def _numbers_in_words(tokens: list[str], shown: list[str]) -> tuple[list[str], list[str]]:
    """Numbers written in words, as digits: "hạng mười bốn" → 14, "chín mươi bảy phần trăm" → 97. Only runs with
    "mười/mươi/trăm" in them or a percent word after them, since "năm", "ba", "tư" alone are also other words."""
    out, out_shown, i = [], [], 0
    while i < len(tokens):
        end = i
        while end < len(tokens) and tokens[end] in _NUMBER_WORDS:
            end += 1
        run = tokens[i:end]
        compound = any(t in ("muoi", "tram") for t in run)
        percent = end < len(tokens) and tokens[end] in ("%", "phan", "percent")
        counted = len(run) == 1 and end < len(tokens) and tokens[end] in _COUNTED_NOUNS and run[0] != "nam" \
            and not (i and tokens[i - 1] in ("thu", "hang"))  # "hai sở cao nhất", "ba huyện thấp nhất"
        if run and (run[0] in _DIGIT_WORDS or run[0] == "muoi") and (compound or percent or counted):
            out.append(str(_spelled_value(run)))
            out_shown.append(out[-1])
            i = end
            continue
        out.append(tokens[i])
        out_shown.append(shown[i])
        i += 1
    return out, out_shown


def _spelled_value(words: list[str]) -> int:
    total = current = 0
    for word in words:
        if word == "muoi":
            current = 10 if current == 0 else current * 10
        elif word == "tram":
            total, current = total + (current or 1) * 100, 0
        elif word in _DIGIT_WORDS:
            current += _DIGIT_WORDS[word]
    return total + current


# --- numbers ------------------------------------------------------------------------------------------------------


def _number(token: str) -> Decimal | None:
    if not re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return None
    return Decimal(token.replace(",", "."))


@dataclass
class Bounds:
    """A threshold on scores: above/below (strict or not) or between."""

    low: Decimal | None = None
    low_inclusive: bool = False
    high: Decimal | None = None
    high_inclusive: bool = False

    def admits(self, value: Decimal) -> bool:
        if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)):
            return False
        return True


# --- the reading ------------------------------------------------------------------------------------------------


@dataclass
class Reading:
    """What a question says, span by span. ``rest`` is what no span explained: the words that may name units."""

    tokens: list[str]
    shown: list[str]  # the tokens as typed: case and diacritics kept
    english: bool = False
    strict: bool = False  # the user types diacritics: a word typed without them means a word without them
    year: int | None = None
    relative_year: bool = False
    level: str | None = None
    tier: str | frozenset[str] | None = None  # one tier, or several ("tốt và khá", "khá trở lên")
    bounds: Bounds | None = None
    rank: int | None = None
    from_bottom: bool = False
    n: int | None = None
    cues: set[str] = field(default_factory=set)
    versus_mean: str | None = None  # "above" / "below" the mean ("dưới mức trung bình")
    places: list[tuple[Phrase, str]] = field(default_factory=list)  # places named: (folded words, as typed)
    small_talk: str | None = None  # "greeting", "thanks", "ack": the whole message is small talk
    asks: bool = False  # words that ask about results ("bao nhiêu", "mấy", "%", "thế nào")
    rest: list[str] = field(default_factory=list)
    rest_shown: list[str] = field(default_factory=list)
    named: list[tuple[str, str]] = field(default_factory=list)  # rest words that may name a unit: (folded, typed)
    taken: set[int] = field(default_factory=set)

    @property
    def rest_text(self) -> str:
        """What no span explained, as typed (diacritics are evidence for the resolver)."""
        return " ".join(self.rest_shown)

    def has(self, *cues: str) -> bool:
        return any(c in self.cues for c in cues)


_LEVEL_NOUNS = {"so": "so", "quan": "huyen", "huyen": "huyen", "xa": "xa", "phuong": "xa", "tinh": "tinh",
                "bo": "bo"}
_COUNTED_NOUNS = frozenset({"don", "so", "quan", "huyen", "xa", "phuong", "co", "dia", "tinh", "bo", "nganh"})
_RANGE_WORDS = frozenset({"den", "toi", "-", "va", "and", "to"})
_TOP_WORDS = {"top": "top", "bottom": "bottom", "dau": "top", "cuoi": "bottom", "cao": "top", "thap": "bottom"}
_WEEKDAY_ORDINALS = frozenset({"hai", "ba", "tu", "nam", "sau", "bay"})  # "thứ Sáu" is also Friday
_NAME_NUMBER_KINDS = frozenset({"phuong", "quan", "xa", "khu", "to", "ap", "khom"})
_LEVEL_QUESTION = re.compile(r"(?<!\w)(so|quan|huyen|xa|phuong|tinh|bo)(?: (?:nganh|ban nganh))? (?:nao|gi)(?!\w)")
_PLURAL_LEVEL = re.compile(
    r"(?<!\w)(?:cac|nhung|may|bao nhieu|tat ca|toan bo|ca|\d{1,3}) (so|quan|huyen|xa|phuong|tinh|bo)(?!\w)")
_BOTH_LEVELS = re.compile(r"(?<!\w)(?:ca (?:2|hai|cac) cap|hai cap|cac cap|ca so (?:lan|va|voi) (?:quan|huyen)|"
                          r"ca (?:quan )?huyen (?:lan|va|voi) so|so va (?:quan|huyen)|(?:quan|huyen) va so)(?!\w)")
# Levels as questions name them, beyond the document phrases levels.detect_level knows.
_LEVEL_WORDS = [(re.compile(rf"(?<!\w){pattern}(?!\w)"), code) for pattern, code in (
    (r"cap quan", "huyen"), (r"quan huyen", "huyen"), (r"(?:cac|nhung|may|bao nhieu) dia phuong", "huyen"), (r"so nganh", "so"), (r"so ban nganh", "so"),
    (r"departments?", "so"), (r"districts?", "huyen"), (r"communes?", "xa"), (r"provinces?", "tinh"),
    (r"ministr(?:y|ies)", "bo"),
)]


def level_of(folded: str) -> str | None:
    """The level a (folded) question names: "cấp sở", "khối quận, huyện", "sở nào", "các quận", "districts";
    None for none, or for several ("cả sở lẫn quận huyện", "cả 2 cấp")."""
    if _BOTH_LEVELS.search(folded):
        return None
    if level := detect_level(folded):
        return level
    for pattern, code in _LEVEL_WORDS:
        if pattern.search(folded):
            return code
    if m := _LEVEL_QUESTION.search(folded) or _PLURAL_LEVEL.search(folded):
        return _LEVEL_NOUNS[m.group(1)]
    return None


def read(text: str) -> Reading:
    """Spans of a question; the kind of question is decided in dxcore.understanding.intents."""
    p = phrasing()
    tokens, shown, english, strict = tokenize(text)
    r = Reading(tokens, shown, english, strict)
    taken = r.taken

    def take(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        spans = list(spans)
        for start, end in spans:
            taken.update(range(start, end))
        return spans

    def cue(name: str) -> list[tuple[int, int]]:
        spans = find(tokens, p.cues[name], taken | soft, shown, strict)
        if spans:
            r.cues.add(name)
        return spans

    # Words of the domain ("chuyển đổi số", "xếp hạng") are left for the resolver, which reads them in its own
    # phrases, but no cue may take them apart ("đổi số" is not "đội sổ").
    soft = {i for s, e in find(tokens, p.cues["protected"], taken, shown, strict) for i in range(s, e)}

    r.asks = bool(find(tokens, p.cues["asks"], None, shown, strict))

    # Years: "năm 2023" is the evaluated year; "năm nay", "mới nhất" mean the latest results.
    for i, token in enumerate(tokens):
        if _YEAR_RE.fullmatch(token):
            r.year = int(token)
            take([(i - 1 if i and tokens[i - 1] in ("nam", "year") else i, i + 1)])
    change = cue("change")  # before relative years: "so với năm trước" is a change, not a year
    take(change)
    if relative := find(tokens, p.cues["relative_year"], taken, shown, strict):
        r.relative_year = True
        take(relative)

    # Places ("Hà Nội", "Bạc Liêu"): read before courtesy, whose words they may share when typed without diacritics
    # ("hộ", "chị", "mình" in "ho chi minh").
    # They stay in what the resolver reads: the issuer's own place narrows the search there.
    for start, end in find(tokens, p.places, taken | soft, shown, strict):
        r.places.append((tuple(tokens[start:end]), " ".join(shown[start:end])))
        soft.update(range(start, end))

    # Self-introductions: pronoun + verb + roles out, the unit they name stays.
    for start, end in find(tokens, p.pronouns, taken, shown, strict):
        verbs = find(tokens[end:], p.intro_verbs, None, shown[end:], strict)
        verb = next(((s, e) for s, e in verbs if s == 0), None)
        if verb is None:
            continue
        stop = end + verb[1]
        while roles := [(s, e) for s, e in find(tokens[stop:], p.roles, None, shown[stop:], strict) if s == 0]:
            stop += roles[0][1]
        take([(start, stop)])

    _read_numbers(r, p, take, cue)  # before courtesy: "hạng nhì" is a rank, "nhỉ" courtesy, both fold to "nhi"

    # Small talk and help: only when nothing else is said.
    courtesy = find(tokens, p.courtesy, taken | soft, shown, strict)
    kinds = {kind: find(tokens, phrases, taken | soft, shown, strict)
             for kind, phrases in (("greeting", p.greetings), ("thanks", p.thanks), ("ack", p.acks), ("help", p.help))}
    talk = {i for spans in kinds.values() for s, e in spans for i in range(s, e)}
    leftover = [i for i in range(len(tokens)) if i not in taken and i not in talk
                and not any(s <= i < e for s, e in courtesy)]
    if not leftover and r.year is None and r.rank is None and r.n is None and r.bounds is None:
        said = [k for k in ("help", "thanks", "greeting", "ack") if kinds[k]]
        r.small_talk = said[0] if said else ("empty" if not tokens else "ack")
    elif kinds["help"] and all(not tokens[i].isdigit() for i in leftover):
        r.cues.add("help")
    take(courtesy + kinds["greeting"] + kinds["thanks"])  # "Chào bot, mình bên Sở …": the greeting says nothing more

    folded = " ".join(tokens)
    r.level = level_of(folded)
    _read_tier_and_average(r, p, take, cue)
    cue("superlative")  # read, not taken: the top and bottom cues take the same words
    for name in ("subscores", "method", "decisions", "top", "bottom", "compare", "full_list", "count", "which",
                 "listing", "domain"):
        spans = cue(name)
        if name == "compare":  # connectors ("và", "với", "hơn") split the units compared; the rest of the cue goes
            take((s, e) for s, e in spans if tuple(tokens[s:e]) not in p.cues["connectors"])
        elif name not in ("which", "listing", "domain"):  # those may be part of a name, or of the resolver's phrases
            take(spans)
    take(find(tokens, p.cues["levels"], taken, shown, strict))
    if (r.has("top", "bottom") or r.from_bottom) and r.n is None and r.rank is None:
        free = [i for i, t in enumerate(tokens) if i not in taken and (v := _number(t)) is not None and v == int(v)
                and 0 < v < 1000 and not (i and tokens[i - 1] in _NAME_NUMBER_KINDS)]
        if len(free) == 1:  # "/top huyện 3"
            r.n = int(tokens[free[0]])
            take([(free[0], free[0] + 1)])
    r.rest = [t for i, t in enumerate(tokens) if i not in taken]
    r.rest_shown = [t for i, t in enumerate(r.shown) if i not in taken]
    # What might name a unit: the rest without phrases of questions (the resolver's) and of the domain. Single
    # question words stay: some are syllables of names too ("lại"/"Lai"); the resolver knows which.
    vocabulary = default_vocabulary()
    asked = soft | {i for s, e in find(tokens, frozenset(vocabulary.question_phrases) | p.cues["domain"], taken)
                    for i in range(s, e)}
    r.named = [(t, shown[i]) for i, t in enumerate(tokens) if i not in taken and i not in asked and t not in _SYMBOLS]
    bare = [t for t, _ in r.named if t not in vocabulary.question_words]
    if bare and all(t in _LEVEL_NOUNS for t in bare):  # "top huyện 3": a lone level word names no unit
        r.level = r.level or _LEVEL_NOUNS[bare[0]]
        r.named = [(t, typed) for t, typed in r.named if t not in _LEVEL_NOUNS]
    return r


_COMPARATIVE_TIERS = frozenset({"trung_binh", "kem"})  # tier words that are also words of comparison
# A tier word and a connector before "trung bình" make it a tier too ("khá hay trung bình", "tốt, khá, tb"); a tier
# word alone does not ("các sở loại tốt trung bình được bao nhiêu": the mean of the Tốt ones).
_TIER_PHRASES = frozenset(tuple(fold(w).split()) + (extra,) for w in TIER_WORDS.values()
                          for extra in (",", "hay", "hoac", "va")) | frozenset(
    tuple(fold(a).split()) + tuple(fold(b).split()) for a in TIER_WORDS.values() for b in TIER_WORDS.values() if a != b)


@cache
def _tier_phrases() -> list[tuple[str, Phrases]]:
    """Each tier's word as a phrase set, longest first ("trung bình" before a one-word tier)."""
    return [(code, _phrases([word])) for code, word in sorted(TIER_WORDS.items(), key=lambda kv: -len(kv[1]))]


def _after(tokens: Sequence[str], start: int, phrases: frozenset[Phrase]) -> bool:
    """Whether one of ``phrases`` ends right before ``start``."""
    return any(start >= len(ph) and tuple(tokens[start - len(ph) : start]) == ph for ph in phrases)


def _read_tier_and_average(r: Reading, p: Phrasing, take, cue) -> None:
    """Tier words ("loại khá"); "trung bình" is the tier after "loại", otherwise the mean of the percentages."""
    tokens = r.tokens
    average = find(tokens, p.cues["average"], r.taken, r.shown, r.strict)
    tier_before = p.cues["tier_before_average"]
    for start, end in average:
        if tuple(tokens[start:end]) == ("trung", "binh") and (
                _after(tokens, start, tier_before) or _after(tokens, start, _TIER_PHRASES)):
            continue  # "xếp loại trung bình", "khá, trung bình": the tier
        r.cues.add("average")
        lead = start - (1 if start and tokens[start - 1] in ("muc", "diem", "moc", "ty", "le") else 0)
        for side in ("above", "below"):
            for phrase in p.cues[side]:
                if lead >= len(phrase) and tuple(tokens[lead - len(phrase) : lead]) == phrase:
                    r.versus_mean, start = side, lead - len(phrase)
        take([(start, end)])
    found: list[tuple[int, int, str]] = []
    for code, phrases in _tier_phrases():
        for start, end in find(tokens, phrases, r.taken, r.shown, r.strict):
            if end < len(tokens) and tokens[end] == "nhat":
                continue  # "tốt nhất" is a top question
            if code in _COMPARATIVE_TIERS and not (_after(tokens, start, tier_before)
                                                   or _after(tokens, start, _TIER_PHRASES)):
                continue  # "kém Thanh tra 1,73%", "trung bình cộng": a comparison or the mean, not the tier
            found.append((start, end, code))
            take([(start, end)])
    if not found:
        return
    found.sort()
    codes = [code for _, _, code in found]
    r.tier = codes[0] if len(set(codes)) == 1 else frozenset(codes)  # "tốt và khá", "tốt hoặc khá"
    if len(set(codes)) == 1:
        _tier_range(r, p, found[0], take)


# Around one tier word, what makes it a range of tiers: "khá trở lên", "từ khá trở lên", "dưới mức khá",
# "chưa đạt loại tốt", "trên mức trung bình". Folded words; the order of tiers is tiers.TIER_RANK (best first).
_AT_OR_BETTER_AFTER = (("tro", "len"), ("or", "better"), ("or", "above"))
_WORSE_BEFORE = (("duoi", "muc"), ("duoi", "loai"), ("duoi",), ("chua", "dat", "loai"), ("chua", "dat"),
                 ("khong", "dat", "loai"), ("khong", "dat"), ("chua", "duoc", "loai"), ("khong", "duoc", "loai"),
                 ("below",))
_BETTER_BEFORE = (("tren", "muc"), ("tren", "loai"), ("above",))


def _tier_range(r: Reading, p: Phrasing, span: tuple[int, int, str], take) -> None:
    start, end, code = span
    tokens, rank = r.tokens, TIER_RANK[code]
    if tuple(tokens[end : end + 2]) in _AT_OR_BETTER_AFTER:
        r.tier = frozenset(t for t, k in TIER_RANK.items() if k <= rank)
        take([(end, end + 2)])
        return
    for before, better in [(b, False) for b in _WORSE_BEFORE] + [(b, True) for b in _BETTER_BEFORE]:
        if tuple(tokens[max(0, start - len(before)) : start]) == before:
            r.tier = frozenset(t for t, k in TIER_RANK.items() if (k < rank if better else k > rank))
            take([(start - len(before), start)])
            return


def _read_numbers(r: Reading, p: Phrasing, take, cue) -> None:
    """Numbers by role: a threshold ("trên 90%"), a rank ("hạng 5", "thứ nhì"), how many ("top 3", "5 sở"); a
    number after a kind of place ("Phường 3") belongs to a name and is left alone."""
    tokens = r.tokens
    percent_words = p.cues["percent"]

    def percent_after(i: int) -> int | None:
        """The index after "X %" / "X phần trăm" starting at i, or None if no percent sign follows."""
        for phrase in _longest_first(percent_words):
            if tuple(tokens[i + 1 : i + 1 + len(phrase)]) == phrase:
                return i + 1 + len(phrase)
        return None

    def ends_with(before: list[str], phrases: frozenset[Phrase]) -> int:
        return max((len(ph) for ph in phrases if len(before) >= len(ph) and tuple(before[-len(ph):]) == ph),
                   default=0)

    i = 0
    while i < len(tokens):
        value = _number(tokens[i])
        if value is None or i in r.taken:
            i += 1
            continue
        if i and tokens[i - 1] in _NAME_NUMBER_KINDS:
            i += 1
            continue
        after = percent_after(i)
        before = tokens[max(0, i - 4) : i]
        # A range: "từ 70 đến 80%", "trong khoảng 70-80%", "từ 80% tới 90%".
        joint = after if after is not None else i + 1
        if joint + 1 < len(tokens) and tokens[joint] in _RANGE_WORDS \
                and (high := _number(tokens[joint + 1])) is not None and (after or percent_after(joint + 1)):
            lead = ends_with(before, p.cues["between"])
            end = percent_after(joint + 1) or joint + 2
            r.bounds = Bounds(value, True, high, True)
            take([(i - lead, end)])
            i = end
            continue
        if after is not None:
            sides = []  # the longest cue wins: "thấp hơn 62%" is below, though "hơn" alone reads as above
            for name, bounds in (("at_least", Bounds(value, True)), ("above", Bounds(value)),
                                 ("at_most", Bounds(high=value, high_inclusive=True)), ("below", Bounds(high=value))):
                lead = ends_with(before, p.cues[name])
                trail = next((len(ph) for ph in p.cues[name]
                              if tuple(tokens[after : after + len(ph)]) == ph), 0) if name in ("at_least", "at_most") \
                    else 0
                if lead or trail:
                    sides.append((lead + trail, lead, trail, bounds))
            if sides:
                _, lead, trail, r.bounds = max(sides, key=lambda side: side[0])
                take([(i - lead, after + trail)])
            i = after
            continue
        lead = ends_with(before, p.cues["rank"])
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if before[-2:] in (["trong", "ca"], ["trong", "tong"]) or before[-1:] == ["trong"]:
            take([(i, i + 1)])  # "trong cả 29 đơn vị": the field, not how many
            i += 1
            continue
        if lead and nxt not in _COUNTED_NOUNS and 0 < value < 10_000 and value == int(value):
            r.rank = int(value)
            take([(i - lead, i + 1)])
        elif (prev := tokens[i - 1] if i else "") in _TOP_WORDS or nxt in _COUNTED_NOUNS or nxt in _TOP_WORDS:
            if 0 < value < 10_000 and value == int(value):
                r.n = int(value)
                take([(i, i + 1)])  # the word before ("top", "lọt top") is left for the cues
                if side := _TOP_WORDS.get(prev) or _TOP_WORDS.get(nxt):
                    r.cues.add(side)
        i += 1
    # Ordinals after a rank word: "hạng nhì", "đứng thứ ba".
    ordinals = p.ordinal_phrases
    for i, token in enumerate(tokens):
        if r.rank is None and token in p.ordinals and i not in r.taken \
                and find(tokens[i : i + 1], ordinals, None, r.shown[i : i + 1], r.strict):  # "tự" is not "tư"
            before = tokens[max(0, i - 3) : i]
            if before[-2:] == ["theo", "thu"]:
                continue  # "theo thứ tự": in order
            lead = ends_with(before, p.cues["rank"])
            if lead == 1 and before[-1] == "thu" and token in _WEEKDAY_ORDINALS \
                    and not ends_with(before[:-1], p.cues["rank"]) \
                    and not (find(tokens, p.cues["from_bottom"]) or level_of(" ".join(tokens))
                             or find(tokens, p.cues["which"])):
                continue  # a bare "thứ hai … thứ bảy" is a weekday; "đứng thứ ba", "hạng ba" are ranks
            if lead:
                r.rank = p.ordinals[token]
                take([(i - lead, i + 1)])
    if spans := find(tokens, p.cues["from_bottom"], r.taken, r.shown, r.strict):
        r.from_bottom = True
        take(spans)
