"""Untrusted documents are read in a child process that is killed at its time limit.

A thread cannot be stopped: a PDF that takes minutes would keep a core busy and hold the interpreter lock long after
its caller gave up, and keep the process from stopping. A child process is killed outright, and also limits itself
(CPU seconds and memory) so that it ends even if its parent dies first.

The child is this module run as a script: it reads a JSON line (the file name and given facts) and the document on
stdin, and writes the pickled outcome on stdout, preceded by ``SCAN\\n`` as soon as it starts reading a page by OCR:
a scan gets a longer time limit than a typed document, and a PDF mixing typed and scanned pages is only known once
opened. Only this process ever unpickles what its own child wrote. The child leads a process group of its own, so
that killing it also ends the Tesseract processes it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import pickle
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from dxcore.parsing import GivenFacts, ParsedDecision, ParseOutcome, parse_bytes
from dxcore.parsing.ocr import SCAN_SECONDS, is_scan
from dxcore.steps import paced

log = logging.getLogger("dxbot.parsing")

PARSE_SECONDS = 30.0  # a document with a text layer gets this long, start-up of the child included
SCAN_MARK = b"SCAN\n"  # the child's word that OCR has started: the scan's limit applies from then on
MEMORY_BYTES = 2 * 1024**3  # address space of the child: far above any real decision, far below this machine


# What the child inherits of the environment: enough to import this package and its data, none of the bot's secrets.
CHILD_ENVIRONMENT = ("PATH", "PYTHONPATH", "DXBOT_DATA_DIR", "LANG", "LC_ALL", "TMPDIR", "HOME", "TESSDATA_PREFIX",
                     "OMP_THREAD_LIMIT")
# Classes a child's answer may hold (its problems); anything else in the pickle is refused.
_ALLOWED = {("dxcore.parsing.model", "Problem"), ("dxcore.parsing.model", "Location"),
            ("dxcore.answering.i18n", "Msg"), ("dxcore.answering.i18n", "Joined"),
            ("decimal", "Decimal"), ("datetime", "date")}


def child_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name in CHILD_ENVIRONMENT}


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a document's problems")
        return super().find_class(module, name)


class ReadFailed(Exception):
    """The document was not read: ``reason`` is "too_slow", "interrupted" (the bot is stopping) or "crashed";
    ``seconds`` is the time limit that applied (a scan's is longer)."""

    def __init__(self, reason: str, seconds: float = PARSE_SECONDS) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds


@dataclass(frozen=True)
class DocumentRead:
    """What the child made of a document: the outcome, and the decision's JSON, kept for the held preview."""

    outcome: ParseOutcome
    decision_json: str


OnScan = Callable[[], Awaitable[None] | None]


class DocumentReader:
    """Reads documents in child processes, at most ``seconds`` each (``scan_seconds`` once OCR starts);
    ``interrupt()`` ends every read in progress (the bot is stopping), and reads asked for afterwards fail at once."""

    def __init__(self, seconds: float = PARSE_SECONDS, scan_seconds: float = SCAN_SECONDS) -> None:
        self.seconds = seconds
        self.scan_seconds = scan_seconds
        self._children: set[asyncio.subprocess.Process] = set()
        self._interrupted = False

    def limit_for(self, data: bytes) -> float:
        """The time limit a document starts with: a scan's when it is one by its bytes (``ocr.is_scan``)."""
        return max(self.seconds, self.scan_seconds) if is_scan(data) else self.seconds

    async def read(self, data: bytes, name: str, given: GivenFacts | None = None,
                   on_scan: OnScan | None = None) -> DocumentRead:
        """``on_scan`` is called (and awaited, if a coroutine function) once the document is known to be read by
        OCR: at once for a scan by its bytes, else when the child starts OCR on a page of a mixed PDF."""
        if self._interrupted:
            raise ReadFailed("interrupted", self.seconds)
        loop = asyncio.get_running_loop()
        started = loop.time()
        limit = self.limit_for(data)
        scan_limit = max(self.seconds, self.scan_seconds)
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, str(int(self.seconds) + 1), str(int(scan_limit) + 1),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=child_environment(), start_new_session=True)
        self._children.add(child)
        announced = False
        helpers: list[asyncio.Future] = []

        async def announce() -> None:
            nonlocal announced
            if not announced and on_scan is not None:
                announced = True
                result = on_scan()
                if asyncio.iscoroutine(result):
                    await result

        try:
            if self._interrupted:  # interrupt() ran while the child was being started
                raise ReadFailed("interrupted", limit)
            if limit > self.seconds:
                await announce()
            given = given or GivenFacts()
            facts = {"issuer": given.issuer, "number": given.number, "year": given.year,
                     "signed": given.signed.isoformat() if given.signed else None}
            head = json.dumps({"name": name, "given": facts})
            assert child.stdin is not None and child.stdout is not None and child.stderr is not None
            errors_read = asyncio.ensure_future(child.stderr.read())
            feeding = asyncio.ensure_future(_feed(child.stdin, head.encode() + b"\n" + data))
            helpers += [errors_read, feeding]
            out = bytearray()
            while True:
                remaining = started + limit - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                chunk = await asyncio.wait_for(child.stdout.read(1 << 16), timeout=remaining)
                if not chunk:
                    break
                out += chunk
                if out.startswith(SCAN_MARK) and limit < scan_limit:
                    limit = scan_limit
                    await announce()
            await asyncio.wait_for(child.wait(), timeout=max(0.1, started + limit - loop.time()))
            await feeding
            err = await errors_read
        except TimeoutError:
            raise ReadFailed("too_slow", limit) from None
        finally:
            if child.returncode is None:
                _kill(child)
                await child.wait()
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            self._children.discard(child)
        if self._interrupted:
            raise ReadFailed("interrupted", limit)
        if child.returncode != 0:
            # Killed by its own CPU limit, out of memory, or a bug in a reader library: one line, no document text.
            log.warning("document reader for %r exited with %s: %s", name, child.returncode,
                        err.decode(errors="replace").strip().splitlines()[-1:] or "no message")
            raise ReadFailed("too_slow" if -child.returncode in (signal.SIGXCPU, signal.SIGKILL) else "crashed", limit)
        try:
            body = bytes(out[len(SCAN_MARK):] if out.startswith(SCAN_MARK) else out)
            errors, warnings, decision_json, scanned, doubts = _ModelUnpickler(io.BytesIO(body)).load()
        except (pickle.UnpicklingError, ValueError, TypeError, EOFError) as exc:
            log.warning("document reader for %r answered something else than a parse: %s", name, exc)
            raise ReadFailed("crashed", limit) from None
        decision = await paced(ParsedDecision.from_json_in_steps(decision_json))
        return DocumentRead(ParseOutcome(decision, errors, warnings, scanned=scanned, doubts=doubts), decision_json)

    def interrupt(self) -> None:
        self._interrupted = True
        for child in list(self._children):
            _kill(child)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a child that died early reads no more
        stdin.write(data)
        await stdin.drain()
        stdin.close()


