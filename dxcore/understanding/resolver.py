"""Unit name → found / ambiguous / not_found, from whatever a person types.

An in-memory index over the stored units' names, built through the vocabulary (data/vocabulary.toml) and its
grammar, so unseen spellings of the same kind work: every name is folded (no case, no diacritics), its
abbreviations expanded, and indexed by word, by the initials of every run of its words ("TT&TT", "LĐTBXH",
"NN-PTNT", "BQL KCX"), by words run together ("taichinh"), and for typos and unfinished words.

A query's words are weighed by how much they tell units apart (rare words much, "Sở" or "quận" little, question
words almost nothing); a word no stored unit has counts against every match ("Bộ", a place no stored unit has). A unit's score is
mostly how much of the query it explains, partly how much of its own name the query covers. "found" needs a high
score and a clear gap to the next unit; several close units are "ambiguous"; otherwise "not_found", with
suggestions when any unit is plausible.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from dxcore.observability import metrics
from dxcore.understanding.text import clean, strip_diacritics
from dxcore.understanding.vocabulary import Vocabulary, default_vocabulary, words

FOUND, AMBIGUOUS, NOT_FOUND = "found", "ambiguous", "not_found"

# Match qualities: how sure a query word is the unit word it matched.
_EXACT, _EXPANDED, _INITIALS, _COMPOUND, _TYPO, _SHORT_TYPO, _PREFIX = 1.0, 0.95, 0.95, 0.95, 0.8, 0.6, 0.7
# Query word weights for words that say little about which unit.
_LIGHT, _GENERIC, _TYPE = 0.05, 0.15, 0.4
_STOPWORDS = frozenset({"va", "cac", "cua"})  # never initials ("KH&ĐT" stands for "kế hoạch và đầu tư", not "… v …")
_SHORTLIST = 30  # units scored in full per question
_STEP = 32  # units per step of a stepwise index build (well under a millisecond at 10,000 units)
_TELLING = 1.0  # a word in more than about 60% of names does not pick units out
_OTHER_KIND = 0.88  # "xã X" asked, "phường X" found: possible, but the score says so
# Kinds of body people use for one another; any other difference of kind rules a unit out of a confident match.
_FAMILIES = {("quan",): "district", ("huyen",): "district", ("thi", "xa"): "district", ("thanh", "pho"): "district",
             ("xa",): "commune", ("phuong",): "commune", ("thi", "tran"): "commune"}


_TERRITORIES = frozenset({("tinh",), ("thanh", "pho"), ("quan",), ("huyen",), ("thi", "xa"), ("xa",), ("phuong",),
                          ("thi", "tran")})  # kinds of issuer with a place of their own (a ministry has none)


def _split_qualifier(name: str) -> tuple[str, str]:
    """A name's own part and what follows it in brackets: "Xã A (huyện B)" → ("xa a", "huyện B")."""
    own, _, rest = name.partition("(")
    return " ".join(strip_diacritics(own.casefold()).split()), rest.rstrip(") ")


def _family(kind: tuple[str, ...]) -> object:
    return _FAMILIES.get(kind, kind)

# Thresholds of the decision, on a 0–100 score and the share of the query explained.
_FOUND_SCORE, _FOUND_GAP, _EXPLAINED, _SUGGEST_SCORE = 62.0, 7.0, 0.8, 45.0

_CONSONANTS = "bcdfghjklmnpqrstvwxz"
_SYLLABLE_RE = re.compile(
    r"(?:ngh|ch|gh|gi|kh|ng|nh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt]|[iouy])?"
)
_ASIDE_RE = re.compile(r"(?<!\w)(?:(?:nam\s+)?(?:19|20)\d\d|cap\s+(?:so|huyen|xa|tinh|bo))(?!\w)")
_ACRONYM_RE = re.compile(rf"(?<!\w)[{_CONSONANTS}]{{1,6}}(?:\s*[&\-/.+]\s*[{_CONSONANTS}]{{1,6}})+(?!\w)")


@dataclass(frozen=True)
class UnitRef:
    id: int
    name: str
    level: str
    issuer: str = ""


@dataclass(frozen=True)
class Candidate:
    unit: UnitRef
    score: float


@dataclass(frozen=True)
class Resolution:
    query: str
    status: str
    unit: UnitRef | None
    candidates: tuple[Candidate, ...]
    loose: bool = False  # the unit was found through a typo or an unfinished word: worth saying so
    def to_json(self) -> dict:
        def ref(u: UnitRef) -> dict:
            return {"id": u.id, "name": u.name, "level": u.level}

        return {
            "query": self.query,
            "status": self.status,
            "unit": ref(self.unit) if self.unit else None,
            "candidates": [ref(c.unit) | {"score": round(c.score, 1)} for c in self.candidates],
        }


