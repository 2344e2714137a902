"""What every handler family shares: PTB updates → core events, and core replies → Bot API calls."""

from __future__ import annotations

import asyncio
import logging
import re
import struct

from telegram import InputFile, Message, ReplyParameters, Update, User
from telegram.constants import ChatType, MessageEntityType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.render import keyboard, render
from dxcore.answering.answers import Answer
from dxcore.answering.i18n import language_of, msg, word
from dxcore.conversation.core import Conversation
from dxcore.conversation.events import Outcome, Person, Place, Replace, Send, Toast

log = logging.getLogger("dxbot")
CAPTION_LIMIT = 1024
PHOTO_MAX_SIDE = 2560  # Telegram keeps photos at most this many pixels on the long side: taller ones get shrunk


def update_kind(update: Update) -> str:
    """What an update carries: "message", "callback_query", … (Telegram's field name)."""
    return next((kind for kind in Update.ALL_TYPES if getattr(update, kind, None) is not None), "other")


def core(context: ContextTypes.DEFAULT_TYPE) -> Conversation:
    return context.application.bot_data["conversation"]


def lang_of(user: User | None) -> str:
    return language_of(user.language_code if user else None)


def in_group(message: Message) -> bool:
    return message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def thread_of(message: Message) -> int:
    return message.message_thread_id if message.is_topic_message and message.message_thread_id else 0


def place_of(message: Message) -> Place:
    return Place(message.chat_id, message.chat.type, thread_of(message), message.chat.title)


def person_of(user: User | None, message: Message, context: ContextTypes.DEFAULT_TYPE) -> Person:
    """The user, with the chat-administrator check the core asks for when it matters (a Bot API call each time)."""

    async def may_administer() -> bool:
        if message.sender_chat and message.sender_chat.id == message.chat_id:
            return True  # an anonymous administrator
        if user is None:
            return False
        member = await context.bot.get_chat_member(message.chat_id, user.id)
        return member.status in ("administrator", "creator")

    return Person(user.id if user else None, lang_of(user), may_administer)


def addressed_text(message: Message | None, me: User) -> str | None:
    """What the message asks the bot, or None when it is not addressed to it. In groups (privacy mode) the bot sees
    commands, replies to itself and mentions: a command for another bot or an unaddressed message is not for it."""
    if message is None:
        return None
    text = message.text or ""
    if text.startswith("/"):
        target = text.split()[0].partition("@")[2].lower()
        return None if target and target != (me.username or "").lower() else text
    if not in_group(message):
        return text
    replied = message.reply_to_message and message.reply_to_message.from_user \
        and message.reply_to_message.from_user.id == me.id
    mention = f"@{me.username}".lower() if me.username else None
    mentioned = mention and any(
        message.parse_entity(e).lower() == mention for e in message.entities if e.type == MessageEntityType.MENTION
    )
    if not (replied or mentioned):
        return None
    return without_mention(text, me)


def without_mention(text: str, me: User) -> str:
    return re.sub(re.escape(f"@{me.username}"), " ", text, flags=re.IGNORECASE) if me.username else text


# --- carrying out replies ---------------------------------------------------------------------------------------


def _fits_as_photo(png: bytes) -> bool:
    """Whether a chart can go as a photo and stay legible: not so tall that Telegram scales it down (a ranking of
    a hundred communes would come out a few pixels per letter); such a chart goes as a file at full size."""
    width, height = struct.unpack(">II", png[16:24])  # the PNG header's IHDR chunk
    return max(width, height) <= PHOTO_MAX_SIDE


