"""Telegram's side of dxcore.conversation.limits: the rate limiter that puts every message the bot sends through the
process's one SendBudget, the update processor that runs different chats concurrently and each chat in order, and
flood control decided when an update arrives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Hashable
from datetime import timedelta
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

from bot.handlers.common import addressed_text
from dxcore.conversation.limits import REPLY, FloodGuard, SendBudget, Verdict

log = logging.getLogger("dxbot.limits")

# Bot API methods that put a message in a chat (or change one): these count against the budget. Everything else
# (getMe, getUpdates, answerCallbackQuery, answerInlineQuery, getFile, getChatMember, setMyCommands, ...) does not.
SENDS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendAnimation", "sendVoice",
    "sendVideoNote", "sendMediaGroup", "sendPaidMedia", "sendLocation", "sendVenue", "sendContact", "sendPoll",
    "sendDice", "sendSticker", "sendInvoice", "sendGame", "copyMessage", "copyMessages", "forwardMessage",
    "forwardMessages", "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
    "editMessageLiveLocation", "stopMessageLiveLocation", "stopPoll",
})


def seconds_of(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def group_of(chat_id: object) -> Hashable | None:
    """Telegram's ids: groups and channels are negative (or an @username); private chats are positive."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    return chat_id if isinstance(chat_id, int) and chat_id < 0 else None


class BudgetLimiter(BaseRateLimiter[int]):
    """Paces an ExtBot's sends through a SendBudget at one priority (``rate_limit_args`` may give another). On
    "retry after" the whole budget pauses (Telegram's flood limits are per token) and the call is made again, up to
    ``max_retries`` times; then RetryAfter reaches the caller (the alert sender records it and retries later)."""

    def __init__(self, budget: SendBudget, priority: int = REPLY, *, max_retries: int = 3) -> None:
        self.budget, self.priority, self.max_retries = budget, priority, max_retries

    async def initialize(self) -> None:
        """Nothing: the budget belongs to the process, not to one bot."""

    async def shutdown(self) -> None:
        """Nothing: the budget belongs to the process, not to one bot."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        counted = endpoint in SENDS
        priority = self.priority if rate_limit_args is None else rate_limit_args
        attempt = 0
        while True:
            if counted:
                await self.budget.acquire(priority, group=group_of(data.get("chat_id")))
            else:
                await self.budget.unpaused()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = seconds_of(exc.retry_after)
                self.budget.pause(seconds)
                if attempt >= self.max_retries:
                    raise
                attempt += 1
                log.info("Telegram asked to wait %.1f s (%s); every send waits, then %s is sent again",
                         seconds, endpoint, endpoint)


def chat_key(update: object) -> Hashable | None:
    """Whose updates must be handled in order: a chat's (messages, edits, button presses, membership changes), or
    a user's where there is no chat (inline queries, presses on inline cards). None: no order to keep."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently (up to ``running`` at a time), each chat's one after another in
    the order they arrived: a chat whose answer waits for the send budget or for its group's window holds up no
    other chat. A chat's lock exists only while it has updates in flight. An update that flood control drops
    skips the queue: it does nothing, so it needs no turn."""

    PENDING = 10_000  # PTB's own bound: updates waiting for their chat's turn count against it too

    def __init__(self, running: int = 64, flood: FloodControl | None = None) -> None:
        super().__init__(self.PENDING)
        self.flood = flood
        self._running = asyncio.BoundedSemaphore(running)
        self._chats: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}  # lock, updates in flight

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    async def do_process_update(self, update: object, coroutine: Any) -> None:
        verdict = Verdict.ADMIT
        if self.flood is not None:
            try:
                verdict = self.flood.arrive(update)
            except Exception:  # noqa: BLE001 - the update is still handled; the gate judges it again
                log.exception("flood control could not judge update %s", getattr(update, "update_id", "?"))
        key = chat_key(update)
        try:
            if key is None or verdict is Verdict.DROP:
                async with self._running:
                    await coroutine
                return
            lock, users = self._chats.setdefault(key, (asyncio.Lock(), [0]))
            users[0] += 1
            try:
                async with lock, self._running:
                    await coroutine
            finally:
                users[0] -= 1
                if not users[0]:
                    del self._chats[key]
        finally:
            if self.flood is not None:
                self.flood.forget(update)

    @property
    def chats_in_flight(self) -> int:
        return len(self._chats)


class FloodControl:
    """DXBOT_FLOOD over Telegram updates. What counts is what a user addresses to the bot: messages in private,
    commands, mentions and replies to it in groups, and button presses (not inline queries, which clients send as
    the user types, nor group chatter the bot is not asked about). The verdict is taken when the update arrives,
    so a backlog behind a slow answer counts as what the user sent; the gate acts on it."""

    def __init__(self, guard: FloodGuard) -> None:
        self.guard = guard
        self._verdicts: dict[int, Verdict] = {}

    def arrive(self, update: object) -> Verdict:
        verdict = self.judge(update)
        if isinstance(update, Update):
            self._verdicts[update.update_id] = verdict
        return verdict

    def take(self, update: Update) -> Verdict:
        """The verdict taken on arrival, or one taken now (updates handed straight to process_update)."""
        verdict = self._verdicts.pop(update.update_id, None)
        return verdict if verdict is not None else self.judge(update)

    def forget(self, update: object) -> None:
        if isinstance(update, Update):
            self._verdicts.pop(update.update_id, None)

    def judge(self, update: object) -> Verdict:
        user = self._asker(update)
        return Verdict.ADMIT if user is None else self.guard.check(user)

    @staticmethod
    def _asker(update: object) -> int | None:
        if not isinstance(update, Update):
            return None
        if update.callback_query is not None:
            return update.callback_query.from_user.id
        message: Message | None = update.message or update.edited_message
        if message is None or message.from_user is None or message.from_user.is_bot:
            return None
        if message.chat.type == ChatType.PRIVATE:
            return message.from_user.id
        if message.text is not None and addressed_text(message, message.get_bot()) is not None:
            return message.from_user.id
        return None
