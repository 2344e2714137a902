"""The Telegram adapter: builds the python-telegram-bot Application and wires every handler in one place.

Handlers only translate: a Telegram update → a dxcore question (free text or a command) → an Answer → HTML messages,
files and buttons in the asker's language (bot/render.py). No SQL and no wording live here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import struct
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputFile,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.alerts import TelegramSender
from bot.render import keyboard, render
from dxcore.alerts import subscriptions as S
from dxcore.alerts.delivery import DeliveryWorker, QuietHours
from dxcore.answering import answers as A
from dxcore.answering.assistant import (
    answer_text,
    answer_unit,
    unit_answer,
    unit_history_answer,
)
from dxcore.answering.i18n import LANGUAGES, VI, Text, language_of, msg, word
from dxcore.answering.reports import unit_chart_answer
from dxcore.parsing import parse_bytes
from dxcore.parsing.readers import MAX_DOCUMENT_BYTES
from dxcore.publishing import publish as P
from dxcore.settings import Settings
from dxcore.store import links as L
from dxcore.store.db import Database
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import Catalog, CatalogView, record_pick
from dxcore.understanding.levels import LEVEL_ORDER

log = logging.getLogger("dxbot")
TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
REPEAT_WINDOW = timedelta(seconds=60)  # the same command in the same group within this gets a pointer, not an answer
CAPTION_LIMIT = 1024
INLINE_CACHE_SECONDS = 300
INLINE_RESULTS = 10

# Menu order; descriptions come from the message catalog ("menu.<command>") in each language.
MENU = ("hang", "thongke", "top", "cuoi", "xeploai", "quyetdinh", "lichsu", "bieudo", "xuat", "dangky", "huydangky",
        "help")


def menu(lang: str) -> list[BotCommand]:
    return [BotCommand(name, msg(f"menu.{name}", unit=A.EXAMPLE_UNIT).render(lang)) for name in MENU]


def description(lang: str) -> str:
    return msg("bot.description", examples=", ".join(f"“{q}”" for q in A.HELP_EXAMPLES)).render(lang)


def _db(context: ContextTypes.DEFAULT_TYPE) -> Database:
    return context.application.bot_data["db"]


def _catalog(context: ContextTypes.DEFAULT_TYPE) -> Catalog:
    return context.application.bot_data["catalog"]


def _links(context: ContextTypes.DEFAULT_TYPE) -> L.LinkRecorder:
    return context.application.bot_data["links"]


async def _view(context: ContextTypes.DEFAULT_TYPE) -> CatalogView:
    return await _catalog(context).current(_db(context))


def _lang(user: User | None) -> str:
    return language_of(user.language_code if user else None)


def _in_group(message: Message) -> bool:
    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


PHOTO_MAX_SIDE = 2560  # Telegram keeps photos at most this many pixels on the long side: taller ones get shrunk


def _fits_as_photo(png: bytes) -> bool:
    """Whether a chart can go as a photo and stay legible: not so tall that Telegram scales it down (a ranking of
    a hundred communes would come out a few pixels per letter); such a chart goes as a file at full size."""
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    return max(width, height) <= PHOTO_MAX_SIDE


async def _send_files(message: Message, answer: A.Answer, lang: str, quote: bool) -> list[Message]:
    """An answer with files: each file with the answer's first part as its caption; longer text follows. A chart
    too tall for a photo goes as a document, which Telegram keeps as it is."""
    parts = render(answer, brief=_in_group(message), lang=lang, limit=CAPTION_LIMIT)
    sent = []
    for i, attachment in enumerate(answer.attachments):
        data = await asyncio.to_thread(attachment.draw, lang)  # drawing takes a moment: keep the loop free
        caption = parts[0] if i == 0 else None
        file = InputFile(data, filename=attachment.filename)
        if attachment.kind == "photo" and _fits_as_photo(data):
            sent.append(await message.reply_photo(file, caption=caption, do_quote=quote and i == 0))
        else:
            sent.append(await message.reply_document(file, caption=caption, do_quote=quote and i == 0))
    for part in parts[1:]:
        sent.append(await message.reply_text(part, do_quote=False))
    return sent


async def _send(message: Message, answer: A.Answer, lang: str) -> list[Message]:
    """Reply with the answer: in groups quoting the question and in short form; buttons on the last part.

    Choices of a unit quote the question in private chats too: Telegram then hands the question back with the
    tapped button (reply_to_message), which is how the pick teaches the resolver without keeping any state.
    """
    group = _in_group(message)
    quote = group or any(c.payload.startswith("p:") for c in answer.choices)
    if answer.attachments:
        return await _send_files(message, answer, lang, quote)
    parts = render(answer, brief=group, lang=lang)
    sent = []
    for i, part in enumerate(parts):
        markup = keyboard(answer, lang) if i == len(parts) - 1 else None
        sent.append(await message.reply_text(part, reply_markup=markup, do_quote=quote and i == 0))
    return sent


async def _reply_text(message: Message, text: Text, lang: str, **kwargs) -> Message:
    return await message.reply_text(word(text, lang), parse_mode=None, **kwargs)


# --- questions: commands and free text, new or edited -----------------------------------------------------------


def _question_text(message: Message, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """What the message asks the bot, or None when it is not addressed to it. In groups (privacy mode) the bot sees
    commands, replies to itself and mentions: a command for another bot or an unaddressed message is not for it."""
    text = message.text or ""
    me = context.bot
    if text.startswith("/"):
        target = text.split()[0].partition("@")[2].lower()
        return None if target and target != (me.username or "").lower() else text
    if not _in_group(message):
        return text
    replied = message.reply_to_message and message.reply_to_message.from_user \
        and message.reply_to_message.from_user.id == me.id
    mention = f"@{me.username}".lower() if me.username else None
    mentioned = mention and any(
        message.parse_entity(e).lower() == mention for e in message.entities if e.type == MessageEntityType.MENTION
    )
    if not (replied or mentioned):
        return None
    return re.sub(re.escape(mention), " ", text, flags=re.IGNORECASE) if mention else text


def _asked(message: Message, question: str) -> str:
    """The question as links remember it: per forum topic, and "/top@thisbot 3" the same as "/top 3"."""
    command, args = I.split_command(question)
    return f"{_thread(message)}|" + (f"/{command} {args}" if command else question)


async def on_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A new question (command or text). In a group the same command within a minute points to the first answer."""
    message, lang = update.effective_message, _lang(update.effective_user)
    if (question := _question_text(message, context)) is None:
        return
    links = _links(context)
    if _in_group(message) and question.startswith("/"):
        if earlier := await links.recent_answer(message.chat_id, _asked(message, question), REPEAT_WINDOW):
            await context.bot.send_message(message.chat_id, word(msg("bot.repeat"), lang), parse_mode=None,
                                           reply_parameters=ReplyParameters(earlier, allow_sending_without_reply=True),
                                           message_thread_id=_thread(message) or None)
            return
    answer = answer_text(await _view(context), question, chat_id=message.chat_id)
    if answer is None:  # a command that is not a question and has no handler of its own
        if not _in_group(message) or "@" in question.split()[0]:  # a bare "/x" in a group may be another bot's
            await _reply_text(message, msg("bot.unknown_command"), lang, do_quote=_in_group(message))
        return
    sent = await _send(message, answer, lang)
    links.add(message.chat_id, message.message_id, _asked(message, question), [m.message_id for m in sent])


