"""Decision documents (TXT, DOCX, PDF with a text layer) → a validated ParsedDecision."""

from __future__ import annotations

from pathlib import Path

from dxcore.parsing.decision import interpret
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
    "DocumentError", "Location", "ParseOutcome", "ParsedDecision", "ParsedLevel", "ParsedRow", "Problem",
    "parse_bytes", "parse_file",
]


def parse_bytes(data: bytes, name: str) -> ParseOutcome:
    """Parse and validate a document; never raises for bad input, every problem is in the outcome."""
    try:
        blocks = read_blocks(data, name)
    except DocumentError as exc:
        return ParseOutcome(ParsedDecision(source=name), errors=[Problem(Location(name), exc.text)])
    decision, errors, warnings = interpret(blocks, name)
    more_errors, more_warnings = validate(decision)
    return ParseOutcome(decision, errors + more_errors, warnings + more_warnings)


def parse_file(path: str | Path) -> ParseOutcome:
    path = Path(path)
    return parse_bytes(path.read_bytes(), path.name)