_WORD_RE = re.compile(r"\w+")
_MENTION_RE = re.compile(r"(?<!\w)@\w+")


def _typed_forms(text: str) -> dict[str, set[str]]:
    """Each folded word of a question → how it was typed, where it was typed with diacritics."""
    forms: dict[str, set[str]] = defaultdict(set)
    for word in _WORD_RE.findall(clean(text).casefold()):
        folded = strip_diacritics(word)
        if folded != word:
            forms[folded].add(word)
    return forms


def _typed_in_order(text: str, tokens: tuple[str, ...]) -> list[str | None]:
    """How each query token was typed (None when it was spelled out from an abbreviation or not typed as such):
    the question's words are walked forward in step with the tokens, which keep their order."""
    typed = _WORD_RE.findall(clean(text).casefold())
    out: list[str | None] = []
    at = 0
    for token in tokens:
        j = next((k for k in range(at, len(typed)) if strip_diacritics(typed[k]) == token), None)
        out.append(typed[j] if j is not None else None)
        at = j + 1 if j is not None else at
    return out


def _proper_words(text: str) -> set[str]:
    """Folded words typed with a capital inside a sentence ("… of Ho Chi Minh City"): names, never question words."""
    words = _WORD_RE.findall(clean(text))
    return {strip_diacritics(w).lower() for i, w in enumerate(words) if i and w[:1].isupper() and not w.isupper()}


def _marks(char: str) -> tuple[str, frozenset[str]]:
    decomposed = unicodedata.normalize("NFD", char)
    base = "d" if char == "đ" else decomposed[0]
    return base, frozenset(decomposed[1:]) | ({"stroke"} if char == "đ" else set())


def _diacritics_agree(typed: str, written: str) -> float:
    """1.0 when the typed word is the written one; _TYPO when it only lacks some of its marks ("tê" for "tế");
    _SHORT_TYPO when it carries other marks ("có" for "cờ", "thế" for "thể")."""
    if typed == written:
        return 1.0
    if len(typed) != len(written):
        return _SHORT_TYPO
    missing = False
    for t, w in zip(typed, written):
        (_, t_marks), (_, w_marks) = _marks(t), _marks(w)
        if not t_marks <= w_marks:
            return _SHORT_TYPO
        missing |= t_marks != w_marks
    return _TYPO if missing else 1.0


def _is_acronym(token: str) -> bool:
    return len(token) >= 2 and not any(ch in "aeiouy" or ch.isdigit() for ch in token)


Hits = dict[int, tuple[float, tuple[int, ...]]]  # entry → (match quality, positions of the name's words covered)


@dataclass
class _Entry:
    """One indexed unit."""

    unit: UnitRef
    tokens: tuple[str, ...]
    weights: tuple[float, ...]  # per word, for how much of the name a query covers
    kind: tuple[str, ...] | None  # its unit-type words ("xa"): "xã X" asked of a "phường X" weighs against it
    total_weight: float
    initial_at: tuple[int, ...]  # the word each letter of its initials string stands for
    plain: bool  # its name is only kind and generic words ("Văn phòng UBND thành phố"): its kind tells it apart
    word_at: tuple[int, ...]  # the word each character of its run-together string belongs to


class _Blob:
    """One string per unit joined into one text, so a substring search over thousands of units runs at C speed."""

    def __init__(self, parts: list[str]) -> None:
        self.text = "\x00".join(parts)
        self.starts = []
        offset = 0
        for part in parts:
            self.starts.append(offset)
            offset += len(part) + 1

    def find(self, needle: str, limit: int = 5000) -> Iterable[tuple[int, int]]:
        """(entry, offset inside its string) of each occurrence."""
        at = self.text.find(needle)
        while at != -1 and limit:
            entry = bisect.bisect_right(self.starts, at) - 1
            yield entry, at - self.starts[entry]
            at = self.text.find(needle, at + 1)
            limit -= 1


def _find_phrases(tokens: tuple[str, ...], phrases: Iterable[tuple[str, ...]]) -> set[int]:
    """Positions of ``tokens`` that belong to one of ``phrases``."""
    by_first = _by_first_word(phrases if isinstance(phrases, frozenset) else frozenset(phrases))
    covered: set[int] = set()
    for i, token in enumerate(tokens):
        for phrase in by_first.get(token, ()):
            if tokens[i : i + len(phrase)] == phrase:
                covered.update(range(i, i + len(phrase)))
    return covered