async def on_edited_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited question edits the bot's earlier answer (found through the database, so after a restart or on
    another replica too); a question the bot never answered is answered now. An edited command that asks nothing
    (/dangky, /start, …) is not carried out again."""
    message, lang = update.edited_message, _lang(update.effective_user)
    if (question := _question_text(message, context)) is None:
        return
    answer = answer_text(await _view(context), question, chat_id=message.chat_id)
    if answer is None:
        return
    links = _links(context)
    earlier = await links.answer_to(message.chat_id, message.message_id)
    ids = None
    if earlier and not answer.attachments:
        try:
            ids = await _edit_answer(context, message, earlier, answer, lang)
        except BadRequest as exc:  # the earlier answer was a photo or a file, or was deleted
            log.info("could not edit the answer to %s in chat %s (%s): answering anew", message.message_id,
                     message.chat_id, exc)
    if ids is None:
        ids = [m.message_id for m in await _send(message, answer, lang)]
        await _mark_superseded(context, message.chat_id, earlier or [], lang)
    links.add(message.chat_id, message.message_id, _asked(message, question), ids)


async def _edit_answer(context: ContextTypes.DEFAULT_TYPE, message: Message, earlier: list[int], answer: A.Answer,
                       lang: str) -> list[int]:
    """Rewrite the answer's messages in place; more parts are sent as replies, surplus old ones say so."""
    parts = render(answer, brief=_in_group(message), lang=lang)
    ids = []
    for i, part in enumerate(parts):
        markup = keyboard(answer, lang) if i == len(parts) - 1 else None
        if i < len(earlier):
            try:
                await context.bot.edit_message_text(part, message.chat_id, earlier[i], reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
            ids.append(earlier[i])
        else:
            ids.append((await message.reply_text(part, reply_markup=markup, do_quote=False)).message_id)
    await _mark_superseded(context, message.chat_id, earlier[len(parts):], lang)
    return ids


async def _mark_superseded(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_ids: list[int],
                           lang: str) -> None:
    """Earlier answer messages that no longer answer anything say so (a text, or a photo's or file's caption)."""
    note = word(msg("bot.superseded"), lang)
    for message_id in message_ids:
        try:
            await context.bot.edit_message_text(note, chat_id, message_id, parse_mode=None)
        except BadRequest:
            try:
                await context.bot.edit_message_caption(chat_id, message_id, caption=note, parse_mode=None)
            except BadRequest:
                log.info("answer %s in chat %s could not be marked as superseded", message_id, chat_id)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    lang = _lang(update.effective_user)
    payload = context.args[0] if context.args else ""
    if m := re.fullmatch(r"u_(\d+)(?:_(\d{4}))?", payload):  # deep link to a unit's answer
        year = int(m.group(2)) if m.group(2) else None
        await _send(message, await answer_unit(_db(context), _catalog(context), int(m.group(1)), year), lang)
        return
    if payload.startswith("q_") and (question := _decode_question(payload[2:])):  # deep link from an inline card
        answer = answer_text(await _view(context), question, chat_id=message.chat_id)
        if answer is not None:
            await _send(message, answer, lang)
            return
    await _send(message, A.Answer("help", msg("bot.welcome"), choices=A.help_answer().choices), lang)


# --- inline mode ------------------------------------------------------------------------------------------------

START_PAYLOAD_LIMIT = 64  # Telegram's limit on a /start parameter, from [A-Za-z0-9_-]


def _encode_question(question: str) -> str | None:
    encoded = "q_" + base64.urlsafe_b64encode(question.encode()).decode().rstrip("=")
    return encoded if len(encoded) <= START_PAYLOAD_LIMIT else None


def _decode_question(encoded: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _deep_link(context: ContextTypes.DEFAULT_TYPE, payload: str | None) -> str | None:
    return f"https://t.me/{context.bot.username}?start={payload}" if payload and context.bot.username else None


def _card(context: ContextTypes.DEFAULT_TYPE, card_id: str, answer: A.Answer, payload: str | None,
          lang: str) -> InlineQueryResultArticle:
    """A forwardable card: the short answer with its source, and a button to the full answer in a private chat."""
    link = _deep_link(context, payload)
    brief = render(answer, brief=True, lang=lang)[0]
    sections = [word(s.lines[0], lang) for s in answer.sections if s.lines]
    return InlineQueryResultArticle(
        id=card_id, title=word(answer.title, lang)[:200], description="; ".join(sections)[:200] or None,
        input_message_content=InputTextMessageContent(brief, parse_mode=ParseMode.HTML),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(word(msg("inline.open"), lang), url=link)]])
        if link else None,
    )


