"""Decision documents (TXT, DOCX, PDF with a text layer) → a validated ParsedDecision."""

from __future__ import annotations

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
from dxcore.parsing.readers import read_blocks
from dxcore.parsing.validate import validate

__all__ = [
    "DocumentError", "GivenFacts", "Location", "ParseOutcome", "ParsedDecision", "ParsedLevel", "ParsedRow", "Problem",
    "parse_bytes", "parse_file",
]


def parse_bytes(data: bytes, name: str, given: GivenFacts | None = None) -> ParseOutcome:
    """Parse and validate a document; never raises for bad input, every problem is in the outcome.

    ``given``: the issuer, number, signing date and evaluated year of a document that does not print them (a report
    without an issuer header or Điều 1); a fact both printed and given must agree."""
    try:
        blocks = read_blocks(data, name)
    except DocumentError as exc:
        return ParseOutcome(ParsedDecision(source=name), errors=[Problem(Location(name), exc.text)])
    decision, errors, warnings = interpret(blocks, name, given)
    reported = any(getattr(e.message, "key", None) == "problem.report_needs_facts" for e in errors)
    more_errors, more_warnings = validate(decision, facts_checked=not reported)
    return ParseOutcome(decision, errors + more_errors, warnings + more_warnings)


def parse_file(path: str | Path) -> ParseOutcome:
    path = Path(path)
    return parse_bytes(path.read_bytes(), path.name)
