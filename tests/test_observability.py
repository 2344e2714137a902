"""Issue 16: what an operator sees of a running bot. The HTTP endpoints, the metrics moving with questions and
alerts, readiness following the database, the logs (folded outages, nothing of a user's words or name)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bot import app as bot_app
from dxcore.observability import logs as L
from dxcore.observability import metrics
from dxcore.publishing.ingest import ingest_file
from dxcore.settings import Settings
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty
from dxcore.version import VERSION
from tests.conftest import FIXTURES
from tests.fakebot import FakeBotApi

PRIVATE = 4242


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sample(name: str, **labels: str) -> float:
    """A metric's current value in this process (0 when it has no such series yet)."""
    return metrics.REGISTRY.get_sample_value(name, labels or None) or 0.0


async def get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


async def until(check, timeout: float = 15.0, every: float = 0.1):
    """Poll ``check`` (async, returning something true) until it does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if result := await check():
                return result
        except httpx.HTTPError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        await asyncio.sleep(every)


@asynccontextmanager
async def serving(db_url: str, fake: FakeBotApi, **settings: object):
    """``bot.app.serve`` in this loop (polling the fake Bot API), its HTTP endpoints on a free port: yields it."""
    port = free_port()

    async def prepare(db: Database) -> None:
        await db.prepare(load_shipped_if_empty)

    config = Settings(token=fake.token, api_base_url=fake.base_url, file_base_url=fake.file_base_url,
                      database_url=db_url, quiet_hours="off", flood="off", http_port=port, _env_file=None,
                      **settings)
    stop = asyncio.Event()
    task = asyncio.create_task(bot_app.serve(config, prepare=prepare, stop=stop))
    try:
        await until(lambda: _status(port, "/healthz", 200))
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


def status(port: int, path: str) -> int:
    """The HTTP status of a GET (0: nothing answered), from a test that does not run the bot's loop."""
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code
    except httpx.HTTPError:
        return 0