def inline_cards(context: ContextTypes.DEFAULT_TYPE, view: CatalogView, query: str,
                 lang: str) -> list[InlineQueryResultArticle]:
    """Up to 10 cards: a unit's result (or each plausible unit's), the summary, a top list — what the text asks."""
    query = query.strip()
    questions = [query] if query else list(A.HELP_EXAMPLES)
    cards: list[InlineQueryResultArticle] = []
    for question in questions:
        answer = answer_text(view, question)
        if answer is None or answer.attachments:
            continue
        if answer.kind in ("ambiguous", "not_found"):  # one card per candidate unit
            for choice in answer.choices:
                unit_id = int(choice.payload.split(":")[1])
                cards.append(_card(context, f"u{unit_id}", unit_answer(view, unit_id),
                                   f"u_{unit_id}", lang))
            continue
        unit = answer.kind == "unit" and view.resolver.resolve(question).unit
        year = I.parse_intent(question).year
        payload = (f"u_{unit.id}" + (f"_{year}" if year else "")) if unit else _encode_question(question)
        cards.append(_card(context, f"{answer.kind}:{len(cards)}", answer, payload, lang))
    return cards[:INLINE_RESULTS]


async def on_inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    inline = update.inline_query
    lang = _lang(inline.from_user)
    cards = inline_cards(context, await _view(context), inline.query, lang)
    start_button = InlineQueryResultsButton(word(msg("inline.start"), lang), start_parameter="inline")
    # Personal: cards are worded in the asker's language, which a shared cache would hand to everyone.
    await inline.answer(cards, cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=start_button)


