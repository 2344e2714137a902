"""Plain-text decisions → Blocks: one per non-empty line, its cells split on tabs, pipes or runs of spaces."""

from __future__ import annotations

import re

from dxcore.answering.i18n import msg
from dxcore.parsing.model import Block, DocumentError, Location
from dxcore.understanding.text import clean

# Cells in a text line: tabs, pipes, or runs of two or more spaces.
_CELL_SPLIT = re.compile(r"\t|\||\s{2,}")
_SPACED = re.compile(r"\s{2,}")
_RULE_LINE = re.compile(r"^[\s|:+=\-–—_]*$")


def split_cells(line: str) -> tuple[str, ...]:
    """Cells of a text line; a line with no separators is one cell. Markdown rule lines have none.

    Tabs and pipes delimit cells, so an empty cell between them stays (an empty "Ghi chú" keeps the columns in
    place); runs of spaces only separate, so there empty cells cannot be told and are dropped.
    """
    if _RULE_LINE.match(line):
        return ()
    line = line.replace("\u00a0", " ")
    if "\t" in line or "|" in line:
        # Leading tabs are empty cells (a sub-header row under merged cells starts with them), not indentation.
        cells = [clean(c) for c in re.split(r"\t|\|", line.strip(" \r\n").strip("|"))]
        cells = [sub for c in cells for sub in (_SPACED.split(c) if c else [c])]
        while cells and not cells[-1]:
            cells.pop()
        return tuple(cells) if any(cells) else ()
    return tuple(cell for cell in (clean(c) for c in _CELL_SPLIT.split(line)) if cell)


def _decode_text(data: bytes) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(msg("document.binary"))
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            break
        return text
    raise DocumentError(msg("document.unknown_format"))


def read_text(data: bytes, name: str) -> list[Block]:
    text = _decode_text(data)
    blocks = []
    for number, line in enumerate(text.splitlines(), start=1):
        cells = split_cells(line)
        if cells:
            blocks.append(Block(cells=cells, loc=Location(name, line=number)))
    return blocks
