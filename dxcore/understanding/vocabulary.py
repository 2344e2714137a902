"""The resolver's language data (data/vocabulary.toml), folded once into lookup tables."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dxcore.paths import data_dir
from dxcore.understanding.text import clean, fold

_WORD_RE = re.compile(r"\w+")


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

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        phrases = [words(p) for p in raw.get("question_phrases", [])]
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
