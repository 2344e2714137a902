"""Words in two languages: Answer objects carry message keys with typed parameters, and a renderer words them in
Vietnamese or English from the catalog in ``data/messages/*.toml`` (each key with its ``vi`` and ``en`` side by
side). Unit names, decision numbers and the user's own words are plain strings and pass through unchanged.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from dxcore.answering.formatting import (
    EN,
    VI,
    format_date,
    format_gap,
    format_number,
    format_percent,
    format_score,
)
from dxcore.paths import data_dir

LANGUAGES = (VI, EN)


def language_of(code: str | None) -> str:
    """Telegram's language_code ("en", "en-GB", "vi", None) → a language we speak; Vietnamese unless English."""
    return EN if code and code.lower().split("-")[0] == EN else VI


@dataclass(frozen=True)
class Msg:
    """A sentence to be worded in the reader's language: a catalog key and its parameters."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def render(self, lang: str = VI) -> str:
        template = catalog()[self.key][lang]
        params = {name: word(value, lang) for name, value in self.params}
        # str.format is C; the counting formatter is Python and only needed where a template counts something.
        return _FORMATTER.format(template, **params) if "|" in template else template.format(**params)

    def __add__(self, other: Text) -> Joined:
        return Joined((self, other), "")


class _Formatter(string.Formatter):
    """str.format, plus counted nouns: "{n:unit|units}" → "1 unit", "3 units" (English needs them)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return f"{value} {one if str(value) == '1' else many}"
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def msg(key: str, **params: Any) -> Msg:
    if key not in catalog():
        raise KeyError(f"no message {key!r} in data/messages")
    return Msg(key, tuple(params.items()))


@dataclass(frozen=True)
class Joined:
    """Texts worded one by one and joined: "Tốt 8, Khá 9" from a list of Msg."""

    parts: tuple[Any, ...]
    sep: str = ", "

    def render(self, lang: str = VI) -> str:
        return self.sep.join(word(part, lang) for part in self.parts)


def join(parts: Iterable[Any], sep: str = ", ") -> Joined:
    return Joined(tuple(parts), sep)


Text = str | Msg | Joined


@dataclass(frozen=True)
class Percent:
    value: Decimal | int | float


@dataclass(frozen=True)
class Number:
    value: Decimal | int | float


@dataclass(frozen=True)
class Score:
    """A score in its ranking's own terms ("70,74%", "96,53 điểm", "885,58/1.000 điểm", "chỉ số 0,8340")."""

    value: Decimal
    kind: str | None = "percent"
    max: Decimal | None = None


@dataclass(frozen=True)
class Gap:
    """A difference of two scores of one kind ("25,16 điểm %", "12,5 điểm", "0,0120")."""

    value: Decimal
    kind: str | None = "percent"


@dataclass(frozen=True)
class Day:
    value: date


@dataclass(frozen=True)
class Tier:
    """A tier: its name in the reader's language; in Vietnamese the document's own word when it printed one that is
    not a known tier's name (and the printed word wherever the tier is not known at all)."""

    code: str | None
    printed: str = ""


@dataclass(frozen=True)
class Appendix:
    """An appendix label as printed ("Phụ lục I"); English readers get "Appendix I"."""

    label: str


@dataclass(frozen=True)
class Level:
    """A level's name: capitalised ("Cấp sở", "Department level") or, with ``lower``, for inside a sentence."""

    code: str
    lower: bool = False


def word(value: Any, lang: str = VI) -> str:
    """Any parameter or text, in ``lang``."""
    if isinstance(value, Msg | Joined) or callable(getattr(value, "render", None)):  # also a Location
        return value.render(lang)
    if isinstance(value, Percent):
        return format_percent(value.value, lang)
    if isinstance(value, Number):
        return format_number(value.value, lang)
    if isinstance(value, Score):
        return format_score(value.value, value.kind, value.max, lang)
    if isinstance(value, Gap):
        return format_gap(value.value, value.kind, lang)
    if isinstance(value, Day):
        return format_date(value.value, lang)
    if isinstance(value, Tier):
        entry = catalog().get(f"tier.{value.code}")
        if entry is None:
            return value.printed or value.code or ""
        if lang == VI and value.printed and not value.printed.isupper() \
                and value.printed.casefold() != entry[VI].casefold():
            return value.printed  # the issuer's own wording of a known tier
        return entry[lang]
    if isinstance(value, Appendix):
        return re.sub(r"^phụ lục", "Appendix", value.label, flags=re.IGNORECASE) if lang == EN else value.label
    if isinstance(value, Level):
        entry = catalog().get(f"level.{value.code}")
        name = entry[lang] if entry else value.code
        return name[:1].lower() + name[1:] if value.lower else name
    return str(value)


def _flatten(table: dict[str, Any], prefix: str, into: dict[str, dict[str, str]], source: str) -> None:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and set(value) & set(LANGUAGES):
            missing = [lang for lang in LANGUAGES if not isinstance(value.get(lang), str)]
            if missing:
                raise ValueError(f"{source}: message {key!r} has no {', '.join(missing)} text")
            if key in into:
                raise ValueError(f"{source}: message {key!r} is defined twice")
            into[key] = value
        elif isinstance(value, dict):
            _flatten(value, f"{key}.", into, source)
        else:
            raise ValueError(f"{source}: {key!r} is neither a message nor a group of messages")


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Every message: key → {"vi": …, "en": …}."""
    messages: dict[str, dict[str, str]] = {}
    for path in sorted((data_dir() / "messages").glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(tomllib.load(fh), "", messages, path.name)
    return messages
