"""The Telegram adapter's one wiring place: builds the python-telegram-bot Application, adds every handler family
in order (bot/handlers/), and runs the lifecycle around them (menus, the alert worker, link pruning).

Handlers only translate Telegram updates into dxcore.conversation events and its replies into Bot API calls; no SQL
and no wording live in bot/.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.alerts import TelegramSender
from bot.endpoints import Server, Webhook, web_application
from bot.handlers import buttons, chat_life, inline, publishing, questions
from bot.handlers.common import lang_of, update_kind
from bot.handlers.gate import gate
from bot.limits import BudgetLimiter, ChatOrderedProcessor, FloodControl
from bot.transport import BotApiWatch, ObservedRequest
from dxcore.alerts.delivery import DeliveryWorker, QuietHours
from dxcore.answering import answers as A
from dxcore.answering.formatting import LOCAL_TIME
from dxcore.answering.i18n import LANGUAGES, VI, msg, word
from dxcore.conversation.actions import FAMILIES, VERSION, ButtonSeal
from dxcore.conversation.core import Conversation
from dxcore.conversation.limits import (
    ALERT,
    REPLY,
    Cooldown,
    FloodGuard,
    FloodLimit,
    SendBudget,
)
from dxcore.observability.logs import FAILURES, configure_logging
from dxcore.settings import Settings
from dxcore.steps import bounded, unless_stopped
from dxcore.store import links as L
from dxcore.store.db import Database, masked_database_url
from dxcore.understanding.catalog import Catalog
from dxcore.version import VERSION as DXBOT_VERSION

log = logging.getLogger("dxbot")
TIMEZONE = LOCAL_TIME

# Menu order; descriptions come from the message catalog ("menu.<command>") in each language.
MENU = ("hang", "thongke", "top", "cuoi", "xeploai", "quyetdinh", "lichsu", "bieudo", "xuat", "dangky", "huydangky",
        "help")


def menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, msg(f"menu.{name}", unit=A.EXAMPLE_UNIT).render(lang)) for name in MENU]


def description(lang: str) -> str:
    return msg("bot.description", examples=", ".join(f"“{q}”" for q in A.HELP_EXAMPLES)).render(lang)


def _update_place(update: object) -> str:
    """Which update, by ids only: never its text or anyone's name."""
    if not isinstance(update, Update):
        return ""
    chat, user = update.effective_chat, update.effective_user
    return (f" (update {update.update_id}, {update_kind(update)}" + (f" in chat {chat.id}" if chat else "")
            + (f" from user {user.id}" if user else "") + ")")


def _outage_kind(error: BaseException | None) -> str | None:
    """Telegram unreachable (a network error, a timeout, a 5xx), as opposed to a request it refused (BadRequest is
    a NetworkError in PTB's classes, but sending it again fails the same way: a bug to see)."""
    return "bot_api" if isinstance(error, NetworkError) and not isinstance(error, BadRequest) else None


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    FAILURES.report(log, "handling an update" if update is not None else "a background task", context.error,
                    kind=_outage_kind(context.error), detail=_update_place(update))
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, word(msg("bot.error"), lang_of(update.effective_user)),
                                           parse_mode=None)
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)


def _polling_failed(error: TelegramError) -> None:
    FAILURES.report(log, "polling the Bot API for updates", error, kind=_outage_kind(error))


def start_background(application: Application) -> None:
    """What runs beside the handlers: the menus (once), the alert worker, and the pruning of old answer links."""
    application.create_task(register_menus(application), name="register_menus")
    start_delivery(application)
    if application.job_queue:
        application.job_queue.run_repeating(_forget_old_links, interval=3600, first=60)


async def _forget_old_links(context: ContextTypes.DEFAULT_TYPE) -> None:
    await context.application.bot_data["conversation"].forget_old_links()


