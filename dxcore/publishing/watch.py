"""`dxbot watch DIR`: publish valid decision files dropped into a folder; move invalid ones aside with a report."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from dxcore.publishing.ingest import FileReport, ingest_file
from dxcore.store.db import Database

log = logging.getLogger("dxbot.watch")
SUFFIXES = {".txt", ".docx", ".pdf"}


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():  # never overwrite an earlier file of the same name
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    return path.rename(target)


async def watch_once(db: Database, folder: Path, *, actor: str) -> list[FileReport]:
    """Handle every decision file now in ``folder``: published/ when done, rejected/ (with .errors.txt) if not."""
    reports = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES):
        report = await ingest_file(db, path, actor=actor, publish=True)
        if report.ok:
            _move(path, folder / "published")
        else:
            moved = _move(path, folder / "rejected")
            moved.with_name(moved.name + ".errors.txt").write_text("\n".join(report.errors) + "\n", encoding="utf-8")
        log.info("%s: %s", path.name, "published" if report.ok else "rejected")
        reports.append(report)
    return reports


async def watch(db: Database, folder: Path, *, actor: str, every: float = 5.0,
                stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    while not stop.is_set():
        await watch_once(db, folder, actor=actor)
        try:
            await asyncio.wait_for(stop.wait(), timeout=every)
        except TimeoutError:
            pass
