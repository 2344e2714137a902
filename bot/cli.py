"""The `dxbot` command line: the same dxcore functions the bot calls (DESIGN.md, CLI contract).

Exit 0 on success, 2 on bad input or usage; messages on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from dxcore.answering.assistant import ask
from dxcore.answering.formatting import format_date, local_moment
from dxcore.answering.i18n import LANGUAGES, VI
from dxcore.answering.queries import list_decisions
from dxcore.observability.health import migrations_head, stored_revisions
from dxcore.observability.logs import configure_logging
from dxcore.parsing import GivenFacts
from dxcore.paths import data_dir
from dxcore.publishing.ingest import ingest_file
from dxcore.publishing.watch import watch, watch_once
from dxcore.settings import Settings, describe_errors
from dxcore.steps import unless_stopped
from dxcore.store import maintenance as M
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


STORE_ENV = ("DXBOT_DATABASE_URL (default: dxbot.sqlite3 in DXBOT_STATE_DIR), DXBOT_STATE_DIR (default "
             "~/.local/share/dxbot), DXBOT_DB_WAIT (seconds to wait for an unreachable database at start, default 60), "
             "DXBOT_DATA_DIR (the shipped data/, found by itself; environment only); the others also from a .env file in "
             "the working folder")
RUN_ENV = ("DXBOT_TOKEN (required), DXBOT_ADMIN_IDS, DXBOT_API_BASE_URL, DXBOT_FILE_BASE_URL, DXBOT_QUIET_HOURS "
           "(default 21:00-07:00), DXBOT_SEND_RATE (25), DXBOT_REPLICAS (1), DXBOT_FLOOD (20/10s), "
           "DXBOT_WEBHOOK_SECRET (with --webhook-url), DXBOT_HTTP_PORT (8080, off), DXBOT_HTTP_LISTEN (127.0.0.1), "
           "DXBOT_LOG_LEVEL (INFO), DXBOT_LOG_FORMAT (text, json)")
EXITS = "0 done; 1 the database (or the Bot API) could not be reached; 2 bad input, usage or configuration"


class _Help(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written, and each option's default where it has one worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return action.help or ""
        return f"{action.help} (default: %(default)s)"


def _command(commands, name: str, summary: str, details: str, *, env: str = STORE_ENV,
             exits: str = EXITS) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does, the environment it reads and its exit codes."""
    wrap = textwrap.TextWrapper(width=100, subsequent_indent="  ")
    epilog = "\n".join(["environment:", *wrap.wrap(f"  {env}"), "", "exit codes:", *wrap.wrap(f"  {exits}")])
    return commands.add_parser(name, help=summary, description=f"{summary}.\n\n{textwrap.fill(details, 100)}",
                               epilog=epilog, formatter_class=_Help)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dxbot", formatter_class=_Help,
        description="Digital-transformation (Chuyển đổi số) ranking results: the Telegram bot, its store and the "
                    "tools to run it. `dxbot COMMAND --help` describes each command.")
    parser.add_argument("--version", action="version", version=f"dxbot {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = _command(commands, "run", "run the Telegram bot (polling, or a webhook with --webhook-url)",
                   "Migrates the database and loads the shipped decisions when it holds none, then answers questions "
                   "and sends alerts until SIGTERM or Ctrl-C. /healthz, /readyz and /metrics are served on "
                   "DXBOT_HTTP_LISTEN:DXBOT_HTTP_PORT (and on the webhook's server).",
                   env=f"{RUN_ENV}; {STORE_ENV}",
                   exits="0 stopped by SIGTERM or SIGINT; 1 the Bot API or the database could not be reached; 2 a "
                         "bad setting, a missing token or secret, a refused token, a base URL that is not a Bot API "
                         "server, a state folder that cannot be written, a refused database, an address in use")
    run.add_argument("--webhook-url", help="serve a webhook at this public URL instead of polling")
    run.add_argument("--listen", default="0.0.0.0", help="webhook listen address")
    run.add_argument("--port", type=int, default=8080, help="webhook listen port")

    ingest = _command(commands, "ingest", "parse, validate and store decision files",
                      "Each file (TXT, DOCX, PDF, a scan or a photo) is checked against the decision's own totals and "
                      "stored in its own transaction; a file that fails changes nothing. The same content again "
                      "changes nothing; other content under a stored number needs --replace.",
                      exits="0 every file stored (or already stored); 2 a file failed (the others are stored)")
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

    _command(commands, "decisions", "list the stored decisions",
             "One tab-separated line each: number, issuer (as `retract` takes it), signing date, the year "
             "evaluated, rows per level, and when it was published (Asia/Ho_Chi_Minh time with its offset).")

    watch = _command(commands, "watch", "publish decision files dropped into a folder",
                     "Every few seconds, each new file in DIR is ingested and published: moved to DIR/published, or "
                     "to DIR/rejected with a .errors.txt report. Logs what it publishes or rejects; stops on SIGTERM.",
                     env=f"DXBOT_LOG_LEVEL, DXBOT_LOG_FORMAT; {STORE_ENV}",
                     exits="0 stopped by SIGTERM or SIGINT (with --once: every file published); 1 the database "
                           "could not be reached; 2 bad usage, or with --once a file was rejected")
    watch.add_argument("folder", type=Path, metavar="DIR")
    watch.add_argument("--once", action="store_true", help="handle what is there now, then exit")
    watch.add_argument("--every", type=float, default=5.0, help="seconds between looks")

    ask = _command(commands, "ask", "print the answer the bot would give (questions and /commands)",
                   "The same text the bot sends in a private chat, without markup; each button as a line "
                   "`• label`.", exits="0 answered (\"not found\" is an answer); 1 the database could not be "
                                   "reached; 2 bad usage")
    ask.add_argument("text", nargs="*", metavar="TEXT")
    ask.add_argument("--jsonl", action="store_true",
                     help="questions from stdin, one per line; one JSON line out per line in")
    ask.add_argument("--lang", choices=LANGUAGES, default=VI, help="answer language")
    ask.add_argument("--save", type=Path, metavar="DIR",
                     help="write the answer's files (/bieudo charts, /xuat exports) into DIR")

    resolve = _command(commands, "resolve", "resolve unit names (one query per stdin line without QUERY)",
                       "One JSON object per query per line: status found, ambiguous or not_found, the unit, and "
                       "candidates best first.")
    resolve.add_argument("queries", nargs="*", metavar="QUERY")
    resolve.add_argument("--json", action="store_true", help="one JSON object per query per line (the default)")

    _command(commands, "shell", "type questions, get answers; type a choice's number to press it",
             "An interactive session over the same conversation core the bot uses.")

    backup = _command(commands, "backup", "copy the SQLite database consistently, while the bot runs",
                      "Uses SQLite's online backup API (a plain cp of a live database misses its write-ahead log), "
                      "checks the copy with PRAGMA integrity_check and never overwrites a file. Restore by stopping "
                      "the bot and pointing DXBOT_DATABASE_URL at the copy (or putting it in place of the "
                      "database). On PostgreSQL it explains pg_dump instead.",
                      exits="0 the copy is written and checked; 1 the database could not be reached; 2 FILE exists "
                            "or its folder does not, no store there or one of another version, the copy failed its "
                            "check, or the database is PostgreSQL")
    backup.add_argument("file", type=Path, metavar="FILE")

    subscribers = _command(commands, "subscribers", "list the chats that follow something, and what",
                           "One line per chat: its id, type, active or not (it blocked the bot or removed it), "
                           "its alerts' language, and what it follows.")
    subscribers.add_argument("--json", action="store_true", help="print one JSON document")

    outbox = _command(commands, "outbox", "list the alerts of the outbox, by state",
                      "Counts by state, then one line per alert that is not sent (with --failed: the failed ones "
                      "with their last error). Times in Asia/Ho_Chi_Minh with their offset.")
    outbox.add_argument("--failed", action="store_true", help="only the alerts that failed for good")
    outbox.add_argument("--json", action="store_true", help="print one JSON document")

    retract = _command(commands, "retract", "remove a decision published by mistake",
                       "Without --yes, says what would be removed. With --yes, in one transaction: deletes every "
                       "alert of it, lists those sent or being sent (chats that saw it) and records them in the "
                       "audit trail, then deletes the decision, its rankings and results. Units stay. ISSUER is "
                       "written as `dxbot decisions` prints it. Stores are read as they are: never created nor "
                       "migrated.",
                       exits="0 done (or shown); 1 the database could not be reached; 2 no such decision, no "
                             "store there, or a store of another version")
    retract.add_argument("issuer", metavar="ISSUER")
    retract.add_argument("number", metavar="NUMBER")
    retract.add_argument("--yes", action="store_true", help="remove it (otherwise only say what would go)")
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