def wait_status(port: int, path: str, wanted: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while status(port, path) != wanted:
        assert time.monotonic() < deadline, f"{path} never answered {wanted}"
        time.sleep(0.1)


async def _status(port: int, path: str, status: int) -> bool:
    return (await get(port, path)).status_code == status


async def test_endpoints_answer_and_metrics_move_with_questions_and_alerts(sqlite_url: str, caplog) -> None:
    caplog.set_level(logging.INFO, logger="dxbot")
    with FakeBotApi() as fake:
        async with serving(sqlite_url, fake) as port:
            health = await get(port, "/healthz")
            assert health.status_code == 200 and health.text == "ok\n"
            ready = await until(lambda: _ready(port))
            assert ready == {"status": "ready", "reasons": []}

            answers = sample("dxbot_answers_total", kind="unit", lang="vi")
            messages = sample("dxbot_updates_total", type="message")
            found = sample("dxbot_resolver_outcomes_total", status="found")
            latency = sample("dxbot_answer_seconds_count")
            fake.push_message(PRIVATE, "so y te hang may")
            await fake.wait_for_async(lambda c: c.method == "sendMessage" and "Sở Y tế" in c.params["text"])
            assert sample("dxbot_answers_total", kind="unit", lang="vi") == answers + 1
            assert sample("dxbot_updates_total", type="message") == messages + 1
            assert sample("dxbot_resolver_outcomes_total", status="found") > found
            await until(lambda: _async(sample("dxbot_answer_seconds_count") == latency + 1))

            # An alert: the chat follows a unit, a decision ranking it is published from another process.
            fake.push_message(PRIVATE, "/dangky Sở Y tế")
            await fake.wait_for_async(lambda c: c.method == "sendMessage" and "Đã đăng ký" in c.params["text"])
            sent = sample("dxbot_alerts_total", result="sent")
            other = Database(sqlite_url)
            try:
                report = await ingest_file(other, FIXTURES / "reorganisation" / "QD-850-UBND-2026-can-tho-2025.txt",
                                           actor="cli:test", publish=True)
            finally:
                await other.close()
            assert report.ok, report.errors
            await fake.wait_for_async(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == PRIVATE
                                      and "850" in c.params["text"], timeout=20)
            await until(lambda: _async(sample("dxbot_alerts_total", result="sent") == sent + 1))
            said = [r.getMessage() for r in caplog.records]
            assert "published decision 850/QĐ-UBND (UBND thành phố Cần Thơ) by cli:test: 1 alerts queued" in said
            assert any(line.startswith("delivery round: 1 alerts in ") and line.endswith("(sent 1)") for line in said)

            exposition = (await get(port, "/metrics")).text
            assert f'dxbot_build_info{{version="{VERSION}"}} 1.0' in exposition
            assert re.search(r'^dxbot_outbox\{state="pending"\} 0\.0$', exposition, re.M)
            assert re.search(r"^dxbot_catalog_decisions 2\.0$", exposition, re.M)
            assert float(re.search(r"^dxbot_catalog_units (\S+)$", exposition, re.M).group(1)) > 40
            names = {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line and line[0] != "#"}
            assert names and all(name.startswith("dxbot_") for name in names), names
        with pytest.raises(httpx.ConnectError):  # stopped: nothing listens any more
            await get(port, "/healthz")


async def _async(value):
    return value


async def _ready(port: int) -> dict | None:
    response = await get(port, "/readyz")
    return response.json() if response.status_code == 200 else None


async def test_readiness_wants_the_bot_api_heard_within_a_minute(sqlite_url: str) -> None:
    from dxcore.observability.health import BOT_API_SILENCE, readiness

    db = Database(sqlite_url)
    try:
        await db.prepare()
        assert (await readiness(db, bot_api_silence=BOT_API_SILENCE - 1)).ready
        assert (await readiness(db, bot_api_silence=None)).ready  # webhook mode: not asked
        late = await readiness(db, bot_api_silence=BOT_API_SILENCE + 5)
        assert late.to_json() == {"status": "not ready", "reasons": ["bot api: no answer for 65 s"]}
    finally:
        await db.close()


class _Replies:
    """A Bot API transport answering each call with the next (status, body)."""

    def __init__(self, *replies: tuple[int, bytes]) -> None:
        self.replies = list(replies)

    async def do_request(self, *_args, **_kwargs) -> tuple[int, bytes]:
        return self.replies.pop(0)


async def test_only_a_bot_api_success_counts_as_heard_and_a_gateway_page_is_not_a_wrong_url() -> None:
    from bot.transport import BotApiWatch, NotBotApi, ObservedRequest

    watch = BotApiWatch()
    observed = ObservedRequest(_Replies(
        (409, b'{"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request"}'),
        (502, b"<html>502 Bad Gateway</html>"),
        (404, b"<html>404 Not Found</html>"),
        (200, b'{"ok":true,"result":[]}'),
    ), watch)
    url = "http://127.0.0.1:9/bot123:abc/getUpdates"
    assert (await observed.do_request(url, "POST"))[0] == 409 and watch.last_answer is None  # another poller
    assert (await observed.do_request(url, "POST"))[0] == 502 and watch.last_answer is None  # away for now
    with pytest.raises(NotBotApi, match=r"getUpdates was answered with HTTP 404 and '<html>404"):
        await observed.do_request(url, "POST")
    assert (await observed.do_request(url, "POST"))[0] == 200 and watch.last_answer is not None
    assert watch.silence() < 1


def test_a_refused_request_is_a_bug_to_see_not_an_outage(caplog) -> None:
    from telegram.error import BadRequest, NetworkError, TimedOut

    from bot.app import _outage_kind

    assert _outage_kind(BadRequest("Can't parse entities")) is None
    assert _outage_kind(NetworkError("Bad Gateway")) == "bot_api" and _outage_kind(TimedOut()) == "bot_api"
    with caplog.at_level(logging.INFO, logger="dxbot.test"):
        try:
            raise PermissionError(13, "Permission denied", "/exports/x.xlsx")  # no database is away
        except OSError as exc:
            L.FailureLog().report(logging.getLogger("dxbot.test"), "writing an export", exc)
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info and "unavailable" not in record.getMessage()


async def test_a_probe_gives_up_on_time_even_when_the_work_winds_down_slowly() -> None:
    from dxcore.steps import bounded

    async def stalled() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await asyncio.sleep(2)  # a connection on a frozen network takes this long to close
            raise

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await bounded(stalled(), 0.2)
    assert time.monotonic() - started < 1.5


def test_python_telegram_bots_raw_updates_never_reach_the_log_and_repeats_fold() -> None:
    stream = io.StringIO()
    root, level = logging.getLogger(), logging.getLogger().level
    L.configure_logging("INFO", "json", stream)
    try:
        ptb = logging.getLogger("telegram.ext.ExtBot")
        raw = [{"update_id": 5, "message": {"from": {"first_name": "Trần Bí Mật"}, "text": "câu hỏi riêng"}}]
        for _ in range(300):  # polling retries an update it cannot parse, in a tight loop
            try:
                raise TypeError("unexpected value 'yesterday'")
            except TypeError:
                ptb.critical("Error while parsing updates! Received data was %r", raw, exc_info=True)
    finally:
        root.removeHandler(L._handler)
        L._handler = None
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1, lines
    assert lines[0]["message"] == "Error while parsing updates! (the data is not logged above DEBUG)"
    assert lines[0]["exception"] == "TypeError (details hidden)"
    assert "Bí Mật" not in stream.getvalue() and "câu hỏi" not in stream.getvalue()


def test_a_database_url_is_logged_without_any_password() -> None:
    from dxcore.store.db import masked_database_url

    masked = masked_database_url("postgresql+asyncpg://dxbot:pw1@db:5432/dxbot?password=pw2&ssl=require")
    assert "pw1" not in masked and "pw2" not in masked and masked.startswith("postgresql+asyncpg://dxbot:***@db")


def test_an_alert_given_up_is_counted_as_failed() -> None:
    from dxcore.alerts.delivery import (
        FAILED,
        MIGRATED,
        RETRY,
        DeliveryWorker,
        Job,
        SendResult,
    )

    worker = DeliveryWorker(None, None, None, max_attempts=3)  # type: ignore[arg-type] - only its rules are used
    assert worker._outcome(Job(1, 1, 1, 0, attempts=1), SendResult(RETRY)) == RETRY
    assert worker._outcome(Job(1, 1, 1, 0, attempts=2), SendResult(RETRY)) == FAILED
    assert worker._outcome(Job(1, 1, 1, 0, attempts=0), SendResult(MIGRATED)) == FAILED  # no new chat id given


def test_failure_log_folds_a_repeating_failure_into_one_line_a_minute(caplog) -> None:
    now = [0.0]
    failures = L.FailureLog(window=60, clock=lambda: now[0])
    logger = logging.getLogger("dxbot.test")
    from sqlalchemy.exc import OperationalError

    outage = OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))
    with caplog.at_level(logging.INFO, logger="dxbot.test"):
        for second in range(0, 125):  # a failure every second for two minutes
            now[0] = float(second)
            failures.report(logger, "a delivery round", outage)
        failures.recovered(logger, "database")
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4, lines  # at 0 s, 60 s, 120 s, and once it works again
    assert lines[0].startswith("database unavailable: a delivery round failed: OperationalError")
    assert "(59 more like it in the last 60 s)" in lines[1]
    assert lines[3] == "database available again after 125 failed attempts"
    assert not any(r.exc_info for r in caplog.records), "an outage is logged without tracebacks"