# --- buttons ----------------------------------------------------------------------------------------------------


def _question_of(message: Message | None) -> str | None:
    """The question a button's message answered, as Telegram includes it in the reply."""
    asked = message.reply_to_message if message else None
    if asked is None or not asked.text:
        return None
    return I.split_command(asked.text)[1]


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()  # at once: the spinner on the user's button stops
    data = query.data or ""
    lang = _lang(query.from_user)
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    if data.startswith("q:"):
        answer = answer_text(await _view(context), data[2:], chat_id=message.chat_id)
        if answer is not None:
            await _send(message, answer, lang)
        return
    if data.startswith(("pub:", "cxl:")):
        await _publish_button(query, message, data, context)
        return
    if data.startswith(("s:", "h:")):
        await _subscription_button(query, message, data, context)
        return
    if m := re.fullmatch(r"([yc]):(\d+)", data):  # a unit picked for /lichsu or /bieudo
        view = await _view(context)
        if int(m.group(2)) in view.snapshot.units:
            make = unit_history_answer if m.group(1) == "y" else unit_chart_answer
            await _send(message, make(view, int(m.group(2))), lang)
        return
    m = re.fullmatch(r"([up]):(\d+)(?::(\d{4}))?", data)
    if not m:
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
    parts = render(answer, brief=_in_group(message), lang=lang)
    await query.edit_message_text(parts[0], reply_markup=keyboard(answer, lang) if len(parts) == 1 else None)
    for i, part in enumerate(parts[1:], start=2):
        await message.reply_text(part, reply_markup=keyboard(answer, lang) if i == len(parts) else None)


# --- subscriptions --------------------------------------------------------------------------------------------


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
    return sorted({r.level for r in view.snapshot.rankings}, key=lambda lv: LEVEL_ORDER.get(lv, 99))