@asynccontextmanager
async def _existing_store(settings: Settings) -> AsyncIterator[Database]:
    """The store as it is, never created nor migrated: an admin command must not change the schema under a running
    bot of another version, nor make an empty store where it looked in the wrong place."""
    url = settings.effective_database_url
    path = M.sqlite_path(url)
    if path is not None and not path.is_file():
        raise UsageError(f"there is no database at {path}: give this command the bot's DXBOT_STATE_DIR or "
                         "DXBOT_DATABASE_URL (README: Operating dxbot)")
    db = Database(url)
    try:
        await wait_for_database(db, settings.db_wait)
        found, wanted = await stored_revisions(db), migrations_head()
        if found != wanted:
            raise UsageError(f"the database is at migration {', '.join(sorted(found)) or 'none'}, this dxbot "
                             f"{VERSION} expects {', '.join(sorted(wanted))}: use the dxbot that runs it, or "
                             "upgrade the bot first")
        yield db
    finally:
        await db.close()


async def _ready_store(db: Database, settings: Settings, *, seed: bool) -> None:
    """Wait for the database (up to DXBOT_DB_WAIT seconds), migrate it, and seed it if asked. A SQLite file that
    exists but holds no schema (emptied, truncated, or the wrong file) is said before it is filled anew."""
    path = M.sqlite_path(db.url)
    size = path.stat().st_size if path is not None and path.is_file() else None
    await wait_for_database(db, settings.db_wait)
    if size is not None and await M.schema_missing(db):
        print(f"dxbot: warning: the database file {path} ({size} bytes) holds no dxbot schema: a new, "
              "empty database is created in it; if it held your data, stop now and restore a backup "
              "(README: Operating dxbot)", file=sys.stderr)
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
    if args.once:
        async with _store(settings, seed=False) as db:
            reports = await watch_once(db, args.folder, actor=cli_actor())
        for report in reports:
            print(f"{report.file}: {'published' if report.ok else 'rejected, see rejected/'}")
        return EXIT_BAD_INPUT if any(not r.ok for r in reports) else EXIT_OK
    configure_logging(settings.log_level, settings.log_format)  # a service: its publishes are logged
    stop = _stop_on_signals()  # before the database is awaited: SIGTERM then too ends it with 0
    db = Database(settings.effective_database_url)
    try:
        if await unless_stopped(_ready_store(db, settings, seed=False), stop):
            await watch(db, args.folder, actor=cli_actor(), every=args.every, stop=stop)
    finally:
        await db.close()
    return EXIT_OK


