"""The resolver's language data (data/vocabulary.toml), folded once into lookup tables."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from dxcore.paths import data_dir
from dxcore.understanding.text import clean, fold, name_key

_WORD_RE = re.compile(r"\w+")
_NOTHING = "(?!)"  # a pattern part that never matches
_UNIT_KEYS_KEPT = 1 << 16  # unit names remembered: a decision of 10,000 rows asks for each one twice


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORD_RE.findall(fold(text)))


@dataclass(frozen=True)
class Vocabulary:
    abbreviations: dict[str, tuple[tuple[str, ...], ...]]  # "kh" → (("khoa", "hoc"), ("ke", "hoach"))
    dotted_prefixes: dict[str, str]  # "q" → "quan"
    spellings: dict[str, str]  # "chanh" → "chinh"
    unit_types: frozenset[tuple[str, ...]]
    generic: frozenset[tuple[str, ...]]
    question_phrases: tuple[tuple[str, ...], ...]  # longest first; taken out of questions
    question_words: frozenset[str]  # weighed lightly
    question_written: dict[str, frozenset[str]]  # a question word → how it is written (diacritics kept)
    lone_words: dict[str, frozenset[str]]  # syllables too common in chat to name a unit alone → how written
    chat_words: dict[str, frozenset[str]]  # function words of chat → how written (see data/vocabulary.toml)
    # For unit identity (unit_key): abbreviations with one expansion and dotted prefixes, folded → their words as
    # written (diacritics kept, name_key'd), and where a name may write them.
    written_abbreviations: dict[str, str] = field(default_factory=dict)  # "bql" → "ban quản lý"
    written_prefixes: dict[str, str] = field(default_factory=dict)  # "q" → "quận"
    abbreviated: re.Pattern[str] = re.compile(_NOTHING)
    _unit_keys: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        phrases = [words(p) for p in raw.get("question_phrases", [])]
        # "KH" is "khoa học" or "kế hoạch": only an abbreviation of one meaning says which unit a name is.
        unambiguous = {key: e[0] for key, e in raw.get("abbreviations", {}).items() if len(e) == 1 and len(key) > 1}
        prefixes = {key: value for key, value in raw.get("dotted_prefixes", {}).items() if len(key) == 1}
        return cls(
            abbreviations={
                fold(key): tuple(words(expansion) for expansion in expansions)
                for key, expansions in raw.get("abbreviations", {}).items()
            },
            dotted_prefixes={fold(k): fold(v) for k, v in raw.get("dotted_prefixes", {}).items()},
            spellings={fold(k): fold(v) for k, v in raw.get("spellings", {}).items() if fold(k) != fold(v)},
            unit_types=frozenset(words(t) for t in raw.get("unit_types", [])),
            generic=frozenset(words(g) for g in raw.get("generic", [])),
            question_phrases=tuple(sorted((p for p in phrases if len(p) > 1), key=len, reverse=True)),
            question_words=frozenset(p[0] for p in phrases if len(p) == 1),
            question_written=_written_forms(raw.get("question_phrases", [])),
            lone_words=_written_forms(raw.get("lone_words", [])),
            chat_words=_written_forms(raw.get("chat_words", [])),
            written_abbreviations={fold(k): name_key(v) for k, v in unambiguous.items()},
            written_prefixes={fold(k): name_key(v) for k, v in prefixes.items()},
            abbreviated=_abbreviation_pattern(unambiguous, prefixes),
        )

    def unit_key(self, name: str) -> str:
        """The identity of a printed unit name: its name_key with unambiguous abbreviations and dotted prefixes
        spelled out, so that "BQL X" and "Ban Quản lý X", "Q.X" and "Quận X" are one unit. Diacritics are kept
        ("Xã Thới" is not "Xã Thời")."""
        key = self._unit_keys.get(name)
        if key is None:
            if len(self._unit_keys) >= _UNIT_KEYS_KEPT:
                self._unit_keys.clear()
            printed = clean(name)
            spelled = self.abbreviated.sub(self._spelled_out, printed)
            key = self._unit_keys[name] = (printed if spelled == printed else clean(spelled)).casefold()
        return key

    def _spelled_out(self, match: re.Match[str]) -> str:
        abbreviation, dot, letter = match.group("abbreviation", "dot", "letter")
        if letter is not None:
            # "Q.X", "H. X": a capital letter with its dot (the pattern wants the dot: without, a name's own letter)
            return f"{self.written_prefixes[fold(letter)]} " if letter.isupper() else match.group(0)
        # Printed names write abbreviations in capitals: a lowercase word is a word, whatever it spells.
        expansion = None if abbreviation.islower() else self.written_abbreviations.get(fold(abbreviation))
        if expansion is None:
            return match.group(0)
        # The dot of an abbreviation ("TP.X", "TP. X") goes with it: the words it stands for have none.
        return f"{expansion} " if dot else expansion


def _abbreviation_pattern(abbreviations: dict[str, str], prefixes: dict[str, str]) -> re.Pattern[str]:
    """Where a name may write one of ``abbreviations`` (a whole token, in any case, with or without its
    diacritics, and the dot that may follow) or a prefix letter with its dot; Vocabulary._spelled_out decides."""
    forms = sorted({form for key in abbreviations for form in (name_key(key), fold(key))}, key=len, reverse=True)
    letters = "".join(sorted({fold(key) for key in prefixes}))
    return re.compile(
        rf"(?<!\w)(?:(?P<abbreviation>{'|'.join(map(re.escape, forms)) or _NOTHING})(?!\w)(?P<dot>\.?)"
        rf"|(?P<letter>{f'[{re.escape(letters)}]' if letters else _NOTHING})\.)",
        re.IGNORECASE,
    )


def _written_forms(phrases: list[str]) -> dict[str, frozenset[str]]:
    forms: dict[str, set[str]] = {}
    for phrase in phrases:
        written = _WORD_RE.findall(clean(phrase).casefold())
        if len(written) == 1:
            forms.setdefault(fold(written[0]), set()).add(written[0])
    return {word: frozenset(w) for word, w in forms.items()}


@cache
def default_vocabulary() -> Vocabulary:
    return Vocabulary.load(data_dir() / "vocabulary.toml")


def unit_key(name: str) -> str:
    """The identity of a printed unit name, by the shipped vocabulary (see ``Vocabulary.unit_key``)."""
    return default_vocabulary().unit_key(name)
