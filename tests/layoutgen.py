"""The layout corpus (tests/fixtures/layouts/*.txt) rendered as DOCX and PDF, with tests/docgen.py's primitives.

A fixture is plain text as a portal or a converter gives it: blocks separated by blank lines; a block whose first
line holds a tab is a table (cells split on tabs). In a table, lines before the first data row are header lines (a
merged two-row header is two lines, the upper one leaving empty cells under its merged span); a line without a tab,
or whose first cell is a Roman numeral, is a group row spanning the table; every other line is a data row.
Paragraphs, the issuer | motto header and the signature come out as docgen writes them for its own decisions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from docx.document import Document as DocxDocument
from fpdf import FPDF

from tests import docgen
from tests.docgen import _Columns, _PageBreak, _Para

LAYOUTS = Path(__file__).resolve().parent / "fixtures" / "layouts"
_ROMAN = re.compile(r"^[IVXLC]+$")
_NUMBER = re.compile(r"^\d+$")


@dataclass(frozen=True)
class GridTable:
    header: tuple[tuple[str, ...], ...]  # one line, or two for a merged two-row header (plus e.g. a maxima line)
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # ("data" | "group", cells)

    @property
    def width(self) -> int:
        return max(len(cells) for cells in (*self.header, *(cells for _, cells in self.rows)))


def _is_group(line: str) -> bool:
    return "\t" not in line or bool(_ROMAN.match(line.split("\t")[0]))


def read_table(lines: list[str]) -> GridTable:
    header: list[tuple[str, ...]] = []
    rows: list[tuple[str, tuple[str, ...]]] = []
    for line in lines:
        cells = tuple(line.rstrip("\t").split("\t"))
        if not rows and "\t" in line and not _NUMBER.match(cells[0]) and not _ROMAN.match(cells[0]):
            header.append(tuple(line.split("\t")))
        else:
            rows.append(("group" if _is_group(line) else "data", cells))
    return GridTable(tuple(header), tuple(rows))


def blocks(text: str) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip():
            out[-1].append(line)
        elif out[-1]:
            out.append([])
    return [b for b in out if b]


def tables(text: str) -> list[GridTable]:
    return [read_table(b) for b in blocks(text) if "\t" in b[0]]


def _title_like(line: str) -> bool:
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def elements(text: str) -> list[object]:
    """The fixture as docgen's content model (_Para, _Columns, _PageBreak) plus GridTable."""
    bs = blocks(text)
    out: list[object] = []
    i = 0
    if len(bs) > 1 and bs[1][0].startswith("CỘNG HÒA"):
        out.append(_Columns(left=tuple(_Para(x, bold=x.isupper(), center=True) for x in bs[0]),
                            right=tuple(_Para(x, bold=x.isupper(), italic=not x.isupper(), center=True)
                                        for x in bs[1])))
        i = 2
    while i < len(bs):
        block = bs[i]
        if "\t" in block[0]:
            out.append(read_table(block))
        elif block[0] == "Nơi nhận:" and i + 1 < len(bs):
            out.append(_Columns(left=(_Para(block[0], bold=True, italic=True), *(_Para(x) for x in block[1:])),
                                right=tuple(_Para(x, bold=x.isupper(), center=True) for x in bs[i + 1])))
            i += 1
        else:
            if block[0].upper().startswith("PHỤ LỤC") and out:
                out.append(_PageBreak())
            for line in block:
                title = _title_like(line) or line.startswith("(Kèm theo")
                out.append(_Para(line, bold=_title_like(line), italic=line.startswith("(Kèm theo"), center=title))
        i += 1
    return out


# --- DOCX ------------------------------------------------------------------------------------------------------


def _docx_grid(document: DocxDocument, table: GridTable) -> None:
    width = table.width
    grid = document.add_table(rows=len(table.header) + len(table.rows), cols=width)
    grid.style = "Table Grid"
    rows = list(grid.rows)
    two_rows = len(table.header) > 1
    for r, line in enumerate(table.header):
        cells = list(line) + [""] * (width - len(line))
        for c, text in enumerate(cells):
            if text:
                rows[r].cells[c].text = text
                rows[r].cells[c].paragraphs[0].runs[0].bold = True
        if r == 0 and two_rows:
            below = list(table.header[1]) + [""] * (width - len(table.header[1]))
            c = 0
            while c < width:
                end = c + 1
                while end < width and not cells[end] and below[end]:
                    end += 1  # an upper cell spans the empty cells over the second line's headings
                if end - c > 1:
                    rows[0].cells[c].merge(rows[0].cells[end - 1])
                elif cells[c] and not below[c]:
                    rows[0].cells[c].merge(rows[1].cells[c])  # a heading that spans both lines
                c = end
    for r, (kind, cells) in enumerate(table.rows, start=len(table.header)):
        row = rows[r].cells
        if kind == "group":
            first = 1 if len(cells) > 1 else 0
            if first:
                row[0].text = cells[0]
            merged = row[first].merge(row[width - 1])
            merged.text = cells[-1] if first else cells[0]
            merged.paragraphs[0].runs[0].bold = True
        else:
            for cell, text in zip(row, cells):
                cell.text = text


def make_layout_docx(txt: str | Path, path: str | Path) -> Path:
    return docgen.write_docx(elements(Path(txt).read_text(encoding="utf-8")), path, {GridTable: _docx_grid})


# --- PDF -------------------------------------------------------------------------------------------------------


def _pdf_grid(pdf: FPDF, table: GridTable) -> None:
    width = table.width
    name_width = 52 if width <= 5 else 34
    other = (pdf.epw - name_width) / (width - 1)
    widths = tuple(name_width if c == 1 else other for c in range(width))
    pdf.set_font("DejaVu", "", 10 if width <= 5 else 6.5)
    with pdf.table(col_widths=widths, line_height=4 if width > 5 else 5, padding=1,
                   num_heading_rows=len(table.header), text_align="CENTER") as grid:
        for r, line in enumerate(table.header):
            cells = list(line) + [""] * (width - len(line))
            below = list(table.header[1]) + [""] * (width - len(table.header[1])) if r == 0 and len(table.header) > 1 else cells
            row = grid.row()
            c = 0
            while c < width:
                span = 1
                while r == 0 and c + span < width and not cells[c + span] and below[c + span]:
                    span += 1  # an upper cell spans the empty cells over the second line's headings
                row.cell(cells[c], colspan=span)
                c += span
        for kind, cells in table.rows:
            row = grid.row()
            if kind == "group":
                if len(cells) > 1:
                    row.cell(cells[0])
                    row.cell(cells[-1], colspan=width - 1, align="L")
                else:
                    row.cell(cells[0], colspan=width, align="L")
            else:
                padded = list(cells) + [""] * (width - len(cells))
                for c, text in enumerate(padded):
                    row.cell(text, align="L" if c == 1 else "C")
    pdf.ln(3)


def make_layout_pdf(txt: str | Path, path: str | Path) -> Path:
    return docgen.write_pdf(elements(Path(txt).read_text(encoding="utf-8")), path, {GridTable: _pdf_grid})


def render_all(folder: str | Path) -> list[Path]:
    """Every fixture as NAME.docx and NAME.pdf in ``folder``."""
    folder = Path(folder)
    out: list[Path] = []
    for txt in sorted(LAYOUTS.glob("*.txt")):
        out.append(make_layout_docx(txt, folder / f"{txt.stem}.docx"))
        out.append(make_layout_pdf(txt, folder / f"{txt.stem}.pdf"))
    return out


if __name__ == "__main__":
    import sys

    for written in render_all(sys.argv[1] if len(sys.argv) > 1 else "."):
        print(written)
