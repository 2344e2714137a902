"""PDF → Blocks: ruled table rows and the text lines around them, in reading order page by page."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfplumber.page import Page
from pdfplumber.table import Table
from pdfplumber.utils.exceptions import PdfminerException

from dxcore.answering.i18n import msg
from dxcore.parsing.model import Block, DocumentError, Location, Reading
from dxcore.understanding.text import clean

# Words further apart than this many character heights are separate cells of one visual line: two header
# columns side by side, or a label and its value aligned with tabs. Justified text never stretches a space this far.
MAX_PAGES = 300  # a decision's appendices fill tens of pages; more is not a decision, and costs ~0.15 s a page
_CELL_GAP_HEIGHTS = 1.5
# A page without characters but drawn with this many curves holds text turned into outlines: read it as a scan.
_OUTLINED_TEXT_CURVES = 200


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
    return word_lines(outside.extract_words())


def word_lines(words: list[dict[str, Any]], cell_gap: float | None = None) -> list[tuple[float, tuple[str, ...]]]:
    """Words (``text``, ``x0``, ``x1``, ``top``, ``bottom``) grouped into lines, top to bottom, as (top, cells): a
    gap wider than ``cell_gap`` (default: 1.5 times the word's height) starts a new cell. OCR words come here too."""
    lines: list[list[dict[str, Any]]] = []
    for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
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
            gap = cell_gap if cell_gap is not None else _CELL_GAP_HEIGHTS * (word["bottom"] - word["top"])
            if word["x0"] - previous["x1"] > gap:
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
    """Read a PDF; raises DocumentError (one sentence, without the file name) for anything unusable."""
    return read_pdf_document(data, name).blocks


def read_pdf_document(data: bytes, name: str, on_scan: Callable[[], None] | None = None) -> Reading:
    """Read a PDF: pages with a text layer as they are, pages without one (scanned) through OCR; ``on_scan`` is
    called once before OCR starts. Raises DocumentError (one sentence, without the file name) for anything
    unusable."""
    from dxcore.parsing import ocr

    scanned: list[tuple[int, int]] = []  # (page number, dpi to render it at)
    pages: dict[int, tuple[list[Block], int]] = {}  # typed pages: their blocks, and how many tables they hold
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) > MAX_PAGES:  # counted from the page tree, before any page is parsed
                raise DocumentError(msg("document.too_many_pages", pages=len(pdf.pages), limit=MAX_PAGES))
            table_count = 0
            for page in pdf.pages:
                if page.chars:
                    page_blocks, page_tables = _page_blocks(page, name, table_count + 1)
                    pages[page.page_number] = (page_blocks, page_tables)
                    table_count += page_tables
                elif page.images or len(page.curves) > _OUTLINED_TEXT_CURVES:
                    scanned.append((page.page_number, ocr.DPI))
                page.close()  # drop the parsed objects: a long appendix would otherwise stay in memory whole
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfminer raises a zoo of types (PSEOF, KeyError, TypeError…) on bad input
        # pdfplumber wraps some pdfminer errors, not all; the wrapped one is the first argument.
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise DocumentError(msg("document.pdf_password")) from exc
        raise DocumentError(msg("document.pdf_damaged")) from exc
    if not scanned:
        if not pages:
            raise DocumentError(msg("document.scan_blank"))
        return Reading([block for page_blocks, _ in pages.values() for block in page_blocks])
    if len(scanned) > ocr.MAX_SCAN_PAGES:
        raise DocumentError(msg("document.scan_too_many_pages", pages=len(scanned), limit=ocr.MAX_SCAN_PAGES))
    if on_scan is not None:
        on_scan()
    scans = ocr.scan_pages(ocr.render_pdf_pages(data, scanned))
    if not pages and not any(scan.words for scan in scans.values()):
        raise DocumentError(msg("document.scan_blank"))
    # Tables are numbered through the document: a typed page's move up past the tables of scanned pages before it.
    blocks: list[Block] = []
    table_count = typed_count = 0
    for number in sorted(pages.keys() | scans.keys()):
        if number in scans:
            page_blocks, page_tables = ocr.page_blocks(scans[number], name, table_count + 1)
        else:
            page_blocks, page_tables = pages[number]
            shift = table_count - typed_count
            page_blocks = [replace(b, loc=replace(b.loc, table=b.loc.table + shift)) if shift and b.loc.table else b
                           for b in page_blocks]
            typed_count += page_tables
        blocks.extend(page_blocks)
        table_count += page_tables
    blocks, doubts = ocr.review(blocks, scans)
    return Reading(blocks, scanned=True, doubts=doubts)