def _kill(child: asyncio.subprocess.Process) -> None:
    """The child and everything it started (Tesseract): its whole process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        child.kill()


def _child(seconds: int, scan_seconds: int) -> None:
    # Limits of its own: a child whose parent was killed still ends, and cannot take the machine's memory.
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, scan_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    stdin = sys.stdin.buffer
    head = json.loads(stdin.readline())
    given = head["given"]
    signed = date.fromisoformat(given["signed"]) if given["signed"] else None

    def on_scan() -> None:
        # OCR runs Tesseract in processes of their own, which inherit this limit as it is when they start.
        resource.setrlimit(resource.RLIMIT_CPU, (scan_seconds, scan_seconds + 1))
        sys.stdout.buffer.write(SCAN_MARK)
        sys.stdout.buffer.flush()

    outcome = parse_bytes(stdin.read(), head["name"], GivenFacts(given["issuer"], given["number"], signed, given["year"]),
                          on_scan=on_scan)
    found = (outcome.errors, outcome.warnings, outcome.decision.to_json(), outcome.scanned, outcome.doubts)
    sys.stdout.buffer.write(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    # Through the module's own name, so that what is pickled refers to dxcore.parsing.sandbox, not __main__.
    from dxcore.parsing.sandbox import _child as child

    child(int(sys.argv[1]), int(sys.argv[2]))
