"""Decision documents (TXT, DOCX, PDF; scanned PDFs and photos through OCR) → a validated ParsedDecision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dxcore.parsing.decision import GivenFacts, interpret
from dxcore.parsing.model import (
    DocumentError,
    Location,
    ParsedDecision,
    ParsedLevel,
    ParsedRow,
    ParseOutcome,
    Problem,
)
from dxcore.parsing.ocr import MAX_PHOTO_PIXELS, MAX_SCAN_PAGES, SCAN_SECONDS, is_scan
from dxcore.parsing.readers import read_document
from dxcore.parsing.validate import validate

__all__ = [
    "DocumentError", "GivenFacts", "Location", "ParseOutcome", "ParsedDecision", "ParsedLevel", "ParsedRow", "Problem",
    "parse_bytes", "parse_file", "is_scan", "MAX_PHOTO_PIXELS", "MAX_SCAN_PAGES", "SCAN_SECONDS",
]


def parse_bytes(data: bytes, name: str, given: GivenFacts | None = None,
                on_scan: Callable[[], None] | None = None) -> ParseOutcome:
    """Parse and validate a document; never raises for bad input, every problem is in the outcome.

    ``given``: the issuer, number, signing date and evaluated year of a document that does not print them (a report
    without an issuer header or Điều 1); a fact both printed and given must agree. ``on_scan`` is called once when
    OCR starts (a scanned PDF page or a photo): the outcome is then ``scanned`` and lists the cells OCR doubts."""
    try:
        reading = read_document(data, name, on_scan)
    except DocumentError as exc:
        return ParseOutcome(ParsedDecision(source=name), errors=[Problem(Location(name), exc.text)],
                            scanned=is_scan(data))
    decision, errors, warnings = interpret(reading.blocks, name, given)
    reported = any(getattr(e.message, "key", None) == "problem.report_needs_facts" for e in errors)
    more_errors, more_warnings = validate(decision, facts_checked=not reported)
    return ParseOutcome(decision, errors + more_errors, warnings + more_warnings, scanned=reading.scanned,
                        doubts=reading.doubts)


def parse_file(path: str | Path) -> ParseOutcome:
    path = Path(path)
    return parse_bytes(path.read_bytes(), path.name)
