"""What became of units: lineage files (data/lineage/**/*.toml, one per issuer and event) say which units merged
into, split into, were renamed to or abolished at a date, and which issuers merged. Every command reads them, so a
store built only with ``dxbot ingest`` knows them too.

A unit that takes over anything at a date (a merged unit, a share of a split one, another province's units) is a
different body from then on: its results before that date are its predecessor's, never one series with what came
after. Only a rename keeps the body. A result belongs to the body as it was at the end of its evaluated year: the
results "for 2025" of a body reorganised on 1/3/2025 are the new body's.
"""

from __future__ import annotations

import tomllib
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from dxcore.answering.i18n import Day, msg
from dxcore.parsing.model import Problem
from dxcore.paths import data_dir
from dxcore.steps import run_all
from dxcore.understanding.levels import LEVEL_NAMES
from dxcore.understanding.text import clean, name_key
from dxcore.understanding.vocabulary import unit_key

MERGED, SPLIT, RENAMED, TRANSFERRED, ABOLISHED = "merged", "split", "renamed", "transferred", "abolished"
ISSUER_MERGED = "issuer_merged"  # the unit's province merged into another; the same-named unit there took it over
CEASING = (MERGED, SPLIT, RENAMED, ABOLISHED, ISSUER_MERGED)  # the unit exists no more after the date
_STEP = 200  # units bound per step


class LineageError(ValueError):
    """A lineage file that cannot be read as one: the message says the file, the line and the field."""


@dataclass(frozen=True)
class Successor:
    name: str  # as the file writes it (the name the successor's decisions print)
    share: str = ""  # what part of the work went there, in words; "" for all of it, or the main successor
    issuer: str = ""  # "" for the event's issuer


@dataclass(frozen=True)
class Change:
    """One unit's fate at an event: ``kind`` and where its work went (none when abolished; for ``transferred``
    the unit goes on and only ``share`` moved)."""

    issuer: str
    level: str
    name: str
    kind: str
    day: date
    successors: tuple[Successor, ...]
    where: str  # file:line, for errors and logs


@dataclass(frozen=True)
class Event:
    """One lineage file."""

    issuer: str
    day: date
    title: str
    changes: tuple[Change, ...]
    abolished_levels: tuple[str, ...] = ()
    merged_issuers: tuple[str, ...] = ()  # provinces merged into ``issuer``: their units into its same-named ones
    where: str = ""


def _line_of(text: str, value: str) -> int:
    """The line of the file that writes ``value``, where a ``from`` writes it if one does (tomllib gives no
    positions)."""
    lines = text.splitlines()
    for wanted in (lambda line: line.lstrip().startswith("from") and value in line, lambda line: value in line):
        for number, line in enumerate(lines, start=1):
            if value and wanted(line):
                return number
    return 1


