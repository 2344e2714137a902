"""A fake Telegram Bot API server for the whole test suite.

It speaks HTTP on 127.0.0.1 so the real bot can run against it in-process (PTB `base_url`) or as a subprocess
(`DXBOT_API_BASE_URL` / `DXBOT_FILE_BASE_URL`, see `FakeBotApi.env()`). It behaves like Telegram where bots commonly
get it wrong: dates in seconds, HTML parse mode is parsed into entities (unsupported tags are a 400), text is trimmed,
editing without changes is "message is not modified", callback queries can be answered once, callback_data is at
most 64 bytes. Faults (429/500/timeout/403/migration) are injected per method and optionally per chat.

Usage: `with FakeBotApi() as fake:` (or the `fake_bot_api` fixture below), then point PTB at `fake.base_url` /
`fake.file_base_url`, drive it with `push_*()`, and assert on `calls` / `sent()` / `wait_for()`.

The HTTP server is only a shell: `FakeBotApi.handle(method, params)` does fault injection, rate limiting, validation
and the method itself, so tests/inprocess.py serves PTB from the same core without a socket (never call start()
there). Both transports hand it the same params: form fields decoded by `decode_form()` plus `UploadedFile` parts.

PTB v22 never sends JSON bodies: every parameter travels as a form field (urlencoded, or multipart when a file is
uploaded) and non-string values (ints, bools, objects such as reply_markup) are JSON-encoded strings. JSON bodies
and GET query strings are accepted too, for plain HTTP clients.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import math
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, NamedTuple
from urllib.error import HTTPError
from urllib.parse import parse_qsl, unquote, urlsplit
from urllib.request import Request, urlopen

import pytest

JSON = dict[str, Any]
DEFAULT_TOKEN = "123456:TEST-TOKEN"
FAULT_KINDS = ("429", "500", "timeout", "403", "400_migrated")

# Parameters whose form value is the raw string. Everything else is JSON-decoded when possible (PTB json.dumps all
# non-str values), so that a text "123" stays a str while chat_id "42" becomes an int.
_STRING_PARAMS = frozenset({
    "text", "caption", "query", "data", "description", "short_description", "name", "parse_mode", "language_code",
    "action", "url", "secret_token", "ip_address", "callback_query_id", "inline_query_id", "inline_message_id",
    "file_id", "next_offset", "title", "custom_title", "emoji", "business_connection_id", "message_effect_id",
})
# Methods never throttled by rate_limit(): polling and setup must keep working while sends are being limited.
_UNLIMITED = frozenset({"getupdates", "getme", "getwebhookinfo", "setwebhook", "deletewebhook", "getfile"})
_SENDS = frozenset({"sendmessage", "sendphoto", "senddocument", "editmessagetext"})
_MARKUP_KINDS = frozenset({"inline_keyboard", "keyboard", "remove_keyboard", "force_reply"})
_BUTTON_ACTIONS = frozenset({"url", "callback_data", "web_app", "login_url", "switch_inline_query",
                             "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                             "callback_game", "pay"})
_MEDIA_KEYS = frozenset({"photo", "document", "video", "audio", "animation", "voice"})
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@])")
_BOT_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")


class Call(NamedTuple):
    """One Bot API request the fake answered successfully."""

    method: str
    params: dict[str, Any]
    result: Any = None  # what the fake answered (the Message JSON for sends and edits)


def call_text(call: Call) -> str:
    """The text (or caption) a sendMessage/editMessageText call carried."""
    return str(call.params.get("text", call.params.get("caption", "")))


def call_buttons(call: Call) -> list[JSON]:
    """The first button of each row of the inline keyboard a call carried."""
    markup = call.params.get("reply_markup")
    markup = json.loads(markup) if isinstance(markup, str) else markup
    return [row[0] for row in (markup or {}).get("inline_keyboard", [])]


class Rejection(NamedTuple):
    """One request answered with an error (injected fault, rate limit, or validation error like a real 400)."""

    method: str
    params: dict[str, Any]
    error_code: int
    description: str


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part, as it appears in recorded params (e.g. params["document"])."""

    filename: str
    content_type: str
    data: bytes


class DroppedRequest(Exception):
    """handle() raises it for an injected "timeout": the HTTP shell holds the connection `hold` seconds and drops it;
    an in-process transport raises PTB's TimedOut at once."""

    def __init__(self, hold: float) -> None:
        super().__init__(f"dropped after {hold}s")
        self.hold = hold