def start_delivery(application: Application) -> None:
    """The outbox worker runs inside the bot: it sends alerts enqueued by any process (CLI, watch, replicas)."""
    settings: Settings = application.bot_data["settings"]
    worker = DeliveryWorker(application.bot_data["db"], TelegramSender(application.bot_data["alert_bot"]),
                            application.bot_data["catalog"], budget=application.bot_data["budget"],
                            quiet=QuietHours.parse(settings.quiet_hours), admins=settings.admin_ids)
    stop = asyncio.Event()
    # Not Application.create_task: PTB's stop() waits for those tasks, and this one ends only when stop_delivery
    # sets stop.
    task = asyncio.create_task(_deliver(application, worker, stop), name="delivery")
    application.bot_data["delivery"] = (stop, task)


RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds before the alert worker's next start after a failure


async def _deliver(application: Application, worker: DeliveryWorker, stop: asyncio.Event) -> None:
    """The alert worker, supervised: its start-up call (getMe) is retried and the worker restarted whenever it
    fails, with growing pauses, until the bot stops; a network blip never ends alerts for good."""
    failures = 0
    while not stop.is_set():
        try:
            await application.bot_data["alert_bot"].initialize()
            await worker.run(stop)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever ended it, alerts must go on
            delay = RESTART_DELAYS[min(failures, len(RESTART_DELAYS) - 1)]
            failures += 1
            FAILURES.report(log, "the alert worker", exc, kind=_outage_kind(exc),
                            detail=f" (starting it again in {delay} s)")
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass


async def stop_delivery(application: Application) -> None:
    delivery = application.bot_data.pop("delivery", None)
    if delivery:
        stop, task = delivery
        stop.set()
        await task  # the batch in flight finishes and is recorded
        await application.bot_data["alert_bot"].shutdown()


async def register_menus(application: Application) -> None:
    """The menus and descriptions, in Vietnamese; failing to set them must not stop the bot."""
    bot = application.bot
    admins = application.bot_data["settings"].admin_ids
    try:
        for lang in LANGUAGES:
            code = None if lang == VI else lang  # Vietnamese is the default for every other language
            commands = menu(lang)
            await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code=code)
            await bot.set_my_commands(commands, scope=BotCommandScopeAllGroupChats(), language_code=code)
            for admin in admins:  # admins publish by sending the decision file, which needs no command
                await bot.set_my_commands(commands, scope=BotCommandScopeChat(admin), language_code=code)
            await bot.set_my_description(description(lang), language_code=code)
            await bot.set_my_short_description(word(msg("bot.short_description"), lang), language_code=code)
    except TelegramError as exc:
        log.warning("could not set the command menus: %s", exc)


async def close_state(application: Application) -> None:
    """Write what is still pending and close the database (serve calls this at shutdown; tests call it)."""
    try:
        await application.bot_data["catalog"].close()
        await application.bot_data["links"].close()
    finally:
        await application.bot_data["db"].close()


class DxApplication(Application):
    """PTB's Application, stopping promptly: stop() waits for every update in progress, so document reads (a
    separate process each, up to 30 s) are ended first; their admins are told to send the file again."""

    async def stop(self) -> None:
        if conversation := self.bot_data.get("conversation"):
            conversation.interrupt_reads()
        await super().stop()


