"""Vietnamese text normalisation, used everywhere a printed or typed name is compared.

Three forms of a string matter:
- ``clean``: NFC, tone marks placed by one rule, NBSP and odd spaces/dashes unified, spaces collapsed. Case and
  diacritics are kept: this is how names are displayed and stored.
- ``name_key``: ``clean`` case-folded. Two printings of one unit name ("Sở xây dựng", "Sở Xây dựng", "Thuỷ"/"Thủy")
  have the same key.
- ``fold``: ``name_key`` without any diacritics (đ → d), for matching what people type on phones.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Combining tone marks (the five Vietnamese tones besides the level tone).
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# Combining marks that change the vowel itself (â ê ô, ă, ơ ư).
_QUALITY = {"\u0302", "\u0306", "\u031b"}
_VOWELS = set("aeiouyAEIOUY")

_SPACE_RE = re.compile(r"\s+")
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u200b\ufeff"), " ")
_WORD_RE = re.compile(r"\w+")


@lru_cache(maxsize=1 << 16)  # a language of a few thousand syllables: most words repeat
def _place_tone(word: str) -> str:
    """Put a syllable's tone mark where the modern rule puts it ("hoà" → "hòa", "thuỷ" → "thủy", "hoá" → "hóa")."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = next((ch for ch in decomposed if ch in _TONES), None)
    if tone is None:
        return word
    # Letters of the syllable: base char + its non-tone marks.
    letters: list[str] = []
    for ch in decomposed:
        if ch in _TONES:
            continue
        if unicodedata.combining(ch) and letters:
            letters[-1] += ch
        else:
            letters.append(ch)
    bases = [letter[0] for letter in letters]
    if not all(b.isalpha() for b in bases):
        return word
    vowel_idx = [i for i, b in enumerate(bases) if b in _VOWELS]
    if not vowel_idx:
        return word
    # "qu" and "gi" (before another vowel) belong to the initial consonant.
    lower = "".join(bases).lower()
    if lower.startswith("qu") or (lower.startswith("gi") and len(vowel_idx) > 1):
        vowel_idx = [i for i in vowel_idx if i != 1]
    # The cluster is the first contiguous run of vowels.
    cluster = [vowel_idx[0]]
    for i in vowel_idx[1:]:
        if i == cluster[-1] + 1:
            cluster.append(i)
        else:
            break
    quality = [i for i in cluster if any(m in _QUALITY for m in letters[i][1:])]
    if quality:
        target = quality[-1]  # "ươ" takes the tone on ơ
    elif cluster[-1] < len(bases) - 1:
        target = cluster[-1]  # closed syllable: the last vowel ("hoàng", "thuận")
    elif len(cluster) == 1:
        target = cluster[0]
    else:
        target = cluster[-2]  # open syllable: "hòa", "thủy", "khỏe", "ngoài" (the modern placement)
    letters[target] += tone
    return unicodedata.normalize("NFC", "".join(letters))


@lru_cache(maxsize=65536)  # questions repeat their words: most calls are for a word seen before
def clean(text: str) -> str:
    """NFC, one tone-mark placement, plain spaces and dashes, collapsed whitespace."""
    text = unicodedata.normalize("NFC", text).translate(_SPACES).translate(_DASHES)
    text = _WORD_RE.sub(lambda m: _place_tone(m.group(0)), text)
    return _SPACE_RE.sub(" ", text).strip()


def name_key(text: str) -> str:
    """The identity of a printed name: ``clean`` and case-folded."""
    return clean(text).casefold()


class _StripTable(dict):
    """str.translate table filled on first sight of each character: its base letter, đ → d, marks deleted."""

    def __missing__(self, codepoint: int) -> str | None:
        char = chr(codepoint)
        if unicodedata.combining(char):
            value = None
        elif char in "đĐ":
            value = "d" if char == "đ" else "D"
        else:
            value = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)) or char
        self[codepoint] = value
        return value


_STRIP = _StripTable()


def strip_diacritics(text: str) -> str:
    return text.translate(_STRIP)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Case-folded, without diacritics: what a phone user without a Vietnamese keyboard types."""
    return strip_diacritics(name_key(text))


def tokens(text: str) -> list[str]:
    """Folded word tokens; separators (& - , . / and spaces) split words."""
    return _WORD_RE.findall(fold(text))