@lru_cache(maxsize=64)
def _by_first_word(phrases: frozenset[tuple[str, ...]]) -> dict[str, list[tuple[str, ...]]]:
    index: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for phrase in phrases:
        index[phrase[0]].append(phrase)
    return dict(index)


_UBND = ("uy", "ban", "nhan", "dan")


def _first_kind(tokens: tuple[str, ...], kinds: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The first unit-type phrase in a name or question, "UBND" aside: every commune's name starts with it."""
    i = 0
    while i < len(tokens):
        if tokens[i : i + len(_UBND)] == _UBND:
            i += len(_UBND)
            continue
        for kind in kinds:
            if tokens[i : i + len(kind)] == kind:
                return kind
        i += 1
    return None


def _leading_kind(tokens: tuple[str, ...], kinds: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The kind a question starts with ("xã X huyện Y" asks for a xã; "huyện Y" there only says where)."""
    start = len(_UBND) if tokens[: len(_UBND)] == _UBND else 0
    return next((kind for kind in kinds if tokens[start : start + len(kind)] == kind), None)


@dataclass
class _Query:
    token: str
    weight: float
    sources: list[tuple[Hits, float]]  # each: units it matched, and how sure (shared index dicts, never copied)
    caps: dict[int, float] | None = None  # units whose word the user typed with other diacritics: at best a typo
    issuers: frozenset[str] = frozenset()  # the word is part of the place of these issuers (P of "UBND tỉnh P")
    typed: str | None = None  # how the user typed it (lower case), where known

    def hit(self, entry_index: int) -> tuple[float, tuple[int, ...]] | None:
        best = None
        for hits, quality in self.sources:
            found = hits.get(entry_index)
            if found is not None and (best is None or best[0] < quality):
                best = (quality, found[1])
        if best is not None and self.caps and entry_index in self.caps:
            best = (min(best[0], self.caps[entry_index]), best[1])
        return best


class Resolver:
    def __init__(
        self,
        units: Iterable[UnitRef],
        vocabulary: Vocabulary | None = None,
        aliases: dict[str, int] | None = None,
        chat_aliases: dict[tuple[int, str], int] | None = None,
    ) -> None:
        self._start(vocabulary, aliases, chat_aliases)
        for _ in self._build(list(units)):
            pass

    @classmethod
    def in_steps(cls, units: Iterable[UnitRef],
                 vocabulary: Vocabulary | None = None) -> Generator[None, None, Resolver]:
        """The index the constructor builds, built in steps of a few dozen units, so that a caller on an event loop
        can give the loop a turn between steps (10,000 units take about a second). Returns the resolver."""
        self = cls.__new__(cls)
        self._start(vocabulary, None, None)
        yield from self._build(list(units))
        return self

    def _start(self, vocabulary: Vocabulary | None, aliases: dict[str, int] | None,
               chat_aliases: dict[tuple[int, str], int] | None) -> None:
        self.vocabulary = vocabulary or default_vocabulary()
        self.aliases = dict(aliases or {})
        self.chat_aliases = dict(chat_aliases or {})
        self._kinds = sorted(self.vocabulary.unit_types, key=len, reverse=True)
        self.entries: list[_Entry] = []
        self.by_id: dict[int, UnitRef] = {}

    # --- index -------------------------------------------------------------------------------------------------

    def _expand(self, tokens: Iterable[str]) -> tuple[str, ...]:
        """Unambiguous abbreviations spelled out ("ubnd" → "uy ban nhan dan"), in names and questions alike."""
        out: list[str] = []
        for token in tokens:
            expansions = self.vocabulary.abbreviations.get(token, ())
            out.extend(expansions[0] if len(expansions) == 1 else (token,))
        return tuple(out)

    def _issuer_places(self, units: list[UnitRef]) -> dict[tuple[str, ...], set[str]]:
        """Each issuer's own place (P of "UBND thành phố P") → the issuers it names. In names it tells
        units of one issuer apart from none; in a question it says which issuer is meant."""
        places: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for issuer in {u.issuer for u in units if u.issuer}:
            place = self._proper_name(issuer)
            if place and _first_kind(self._expand(words(issuer)), self._kinds) in _TERRITORIES:
                places[place].add(issuer)  # a province or city; a ministry's name is not a place
        return dict(places)

    def _proper_name(self, name: str) -> tuple[str, ...]:
        """A name's words after its kind of body: the place P of "UBND thành phố P" and of "TP. P"."""
        tokens = self._expand(words(name))
        kind = _first_kind(tokens, self._kinds)
        if kind:
            at = next(i for i in range(len(tokens)) if tokens[i : i + len(kind)] == kind)
            tokens = tokens[at + len(kind):]
        return tokens

    def _build(self, units: list[UnitRef]) -> Generator[None, None, None]:
        """Builds the index, yielding every _STEP units of each pass over them (see in_steps)."""
        vocab = self.vocabulary
        self._places = self._issuer_places(units)
        light = self._light = frozenset(vocab.generic | set(self._places))
        self._asked = frozenset(vocab.question_phrases)
        names = []
        for index, u in enumerate(units):
            names.append((u, self._expand(words(u.name))))
            if index % _STEP == _STEP - 1:
                yield
        doc_freq: dict[str, int] = defaultdict(int)
        for index, (_, tokens) in enumerate(names):
            for token in set(tokens):
                doc_freq[token] += 1
            if index % _STEP == _STEP - 1:
                yield
        self._doc_freq = doc_freq
        self._max_idf = math.log(1 + max(len(units), 1))
        # folded word → how names write it → the units that do: diacritics typed are evidence (có is not Cờ).
        accents: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for index, unit in enumerate(units):
            for written in _WORD_RE.findall(clean(unit.name).casefold()):
                accents[strip_diacritics(written)][written].append(index)
            if index % _STEP == _STEP - 1:
                yield
        self._accents = {word: dict(forms) for word, forms in accents.items()}
        exact: dict[str, Hits] = defaultdict(dict)
        initials, joined = [], []
        for index, (unit, tokens) in enumerate(names):
            generic = _find_phrases(tokens, light)
            typed = _find_phrases(tokens, vocab.unit_types)
            weights = tuple(
                _GENERIC if i in generic else _TYPE if i in typed else self._idf(t, len(units))
                for i, t in enumerate(tokens)
            )
            content = [i for i, t in enumerate(tokens) if t not in _STOPWORDS]
            word_at = tuple(i for i, t in enumerate(tokens) for _ in t)
            entry = _Entry(unit, tokens, weights, _first_kind(tokens, self._kinds), sum(weights),
                           tuple(content), all(w <= _TYPE for w in weights), word_at)
            self.entries.append(entry)
            self.by_id[unit.id] = unit
            positions: dict[str, list[int]] = defaultdict(list)
            for i, token in enumerate(tokens):
                positions[token].append(i)
            for token, where in positions.items():
                exact[token][index] = (_EXACT, tuple(where))
            for token in words(unit.name):  # the printed abbreviation stays findable as itself
                exact[token].setdefault(index, (_EXACT, ()))
            initials.append("".join(tokens[i][0] for i in content))
            joined.append("".join(tokens))
            if index % _STEP == _STEP - 1:
                yield
        self._exact = dict(exact)
        self._words = sorted(self._exact)
        yield
        self._initials = _Blob(initials)
        self._joined = _Blob(joined)

    def _idf(self, token: str, units: int | None = None) -> float:
        df = self._doc_freq.get(token, 0)
        return math.log(1 + (units or len(self.entries)) / df) if df else self._max_idf

    # --- matching one query word -------------------------------------------------------------------------------

    def _initials_hits(self, token: str) -> Hits:
        """Units where the token is the initials of a run of words: "tttt", "ldtbxh", "syt", "vpubnd"."""
        hits: Hits = {}
        for entry_index, offset in self._initials.find(token):
            at = self.entries[entry_index].initial_at
            hits.setdefault(entry_index, (_INITIALS, tuple(range(at[offset], at[offset + len(token) - 1] + 1))))
        return hits

    def _compound_hits(self, token: str) -> Hits:
        """Units where the token is two or more whole words run together: "taichinh", "binhthuy"."""
        hits: Hits = {}
        for entry_index, offset in self._joined.find(token):
            entry = self.entries[entry_index]
            word_at, end = entry.word_at, offset + len(token)
            starts_word = offset == 0 or word_at[offset - 1] != word_at[offset]
            ends_word = end == len(word_at) or word_at[end] != word_at[end - 1]
            if starts_word and ends_word and word_at[end - 1] > word_at[offset]:
                hits.setdefault(entry_index, (_COMPOUND, tuple(range(word_at[offset], word_at[end - 1] + 1))))
        return hits

    def _derived_weight(self, derived: list[Hits]) -> float:
        """What initials or run-together words weigh: the words they stand for, on average over their matches."""
        totals = []
        for hits in derived:
            for entry_index, (_, positions) in list(hits.items())[:20]:
                tokens = self.entries[entry_index].tokens
                totals.append(sum(self._idf(tokens[p]) for p in positions))
        return min(sum(totals) / len(totals), self._max_idf)

    def _phrase_hits(self, phrase: tuple[str, ...]) -> Hits:
        hits: Hits = {}
        for entry_index, (_, positions) in self._exact.get(phrase[0], {}).items():
            tokens = self.entries[entry_index].tokens
            for p in positions:
                if tokens[p : p + len(phrase)] == phrase:
                    hits[entry_index] = (_EXPANDED, tuple(range(p, p + len(phrase))))
                    break
        return hits

    def _hits(self, token: str, last: bool, capitals: bool,
              typed: str | None = None) -> tuple[list[tuple[Hits, float]], float | None]:
        """Every unit a query word may stand for (which units, how sure), and for a word no name has, the weight of
        the words it stood for: a typo of a rare word is as telling as the word. A word typed with diacritics is a
        word as typed ("bằng" is not a slip of "ban"), never a typo or an unfinished one."""
        exact = self._exact.get(token)
        if len(token) < 2:  # a lone letter (a one-letter word of a name) matches only a word that is that letter
            return ([(exact, _EXACT)] if exact else []), None
        sources: list[tuple[Hits, float]] = [(exact, _EXACT)] if exact else []
        sources += [(self._phrase_hits(e), _EXPANDED) for e in self.vocabulary.abbreviations.get(token, ())]
        derived: list[Hits] = []
        if not exact or _is_acronym(token):
            # Letters without vowels are initials; a longer word with vowels is likelier a typo than initials.
            quality = _INITIALS if capitals or _is_acronym(token) or len(token) <= 3 else _SHORT_TYPO
            derived.append(self._initials_hits(token))
            sources.append((derived[-1], quality))
        if not exact and len(token) >= 5:
            derived.append(self._compound_hits(token))
            sources.append((derived[-1], _COMPOUND))
        sources = [(hits, quality) for hits, quality in sources if hits]
        stand_in: list[str] = []
        # Typos in words of four letters or more, and in shorter ones that cannot be a Vietnamese syllable ("mih",
        # "hog"): three-letter real words are too close to each other ("tân" is not "tài", "một" is not "môi").
        as_typed = typed is not None and typed != token  # typed with diacritics: the word it is, not a slip
        if not as_typed and not exact and (len(token) >= 4 or (len(token) == 3 and not _SYLLABLE_RE.fullmatch(token))) \
                and not any(q >= _INITIALS for _, q in sources):
            limit = 1 if len(token) < 8 else 2
            quality = _TYPO
            for word, _, _ in process.extract(token, self._words, scorer=OSA.distance, score_cutoff=limit, limit=8):
                sources.append((self._exact[word], quality))
                stand_in.append(word)
        if last and not sources and not as_typed:  # a word still being typed
            start = bisect.bisect_left(self._words, token)
            for word in self._words[start : start + 50]:
                if not word.startswith(token):
                    break
                sources.append((self._exact[word], _PREFIX))
                stand_in.append(word)
        if not stand_in and any(derived):
            return sources, self._derived_weight(derived)
        weight = min((self._idf(w) for w in stand_in if w in self._doc_freq), default=None)
        return sources, weight

    def _weight(self, token: str, position: int, generic: set[int], typed: set[int], stand_in: float | None,
                form: str | None = None) -> float:
        if position in generic:
            return _GENERIC
        if position in typed:
            # A kind of body no stored unit is ("Bộ …" among Sở) is strong evidence against every match.
            return _TYPE if token in self._doc_freq else self._max_idf
        if token.isdigit() and token not in self._doc_freq:
            return _LIGHT  # a number no name has is a count or a date the reader left, not a name
        if len(token) == 1 and not token.isdigit():  # a lone letter says little; a number ("Phường 3") a lot
            return _LIGHT
        if token in self.vocabulary.question_words and not self._typed_otherwise(token) and token not in self._proper:
            return _LIGHT if token not in self._doc_freq else 2 * _LIGHT
        if self._chat_word(token, form):
            return _LIGHT
        if token not in self._doc_freq and stand_in is not None:
            return stand_in
        return self._idf(token)

    # --- questions ---------------------------------------------------------------------------------------------

    def query_tokens(self, text: str) -> tuple[str, ...]:
        """Folded query words, with dotted prefixes spelled out, acronyms joined and question phrases taken out."""
        vocab = self.vocabulary
        folded = strip_diacritics(_MENTION_RE.sub(" ", clean(text)).lower())  # "@dxbot" names the bot, not a unit
        folded = re.sub(
            r"(?<!\w)([a-z])\s*\.\s*(?=\w)",
            lambda m: f"{vocab.dotted_prefixes.get(m.group(1), m.group(1))} ",
            folded,
        )
        folded = _ACRONYM_RE.sub(lambda m: re.sub(r"[^a-z]", "", m.group(0)), folded)
        folded = _ASIDE_RE.sub(" ", folded)  # years and levels narrow a question; they name no unit
        tokens = tuple(vocab.spellings.get(t, t) for t in re.findall(r"\w+", folded))
        asked = _find_phrases(tokens, self._asked)
        return self._expand(t for i, t in enumerate(tokens) if i not in asked)

    def _chat_word(self, token: str, form: str | None) -> bool:
        """A function word of chat ("thôi", "mình"): where no name has the word, or typed with its own diacritics
        (typed without any, "thoi" may be a name's "Thới" and keeps its weight)."""
        written = self.vocabulary.chat_words.get(token)
        if written is None or token in self._proper:
            return False
        if token not in self._doc_freq:  # no name has it: light, unless typed as another word ("bạc" is not "bậc")
            return form is None or form == token or form in written
        return form is not None and form != token and form in written

    def _lone(self, q: _Query) -> bool:
        """A common chat syllable ("có", "thế"), unless typed as a name: capitalised, or with other diacritics."""
        written = self.vocabulary.lone_words.get(q.token)
        if written is None or q.token in self._proper:
            return False
        return q.typed is None or q.typed == q.token or q.typed in written

    def _typed_otherwise(self, token: str) -> bool:
        """Whether the user typed this word with diacritics that no question word of that spelling has ("đỏ" is
        not "đó")."""
        forms = self._typed.get(token)
        written = self.vocabulary.question_written.get(token, ())
        return bool(forms) and bool(written) and not any(f in written for f in forms)

    def _diacritic_caps(self, token: str, form: str | None) -> dict[int, float] | None:
        """Units whose name writes this word with other diacritics than the user typed it here: a word typed "có"
        is at best a typo of "Cờ", and one missing a mark ("tê" for "tế") a near miss."""
        variants = self._accents.get(token)
        if form is None or form == token or not variants:
            return None
        caps: dict[int, float] = {}
        for written, entries in variants.items():
            agreement = _diacritics_agree(form, written)
            if agreement < 1.0:
                for entry_index in entries:
                    caps[entry_index] = agreement
        return caps or None

    def is_name_word(self, token: str) -> bool:
        """Whether a folded word is a word of some stored unit's name (joining words aside)."""
        return token in self._doc_freq and token not in _STOPWORDS

    def knows_place(self, words: tuple[str, ...]) -> bool:
        """Whether a place named in a question is a stored issuer's own place, or part of a stored unit's name."""
        return words in self._places or bool(self._phrase_hits(words))

    def issuers_of_place(self, words: tuple[str, ...]) -> frozenset[str]:
        """The stored issuers whose own place this is (P → "UBND thành phố P")."""
        return frozenset(self._places.get(words, ()))

    def unit_named(self, words: tuple[str, ...], level: str | None = None) -> UnitRef | None:
        """The one stored unit whose own name is exactly these words (P → the province "TP. P" of a national
        report, even where P is also an issuer's place), or None when there is none or several."""
        found = [e.unit for e in self.entries if (level is None or e.unit.level == level)
                 and self._proper_name(e.unit.name) == words]
        return found[0] if len(found) == 1 else None

    def names_with_place(self, words: tuple[str, ...]) -> bool:
        """Whether some stored unit's name holds this place (P of the province unit "TP. P", ranked in
        a national report): a question naming only the place may be about that unit."""
        return bool(self._phrase_hits(words))

    def may_name(self, token: str, typed: str) -> bool:
        """Whether a word of a question may be part of a unit's name: not a question word, or a word of some
        name not typed as the question word ("có" is the question word; "co" may be Cờ)."""
        typed = typed.casefold()
        if token in self.vocabulary.chat_words:
            return token in self._doc_freq and (typed == token or typed not in self.vocabulary.chat_words[token])
        if token not in self.vocabulary.question_words:
            return True
        return token in self._doc_freq and typed not in self.vocabulary.question_written.get(token, ())

    def alias_key(self, text: str) -> str:
        """What an alias is stored under: the question as the resolver reads it."""
        return " ".join(self.query_tokens(text))

    def resolve(self, text: str, *, level: str | None = None, issuer: str | None = None,
                chat_id: int | None = None) -> Resolution:
        resolution = self._resolve(text, level, issuer, chat_id)
        metrics.count(metrics.RESOLVER, resolution.status)
        return resolution

    def _resolve(self, text: str, level: str | None, issuer: str | None, chat_id: int | None) -> Resolution:
        tokens = self.query_tokens(text)
        key = " ".join(tokens)
        alias = self.chat_aliases.get((chat_id, key)) if chat_id is not None else None
        alias = alias or self.aliases.get(key)
        if alias is not None and alias in self.by_id:
            unit = self.by_id[alias]
            return Resolution(text, FOUND, unit, (Candidate(unit, 100.0),))
        if not tokens:
            return Resolution(text, NOT_FOUND, None, ())

        generic = _find_phrases(tokens, self._light)
        if issuer is None and len({i for issuers in self._places.values() for i in issuers}) > 1:
            named = [p for p in self._places if _find_phrases(tokens, frozenset([p]))]
            if len(named) == 1 and len(self._places[named[0]]) == 1:
                (issuer,) = self._places[named[0]]  # "Sở X <place>": that province's
        typed = _find_phrases(tokens, self.vocabulary.unit_types)
        capitals = {strip_diacritics(w).lower() for w in re.findall(r"\w+", clean(text)) if len(w) > 1 and w.isupper()}
        self._typed, self._proper = _typed_forms(text), _proper_words(text)
        forms = _typed_in_order(text, tokens)
        places: dict[int, frozenset[str]] = {}
        for place, issuers in self._places.items():
            for i in _find_phrases(tokens, frozenset([place])):
                places[i] = places.get(i, frozenset()) | frozenset(issuers)
        query = []
        for i, token in enumerate(tokens):
            sources, stand_in = self._hits(token, last=i == len(tokens) - 1, capitals=token in capitals,
                                           typed=forms[i])
            query.append(_Query(token, self._weight(token, i, generic, typed, stand_in, forms[i]), sources,
                                self._diacritic_caps(token, forms[i]), places.get(i, frozenset()), forms[i]))
        shortlist = self._shortlist(query, level, issuer)
        self._loose: dict[int, bool] = {}
        asked_kind = _leading_kind(tokens, self._kinds)
        total = sum(q.weight for q in query)
        scored = [self._score(entry_index, query, total, asked_kind) for entry_index in shortlist]
        scored.sort(key=lambda s: (-s[0], self.entries[s[2]].unit.id))
        return self._decide(text, scored)

    def _shortlist(self, query: list[_Query], level: str | None, issuer: str | None) -> list[int]:
        """The units worth scoring in full: most weight of telling words matched (type words when none tells).

        Rarest words first; once they carry more than 1 − _EXPLAINED of the question's weight, a unit matching none
        of them cannot explain enough of it, so the commoner words only add to units already gathered.
        """
        total = sum(q.weight for q in query)
        telling = [q for q in query if q.weight > _TELLING and q.sources]
        # Exact words first: a typo or a run of initials may stand for the wrong words.
        telling = sorted(telling or [q for q in query if q.weight >= _TYPE],
                         key=lambda q: (q.sources[0][1] < _EXACT if q.sources else True, -q.weight))
        gathered: dict[int, float] = defaultdict(float)
        seen_weight = 0.0
        for q in telling:
            if seen_weight > (1 - _EXPLAINED) * total:
                for entry_index in list(gathered):
                    if hit := q.hit(entry_index):
                        gathered[entry_index] += q.weight * hit[0]
            else:
                best: dict[int, float] = {}
                for hits, quality in q.sources:
                    for entry_index in hits:
                        if best.get(entry_index, 0.0) < quality:
                            best[entry_index] = quality
                for entry_index, quality in best.items():
                    gathered[entry_index] += q.weight * quality
            seen_weight += q.weight
        if level is not None or issuer is not None:
            gathered = {
                e: w for e, w in gathered.items()
                if (level is None or self.entries[e].unit.level == level)
                and (issuer is None or self.entries[e].unit.issuer == issuer)
            }
        return [e for e, _ in heapq.nlargest(_SHORTLIST, gathered.items(), key=lambda item: item[1])]

    def _score(self, entry_index: int, query: list[_Query], total: float,
               asked_kind: tuple[str, ...] | None) -> tuple[float, float, int]:
        entry = self.entries[entry_index]
        explained = 0.0
        covered: set[int] = set()
        telling = False  # matched a word that tells units apart, not only "Sở" or "thành phố"
        previous: tuple[int, ...] = ()
        previous_weight = 0.0
        loosest = 1.0
        pairs = in_order = 0.0  # weighted: "Tân Phú" is not "Phú Tân"
        for q in query:
            hit = q.hit(entry_index)
            if not hit:
                if entry.unit.issuer in q.issuers:
                    explained += q.weight  # "Sở X" plus its own issuer's place name
                previous = ()
                continue
            if len(hit[1]) > 1 and all(entry.tokens[p] == q.token for p in hit[1]):
                # One word of the question stands for one word of the name (in a name holding a word twice, the
                # question's one word is one of them): the one that follows the previous match, else the first.
                hit = (hit[0], (next((p for p in hit[1] if p - 1 in previous), hit[1][0]),))
            # A word matched only inside "UBND" or "thành phố" of a name says as little as those words do.
            weight = q.weight if not hit[1] or any(entry.weights[p] > _GENERIC for p in hit[1]) \
                else min(q.weight, _GENERIC)
            explained += weight * hit[0]
            loosest = min(loosest, hit[0])
            covered.update(hit[1])
            telling |= weight > _TYPE or (entry.plain and weight >= _TYPE)
            if previous and hit[1]:
                pair = min(q.weight, previous_weight)
                pairs += pair
                if any(p - 1 in previous for p in hit[1]):
                    in_order += pair
            previous, previous_weight = hit[1], q.weight
        share = explained / total if total else 0.0
        named_by = [q for q in query if (q.weight > _TYPE or len(q.token) == 1) and q.hit(entry_index)]
        if len({q.token for q in named_by}) == 1 and self._lone(named_by[0]):
            share = min(share, _EXPLAINED - 0.01)  # "có" alone, "thế" alone: common words, never a name on their own
        coverage = sum(entry.weights[p] for p in covered) / entry.total_weight if entry.total_weight else 0.0
        if not telling and coverage < _EXPLAINED:
            share = min(share, _EXPLAINED / 2)  # "Sở T" says only "a Sở": no Sở is meant more than another
        order = in_order / pairs if pairs else 1.0
        score = 100 * (0.65 * share + 0.2 * coverage + 0.15 * order)
        if asked_kind and entry.kind and asked_kind != entry.kind:
            if _family(asked_kind) == _family(entry.kind):
                score *= _OTHER_KIND  # "huyện X" asked of a "quận X": people mix these up
            else:
                share = min(share, _EXPLAINED - 0.01)  # "Văn phòng Sở X" is not Sở X; "xã X" not huyện X
        elif asked_kind and not entry.kind and asked_kind not in _TERRITORIES:
            share = min(share, _EXPLAINED - 0.01)  # "Thanh tra tỉnh P" is not the province P
        self._loose[entry_index] = loosest < _INITIALS
        return score, share, entry_index

    def _namesakes_left_open(self, text: str, scored: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
        """Units of the same name and level as the best one, told apart only by what follows the name in brackets
        ("Xã A (huyện B)", "Xã A (thành phố C)"), when the question says nothing of the
        best one's own brackets: then it is not known which is meant, however the scores fall."""
        top = self.entries[scored[0][2]].unit
        base, qualifier = _split_qualifier(top.name)
        namesakes = [s for s in scored[1:] if (u := self.entries[s[2]].unit).level == top.level
                     and u.issuer == top.issuer and _split_qualifier(u.name)[0] == base]
        if not namesakes:
            return []
        theirs = {w for s in namesakes for w in self._expand(words(_split_qualifier(self.entries[s[2]].unit.name)[1]))}
        own = set(self._expand(words(qualifier))) - theirs
        # What tells them apart must be said besides the name itself and the issuer's own place ("tỉnh C" holds
        # the C of "thành phố C" but says which province, not which district).
        said = set(self._expand(words(text))) - set(self._expand(words(base))) - set(self._proper_name(top.issuer))
        return [] if own & said else namesakes

    def _decide(self, text: str, scored: list[tuple[float, float, int]]) -> Resolution:
        def candidate(item: tuple[float, float, int]) -> Candidate:
            return Candidate(self.entries[item[2]].unit, item[0])

        if not scored:
            return Resolution(text, NOT_FOUND, None, ())
        best_score = scored[0][0]
        plausible = [s for s in scored if s[1] >= _EXPLAINED and s[0] >= _FOUND_SCORE]
        if plausible and plausible[0] is scored[0]:
            close = [s for s in plausible if best_score - s[0] < _FOUND_GAP]
            if len(close) == 1 and (namesakes := self._namesakes_left_open(text, scored)):
                return Resolution(text, AMBIGUOUS, None, tuple(map(candidate, [scored[0], *namesakes][:5])))
            if len(close) == 1:
                return Resolution(text, FOUND, candidate(scored[0]).unit, (candidate(scored[0]),),
                                  self._loose.get(scored[0][2], False))
            return Resolution(text, AMBIGUOUS, None, tuple(map(candidate, close[:5])))
        suggestions = [candidate(s) for s in scored[:3] if s[0] >= _SUGGEST_SCORE]
        return Resolution(text, NOT_FOUND, None, tuple(suggestions))
