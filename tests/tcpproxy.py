"""A loopback TCP proxy for tests: it makes a server (PostgreSQL) go away and come back without stopping it.

    with TcpProxy("127.0.0.1", 5432) as proxy:     # forwarding 127.0.0.1:proxy.port to the server
        proxy.stop()                                # refused from now on; every open connection reset
        proxy.start()                               # forwarding again, on the same port

It runs its own event loop in a thread of its own, so it serves async tests (whose loop it never blocks) and bot
processes a test starts alike; start() and stop() return once done. Between stop() and start() the port stays
bound without listening: connections to it are refused at once, as with a server that is down, and no other
program takes the port.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self._sock: socket.socket | None = self._bind(0)
        self.port: int = self._sock.getsockname()[1]
        self.accepted = 0  # connections forwarded so far, over the proxy's life
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._guard = threading.Lock()  # start/stop/close from any thread, one at a time

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        return sock

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(self) -> TcpProxy:
        """Listen and forward; nothing happens if it already does."""
        with self._guard:
            if self._closed:
                raise RuntimeError("this TcpProxy is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                                name=f"tcpproxy-{self.port}")
                self._thread.start()
            if self._server is None:
                self._run(self._listen())
        return self

    def stop(self) -> None:
        """Stop listening and reset every open connection, both sides: clients see the server gone."""
        with self._guard:
            self._stop()

    def close(self) -> None:
        """Stop, end the proxy's thread and give the port back."""
        with self._guard:
            self._stop()
            self._closed = True
            if self._sock is not None:
                self._sock.close()
                self._sock = None
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=5)
                self._loop.close()
                self._loop = self._thread = None

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _stop(self) -> None:
        if self._server is not None:
            self._run(self._unlisten())
            if not self._closed:
                self._sock = self._bind(self.port)  # keep the port, not listening: connections are refused

    def _run(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        sock, self._sock = self._sock, None
        self._server = await asyncio.start_server(self._forward, sock=sock, backlog=64)

    async def _unlisten(self) -> None:
        server, self._server = self._server, None
        server.close()  # closes the listening socket: new connections are refused
        for writer in list(self._writers):
            _reset(writer)
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5)

    async def _forward(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _reset(client_writer)  # the server itself is down: the client sees that
                return
            pair = {client_writer, upstream_writer}
            if self._server is None:  # stopped while connecting
                for writer in pair:
                    _reset(writer)
                return
            self.accepted += 1
            self._writers |= pair
            try:
                await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
            finally:
                self._writers -= pair
                for writer in pair:
                    writer.close()
        finally:
            self._handlers.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # an orderly close goes through as one
    except OSError:  # reset by stop(), or by either side
        pass


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST rather than a FIN, as a crashed server or a broken network does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
