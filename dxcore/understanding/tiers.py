"""Tiers (xếp loại): codes, display words, their order, and per-issuer thresholds used only to warn."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from dxcore.answering.i18n import VI, catalog
from dxcore.paths import data_dir
from dxcore.understanding.text import fold, name_key

# Best first. The words are the message catalog's (data/messages/words.toml): as documents print them, and as
# Vietnamese answers say them.
TIER_WORDS: dict[str, str] = {code: catalog()[f"tier.{code}"][VI]
                              for code in ("xuat_sac", "tot", "kha", "trung_binh_kha", "trung_binh", "yeu", "kem")}
TIER_RANK = {code: i for i, code in enumerate(TIER_WORDS)}
_BY_FOLDED = {fold(word): code for code, word in TIER_WORDS.items()}


def parse_tier(text: str) -> str | None:
    """A tier code from a printed word ("TỐT", "trung bình", "Khá."), or None if it is not a tier."""
    return _BY_FOLDED.get(fold(text).strip(" .;:,*"))


def tier_word(code: str) -> str:
    return TIER_WORDS.get(code, code)


def is_better(a: str, b: str) -> bool:
    return TIER_RANK[a] < TIER_RANK[b]


@dataclass(frozen=True)
class IssuerThresholds:
    issuer: str
    minimums: dict[str, Decimal]  # tier code → lowest percentage of that tier, best tier first
    source: str

    def expected_tier(self, percentage: Decimal) -> str | None:
        for code, minimum in self.minimums.items():
            if percentage >= minimum:
                return code
        return None


@cache
def _load_thresholds() -> dict[str, IssuerThresholds]:
    with open(data_dir() / "issuers.toml", "rb") as fh:
        raw = tomllib.load(fh)
    result = {}
    for entry in raw.get("issuer", []):
        minimums = {code: Decimal(str(v)) for code, v in entry.get("thresholds", {}).items()}
        minimums = dict(sorted(minimums.items(), key=lambda kv: TIER_RANK[kv[0]]))
        result[name_key(entry["name"])] = IssuerThresholds(entry["name"], minimums, entry.get("source", ""))
    return result


def thresholds_for(issuer: str) -> IssuerThresholds | None:
    return _load_thresholds().get(name_key(issuer))


@dataclass(frozen=True, eq=False)  # hashed by identity: one per issuer, loaded once
class TierVocabulary:
    """The tier words an issuer prints, best first (``data/issuers.toml``: ``tiers`` and ``tier_words``); without
    an entry, every tier word of the catalog."""

    issuer: str | None
    words: dict[str, str]  # folded printed word → tier code
    listed: tuple[str, ...]  # the words as the entry (or the catalog) spells them, best first

    def parse(self, text: str) -> str | None:
        return self.words.get(fold(text).strip(" .;:,*"))

    def known(self) -> str:
        return ", ".join(self.listed)


DEFAULT_VOCABULARY = TierVocabulary(None, dict(_BY_FOLDED), tuple(TIER_WORDS.values()))


@cache
def _load_vocabularies() -> dict[str, TierVocabulary]:
    with open(data_dir() / "issuers.toml", "rb") as fh:
        raw = tomllib.load(fh)
    result = {}
    for entry in raw.get("issuer", []):
        if "tiers" not in entry and "tier_words" not in entry:
            continue
        extra = {fold(word): code for word, code in entry.get("tier_words", {}).items() if code in TIER_RANK}
        listed = entry.get("tiers") or list(TIER_WORDS.values())
        words = {}
        for word in listed:
            code = extra.get(fold(word)) or _BY_FOLDED.get(fold(word))
            if code:
                words[fold(word)] = code
        words.update(extra)
        shown = list(listed) + [w for w in entry.get("tier_words", {}) if fold(w) not in {fold(x) for x in listed}]
        result[name_key(entry["name"])] = TierVocabulary(entry["name"], words, tuple(shown))
    return result


def vocabulary_for(issuer: str | None) -> TierVocabulary:
    """The tier words of ``issuer`` (its ``data/issuers.toml`` entry), or of the catalog when it has none."""
    return _load_vocabularies().get(name_key(issuer), DEFAULT_VOCABULARY) if issuer else DEFAULT_VOCABULARY
