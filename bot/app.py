"""The Telegram adapter: builds the python-telegram-bot Application and wires every handler in one place.

Handlers only translate: a Telegram update → a dxcore question (free text or a command's intent) → an Answer →
HTML messages and buttons (bot/render.py). No SQL and no wording live here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.alerts import TelegramSender
from bot.render import keyboard, render
from dxcore import answers as A
from dxcore import intents as I
from dxcore import subscriptions as S
from dxcore.assistant import answer_unit, ask
from dxcore.db import Database
from dxcore.delivery import DeliveryWorker, QuietHours
from dxcore.index import Catalog, record_pick
from dxcore import publishing as P
from dxcore.parsing import parse_bytes
from dxcore.parsing.readers import MAX_DOCUMENT_BYTES
from dxcore.queries import unit_history
from dxcore.settings import Settings

log = logging.getLogger("dxbot")
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
REPEAT_WINDOW = 60.0  # seconds in which the same command in the same group gets no second full answer

WELCOME = (
    "Xin chào! Tôi tra cứu kết quả đánh giá, xếp hạng Chuyển đổi số của các sở, ban, ngành và quận, huyện: "
    "thứ hạng, tỷ lệ, xếp loại, thống kê và danh sách. Hỏi bằng tiếng Việt, có dấu hay không dấu đều được. "
    "Bấm thử một ví dụ:"
)
ERROR_TEXT = "Xin lỗi, đã có lỗi khi trả lời. Bạn thử lại sau ít phút nhé."
UNKNOWN_COMMAND = "Không có lệnh này. Gõ /help để xem các lệnh và cách hỏi."

PRIVATE_COMMANDS = [
    BotCommand("hang", f"Kết quả của một đơn vị: /hang {A.EXAMPLE_UNIT}"),
    BotCommand("thongke", "Thống kê xếp loại: /thongke [cấp] [năm]"),
    BotCommand("top", "Đơn vị dẫn đầu: /top [số] [cấp]"),
    BotCommand("cuoi", "Đơn vị cuối bảng: /cuoi [số] [cấp]"),
    BotCommand("xeploai", "Các đơn vị theo xếp loại: /xeploai khá [cấp]"),
    BotCommand("quyetdinh", "Các quyết định đã có"),
    BotCommand("lichsu", f"Kết quả một đơn vị qua các năm: /lichsu {A.EXAMPLE_UNIT}"),
    BotCommand("dangky", "Nhận thông báo khi có quyết định mới"),
    BotCommand("huydangky", "Bỏ đăng ký nhận thông báo"),
    BotCommand("help", "Hướng dẫn"),
]
GROUP_COMMANDS = [c for c in PRIVATE_COMMANDS if c.command != "help"] + [BotCommand("help", "Hướng dẫn")]
ADMIN_COMMANDS = PRIVATE_COMMANDS  # admins publish by sending the decision file, which needs no command
DESCRIPTION = (
    "Tra cứu kết quả đánh giá, xếp hạng Chuyển đổi số của các cơ quan, đơn vị: hỏi "
    + ", ".join(f"“{q}”" for q in A.HELP_EXAMPLES)
    + ". Kết quả lấy từ quyết định công bố của UBND, có trích dẫn nguồn."
)
SHORT_DESCRIPTION = "Tra cứu xếp hạng Chuyển đổi số các sở, ngành, quận, huyện."


def _db(context: ContextTypes.DEFAULT_TYPE) -> Database:
    return context.application.bot_data["db"]


def _catalog(context: ContextTypes.DEFAULT_TYPE) -> Catalog:
    return context.application.bot_data["catalog"]


def _in_group(message: Message) -> bool:
    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def _send(message: Message, answer: A.Answer) -> Message:
    """Reply with the answer: in groups quoting the question and in short form; buttons on the last part.

    Choices of a unit quote the question in private chats too: Telegram then hands the question back with the
    tapped button (reply_to_message), which is how the pick teaches the resolver without keeping any state.
    """
    group = _in_group(message)
    quote = group or any(c.payload.startswith("p:") for c in answer.choices)
    parts = render(answer, brief=group)
    sent = message
    for i, part in enumerate(parts):
        markup = keyboard(answer) if i == len(parts) - 1 else None
        sent = await message.reply_text(part, reply_markup=markup, do_quote=quote and i == 0)
    return sent


# --- commands ---------------------------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    payload = context.args[0] if context.args else ""
    if m := re.fullmatch(r"u_(\d+)(?:_(\d{4}))?", payload):  # deep link to a unit's answer
        year = int(m.group(2)) if m.group(2) else None
        await _send(message, await answer_unit(_db(context), _catalog(context), int(m.group(1)), year))
        return
    help_answer = A.help_answer()
    await _send(message, A.Answer("help", WELCOME, choices=help_answer.choices))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _send(update.effective_message, A.help_answer())


def _repeated(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Message | None:
    """In a group, the earlier answer to the very same command if it was given moments ago."""
    if not _in_group(message):
        return None
    recent: dict[tuple[int, str], tuple[float, Message]] = context.application.bot_data.setdefault("recent", {})
    key = (message.chat_id, " ".join(message.text.lower().split()))
    now = time.monotonic()
    for stale in [k for k, (at, _) in recent.items() if now - at > REPEAT_WINDOW]:
        del recent[stale]
    earlier = recent.get(key)
    return earlier[1] if earlier else None


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    name = message.text.split()[0].lstrip("/").split("@")[0].lower()
    if earlier := _repeated(context, message):
        await earlier.reply_text("↑ Câu trả lời vừa gửi ở trên.", do_quote=True)
        return
    intent = I.command_intent(name, " ".join(context.args or []))
    answer = await ask(_db(context), _catalog(context), intent, chat_id=message.chat_id)
    sent = await _send(message, answer)
    if _in_group(message):
        key = (message.chat_id, " ".join(message.text.lower().split()))
        context.application.bot_data["recent"][key] = (time.monotonic(), sent)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    target = message.text.split()[0].partition("@")[2].lower()
    if target and target != (context.bot.username or "").lower():
        return  # "/x@otherbot" is for another bot
    if not _in_group(message) or target:  # in a group, a bare "/x" may be another bot's command
        await message.reply_text(UNKNOWN_COMMAND, do_quote=_in_group(message))


# --- free text --------------------------------------------------------------------------------------------------


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    await _send(message, await ask(_db(context), _catalog(context), message.text, chat_id=message.chat_id))


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups (privacy mode) the bot sees replies to itself and mentions: answer those, without the mention."""
    message = update.effective_message
    me = context.bot
    replied = message.reply_to_message and message.reply_to_message.from_user \
        and message.reply_to_message.from_user.id == me.id
    mention = f"@{me.username}".lower() if me.username else None
    mentioned = mention and any(
        message.parse_entity(e).lower() == mention for e in message.entities if e.type == MessageEntityType.MENTION
    )
    if not (replied or mentioned):
        return
    text = re.sub(re.escape(mention), " ", message.text, flags=re.IGNORECASE) if mention else message.text
    await _send(message, await ask(_db(context), _catalog(context), text, chat_id=message.chat_id))


