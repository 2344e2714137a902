"""The Bot API transport, observed: when the Bot API last answered (readiness), what failed (metrics), and a base
URL that answers something other than the Bot API said as such rather than as a refused token."""

from __future__ import annotations

import logging
import time

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from dxcore.observability import metrics
from dxcore.observability.logs import FAILURES

log = logging.getLogger("dxbot.telegram")


class NotBotApi(NetworkError):
    """The base URL answered, below 500, but not as a Bot API server does (a proxy's 404 page, another service).
    At start the CLI names the URL; while running it is retried like any network error."""


class BotApiWatch:
    """When the Bot API last answered (monotonic seconds), for readiness."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last_answer: float | None = None

    def silence(self) -> float:
        """Seconds since the Bot API last answered (since the watch began, if it never did)."""
        return time.monotonic() - (self.last_answer if self.last_answer is not None else self.started)


def _speaks_bot_api(payload: bytes) -> bool:
    """Every Bot API reply, success or error, is a JSON object with "ok"."""
    return payload.lstrip()[:1] == b"{" and b'"ok"' in payload


class ObservedRequest(BaseRequest):
    """Wraps any BaseRequest (PTB's HTTPXRequest, or a test's transport)."""

    def __init__(self, inner: BaseRequest, watch: BotApiWatch) -> None:
        self.inner, self.watch = inner, watch

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, **timeouts) -> tuple[
            int, bytes]:
        try:
            code, payload = await self.inner.do_request(url, method, request_data, **timeouts)
        except Exception:
            metrics.BOT_API_ERRORS.labels("network").inc()
            raise
        if code >= 500:  # a gateway's error page too: the server is away for now, PTB retries
            metrics.BOT_API_ERRORS.labels("server").inc()
            return code, payload
        if method == "POST" and not _speaks_bot_api(payload):  # GET: a file download, any bytes
            metrics.BOT_API_ERRORS.labels("not_bot_api").inc()
            kind = (payload.lstrip()[:60] or b"an empty body").decode("utf-8", "replace")
            raise NotBotApi(f"{url.rsplit('/', 1)[-1]} was answered with HTTP {code} and {kind!r}, "
                            "not with a Bot API reply")
        if code < 300:  # the Bot API did what was asked: it is there (a 409 Conflict or a refusal is not that)
            self.watch.last_answer = time.monotonic()
            FAILURES.recovered(log, "bot_api")
        return code, payload
