"""What happens in a chat (events in) and what to do about it (replies out), with no messenger's types.

An adapter (Telegram, the CLI shell, a second messenger) turns its updates into these events, hands them to
dxcore.conversation.Conversation, and carries out the replies it gets back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dxcore.alerts.subscriptions import LOCAL  # noqa: F401 - the shell's chat kind, for adapters
from dxcore.answering.answers import Answer
from dxcore.answering.i18n import VI, Text

PRIVATE, GROUP, SUPERGROUP = "private", "group", "supergroup"
LOCAL_CHAT = 0  # the CLI shell's one chat (kind LOCAL): no messenger uses 0, and alerts never go to it


async def _nobody() -> bool:
    return False


@dataclass(frozen=True)
class Place:
    """Where an event happened: the chat, its kind, and the forum topic (0 when none)."""

    chat_id: int
    kind: str = PRIVATE
    thread_id: int = 0
    title: str | None = None

    @property
    def is_group(self) -> bool:
        return self.kind in (GROUP, SUPERGROUP)


@dataclass(frozen=True)
class Person:
    """Who caused it. ``may_administer`` says whether they may administer the chat (asked only when it matters:
    for Telegram it is a Bot API call; an anonymous group administrator has no user id and may); nobody may unless
    the adapter says so."""

    user_id: int | None
    lang: str = VI
    may_administer: Callable[[], Awaitable[bool]] = _nobody


@dataclass(frozen=True)
class Said:
    """A text or a command addressed to the bot, new or edited. ``message_id`` identifies it in the chat (edits
    and repeats are found by it); ``question`` is the text without the bot's @mention."""

    place: Place
    person: Person
    question: str
    message_id: int = 0
    edited: bool = False


async def _no_acknowledgement(_notice: Text | None) -> None:
    return None


@dataclass(frozen=True)
class Pressed:
    """A button pressed on the bot's message ``message_id``. ``answered`` is the question that message answered,
    when the messenger still has it (Telegram: the message it replied to); ``offered`` the payloads of the buttons
    that message carries, as the messenger reports them (None when it cannot say): a payload pressed on a message
    that never offered it changes nothing. ``acknowledge`` is called once, as soon as the press is checked, with a
    notice for a refusal or None (Telegram: the spinner on the button stops)."""

    place: Place
    person: Person
    payload: str
    message_id: int = 0
    answered: str | None = None
    offered: tuple[str, ...] | None = None
    acknowledge: Callable[[Text | None], Awaitable[None]] = _no_acknowledgement


async def _no_progress(answer: Answer) -> None:
    return None


@dataclass(frozen=True)
class Uploaded:
    """A document (or a photo of a printed table) sent to the bot; ``file_ref`` is what the adapter's file fetcher
    needs to download it. ``progress`` sends a notice at once, before the outcome (a scan takes a minute or two)."""

    place: Place
    person: Person
    file_ref: str
    file_name: str
    size: int | None = None
    caption: str = ""  # may give a report the facts it does not print (dxcore.publishing.caption)
    progress: Callable[[Answer], Awaitable[None]] = _no_progress


@dataclass(frozen=True)
class Membership:
    """The bot was added to a chat, or removed from it, or blocked by a user."""

    place: Place
    active: bool


@dataclass(frozen=True)
class Migrated:
    """A group became a supergroup with a new chat id."""

    place: Place
    new_chat_id: int


# --- replies ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """New messages with the answer in the event's place. ``quote``: as a reply to the user's message (groups, and
    choices of a unit); ``reply_to``: as a reply to this bot message instead."""

    answer: Answer
    quote: bool = False
    reply_to: int | None = None
    plain: bool = False  # a one-line notice: no title styling


@dataclass(frozen=True)
class Replace:
    """The answer replaces the one in ``message_ids`` (an edited question, a pressed choice): edited in place where
    the messenger can, else sent anew with the old messages marked as superseded."""

    answer: Answer
    message_ids: tuple[int, ...]
    quote: bool = False


@dataclass(frozen=True)
class Toast:
    """A short notice on the pressed button itself, not a chat message."""

    text: Text


Reply = Send | Replace | Toast


@dataclass
class Outcome:
    """The replies to carry out, in order, and the state changes made (for logs and tests). ``remember`` is the
    question's key for answer links: the adapter reports the ids of the messages it sent through
    Conversation.answered, so an edit of the question edits them."""

    replies: list[Reply] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    remember: str | None = None
    brief: bool = False  # group chats get the short form of answers

    def send(self, answer: Answer, **kwargs) -> Outcome:
        self.replies.append(Send(answer, **kwargs))
        return self
