"""Untrusted documents are read in a child process that is killed at its time limit.

A thread cannot be stopped: a PDF that takes minutes would keep a core busy and hold the interpreter lock long after
its caller gave up, and keep the process from stopping. A child process is killed outright, and also limits itself
(CPU seconds and memory) so that it ends even if its parent dies first.

The child is this module run as a script: it reads ``<name length>\\n<name><document>`` on stdin and writes the
pickled ParseOutcome on stdout. Only this process ever unpickles what its own child wrote.
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
from dataclasses import dataclass
from datetime import date

from dxcore.parsing import GivenFacts, ParsedDecision, ParseOutcome, parse_bytes
from dxcore.steps import paced

log = logging.getLogger("dxbot.parsing")

PARSE_SECONDS = 30.0  # a document with a text layer gets this long, start-up of the child included
MEMORY_BYTES = 2 * 1024**3  # address space of the child: far above any real decision, far below this machine


# What the child inherits of the environment: enough to import this package and its data, none of the bot's secrets.
CHILD_ENVIRONMENT = ("PATH", "PYTHONPATH", "DXBOT_DATA_DIR", "LANG", "LC_ALL", "TMPDIR", "HOME")
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
    """The document was not read: ``reason`` is "too_slow", "interrupted" (the bot is stopping) or "crashed"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DocumentRead:
    """What the child made of a document: the outcome, and the decision's JSON, kept for the held preview."""

    outcome: ParseOutcome
    decision_json: str


class DocumentReader:
    """Reads documents in child processes, at most ``seconds`` each; ``interrupt()`` ends every read in progress
    (the bot is stopping), and reads asked for afterwards fail at once."""

    def __init__(self, seconds: float = PARSE_SECONDS) -> None:
        self.seconds = seconds
        self._children: set[asyncio.subprocess.Process] = set()
        self._interrupted = False

    async def read(self, data: bytes, name: str, given: GivenFacts | None = None) -> DocumentRead:
        if self._interrupted:
            raise ReadFailed("interrupted")
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, str(int(self.seconds) + 1),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env=child_environment())
        self._children.add(child)
        try:
            if self._interrupted:  # interrupt() ran while the child was being started
                raise ReadFailed("interrupted")
            given = given or GivenFacts()
            facts = {"issuer": given.issuer, "number": given.number, "year": given.year,
                     "signed": given.signed.isoformat() if given.signed else None}
            head = json.dumps({"name": name, "given": facts})
            out, err = await asyncio.wait_for(child.communicate(head.encode() + b"\n" + data), timeout=self.seconds)
        except TimeoutError:
            raise ReadFailed("too_slow") from None
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()
            self._children.discard(child)
        if self._interrupted:
            raise ReadFailed("interrupted")
        if child.returncode != 0:
            # Killed by its own CPU limit, out of memory, or a bug in a reader library: one line, no document text.
            log.warning("document reader for %r exited with %s: %s", name, child.returncode,
                        err.decode(errors="replace").strip().splitlines()[-1:] or "no message")
            raise ReadFailed("too_slow" if -child.returncode in (signal.SIGXCPU, signal.SIGKILL) else "crashed")
        try:
            errors, warnings, decision_json = _ModelUnpickler(io.BytesIO(out)).load()
        except (pickle.UnpicklingError, ValueError, TypeError, EOFError) as exc:
            log.warning("document reader for %r answered something else than a parse: %s", name, exc)
            raise ReadFailed("crashed") from None
        decision = await paced(ParsedDecision.from_json_in_steps(decision_json))
        return DocumentRead(ParseOutcome(decision, errors, warnings), decision_json)

    def interrupt(self) -> None:
        self._interrupted = True
        for child in list(self._children):
            with contextlib.suppress(ProcessLookupError):
                child.kill()


def _child(seconds: int) -> None:
    # Limits of its own: a child whose parent was killed still ends, and cannot take the machine's memory.
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    stdin = sys.stdin.buffer
    head = json.loads(stdin.readline())
    given = head["given"]
    signed = date.fromisoformat(given["signed"]) if given["signed"] else None
    outcome = parse_bytes(stdin.read(), head["name"], GivenFacts(given["issuer"], given["number"], signed, given["year"]))
    found = (outcome.errors, outcome.warnings, outcome.decision.to_json())
    sys.stdout.buffer.write(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    # Through the module's own name, so that what is pickled refers to dxcore.parsing.sandbox, not __main__.
    from dxcore.parsing.sandbox import _child as child

    child(int(sys.argv[1]))