def build_application(settings: Settings, request: BaseRequest | None = None, *,
                      rate_limited: bool = True) -> Application:
    """``request`` replaces the HTTP transport (tests pass an in-process one). ``rate_limited=False`` lets replies
    go out unpaced, to measure processing alone (alerts stay paced)."""
    token = settings.token.get_secret_value() if settings.token else ""
    # One send budget for everything this process sends with the token: replies first, then alerts. Replicas
    # share Telegram's limit, so each takes its part of DXBOT_SEND_RATE (README: "Sending limits").
    budget = SendBudget(settings.send_rate / settings.replicas)
    limit = FloodLimit.parse(settings.flood)
    flood = FloodControl(FloodGuard(limit)) if limit is not None else None
    builder = (ApplicationBuilder().application_class(DxApplication)
               .concurrent_updates(ChatOrderedProcessor(flood=flood)))
    # Every Bot API call is observed: readiness needs to know when the Bot API last answered.
    watch = BotApiWatch()
    builder = builder.request(ObservedRequest(request or HTTPXRequest(connection_pool_size=256), watch))
    builder = builder.get_updates_request(ObservedRequest(request or HTTPXRequest(), watch))
    if rate_limited:
        builder = builder.rate_limiter(BudgetLimiter(budget, REPLY, max_retries=3))
    application = (
        builder
        .token(token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                           tzinfo=TIMEZONE))
        .build()
    )
    # Alerts go through a bot of their own (the worker starts and restarts it), on the same budget at alert
    # priority; a RetryAfter reaches the outbox at once, which schedules that alert again.
    alert_bot = ExtBot(token, base_url=settings.api_base_url, base_file_url=settings.file_base_url,
                       request=ObservedRequest(request or HTTPXRequest(), watch),
                       rate_limiter=BudgetLimiter(budget, ALERT, max_retries=0))
    db = Database(settings.effective_database_url)
    catalog, links = Catalog(), L.LinkRecorder(db)

    async def fetch_file(file_id: str) -> bytes:
        return bytes(await (await application.bot.get_file(file_id)).download_as_bytearray())

    conversation = Conversation(db, catalog, ButtonSeal.for_token(token), admins=settings.admin_ids, links=links,
                                fetch_file=fetch_file, messenger="tg", cooldown=Cooldown())
    application.bot_data.update(db=db, catalog=catalog, links=links, settings=settings, alert_bot=alert_bot,
                                conversation=conversation, budget=budget, flood=flood, watch=watch)

    application.add_handler(TypeHandler(Update, gate), group=-1)
    fresh, edited = filters.UpdateType.MESSAGE, filters.UpdateType.EDITED_MESSAGE
    application.add_handler(ChatMemberHandler(chat_life.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, chat_life.on_migrate))
    application.add_handler(MessageHandler(fresh & filters.Document.ALL & filters.ChatType.PRIVATE,
                                           publishing.on_document))
    application.add_handler(MessageHandler(fresh & filters.PHOTO & filters.ChatType.PRIVATE, publishing.on_photo))
    for family in FAMILIES:  # answers, subscriptions, publishing; the core checks each payload
        application.add_handler(CallbackQueryHandler(buttons.on_button, pattern=f"^{family}{VERSION}"))
    application.add_handler(CallbackQueryHandler(buttons.on_button))  # anything else: refused, with a toast
    application.add_handler(InlineQueryHandler(inline.on_inline_query))
    # Subscriptions (/dangky, /huydangky), /start, every other command and free text, new or edited: the core
    # tells them apart.
    application.add_handler(MessageHandler((fresh | edited) & filters.TEXT, questions.on_text))
    application.add_error_handler(on_error)
    return application


def _no_bootstrap_traceback(record: logging.LogRecord) -> bool:
    """PTB logs a failed start (Bot API unreachable, token refused) with a traceback; the CLI says it in one line."""
    if "Bootstrap" in record.getMessage():
        record.exc_info, record.exc_text = None, None
    return True


def run_bot(settings: Settings, *, webhook_url: str | None, listen: str, port: int,
            prepare: Callable[[Database], Awaitable[None]] | None = None) -> None:
    """Run until SIGINT or SIGTERM. ``prepare`` readies the store (waits for it, migrates, seeds) once the health
    endpoint answers."""
    configure_logging(settings.log_level, settings.log_format)
    logging.getLogger("telegram.ext").addFilter(_no_bootstrap_traceback)
    asyncio.run(serve(settings, webhook_url=webhook_url, listen=listen, port=port, prepare=prepare))


