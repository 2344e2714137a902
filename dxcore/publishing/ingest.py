"""`dxbot ingest`: each file parsed, validated and stored in its own transaction, with a printable report."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from dxcore.answering.formatting import format_date
from dxcore.parsing import ParsedDecision, parse_bytes
from dxcore.parsing.readers import MAX_DOCUMENT_BYTES
from dxcore.publishing.publish import publish as publish_decision
from dxcore.store.db import Database
from dxcore.store.decisions import IngestStatus, store_decision
from dxcore.understanding.levels import level_name
from dxcore.understanding.tiers import tier_word


@dataclass
class FileReport:
    file: str
    ok: bool
    lines: list[str] = field(default_factory=list)  # the summary, for stdout
    errors: list[str] = field(default_factory=list)  # located problems, for stderr
    warnings: list[str] = field(default_factory=list)
    status: IngestStatus | None = None
    decision_id: int | None = None


def summarize(decision: ParsedDecision) -> list[str]:
    """What a decision holds: identity, then per level the row count and tier counts."""
    head = f"{decision.number} of {format_date(decision.signed_date)}" if decision.signed_date else str(decision.number)
    lines = [f"{head}, {decision.issuer}, results for {decision.evaluated_year}"]
    for level in decision.levels:
        counts = {}
        for row in level.rows:
            counts[row.tier] = counts.get(row.tier, 0) + 1
        order = [c.tier for c in level.stated_counts] + [t for t in counts if t not in {c.tier for c in level.stated_counts}]
        tiers = ", ".join(f"{tier_word(t)} {counts.get(t, 0)}" for t in order)
        lines.append(f"  {level.appendix}, {level_name(level.code)} ({level.code}): {len(level.rows)} rows: {tiers}")
    return lines


_STATUS_TEXT = {
    IngestStatus.CREATED: "stored as a new decision",
    IngestStatus.UNCHANGED: "already stored with the same content: nothing changed",
    IngestStatus.REPLACED: "replaced the stored decision with this content",
}


async def ingest_file(db: Database, path: Path, *, actor: str, dry_run: bool = False,
                      replace: bool = False, publish: bool = False) -> FileReport:
    report = FileReport(file=str(path), ok=False)
    try:
        if path.stat().st_size > MAX_DOCUMENT_BYTES:
            report.errors.append(f"{path}: the file is larger than {MAX_DOCUMENT_BYTES // 2**20} MB.")
            return report
        data = path.read_bytes()
    except OSError as exc:
        report.errors.append(f"{path}: cannot be read ({exc.strerror or exc}).")
        return report
    outcome = parse_bytes(data, str(path))
    report.warnings = [f"warning: {w}" for w in outcome.warnings]
    if not outcome.ok:
        report.errors = [str(e) for e in outcome.errors]
        return report
    report.lines = summarize(outcome.decision)
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
