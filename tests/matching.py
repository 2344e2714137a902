"""The matching rule of the evaluation sets (../shared/eval/README.md, score_conversation.py), for the tests: NFC,
casefold, old/new tone placement as one, whitespace collapsed, and a whole word or number only, so that "4" is not
found in "12/7/2024" or "4/9"."""

from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

_TONE = {pair[0] + new: old + pair[1]
         for pair, marks, firsts in (("oa", "àáảãạ", "òóỏõọ"), ("oe", "èéẻẽẹ", "òóỏõọ"), ("uy", "ỳýỷỹỵ", "ùúủũụ"))
         for new, old in zip(marks, firsts)}
_TONE_RE = re.compile("|".join(map(re.escape, _TONE)))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    text = unicodedata.normalize("NFC", _TONE_RE.sub(lambda m: _TONE[m.group(0)], text))
    return re.sub(r"\s+", " ", text).strip()


def _clear(hay: str, pos: int, step: int, edge: str) -> bool:
    """Nothing at hay[pos] continues the word or number that ends (or starts) with `edge`."""
    if not 0 <= pos < len(hay):
        return True
    if edge.isdigit():  # "4" must not match in "4/9", "1,4" or "2024"
        beyond = pos + step
        return not (hay[pos].isdigit() or (hay[pos] in ",./" and 0 <= beyond < len(hay) and hay[beyond].isdigit()))
    return not (edge.isalnum() and (hay[pos].isalnum() or hay[pos] == "_"))


def found(needle: str, text: str) -> bool:
    needle, hay = _norm(needle), _norm(text)
    starts = [m.start() for m in re.finditer(f"(?={re.escape(needle)})", hay)]  # overlapping occurrences too
    return any(_clear(hay, i - 1, -1, needle[0]) and _clear(hay, i + len(needle), 1, needle[-1]) for i in starts)




def judge(row: dict, text: str) -> tuple[list[str], list[str]]:
    """(the `has` items missing, the `not` items present) for one row of a set and one answer."""
    missing = [item for item in (row["has"].split(" | ") if row["has"] else [])
               if not any(found(x, text) for x in item.split(" || "))]
    present = [n for n in (row["not"].split(" | ") if row["not"] else []) if found(n, text)]
    return missing, present


def load_set(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))
