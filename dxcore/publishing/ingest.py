"""`dxbot ingest`: each file parsed, validated and stored in its own transaction, with a printable report."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from dxcore.answering.formatting import format_date
from dxcore.parsing import (
    GivenFacts,
    ParsedDecision,
    ParsedLevel,
    ParseOutcome,
    parse_bytes,
)
from dxcore.parsing.readers import MAX_DOCUMENT_BYTES
from dxcore.publishing.publish import publish as publish_decision
from dxcore.store.db import Database
from dxcore.store.decisions import IngestStatus, store_decision
from dxcore.understanding.levels import level_name
from dxcore.understanding.lineage import lineage_warnings
from dxcore.understanding.tiers import TIER_RANK, tier_word


@dataclass
class FileReport:
    file: str
    ok: bool
    lines: list[str] = field(default_factory=list)  # the summary, for stdout
    errors: list[str] = field(default_factory=list)  # located problems, for stderr
    warnings: list[str] = field(default_factory=list)
    status: IngestStatus | None = None
    decision_id: int | None = None


def _tier_words(level: ParsedLevel) -> dict[str, str]:
    """Each tier's word as the ranking prints it ("Trung bình khá", "TỐT" → "Tốt"), the most frequent spelling."""
    printed: dict[str, Counter[str]] = {}
    for row in level.rows:
        if row.tier and row.tier_printed:
            printed.setdefault(row.tier, Counter())[row.tier_printed.strip(" .;:,*")] += 1
    words = {}
    for tier, spellings in printed.items():
        word = spellings.most_common(1)[0][0]
        words[tier] = tier_word(tier) if word.isupper() or word.islower() else word
    return words


def _scored(level: ParsedLevel) -> str:
    if level.score_kind == "points":
        return f", points out of {level.score_max}" if level.score_max is not None else ", points"
    if level.score_kind == "index":
        return ", index 0–1"
    if level.score_kind is None:
        return ", ranks only"
    return ""


def summarize(decision: ParsedDecision) -> list[str]:
    """What a decision holds: identity, then per ranking (a level, or a group of it) its name, row count, kind of
    score and tier counts as printed ("Tốt 8, Khá 9, Trung bình 3")."""
    head = f"{decision.number} of {format_date(decision.signed_date)}" if decision.signed_date else str(decision.number)
    lines = [f"{head}, {decision.issuer}, results for {decision.evaluated_year}"]
    for level in decision.levels:
        counts = Counter(row.tier for row in level.rows if row.tier)
        stated = [c.tier for c in level.stated_counts]
        order = stated + sorted((t for t in counts if t not in stated), key=lambda t: TIER_RANK.get(t, 99))
        words = _tier_words(level)
        tiers = ", ".join(f"{words.get(t) or tier_word(t)} {counts.get(t, 0)}" for t in order)
        name = f"{level_name(level.code)} ({level.code})" + (f", {level.group}" if level.group else "")
        sub = f", {len(level.subscore_names)} sub-indices" if level.subscore_names else ""
        # A report's table has no appendix: its ranking is named once ("Cấp bộ (bo), Nhóm 1"), not after itself.
        where = "" if level.appendix.strip().casefold() == level_name(level.code).casefold() else f"{level.appendix}, "
        lines.append(f"  {where}{name}: {len(level.rows)} rows{_scored(level)}{sub}"
                     + (f": {tiers}" if tiers else ""))
    return lines


_STATUS_TEXT = {
    IngestStatus.CREATED: "stored as a new decision",
    IngestStatus.UNCHANGED: "already stored with the same content: nothing changed",
    IngestStatus.REPLACED: "replaced the stored decision with this content",
}


def _scan_lines(outcome: ParseOutcome) -> list[str]:
    """Read by OCR: the cells it repaired or doubts, to check by eye against the scan."""
    if not outcome.scanned:
        return []
    count = len(outcome.doubts)
    said = "no cell in doubt" if not count else f"{count} cell to check" if count == 1 else f"{count} cells to check"
    return [f"  read by OCR from a scan: {said}"] + [f"    {d}" for d in outcome.doubts]


async def ingest_file(db: Database, path: Path, *, actor: str, dry_run: bool = False,
                      replace: bool = False, publish: bool = False, given: GivenFacts | None = None) -> FileReport:
    """Parse, validate and store one file; ``given`` supplies what a report does not print (issuer, number, date,
    year). The summary is in ``lines`` whenever the file parsed, stored before or not."""
    report = FileReport(file=str(path), ok=False)
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            report.errors.append(f"{path}: the file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB.")
            return report
        data = path.read_bytes()
    except OSError as exc:
        report.errors.append(f"{path}: cannot be read ({exc.strerror or exc}).")
        return report
    outcome = parse_bytes(data, str(path), given)
    report.warnings = [f"warning: {w}" for w in outcome.warnings + lineage_warnings(outcome.decision)]
    if not outcome.ok:
        report.errors = [str(e) for e in outcome.errors] + _scan_lines(outcome)  # doubts may say why it failed
        return report
    report.lines = summarize(outcome.decision) + _scan_lines(outcome)
    if dry_run:
        report.ok = True
        report.lines.append("  dry run: valid, nothing stored")
        return report
    async with db.session() as session, session.begin():
        stored = await store_decision(session, outcome.decision, actor=actor, replace=replace,
                                      file_hash=hashlib.sha256(data).hexdigest())
        published = None
        if publish and stored.status is not IngestStatus.CONFLICT:
            published = await publish_decision(session, stored.decision_id, actor=actor)  # same transaction
    report.status, report.decision_id = stored.status, stored.decision_id
    if published is not None:
        published.announce()
    if stored.status is IngestStatus.CONFLICT:
        report.errors.append(
            f"{path}: decision {outcome.decision.number} of {outcome.decision.issuer} is already stored with "
            "different content; nothing changed (use --replace to replace it)."
        )
        return report
    report.ok = True
    report.lines.append(f"  {_STATUS_TEXT[stored.status]} (decision id {stored.decision_id})")
    if published is not None:
        report.lines.append(f"  published: {published.alerts} alerts queued" if published.published
                            else "  already published before: no alert sent again")
    return report
