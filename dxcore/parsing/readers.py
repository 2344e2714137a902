"""Source files → a flat stream of Blocks (text lines and table rows in document order).

The format is recognised by content, not by the file name: a DOCX is a zip, a PDF starts with %PDF, and anything
else must be readable text.
"""

from __future__ import annotations

from dxcore.answering.i18n import msg
from dxcore.parsing.docx_reader import read_docx
from dxcore.parsing.model import Block, DocumentError
from dxcore.parsing.pdf_reader import read_pdf
from dxcore.parsing.text_reader import read_text

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def read_blocks(data: bytes, name: str) -> list[Block]:
    """Read any supported document; raises DocumentError with one sentence when that is impossible."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentError(msg("document.too_large", megabytes=MAX_DOCUMENT_BYTES // (1024 * 1024)))
    if not data.strip():
        raise DocumentError(msg("document.empty"))
    if data.startswith(b"PK\x03\x04"):
        blocks = read_docx(data, name)
    elif data.startswith(b"%PDF"):
        blocks = read_pdf(data, name)
    else:
        blocks = read_text(data, name)
    if not blocks:
        raise DocumentError(msg("document.no_text"))
    return blocks
