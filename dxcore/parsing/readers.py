"""Source files → a flat stream of Blocks (text lines and table rows in document order).

The format is recognised by content, not by the file name: a DOCX is a zip, a PDF starts with %PDF, a photo is a
JPEG or PNG (read by OCR, as are PDF pages without text), and anything else must be readable text.
"""

from __future__ import annotations

from collections.abc import Callable

from dxcore.answering.i18n import msg
from dxcore.parsing.docx_reader import read_docx
from dxcore.parsing.model import Block, DocumentError, Reading
from dxcore.parsing.pdf_reader import read_pdf_document
from dxcore.parsing.text_reader import read_text

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def read_blocks(data: bytes, name: str) -> list[Block]:
    """Read any supported document; raises DocumentError with one sentence when that is impossible."""
    return read_document(data, name).blocks


def read_document(data: bytes, name: str, on_scan: Callable[[], None] | None = None) -> Reading:
    """Read any supported document, scans and photos through OCR (``on_scan`` is called once before OCR starts);
    raises DocumentError with one sentence when that is impossible."""
    from dxcore.parsing import ocr

    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(msg("document.too_large", megabytes=MAX_DOCUMENT_BYTES // (1024 * 1024)))
    if not data.strip():
        raise DocumentError(msg("document.empty"))
    if data.startswith(b"PK\x03\x04"):
        reading = Reading(read_docx(data, name))
    elif data.startswith(b"%PDF"):
        reading = read_pdf_document(data, name, on_scan)
    elif ocr.is_image(data):
        if on_scan is not None:
            on_scan()
        blocks, doubts = ocr.read_image(data, name)
        reading = Reading(blocks, scanned=True, doubts=doubts)
    else:
        reading = Reading(read_text(data, name))
    if not reading.blocks:
        raise DocumentError(msg("document.no_text"))
    return reading
