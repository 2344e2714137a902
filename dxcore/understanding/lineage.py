"""What became of units: lineage files (data/lineage/**/*.toml, one per issuer and event) say which units merged
into, split into, were renamed to or abolished at a date, and which issuers merged. Every command reads them, so a
store built only with ``dxbot ingest`` knows them too.

A unit that takes over anything at a date (a merged unit, a share of a split one, another province's units) is a
different body from then on: its results before that date are its predecessor's, never one series with what came
after. Only a rename keeps the body. A result belongs to the body as it was at the end of its evaluated year: the
results "for 2025" of a body reorganised on 1/3/2025 are the new body's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from dxcore.answering.i18n import Day, Level, msg
from dxcore.parsing.model import Problem
from dxcore.paths import data_dir
from dxcore.steps import run_all
from dxcore.understanding.levels import LEVEL_NAMES
from dxcore.understanding.text import clean, name_key
from dxcore.understanding.vocabulary import unit_key

MERGED, SPLIT, RENAMED, TRANSFERRED, ABOLISHED = "merged", "split", "renamed", "transferred", "abolished"
ISSUER_MERGED = "issuer_merged"  # the unit's province merged into another; the same-named unit there took it over
LEVEL_ABOLISHED = "level_abolished"  # its whole level was abolished (the district level in 2025)
CEASING = (MERGED, SPLIT, RENAMED, ABOLISHED, ISSUER_MERGED, LEVEL_ABOLISHED)  # it exists no more after the day
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
    merged_issuers: tuple[str, ...] = ()  # provinces merged into ``issuer``: their units of ``level`` into its
    where: str = ""  # same-named ones
    level: str = "so"


def _line_of(text: str, value: str, after: int = 0) -> int:
    """The line of the file that writes ``value`` at or after line ``after``, where a ``from`` writes it if one
    does (tomllib gives no positions)."""
    lines = text.splitlines()
    for wanted in (lambda line: line.lstrip().startswith("from") and value in line, lambda line: value in line):
        for number, line in enumerate(lines, start=1):
            if number >= after and value and wanted(line):
                return number
    return after or 1


def _table_line(text: str, kind: str, index: int) -> int:
    """The line of the index-th [[kind]] header."""
    headers = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip() == f"[[{kind}]]"]
    return headers[index] if index < len(headers) else 1


_TOP_KEYS = {"issuer", "date", "level", "title", "abolished_levels", "merged_issuers"}
_ENTRY_KEYS = {MERGED: {"from", "into", "parts"}, SPLIT: {"from", "parts"}, RENAMED: {"from", "into"},
               TRANSFERRED: {"from", "into", "share"}, ABOLISHED: {"from"}}


def _read_event(path: Path, shown: str) -> Event:
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"at line (\d+)", str(error))
        raise LineageError(f"{shown}:{at.group(1) if at else 1}: not TOML: {error}") from None

    def fail(field_name: str, problem: str, line: int) -> LineageError:
        return LineageError(f"{shown}:{line}: {field_name}: {problem}")

    def top_line(key: str) -> int:
        return next((n for n, line in enumerate(text.splitlines(), start=1)
                     if line.lstrip("[ \t").startswith(key)), 1)

    def name(value: object, field_name: str, line: int) -> str:
        if not isinstance(value, str) or not clean(value):
            raise fail(field_name, "expected a unit's name as a string", line)
        return clean(value)

    def names(value: object, field_name: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and clean(v) for v in value):
            raise fail(field_name, "expected a list of strings", top_line(field_name))
        return tuple(clean(v) for v in value)

    for key in raw:
        if key not in _TOP_KEYS | set(_ENTRY_KEYS):
            raise fail(key, f"unknown key (one of {', '.join(sorted(_TOP_KEYS | set(_ENTRY_KEYS)))})", top_line(key))
    issuer = raw.get("issuer")
    if not isinstance(issuer, str) or not issuer.strip():
        raise fail("issuer", "missing: the issuer whose units the file is about, as its decisions print it",
                   top_line("issuer"))
    day = raw.get("date")
    if type(day) is not date:  # a datetime is a date too, but not a day
        raise fail("date", "missing or not a day (write it as 2025-03-01)", top_line("date"))
    level = raw.get("level", "so")
    abolished_levels = names(raw.get("abolished_levels", []), "abolished_levels")
    for field_name, code in [("level", level), *(("abolished_levels", c) for c in abolished_levels)]:
        if code not in LEVEL_NAMES:
            raise fail(field_name, f"unknown level {code!r} (one of {', '.join(LEVEL_NAMES)})", top_line(field_name))
    merged_issuers = names(raw.get("merged_issuers", []), "merged_issuers")

    changes: list[Change] = []
    for kind in (MERGED, SPLIT, RENAMED, TRANSFERRED, ABOLISHED):
        entries = raw.get(kind, [])
        if not isinstance(entries, list):
            raise fail(kind, f"expected [[{kind}]] tables", top_line(kind))
        for i, entry in enumerate(entries):
            where, line = f"{kind}[{i}]", _table_line(text, kind, i)
            if not isinstance(entry, dict):
                raise fail(where, "expected a table", line)
            for key in entry:
                if key not in _ENTRY_KEYS[kind]:
                    raise fail(f"{where}.{key}", f"unknown key (one of {', '.join(sorted(_ENTRY_KEYS[kind]))})",
                               _line_of(text, key, line))
            sources = entry.get("from")
            sources = sources if isinstance(sources, list) and kind == MERGED else [sources]
            if not sources:
                raise fail(f"{where}.from", "names no unit", line)
            sources = [name(s, f"{where}.from", line) for s in sources]
            shares = []
            for j, part in enumerate(entry.get("parts", [])):
                if not isinstance(part, dict) or set(part) != {"into", "share"}:
                    raise fail(f"{where}.parts[{j}]", 'expected { into = "…", share = "…" }', line)
                shares.append(Successor(name(part["into"], f"{where}.parts[{j}].into", line),
                                        name(part["share"], f"{where}.parts[{j}].share", line)))
            if kind == ABOLISHED:
                successors = []
            elif kind == SPLIT:
                if len(shares) < 2:
                    raise fail(f"{where}.parts", "a split names at least two parts, each with its share", line)
                successors = shares
            else:
                into = name(entry.get("into"), f"{where}.into", line)
                share = clean(str(entry.get("share", "")))
                if kind == TRANSFERRED and not share:
                    raise fail(f"{where}.share", "a transfer says which share of the work moved", line)
                successors = [Successor(into, share), *shares]
            for source in sources:
                if any(unit_key(s.name) == unit_key(source) for s in successors):
                    raise fail(where, f"{source!r} cannot go into itself", line)
                changes.append(Change(issuer.strip(), level, source, kind, day, tuple(successors),
                                      f"{shown}:{_line_of(text, source, line)}"))
    return Event(issuer.strip(), day, clean(str(raw.get("title", ""))), tuple(changes), abolished_levels,
                 merged_issuers, shown, level)


def read_lineage(folder: Path) -> tuple[Event, ...]:
    """Every lineage file under ``folder``, oldest event first. Raises LineageError naming the file and line."""
    if not folder.is_dir():
        return ()
    events = [_read_event(path, f"{folder.name}/{path.relative_to(folder)}") for path in sorted(folder.rglob("*.toml"))]
    events.sort(key=lambda e: (e.day, e.where))
    _refuse_cycles(events)
    return tuple(events)


def _refuse_cycles(events: list[Event]) -> None:
    """A unit cannot become, step by step, what it came from: files saying so contradict each other."""
    into: dict[tuple, list[tuple[tuple, Change]]] = {}
    for event in events:
        for change in event.changes:
            if change.kind == TRANSFERRED:
                continue  # the unit goes on: a share moving back later is no contradiction
            source = (name_key(change.issuer), change.level, unit_key(change.name))
            for successor in change.successors:
                target = (name_key(successor.issuer or change.issuer), change.level, unit_key(successor.name))
                into.setdefault(source, []).append((target, change))
    for start in into:
        todo, seen = [start], {start}
        while todo:
            for target, change in into.get(todo.pop(), ()):
                if target == start:
                    raise LineageError(f"{change.where}: {change.name}: a cycle: it becomes, step by step, what it "
                                       "came from")
                if target not in seen:
                    seen.add(target)
                    todo.append(target)


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
    """What the lineage files contradict in a parsed decision, as located warnings for the ingest report and the
    admin's preview: a unit ranked after it ceased, an issuer ranking after it merged into another, a level ranked
    after it was abolished."""
    if decision is None or not decision.issuer:
        return []  # a report whose issuer is still to be given
    end, issuer = year_end(decision.evaluated_year), name_key(decision.issuer)
    warnings = [Problem(row.loc, msg("problem.lineage_ceased", name=row.name, day=Day(change.day), file=change.where,
                                     year=decision.evaluated_year)) for row, change in still_ranked(decision)]
    for event in shipped_lineage():
        if event.day > end:
            continue
        if issuer in {name_key(i) for i in event.merged_issuers} and decision.levels:
            warnings.append(Problem(decision.levels[0].loc, msg(
                "problem.lineage_issuer_merged", issuer=decision.issuer, into=event.issuer, day=Day(event.day),
                file=event.where, year=decision.evaluated_year)))
        if issuer in {name_key(i) for i in (event.issuer, *event.merged_issuers)}:
            warnings += [Problem(level.loc, msg("problem.lineage_level_abolished", level=Level(level.code, lower=True),
                                                day=Day(event.day), file=event.where, year=decision.evaluated_year))
                         for level in decision.levels if level.code in event.abolished_levels]
    return warnings


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
        self._names: dict[int, str] = {}
        named = {name_key(i) for e in events for i in (e.issuer, *e.merged_issuers)}
        issuer_keys: dict[str, str] = {}  # a few issuers, thousands of units: each issuer folded once
        concerned: list[tuple[str, object]] = []  # (issuer key, unit) of the issuers the files are about
        for i, unit in enumerate(units):
            key = issuer_keys.get(unit.issuer) or issuer_keys.setdefault(unit.issuer, name_key(unit.issuer))
            if key in named:
                concerned.append((key, unit))
                self._ids[(key, unit.level, unit_key(unit.name))] = unit.id
                self._names[unit.id] = unit.name
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
                    node.fate = node.fate or Fate(LEVEL_ABOLISHED, event.day, (), unit.level)
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
        """A province merged into ``event.issuer``: each of its units of the file's level goes into the unit of the
        same name there (or into what that unit had become by then), and every unit of that level there is a new
        body from that day. Its units of other levels (communes, rearranged on their own) have no successor."""
        successor, merged = name_key(event.issuer), name_key(merged)
        for i, (key, unit) in enumerate(concerned):
            if i % _STEP == _STEP - 1:
                yield
            if unit.level in event.abolished_levels or (key == successor and not self._alive(unit.id, event.day)):
                continue
            if key == successor and unit.level == event.level:
                self._took_over(self._node(unit.id), event.day)
            elif key == merged:
                same = self.unit_id(event.issuer, unit.level, unit.name) if unit.level == event.level else None
                targets = self.became(same, event.day) if same is not None else []
                node = self._node(unit.id)
                if node.fate is None or node.fate.day >= event.day:
                    node.fate = Fate(ISSUER_MERGED, event.day,
                                     tuple((Successor(self._name_of(t, unit.name), "", event.issuer), t)
                                           for t in targets), unit.level, event.issuer)
                for target in targets:
                    self._node(target).sources.append(Predecessor(event.day, unit.name, unit.id, "", unit.issuer))

    def _alive(self, unit_id: int, day: date) -> bool:
        fate = self.fate(unit_id)
        return fate is None or fate.day > day

    def became(self, unit_id: int, day: date = date.max) -> list[int]:
        """What a unit had become by ``day`` (by default: what it is now): itself, or the stored successors of what
        it merged into, step by step."""
        found, todo, seen = [], [unit_id], {unit_id}
        while todo:
            current = todo.pop(0)
            if self._alive(current, day):
                found.append(current)
                continue
            for _, successor in self.fate(current).successors:
                if successor is not None and successor not in seen:
                    seen.add(successor)
                    todo.append(successor)
        return found

    def _name_of(self, unit_id: int, default: str) -> str:
        return self._names.get(unit_id, default)

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
                if change.kind in CEASING and self._same(change.issuer, change.level, change.name, issuer, level, name):
                    found = Fate(change.kind, change.day, tuple(
                        (s, self.unit_id(s.issuer or change.issuer, level, s.name)) for s in change.successors), level)
        return found

    def formed_from(self, issuer: str, level: str, name: str) -> list[Predecessor]:
        """What went into a unit the files name, whether or not it is stored."""
        return [Predecessor(change.day, change.name, self.unit_id(change.issuer, change.level, change.name), s.share)
                for event in self.events for change in event.changes for s in change.successors
                if self._same(s.issuer or change.issuer, change.level, s.name, issuer, level, name)]

    @staticmethod
    def _same(issuer: str, level: str, name: str, *other: str) -> bool:
        other_issuer, other_level, other_name = other
        return level == other_level and name_key(issuer) == name_key(other_issuer) \
            and unit_key(name) == unit_key(other_name)