def _read_event(path: Path, shown: str) -> Event:
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LineageError(f"{shown}: {error}") from None

    def fail(field_name: str, problem: str, near: str = "") -> LineageError:
        return LineageError(f"{shown}:{_line_of(text, near or field_name)}: {field_name}: {problem}")

    def name(value: object, field_name: str, near: str = "") -> str:
        if not isinstance(value, str) or not clean(value):
            raise fail(field_name, "expected a unit's name as a string", near or str(value))
        return clean(value)

    issuer = raw.get("issuer")
    if not isinstance(issuer, str) or not issuer.strip():
        raise fail("issuer", "missing: the issuer whose units the file is about, as its decisions print it")
    day = raw.get("date")
    if not isinstance(day, date):
        raise fail("date", "missing or not a date (write it as 2025-03-01)")
    level = raw.get("level", "so")
    for code in [level, *raw.get("abolished_levels", [])]:
        if code not in LEVEL_NAMES:
            raise fail("level", f"unknown level {code!r} (one of {', '.join(LEVEL_NAMES)})", str(code))
    known = {MERGED, SPLIT, RENAMED, TRANSFERRED, ABOLISHED, "level", "issuer", "date", "title", "abolished_levels",
             "merged_issuers"}
    for key in raw:
        if key not in known:
            raise fail(key, f"unknown key (one of {', '.join(sorted(known))})", key)

    changes: list[Change] = []

    def add(kind: str, source: str, successors: list[Successor], near: str) -> None:
        changes.append(Change(issuer.strip(), level, source, kind, day, tuple(successors),
                              f"{shown}:{_line_of(text, near)}"))

    def parts(entry: dict, where: str, near: str) -> list[Successor]:
        found = []
        for i, part in enumerate(entry.get("parts", [])):
            if not isinstance(part, dict) or "share" not in part or "into" not in part:
                raise fail(f"{where}.parts[{i}]", 'expected { into = "…", share = "…" }', near)
            found.append(Successor(name(part["into"], f"{where}.parts[{i}].into"), clean(str(part["share"]))))
        return found

    for kind in (MERGED, SPLIT, RENAMED, TRANSFERRED, ABOLISHED):
        entries = raw.get(kind, [])
        if not isinstance(entries, list):
            raise fail(kind, f"expected [[{kind}]] tables")
        for i, entry in enumerate(entries):
            where = f"{kind}[{i}]"
            if not isinstance(entry, dict):
                raise fail(where, "expected a table")
            sources = entry.get("from")
            sources = sources if isinstance(sources, list) else [sources]
            sources = [name(s, f"{where}.from", f"[[{kind}]]") for s in sources]
            shares = parts(entry, where, sources[0])
            if kind == ABOLISHED:
                successors = []
            elif kind == SPLIT:
                if len(shares) < 2:
                    raise fail(f"{where}.parts", "a split names at least two parts, each with its share", sources[0])
                successors = shares
            else:
                into = name(entry.get("into"), f"{where}.into", sources[0])
                share = clean(str(entry.get("share", "")))
                if kind == TRANSFERRED and not share:
                    raise fail(f"{where}.share", "a transfer says which share of the work moved", sources[0])
                successors = [Successor(into, share), *shares]
            for source in sources:
                add(kind, source, successors, source)
    merged_issuers = tuple(clean(i) for i in raw.get("merged_issuers", []))
    return Event(issuer.strip(), day, clean(str(raw.get("title", ""))), tuple(changes),
                 tuple(raw.get("abolished_levels", [])), merged_issuers, shown)


def read_lineage(folder: Path) -> tuple[Event, ...]:
    """Every lineage file under ``folder``, oldest event first. Raises LineageError naming the file and line."""
    if not folder.is_dir():
        return ()
    events = [_read_event(path, f"{folder.name}/{path.relative_to(folder)}") for path in sorted(folder.rglob("*.toml"))]
    return tuple(sorted(events, key=lambda e: (e.day, e.where)))


@cache
def shipped_lineage() -> tuple[Event, ...]:
    return read_lineage(data_dir() / "lineage")


def still_ranked(decision, events: Iterable[Event] | None = None) -> list[tuple[object, Change]]:
    """Rows of a parsed decision naming a unit a lineage file says no longer existed in the year it evaluates
    (the file or the document may be wrong: worth a warning before publishing). (row, the change) each."""
    events = shipped_lineage() if events is None else events
    end = year_end(decision.evaluated_year)
    ceased = {(name_key(c.issuer), c.level, unit_key(c.name)): c for e in events for c in e.changes
              if c.kind in CEASING and c.day <= end}
    issuer = name_key(decision.issuer)
    return [(row, change) for level in decision.levels for row in level.rows
            if (change := ceased.get((issuer, level.code, unit_key(row.name)))) is not None]


def lineage_warnings(decision) -> list:
    """still_ranked as located warnings, for the ingest report and the admin's preview."""
    if decision is None or not decision.issuer:
        return []  # a report whose issuer is still to be given
    return [Problem(row.loc, msg("problem.lineage_ceased", name=row.name, day=Day(change.day), file=change.where,
                                 year=decision.evaluated_year)) for row, change in still_ranked(decision)]


# --- bound to the units stored ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predecessor:
    """Where part of a unit's body came from at ``day``: another unit (or the unit itself, as it was before)."""

    day: date
    name: str
    unit_id: int | None  # None: no decision of it is stored
    share: str = ""  # what of it came over; "" for all of it
    issuer: str = ""  # set when it is another issuer's unit


