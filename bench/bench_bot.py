"""The bot's speed: answered updates per second through Application.process_update (an in-process Bot API that
answers every call as Telegram would, without the tests' validation), side by side with a bare echo bot in the same
run; the same with the answer cache off, and with the metrics replaced by no-ops and logging at WARNING (what
observability costs); cold start of `dxbot run` to its first answer, and its resident memory.

Run: .venv/bin/python bench/bench_bot.py [--updates 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import itertools
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "true")

from prometheus_client.metrics import MetricWrapperBase  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters  # noqa: E402

from bot import transport  # noqa: E402
from bot.app import build_application, close_state  # noqa: E402
from bot.handlers import gate  # noqa: E402
from dxcore.observability import metrics  # noqa: E402
from dxcore.observability.logs import configure_logging  # noqa: E402
from dxcore.settings import Settings  # noqa: E402
from dxcore.store.db import Database  # noqa: E402
from dxcore.store.decisions import load_shipped_if_empty  # noqa: E402
from tests.fakebot import FakeBotApi  # noqa: E402
from tests.inprocess import InProcessTelegram  # noqa: E402

QUESTIONS = ["so y te hang may", "thống kê cấp sở", "top 3 cấp huyện", "Sở TT&TT", "ninh kieu xep loai gi",
             "những đơn vị cấp sở xếp loại khá", "Sở KH", "2 đơn vị cuối cấp huyện"]


class AnsweringTelegram(InProcessTelegram):
    """Sends are answered with the message Telegram would return, without the tests' strict validation (parsing
    every message's HTML into entities): that is the fake's work, not the bot's, and weighs more on long answers
    than on an echo. Every other call goes to the strict fake."""

    _SENDS = frozenset({"sendMessage", "editMessageText"})

    def __init__(self) -> None:
        super().__init__()
        self._ids = itertools.count(1)
        self.answered = 0

    async def do_request(self, url: str, method: str, request_data=None, **kwargs) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if api_method not in self._SENDS or request_data is None:
            return await super().do_request(url, method, request_data, **kwargs)
        params = request_data.parameters
        self.answered += 1
        message = {"message_id": next(self._ids), "date": 1_750_000_000, "text": params["text"],
                   "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Lan"},
                   "from": {"id": 777000, "is_bot": True, "first_name": "dxbot"}}
        return 200, json.dumps({"ok": True, "result": message}).encode()


async def _throughput(application: Application, transport: AnsweringTelegram, updates: int) -> float:
    """Answered updates per second (an update that got no answer does not count)."""
    batch = [transport.message(4242, QUESTIONS[i % len(QUESTIONS)]) for i in range(updates)]
    await application.initialize()
    try:
        for update in batch[:20]:  # warm caches (resolver index, SQL statement cache)
            await application.process_update(Update.de_json(update, application.bot))
        answered, started = 0, time.perf_counter()
        for update in batch:
            before = transport.answered
            await application.process_update(Update.de_json(update, application.bot))
            answered += transport.answered > before
        rate = answered / (time.perf_counter() - started)
        transport.assert_no_unexpected_rejections()  # a refused call would time PTB's error path, not an answer
        return rate
    finally:
        await application.shutdown()


async def seeded_bot(folder: str) -> tuple[Application, AnsweringTelegram]:
    """dxbot on a fresh SQLite database in ``folder`` holding the shipped decision, on the in-process Bot API,
    without the limiter that holds sends to Telegram's 30/s: benchmarks measure the work per update."""
    url = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
    db = Database(url)
    await db.prepare(load_shipped_if_empty)
    await db.close()
    transport = AnsweringTelegram()
    settings = Settings(token="123:abc", database_url=url, _env_file=None, flood="off")
    return build_application(settings, transport, rate_limited=False), transport


