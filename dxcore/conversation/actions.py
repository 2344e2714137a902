"""Button actions: what a button does, typed, and the one place its payload is encoded and checked.

A client can send any callback data, not only what the bot's buttons carry, so every payload is authenticated:

    <family><version><base64url(action code, fields…, mac)>

``family`` is one letter per handler family (a: answers, s: subscriptions, p: publishing) so an adapter can route
by pattern; ``version`` changes when the format does (older buttons then read as outdated). The fields are unsigned
varints or length-prefixed UTF-8. ``mac`` is the first 10 bytes of an HMAC-SHA256 over the chat id and everything
before it, with a key derived from the bot token: a payload is valid only in the chat it was sent to, and only
unaltered. The whole payload stays within Telegram's 64 bytes of callback data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, fields
from typing import ClassVar

VERSION = "1"
PAYLOAD_LIMIT = 64  # bytes of callback data Telegram keeps
MAC_BYTES = 10
ANSWERS, SUBSCRIPTIONS, PUBLISHING = "a", "s", "p"
FAMILIES = (ANSWERS, SUBSCRIPTIONS, PUBLISHING)


class Action:
    """A button's action: a frozen dataclass whose fields are ints, bools or strs, registered by (family, code)."""

    FAMILY: ClassVar[str]
    CODE: ClassVar[int]


_REGISTRY: dict[tuple[str, int], type[Action]] = {}


def _action(family: str, code: int):
    def register(cls):
        cls = dataclass(frozen=True)(cls)
        cls.FAMILY, cls.CODE = family, code
        assert (family, code) not in _REGISTRY
        _REGISTRY[(family, code)] = cls
        return cls
    return register


@_action(ANSWERS, 1)
class AskExample(Action):
    """One of the examples /start and /help offer (by index: the question itself may not fit)."""

    index: int


@_action(ANSWERS, 2)
class Pick(Action):
    """The unit a user chose among those offered for a question; it teaches the resolver. ``epoch`` is the catalog
    the choices were made from and ``tag`` a MAC binding the unit to the question and chat (ButtonSeal.question_tag),
    both filled in when the button is sealed; a tag of NOT_TAUGHT marks choices for a question the user did not
    type (an example), which answer but teach nothing."""

    unit_id: int
    year: int = 0
    epoch: int = 0
    tag: int = 0


@_action(ANSWERS, 3)
class ShowHistory(Action):
    unit_id: int


@_action(ANSWERS, 4)
class ShowChart(Action):
    unit_id: int


@_action(ANSWERS, 5)
class ShowUnit(Action):
    """A unit's latest result: offered beside a unit that no longer exists, for what it became."""

    unit_id: int


@_action(SUBSCRIPTIONS, 1)
class Follow(Action):
    scope: str  # alerts.subscriptions.ALL / LEVEL / UNIT
    level: str = ""
    unit_id: int = 0
    silent: bool = False


@_action(SUBSCRIPTIONS, 2)
class Unfollow(Action):
    subscription_id: int


@_action(PUBLISHING, 1)
class Publish(Action):
    pending_id: int


@_action(PUBLISHING, 2)
class CancelPublish(Action):
    pending_id: int


NOT_TAUGHT = 0  # a pick's ``tag`` when its question was not typed in the chat (an example): it answers, teaches nothing
TAG_BYTES = 6


# --- the wire format --------------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if value < 0:
        raise ValueError("button fields are unsigned")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def varint(self) -> int:
        value = shift = 0
        while True:
            if self.at >= len(self.data) or shift > 63:
                raise ValueError("truncated")
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def text(self) -> str:
        size = self.varint()
        if self.at + size > len(self.data):
            raise ValueError("truncated")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk.decode()


def _body(action: Action) -> bytes:
    out = bytearray(_varint(action.CODE))
    for f in fields(action):
        value = getattr(action, f.name)
        if isinstance(value, str):
            raw = value.encode()
            out += _varint(len(raw)) + raw
        else:
            out += _varint(int(value))
    return bytes(out)


def _parse(family: str, body: bytes) -> Action:
    reader = _Reader(body)
    cls = _REGISTRY.get((family, reader.varint()))
    if cls is None:
        raise ValueError("unknown action")
    values = {}
    for f in fields(cls):
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        values[f.name] = reader.text() if kind == "str" else bool(reader.varint()) if kind == "bool" else reader.varint()
    if reader.at != len(body):
        raise ValueError("trailing bytes")
    return cls(**values)


# --- sealing and opening ------------------------------------------------------------------------------------------

FORGED, OUTDATED = "forged", "outdated"  # why a payload was refused


@dataclass(frozen=True)
class Opened:
    """A payload checked: its action, or why it was refused (FORGED: not ours, altered or for another chat;
    OUTDATED: an older format)."""

    action: Action | None
    refusal: str | None = None


class ButtonSeal:
    """Encodes and authenticates button payloads for one bot (one key, derived from its token)."""

    @classmethod
    def for_token(cls, token: str | None) -> ButtonSeal:
        """The bot's seal (every replica derives the same key from the token); without a token (the CLI shell,
        whose buttons never leave the process) a key of this process alone."""
        return cls(token if token else secrets.token_bytes(32))

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        self._key = hmac.new(b"dxbot button payloads", raw, hashlib.sha256).digest()

    def _mac(self, chat_id: int, head: bytes) -> bytes:
        message = chat_id.to_bytes(8, "big", signed=True) + head
        return hmac.new(self._key, message, hashlib.sha256).digest()[:MAC_BYTES]

    def question_tag(self, chat_id: int, unit_id: int, alias_key: str) -> int:
        """48 bits of MAC over (chat, unit, question): only the bot can make a pick that teaches a unit for a
        question, and it is checked against the question the pressed message answers (never NOT_TAUGHT)."""
        message = b"teach\x00" + chat_id.to_bytes(8, "big", signed=True) + unit_id.to_bytes(8, "big") + alias_key.encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:TAG_BYTES]
        return int.from_bytes(digest, "big") or 1

    def seal(self, action: Action, chat_id: int) -> str:
        prefix = (action.FAMILY + VERSION).encode()
        body = _body(action)
        payload = prefix.decode() + base64.urlsafe_b64encode(body + self._mac(chat_id, prefix + body)).decode().rstrip("=")
        if len(payload.encode()) > PAYLOAD_LIMIT:
            raise ValueError(f"{type(action).__name__} payload of {len(payload)} bytes is over Telegram's {PAYLOAD_LIMIT}")
        return payload

    def open(self, payload: str, chat_id: int) -> Opened:
        if len(payload) < 3 or payload[0] not in FAMILIES:
            return Opened(None, OUTDATED if ":" in payload else FORGED)  # buttons of the format before this one
        if payload[1] != VERSION:
            return Opened(None, OUTDATED)
        prefix = payload[:2].encode()
        try:
            raw = base64.urlsafe_b64decode(payload[2:] + "=" * (-len(payload[2:]) % 4))
        except (binascii.Error, ValueError):
            return Opened(None, FORGED)
        body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(chat_id, prefix + body)):
            return Opened(None, FORGED)
        try:
            return Opened(_parse(payload[0], body))
        except (ValueError, UnicodeDecodeError, TypeError):
            return Opened(None, FORGED)  # signed by us yet unreadable: treat as nothing