def test_failure_log_keeps_the_traceback_of_a_bug(caplog) -> None:
    failures = L.FailureLog()
    with caplog.at_level(logging.INFO, logger="dxbot.test"):
        try:
            raise KeyError("no such thing")
        except KeyError as exc:
            failures.report(logging.getLogger("dxbot.test"), "handling an update", exc, detail=" (update 7)")
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info
    assert record.getMessage() == "handling an update failed (update 7): KeyError: 'no such thing'"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_private_words_never_reach_a_log_line_above_debug(fmt: str) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    L.configure_logging("INFO", fmt, stream)
    try:
        async def handling() -> None:
            L.keep_private("so y te hang may bí mật", "Nguyễn Thị Bí Mật", None, "")
            log = logging.getLogger("dxbot.test")
            log.info("question %s from %s", "so y te hang may bí mật", "Nguyễn Thị Bí Mật")
            try:
                raise ValueError("cannot read so y te hang may bí mật")
            except ValueError:
                log.exception("failed")
            log.debug("debug keeps it: %s", "so y te hang may bí mật")

        asyncio.run(handling())
        logging.getLogger("dxbot.test").warning("outside the update: %s", "so y te hang may bí mật")
    finally:
        root.removeHandler(L._handler)
        L._handler = None
        root.setLevel(level)
    lines = stream.getvalue().splitlines()
    if fmt == "json":
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        assert [e["level"] for e in entries] == ["INFO", "ERROR", "WARNING"]
        assert entries[1]["exception"].splitlines()[-1] == f"ValueError: cannot read {L.HIDDEN}"
    text = stream.getvalue()
    private = [line for line in text.splitlines() if "Bí Mật" in line or "bí mật" in line]
    assert private == [line for line in text.splitlines() if "outside the update" in line]
    assert f"question {L.HIDDEN} from {L.HIDDEN}" in text