async def serve(settings: Settings, *, webhook_url: str | None = None, listen: str = "0.0.0.0", port: int = 8080,
                prepare: Callable[[Database], Awaitable[None]] | None = None, request: BaseRequest | None = None,
                stop: asyncio.Event | None = None) -> None:
    """The bot's whole life in this loop: the HTTP endpoints first (so that /healthz answers while the database is
    awaited), the store, the Bot API (getMe checks the token), updates by polling or by webhook, the background
    work; then, on SIGINT/SIGTERM or ``stop``, everything in reverse, the alerts in flight recorded."""
    webhook = None
    if webhook_url:
        if problem := settings.webhook_secret_problem():  # never serve updates anyone could post
            raise ValueError(problem)
        # A load balancer forwards the public path as it is.
        webhook = Webhook(urlsplit(webhook_url).path.strip("/"), settings.webhook_secret.get_secret_value())
    application = build_application(settings, request)
    db: Database = application.bot_data["db"]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stopper(stop))
    servers: list[Server] = []
    try:
        watch = None if webhook else application.bot_data["watch"]  # a webhook bot hears from Telegram by itself
        if webhook:
            servers.append(Server(web_application(db, watch=None, application=application, webhook=webhook))
                           .start(listen, port, "--listen, --port"))
        if settings.http_port is not None and not (webhook and settings.http_port == port):
            servers.append(Server(web_application(db, watch=watch))
                           .start(settings.http_listen, settings.http_port, "DXBOT_HTTP_LISTEN, DXBOT_HTTP_PORT"))
        if prepare is not None and not await unless_stopped(prepare(db), stop):
            return  # stopped while waiting for the database
        view = await application.bot_data["catalog"].current(db)
        log.info("dxbot %s starting: mode=%s, database=%s, http=%s, decisions=%d, units=%d, admins=%d, "
                 "bot api=%s", DXBOT_VERSION, "webhook" if webhook else "polling", masked_database_url(db.url),
                 ", ".join(server.address for server in servers) or "off",
                 len({r.decision.id for r in view.snapshot.rankings}), len(view.snapshot.units),
                 len(settings.admin_ids), settings.api_base_url)
        await application.initialize()  # getMe: the token and the base URL are checked here
        try:
            if webhook:
                await application.bot.set_webhook(webhook_url, secret_token=webhook.secret,
                                                  allowed_updates=Update.ALL_TYPES)
            else:
                await application.updater.start_polling(allowed_updates=Update.ALL_TYPES,
                                                        error_callback=_polling_failed)
            await application.start()
            start_background(application)
            log.info("dxbot is running as @%s", application.bot.username)
            await stop.wait()
            log.info("dxbot stopping")
        finally:
            # Nothing new comes in (webhook posts are refused, so Telegram keeps them), then the work in progress
            # ends: each step bounded and on its own, so that one failing or hanging never skips the others.
            await _stop_servers(servers)
            if application.updater and application.updater.running:
                await _step("stopping polling", application.updater.stop())
            if application.running:
                await _step("finishing the updates in progress", application.stop())
            await _step("recording the alerts in flight", stop_delivery(application))
            await _step("closing the Bot API connections", application.shutdown())
    finally:
        await _stop_servers(servers)
        await _step("closing the database", close_state(application))
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


STOP_STEP_SECONDS = 15.0  # each step of stopping; SIGTERM's sender (systemd, Docker) waits 30 s in all


def _stopper(stop: asyncio.Event) -> Callable[[], None]:
    """The first SIGTERM or SIGINT stops gracefully; a second one ends the process at once (the outbox requeues
    claims a stopped sender left)."""
    def on_signal() -> None:
        if stop.is_set():
            log.warning("a second stop signal: exiting now, without waiting for the work in progress")
            logging.shutdown()
            os._exit(1)
        stop.set()
    return on_signal


async def _step(what: str, work: Awaitable[object]) -> None:
    try:
        await bounded(work, STOP_STEP_SECONDS)
    except Exception as exc:  # noqa: BLE001 - stopping goes on with the next step
        FAILURES.report(log, what, exc, kind=_outage_kind(exc))


async def _stop_servers(servers: list[Server]) -> None:
    while servers:
        await _step("stopping the HTTP server", servers.pop().stop())
