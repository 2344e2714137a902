"""DOCX → Blocks: body paragraphs and top-level table rows, in document order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import docx
from docx.oxml.ns import nsmap, qn
from docx.oxml.xmlchemy import BaseOxmlElement
from lxml import etree

from dxcore.answering.i18n import msg
from dxcore.parsing.model import Block, DocumentError, Location
from dxcore.parsing.text_reader import split_cells
from dxcore.understanding.text import clean

# A decision is a few hundred kilobytes of XML even with thousands of rows; more is a zip bomb, not a decision.
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024

_P, _TBL, _TR, _TC, _BR = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc"), qn("w:br")
# Content controls and custom XML wrap ordinary content; Word shows what is inside them as if unwrapped.
_WRAPPERS = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")}
# The pieces of a paragraph's runs that carry text, as python-docx's ``CT_R.text`` reads them; compiled once because
# python-docx's ``xpath()`` recompiles its expression on every call, which dominated reading long tables.
_RUN_TEXT = etree.XPath(
    "./descendant::w:r[not(ancestor::w:txbxContent)]"
    "/*[self::w:t or self::w:tab or self::w:br or self::w:cr or self::w:noBreakHyphen or self::w:ptab]",
    namespaces={"w": nsmap["w"]},
)


def _children(element: BaseOxmlElement, tags: set[str]) -> Iterator[BaseOxmlElement]:
    """Children of ``element`` with one of ``tags``, looking through content-control wrappers."""
    for child in element.iterchildren():
        if child.tag in tags:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tags)


def _paragraph_lines(p: BaseOxmlElement) -> list[str]:
    """The paragraph's lines (breaks split them), empty ones dropped.

    python-docx's ``Paragraph.text`` only reads direct runs and hyperlinks, so text inside tracked insertions,
    smart tags, simple fields or inline content controls would vanish; text boxes anchored in the paragraph are
    a separate flow and stay out.
    """
    # python-docx's element classes render text, tabs and hyphens; every break (python-docx renders page and column
    # breaks as nothing) ends a line, or the words on both sides of a page break would run together.
    text = "".join("\n" if piece.tag == _BR else str(piece) for piece in _RUN_TEXT(p))
    return [line for line in text.split("\n") if line.strip()]


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise DocumentError(msg("document.damaged_docx")) from exc
    # zipfile never inflates a member past its declared size, so the declared total bounds what parsing reads.
    if total > MAX_UNCOMPRESSED_BYTES:
        raise DocumentError(msg("document.docx_too_big", megabytes=MAX_UNCOMPRESSED_BYTES // (1024 * 1024)))


def _table_blocks(tbl: BaseOxmlElement, name: str, table_no: int) -> Iterator[Block]:
    for row_no, tr in enumerate(_children(tbl, {_TR}), start=1):
        cells: list[str] = []
        lines: list[str] = []
        padding = 0
        # Each <w:tc> once: a horizontally merged cell is one element with gridSpan, whatever columns it covers.
        for tc in _children(tr, {_TC}):
            if tc.vMerge == "continue":
                # The text belongs to the first row of the vertical merge; repeating it would duplicate values.
                cells.append("")
                cells.extend([""] * (tc.grid_span - 1))
                padding = tc.grid_span - 1
                continue
            cell_lines = [clean(line) for p in _children(tc, {_P}) for line in _paragraph_lines(p)]
            cells.append(" ".join(cell_lines))
            # A cell merged across columns stands over each of them: empty cells after it keep the columns of a
            # merged two-row header in line with the rows below (as PDF tables give them).
            cells.extend([""] * (tc.grid_span - 1))
            padding = tc.grid_span - 1
            lines.extend(cell_lines)
        if padding:
            del cells[-padding:]  # nothing stands after the last cell: its span needs no place kept
        if lines:
            yield Block(
                cells=tuple(cells),
                loc=Location(name, table=table_no, row=row_no),
                is_table_row=True,
                lines=tuple(lines),
            )


def _body_blocks(body: BaseOxmlElement, name: str) -> list[Block]:
    blocks: list[Block] = []
    paragraph_no = table_no = 0
    for element in _children(body, {_P, _TBL}):
        if element.tag == _P:
            paragraph_no += 1
            loc = Location(name, paragraph=paragraph_no)
            blocks.extend(Block(cells=cells, loc=loc) for cells in map(split_cells, _paragraph_lines(element)) if cells)
        else:
            table_no += 1
            blocks.extend(_table_blocks(element, name, table_no))
    return blocks


def read_docx(data: bytes, name: str) -> list[Block]:
    """Read a Word document; raises DocumentError (one sentence, without the file name) for anything unusable."""
    _check_zip(data)
    try:
        return _body_blocks(docx.Document(io.BytesIO(data)).element.body, name)
    except Exception as exc:  # noqa: BLE001 - python-docx and lxml raise many unrelated types for bad packages
        # (KeyError for a missing part, ValueError for another Office type or an invalid attribute value,
        # XMLSyntaxError for broken XML…).
        raise DocumentError(msg("document.not_docx")) from exc