async def _subscribe(message: Message, context: ContextTypes.DEFAULT_TYPE, target: S.Target, silent: bool,
                     user_id: int | None, lang: str) -> A.Answer:
    view = await _catalog(context).current(_db(context))
    async with _db(context).session() as session, session.begin():
        # Alerts are written in the language of whoever subscribed the chat last.
        await S.ensure_chat(session, message.chat_id, message.chat.type, message.chat.title, language=lang)
        created = await S.subscribe(session, message.chat_id, target, thread_id=_thread(message), silent=silent,
                                    user_id=user_id)
    unit = view.snapshot.units.get(target.unit_id)
    return A.subscribed_answer(A.follow_label(target.scope, target.level, unit.name if unit else None), created, silent)


async def _change_request(update: Update, context: ContextTypes.DEFAULT_TYPE, *, removing: bool):
    """What /dangky and /huydangky share: no argument lists the chat's subscriptions (with buttons); in groups only
    administrators may go further. Returns (message, user id, language, what the argument names), or None when
    answered."""
    message = update.effective_message
    user_id = update.effective_user.id if update.effective_user else None
    lang = _lang(update.effective_user)
    args = " ".join(context.args or [])
    if not args:
        levels = [] if removing else await _levels(context)
        await _send(message, A.subscriptions_answer(await _follows(message, context), removing=removing,
                                                    levels=levels), lang)
        return None
    if not await _may_change_subscriptions(message, user_id, context):
        await _send(message, A.not_allowed_answer(), lang)
        return None
    view = await _catalog(context).current(_db(context))
    return message, user_id, lang, args, S.parse_target(args, view.resolver, set(await _levels(context)))


async def subscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = await _change_request(update, context, removing=False)
    if request is None:
        return
    message, user_id, lang, args, choice = request
    if choice.target is not None:
        await _send(message, await _subscribe(message, context, choice.target, choice.silent, user_id, lang), lang)
        return
    answer = A.ambiguous_answer(args, choice.candidates, None) if choice.candidates else \
        A.not_found_answer(args, (), None)
    answer.choices = [A.Choice(c.unit.name, f"s:u:{c.unit.id}" + (":q" if choice.silent else ""))
                      for c in choice.candidates[:5]]
    await _send(message, answer, lang)


async def unsubscribe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = await _change_request(update, context, removing=True)
    if request is None:
        return
    message, _, lang, _, choice = request
    if choice.target is None:
        await _send(message, A.unsubscribed_answer(None, 0), lang)
        return
    target = None if choice.target.scope == S.ALL else choice.target  # "tatca": every subscription goes
    async with _db(context).session() as session, session.begin():
        removed = await S.unsubscribe(session, message.chat_id, target, thread_id=_thread(message))
    view = await _catalog(context).current(_db(context))
    unit = view.snapshot.units.get(choice.target.unit_id)
    label = None if target is None else A.follow_label(target.scope, target.level, unit.name if unit else None)
    await _send(message, A.unsubscribed_answer(label, removed), lang)


