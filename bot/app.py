"""The Telegram adapter's one wiring place: builds the python-telegram-bot Application, adds every handler family
in order (bot/handlers/), and runs the lifecycle around them (menus, the alert worker, link pruning).

Handlers only translate Telegram updates into dxcore.conversation events and its replies into Bot API calls; no SQL
and no wording live in bot/.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
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
from telegram.request import BaseRequest

from bot.alerts import TelegramSender
from bot.handlers import buttons, chat_life, inline, publishing, questions
from bot.handlers.common import lang_of
from bot.handlers.gate import gate
from bot.limits import BudgetLimiter, ChatOrderedProcessor, FloodControl
from dxcore.alerts.delivery import DeliveryWorker, QuietHours
from dxcore.answering import answers as A
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
from dxcore.settings import Settings
from dxcore.store import links as L
from dxcore.store.db import Database
from dxcore.understanding.catalog import Catalog

log = logging.getLogger("dxbot")
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

# Menu order; descriptions come from the message catalog ("menu.<command>") in each language.
MENU = ("hang", "thongke", "top", "cuoi", "xeploai", "quyetdinh", "lichsu", "bieudo", "xuat", "dangky", "huydangky",
        "help")


def menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, msg(f"menu.{name}", unit=A.EXAMPLE_UNIT).render(lang)) for name in MENU]


def description(lang: str) -> str:
    return msg("bot.description", examples=", ".join(f"“{q}”" for q in A.HELP_EXAMPLES)).render(lang)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update %s failed", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, word(msg("bot.error"), lang_of(update.effective_user)),
                                           parse_mode=None)
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)


async def _post_init(application: Application) -> None:
    # In the background: the first answer need not wait for five Bot API calls.
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
    # Not Application.create_task: PTB's stop() waits for those tasks, and this one ends only when post_stop sets stop.
    task = asyncio.create_task(_deliver(application, worker, stop), name="delivery")
    application.bot_data["delivery"] = (stop, task)


RESTART_DELAYS = (1, 2, 5, 10, 30)  # seconds before the alert worker's next start after a failure


async def _deliver(application: Application, worker: DeliveryWorker, stop: asyncio.Event) -> None:
    """The alert worker, supervised: its start-up call (getMe) is retried and the worker restarted with one log
    line whenever it fails, with growing pauses, until the bot stops; a network blip never ends alerts for good."""
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
            log.warning("alert worker stopped (%s: %s); starting it again in %s s", type(exc).__name__, exc, delay)
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass


async def _post_stop(application: Application) -> None:
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


async def _post_shutdown(application: Application) -> None:
    await close_state(application)


async def close_state(application: Application) -> None:
    """Write what is still pending and close the database (run_* calls this at shutdown; tests call it)."""
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
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limited:
        builder = builder.rate_limiter(BudgetLimiter(budget, REPLY, max_retries=3))
    application = (
        builder
        .token(token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                           tzinfo=TIMEZONE))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    # Alerts go through a bot of their own (the worker starts and restarts it), on the same budget at alert
    # priority; a RetryAfter reaches the outbox at once, which schedules that alert again.
    alert_bot = ExtBot(token, base_url=settings.api_base_url, base_file_url=settings.file_base_url, request=request,
                       rate_limiter=BudgetLimiter(budget, ALERT, max_retries=0))
    db = Database(settings.effective_database_url)
    catalog, links = Catalog(), L.LinkRecorder(db)

    async def fetch_file(file_id: str) -> bytes:
        return bytes(await (await application.bot.get_file(file_id)).download_as_bytearray())

    conversation = Conversation(db, catalog, ButtonSeal.for_token(token), admins=settings.admin_ids, links=links,
                                fetch_file=fetch_file, messenger="tg", cooldown=Cooldown())
    application.bot_data.update(db=db, catalog=catalog, links=links, settings=settings, alert_bot=alert_bot,
                                conversation=conversation, budget=budget, flood=flood)

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


def run_bot(settings: Settings, *, webhook_url: str | None, listen: str, port: int) -> None:
    """Run until SIGINT/SIGTERM (PTB stops cleanly on both). The caller has migrated and seeded the store."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("telegram.ext").addFilter(_no_bootstrap_traceback)
    application = build_application(settings)
    if webhook_url:
        if problem := settings.webhook_secret_problem():  # never serve updates anyone could post
            raise ValueError(problem)
        application.run_webhook(
            listen=listen, port=port, webhook_url=webhook_url,
            url_path=urlsplit(webhook_url).path.strip("/"),  # a load balancer forwards the public path as it is
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