@dataclass(frozen=True)
class Fate:
    """How a unit ended: at ``day`` it ``kind`` (merged, split, renamed, abolished, issuer_merged) into these."""

    kind: str
    day: date
    successors: tuple[tuple[Successor, int | None], ...]  # with the successor's unit id where it is stored
    level: str = ""
    issuer_into: str = ""  # for issuer_merged: the issuer it merged into


@dataclass
class _Node:
    boundaries: list[date] = field(default_factory=list)  # days it took over something: a new body from each
    sources: list[Predecessor] = field(default_factory=list)  # what it took over
    renamed_from: list[tuple[date, int]] = field(default_factory=list)  # the same body under an older name
    fate: Fate | None = None


def year_end(year: int) -> date:
    return date(year, 12, 31)


class Lineage:
    """The lineage files bound to the stored units (by issuer, level and unit name key)."""

    def __init__(self, events: Iterable[Event], units: Iterable) -> None:
        """``units``: objects with id, name, level, issuer (the snapshot's UnitView)."""
        run_all(self._bind(tuple(events), units))

    @classmethod
    def in_steps(cls, events: Iterable[Event], units: Iterable) -> Generator[None, None, Lineage]:
        """The same, bound in steps (a store of 10,000 units takes about 0.2 s), for a caller on an event loop."""
        self = cls.__new__(cls)
        yield from self._bind(tuple(events), units)
        return self

    def _bind(self, events: tuple[Event, ...], units: Iterable) -> Generator[None, None, None]:
        self.events = events
        self._nodes: dict[int, _Node] = {}
        self._ids: dict[tuple[str, str, str], int] = {}
        named = {name_key(i) for e in events for i in (e.issuer, *e.merged_issuers)}
        issuer_keys: dict[str, str] = {}  # a few issuers, thousands of units: each issuer folded once
        concerned: list[tuple[str, object]] = []  # (issuer key, unit) of the issuers the files are about
        for i, unit in enumerate(units):
            key = issuer_keys.get(unit.issuer) or issuer_keys.setdefault(unit.issuer, name_key(unit.issuer))
            if key in named:
                concerned.append((key, unit))
                self._ids[(key, unit.level, unit_key(unit.name))] = unit.id
            if i % _STEP == _STEP - 1:
                yield
        for event in events:
            for change in event.changes:
                self._apply(change)
            for merged in event.merged_issuers:
                yield from self._merge_issuer(event, merged, concerned)
            gone = {name_key(issuer) for issuer in (event.issuer, *event.merged_issuers)}
            for i, (key, unit) in enumerate(concerned):
                if unit.level in event.abolished_levels and key in gone:
                    node = self._node(unit.id)
                    node.fate = node.fate or Fate(ABOLISHED, event.day, (), unit.level)
                if i % _STEP == _STEP - 1:
                    yield

    def unit_id(self, issuer: str, level: str, name: str) -> int | None:
        return self._ids.get((name_key(issuer), level, unit_key(name)))

    def _node(self, unit_id: int) -> _Node:
        return self._nodes.setdefault(unit_id, _Node())

    def _apply(self, change: Change) -> None:
        source = self.unit_id(change.issuer, change.level, change.name)
        resolved = tuple((s, self.unit_id(s.issuer or change.issuer, change.level, s.name)) for s in change.successors)
        if source is not None and change.kind in CEASING:
            self._node(source).fate = Fate(change.kind, change.day, resolved, change.level)
        for successor, target in resolved:
            if target is None:
                continue
            node = self._node(target)
            if change.kind == RENAMED and source is not None:
                node.renamed_from.append((change.day, source))
                continue
            share = successor.share if change.kind in (SPLIT, TRANSFERRED) or successor is not change.successors[0] \
                else ""
            node.sources.append(Predecessor(change.day, change.name, source, share))
            self._took_over(node, change.day)

    def _merge_issuer(self, event: Event, merged: str,
                      concerned: list[tuple[str, object]]) -> Generator[None, None, None]:
        """A province merged into ``event.issuer``: each of its units goes into the same-named unit there, and every
        unit of the successor issuer is a new body from that day."""
        successor, merged = name_key(event.issuer), name_key(merged)
        for i, (key, unit) in enumerate(concerned):
            if i % _STEP == _STEP - 1:
                yield
            if unit.level in event.abolished_levels:
                continue
            if key == successor:
                self._took_over(self._node(unit.id), event.day)
            elif key == merged:
                target = self.unit_id(event.issuer, unit.level, unit.name)
                node = self._node(unit.id)
                if node.fate is None or node.fate.day >= event.day:
                    successors = ((Successor(unit.name, "", event.issuer), target),) if target is not None else ()
                    node.fate = Fate(ISSUER_MERGED, event.day, successors, unit.level, event.issuer)
                if target is not None:
                    self._node(target).sources.append(Predecessor(event.day, unit.name, unit.id, "", unit.issuer))

    @staticmethod
    def _took_over(node: _Node, day: date) -> None:
        if day not in node.boundaries:
            node.boundaries.append(day)
            node.boundaries.sort()

    # --- reading ---

    def boundaries(self, unit_id: int) -> list[date]:
        node = self._nodes.get(unit_id)
        return node.boundaries if node else []

    def era(self, unit_id: int, evaluated_year: int) -> int:
        """Which body of the unit a result for that year describes: 0 before its first reorganisation, and so on."""
        end = year_end(evaluated_year)
        return sum(1 for day in self.boundaries(unit_id) if day <= end)

    def sources(self, unit_id: int) -> list[Predecessor]:
        node = self._nodes.get(unit_id)
        return node.sources if node else []

    def renamed_from(self, unit_id: int) -> list[tuple[date, int]]:
        node = self._nodes.get(unit_id)
        return node.renamed_from if node else []

    def fate(self, unit_id: int) -> Fate | None:
        node = self._nodes.get(unit_id)
        return node.fate if node else None

    def successors_among(self, unit_id: int, ranked: set[int], until: date) -> set[int]:
        """The units among ``ranked`` that took over a unit which ceased by ``until``, step by step (merged, then
        its province merged…): a chat following it is alerted through them."""
        found: set[int] = set()
        if unit_id in ranked:
            return found
        todo, seen = [unit_id], {unit_id}
        while todo:
            fate = self.fate(todo.pop())
            for _, successor in fate.successors if fate is not None and fate.day <= until else ():
                if successor is not None and successor not in seen:
                    seen.add(successor)
                    (found.add if successor in ranked else todo.append)(successor)
        return found

    def ceased_into(self, ranked: set[int], until: date) -> set[int]:
        """Every unit that ceased by ``until`` into one of ``ranked``."""
        return {unit_id for unit_id in self._nodes if self.successors_among(unit_id, ranked, until)}

    def unstored(self) -> list[tuple[str, str, str]]:
        """(issuer, level, name) of each unit the files name of which no decision is stored."""
        named: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for event in self.events:
            for change in event.changes:
                for issuer, name in [(change.issuer, change.name),
                                     *((s.issuer or change.issuer, s.name) for s in change.successors)]:
                    if self.unit_id(issuer, change.level, name) is None:
                        named.setdefault((name_key(issuer), change.level, unit_key(name)), (issuer, change.level, name))
        return list(named.values())

    def fate_of_name(self, issuer: str, level: str, name: str) -> Fate | None:
        """How a unit the files name ended, whether or not it is stored (the latest ceasing change)."""
        found = None
        for event in self.events:
            for change in event.changes:
                if change.kind in CEASING and self._names(change.issuer, change.level, change.name, issuer, level, name):
                    found = Fate(change.kind, change.day, tuple(
                        (s, self.unit_id(s.issuer or change.issuer, level, s.name)) for s in change.successors), level)
        return found

    def formed_from(self, issuer: str, level: str, name: str) -> list[Predecessor]:
        """What went into a unit the files name, whether or not it is stored."""
        return [Predecessor(change.day, change.name, self.unit_id(change.issuer, change.level, change.name), s.share)
                for event in self.events for change in event.changes for s in change.successors
                if self._names(s.issuer or change.issuer, change.level, s.name, issuer, level, name)]

    @staticmethod
    def _names(issuer: str, level: str, name: str, *other: str) -> bool:
        other_issuer, other_level, other_name = other
        return level == other_level and name_key(issuer) == name_key(other_issuer) \
            and unit_key(name) == unit_key(other_name)