def _stop_on_signals() -> asyncio.Event:
    """An event SIGTERM and SIGINT set: a service stops between two steps and exits 0."""
    stop, loop = asyncio.Event(), asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _backup(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.effective_database_url
    path = M.sqlite_path(url)
    if path is None:
        raise UsageError(M.pg_dump_advice(url) if make_url(url).get_backend_name() == "postgresql"
                         else "an in-memory database cannot be backed up")
    async with _existing_store(settings):  # there, reachable, and of this version's schema
        pass
    size = await asyncio.to_thread(M.backup_sqlite, path, args.file)
    print(f"{args.file}: {size:,} bytes copied from {path}, integrity check ok; restore: stop the bot and point "
          f"DXBOT_DATABASE_URL at sqlite+aiosqlite:///{args.file.resolve()}")
    return EXIT_OK


async def _subscribers(args: argparse.Namespace, settings: Settings) -> int:
    async with _existing_store(settings) as db:
        chats = await M.list_subscribers(db)
    if args.json:
        print(json.dumps({"chats": M.to_json(chats)}, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not chats:
        print("No chat follows anything.")
    for chat in chats:
        follows = "; ".join(_follow_text(f) for f in chat.follows)
        print(f"{chat.chat_id}\t{chat.type}\t{'active' if chat.active else 'inactive'}\t{chat.language}\t{follows}")
    return EXIT_OK


def _follow_text(follow: M.Follow) -> str:
    what = {"all": "every decision", "level": f"level {follow.level}"}.get(follow.scope, f"unit {follow.unit}")
    where = f" (topic {follow.thread_id})" if follow.thread_id else ""
    return f"{what}{where}{', silent' if follow.silent else ''}"


async def _outbox(args: argparse.Namespace, settings: Settings) -> int:
    async with _existing_store(settings) as db:
        listed = await M.list_alerts(db, failed_only=args.failed)
    counts: dict[str, int] = {}
    for alert in listed:
        counts[alert.status] = counts.get(alert.status, 0) + 1
    shown = listed if args.failed else [a for a in listed if a.status not in ("sent", "blocked")]
    if args.json:
        print(json.dumps({"counts": counts, "alerts": M.to_json(shown)}, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(", ".join(f"{state} {count}" for state, count in sorted(counts.items())) or "The outbox is empty.")
    for a in shown:
        when = f"sent {local_moment(a.sent_at)}" if a.sent_at else f"next try {local_moment(a.next_attempt_at)}"
        error = f"\t{a.last_error}" if a.last_error else ""
        print(f"{a.id}\t{a.status}\t{a.decision} ({a.issuer})\tchat {a.chat_id}/{a.thread_id}\t"
              f"{a.attempts} attempts\t{when}{error}")
    return EXIT_OK


async def _retract(args: argparse.Namespace, settings: Settings) -> int:
    async with _existing_store(settings) as db:
        try:
            done = await M.retract_decision(db, args.issuer, args.number, actor=cli_actor(), apply=args.yes)
        except M.MaintenanceError as exc:
            raise UsageError(str(exc)) from None
    verb = "removed" if args.yes else "would remove"
    print(f"{done.number} of {done.issuer}: {verb} {done.rankings} rankings, {done.results} results, {done.alerts} "
          "alerts")
    print(f"alerts sent or being sent ({len(done.sent)}): those chats saw it" if done.sent
          else "no alert of it was sent")
    for a in done.sent:
        when = f"sent {local_moment(a.sent_at)}" if a.sent_at else "being sent"
        print(f"  chat {a.chat_id}/{a.thread_id}, {when}")
    if done.last:
        print("no other decision is stored: the next command that loads the shipped decisions (run, ask, resolve, "
              "shell, decisions) loads them again")
    if not args.yes:
        print("nothing was changed: add --yes to remove it")
    return EXIT_OK


async def _decisions(settings: Settings) -> int:
    async with _store(settings, seed=True) as db:
        decisions = list_decisions((await Catalog().current(db)).snapshot)
    if not decisions:
        print("No decision is stored.")
    for d in decisions:
        levels = ", ".join(f"{level_name(code)} {rows}" for code, rows in d.levels)
        published = f"published {local_moment(d.published_at)}" if d.published_at else "not published"
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
        if args.command == "backup":
            return asyncio.run(_backup(args, settings))
        if args.command == "subscribers":
            return asyncio.run(_subscribers(args, settings))
        if args.command == "outbox":
            return asyncio.run(_outbox(args, settings))
        if args.command == "retract":
            return asyncio.run(_retract(args, settings))
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
    except M.MaintenanceError as exc:
        print(f"dxbot: {exc}", file=sys.stderr)
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