# --- buttons ----------------------------------------------------------------------------------------------------


def _question_of(message: Message | None) -> str | None:
    """The question a button's message answered, as Telegram includes it in the reply."""
    asked = message.reply_to_message if message else None
    if asked is None or not asked.text:
        return None
    return re.sub(r"^/\w+(?:@\w+)?\s*", "", asked.text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()  # at once: the spinner on the user's button stops
    data = query.data or ""
    message = query.message if isinstance(query.message, Message) else None
    if data.startswith("q:") and message:
        await _send(message, await ask(_db(context), _catalog(context), data[2:], chat_id=message.chat_id))
        return
    if data.startswith(("pub:", "cxl:")) and message:
        await _publish_button(query, message, data, context)
        return
    if data.startswith(("s:", "h:")) and message:
        await _subscription_button(query, message, data, context)
        return
    if data.startswith("y:") and message:
        view = await _catalog(context).current(_db(context))
        unit = view.snapshot.units.get(int(data[2:]))
        if unit:
            await _send(message, A.history_answer(unit.name, unit.level, unit_history(view.snapshot, unit.id)))
        return
    m = re.fullmatch(r"([up]):(\d+)(?::(\d{4}))?", data)
    if not m or message is None:
        return
    unit_id, year = int(m.group(2)), int(m.group(3)) if m.group(3) else None
    answer = await answer_unit(_db(context), _catalog(context), unit_id, year)
    question = _question_of(message)
    if m.group(1) == "p" and question:
        db = _db(context)
        async with db.session() as session, session.begin():
            resolver = (await _catalog(context).get(session)).resolver
            await record_pick(session, resolver, question, unit_id, chat_id=message.chat_id,
                              user_id=query.from_user.id if query.from_user else None)
        _catalog(context).invalidate()  # this process at once; other replicas within their check interval
    parts = render(answer, brief=_in_group(message))
    await query.edit_message_text(parts[0], reply_markup=keyboard(answer) if len(parts) == 1 else None)
    for i, part in enumerate(parts[1:], start=2):
        await message.reply_text(part, reply_markup=keyboard(answer) if i == len(parts) else None)


# --- subscriptions and history ----------------------------------------------------------------------------------


def _thread(message: Message) -> int:
    return message.message_thread_id if message.is_topic_message and message.message_thread_id else 0


async def _may_change_subscriptions(message: Message, user_id: int | None, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In groups only chat administrators may; checked with Telegram every time."""
    if not _in_group(message):
        return True
    if message.sender_chat and message.sender_chat.id == message.chat_id:
        return True  # an anonymous administrator
    if user_id is None:
        return False
    member = await context.bot.get_chat_member(message.chat_id, user_id)
    return member.status in ("administrator", "creator")


async def _follows(message: Message, context: ContextTypes.DEFAULT_TYPE) -> list[tuple]:
    view = await _catalog(context).current(_db(context))
    async with _db(context).session() as session:
        subs = await S.subscriptions_of(session, message.chat_id, _thread(message))
    names = {u.id: u.name for u in view.snapshot.units.values()}
    return [(s.id, s.scope, s.level, names.get(s.unit_id), s.silent) for s in subs]


async def _levels(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    view = await _catalog(context).current(_db(context))
    return sorted({r.level for r in view.snapshot.rankings}, key=lambda lv: list(I._COMMAND_LEVELS).index(lv)
                  if lv in I._COMMAND_LEVELS else 99)


async def _subscribe(message: Message, context: ContextTypes.DEFAULT_TYPE, target: S.Target, silent: bool,
                     user_id: int | None) -> A.Answer:
    view = await _catalog(context).current(_db(context))
    async with _db(context).session() as session, session.begin():
        await S.ensure_chat(session, message.chat_id, message.chat.type, message.chat.title)
        created = await S.subscribe(session, message.chat_id, target, thread_id=_thread(message), silent=silent,
                                    user_id=user_id)
    unit = view.snapshot.units.get(target.unit_id)
    return A.subscribed_answer(A.follow_label(target.scope, target.level, unit.name if unit else None), created, silent)


async def _change_request(update: Update, context: ContextTypes.DEFAULT_TYPE, *, removing: bool):
    """What /dangky and /huydangky share: no argument lists the chat's subscriptions (with buttons); in groups only
    administrators may go further. Returns (message, user id, what the argument names), or None when answered."""
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    args = " ".join(context.args or [])
    if not args:
        levels = [] if removing else await _levels(context)
        await _send(message, A.subscriptions_answer(await _follows(message, context), removing=removing,
                                                    levels=levels))
        return None
    if not await _may_change_subscriptions(message, user_id, context):
        await _send(message, A.not_allowed_answer())
        return None
    view = await _catalog(context).current(_db(context))
    return message, user_id, args, S.parse_target(args, view.resolver, set(await _levels(context)))


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = await _change_request(update, context, removing=False)
    if request is None:
        return
    message, user_id, args, choice = request
    if choice.target is not None:
        await _send(message, await _subscribe(message, context, choice.target, choice.silent, user_id))
        return
    answer = A.ambiguous_answer(args, choice.candidates, None) if choice.candidates else \
        A.not_found_answer(args, (), None)
    answer.choices = [A.Choice(c.unit.name, f"s:u:{c.unit.id}" + (":q" if choice.silent else ""))
                      for c in choice.candidates[:5]]
    await _send(message, answer)


async def unsubscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = await _change_request(update, context, removing=True)
    if request is None:
        return
    message, _, _, choice = request
    if choice.target is None:
        await _send(message, A.unsubscribed_answer(None, 0))
        return
    target = None if choice.target.scope == S.ALL else choice.target  # "tatca": every subscription goes
    async with _db(context).session() as session, session.begin():
        removed = await S.unsubscribe(session, message.chat_id, target, thread_id=_thread(message))
    view = await _catalog(context).current(_db(context))
    unit = view.snapshot.units.get(choice.target.unit_id)
    label = None if target is None else A.follow_label(target.scope, target.level, unit.name if unit else None)
    await _send(message, A.unsubscribed_answer(label, removed))


async def history_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    args = " ".join(context.args or [])
    if not args:
        await _send(message, A.usage_answer("lichsu"))
        return
    view = await _catalog(context).current(_db(context))
    resolution = view.resolver.resolve(args, chat_id=message.chat_id)
    if resolution.unit is None:
        answer = A.ambiguous_answer(args, resolution.candidates, None) if resolution.candidates and \
            resolution.status == "ambiguous" else A.not_found_answer(args, resolution.candidates, None)
        answer.choices = [A.Choice(c.label, "y:" + c.payload.split(":")[1]) for c in answer.choices]
        await _send(message, answer)
        return
    unit = view.snapshot.units[resolution.unit.id]
    await _send(message, A.history_answer(unit.name, unit.level, unit_history(view.snapshot, unit.id)))


async def _subscription_button(query, message: Message, data: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = query.from_user.id if query.from_user else None
    if not await _may_change_subscriptions(message, user_id, context):
        await _send(message, A.not_allowed_answer())
        return
    if data.startswith("h:"):
        async with _db(context).session() as session, session.begin():
            removed = await S.remove_by_id(session, message.chat_id, int(data[2:]))
        await _send(message, A.unsubscribed_answer(None, removed))
        return
    parts = data.split(":")
    if parts[1] == "all":
        target = S.Target(S.ALL)
    elif parts[1] == "l":
        target = S.Target(S.LEVEL, level=parts[2])
    else:
        target = S.Target(S.UNIT, unit_id=int(parts[2]))
    await _send(message, await _subscribe(message, context, target, parts[-1] == "q", user_id))


# --- publishing -------------------------------------------------------------------------------------------------

PARSE_SECONDS = 30  # an uploaded document is untrusted: reading it gets this long at most
NOT_ADMIN = "Xin lỗi, chỉ quản trị viên của bot mới được công bố quyết định."


def _is_admin(context: ContextTypes.DEFAULT_TYPE, user_id: int | None) -> bool:
    return user_id is not None and user_id in context.application.bot_data["settings"].admin_ids


async def _read_upload(context: ContextTypes.DEFAULT_TYPE, file_id: str, name: str):
    """Download and parse an uploaded decision, size-capped and time-limited; None when it was refused."""
    data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
    try:
        return await asyncio.wait_for(asyncio.to_thread(parse_bytes, data, name), timeout=PARSE_SECONDS)
    except TimeoutError:
        return None


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    if not _is_admin(context, user_id):
        await message.reply_text(NOT_ADMIN)
        return
    document = message.document
    if document.file_size and document.file_size > MAX_DOCUMENT_BYTES:
        await message.reply_text(f"Tệp lớn hơn {MAX_DOCUMENT_BYTES // 2**20} MB, không phải một quyết định.")
        return
    name = document.file_name or "quyet-dinh"
    outcome = await _read_upload(context, document.file_id, name)
    if outcome is None:
        await message.reply_text(f"Đọc tệp quá {PARSE_SECONDS} giây nên đã dừng; tệp không được lưu.")
        return
    if not outcome.ok:
        errors = [str(e) for e in outcome.errors]
        shown = errors[:20] + ([f"… và {len(errors) - 20} lỗi khác."] if len(errors) > 20 else [])
        await _send(message, A.Answer("invalid", "Quyết định chưa hợp lệ, chưa lưu gì. Các lỗi:",
                                      [A.Section(None, shown)]))
        return
    async with _db(context).session() as session, session.begin():
        status = await P.preview_status(session, outcome.decision)
        alerts = await P.audience_of_parsed(session, outcome.decision)
        pending_id = await P.hold_for_publish(session, outcome.decision, user_id=user_id, chat_id=message.chat_id,
                                              file_id=document.file_id, file_name=name)
    answer = A.preview_answer(outcome.decision, [str(w) for w in outcome.warnings], alerts, status)
    if status not in ("conflict", "published"):
        answer.choices = [A.Choice("Công bố", f"pub:{pending_id}"), A.Choice("Hủy", f"cxl:{pending_id}")]
    await _send(message, answer)


async def _publish_button(query, message: Message, data: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = query.from_user.id if query.from_user else None
    if not _is_admin(context, user_id):  # checked again: the button may be tapped by someone else
        await message.reply_text(NOT_ADMIN)
        return
    action, pending_id = data.split(":")
    db = _db(context)
    async with db.session() as session, session.begin():
        pending = await P.take_held(session, int(pending_id))
    if pending is None:
        await query.edit_message_text("Bản xem trước này đã được xử lý.")
        return
    if action == "cxl":
        await query.edit_message_text("Đã hủy. Không có gì được lưu.")
        return
    outcome = await _read_upload(context, pending.file_id, pending.file_name)
    if outcome is None or not outcome.ok or outcome.decision.content_hash() != pending.content_hash:
        await query.edit_message_text("Không đọc lại được tệp như lúc xem trước; không công bố.")
        return
    async with db.session() as session, session.begin():
        published = await P.store_and_publish(session, outcome.decision, actor=f"tg:{user_id}")
    if published is None:
        await query.edit_message_text("Đã có quyết định cùng số với nội dung khác; không công bố.")
        return
    _catalog(context).invalidate()
    text = (f"Đã công bố. {published.alerts} thông báo đang được gửi." if published.published
            else "Quyết định này đã được công bố trước đây; không gửi lại.")
    await query.edit_message_text(text)


# --- chat life --------------------------------------------------------------------------------------------------


async def on_migrate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group upgraded to a supergroup gets a new id: what the bot keeps per chat moves with it."""
    message = update.effective_message
    if message.migrate_to_chat_id:
        db = _db(context)
        async with db.session() as session, session.begin():
            await S.migrate_chat(session, message.chat_id, message.migrate_to_chat_id)
        _catalog(context).invalidate()


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Blocked, removed, or added again: keep the chat's status current so alerts go only where they can."""
    change = update.my_chat_member
    chat = change.chat
    gone = change.new_chat_member.status in ("kicked", "left")
    async with _db(context).session() as session, session.begin():
        await S.ensure_chat(session, chat.id, chat.type, chat.title)
        if gone:
            await S.set_active(session, chat.id, False)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("update %s failed", update, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        try:
            await context.bot.send_message(update.effective_chat.id, ERROR_TEXT)
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)


async def _post_init(application: Application) -> None:
    # In the background: the first answer need not wait for five Bot API calls.
    application.create_task(register_menus(application), name="register_menus")
    start_delivery(application)


def start_delivery(application: Application) -> None:
    """The outbox worker runs inside the bot: it sends alerts enqueued by any process (CLI, watch, replicas)."""
    settings: Settings = application.bot_data["settings"]
    worker = DeliveryWorker(application.bot_data["db"], TelegramSender(application.bot_data["alert_bot"]),
                            application.bot_data["catalog"], rate=settings.send_rate,
                            quiet=QuietHours.parse(settings.quiet_hours), admins=settings.admin_ids)
    stop = asyncio.Event()
    application.bot_data["delivery"] = (stop, asyncio.create_task(_deliver(application, worker, stop)))


async def _deliver(application: Application, worker: DeliveryWorker, stop: asyncio.Event) -> None:
    await application.bot_data["alert_bot"].initialize()
    await worker.run(stop)


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
        await bot.set_my_commands(PRIVATE_COMMANDS, scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands(GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats())
        for admin in admins:
            await bot.set_my_commands(ADMIN_COMMANDS, scope=BotCommandScopeChat(admin))
        await bot.set_my_description(DESCRIPTION)
        await bot.set_my_short_description(SHORT_DESCRIPTION)
    except TelegramError as exc:
        log.warning("could not set the command menus: %s", exc)


async def _post_shutdown(application: Application) -> None:
    await application.bot_data["db"].close()


def build_application(settings: Settings, request: BaseRequest | None = None, *,
                      rate_limited: bool = True) -> Application:
    """``request`` replaces the HTTP transport (tests pass an in-process one). ``rate_limited=False`` drops the
    limiter that keeps sends under Telegram's 30 per second, to measure processing alone."""
    token = settings.token.get_secret_value() if settings.token else ""
    builder = ApplicationBuilder()
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limited:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
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
    # Alerts go through a bot of their own, without PTB's limiter: the delivery worker paces them.
    alert_bot = Bot(token, base_url=settings.api_base_url, base_file_url=settings.file_base_url,
                    request=request)
    application.bot_data.update(db=Database(settings.effective_database_url), catalog=Catalog(),
                                settings=settings, recent={}, alert_bot=alert_bot)
    fresh = filters.UpdateType.MESSAGE  # edited messages are not new questions
    application.add_handler(CommandHandler("start", start, filters=fresh))
    application.add_handler(CommandHandler("help", help_command, filters=fresh))
    application.add_handler(CommandHandler([c for c in I.COMMANDS if c != "help"], command, filters=fresh))
    application.add_handler(CommandHandler("dangky", subscribe_command, filters=fresh))
    application.add_handler(CommandHandler("huydangky", unsubscribe_command, filters=fresh))
    application.add_handler(CommandHandler("lichsu", history_command, filters=fresh))
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(fresh & filters.Document.ALL & filters.ChatType.PRIVATE, on_document))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    application.add_handler(MessageHandler(fresh & filters.COMMAND, unknown_command))
    text = fresh & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, private_text))
    application.add_handler(MessageHandler(text & filters.ChatType.GROUPS, group_text))
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
