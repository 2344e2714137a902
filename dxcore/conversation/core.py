"""The conversation core: every flow of the bot, for any messenger.

Events in (dxcore.conversation.events), replies out. The core reads questions, answers them, offers choices with
sealed button payloads, teaches the resolver from picks, follows and unfollows, previews and publishes uploaded
decisions, and keeps chats current; it owns every transaction. Adapters only translate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import math
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from dxcore.alerts import subscriptions as S
from dxcore.answering import answers as A
from dxcore.answering.assistant import answer_text, unit_answer, unit_history_answer
from dxcore.answering.i18n import msg
from dxcore.answering.reports import unit_chart_answer
from dxcore.conversation import actions as B
from dxcore.conversation.events import (
    Membership,
    Migrated,
    Outcome,
    Person,
    Place,
    Pressed,
    Replace,
    Said,
    Toast,
    Uploaded,
)
from dxcore.conversation.limits import CHART, EXPORT, Cooldown
from dxcore.observability import metrics
from dxcore.parsing import ParsedDecision
from dxcore.parsing.readers import MAX_DOCUMENT_BYTES
from dxcore.parsing.sandbox import DocumentReader, ReadFailed
from dxcore.publishing import publish as P
from dxcore.publishing.caption import facts_from_caption, missing_facts
from dxcore.steps import paced
from dxcore.store.db import Database
from dxcore.store.links import LinkRecorder, forget_old
from dxcore.understanding import intents as I
from dxcore.understanding.catalog import Catalog, CatalogView, record_pick
from dxcore.understanding.levels import LEVEL_ORDER
from dxcore.understanding.lineage import lineage_warnings

log = logging.getLogger("dxbot.conversation")

REPEAT_WINDOW = timedelta(seconds=60)  # the same command in the same group within this gets a pointer, not an answer
START_PAYLOAD_LIMIT = 64  # Telegram's limit on a /start parameter, from [A-Za-z0-9_-]
INLINE_RESULTS = 10
NOT_REDONE = {"start", "dangky", "huydangky"}
ANSWERS_KEPT = 4096  # answers remembered per catalog view (they are read-only and shared by every chat)
MAX_ALIAS_KEY = 300  # the alias table's text column; a longer question is answered but not learned  # edited, these commands are not carried out again

FileFetcher = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class Card:
    """An inline result: a forwardable answer, and the /start parameter that opens the full answer (or None)."""

    id: str
    answer: A.Answer
    start: str | None


def notice(text) -> A.Answer:
    """A one-sentence reply (no title styling)."""
    return A.Answer("notice", text)


def _count(answer: A.Answer, person: Person) -> A.Answer:
    """An answer given to someone: counted by kind and language (dxbot_answers_total)."""
    metrics.count(metrics.ANSWERS, answer.kind, person.lang)
    return answer


def encode_question(question: str) -> str | None:
    encoded = "q_" + base64.urlsafe_b64encode(question.encode()).decode().rstrip("=")
    return encoded if len(encoded) <= START_PAYLOAD_LIMIT else None


def decode_question(encoded: str) -> str | None:
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


class Conversation:
    """One per process. ``fetch_file`` downloads an uploaded document by its reference (the adapter's); ``links``
    remembers which messages answered which question (None: edits are answered anew, no repeat pointers);
    ``messenger`` prefixes user ids in the audit trail ("tg:42"); ``reader`` reads uploaded documents, each in a
    child process killed at its time limit; ``cooldown`` spaces charts and exports per chat (None: never, as for
    the CLI)."""

    def __init__(self, db: Database, catalog: Catalog, seal: B.ButtonSeal, *, admins: frozenset[int] = frozenset(),
                 links: LinkRecorder | None = None, fetch_file: FileFetcher | None = None,
                 messenger: str = "local", reader: DocumentReader | None = None,
                 cooldown: Cooldown | None = None) -> None:
        self.db, self.catalog, self.seal, self.admins = db, catalog, seal, admins
        self.links, self.fetch_file, self.messenger = links, fetch_file, messenger
        self.reader = reader or DocumentReader()
        self.answers = AnswerCache()
        self.cooldown = cooldown

    def interrupt_reads(self) -> None:
        """The process is stopping: documents being read are dropped (their admins are told), none are started."""
        self.reader.interrupt()

    async def view(self) -> CatalogView:
        return await self.catalog.current(self.db)

    # --- questions and commands ---------------------------------------------------------------------------------

    async def said(self, event: Said) -> Outcome:
        command, args = I.split_command(event.question)
        if event.edited and command in NOT_REDONE:
            return Outcome()
        if command == "start":
            return await self._start(event, args)
        if command in ("dangky", "huydangky"):
            return await self._change_subscriptions(event, args, removing=command == "huydangky")
        return await self._question(event)

    def _asked(self, event: Said) -> str:
        """The question as links remember it: per forum topic, and "/top@thisbot 3" the same as "/top 3"."""
        command, args = I.split_command(event.question)
        return f"{event.place.thread_id}|" + (f"/{command} {args}" if command else event.question)

    async def _question(self, event: Said, *, teach: bool = True) -> Outcome:
        place, asked = event.place, self._asked(event)
        outcome = Outcome(brief=place.is_group, remember=asked)
        if place.is_group and not event.edited and event.question.startswith("/") and self.links:
            if earlier := await self.links.recent_answer(place.chat_id, asked, REPEAT_WINDOW):
                return Outcome(brief=True).send(notice(msg("bot.repeat")), reply_to=earlier)
        view = await self.view()
        answer = self.answers.answer(view, self.catalog.generation, event.question, place.chat_id)
        if answer is None:  # a command that is not a question
            if event.edited:
                return Outcome()
            # a bare "/x" in a group may be another bot's command; "/x@thisbot" is ours
            if not place.is_group or "@" in event.question.split()[0]:
                return Outcome(brief=place.is_group).send(notice(msg("bot.unknown_command")), quote=place.is_group)
            return Outcome()
        if too_soon := self._too_soon(place, answer):  # not remembered: asking again later must get the file
            return Outcome(brief=place.is_group).send(too_soon, quote=place.is_group)
        _count(answer, event.person)
        answer = self._sealed(answer, place, view, I.split_command(event.question)[1] if teach else None)
        quote = place.is_group or _offers_picks(answer)
        if event.edited:
            earlier = await self.links.answer_to(place.chat_id, event.message_id) if self.links else None
            outcome.replies.append(Replace(answer, tuple(earlier or ()), quote=quote))
        else:
            outcome.send(answer, quote=quote)
        return outcome

    async def answered(self, place: Place, message_id: int, remember: str, answer_ids: list[int]) -> None:
        """The adapter sent (or edited) these messages to answer the question ``message_id``."""
        if self.links and answer_ids:
            self.links.add(place.chat_id, message_id, remember, answer_ids)

    async def forget_old_links(self) -> int:
        """Links to answers the messenger no longer lets the bot edit (run now and then)."""
        async with self.db.session() as session, session.begin():
            return await forget_old(session)

    async def _start(self, event: Said, payload: str) -> Outcome:
        """/start, or a deep link: ``u_<unit>[_<year>]`` a unit's answer, ``q_<base64>`` a question."""
        place, view = event.place, await self.view()
        outcome = Outcome(brief=place.is_group)
        if m := re.fullmatch(r"u_(\d+)(?:_(\d{4}))?", payload.strip()):
            return outcome.send(unit_answer(view, int(m.group(1)), int(m.group(2)) if m.group(2) else None))
        if payload.startswith("q_") and (question := decode_question(payload[2:])):
            if (answer := answer_text(view, question, chat_id=place.chat_id)) is not None:
                return outcome.send(self._sealed(answer, place, view, None))
        welcome = A.Answer("help", msg("bot.welcome"), choices=A.help_answer().choices)
        return outcome.send(self._sealed(welcome, place, view, None))

    def _too_soon(self, place: Place, answer: A.Answer) -> A.Answer | None:
        """A chart or an export asked for again within the chat's cooldown: the notice to send instead (drawing
        and sending files is what a chat's repeated taps would make expensive)."""
        if self.cooldown is None or not answer.attachments:
            return None
        what = EXPORT if any(a.kind == "document" for a in answer.attachments) else CHART
        wait = self.cooldown.claim(place.chat_id, what)
        return notice(msg(f"limits.{what}", seconds=math.ceil(wait))) if wait else None

    def _sealed(self, answer: A.Answer, place: Place, view: CatalogView, question: str | None) -> A.Answer:
        """The answer's buttons, each payload sealed for this chat; picks bound to this catalog and to the question
        they answer (None: a question the user did not type in the chat, such as an example, which picks do not
        teach)."""
        if not answer.choices:
            return answer
        key = view.resolver.alias_key(question) if question is not None else None

        def bound(action: B.Action) -> B.Action:
            if not isinstance(action, B.Pick):
                return action
            tag = self.seal.question_tag(place.chat_id, action.unit_id, key) if key else B.NOT_TAUGHT
            return replace(action, epoch=view.epoch, tag=tag)

        # A copy: the answer may be the cached one, shared by every chat.
        return replace(answer, choices=[replace(c, payload=self.seal.seal(bound(c.action), place.chat_id))
                                        for c in answer.choices])

    # --- buttons ------------------------------------------------------------------------------------------------

    async def pressed(self, event: Pressed) -> Outcome:
        place = event.place
        opened = self.seal.open(event.payload, place.chat_id)
        if opened.action is None:
            return await self._refuse(event, opened.refusal or B.FORGED)
        if event.offered is not None and event.payload not in event.offered:
            return await self._refuse(event, B.FORGED)  # a genuine button, pressed on a message that never had it
        action = opened.action
        if not isinstance(action, B.Pick):  # a pick is checked further before it is acknowledged
            await event.acknowledge(None)
        if isinstance(action, B.AskExample):
            if not 0 <= action.index < len(A.HELP_EXAMPLES):
                return await self._refuse(event, B.OUTDATED)
            # Not a message of the user's: nothing to link an edit to, and no question for a pick to teach.
            outcome = await self._question(Said(place, event.person, A.HELP_EXAMPLES[action.index]), teach=False)
            outcome.remember = None
            return outcome
        if isinstance(action, B.Pick):
            return await self._pick(event, action)
        if isinstance(action, B.ShowHistory | B.ShowChart | B.ShowUnit):
            view = await self.view()
            if action.unit_id not in view.snapshot.units:
                return await self._refuse(event, B.OUTDATED)
            make = {B.ShowHistory: unit_history_answer, B.ShowChart: unit_chart_answer, B.ShowUnit: unit_answer}
            answer = make[type(action)](view, action.unit_id)
            return Outcome(brief=place.is_group).send(self._too_soon(place, answer) or _count(answer, event.person))
        if isinstance(action, B.Follow | B.Unfollow):
            return await self._subscription_button(event, action)
        if isinstance(action, B.Publish | B.CancelPublish):
            return await self._publish_button(event, action)
        return await self._refuse(event, B.FORGED)

    async def _refuse(self, event: Pressed, why: str) -> Outcome:
        # Never the payload or any text of the user's: only who, where and why.
        log.warning("refused a button (%s) from user %s in chat %s", why, event.person.user_id, event.place.chat_id)
        notice = msg(f"button.{why}")
        await event.acknowledge(notice)
        return Outcome(replies=[Toast(notice)], changes=[f"refused:{why}"])

    async def _pick(self, event: Pressed, pick: B.Pick) -> Outcome:
        """A unit chosen among those offered: answered in place of the choices; taught to the resolver when the
        question it was offered for is still known and is the one the button was sealed with."""
        place, view = event.place, await self.view()
        if pick.epoch != view.epoch or pick.unit_id not in view.snapshot.units:
            return await self._refuse(event, B.OUTDATED)
        outcome = Outcome(brief=place.is_group)
        if pick.tag != B.NOT_TAUGHT and event.answered is not None:
            key = view.resolver.alias_key(I.split_command(event.answered)[1])
            if self.seal.question_tag(place.chat_id, pick.unit_id, key) != pick.tag:
                return await self._refuse(event, B.FORGED)  # made for another question than this message answers
            await event.acknowledge(None)
            if event.person.user_id is not None and key and len(key) <= MAX_ALIAS_KEY:
                async with self.db.session() as session, session.begin():
                    row = await record_pick(session, key, pick.unit_id, chat_id=place.chat_id,
                                            user_id=event.person.user_id)
                self.catalog.learned(row)  # in place, this process at once; other replicas at their next check
                outcome.changes.append(f"learned:{pick.unit_id}")
        else:
            await event.acknowledge(None)
        answer = _count(unit_answer(view, pick.unit_id, pick.year or None), event.person)
        outcome.replies.append(Replace(answer, (event.message_id,)))
        return outcome

    # --- subscriptions ------------------------------------------------------------------------------------------

    async def _may_change(self, place: Place, person: Person) -> bool:
        """In groups only chat administrators may change what the chat follows (asked every time)."""
        return not place.is_group or await person.may_administer()

    async def _levels(self, view: CatalogView) -> list[str]:
        return sorted({r.level for r in view.snapshot.rankings}, key=lambda lv: LEVEL_ORDER.get(lv, 99))

    async def _change_subscriptions(self, event: Said, args: str, *, removing: bool) -> Outcome:
        place, person, view = event.place, event.person, await self.view()
        outcome = Outcome(brief=place.is_group)
        if not args.strip():
            levels = [] if removing else await self._levels(view)
            async with self.db.session() as session:
                subs = await S.subscriptions_of(session, place.chat_id, place.thread_id)
            names = {u.id: u.name for u in view.snapshot.units.values()}
            follows = [(s.id, s.scope, s.level, names.get(s.unit_id), s.silent) for s in subs]
            listing = A.subscriptions_answer(follows, removing=removing, levels=levels)
            return outcome.send(self._sealed(listing, place, view, None))
        if not await self._may_change(place, person):
            return outcome.send(A.not_allowed_answer())
        choice = S.parse_target(args, view.resolver, set(await self._levels(view)))
        if removing:
            if choice.target is None:
                return outcome.send(A.unsubscribed_answer(None, 0))
            return await self._unfollow(outcome, place, view, choice.target)
        if choice.target is not None:
            return await self._follow(outcome, place, person, view, choice.target, choice.silent)
        answer = A.ambiguous_answer(args, choice.candidates, None) if choice.candidates else \
            A.not_found_answer(args, (), None)
        answer.choices = [A.Choice(c.label, B.Follow(S.UNIT, unit_id=c.action.unit_id, silent=choice.silent))
                          for c in answer.choices]
        return outcome.send(self._sealed(answer, place, view, args))

    async def _follow(self, outcome: Outcome, place: Place, person: Person, view: CatalogView, target: S.Target,
                      silent: bool) -> Outcome:
        async with self.db.session() as session, session.begin():
            # Alerts are written in the language of whoever subscribed the chat last.
            await S.ensure_chat(session, place.chat_id, place.kind, place.title, language=person.lang)
            created = await S.subscribe(session, place.chat_id, target, thread_id=place.thread_id, silent=silent,
                                        user_id=person.user_id)
        unit = view.snapshot.units.get(target.unit_id)
        label = A.follow_label(target.scope, target.level, unit.name if unit else None)
        outcome.changes.append(f"followed:{target.scope}:{target.level}:{target.unit_id}")
        return outcome.send(A.subscribed_answer(label, created, silent))

    async def _unfollow(self, outcome: Outcome, place: Place, view: CatalogView, target: S.Target) -> Outcome:
        every = target.scope == S.ALL  # "tatca": every subscription of the chat goes
        async with self.db.session() as session, session.begin():
            removed = await S.unsubscribe(session, place.chat_id, None if every else target, thread_id=place.thread_id)
        unit = view.snapshot.units.get(target.unit_id)
        label = None if every else A.follow_label(target.scope, target.level, unit.name if unit else None)
        outcome.changes.append(f"unfollowed:{removed}")
        return outcome.send(A.unsubscribed_answer(label, removed))

    async def _subscription_button(self, event: Pressed, action: B.Follow | B.Unfollow) -> Outcome:
        place, person = event.place, event.person
        outcome = Outcome(brief=place.is_group)
        if not await self._may_change(place, person):
            return outcome.send(A.not_allowed_answer())
        if isinstance(action, B.Unfollow):
            async with self.db.session() as session, session.begin():
                removed = await S.remove_by_id(session, place.chat_id, action.subscription_id)
            outcome.changes.append(f"unfollowed:{removed}")
            return outcome.send(A.unsubscribed_answer(None, removed))
        view = await self.view()
        if action.scope not in (S.ALL, S.LEVEL, S.UNIT) or (
                action.scope == S.UNIT and action.unit_id not in view.snapshot.units):
            return await self._refuse(event, B.OUTDATED)
        target = S.Target(action.scope, level=action.level, unit_id=action.unit_id)
        return await self._follow(outcome, place, person, view, target, action.silent)

    # --- publishing ---------------------------------------------------------------------------------------------

    def _is_admin(self, person: Person) -> bool:
        return person.user_id is not None and person.user_id in self.admins

    async def uploaded(self, event: Uploaded) -> Outcome:
        place, person = event.place, event.person
        outcome = Outcome()
        if not self._is_admin(person):
            return outcome.send(notice(msg("publish.not_admin")))
        if event.size and event.size > MAX_DOCUMENT_BYTES:
            return outcome.send(notice(msg("publish.too_large", megabytes=MAX_DOCUMENT_BYTES // 2**20)))
        if self.fetch_file is None:
            raise RuntimeError("this adapter cannot fetch files")
        given, unreadable = facts_from_caption(event.caption)
        if unreadable:
            return outcome.send(notice(unreadable[0]))
        data = await self.fetch_file(event.file_ref)

        async def reading_a_scan() -> None:  # OCR takes a minute or two: say so before it starts
            limit = max(self.reader.seconds, self.reader.scan_seconds)
            try:
                await event.progress(notice(msg("publish.reading_scan", seconds=round(limit))))
            except Exception as exc:  # a courtesy notice the messenger refused must not lose the upload
                log.warning("could not tell chat %s that a scan is being read: %r", place.chat_id, exc)

        try:
            read = await self.reader.read(data, event.file_name, given, on_scan=reading_a_scan)
        except ReadFailed as failure:
            return outcome.send(notice(msg(f"publish.{failure.reason}", seconds=round(failure.seconds))))
        parsed = read.outcome
        if any(getattr(e.message, "key", None) == "problem.report_needs_facts" for e in parsed.errors):
            d = parsed.decision  # a report: in Telegram the facts go in the caption, not in CLI flags
            lines = missing_facts(d.issuer, d.number, d.signed_date, d.evaluated_year)
            return outcome.send(notice(msg("publish.needs_facts", lines="\n".join(lines))))
        if not parsed.ok:
            errors = [e.render(person.lang) for e in parsed.errors]
            shown = errors[:20] + ([msg("publish.more_errors", count=len(errors) - 20)] if len(errors) > 20 else [])
            sections = [A.Section(None, shown)]
            if parsed.scanned and parsed.doubts:  # a misread cell may be why: show where OCR was unsure
                sections.append(A.doubts_section([d.render(person.lang) for d in parsed.doubts]))
            return outcome.send(A.Answer("invalid", msg("publish.invalid"), sections))
        async with self.db.session() as session, session.begin():
            # The admin's chat, in the admin's language: the publish receipt is written in it.
            await S.ensure_chat(session, place.chat_id, place.kind, language=person.lang)
            status = await P.preview_status(session, parsed.decision)
            alerts = await P.audience_of_parsed(session, parsed.decision)
            pending_id = await P.hold_for_publish(session, parsed.decision, user_id=person.user_id,
                                                  chat_id=place.chat_id, file_name=event.file_name,
                                                  file_hash=hashlib.sha256(data).hexdigest(),
                                                  decision_json=read.decision_json)
        warnings = parsed.warnings + lineage_warnings(parsed.decision)
        doubts = [d.render(person.lang) for d in parsed.doubts] if parsed.scanned else None
        answer = A.preview_answer(parsed.decision, [w.render(person.lang) for w in warnings], alerts, status, doubts)
        if status not in ("conflict", "published"):
            answer.choices = [A.Choice(msg("publish.publish"), B.Publish(pending_id)),
                              A.Choice(msg("publish.cancel"), B.CancelPublish(pending_id))]
        outcome.changes.append(f"held:{pending_id}")
        return outcome.send(self._sealed(answer, place, await self.view(), None))

    async def _publish_button(self, event: Pressed, action: B.Publish | B.CancelPublish) -> Outcome:
        """Checked again: the preview's buttons may be pressed by anyone who sees them."""
        outcome = Outcome()

        def say(text) -> Outcome:
            outcome.replies.append(Replace(notice(text), (event.message_id,)))
            return outcome

        if not self._is_admin(event.person):
            return outcome.send(notice(msg("publish.not_admin")))
        async with self.db.session() as session, session.begin():
            pending = await P.take_held(session, action.pending_id)
        if pending is None:
            return say(msg("publish.handled"))
        if isinstance(action, B.CancelPublish):
            outcome.changes.append(f"cancelled:{action.pending_id}")
            return say(msg("publish.cancelled"))
        # Exactly what the preview showed, in steps: 10,000 rows would hold the loop for about 70 ms.
        decision = await paced(ParsedDecision.from_json_in_steps(pending.parsed))
        async with self.db.session() as session, session.begin():
            published = await P.store_and_publish(session, decision, actor=f"{self.messenger}:{event.person.user_id}",
                                                  file_hash=pending.file_hash)
        if published is None:
            return say(msg("publish.conflict"))
        published.announce()
        await self._catalog_changed()
        outcome.changes.append(f"published:{published.decision_id}")
        return say(msg("publish.done", alerts=published.alerts) if published.published else msg("publish.already"))

    async def _catalog_changed(self) -> None:
        """After a change already committed: the catalog rebuilt in steps (other chats keep the old view until it is
        ready). A failed rebuild must not turn the committed change into an error: the next question rebuilds."""
        try:
            await self.catalog.changed(self.db)
        except Exception:  # noqa: BLE001 - logged; the store is right, only this process's view is behind
            log.exception("the catalog could not be rebuilt after a change; the next question will rebuild it")
            self.catalog.invalidate()

    # --- chat life ----------------------------------------------------------------------------------------------

    async def membership(self, event: Membership) -> Outcome:
        """Blocked, removed, or added again: keep the chat's status current so alerts go only where they can."""
        place = event.place
        async with self.db.session() as session, session.begin():
            await S.ensure_chat(session, place.chat_id, place.kind, place.title)
            if not event.active:
                await S.set_active(session, place.chat_id, False)
        return Outcome(changes=[f"active:{event.active}"])

    async def migrated(self, event: Migrated) -> Outcome:
        """A group upgraded to a supergroup gets a new id: what the bot keeps per chat moves with it."""
        async with self.db.session() as session, session.begin():
            await S.migrate_chat(session, event.place.chat_id, event.new_chat_id)
        await self._catalog_changed()  # the chat's learned names moved to its new id: the signature cannot tell
        return Outcome(changes=[f"migrated:{event.new_chat_id}"])

    # --- inline mode --------------------------------------------------------------------------------------------

    async def inline(self, query: str) -> list[Card]:
        """Up to 10 cards: a unit's result (or each plausible unit's), the summary, a top list — what the text
        asks; an empty query shows the examples."""
        view = await self.view()
        query = query.strip()
        cards: list[Card] = []
        for question in [query] if query else list(A.HELP_EXAMPLES):
            answer = answer_text(view, question)
            if answer is None or answer.attachments:
                continue
            if answer.kind in ("ambiguous", "not_found"):  # one card per candidate unit
                for choice in answer.choices:
                    unit_id = choice.action.unit_id
                    cards.append(Card(f"u{unit_id}", unit_answer(view, unit_id), f"u_{unit_id}"))
                continue
            unit = answer.kind == "unit" and view.resolver.resolve(question).unit
            year = I.parse_intent(question).year
            start = (f"u_{unit.id}" + (f"_{year}" if year else "")) if unit else encode_question(question)
            cards.append(Card(f"{answer.kind}:{len(cards)}", answer, start))
        return cards[:INLINE_RESULTS]


class AnswerCache:
    """Answers by question, for one catalog view: leaders ask the same few things, in many chats, and a group
    often asks again what was just asked. An answer depends only on the view, the text, today's date (relative
    years) and, when the chat has taught the resolver a name, the chat; it is sealed per chat after the lookup."""

    def __init__(self, size: int = ANSWERS_KEPT) -> None:
        self.size = size
        self._view: object | None = None
        self._generation = -1
        self._taught_chats: frozenset[int] = frozenset()
        self._answers: OrderedDict[tuple, A.Answer | None] = OrderedDict()

    def answer(self, view: CatalogView, generation: int, question: str, chat_id: int | None) -> A.Answer | None:
        """``generation``: the catalog's, which changes whenever names are learned into the view in place."""
        if view is not self._view or generation != self._generation:
            self._view, self._generation = view, generation
            self._taught_chats = frozenset(chat for chat, _ in view.resolver.chat_aliases)
            self._answers.clear()
        # The text as sent (only its ends trimmed): line breaks split a long message into sentences.
        key = (question.strip(), chat_id if chat_id in self._taught_chats else None, date.today())
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        answer = self._answers[key] = answer_text(view, question, chat_id=chat_id)
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return answer


def _offers_picks(answer: A.Answer) -> bool:
    """Choices of a unit quote the question: Telegram then hands the question back with the tap."""
    return any(isinstance(c.action, B.Pick) for c in answer.choices)

