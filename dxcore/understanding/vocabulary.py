"""The resolver's language data (data/vocabulary.toml), folded once into lookup tables."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dxcore.paths import data_dir
from dxcore.understanding.text import fold

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
        )


@cache
def default_vocabulary() -> Vocabulary:
    return Vocabulary.load(data_dir() / "vocabulary.toml")
