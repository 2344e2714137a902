"""The `dxbot` command line: the same dxcore functions the bot calls (DESIGN.md, CLI contract).

Exit 0 on success, 2 on bad input or usage; messages on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError

from dxcore.answering.assistant import ask
from dxcore.answering.formatting import format_date
from dxcore.answering.i18n import LANGUAGES, VI
from dxcore.answering.queries import list_decisions
from dxcore.observability.logs import configure_logging
from dxcore.parsing import GivenFacts
from dxcore.paths import data_dir
from dxcore.publishing.ingest import ingest_file
from dxcore.publishing.watch import watch, watch_once
from dxcore.settings import Settings, describe_errors
from dxcore.store.db import (
    Database,
    DatabaseRefused,
    DatabaseUnreachable,
    StateDirError,
    wait_for_database,
)
from dxcore.store.decisions import cli_actor, load_shipped_if_empty
from dxcore.understanding.catalog import Catalog
from dxcore.understanding.levels import level_name
from dxcore.understanding.lineage import LineageError, shipped_lineage
from dxcore.version import VERSION

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

NO_TOKEN = (
    "DXBOT_TOKEN is not set. Create a bot with @BotFather in Telegram (/newbot), then put its token in the "
    "environment or in a .env file here: DXBOT_TOKEN=123456:ABC…"
)


class UsageError(Exception):
    """Bad input or configuration: printed as is, exit 2."""


def _day(text: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 12/07/2023 (DD/MM/YYYY)") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dxbot", description="Digital-transformation ranking results bot.")
    parser.add_argument("--version", action="version", version=f"dxbot {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the Telegram bot (polling, or a webhook with --webhook-url)")
    run.add_argument("--webhook-url", help="serve a webhook at this public URL instead of polling")
    run.add_argument("--listen", default="0.0.0.0", help="webhook listen address")
    run.add_argument("--port", type=int, default=8080, help="webhook listen port")

    ingest = commands.add_parser("ingest", help="parse, validate and store decision files")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest.add_argument("--dry-run", action="store_true", help="parse and validate only; store nothing")
    ingest.add_argument("--replace", action="store_true", help="replace a stored decision whose content differs")
    ingest.add_argument("--publish", action="store_true",
                        help="publish too: alert every subscribed chat (once per decision, ever)")
    # A report (no issuer header, no Điều 1, e.g. the national DTI table) is accepted when these give what it lacks.
    ingest.add_argument("--issuer", help='the issuer a report does not print, e.g. "Bộ Thông tin và Truyền thông"')
    ingest.add_argument("--number", help='a label for a report without a number, e.g. "DTI-2022/BTTTT"')
    ingest.add_argument("--signed", type=_day, metavar="DD/MM/YYYY", help="the report's publication date")
    ingest.add_argument("--year", type=int, metavar="YYYY", help="the year the report evaluates")

    commands.add_parser("decisions", help="list the stored decisions")

    watch = commands.add_parser("watch", help="publish decision files dropped into a folder")
    watch.add_argument("folder", type=Path, metavar="DIR")
    watch.add_argument("--once", action="store_true", help="handle what is there now, then exit")
    watch.add_argument("--every", type=float, default=5.0, help="seconds between looks (default 5)")

    ask = commands.add_parser("ask", help="print the answer the bot would give (questions and /commands)")
    ask.add_argument("text", nargs="*", metavar="TEXT")
    ask.add_argument("--jsonl", action="store_true",
                     help="questions from stdin, one per line; one JSON line out per line in")
    ask.add_argument("--lang", choices=LANGUAGES, default=VI, help="answer language (default vi)")
    ask.add_argument("--save", type=Path, metavar="DIR",
                     help="write the answer's files (/bieudo charts, /xuat exports) into DIR")

    resolve = commands.add_parser("resolve", help="resolve unit names (one query per stdin line without QUERY)")
    resolve.add_argument("queries", nargs="*", metavar="QUERY")
    resolve.add_argument("--json", action="store_true", help="one JSON object per query per line (the default)")

    commands.add_parser("shell", help="type questions, get answers; type a choice's number to press it")
    return parser


@asynccontextmanager
async def _store(settings: Settings, *, seed: bool) -> AsyncIterator[Database]:
    """The migrated store (seeded with the shipped decisions when empty, if asked), closed afterwards."""
    db = Database(settings.effective_database_url)
    try:
        await _ready_store(db, settings, seed=seed)
        yield db
    finally:
        await db.close()


async def _ready_store(db: Database, settings: Settings, *, seed: bool) -> None:
    """Wait for the database (up to DXBOT_DB_WAIT seconds), migrate it, and seed it if asked."""
    await wait_for_database(db, settings.db_wait)
    await db.prepare(load_shipped_if_empty if seed else None)


async def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    given = GivenFacts(issuer=args.issuer, number=args.number, signed=args.signed, year=args.year)
    failed = 0
    async with _store(settings, seed=False) as db:
        actor = cli_actor()
        for path in args.files:
            report = await ingest_file(db, path, actor=actor, dry_run=args.dry_run, replace=args.replace,
                                       publish=args.publish, given=given)
            if report.lines:
                print(f"{path}: {report.lines[0]}", *report.lines[1:], sep="\n")
            for line in report.warnings + report.errors:
                print(line, file=sys.stderr)
            failed += not report.ok
    if failed:
        print(f"{failed} of {len(args.files)} files failed; nothing was stored from them.", file=sys.stderr)
    return EXIT_BAD_INPUT if failed else EXIT_OK


async def _watch(args: argparse.Namespace, settings: Settings) -> int:
    if not args.folder.is_dir():
        raise UsageError(f"{args.folder} is not a folder")
    async with _store(settings, seed=False) as db:
        if args.once:
            reports = await watch_once(db, args.folder, actor=cli_actor())
            for report in reports:
                print(f"{report.file}: {'published' if report.ok else 'rejected, see rejected/'}")
            return EXIT_BAD_INPUT if any(not r.ok for r in reports) else EXIT_OK
        configure_logging(settings.log_level, settings.log_format)  # a service: its publishes are logged
        await watch(db, args.folder, actor=cli_actor(), every=args.every)
    return EXIT_OK


async def _decisions(settings: Settings) -> int:
    async with _store(settings, seed=True) as db:
        decisions = list_decisions((await Catalog().current(db)).snapshot)
    if not decisions:
        print("No decision is stored.")
    for d in decisions:
        levels = ", ".join(f"{level_name(code)} {rows}" for code, rows in d.levels)
        published = f"published {d.published_at:%Y-%m-%d %H:%M}" if d.published_at else "not published"
        print(f"{d.number}\t{d.issuer}\tsigned {format_date(d.signed_date)}\tresults {d.evaluated_year}\t"
              f"{levels}\t{published}")
    return EXIT_OK


async def _ask_lines(args: argparse.Namespace, settings: Settings) -> int:
    """--jsonl: stdin split on "\n" only (a line may hold U+2028 and the like), one JSON object per line, no context
    carried between lines."""
    lines = sys.stdin.buffer.read().decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    catalog = Catalog()
    async with _store(settings, seed=True) as db:
        try:
            for question in lines:
                answer = await ask(db, catalog, question.rstrip("\r"))
                line = {"question": question, "lang": args.lang, "kind": answer.kind,
                        "text": answer.render_plain(args.lang), "units": answer.units}
                print(json.dumps(line, ensure_ascii=True), flush=True)
        finally:
            await catalog.close()  # a refresh begun in the background must not outlive the store
    return EXIT_OK


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.jsonl:
        if args.text or args.save:
            raise UsageError("ask --jsonl reads its questions from stdin: give no TEXT and no --save")
        return await _ask_lines(args, settings)
    if not args.text:
        raise UsageError("ask needs a question (or --jsonl to read questions from stdin)")
    if args.save is not None and not args.save.is_dir():
        raise UsageError(f"--save {args.save}: not a folder")
    async with _store(settings, seed=True) as db:
        answer = await ask(db, Catalog(), " ".join(args.text))
    print(answer.render_plain(args.lang))
    for attachment in answer.attachments:
        if args.save is None:
            print(f"[{attachment.filename}: use --save DIR to write it]")
            continue
        target = args.save / attachment.filename
        target.write_bytes(attachment.draw(args.lang))
        print(f"[{target}]")
    return EXIT_OK


async def _resolve(args: argparse.Namespace, settings: Settings) -> int:
    async with _store(settings, seed=True) as db:
        resolver = (await Catalog().current(db)).resolver
    queries = args.queries or (line.rstrip("\n") for line in sys.stdin)
    for query in queries:  # one line out per line in, blank ones too, so scripts can zip them
        print(json.dumps(resolver.resolve(query).to_json(), ensure_ascii=False), flush=not args.queries)
    return EXIT_OK


async def _shell(settings: Settings) -> int:
    from bot.shell import run_shell

    async with _store(settings, seed=True) as db:
        await run_shell(db)
    return EXIT_OK


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token is None or not settings.token.get_secret_value().strip():
        raise UsageError(NO_TOKEN)
    if args.webhook_url and (problem := settings.webhook_secret_problem()):
        raise UsageError(problem)
    os.environ.setdefault("PTB_TIMEDELTA", "true")  # PTB 22: retry_after as a timedelta, without a warning
    from telegram.error import (  # Telegram is imported only when the bot runs
        InvalidToken,
        NetworkError,
    )

    from bot.app import run_bot
    from bot.endpoints import ListenError
    from bot.transport import NotBotApi

    async def prepare(db: Database) -> None:
        await _ready_store(db, settings, seed=True)

    try:
        run_bot(settings, webhook_url=args.webhook_url, listen=args.listen, port=args.port, prepare=prepare)
    except InvalidToken:
        raise UsageError(f"the Bot API at {settings.api_base_url} refused DXBOT_TOKEN: check the token") from None
    except NotBotApi as exc:
        raise UsageError(f"{settings.api_base_url} is not a Bot API server ({exc}): check DXBOT_API_BASE_URL") \
            from None
    except ListenError as exc:
        raise UsageError(str(exc)) from None
    except NetworkError as exc:
        print(f"dxbot: cannot reach the Bot API at {settings.api_base_url} ({exc}); try again when it is reachable",
              file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
        shipped_lineage()  # every command reads the lineage files: a broken one stops it here, located
        if args.command == "ingest":
            return asyncio.run(_ingest(args, settings))
        if args.command == "watch":
            return asyncio.run(_watch(args, settings))
        if args.command == "decisions":
            return asyncio.run(_decisions(settings))
        if args.command == "run":
            return _run(args, settings)
        if args.command == "ask":
            return asyncio.run(_ask(args, settings))
        if args.command == "resolve":
            return asyncio.run(_resolve(args, settings))
        if args.command == "shell":
            return asyncio.run(_shell(settings))
        raise UsageError(f"unknown command {args.command}")
    except UsageError as exc:
        print(f"dxbot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except LineageError as exc:
        print(f"dxbot: bad lineage file in {data_dir()}/: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ArgumentError as exc:  # an unusable DXBOT_DATABASE_URL
        print(f"dxbot: bad configuration: DXBOT_DATABASE_URL: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as exc:
        print(f"dxbot: bad configuration: {describe_errors(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (StateDirError, DatabaseRefused) as exc:  # waiting cannot fix these: the configuration must change
        print(f"dxbot: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DatabaseUnreachable as exc:
        print(f"dxbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the CLI contract: a message, never a traceback
        print(f"dxbot: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