async def _subscription_button(query, message: Message, data: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = query.from_user.id if query.from_user else None
    lang = _lang(query.from_user)
    if not await _may_change_subscriptions(message, user_id, context):
        await _send(message, A.not_allowed_answer(), lang)
        return
    if data.startswith("h:"):
        async with _db(context).session() as session, session.begin():
            removed = await S.remove_by_id(session, message.chat_id, int(data[2:]))
        await _send(message, A.unsubscribed_answer(None, removed), lang)
        return
    parts = data.split(":")
    if parts[1] == "all":
        target = S.Target(S.ALL)
    elif parts[1] == "l":
        target = S.Target(S.LEVEL, level=parts[2])
    else:
        target = S.Target(S.UNIT, unit_id=int(parts[2]))
    await _send(message, await _subscribe(message, context, target, parts[-1] == "q", user_id, lang), lang)


# --- publishing -------------------------------------------------------------------------------------------------

PARSE_SECONDS = 30  # an uploaded document is untrusted: reading it gets this long at most


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
    lang = _lang(update.effective_user)
    if not _is_admin(context, user_id):
        await _reply_text(message, msg("publish.not_admin"), lang)
        return
    document = message.document
    if document.file_size and document.file_size > MAX_DOCUMENT_BYTES:
        await _reply_text(message, msg("publish.too_large", megabytes=MAX_DOCUMENT_BYTES // 2**20), lang)
        return
    name = document.file_name or "quyet-dinh"
    outcome = await _read_upload(context, document.file_id, name)
    if outcome is None:
        await _reply_text(message, msg("publish.too_slow", seconds=PARSE_SECONDS), lang)
        return
    if not outcome.ok:
        errors: list[Text] = [e.render(lang) for e in outcome.errors]
        shown = errors[:20] + ([msg("publish.more_errors", count=len(errors) - 20)] if len(errors) > 20 else [])
        await _send(message, A.Answer("invalid", msg("publish.invalid"), [A.Section(None, shown)]), lang)
        return
    async with _db(context).session() as session, session.begin():
        # The admin's chat, in the admin's language: the publish receipt is written in it.
        await S.ensure_chat(session, message.chat_id, message.chat.type, language=lang)
        status = await P.preview_status(session, outcome.decision)
        alerts = await P.audience_of_parsed(session, outcome.decision)
        pending_id = await P.hold_for_publish(session, outcome.decision, user_id=user_id, chat_id=message.chat_id,
                                              file_id=document.file_id, file_name=name)
    answer = A.preview_answer(outcome.decision, [w.render(lang) for w in outcome.warnings], alerts, status)
    if status not in ("conflict", "published"):
        answer.choices = [A.Choice(msg("publish.publish"), f"pub:{pending_id}"),
                          A.Choice(msg("publish.cancel"), f"cxl:{pending_id}")]
    await _send(message, answer, lang)


async def _publish_button(query, message: Message, data: str, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = query.from_user.id if query.from_user else None
    lang = _lang(query.from_user)

    async def say(text: Text) -> None:
        await query.edit_message_text(word(text, lang), parse_mode=None)

    if not _is_admin(context, user_id):  # checked again: the button may be tapped by someone else
        await _reply_text(message, msg("publish.not_admin"), lang)
        return
    action, pending_id = data.split(":")
    db = _db(context)
    async with db.session() as session, session.begin():
        pending = await P.take_held(session, int(pending_id))
    if pending is None:
        await say(msg("publish.handled"))
        return
    if action == "cxl":
        await say(msg("publish.cancelled"))
        return
    outcome = await _read_upload(context, pending.file_id, pending.file_name)
    if outcome is None or not outcome.ok or outcome.decision.content_hash() != pending.content_hash:
        await say(msg("publish.reread_failed"))
        return
    async with db.session() as session, session.begin():
        published = await P.store_and_publish(session, outcome.decision, actor=f"tg:{user_id}")
    if published is None:
        await say(msg("publish.conflict"))
        return
    _catalog(context).invalidate()
    await say(msg("publish.done", alerts=published.alerts) if published.published else msg("publish.already"))


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
            await context.bot.send_message(update.effective_chat.id, word(msg("bot.error"), _lang(update.effective_user)),
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
    async with _db(context).session() as session, session.begin():
        await L.forget_old(session)


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
        await application.bot_data["links"].close()
    finally:
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
    db = Database(settings.effective_database_url)
    application.bot_data.update(db=db, catalog=Catalog(), links=L.LinkRecorder(db), settings=settings,
                                alert_bot=alert_bot)
    fresh = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", start, filters=fresh))
    application.add_handler(CommandHandler("dangky", subscribe_command, filters=fresh))
    application.add_handler(CommandHandler("huydangky", unsubscribe_command, filters=fresh))
    application.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(fresh & filters.Document.ALL & filters.ChatType.PRIVATE, on_document))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate))
    # Every other command and text: questions (new, or edited to ask something else).
    application.add_handler(MessageHandler(fresh & filters.TEXT, on_question))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, on_edited_question))
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