def test_the_exposition_is_prometheus_text() -> None:
    """The exposition is plain Prometheus text that a scraper parses."""
    from prometheus_client.parser import text_string_to_metric_families

    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain")
    families = {family.name for family in text_string_to_metric_families(body.decode())}
    assert {"dxbot_answers", "dxbot_alerts", "dxbot_outbox", "dxbot_build_info", "dxbot_answer_seconds",
            "dxbot_resolver_outcomes", "dxbot_updates", "dxbot_send_budget_waits", "dxbot_catalog_units",
            "dxbot_catalog_decisions", "dxbot_database_errors"} <= families


def test_version_is_what_the_cli_prints(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    printed = subprocess.run([sys.executable, "-m", "bot.cli", "--version"], capture_output=True, text=True,
                             cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
                                                "HOME": str(tmp_path)})
    assert printed.returncode == 0 and printed.stdout.strip() == f"dxbot {VERSION}"


# --- PostgreSQL going away and coming back, through a proxy that can cut it off ---------------------------------

def proxied(proxy, url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def pg_target(url: str) -> tuple[str, int]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.host or "127.0.0.1", parsed.port or 5432


async def _not_ready(port: int) -> dict | None:
    response = await get(port, "/readyz")
    return response.json() if response.status_code == 503 else None


async def test_readyz_follows_the_database_and_an_outage_logs_a_few_lines(pg_url: str, caplog) -> None:
    from tests.tcpproxy import TcpProxy

    with TcpProxy(*pg_target(pg_url)) as proxy, FakeBotApi() as fake:
        async with serving(proxied(proxy, pg_url), fake) as port:
            await until(lambda: _ready(port))
            fake.push_message(PRIVATE, "so y te hang may")
            await fake.wait_for_async(lambda c: c.method == "sendMessage" and "17/20" in c.params["text"])
            errors = sample("dxbot_database_errors_total", kind="unreachable")
            caplog.clear()
            with caplog.at_level(logging.INFO):
                proxy.stop()
                down = await until(lambda: _not_ready(port))
                assert down["status"] == "not ready"
                assert [r for r in down["reasons"] if r.startswith("database: ")], down
                # Eight seconds away: the alert worker alone tries every second, the catalog every three.
                for _ in range(8):
                    await asyncio.sleep(1)
                    assert (await get(port, "/healthz")).status_code == 200  # the process never stops
                assert sample("dxbot_database_errors_total", kind="unreachable") > errors
                proxy.start()
                await until(lambda: _ready(port))
                fake.push_message(PRIVATE, "top 3 cấp huyện")  # served again after the outage
                await fake.wait_for_async(lambda c: c.method == "sendMessage" and "Thốt Nốt" in c.params["text"])
                await until(lambda: _async(any(r.getMessage().startswith("database available again")
                                               for r in caplog.records)))
            lines = [r for r in caplog.records if r.name.startswith("dxbot") and r.levelno >= logging.WARNING]
            assert 1 <= len(lines) <= 4, [r.getMessage() for r in lines]
            assert not [r for r in lines if r.exc_info], "an outage is logged without tracebacks"


def test_a_bot_started_before_postgresql_waits_then_serves_and_logs_no_user_words(pg_url: str,
                                                                                 tmp_path: Path) -> None:
    """`dxbot run` as a process: /healthz answers while it waits for the database, which it names at once; it then
    serves; a database lost while it runs makes answers fail (the user is told) and /readyz say so, never the
    process stop; SIGTERM ends it with 0. Its JSON log holds no user's words or name."""
    import signal

    from tests.conftest import running_bot
    from tests.tcpproxy import TcpProxy

    name, question = "Trần Bí Mật", "cho em xin kết quả của sở y tế ạ"
    http = free_port()
    with TcpProxy(*pg_target(pg_url)) as proxy, FakeBotApi() as fake:
        proxy.stop()  # PostgreSQL is not up yet
        with running_bot(fake, tmp_path, DXBOT_DATABASE_URL=proxied(proxy, pg_url), DXBOT_HTTP_PORT=str(http),
                         DXBOT_DB_WAIT="60", DXBOT_LOG_FORMAT="json") as bot:
            wait_status(http, "/healthz", 200)
            assert status(http, "/readyz") == 503
            time.sleep(2)
            proxy.start()
            wait_status(http, "/readyz", 200)
            fake.push_message(PRIVATE, question, first_name=name, username="bimat_user")
            fake.wait_for(lambda c: c.method == "sendMessage" and "17/20" in c.params["text"])

            proxy.stop()  # lost while running: following a unit needs the database
            mark = fake.mark()
            fake.push_message(PRIVATE, "/dangky Sở Y tế", first_name=name)
            told = fake.wait_for(lambda c: c.method == "sendMessage", since=mark, timeout=30)
            assert "lỗi" in told.params["text"].lower() or "thử lại" in told.params["text"].lower()
            wait_status(http, "/readyz", 503)
            proxy.start()
            wait_status(http, "/readyz", 200)
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(timeout=30) == 0
    log = (tmp_path / "bot-0.err").read_text(encoding="utf-8")
    entries = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
    where = f"127.0.0.1:{proxy.port}"
    waiting = [e for e in entries if e["logger"] == "dxbot.startup" and where in e["message"]]
    assert waiting and waiting[0]["level"] == "WARNING", entries[:5]
    assert any(e["message"].startswith("dxbot ") and "starting: mode=polling" in e["message"] for e in entries)
    for private in (name, question, "bimat_user", "Bí Mật"):
        assert private not in log, f"{private!r} is in the log"
    assert len([e for e in entries if e["level"] in ("WARNING", "ERROR")]) <= 8, [e["message"] for e in entries]


def test_a_normal_start_logs_what_runs_and_no_warning(tmp_path: Path) -> None:
    """`dxbot run` on SQLite: the start-up line (version, mode, database, endpoints, decisions, admins), nothing at
    WARNING or above (Python warnings included), the probes unlogged, and exit 0 on SIGTERM."""
    import signal

    from tests.conftest import running_bot

    http = free_port()
    with FakeBotApi() as fake, running_bot(fake, tmp_path, DXBOT_HTTP_PORT=str(http), DXBOT_ADMIN_IDS="7,8") as bot:
        wait_status(http, "/readyz", 200)
        assert httpx.get(f"http://127.0.0.1:{http}/metrics", timeout=5).status_code == 200
        fake.push_message(PRIVATE, "so y te hang may")
        fake.wait_for(lambda c: c.method == "sendMessage" and "17/20" in c.params["text"])
        bot.send_signal(signal.SIGTERM)
        assert bot.wait(timeout=30) == 0
    lines = (tmp_path / "bot-0.err").read_text(encoding="utf-8").splitlines()
    started = [line for line in lines if " INFO dxbot: dxbot " in line and " starting: " in line]
    assert len(started) == 1, lines
    assert (f" INFO dxbot: dxbot {VERSION} starting: mode=polling, database=sqlite+aiosqlite:///"
            f"{tmp_path}/state/dxbot.sqlite3, http=127.0.0.1:{http}, decisions=1, units=29, admins=2, ") in started[0]
    assert all(" INFO " in line for line in lines), lines  # no warning on a normal start
    assert not [line for line in lines if "/readyz" in line or "/metrics" in line], "probes are not logged"
    assert not [line for line in lines if " httpx:" in line or " apscheduler" in line], "request logs stay quiet"


def test_sigterm_while_waiting_for_the_database_stops_at_once(pg_url: str, tmp_path: Path) -> None:
    import signal

    from tests.conftest import running_bot
    from tests.tcpproxy import TcpProxy

    http = free_port()
    with TcpProxy(*pg_target(pg_url)) as proxy, FakeBotApi() as fake:
        proxy.stop()
        with running_bot(fake, tmp_path, DXBOT_DATABASE_URL=proxied(proxy, pg_url), DXBOT_HTTP_PORT=str(http),
                         DXBOT_DB_WAIT="120") as bot:
            wait_status(http, "/healthz", 200)
            asked = time.monotonic()
            bot.send_signal(signal.SIGTERM)
            assert bot.wait(timeout=20) == 0
            assert time.monotonic() - asked < 10, "it did not wait out DXBOT_DB_WAIT"
    assert not [call for call in fake.calls if call.method == "getUpdates"]  # it never started polling


async def test_a_webhook_bot_stopping_under_traffic_answers_every_update_it_accepted(sqlite_url: str) -> None:
    """Stopping refuses new webhook posts first (Telegram keeps them for later), then answers what it accepted:
    it ends promptly, and no update acknowledged with 200 goes unanswered. A body that is not an update is 400."""
    port, secret = free_port(), "s3cret"

    async def prepare(db: Database) -> None:
        await db.prepare(load_shipped_if_empty)

    with FakeBotApi() as fake:
        config = Settings(token=fake.token, api_base_url=fake.base_url, file_base_url=fake.file_base_url,
                          database_url=sqlite_url, quiet_hours="off", flood="off", http_port=None,
                          webhook_secret=secret, _env_file=None)
        stop = asyncio.Event()
        bot = asyncio.create_task(bot_app.serve(config, webhook_url="https://dxbot.example/hook", listen="127.0.0.1",
                                                port=port, prepare=prepare, stop=stop))
        url = f"http://127.0.0.1:{port}/hook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with httpx.AsyncClient(timeout=10) as client:
            async def post(body: object) -> int:
                try:
                    return (await client.post(url, json=body, headers=headers)).status_code
                except httpx.HTTPError:
                    return 0

            await until(lambda: _accepting(client, url, headers))
            assert await post(None) == 400 and await post([1]) == 400
            statuses = []
            for number in range(1, 121):
                update = {"update_id": 1000 + number, "message": {
                    "message_id": number, "date": 1_750_000_000, "text": "so y te hang may",
                    "chat": {"id": 5000 + number, "type": "private", "first_name": "Lan"},
                    "from": {"id": 5000 + number, "is_bot": False, "first_name": "Lan"}}}
                statuses.append(await post(update))
                if number == 40:
                    stop.set()
        started = time.monotonic()
        await asyncio.wait_for(bot, 30)
        assert time.monotonic() - started < 20
    accepted = {5000 + n for n, status in enumerate(statuses, start=1) if status == 200}
    answered = {c.params["chat_id"] for c in fake.calls if c.method == "sendMessage" and c.params["chat_id"] >= 5000}
    assert 40 <= len(accepted) < 120 and accepted == answered
    assert set(statuses) <= {200, 503, 0}


async def _accepting(client: httpx.AsyncClient, url: str, headers: dict) -> bool:
    """The webhook is up and the application running: an update without a message is taken."""
    try:
        return (await client.post(url, json={"update_id": 1}, headers=headers)).status_code == 200
    except httpx.HTTPError:
        return False
