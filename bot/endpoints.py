"""The bot's HTTP endpoints: /healthz, /readyz and /metrics on DXBOT_HTTP_LISTEN:DXBOT_HTTP_PORT, and in webhook
mode the webhook on the same kind of server (tornado, which python-telegram-bot's webhooks extra brings).

Probes are not logged; a server error is."""

from __future__ import annotations

import hmac
import json
import logging
import re
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from bot.transport import BotApiWatch
from dxcore.observability import metrics
from dxcore.observability.health import readiness, refresh_outbox_gauge
from dxcore.store.db import Database

log = logging.getLogger("dxbot.http")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1 << 20  # a webhook update is a few kilobytes; anything this large is not Telegram's


@dataclass(frozen=True)
class Webhook:
    path: str  # the URL path Telegram posts to, as the load balancer forwards it ("" for /)
    secret: str


class _Probe(RequestHandler):
    def initialize(self, db: Database, watch: BotApiWatch | None) -> None:
        self.db, self.watch = db, watch


class Healthz(_Probe):
    def get(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.write("ok\n")


class Readyz(_Probe):
    async def get(self) -> None:
        state = await readiness(self.db, bot_api_silence=self.watch.silence() if self.watch else None)
        self.set_status(200 if state.ready else 503)
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps(state.to_json(), ensure_ascii=False))


class Metrics(_Probe):
    async def get(self) -> None:
        await refresh_outbox_gauge(self.db)
        body, content_type = metrics.exposition()
        self.set_header("Content-Type", content_type)
        self.write(body)


class WebhookHandler(RequestHandler):
    """Telegram's webhook calls: the secret header checked first (403 otherwise), then the update queued."""

    def initialize(self, telegram: Application, secret: str) -> None:
        self.telegram, self.secret = telegram, secret.encode()

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            self.set_status(403)
            return
        if not self.telegram.running:  # starting or stopping: Telegram delivers it again later
            self.set_status(503)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.telegram.bot)
        except Exception:  # noqa: BLE001 - whatever the body is, it is not an update: refused, nothing logged
            self.set_status(400)
            return
        await self.telegram.update_queue.put(update)


PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def _log_request(handler: RequestHandler) -> None:
    if handler.request.path in PROBES:
        return
    status = handler.get_status()  # the path only: a query string is nobody's business here
    log.log(logging.ERROR if status >= 500 else logging.DEBUG, "HTTP %s %s answered %d", handler.request.method,
            handler.request.path, status)


def web_application(db: Database, *, watch: BotApiWatch | None, application: Application | None = None,
                    webhook: Webhook | None = None) -> WebApplication:
    probe = {"db": db, "watch": watch}
    routes: list = [("/healthz", Healthz, probe), ("/readyz", Readyz, probe), ("/metrics", Metrics, probe)]
    if webhook is not None:
        routes.append((f"/{re.escape(webhook.path)}", WebhookHandler, {"telegram": application, "secret": webhook.secret}))
    return WebApplication(routes, log_function=_log_request)


class ListenError(OSError):
    """The HTTP server could not bind its address (in use, not an address of this host, …)."""


class Server:
    """A tornado HTTP server on the running loop, bound at ``start`` (port 0: any free port; ``port`` says which)."""

    def __init__(self, app: WebApplication) -> None:
        self.http = HTTPServer(app, max_body_size=MAX_UPDATE_BYTES)
        self.port: int | None = None
        self.address = ""  # "host:port", once bound

    def start(self, listen: str, port: int, configured_by: str) -> Server:
        """``configured_by`` names the settings that chose the address, for the error."""
        try:
            sockets = bind_sockets(port, listen)
        except OSError as exc:
            raise ListenError(f"cannot listen on {listen}:{port} ({configured_by}): {exc.strerror or exc}") from exc
        self.http.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        self.address = f"{listen}:{self.port}"
        return self

    async def stop(self) -> None:
        self.http.stop()
        await self.http.close_all_connections()
