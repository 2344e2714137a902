"""Unit name → found / ambiguous / not_found, from whatever a person types.

An in-memory index over the stored units' names, built through the vocabulary (data/vocabulary.toml) and its
grammar, so unseen spellings of the same kind work: every name is folded (no case, no diacritics), its
abbreviations expanded, and indexed by word, by the initials of every run of its words ("TT&TT", "LĐTBXH",
"NN-PTNT", "BQL KCX"), by words run together ("taichinh"), and for typos and unfinished words.

A query's words are weighed by how much they tell units apart (rare words much, "Sở" or "quận" little, question
words almost nothing); a word no stored unit has counts against every match ("Bộ", "Hà Nội"). A unit's score is
mostly how much of the query it explains, partly how much of its own name the query covers. "found" needs a high
score and a clear gap to the next unit; several close units are "ambiguous"; otherwise "not_found", with
suggestions when any unit is plausible.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import OSA

from dxcore.text import clean, strip_diacritics
from dxcore.vocabulary import Vocabulary, default_vocabulary, words

FOUND, AMBIGUOUS, NOT_FOUND = "found", "ambiguous", "not_found"

# Match qualities: how sure a query word is the unit word it matched.
_EXACT, _EXPANDED, _INITIALS, _COMPOUND, _TYPO, _SHORT_TYPO, _PREFIX = 1.0, 0.95, 0.95, 0.95, 0.8, 0.6, 0.7
# Query word weights for words that say little about which unit.
_LIGHT, _GENERIC, _TYPE = 0.05, 0.15, 0.4
_STOPWORDS = frozenset({"va", "cac", "cua"})  # never initials ("KH&ĐT" is "kế hoạch và đầu tư")
_MAX_INITIALS_RUN = 8

# Thresholds of the decision, on a 0–100 score and the share of the query explained.
_FOUND_SCORE, _FOUND_GAP, _EXPLAINED, _SUGGEST_SCORE = 62.0, 7.0, 0.8, 45.0

_CONSONANTS = "bcdfghjklmnpqrstvwxz"
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

    def to_json(self) -> dict:
        def ref(u: UnitRef) -> dict:
            return {"id": u.id, "name": u.name, "level": u.level}

        return {
            "query": self.query,
            "status": self.status,
            "unit": ref(self.unit) if self.unit else None,
            "candidates": [ref(c.unit) | {"score": round(c.score, 1)} for c in self.candidates],
        }


def _is_acronym(token: str) -> bool:
    return len(token) >= 2 and not any(ch in "aeiouy" or ch.isdigit() for ch in token)


@dataclass
class _Entry:
    """One indexed unit."""

    unit: UnitRef
    tokens: tuple[str, ...]
    weights: tuple[float, ...]  # per token, for how much of the name a query covers
    kind: tuple[str, ...] | None  # its unit-type words ("quan"), the evidence "huyện X" or "Bộ …" weighs against
    total_weight: float = 0.0


@dataclass
class _TokenMatch:
    weight: float
    units: dict[int, tuple[float, frozenset[int]]] = field(default_factory=dict)  # entry → (quality, positions)

    def add(self, entry: int, quality: float, positions: Iterable[int]) -> None:
        known = self.units.get(entry)
        if known is None or known[0] < quality:
            self.units[entry] = (quality, frozenset(positions))


def _find_phrases(tokens: tuple[str, ...], phrases: Iterable[tuple[str, ...]]) -> set[int]:
    """Positions of ``tokens`` that belong to one of ``phrases``."""
    covered: set[int] = set()
    for phrase in phrases:
        n = len(phrase)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == phrase:
                covered.update(range(i, i + n))
    return covered


class Resolver:
    def __init__(
        self,
        units: Iterable[UnitRef],
        vocabulary: Vocabulary | None = None,
        aliases: dict[str, int] | None = None,
        chat_aliases: dict[tuple[int, str], int] | None = None,
    ) -> None:
        self.vocabulary = vocabulary or default_vocabulary()
        self.entries: list[_Entry] = []
        self.by_id: dict[int, UnitRef] = {}
        self.aliases = dict(aliases or {})
        self.chat_aliases = dict(chat_aliases or {})
        self._places: set[tuple[str, ...]] = set()
        self._word_units: dict[str, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        self._initials: dict[str, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        self._compounds: dict[str, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        self._build(list(units))

    # --- index -------------------------------------------------------------------------------------------------

    def _expand(self, tokens: Iterable[str]) -> tuple[str, ...]:
        """Unambiguous abbreviations spelled out ("ubnd" → "uy ban nhan dan"), in names and questions alike."""
        out: list[str] = []
        for token in tokens:
            expansions = self.vocabulary.abbreviations.get(token, ())
            out.extend(expansions[0] if len(expansions) == 1 else (token,))
        return tuple(out)

    def _build(self, units: list[UnitRef]) -> None:
        vocab = self.vocabulary
        for issuer in {u.issuer for u in units if u.issuer}:
            # The issuer's own place ("Cần Thơ" in "UBND thành phố Cần Thơ") is in many names and tells none apart.
            place = words(issuer)
            for kind in sorted(vocab.unit_types, key=len, reverse=True):
                if kind in [place[i : i + len(kind)] for i in range(len(place))]:
                    idx = [place[i : i + len(kind)] for i in range(len(place))].index(kind)
                    place = place[idx + len(kind):]
                    break
            if place:
                self._places.add(place)
        light = vocab.generic | self._places
        raw = [(u, self._expand(words(u.name))) for u in units]
        doc_freq: dict[str, int] = defaultdict(int)
        for _, tokens in raw:
            for token in set(tokens):
                doc_freq[token] += 1
        self._doc_freq = doc_freq
        self._max_idf = math.log(1 + max(len(units), 1))
        for index, (unit, tokens) in enumerate(raw):
            generic = _find_phrases(tokens, light)
            typed = _find_phrases(tokens, vocab.unit_types)
            weights = tuple(
                _GENERIC if i in generic else _TYPE if i in typed else self._idf(t) for i, t in enumerate(tokens)
            )
            kind = next((tuple(tokens[i : i + len(k)]) for i in range(len(tokens)) for k in
                         sorted(vocab.unit_types, key=len, reverse=True)
                         if tokens[i : i + len(k)] == k and k != ("uy", "ban", "nhan", "dan")), None)
            entry = _Entry(unit, tokens, weights, kind, sum(weights))
            self.entries.append(entry)
            self.by_id[unit.id] = unit
            self._index_entry(index, entry)
            for token in words(unit.name):  # the printed abbreviation stays findable as itself
                if token not in tokens:
                    self._word_units[token].append((index, ()))
        self._sorted_words = sorted(self._word_units)
        self._kind_words = {t for e in self.entries if e.kind for t in e.kind}

    def _idf(self, token: str) -> float:
        df = self._doc_freq.get(token, 0)
        return math.log(1 + len(self.entries or [0]) / df) if df else self._max_idf

    def _index_entry(self, index: int, entry: _Entry) -> None:
        tokens = entry.tokens
        positions: dict[str, list[int]] = defaultdict(list)
        for i, token in enumerate(tokens):
            positions[token].append(i)
        for token, where in positions.items():
            self._word_units[token].append((index, tuple(where)))
        for i in range(len(tokens) - 1):
            for n in (2, 3):
                if i + n <= len(tokens):
                    self._compounds["".join(tokens[i : i + n])].append((index, tuple(range(i, i + n))))
        content = [i for i, t in enumerate(tokens) if t not in _STOPWORDS]
        for start in range(len(content)):
            letters = ""
            for end in range(start, min(len(content), start + _MAX_INITIALS_RUN)):
                letters += tokens[content[end]][0]
                if end > start:
                    covered = tuple(range(content[start], content[end] + 1))
                    self._initials[letters].append((index, covered))

    # --- queries -----------------------------------------------------------------------------------------------

    def query_tokens(self, text: str) -> tuple[str, ...]:
        """Folded query words, with dotted prefixes spelled out, acronyms joined and question phrases taken out."""
        vocab = self.vocabulary
        folded = strip_diacritics(clean(text).lower())
        folded = re.sub(
            r"(?<!\w)([a-z])\s*\.\s*(?=\w)",
            lambda m: f"{vocab.dotted_prefixes.get(m.group(1), m.group(1))} ",
            folded,
        )
        folded = _ACRONYM_RE.sub(lambda m: re.sub(r"[^a-z]", "", m.group(0)), folded)
        folded = _ASIDE_RE.sub(" ", folded)  # years and levels narrow a question; they name no unit
        tokens = tuple(vocab.spellings.get(t, t) for t in re.findall(r"\w+", folded))
        asked = _find_phrases(tokens, vocab.question_phrases)
        return self._expand(t for i, t in enumerate(tokens) if i not in asked)

    def _token_weight(self, token: str, position: int, generic: set[int], typed: set[int]) -> float:
        if position in generic:
            return _GENERIC
        if position in typed:
            # A kind of body no stored unit is ("Bộ …" among Sở) is strong evidence against every match.
            return _TYPE if token in self._kind_words else self._max_idf
        if len(token) == 1:
            return _LIGHT
        if token in self.vocabulary.question_words:
            return _LIGHT if token not in self._doc_freq else 2 * _LIGHT
        return self._idf(token) if token in self._doc_freq else self._max_idf

    def _matches(self, token: str, last: bool) -> _TokenMatch:
        match = _TokenMatch(weight=0.0)
        for entry, positions in self._word_units.get(token, ()):
            match.add(entry, _EXACT, positions)
        for expansion in self.vocabulary.abbreviations.get(token, ()):
            for entry, positions in self._phrase_units(expansion):
                match.add(entry, _EXPANDED, positions)
        if not match.units or _is_acronym(token):
            # Initials of a run of the name's words: "tttt", "ldtbxh", "syt" (Sở Y tế), "vpubnd".
            for entry, positions in self._initials.get(token, ()):
                match.add(entry, _INITIALS, positions)
        if len(token) >= 5:
            for entry, positions in self._compounds.get(token, ()):
                match.add(entry, _COMPOUND, positions)
        if not match.units and len(token) >= 3 and not _is_acronym(token):
            limit = 1 if len(token) < 8 else 2
            quality = _SHORT_TYPO if len(token) <= 3 else _TYPO  # "kiu" for "kiều", but "một" is not "môi"
            for word, _, _ in process.extract(token, self._sorted_words, scorer=OSA.distance,
                                              score_cutoff=limit, limit=5):
                for entry, positions in self._word_units[word]:
                    match.add(entry, quality, positions)
        if last and not match.units and len(token) >= 2:
            start = bisect.bisect_left(self._sorted_words, token)
            for word in self._sorted_words[start : start + 50]:
                if not word.startswith(token):
                    break
                for entry, positions in self._word_units[word]:
                    match.add(entry, _PREFIX, positions)
        return match

    def _phrase_units(self, phrase: tuple[str, ...]) -> list[tuple[int, tuple[int, ...]]]:
        first = self._word_units.get(phrase[0], ())
        found = []
        for entry, positions in first:
            tokens = self.entries[entry].tokens
            for p in positions:
                if tokens[p : p + len(phrase)] == phrase:
                    found.append((entry, tuple(range(p, p + len(phrase)))))
                    break
        return found

    def alias_key(self, text: str) -> str:
        """What an alias is stored under: the question as the resolver reads it."""
        return " ".join(self.query_tokens(text))

    def resolve(self, text: str, *, level: str | None = None, issuer: str | None = None,
                chat_id: int | None = None) -> Resolution:
        tokens = self.query_tokens(text)
        key = " ".join(tokens)
        alias = self.chat_aliases.get((chat_id, key)) if chat_id is not None else None
        alias = alias or self.aliases.get(key)
        if alias is not None and alias in self.by_id:
            unit = self.by_id[alias]
            return Resolution(text, FOUND, unit, (Candidate(unit, 100.0),))
        if not tokens:
            return Resolution(text, NOT_FOUND, None, ())

        generic = _find_phrases(tokens, self.vocabulary.generic | self._places)
        typed = _find_phrases(tokens, self.vocabulary.unit_types)
        matches = []
        for i, token in enumerate(tokens):
            match = self._matches(token, last=i == len(tokens) - 1) if len(token) > 1 else _TokenMatch(0.0)
            match.weight = self._token_weight(token, i, generic, typed)
            matches.append(match)
        total = sum(m.weight for m in matches)
        candidates: set[int] = set()
        for m in matches:
            if m.weight >= _TYPE:
                candidates.update(m.units)

        scored: list[tuple[float, float, int]] = []
        for entry_index in candidates:
            entry = self.entries[entry_index]
            if level is not None and entry.unit.level != level:
                continue
            if issuer is not None and entry.unit.issuer != issuer:
                continue
            explained = 0.0
            covered: set[int] = set()
            telling = False  # matched a word that tells units apart, not only "Sở" or "thành phố"
            for m in matches:
                hit = m.units.get(entry_index)
                if hit:
                    explained += m.weight * hit[0]
                    covered |= hit[1]
                    telling |= m.weight > _TYPE
            share = explained / total if total else 0.0
            coverage = sum(entry.weights[p] for p in covered) / entry.total_weight if entry.total_weight else 0.0
            if not telling and coverage < _EXPLAINED:
                share = min(share, _EXPLAINED / 2)  # "Sở T" says only "a Sở": no Sở is meant more than another
            scored.append((100 * (0.75 * share + 0.25 * coverage), share, entry_index))
        scored.sort(key=lambda s: (-s[0], self.entries[s[2]].unit.id))
        return self._decide(text, scored)

    def _decide(self, text: str, scored: list[tuple[float, float, int]]) -> Resolution:
        def candidate(item: tuple[float, float, int]) -> Candidate:
            return Candidate(self.entries[item[2]].unit, item[0])

        if not scored:
            return Resolution(text, NOT_FOUND, None, ())
        best_score, best_share, _ = scored[0]
        plausible = [s for s in scored if s[1] >= _EXPLAINED and s[0] >= _FOUND_SCORE]
        if plausible and plausible[0] is scored[0]:
            close = [s for s in plausible if best_score - s[0] < _FOUND_GAP]
            if len(close) == 1:
                return Resolution(text, FOUND, candidate(scored[0]).unit, tuple(map(candidate, scored[:1])))
            return Resolution(text, AMBIGUOUS, None, tuple(map(candidate, close[:5])))
        suggestions = [candidate(s) for s in scored[:3] if s[0] >= _SUGGEST_SCORE]
        return Resolution(text, NOT_FOUND, None, tuple(suggestions))
