"""Issue 17: what an operator does by hand. Backups of a live SQLite store, who follows what, the outbox,
retracting a decision published by mistake, every command's --help, local times, watch and SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dxcore.alerts.delivery import DeliveryWorker, SenderRole
from dxcore.alerts.subscriptions import ALL, UNIT, Target
from dxcore.store import maintenance as M
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from dxcore.store.models import (
    Alias,
    Audit,
    Chat,
    Decision,
    Delivery,
    Ranking,
    Result,
    Subscription,
    Unit,
)
from dxcore.understanding.catalog import Catalog
from tests.conftest import ROOT, SEED
from tests.test_cli import dxbot
from tests.test_delivery import NOON, RecordingSender, _publish_later, _subscribe, _unit

LATER = ("2001/QĐ-UBND", "UBND thành phố Cần Thơ")


@pytest.fixture
async def seeded(db: Database) -> Database:
    await load_shipped_if_empty(db)
    return db


async def test_a_backup_taken_during_a_fan_out_holds_every_alert_recorded_before_it(tmp_path: Path,
                                                                                   seed_text: str) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'live.sqlite3'}")
    await db.prepare(load_shipped_if_empty)
    try:
        for chat in range(1, 301):
            await _subscribe(db, chat, Target(ALL))
        await _publish_later(db, seed_text)
        sender = RecordingSender()
        worker = DeliveryWorker(db, sender, Catalog(check_every=0), rate=400, clock=lambda: NOON)
        fan_out = asyncio.create_task(worker.run_once(max_seconds=60))
        while len(sender.sent) < 100:  # the fan-out is under way
            await asyncio.sleep(0.01)
        async with db.session() as session:
            recorded_before = await session.scalar(select(func.count()).select_from(Delivery)
                                                   .where(Delivery.status == "sent"))
        copy = tmp_path / "backup.sqlite3"
        await asyncio.to_thread(M.backup_sqlite, tmp_path / "live.sqlite3", copy)
        sent_by_then = {chat for chat, *_ in sender.sent}
        assert await fan_out == 300
    finally:
        await db.close()
    assert not (tmp_path / "backup.sqlite3-wal").exists()  # one self-contained file
    with sqlite3.connect(copy) as restored:
        assert restored.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert restored.execute("PRAGMA foreign_key_check").fetchall() == []
        in_copy = {chat for (chat,) in restored.execute("SELECT chat_id FROM delivery WHERE status = 'sent'")}
        states = dict(restored.execute("SELECT status, count(*) FROM delivery GROUP BY status").fetchall())
    # Consistent: what the copy says was sent had been sent, and all that was recorded before the copy is in it.
    assert in_copy <= sent_by_then and len(in_copy) >= recorded_before
    assert sum(states.values()) == 300 and set(states) <= {"sent", "pending", "sending"}
    # The copy is a dxbot store: pointed at, it serves (the pending alerts would go out from it).
    restored_run = dxbot("outbox", "--json", cwd=tmp_path, env={"DXBOT_DATABASE_URL": f"sqlite+aiosqlite:///{copy}"})
    assert restored_run.returncode == 0, restored_run.stderr
    assert json.loads(restored_run.stdout)["counts"].get("sent", 0) == len(in_copy)


def test_backup_refuses_to_overwrite_and_explains_pg_dump(tmp_path: Path) -> None:
    assert dxbot("decisions", cwd=tmp_path).returncode == 0
    first = dxbot("backup", str(tmp_path / "copy.sqlite3"), cwd=tmp_path)
    assert first.returncode == 0 and "integrity check ok" in first.stdout
    again = dxbot("backup", str(tmp_path / "copy.sqlite3"), cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    postgres = dxbot("backup", "x.dump", cwd=tmp_path,
                     env={"DXBOT_DATABASE_URL": "postgresql://dxbot:secret@db.internal:5432/dxbot"})
    assert postgres.returncode == 2 and "pg_dump --format=custom" in postgres.stderr
    assert "secret" not in postgres.stderr and "Traceback" not in postgres.stderr


async def test_retract_removes_every_row_of_the_decision_and_lists_what_was_sent(seeded: Database,
                                                                                seed_text: str) -> None:
    followed = await _unit(seeded, "Sở Y tế")
    for chat in (1, 2, 3):
        await _subscribe(seeded, chat, Target(ALL))
    await _subscribe(seeded, 4, Target(UNIT, unit_id=followed))
    decision_id = await _publish_later(seeded, seed_text)
    # A unit only the later decision ranks (an extra row would fail validation: rename one in the store instead).
    async with seeded.session() as session, session.begin():
        only_here = Unit(issuer=LATER[1], level="so", name="Sở Thử nghiệm", name_key="so thu nghiem")
        session.add(only_here)
        await session.flush()
        row = await session.scalar(select(Result).join(Ranking).where(Ranking.decision_id == decision_id).limit(1))
        row.unit_id = only_here.id
        session.add(Alias(text_key="thu nghiem", unit_id=only_here.id, source="learned",
                          created_at=NOON))
    worker = DeliveryWorker(seeded, RecordingSender(), Catalog(check_every=0), rate=1000, batch=2,
                            clock=lambda: NOON)
    worker.chunks_ahead = 1  # one chunk of two: two alerts sent, two still pending
    async with SenderRole(seeded) as role:
        await worker._send_batch(role)  # some alerts sent, the rest still pending

    async with seeded.session() as session, session.begin():
        shown = await M.retract(session, LATER[1], LATER[0], actor="cli:test", apply=False)
    async with seeded.session() as session:
        assert await session.get(Decision, decision_id) is not None  # only said what would go
    async with seeded.session() as session, session.begin():
        done = await M.retract(session, LATER[1], LATER[0], actor="cli:test", apply=True)
    assert done == shown
    assert done.rankings == 2 and done.results == 29 and done.alerts == 4
    assert [a.chat_id for a in done.sent] == [1, 2] and not done.last
    async with seeded.session() as session:
        assert await session.get(Decision, decision_id) is None
        for table, condition in ((Ranking, Ranking.decision_id == decision_id),
                                 (Delivery, Delivery.decision_id == decision_id)):
            assert await session.scalar(select(func.count()).select_from(table).where(condition)) == 0
        # Units stay, with what users taught: buttons already in chats name them by id, which must never come to
        # mean another unit.
        assert await session.scalar(select(func.count()).select_from(Alias).where(Alias.text_key == "thu nghiem")) == 1
        orphans = await session.scalar(select(func.count()).select_from(Result).where(
            Result.ranking_id.not_in(select(Ranking.id))))
        assert orphans == 0
        assert await session.get(Unit, followed) is not None  # the seed still ranks it
        assert await session.scalar(select(func.count()).select_from(Subscription)) == 4
        audit = await session.scalar(select(Audit).where(Audit.action == "retract"))
        assert audit.actor == "cli:test" and f"decision #{decision_id} 2001/QĐ-UBND" in audit.detail
        assert audit.detail.endswith("alerts sent or being sent to chat/topic: 1/0, 2/0")
        if not seeded.is_postgres:
            assert (await session.execute(text("PRAGMA foreign_key_check"))).all() == []
        # On PostgreSQL the foreign keys themselves would have refused a delete that left orphans.
        assert await session.scalar(select(func.count()).select_from(Chat)) == 4


def test_retract_from_the_command_line(tmp_path: Path) -> None:
    issuer, number = "UBND thành phố Cần Thơ", "1568/QĐ-UBND"
    listed = dxbot("decisions", cwd=tmp_path)
    assert listed.stdout.split("\t")[:2] == [number, issuer]  # ISSUER as decisions prints it
    dry = dxbot("retract", issuer, number, cwd=tmp_path)
    assert dry.returncode == 0 and "would remove 2 rankings, 29 results" in dry.stdout and "--yes" in dry.stdout
    done = dxbot("retract", issuer, number, "--yes", cwd=tmp_path)
    assert done.returncode == 0 and "removed 2 rankings, 29 results, 0 alerts" in done.stdout
    assert "loads them again" in done.stdout  # it was the only decision: said, as the shipped data comes back
    missing = dxbot("retract", issuer, "9999/QĐ-UBND", "--yes", cwd=tmp_path)
    assert missing.returncode == 2 and "no decision 9999/QĐ-UBND" in missing.stderr
    with sqlite3.connect(tmp_path / "state" / "dxbot.sqlite3") as store:
        assert store.execute("SELECT count(*) FROM decision").fetchone() == (0,)
        assert store.execute("SELECT count(*) FROM result").fetchone() == (0,)
        assert store.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_subscribers_and_outbox_print_json_matching_the_database(tmp_path: Path, seed_text: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state' / 'dxbot.sqlite3'}"
    db = Database(url)
    await db.prepare(load_shipped_if_empty)
    try:
        await _subscribe(db, 11, Target(ALL), language="en")
        await _subscribe(db, -100500, Target(UNIT, unit_id=await _unit(db, "Sở Y tế")), thread_id=7, silent=True)
        await _publish_later(db, seed_text)
        async with db.session() as session, session.begin():
            failed = await session.scalar(select(Delivery).where(Delivery.chat_id == 11))
            failed.status, failed.last_error, failed.attempts = "failed", "Bad Request: chat not found", 8
    finally:
        await db.close()
    chats = json.loads(dxbot("subscribers", "--json", cwd=tmp_path).stdout)["chats"]
    assert chats == [
        {"chat_id": -100500, "type": "supergroup", "active": True, "language": "vi",
         "follows": [{"scope": "unit", "level": "", "unit": "Sở Y tế", "thread_id": 7, "silent": True}]},
        {"chat_id": 11, "type": "private", "active": True, "language": "en",
         "follows": [{"scope": "all", "level": "", "unit": None, "thread_id": 0, "silent": False}]},
    ]
    outbox = json.loads(dxbot("outbox", "--json", cwd=tmp_path).stdout)
    assert outbox["counts"] == {"failed": 1, "pending": 1}
    assert [(a["chat_id"], a["status"]) for a in outbox["alerts"]] == [(11, "failed"), (-100500, "pending")] or \
        [(a["chat_id"], a["status"]) for a in outbox["alerts"]] == [(-100500, "pending"), (11, "failed")]
    assert all(a["next_attempt_at"].endswith("+07:00") for a in outbox["alerts"])
    only_failed = json.loads(dxbot("outbox", "--failed", "--json", cwd=tmp_path).stdout)
    assert [(a["chat_id"], a["last_error"]) for a in only_failed["alerts"]] == [(11, "Bad Request: chat not found")]
    lines = dxbot("outbox", "--failed", cwd=tmp_path).stdout.splitlines()
    assert lines[0] == "failed 1" and lines[1].endswith("\tBad Request: chat not found")
    assert "+07:00" in lines[1]


def test_decisions_show_local_times_with_their_offset(tmp_path: Path) -> None:
    assert dxbot("ingest", str(SEED), "--publish", cwd=tmp_path).returncode == 0
    line = dxbot("decisions", cwd=tmp_path).stdout.strip()
    assert line.split("\t")[-1].startswith("published ") and line.endswith(" +07:00")


def test_every_command_says_what_it_reads_and_how_it_exits(tmp_path: Path) -> None:
    commands = ["run", "ingest", "decisions", "watch", "ask", "resolve", "shell", "backup", "subscribers",
                "outbox", "retract"]
    for command in commands:
        shown = dxbot(command, "--help", cwd=tmp_path)
        assert shown.returncode == 0, command
        assert "environment:" in shown.stdout and "exit codes:" in shown.stdout and "DXBOT_" in shown.stdout, command
    assert "(default: 5.0)" in dxbot("watch", "--help", cwd=tmp_path).stdout
    assert "DXBOT_TOKEN (required)" in dxbot("run", "--help", cwd=tmp_path).stdout
    assert dxbot("--version", cwd=tmp_path).stdout.startswith("dxbot ")


def test_an_existing_database_file_without_a_schema_is_said(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "dxbot.sqlite3").write_bytes(b"")  # truncated by accident
    result = dxbot("decisions", cwd=tmp_path)
    assert result.returncode == 0
    assert "holds no dxbot schema" in result.stderr and "restore a backup" in result.stderr
    assert "holds no dxbot schema" not in dxbot("decisions", cwd=tmp_path).stderr  # said once: it has one now


def test_watch_logs_what_it_publishes_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    import os

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "DXBOT_STATE_DIR": str(tmp_path / "state")}
    with (tmp_path / "watch.err").open("w") as err:
        watcher = subprocess.Popen([sys.executable, "-m", "bot.cli", "watch", str(inbox), "--every", "0.2"],
                                   cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            (inbox / "quyet-dinh.txt").write_bytes(SEED.read_bytes())
            (inbox / "rac.txt").write_text("không phải quyết định", encoding="utf-8")
            deadline = time.monotonic() + 60
            while not ((inbox / "published" / "quyet-dinh.txt").exists() and (inbox / "rejected").exists()):
                assert time.monotonic() < deadline and watcher.poll() is None
                time.sleep(0.1)
            time.sleep(0.3)
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=30) == 0
        finally:
            if watcher.poll() is None:
                watcher.kill()
    log = (tmp_path / "watch.err").read_text(encoding="utf-8")
    assert "quyet-dinh.txt: published" in log and "rac.txt: rejected" in log
    assert "published decision 1568/QĐ-UBND (UBND thành phố Cần Thơ) by cli:" in log


def test_admin_commands_never_create_or_migrate_a_store(tmp_path: Path) -> None:
    """Pointed at the wrong place they say so; pointed at an older store they refuse rather than migrate it under
    the bot that runs it."""
    for command in (["subscribers"], ["outbox"], ["backup", str(tmp_path / "b.sqlite3")], ["retract", "X", "1"]):
        result = dxbot(*command, cwd=tmp_path)
        assert result.returncode == 2 and "there is no database at" in result.stderr, command
    assert not (tmp_path / "state" / "dxbot.sqlite3").exists()
    assert dxbot("decisions", cwd=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "state" / "dxbot.sqlite3") as store:
        store.execute("UPDATE alembic_version SET version_num = '0008'")
    older = dxbot("outbox", cwd=tmp_path)
    assert older.returncode == 2 and "is at migration 0008" in older.stderr
    with sqlite3.connect(tmp_path / "state" / "dxbot.sqlite3") as store:
        assert store.execute("SELECT version_num FROM alembic_version").fetchone() == ("0008",)


def test_a_backup_of_a_store_in_a_folder_with_a_hash_in_its_name(tmp_path: Path) -> None:
    state = tmp_path / "k#1" / "state"
    assert dxbot("decisions", cwd=tmp_path, env={"DXBOT_STATE_DIR": str(state)}).returncode == 0
    made = dxbot("backup", str(tmp_path / "copy.sqlite3"), cwd=tmp_path, env={"DXBOT_STATE_DIR": str(state)})
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(tmp_path / "copy.sqlite3") as copy:
        assert copy.execute("SELECT count(*) FROM decision").fetchone() == (1,)
    missing = dxbot("backup", str(tmp_path / "no" / "copy.sqlite3"), cwd=tmp_path, env={"DXBOT_STATE_DIR": str(state)})
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_watch_stops_with_0_while_it_waits_for_the_database(tmp_path: Path) -> None:
    import os
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once the socket is closed
    (tmp_path / "inbox").mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "DXBOT_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/x", "DXBOT_DB_WAIT": "60"}
    watcher = subprocess.Popen([sys.executable, "-m", "bot.cli", "watch", str(tmp_path / "inbox")], cwd=tmp_path,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while "is not reachable" not in (line := watcher.stderr.readline()):
            assert line and time.monotonic() < deadline, "it never said it waits for the database"
        watcher.send_signal(signal.SIGTERM)
        assert watcher.wait(timeout=10) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
        watcher.stderr.close()