class _NoMetric:
    """A metric that records nothing: what the real ones cost is measured against it."""

    def labels(self, *_labels: str) -> _NoMetric:
        return self

    def inc(self, *_amount: float) -> None:
        pass

    set = observe = inc

    def time(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()


@contextlib.contextmanager
def observability_off() -> Iterator[None]:
    """For the length of the block: every dxbot_ metric a no-op, the Bot API transport not observed (its replies
    not inspected), nothing kept private (the update's strings not noted), and logging at WARNING."""
    instruments = {name: value for name, value in vars(metrics).items() if isinstance(value, MetricWrapperBase)}
    for name in instruments:
        setattr(metrics, name, _NoMetric())
    observed, private = transport.ObservedRequest.do_request, gate.keep_private

    async def unobserved(self, *args, **kwargs):
        return await self.inner.do_request(*args, **kwargs)

    transport.ObservedRequest.do_request, gate.keep_private = unobserved, lambda *_texts: None
    configure_logging("WARNING", "text", io.StringIO())
    try:
        yield
    finally:
        for name, value in instruments.items():
            setattr(metrics, name, value)
        transport.ObservedRequest.do_request, gate.keep_private = observed, private
        configure_logging("INFO", "text", io.StringIO())


async def throughput(updates: int) -> tuple[float, ...]:
    """(dxbot, dxbot without the answer cache, echo, and the first two again without metrics and logging) answered
    updates per second; dxbot logs at INFO (into memory) meanwhile, as `dxbot run` does by default."""
    rates = []
    configure_logging("INFO", "text", io.StringIO())
    for cached, observed in ((True, True), (False, True), (True, False), (False, False)):
        with tempfile.TemporaryDirectory() as tmp, contextlib.nullcontext() if observed else observability_off():
            dxbot, transport = await seeded_bot(tmp)
            if not cached:
                dxbot.bot_data["conversation"].answers.size = 0
            rates.append(await _throughput(dxbot, transport, updates))
            await close_state(dxbot)

    echo_transport = AnsweringTelegram()
    echo = ApplicationBuilder().token("123:abc").request(echo_transport).get_updates_request(echo_transport).build()

    async def reply(update: Update, _context) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    echo.add_handler(MessageHandler(filters.TEXT, reply))
    return rates[0], rates[1], await _throughput(echo, echo_transport, updates), rates[2], rates[3]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(state_dir: Path) -> tuple[float, float]:
    """Seconds from starting `dxbot run` to its first answer (a question already waiting), and RSS then."""
    with FakeBotApi() as fake:
        env = {**os.environ, "HOME": str(state_dir), "DXBOT_STATE_DIR": str(state_dir), "DXBOT_HTTP_PORT": "0",
               **fake.env()}
        fake.push_message(4242, "so y te hang may")
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=state_dir, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            fake.wait_for(lambda c: c.method == "sendMessage" and "17/20" in str(c.params.get("text")), timeout=60)
            elapsed = time.perf_counter() - started
            rss = _rss_mib(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    return elapsed, rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="each variant's best of this many runs")
    args = parser.parse_args()
    # Alternate the two a few times and keep each one's best: this machine's speed drifts between runs.
    rounds = [asyncio.run(throughput(args.updates)) for _ in range(args.rounds)]
    ours, uncached, echo, unobserved, uncached_unobserved = (max(r[i] for r in rounds) for i in range(5))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}, {date.today().isoformat()}")
    print(f"answered updates/s through process_update: dxbot {ours:,.0f} (answer cache off: {uncached:,.0f}), "
          f"echo {echo:,.0f}, ratio {ours / echo:.2f} ({uncached / echo:.2f} without the cache)")
    print(f"metrics and logging: dxbot {ours:,.0f} with them, {unobserved:,.0f} without (no-op metrics, logging at "
          f"WARNING): they cost {100 * (1 - ours / unobserved):.1f}% of answer throughput; answer cache off "
          f"{uncached:,.0f} vs {uncached_unobserved:,.0f}: {100 * (1 - uncached / uncached_unobserved):.1f}%")
    with tempfile.TemporaryDirectory() as tmp:
        first, rss_first = cold_start(Path(tmp))  # empty state: migrations and seeding happen first
        again, rss_again = cold_start(Path(tmp))
    print(f"cold start to first answer: {first:.2f} s on an empty state dir (migrate + load the seed), "
          f"{again:.2f} s with the database in place; RSS {rss_first:.0f} / {rss_again:.0f} MiB")


if __name__ == "__main__":
    main()