class BotApiError(Exception):
    """Raised by method handlers to answer {"ok": false, ...}; custom handlers (see register()) may raise it too."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.error_code, self.description, self.parameters = error_code, description, parameters


@dataclass
class _Fault:
    method: str
    kind: str
    times: int | None  # None: until clear_faults()
    chat_id: int | str | None
    retry_after: int
    migrate_to_chat_id: int | None
    hold: float


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    filename: str
    mime_type: str
    data: bytes


def _u16(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _answer_true(params: dict[str, Any]) -> bool:
    """Methods the fake does not model succeed, as most Bot API setters do."""
    return True


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise BotApiError(400, f"Bad Request: {name} is empty" if value in (None, "") else
                          f"Bad Request: invalid {name} specified") from None


# --- request parsing -------------------------------------------------------------------------------------------------

def _decode_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id "@channel", a file_id or a URL


def decode_form(fields: Mapping[str, str]) -> dict[str, Any]:
    """Form fields (what PTB sends: `RequestData.json_parameters`) as the params every method handler sees."""
    return {name: _decode_form_value(name, value) for name, value in fields.items()}


_API_PATH = re.compile(r"/(file/)?bot([^/]+)/(.+)")


def parse_api_path(path: str) -> tuple[bool, str, str] | None:
    """(is a file download, token, method or file path) of a Bot API URL path such as /bot<token>/sendMessage."""
    match = _API_PATH.fullmatch(path)
    return None if match is None else (bool(match.group(1)), match.group(2), match.group(3))


def _unescape_disposition(value: str) -> str:
    # httpx escapes quotes and control characters in Content-Disposition as %XX and doubles backslashes.
    value = re.sub(r"%(0[0-9A-F]|1[0-9A-F]|22)", lambda m: chr(int(m.group(1), 16)), value)
    return value.replace("\\\\", "\\")


def _parse_multipart(body: bytes, boundary: bytes) -> Iterator[tuple[str, str | UploadedFile]]:
    # Splitting on CRLF + "--boundary" (instead of "--boundary") keeps file contents byte-exact.
    for part in (b"\r\n" + body).split(b"\r\n--" + boundary)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'(?:^|;)\s*name="([^"]*)"', disposition)
        filename = re.search(r'(?:^|;)\s*filename="([^"]*)"', disposition)
        if name is None:
            continue
        if filename is None:
            yield _unescape_disposition(name.group(1)), content.decode("utf-8")
        else:
            yield _unescape_disposition(name.group(1)), UploadedFile(
                _unescape_disposition(filename.group(1)),
                headers.get("content-type", "application/octet-stream"), content)


def _parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    params = decode_form(dict(parse_qsl(query, keep_blank_values=True)))
    mime, _, options = content_type.partition(";")
    mime = mime.strip().lower()
    if mime == "application/json" and body:
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body is not an object")
        params.update(decoded)
    elif mime == "multipart/form-data":
        boundary = re.search(r'boundary="?([^";]+)"?', options)
        if boundary is None:
            raise ValueError("multipart body without boundary")
        for key, value in _parse_multipart(body, boundary.group(1).encode()):
            params[key] = value if isinstance(value, UploadedFile) else _decode_form_value(key, value)
    elif body:
        params.update(decode_form(dict(parse_qsl(body.decode(), keep_blank_values=True))))
    return params


# --- text formatting like Telegram -----------------------------------------------------------------------------------

_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
HTML_TAG_RE = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9-]*)"""  # "/" if closing, tag name, then attributes:
                         r"""((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*)\s*>""")
_HTML_ENTITY_RE = re.compile(r"&(?:#(\d+)|#[xX]([0-9a-fA-F]+)|(lt|gt|amp|quot));")
_SIMPLE_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
                "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
                "code": "code", "pre": "pre"}


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML parse mode: strips the supported tags into entities; anything else is a 400."""
    out: list[str] = []
    length = 0
    entities: list[JSON] = []
    stack: list[tuple[str, JSON | None]] = []
    pos = 0

    def fail(reason: str) -> BotApiError:
        return BotApiError(400, f"Bad Request: can't parse entities: {reason} at byte offset "
                                f"{len(source[:pos].encode())}")

    while pos < len(source):
        char = source[pos]
        if char == "<":
            tag = HTML_TAG_RE.match(source, pos)
            if tag is None:
                raise fail('Unsupported start tag ""')  # a bare "<" must be escaped as &lt;
            name = tag.group(2).lower()
            if tag.group(1):
                if not stack or stack[-1][0] != name:
                    expected = f'"</{stack[-1][0]}>"' if stack else "no end tag"
                    raise fail(f'Unmatched end tag, expected {expected}, found "</{name}>"')
                _, closed = stack.pop()
                if closed is not None and length > closed["offset"]:
                    entities.append({**closed, "length": length - closed["offset"]})
            else:
                attrs = {m.group(1).lower(): html.unescape(next((g for g in m.groups()[1:] if g is not None), ""))
                         for m in _ATTR_RE.finditer(tag.group(3))}
                entity: JSON = {"offset": length}
                pre = stack[-1][1] if stack and stack[-1][0] == "pre" else None
                if name == "code" and pre is not None:
                    # <pre><code class="language-x"> is a single pre entity carrying the language
                    if (language := attrs.get("class", "")).startswith("language-"):
                        pre["language"] = language.removeprefix("language-")
                    stack.append((name, None))
                elif name in _SIMPLE_TAGS:
                    stack.append((name, entity | {"type": _SIMPLE_TAGS[name]}))
                elif name == "span" and attrs.get("class") == "tg-spoiler":
                    stack.append((name, entity | {"type": "spoiler"}))
                elif name == "a":
                    stack.append((name, entity | {"type": "text_link", "url": attrs.get("href", "")}))
                elif name == "blockquote":
                    kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
                    stack.append((name, entity | {"type": kind}))
                elif name == "tg-emoji":
                    emoji = {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
                    stack.append((name, entity | emoji))
                else:
                    raise fail(f'Unsupported start tag "{name}"')
            pos = tag.end()
            continue
        if char == "&" and (ref := _HTML_ENTITY_RE.match(source, pos)):
            decimal, hexadecimal, named = ref.groups()
            char = chr(int(decimal)) if decimal else chr(int(hexadecimal, 16)) if hexadecimal else \
                {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[named]
            pos = ref.end()
        else:
            pos += 1
        out.append(char)
        length += _u16(char)
    if stack:
        raise BotApiError(400, f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag "
                               f'"{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _strip(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram trims leading/trailing whitespace and clips the entities accordingly."""
    stripped = text.strip()
    lead, total = _u16(text[: len(text) - len(text.lstrip())]), _u16(stripped)
    clipped = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return stripped, clipped


