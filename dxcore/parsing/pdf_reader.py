"""PDF → Blocks: ruled table rows and the text lines around them, in reading order page by page."""

from __future__ import annotations

import io
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.page import Page
from pdfplumber.table import Table
from pdfplumber.utils.exceptions import PdfminerException

from dxcore.answering.i18n import msg
from dxcore.parsing.model import Block, DocumentError, Location
from dxcore.understanding.text import clean

# Words further apart than this many character heights are separate cells of one visual line: two header
# columns side by side, or a label and its value aligned with tabs. Justified text never stretches a space this far.
MAX_PAGES = 300  # a decision's appendices fill tens of pages; more is not a decision, and costs ~0.15 s a page
_CELL_GAP_HEIGHTS = 1.5


def _cell_text(text: str | None) -> tuple[str, list[str]]:
    """A table cell's value (wrapped lines joined with a space) and its non-empty lines."""
    lines = [clean(line) for line in (text or "").split("\n") if line.strip()]
    return " ".join(lines), lines


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    x = (obj["x0"] + obj["x1"]) / 2
    y = (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)


def _text_lines(page: Page, boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, tuple[str, ...]]]:
    """Lines of the words outside ``boxes`` as (top, cells), top to bottom."""
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _inside(obj, boxes))
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(outside.extract_words(), key=lambda w: (w["top"], w["x0"])):
        middle = (word["top"] + word["bottom"]) / 2
        # Vertical overlap rather than equal tops: words of different sizes on one baseline belong together.
        if lines and lines[-1][0]["top"] <= middle <= lines[-1][0]["bottom"]:
            lines[-1].append(word)
        else:
            lines.append([word])
    result = []
    for words in lines:
        words.sort(key=lambda w: w["x0"])
        cells: list[list[str]] = [[words[0]["text"]]]
        for previous, word in zip(words, words[1:]):
            if word["x0"] - previous["x1"] > _CELL_GAP_HEIGHTS * (word["bottom"] - word["top"]):
                cells.append([])
            cells[-1].append(word["text"])
        cleaned = tuple(cell for cell in (clean(" ".join(c)) for c in cells) if cell)
        if cleaned:
            result.append((words[0]["top"], cleaned))
    return result


def _page_blocks(page: Page, name: str, first_table_no: int) -> tuple[list[Block], int]:
    """The page's Blocks in reading order, and how many tables it held."""
    tables: list[Table] = page.find_tables()
    items: list[tuple[float, Block]] = []
    for table_no, table in enumerate(tables, start=first_table_no):
        for row_no, (row, texts) in enumerate(zip(table.rows, table.extract()), start=1):
            values = [_cell_text(text) for text in texts]
            lines = tuple(line for _, cell_lines in values for line in cell_lines)
            if lines:
                loc = Location(name, page=page.page_number, table=table_no, row=row_no)
                block = Block(cells=tuple(v for v, _ in values), loc=loc, is_table_row=True, lines=lines)
                items.append((row.bbox[1], block))
    boxes = [table.bbox for table in tables]
    for line_no, (top, cells) in enumerate(_text_lines(page, boxes), start=1):
        items.append((top, Block(cells=cells, loc=Location(name, page=page.page_number, line=line_no))))
    items.sort(key=lambda item: item[0])  # stable: rows of one table keep their order
    return [block for _, block in items], len(tables)


def read_pdf(data: bytes, name: str) -> list[Block]:
    """Read a PDF with a text layer; raises DocumentError (one sentence, without the file name) for anything else."""
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:  # counted from the page tree, before any page is parsed
                raise DocumentError(msg("document.too_many_pages", pages=len(pdf.pages), limit=MAX_PAGES))
            blocks: list[Block] = []
            table_count = 0
            has_text = False
            for page in pdf.pages:
                has_text = has_text or bool(page.chars)
                page_blocks, page_tables = _page_blocks(page, name, table_count + 1)
                blocks.extend(page_blocks)
                table_count += page_tables
                page.close()  # drop the parsed objects: a long appendix would otherwise stay in memory whole
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfminer raises a zoo of types (PSEOF, KeyError, TypeError…) on bad input
        # pdfplumber wraps some pdfminer errors, not all; the wrapped one is the first argument.
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise DocumentError(msg("document.pdf_password")) from exc
        raise DocumentError(msg("document.pdf_damaged")) from exc
    if not has_text:
        raise DocumentError(msg("document.pdf_scan"))
    return blocks