async def _send_files(anchor: Message, answer: Answer, lang: str, brief: bool, quote: bool) -> list[Message]:
    """An answer with files: each file with the answer's first part as its caption; longer text follows. A chart
    too tall for a photo goes as a document, which Telegram keeps as it is."""
    parts = render(answer, brief=brief, lang=lang, limit=CAPTION_LIMIT)
    sent = []
    for i, attachment in enumerate(answer.attachments):
        data = await asyncio.to_thread(attachment.draw, lang)  # drawing takes a moment: keep the loop free
        caption = parts[0] if i == 0 else None
        file = InputFile(data, filename=attachment.filename)
        if attachment.kind == "photo" and _fits_as_photo(data):
            sent.append(await anchor.reply_photo(file, caption=caption, do_quote=quote and i == 0))
        else:
            sent.append(await anchor.reply_document(file, caption=caption, do_quote=quote and i == 0))
    for part in parts[1:]:
        sent.append(await anchor.reply_text(part, do_quote=False))
    return sent


async def send(anchor: Message, answer: Answer, lang: str, *, brief: bool, quote: bool) -> list[Message]:
    """The answer as new messages next to ``anchor`` (quoting it when asked); buttons on the last part."""
    if answer.attachments:
        return await _send_files(anchor, answer, lang, brief, quote)
    parts = render(answer, brief=brief, lang=lang)
    sent = []
    for i, part in enumerate(parts):
        markup = keyboard(answer, lang) if i == len(parts) - 1 else None
        sent.append(await anchor.reply_text(part, reply_markup=markup, do_quote=quote and i == 0))
    return sent


async def _edit(context: ContextTypes.DEFAULT_TYPE, anchor: Message, earlier: tuple[int, ...], answer: Answer,
                lang: str, brief: bool) -> list[int]:
    """Rewrite the answer's messages in place; more parts are sent as replies, surplus old ones say so."""
    parts = render(answer, brief=brief, lang=lang)
    ids = []
    for i, part in enumerate(parts):
        markup = keyboard(answer, lang) if i == len(parts) - 1 else None
        if i < len(earlier):
            try:
                await context.bot.edit_message_text(part, anchor.chat_id, earlier[i], reply_markup=markup)
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
            ids.append(earlier[i])
        else:
            ids.append((await anchor.reply_text(part, reply_markup=markup, do_quote=False)).message_id)
    await _mark_superseded(context, anchor.chat_id, earlier[len(parts):], lang)
    return ids


async def _mark_superseded(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_ids: tuple[int, ...] | list[int],
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


async def _replace(context: ContextTypes.DEFAULT_TYPE, anchor: Message, reply: Replace, lang: str,
                   brief: bool) -> list[int]:
    if reply.message_ids and not reply.answer.attachments:
        try:
            return await _edit(context, anchor, reply.message_ids, reply.answer, lang, brief)
        except BadRequest as exc:  # the earlier answer was a photo or a file, or was deleted
            log.info("could not edit the answer in chat %s (%s): answering anew", anchor.chat_id, exc)
    ids = [m.message_id for m in await send(anchor, reply.answer, lang, brief=brief, quote=reply.quote)]
    await _mark_superseded(context, anchor.chat_id, reply.message_ids, lang)
    return ids


async def carry_out(context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, anchor: Message, lang: str) -> list[int]:
    """Every reply of the outcome, next to ``anchor`` (the user's message, or the message whose button was
    pressed); returns the ids of the messages that carry the answer. Toasts go through the press's acknowledgement."""
    ids: list[int] = []
    for reply in outcome.replies:
        if isinstance(reply, Send) and reply.reply_to:
            await context.bot.send_message(anchor.chat_id, render(reply.answer, lang=lang)[0],
                                           reply_parameters=ReplyParameters(reply.reply_to,
                                                                            allow_sending_without_reply=True),
                                           message_thread_id=thread_of(anchor) or None)
        elif isinstance(reply, Send):  # in groups every answer quotes what it answers
            sent = await send(anchor, reply.answer, lang, brief=outcome.brief, quote=reply.quote or in_group(anchor))
            ids += [m.message_id for m in sent]
        elif isinstance(reply, Replace):
            ids += await _replace(context, anchor, reply, lang, outcome.brief)
        elif not isinstance(reply, Toast):
            raise TypeError(f"unknown reply {reply!r}")
    return ids