def _command_entities(text: str) -> list[JSON]:
    return [{"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group())}
            for m in _COMMAND_RE.finditer(text)]


def _image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 320, 320


_MEMBER_DEFAULTS: dict[str, JSON] = {
    "creator": {"is_anonymous": False},
    "administrator": {"can_be_edited": False, "is_anonymous": False, **dict.fromkeys((
        "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
        "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
        "can_delete_stories"), True)},
    "member": {},
    "restricted": {"is_member": True, "until_date": 0, **dict.fromkeys((
        "can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages", "can_send_polls",
        "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
        "can_send_documents", "can_send_photos", "can_send_videos", "can_send_video_notes", "can_send_voice_notes",
        "can_edit_tag"), False)},
    "left": {},
    "kicked": {"until_date": 0},
}


def chat_member_json(user: JSON, status: str) -> JSON:
    """A ChatMember object with every field PTB v22 requires for that status."""
    return {"status": status, "user": user, **_MEMBER_DEFAULTS[status]}


# --- HTTP plumbing ---------------------------------------------------------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall for seconds.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that goes away mid-request (a bot process killed by a test) is normal here, not worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        # Keep-alive handler threads block reading the next request; shutting their sockets down wakes them so that
        # server_close() can join them.
        with self.connections_lock:
            for conn in self.connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx pools connections
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without this, Nagle's algorithm and the client's delayed ACK
        # add about 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():  # httpx streams file handles chunked
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        response = self.server.fake._dispatch(unquote(url.path), url.query, self.headers.get("Content-Type", ""), body)
        if response is None:  # injected timeout: drop the connection without an answer
            self.close_connection = True
            return
        status, payload, content_type = response
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (e.g. a cancelled long poll)
            self.close_connection = True

    do_GET = do_POST = _serve


# --- the fake --------------------------------------------------------------------------------------------------------

class FakeBotApi:
    """Fake Telegram Bot API on 127.0.0.1:<free port>, served from a background thread."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, username: str = "dxbot_test_bot", first_name: str = "DX Test Bot",
                 timeout_hold: float = 30.0, record_polls: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.token = token
        # How long an injected "timeout" holds a request before dropping it: above PTB's default 5 s read timeout,
        # and stop() releases held requests at once, so a long hold costs nothing.
        self.timeout_hold = timeout_hold
        self.base_url = self.file_base_url = ""  # set by start()
        self.record_polls = record_polls  # getUpdates is left out of `calls` unless asked: it would drown the rest
        self._clock = clock
        bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123456
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": first_name, "username": username}
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serial = itertools.count(1)
        self._calls: list[Call] = []
        self._rejected: list[Rejection] = []
        self._faults: list[_Fault] = []
        self._rate: tuple[float, float] | None = None  # (per_second, burst)
        self._bucket, self._bucket_time = 0.0, 0.0
        self.polls = 0
        self._updates: list[JSON] = []
        self._last_update_id = 0
        self._poll_generation = 0
        self._webhook_url = ""
        self._webhook_targets: list[str] = []  # where pushed updates are POSTed instead of queued (a load balancer)
        self._webhook_secret = ""
        self._webhook_turn = itertools.count()
        self.webhook_statuses: list[int] = []
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._open_queries: set[str] = set()  # callback/inline query ids not answered yet
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": lambda p: self.bot_user | {"can_join_groups": True, "can_read_all_group_messages": False,
                                                "supports_inline_queries": True, "can_connect_to_business": False,
                                                "has_main_web_app": False},
            "setwebhook": self._set_webhook, "deletewebhook": self._set_webhook,
            "getwebhookinfo": lambda p: {"url": self._webhook_url, "has_custom_certificate": False,
                                         "pending_update_count": len(self._updates)},
            "sendmessage": self._send_message, "sendphoto": self._send_photo, "senddocument": self._send_document,
            "editmessagetext": lambda p: self._edit(p, "text"),
            "editmessagecaption": lambda p: self._edit(p, "caption"),
            "editmessagereplymarkup": lambda p: self._edit(p, None),
            "deletemessage": self._delete_message, "answercallbackquery": self._answer_query,
            "answerinlinequery": self._answer_query, "getfile": self._get_file, "setmycommands": self._set_commands,
            "getmycommands": lambda p: self._commands.get(self._commands_key(p), []),
            "deletemycommands": self._delete_commands,
            "setmydescription": self._set_description, "setmyshortdescription": self._set_description,
            "getmydescription": lambda p: {"description": self._descriptions.get(
                ("description", p.get("language_code") or ""), "")},
            "getmyshortdescription": lambda p: {"short_description": self._descriptions.get(
                ("short_description", p.get("language_code") or ""), "")},
            "getchat": self._get_chat, "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
        }

    # lifecycle

    def start(self) -> FakeBotApi:
        if self._server is not None:
            raise RuntimeError("FakeBotApi already started")
        self._server = _Server(self)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.file_base_url = f"http://127.0.0.1:{port}/file/bot"
        # A short poll interval makes stop() quick; shutdown() waits for the serve loop to notice.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="FakeBotApi", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake long polls and held requests, close every connection and the listening socket, join the threads."""
        if self._server is None or self._thread is None:
            return
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()  # joins the handler threads (ThreadingMixIn.block_on_close)
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        """Environment variables pointing a `dxbot run` subprocess at this fake."""
        return {"DXBOT_TOKEN": self.token, "DXBOT_API_BASE_URL": self.base_url,
                "DXBOT_FILE_BASE_URL": self.file_base_url}

    # extension

    def register(self, method: str, handler: Callable[[dict[str, Any]], Any]) -> None:
        """Add or replace a method: handler(params) returns the result or raises BotApiError; runs under the lock."""
        with self._lock:
            self._handlers[method.lower()] = handler

    # fault injection

    def fail_next(self, method: str, kind: str, *, times: int | None = 1, chat_id: int | str | None = None,
                  retry_after: int = 1, migrate_to_chat_id: int | None = None, hold: float | None = None) -> None:
        """Answer the next `times` calls of `method` (to `chat_id` if given; times=None: until clear_faults()) with a
        fault: "429", "500", "timeout" (held `hold` s, default timeout_hold, then dropped), "403", "400_migrated"."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append(_Fault(method.lower(), kind, times, chat_id, retry_after, migrate_to_chat_id,
                                       self.timeout_hold if hold is None else hold))

    def clear_faults(self) -> None:
        """Forget every pending injected fault."""
        with self._lock:
            self._faults.clear()

    def rate_limit(self, per_second: float | None, *, burst: float | None = None) -> None:
        """Token bucket over all methods but polling/setup; None disables. Excess requests get 429 + retry_after."""
        with self._lock:
            self._rate = None if per_second is None else (per_second, burst or max(1.0, per_second))
            self._bucket, self._bucket_time = (self._rate[1] if self._rate else 0.0), time.monotonic()

    @property
    def served_429(self) -> int:
        """How many 429 answers were served (injected and rate-limited)."""
        with self._lock:
            return sum(1 for r in self._rejected if r.error_code == 429)

    # inspection

    @property
    def calls(self) -> list[Call]:
        """Snapshot of the successfully answered calls, in order (getUpdates only with record_polls)."""
        with self._lock:
            return list(self._calls)

    @property
    def rejected(self) -> list[Rejection]:
        """Snapshot of the calls answered with an error (faults, rate limit, 400s...); timeouts have error_code 0."""
        with self._lock:
            return list(self._rejected)

    def mark(self) -> int:
        """Current number of calls, to pass as wait_for(since=...) so earlier calls don't match."""
        with self._lock:
            return len(self._calls)

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """sendMessage/sendPhoto/sendDocument/editMessageText calls, optionally to one chat."""
        return [c for c in self.calls if c.method.lower() in _SENDS
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def last_user_message(self, chat_id: int) -> JSON:
        """The latest message a user (not the bot) sent in the chat."""
        with self._lock:
            return max((m for (c, _), m in self._messages.items()
                        if c == chat_id and not m.get("from", {}).get("is_bot")), key=lambda m: m["message_id"])

    @property
    def messages(self) -> dict[tuple[int, int], JSON]:
        """Every stored message by (chat_id, message_id): a snapshot of the mapping, the messages themselves live."""
        with self._lock:
            return dict(self._messages)

    def message(self, chat_id: int, message_id: int) -> JSON:
        """The current Message JSON (as sent or last edited) of a stored message."""
        with self._lock:
            return copy.deepcopy(self._messages[(chat_id, message_id)])

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands stored by setMyCommands for a scope (default {"type": "default"}) and language."""
        with self._lock:
            return list(self._commands.get(self._commands_key({"scope": scope, "language_code": language_code}), []))

    def description(self, language_code: str = "", *, short: bool = False) -> str:
        """The description (or short description) stored for a language."""
        with self._lock:
            return self._descriptions.get(("short_description" if short else "description", language_code), "")

    def wait_for(self, predicate: str | Callable[[Call], bool], timeout: float = 10.0, *, since: int = 0) -> Call:
        """Block until a call (a method name, or predicate(call)) from index `since` on exists; return it."""
        check = self._matcher(predicate)
        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := self._find(check, since)) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._describe(f"no matching Bot API call within {timeout}s"))
                self._cond.wait(remaining)
            return found

    async def wait_for_async(self, predicate: str | Callable[[Call], bool], timeout: float = 10.0, *,
                             since: int = 0) -> Call:
        """wait_for() for async tests: polls instead of blocking the event loop the bot may be running on."""
        check = self._matcher(predicate)
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self._find(check, since)
                if found is not None:
                    return found
                if time.monotonic() >= deadline:
                    raise AssertionError(self._describe(f"no matching Bot API call within {timeout}s"))
            await asyncio.sleep(0.01)

    @staticmethod
    def _matcher(predicate: str | Callable[[Call], bool]) -> Callable[[Call], bool]:
        if isinstance(predicate, str):
            return lambda call: call.method.lower() == predicate.lower()

        def check(call: Call) -> bool:
            # A predicate like `lambda c: c.params["text"] == "pong"` must not blow up on a sendDocument call.
            try:
                return bool(predicate(call))
            except (LookupError, TypeError, AttributeError):
                return False
        return check

    def _find(self, check: Callable[[Call], bool], since: int) -> Call | None:
        return next((call for call in self._calls[since:] if check(call)), None)

    def _describe(self, headline: str) -> str:
        lines = [f"{headline}; calls seen:"]
        lines += [f"  {c.method} {c.params!r}"[:300] for c in self._calls] or ["  (none)"]
        lines += [f"  REJECTED {r.error_code} {r.method} {r.description}"[:300] for r in self._rejected]
        return "\n".join(lines)

    # driving a test: users and chats

    def set_chat(self, chat_id: int, *, type: str | None = None, title: str | None = None,  # noqa: A002
                 first_name: str | None = None, username: str | None = None, is_forum: bool | None = None) -> JSON:
        """Register (or update) a chat; unknown chats are derived from the id (positive private, -100… supergroup)."""
        with self._lock:
            chat = self._chat(chat_id)
            chat.update({k: v for k, v in {"type": type, "title": title, "first_name": first_name,
                                           "username": username, "is_forum": is_forum}.items() if v is not None})
            if chat["type"] == "private":
                chat.pop("title", None)
            else:
                chat.pop("first_name", None)
                chat.setdefault("title", f"Test group {chat_id}")
            return dict(chat)

    def set_chat_member(self, chat_id: int, user_id: int, status: str, *, first_name: str | None = None) -> None:
        """What getChatMember/getChatAdministrators report for that user (default: "member")."""
        if status not in _MEMBER_DEFAULTS:
            raise ValueError(f"unknown status {status!r}")
        with self._lock:
            self._members[(chat_id, user_id)] = status
            if first_name is not None or user_id not in self._users:
                self._users[user_id] = {"id": user_id, "is_bot": False, "first_name": first_name or f"User {user_id}"}

    def _chat(self, chat_id: int, chat_type: str | None = None) -> JSON:
        chat = self._chats.get(chat_id)
        if chat is None:
            kind = chat_type or ("private" if chat_id > 0 else
                                 "supergroup" if str(chat_id).startswith("-100") else "group")
            chat = {"id": chat_id, "type": kind}
            if kind == "private":
                chat["first_name"] = self._users.get(chat_id, {}).get("first_name", f"User {chat_id}")
            else:
                chat["title"] = f"Test group {chat_id}"
            self._chats[chat_id] = chat
        elif chat_type is not None and chat["type"] != chat_type:
            raise ValueError(f"chat {chat_id} is already a {chat['type']} chat")
        return chat

    def _user(self, user_id: int, first_name: str, language_code: str | None, username: str | None = None) -> JSON:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _new_message_id(self, chat_id: int, wanted: int | None = None) -> int:
        message_id = wanted if wanted is not None else self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = max(message_id, self._last_message_id.get(chat_id, 0))
        return message_id

    def _store(self, message: JSON) -> JSON:
        self._messages[(message["chat"]["id"], message["message_id"])] = message
        return message

    def _user_message(self, chat_id: int, *, user_id: int | None, first_name: str, username: str | None,
                      language_code: str | None, chat_type: str | None, message_id: int | None,
                      reply_to: int | None, message_thread_id: int | None) -> JSON:
        user = self._user(user_id if user_id is not None else (chat_id if chat_id > 0 else 4242),
                          first_name, language_code, username)
        message: JSON = {"message_id": self._new_message_id(chat_id, message_id), "date": int(self._clock()),
                         "chat": dict(self._chat(chat_id, chat_type)), "from": user}
        if message_thread_id is not None:
            message |= {"message_thread_id": message_thread_id, "is_topic_message": True}
        if reply_to is not None:
            message["reply_to_message"] = self._messages.get((chat_id, reply_to)) or {
                "message_id": reply_to, "date": int(self._clock()), "chat": message["chat"]}
        return message

    # driving a test: updates

    def learn(self, update: JSON) -> JSON:
        """Make an update's messages and queries known (so replies, edits and answers to them work) without queueing
        it: for updates handed to the bot directly (tests/inprocess.py). Fills in a missing update_id, message_id
        (the chat's next) and query id; returns the update."""
        with self._cond:
            if update.get("update_id") is None:
                update = {"update_id": self._last_update_id + 1, **update}
            self._last_update_id = max(self._last_update_id, update["update_id"])
            for key in ("message", "edited_message", "channel_post"):
                if isinstance(update.get(key), dict) and "chat" in update[key]:
                    message = update[key]
                    message["message_id"] = self._new_message_id(message["chat"]["id"], message.get("message_id"))
                    self._store(message)
            for key in ("callback_query", "inline_query"):
                if isinstance(update.get(key), dict):
                    query = update[key]
                    query.setdefault("id", str((4 if key == "callback_query" else 5) * 10**12 + next(self._serial)))
                    self._open_queries.add(str(query["id"]))
            return update

    def push_update(self, update: JSON) -> int:
        """Queue a raw update (update_id assigned if missing); its message/callback/inline ids become known."""
        with self._cond:
            update = self.learn(update)
            if not self._webhook_targets:
                self._updates.append(update)
                self._cond.notify_all()
                return update["update_id"]
            target = self._webhook_targets[next(self._webhook_turn) % len(self._webhook_targets)]
        self.webhook_statuses.append(self.post_webhook(target, update, self._webhook_secret))
        return update["update_id"]

    # driving a test: webhooks

    def deliver_webhooks(self, urls: list[str], secret: str) -> None:
        """From now on pushed updates are POSTed to these URLs in turn, with Telegram's secret-token header, as
        Telegram and a load balancer in front of several replicas would."""
        with self._lock:
            self._webhook_targets, self._webhook_secret = list(urls), secret

    @staticmethod
    def post_webhook(url: str, update: JSON, secret: str | None, timeout: float = 30.0) -> int:
        """One webhook call; the HTTP status the bot answered with (0 when nothing answered)."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            with urlopen(Request(url, json.dumps(update).encode(), headers), timeout=timeout) as response:
                return response.status
        except HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    def push_message(self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "Lan",
                     username: str | None = None, language_code: str | None = "vi", chat_type: str | None = None,
                     message_id: int | None = None, reply_to: int | None = None, entities: list[JSON] | None = None,
                     message_thread_id: int | None = None) -> int:
        """A user's text message (user_id defaults to chat_id in private chats, 4242 in groups); /commands get
        bot_command entities."""
        with self._lock:
            message = self._user_message(chat_id, user_id=user_id, first_name=first_name, username=username,
                                         language_code=language_code, chat_type=chat_type, message_id=message_id,
                                         reply_to=reply_to, message_thread_id=message_thread_id)
            message["text"] = text
            found = entities if entities is not None else _command_entities(text)
            if found:
                message["entities"] = found
            return self.push_update({"message": message})

    def push_edited_message(self, chat_id: int, message_id: int, text: str, *, user_id: int | None = None,
                            first_name: str = "Lan", language_code: str | None = "vi",
                            entities: list[JSON] | None = None) -> int:
        """The user edited an earlier message (built from scratch if the fake never saw it)."""
        with self._lock:
            original = self._messages.get((chat_id, message_id))
            if original is None:
                original = self._user_message(chat_id, user_id=user_id, first_name=first_name, username=None,
                                              language_code=language_code, chat_type=None, message_id=message_id,
                                              reply_to=None, message_thread_id=None)
            message = {k: v for k, v in original.items() if k != "entities"}
            message |= {"text": text, "edit_date": int(self._clock())}
            found = entities if entities is not None else _command_entities(text)
            if found:
                message["entities"] = found
            self._store(message)
            return self.push_update({"edited_message": message})

    def push_document(self, chat_id: int, data: bytes, filename: str, *, mime_type: str = "application/octet-stream",
                      caption: str | None = None, user_id: int | None = None, first_name: str = "Lan",
                      language_code: str | None = "vi", chat_type: str | None = None) -> int:
        """A user uploads a document; getFile/download serve its bytes."""
        with self._lock:
            message = self._user_message(chat_id, user_id=user_id, first_name=first_name, username=None,
                                         language_code=language_code, chat_type=chat_type, message_id=None,
                                         reply_to=None, message_thread_id=None)
            stored = self._add_file(UploadedFile(filename, mime_type, data), "documents")
            message["document"] = self._document_json(stored)
            if caption:
                message["caption"] = caption
            return self.push_update({"message": message})

    def push_photo(self, chat_id: int, data: bytes, *, caption: str | None = None, user_id: int | None = None,
                   first_name: str = "Lan", language_code: str | None = "vi") -> int:
        """A user sends a photo: Telegram offers it in a few sizes (here: a thumbnail and the photo itself)."""
        with self._lock:
            message = self._user_message(chat_id, user_id=user_id, first_name=first_name, username=None,
                                         language_code=language_code, chat_type=None, message_id=None,
                                         reply_to=None, message_thread_id=None)
            width, height = _image_size(data)
            sizes = []
            for stored, (w, h) in ((self._add_file(UploadedFile("thumb.jpg", "image/jpeg", data[:64]), "photos"),
                                    (90, 90 * height // max(width, 1))),
                                   (self._add_file(UploadedFile("photo.jpg", "image/jpeg", data), "photos"),
                                    (width, height))):
                sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": w,
                              "height": h, "file_size": len(stored.data)})
            message["photo"] = sizes
            if caption:
                message["caption"] = caption
            return self.push_update({"message": message})

    def push_callback(self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None,
                      first_name: str = "Lan", language_code: str | None = "vi") -> int:
        """A button press on message_id (the bot's message as currently stored)."""
        with self._lock:
            user = self._user(user_id if user_id is not None else (chat_id if chat_id > 0 else 4242),
                              first_name, language_code)
            message = self._messages.get((chat_id, message_id)) or {
                "message_id": message_id, "date": int(self._clock()), "chat": dict(self._chat(chat_id)),
                "from": self.bot_user, "text": ""}
            query = {"from": user, "message": message,
                     "chat_instance": str(-7_000_000_000_000 - abs(chat_id)), "data": data}
            return self.push_update({"callback_query": query})

    def push_inline_query(self, user_id: int, query: str, *, offset: str = "", chat_type: str = "private",
                          first_name: str = "Lan", language_code: str | None = "vi") -> int:
        with self._lock:
            inline = {"from": self._user(user_id, first_name, language_code),
                      "query": query, "offset": offset, "chat_type": chat_type}
            return self.push_update({"inline_query": inline})

    def push_my_chat_member(self, chat_id: int, *, user_id: int | None = None, old_status: str = "member",
                            new_status: str = "kicked", first_name: str = "Lan", chat_type: str | None = None) -> int:
        """The bot's own membership changed: default is a private user blocking the bot (member -> kicked)."""
        with self._lock:
            actor = self._user(user_id if user_id is not None else (chat_id if chat_id > 0 else 4242), first_name,
                               None)
            event = {"chat": dict(self._chat(chat_id, chat_type)), "from": actor, "date": int(self._clock()),
                     "old_chat_member": chat_member_json(self.bot_user, old_status),
                     "new_chat_member": chat_member_json(self.bot_user, new_status)}
            self._members[(chat_id, self.bot_user["id"])] = new_status
            return self.push_update({"my_chat_member": event})

    # request handling

    def _dispatch(self, path: str, query: str, content_type: str, body: bytes) -> tuple[int, bytes, str] | None:
        """The HTTP shell around handle(): routing, token, file downloads, body parsing, dropped connections."""
        route = parse_api_path(path)
        if route is None:
            return (*self._error(404, "Not Found"), "application/json")
        is_file, token, rest = route
        if token != self.token:
            return (*self._error(401, "Unauthorized"), "application/json")
        if is_file:
            stored = self.download(rest)
            if stored is None:
                return (*self._error(404, "Not Found"), "application/json")
            return 200, stored.data, stored.content_type
        try:
            params = _parse_params(query, content_type, body)
        except (ValueError, UnicodeDecodeError) as exc:
            return (*self._error(400, f"Bad Request: can't parse request: {exc}"), "application/json")
        try:
            return (*self.handle(rest, params), "application/json")
        except DroppedRequest as dropped:
            self._stopping.wait(dropped.hold)  # stop() ends the hold early
            return None

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, bytes]:
        """One Bot API call without HTTP: injected faults, rate limit, validation and the method itself. Returns the
        HTTP status and JSON body Telegram would answer; raises DroppedRequest for an injected timeout. `params` are
        decoded form fields (see decode_form) with file parts as UploadedFile values. getUpdates may block (long
        poll)."""
        with self._cond:
            fault = self._take_fault(method, params)
            if fault is None:
                throttled = self._throttle(method)
                if throttled is not None:
                    return self._reject(method, params, BotApiError(
                        429, f"Too Many Requests: retry after {throttled}", {"retry_after": throttled}))
        if fault is not None:
            if fault.kind == "timeout":
                with self._cond:
                    self._rejected.append(Rejection(method, params, 0, "timeout (connection dropped)"))
                    self._cond.notify_all()
                raise DroppedRequest(fault.hold)
            return self._reject(method, params, self._fault_error(fault, params))
        try:
            if method.lower() == "getupdates":
                result = self._get_updates(params)
            else:
                with self._cond:
                    handler: Callable[[dict[str, Any]], Any] = self._handlers.get(method.lower(), _answer_true)
                    result = handler(params)
        except BotApiError as exc:
            return self._reject(method, params, exc)
        with self._cond:
            if method.lower() != "getupdates" or self.record_polls:
                self._calls.append(Call(method, params, result))
            self._cond.notify_all()
        return 200, json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()

    def download(self, file_path: str) -> UploadedFile | None:
        """The file served at <file_base_url><token>/<file_path> (the path getFile answered), if any."""
        with self._lock:
            stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        return None if stored is None else UploadedFile(stored.filename, stored.mime_type, stored.data)

    def file(self, file_id: str) -> UploadedFile:
        """The name, type and bytes of a file the fake holds (uploaded by the bot or pushed as a user's)."""
        with self._lock:
            stored = self._files[file_id]
        return UploadedFile(stored.filename, stored.mime_type, stored.data)

    @staticmethod
    def _error(code: int, description: str, parameters: JSON | None = None) -> tuple[int, bytes]:
        payload: JSON = {"ok": False, "error_code": code, "description": description}
        if parameters:
            payload["parameters"] = parameters
        return code, json.dumps(payload, ensure_ascii=False).encode()

    def _reject(self, method: str, params: dict[str, Any], exc: BotApiError) -> tuple[int, bytes]:
        with self._cond:
            self._rejected.append(Rejection(method, params, exc.error_code, exc.description))
            self._cond.notify_all()
        return self._error(exc.error_code, exc.description, exc.parameters)

    def _take_fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method.lower() and (
                    fault.chat_id is None or str(fault.chat_id) == str(params.get("chat_id"))):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _fault_error(self, fault: _Fault, params: dict[str, Any]) -> BotApiError:
        if fault.kind == "429":
            return BotApiError(429, f"Too Many Requests: retry after {fault.retry_after}",
                               {"retry_after": fault.retry_after})
        if fault.kind == "500":
            return BotApiError(500, "Internal Server Error")
        if fault.kind == "403":
            return BotApiError(403, "Forbidden: bot was blocked by the user")
        new_id = fault.migrate_to_chat_id or int(f"-100{abs(int(params.get('chat_id') or 1234567890))}")
        return BotApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": new_id})

    def _throttle(self, method: str) -> int | None:
        """Token bucket; returns retry_after seconds when the request must be refused."""
        if self._rate is None or method.lower() in _UNLIMITED:
            return None
        per_second, burst = self._rate
        now = time.monotonic()
        self._bucket = min(burst, self._bucket + (now - self._bucket_time) * per_second)
        self._bucket_time = now
        if self._bucket >= 1:
            self._bucket -= 1
            return None
        return max(1, math.ceil((1 - self._bucket) / per_second))

    # methods

    def _get_updates(self, params: dict[str, Any]) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates") or None
        with self._cond:
            self.polls += 1
            if self._webhook_url:
                raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                       "use deleteWebhook to delete the webhook first")
            # Like Telegram, a newer getUpdates ends a pending one with 409 (two bot instances polling).
            self._poll_generation += 1
            generation = self._poll_generation
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            while True:
                ready = [u for u in self._updates if allowed is None or any(k in u for k in allowed)][:limit]
                if ready or self._stopping.is_set():
                    return ready
                if generation != self._poll_generation:
                    raise BotApiError(409, "Conflict: terminated by other getUpdates request; make sure that only "
                                           "one bot instance is running")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _target(self, params: dict[str, Any]) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise BotApiError(400, "Bad Request: chat_id is empty")
        try:
            return self._chat(int(chat_id))
        except ValueError:
            raise BotApiError(400, "Bad Request: chat not found") from None

    def _formatted(self, params: dict[str, Any], key: str, limit: int, what: str) -> tuple[str, list[JSON]]:
        text = params.get(key)
        text = "" if text is None else str(text)
        explicit = params.get("caption_entities" if key == "caption" else "entities")
        parse_mode = str(params.get("parse_mode") or "")
        if explicit:
            entities = list(explicit)
        elif parse_mode.upper() == "HTML":
            text, entities = parse_html(text)
        else:  # Markdown modes are not parsed: the text comes back verbatim
            entities = []
        text, entities = _strip(text, entities)
        if len(text) > limit:
            raise BotApiError(400, f"Bad Request: {what} is too long")
        return text, entities

    @staticmethod
    def _inline_markup(markup: Any) -> JSON | None:
        """Checks a reply_markup like Telegram; returns it when it is an inline keyboard (the only kind Telegram
        echoes in the returned Message)."""
        if markup is None:
            return None
        if not isinstance(markup, dict) or not _MARKUP_KINDS & markup.keys():
            raise BotApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise BotApiError(400, 'Bad Request: can\'t parse inline keyboard button: Field "inline_keyboard" must '
                                   "be of type Array of Arrays")
        if sum(map(len, rows)) > 100:
            raise BotApiError(400, "Bad Request: reply markup is too long")
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict):
                raise BotApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must "
                                       "be an Object")
            if not button.get("text"):
                raise BotApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            if not _BUTTON_ACTIONS & button.keys():
                raise BotApiError(400, "Bad Request: can't parse inline keyboard button: Text buttons are "
                                       "unallowed in the inline keyboard")
            if "callback_data" in button and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in button and not re.fullmatch(r"(?:https?|tg)://[^\s/?#]+\S*", str(button["url"])):
                raise BotApiError(400, "Bad Request: BUTTON_URL_INVALID")
        return markup

    def _bot_message(self, params: dict[str, Any], **content: Any) -> JSON:
        chat = self._target(params)
        # After push_my_chat_member() removed the bot (a user blocking it, a group kicking it), sends are refused.
        status = self._members.get((chat["id"], self.bot_user["id"]))
        if status == "kicked":
            raise BotApiError(403, "Forbidden: bot was blocked by the user" if chat["type"] == "private"
                              else f"Forbidden: bot was kicked from the {chat['type']} chat")
        if status == "left":
            raise BotApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")
        markup = self._inline_markup(params.get("reply_markup"))
        message: JSON = {"message_id": 0, "date": int(self._clock()), "chat": dict(chat), "from": self.bot_user}
        if params.get("message_thread_id") is not None:
            message |= {"message_thread_id": int(params["message_thread_id"]), "is_topic_message": True}
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id") if isinstance(reply, dict) else None
        reply_id = reply_id or params.get("reply_to_message_id")
        if reply_id:
            replied = self._messages.get((chat["id"], int(reply_id)))
            if replied is not None:
                message["reply_to_message"] = replied
            elif not (reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")):
                raise BotApiError(400, "Bad Request: message to be replied not found")
        message |= {k: v for k, v in content.items() if v}
        if markup is not None:
            message["reply_markup"] = markup
        message["message_id"] = self._new_message_id(chat["id"])
        return self._store(message)

    def _caption(self, params: dict[str, Any]) -> JSON:
        caption, entities = self._formatted(params, "caption", 1024, "message caption")
        return {"caption": caption, "caption_entities": entities}

    def _send_message(self, params: dict[str, Any]) -> JSON:
        text, entities = self._formatted(params, "text", 4096, "message")
        if not text:
            raise BotApiError(400, "Bad Request: message text is empty")
        return self._bot_message(params, text=text, entities=entities)

    def _add_file(self, upload: UploadedFile, folder: str) -> _StoredFile:
        serial = next(self._serial)
        extension = re.sub(r"\W", "", upload.filename.rsplit(".", 1)[-1]) if "." in upload.filename else ""
        path = f"{folder}/file_{serial}.{extension or 'bin'}"  # URL-safe, like Telegram's own file paths
        stored = _StoredFile(f"FAKE-{folder}-{serial}-file-id", f"uniq{serial}", path, upload.filename,
                             upload.content_type, upload.data)
        self._files[stored.file_id] = stored
        return stored

    def _input_file(self, params: dict[str, Any], key: str, folder: str) -> _StoredFile:
        value = params.get(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self._add_file(value, folder)
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self._add_file(UploadedFile(value.rsplit("/", 1)[-1] or "file", "application/octet-stream", b""),
                                  folder)
        raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    @staticmethod
    def _document_json(stored: _StoredFile) -> JSON:
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_name": stored.filename,
                "mime_type": stored.mime_type, "file_size": len(stored.data)}

    def _send_photo(self, params: dict[str, Any]) -> JSON:
        stored = self._input_file(params, "photo", "photos")
        if len(stored.data) > 10 * 1024 * 1024:
            raise BotApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        width, height = _image_size(stored.data)
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise BotApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        photo = [{"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": width,
                  "height": height, "file_size": len(stored.data)}]
        return self._bot_message(params, photo=photo, **self._caption(params))

    def _send_document(self, params: dict[str, Any]) -> JSON:
        stored = self._input_file(params, "document", "documents")
        return self._bot_message(params, document=self._document_json(stored), **self._caption(params))

    def _edit(self, params: dict[str, Any], field: str | None) -> JSON | bool:
        """editMessageText (field "text"), editMessageCaption ("caption") or editMessageReplyMarkup (None)."""
        markup = self._inline_markup(params.get("reply_markup"))
        if params.get("inline_message_id"):
            return True
        chat = self._target(params)
        message = self._messages.get((chat["id"], _int(params.get("message_id"), "message_id")))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise BotApiError(400, "Bad Request: message can't be edited")
        updated = {k: v for k, v in message.items() if k not in ("reply_markup", "edit_date")}
        if field == "text":
            if "text" not in message:
                raise BotApiError(400, "Bad Request: there is no text in the message to edit")
            text, entities = self._formatted(params, "text", 4096, "message")
            if not text:
                raise BotApiError(400, "Bad Request: message text is empty")
            updated.pop("entities", None)
            updated |= {"text": text, "entities": entities} if entities else {"text": text}
        elif field == "caption":
            if not _MEDIA_KEYS & message.keys():
                raise BotApiError(400, "Bad Request: there is no caption in the message to edit")
            updated.pop("caption_entities", None)
            updated.pop("caption", None)
            updated |= {k: v for k, v in self._caption(params).items() if v}
        if markup is not None:  # editing without reply_markup removes the keyboard, as on Telegram
            updated["reply_markup"] = markup
        if {k: v for k, v in updated.items() if k != "edit_date"} == \
                {k: v for k, v in message.items() if k != "edit_date"}:
            raise BotApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                   "markup are exactly the same as a current content and reply markup of the message")
        updated["edit_date"] = int(self._clock())
        return self._store(updated)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        key = (self._target(params)["id"], _int(params.get("message_id"), "message_id"))
        if self._messages.pop(key, None) is None:
            raise BotApiError(400, "Bad Request: message to delete not found")
        return True

    def _answer_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or params.get("inline_query_id") or "")
        if query_id not in self._open_queries:
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        if "callback_query_id" in params and len(str(params.get("text") or "")) > 200:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if "inline_query_id" in params:
            self._check_results(params.get("results"))
        self._open_queries.discard(query_id)  # a query can be answered only once
        return True

    def _check_results(self, results: Any) -> None:
        """answerInlineQuery results: ids, the message each one sends (parsed like a sent message), keyboards."""
        if not isinstance(results, list):
            raise BotApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > 50:
            raise BotApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not result.get("type"):
                raise BotApiError(400, "Bad Request: can't parse inline query result: type must be specified")
            result_id = str(result.get("id") or "")
            if not 1 <= len(result_id.encode()) <= 64:
                raise BotApiError(400, "Bad Request: RESULT_ID_INVALID")
            if result_id in seen:
                raise BotApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result["type"] == "article" and not result.get("title"):
                raise BotApiError(400, "Bad Request: RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if result["type"] == "article" and not isinstance(content, dict):
                raise BotApiError(400, "Bad Request: can't parse inline query result: input_message_content must "
                                       "be specified")
            if isinstance(content, dict) and "message_text" in content:
                text, _ = self._formatted({"text": content["message_text"], "parse_mode": content.get("parse_mode"),
                                           "entities": content.get("entities")}, "text", 4096, "message")
                if not text:
                    raise BotApiError(400, "Bad Request: MESSAGE_EMPTY")
            if "caption" in result:
                self._formatted({"caption": result["caption"], "parse_mode": result.get("parse_mode"),
                                 "caption_entities": result.get("caption_entities")}, "caption", 1024,
                                "message caption")
            self._inline_markup(result.get("reply_markup"))

    def _get_file(self, params: dict[str, Any]) -> JSON:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > 20 * 1024 * 1024:
            raise BotApiError(400, "Bad Request: file is too big")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(stored.data),
                "file_path": stored.file_path}

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _set_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotApiError(400, "Bad Request: commands not specified or too many")
        for command in commands:
            if not _BOT_COMMAND_NAME.match(str(command.get("command", ""))):
                raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BotApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(params)] = commands
        return True

    def _delete_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _set_description(self, params: dict[str, Any]) -> bool:
        key, limit = ("short_description", 120) if "short_description" in params else ("description", 512)
        value = str(params.get(key) or "")
        if len(value) > limit:
            raise BotApiError(400, f"Bad Request: {key} is too long")
        self._descriptions[(key, str(params.get("language_code") or ""))] = value
        return True

    def _get_chat(self, params: dict[str, Any]) -> JSON:
        return self._target(params) | {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": {
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False, "premium_subscription": False,
            "gifts_from_channels": False}}

    def _member(self, chat_id: int, user_id: int) -> JSON:
        if user_id == self.bot_user["id"]:
            default = "member" if chat_id > 0 else "administrator"
            return chat_member_json(self.bot_user, self._members.get((chat_id, user_id), default))
        user = self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
        return chat_member_json(user, self._members.get((chat_id, user_id), "member"))

    def _get_chat_member(self, params: dict[str, Any]) -> JSON:
        return self._member(self._target(params)["id"], _int(params.get("user_id"), "user_id"))

    def _get_chat_administrators(self, params: dict[str, Any]) -> list[JSON]:
        chat = self._target(params)
        if chat["type"] == "private":
            raise BotApiError(400, "Bad Request: there are no administrators in the private chat")
        return [self._member(chat_id, user_id) for (chat_id, user_id), status in self._members.items()
                if chat_id == chat["id"] and status in ("creator", "administrator")]


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    """A started FakeBotApi, stopped after the test (import this fixture into a conftest or test module)."""
    with FakeBotApi() as fake:
        yield fake
