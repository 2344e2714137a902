"""The Telegram adapter: builds the python-telegram-bot Application and wires every handler in one place."""

from __future__ import annotations

import html
import logging
from zoneinfo import ZoneInfo

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.request import BaseRequest
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, CommandHandler, ContextTypes, Defaults

from dxcore.db import Database
from dxcore.formatting import format_date
from dxcore.levels import level_name
from dxcore.queries import list_decisions
from dxcore.settings import Settings

log = logging.getLogger("dxbot")
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

WELCOME = (
    "Xin chào! Tôi là <b>dxbot</b>: tra cứu kết quả đánh giá, xếp hạng Chuyển đổi số của các sở, ngành và "
    "quận, huyện.\n\nGõ /quyetdinh để xem các quyết định đã có."
)


def _db(context: ContextTypes.DEFAULT_TYPE) -> Database:
    return context.application.bot_data["db"]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await update.effective_message.reply_text(WELCOME)


async def decisions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not update.effective_message:
        return
    async with _db(context).session() as session:
        known = await list_decisions(session)
    if not known:
        await update.effective_message.reply_text("Chưa có quyết định nào.")
        return
    lines = ["<b>Các quyết định đã có</b>"]
    for d in known:
        levels = ", ".join(f"{level_name(code).lower()} ({rows} đơn vị)" for code, rows in d.levels)
        lines.append(
            f"• QĐ {html.escape(d.number)} ngày {format_date(d.signed_date)} của {html.escape(d.issuer)}: "
            f"kết quả năm {d.evaluated_year}; {html.escape(levels)}"
        )
    await update.effective_message.reply_text("\n".join(lines))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update %s failed", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message:
        await update.effective_message.reply_text("Xin lỗi, đã có lỗi khi xử lý yêu cầu. Vui lòng thử lại sau.")


async def _post_shutdown(application: Application) -> None:
    await application.bot_data["db"].close()


def build_application(settings: Settings, request: BaseRequest | None = None) -> Application:
    """``request`` replaces the HTTP transport (tests pass an in-process one)."""
    token = settings.token.get_secret_value() if settings.token else ""
    builder = ApplicationBuilder()
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = (
        builder
        .token(token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True),
                           tzinfo=TIMEZONE))
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["db"] = Database(settings.effective_database_url)
    application.add_handler(CommandHandler(["start", "help"], start))
    application.add_handler(CommandHandler("quyetdinh", decisions))
    application.add_error_handler(on_error)
    return application


def run_bot(settings: Settings, *, webhook_url: str | None, listen: str, port: int) -> None:
    """Run until SIGINT/SIGTERM (PTB stops cleanly on both). The caller has migrated and seeded the store."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = build_application(settings)
    if webhook_url:
        application.run_webhook(
            listen=listen, port=port, webhook_url=webhook_url,
            secret_token=settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
