"""The conversation core without any messenger: sealed button actions, picks that cannot be forged, subscriptions
and the CLI shell as one local chat."""

from __future__ import annotations

import base64
from dataclasses import fields

import pytest
from sqlalchemy import func, select

from bot.shell import LocalChat
from dxcore.answering.i18n import word
from dxcore.conversation import actions as B
from dxcore.conversation.core import Conversation
from dxcore.conversation.events import (
    Person,
    Place,
    Pressed,
    Replace,
    Said,
    Send,
    Toast,
)
from dxcore.parsing import parse_bytes
from dxcore.store.db import Database
from dxcore.store.decisions import load_shipped_if_empty, store_decision
from dxcore.store.models import Alias, Subscription
from dxcore.understanding.catalog import Catalog
from tests.test_delivery import later_decision

PRIVATE, OTHER_PRIVATE, GROUP = 4242, 5151, -100777
SEAL = B.ButtonSeal("123:abc")


# --- the wire format --------------------------------------------------------------------------------------------

EVERY_ACTION = [B.AskExample(2), B.Pick(123456, 2023, 65535, 2**32 - 1), B.ShowHistory(7), B.ShowChart(9), B.ShowUnit(11),
                B.Follow("level", "huyen", 0, True), B.Follow("unit", unit_id=10**6), B.Unfollow(77),
                B.Publish(5), B.CancelPublish(5)]


@pytest.mark.parametrize("action", EVERY_ACTION, ids=lambda a: type(a).__name__)
def test_every_action_round_trips_within_telegrams_64_bytes(action: B.Action) -> None:
    payload = SEAL.seal(action, GROUP)
    assert len(payload.encode()) <= B.PAYLOAD_LIMIT and payload[0] == action.FAMILY and payload[1] == B.VERSION
    assert SEAL.open(payload, GROUP) == B.Opened(action)


def test_one_module_knows_every_action_and_no_two_share_a_code() -> None:
    assert {type(a) for a in EVERY_ACTION} == set(B._REGISTRY.values())
    assert all(f.type in ("int", "str", "bool") for cls in B._REGISTRY.values() for f in fields(cls))


def _flip(payload: str, at: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(payload[2:] + "=" * (-len(payload[2:]) % 4)))
    raw[at] ^= 0x01
    return payload[:2] + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def test_altered_other_chat_other_key_and_old_payloads_are_refused() -> None:
    payload = SEAL.seal(B.Pick(17, 0, 1, 2), PRIVATE)
    assert SEAL.open(payload, OTHER_PRIVATE).refusal == B.FORGED  # another chat's button
    assert SEAL.open(_flip(payload, 1), PRIVATE).refusal == B.FORGED  # the unit id changed
    assert SEAL.open(_flip(payload, -1), PRIVATE).refusal == B.FORGED  # the signature changed
    assert B.ButtonSeal("999:other").open(payload, PRIVATE).refusal == B.FORGED  # another bot's key
    assert SEAL.open(payload[:-4], PRIVATE).refusal == B.FORGED
    assert SEAL.open("a1", PRIVATE).refusal == B.FORGED and SEAL.open("", PRIVATE).refusal == B.FORGED
    assert SEAL.open("zz" + payload[2:], PRIVATE).refusal == B.FORGED
    assert SEAL.open("a9" + payload[2:], PRIVATE).refusal == B.OUTDATED  # a format this bot no longer writes
    for old in ("p:17", "u:17:2023", "s:all", "h:3", "pub:1", "q:Sở Y tế xếp hạng mấy?"):  # the format before
        assert SEAL.open(old, PRIVATE).refusal == B.OUTDATED


# --- the core ---------------------------------------------------------------------------------------------------


@pytest.fixture
async def core(db: Database) -> Conversation:
    await load_shipped_if_empty(db)
    catalog = Catalog(check_every=0)
    return Conversation(db, catalog, SEAL, admins=frozenset({1}))


def _person(user_id: int) -> Person:
    return Person(user_id)


async def _ask(core: Conversation, chat_id: int, user_id: int, text: str, kind: str = "private"):
    outcome = await core.said(Said(Place(chat_id, kind), _person(user_id), text, message_id=1))
    (reply,) = outcome.replies
    return reply.answer


async def _press(core: Conversation, chat_id: int, user_id: int, payload: str, answered: str | None,
                 kind: str = "private"):
    return await core.pressed(Pressed(Place(chat_id, kind), _person(user_id), payload, 2, answered))


def _choice(answer, name: str):
    return next(c for c in answer.choices if word(c.label) == name)


async def _alias_rows(core: Conversation) -> int:
    async with core.db.session() as session:
        return await session.scalar(select(func.count(Alias.id)))


async def test_a_real_pick_answers_in_place_and_teaches_the_chat(core: Conversation) -> None:
    answer = await _ask(core, PRIVATE, PRIVATE, "Sở KH")
    assert answer.kind == "ambiguous"
    outcome = await _press(core, PRIVATE, PRIVATE, _choice(answer, "Sở Kế hoạch và Đầu tư").payload, "Sở KH")
    (reply,) = outcome.replies
    assert isinstance(reply, Replace) and reply.message_ids == (2,) and "73,63%" in reply.answer.render_plain()
    assert (await _ask(core, PRIVATE, PRIVATE, "Sở KH")).kind == "unit"  # learned here at once
    assert (await _ask(core, OTHER_PRIVATE, OTHER_PRIVATE, "Sở KH")).kind == "ambiguous"  # not for everyone


async def test_forged_picks_from_three_users_in_two_chats_change_no_answer(core: Conversation) -> None:
    """The attack the issue describes: a unit that was never offered for the question, pressed by three accounts in
    two chats, must not make "sở y tế" answer with Sở Tài chính for anyone."""
    view = await core.view()
    finance_id = view.resolver.resolve("Sở Tài chính").unit.id
    offered = await _ask(core, GROUP, 5, "/hang Sở KH", kind="supergroup")
    genuine = offered.choices[0].payload
    attempts = [  # (why, payload, the question the pressed message answered)
        ("a unit never offered, signed with a guessed key",
         B.ButtonSeal("guessed").seal(B.Pick(finance_id, 0, view.epoch), GROUP), "/hang Sở Y tế"),
        ("altered", _flip(genuine, 1), "/hang Sở KH"),
        ("other chat", genuine, "/hang Sở KH"),
        ("moved to another question", genuine, "/hang Sở Y tế"),
        ("old format", f"p:{finance_id}", "/hang Sở Y tế"),
    ]
    for user, chat, kind in ((21, GROUP, "supergroup"), (22, GROUP, "supergroup"), (23, OTHER_PRIVATE, "private")):
        for why, payload, answered in attempts:
            target_chat = PRIVATE if why == "other chat" else chat
            outcome = await _press(core, target_chat, user, payload, answered, kind="private" if why == "other chat"
                                   else kind)
            assert [type(r) for r in outcome.replies] == [Toast], why
            assert outcome.changes and outcome.changes[0].startswith("refused:"), why
    assert await _alias_rows(core) == 0
    for chat in (PRIVATE, OTHER_PRIVATE, GROUP, 999):
        answer = await _ask(core, chat, 1, "sở y tế hạng mấy?")
        assert "Sở Y tế" in word(answer.title) and "Tài chính" not in answer.render_plain()


async def test_a_pick_made_before_the_catalog_changed_is_outdated(core: Conversation, seed_text: str) -> None:
    offered = await _ask(core, PRIVATE, PRIVATE, "Sở KH")
    payload = offered.choices[0].payload
    parsed = parse_bytes(later_decision(seed_text), "qd-2001.txt")
    async with core.db.session() as session, session.begin():
        await store_decision(session, parsed.decision, actor="test")
    core.catalog.invalidate()
    outcome = await _press(core, PRIVATE, PRIVATE, payload, "Sở KH")
    assert [type(r) for r in outcome.replies] == [Toast] and word(outcome.replies[0].text).startswith("Nút này đã cũ")
    assert await _alias_rows(core) == 0
    fresh = await _ask(core, PRIVATE, PRIVATE, "Sở KH")  # asked again: fresh buttons work
    assert isinstance((await _press(core, PRIVATE, PRIVATE, fresh.choices[0].payload, "Sở KH")).replies[0], Replace)
    assert await _alias_rows(core) == 1


async def test_an_example_pressed_answers_and_its_picks_teach_nothing(core: Conversation) -> None:
    welcome = await _ask(core, PRIVATE, PRIVATE, "/start")
    outcome = await _press(core, PRIVATE, PRIVATE, welcome.choices[0].payload, "/start")
    (reply,) = outcome.replies
    assert isinstance(reply, Send) and "17/20" in reply.answer.render_plain() and outcome.remember is None


async def test_group_subscriptions_need_a_chat_administrator_every_time(core: Conversation) -> None:
    allowed = {"admin": True}

    async def may_administer() -> bool:
        return allowed["admin"]

    admin = Person(6, may_administer=may_administer)
    place = Place(GROUP, "supergroup")
    listing = (await core.said(Said(place, admin, "/dangky", 1))).replies[0].answer
    button = _choice(listing, "Cấp huyện").payload
    allowed["admin"] = False  # demoted since the list was shown
    refused = await core.pressed(Pressed(place, admin, button, 2, None))
    assert "chỉ quản trị viên" in refused.replies[0].answer.render_plain()
    allowed["admin"] = True
    done = await core.pressed(Pressed(place, admin, button, 2, None))
    assert "Đã đăng ký: Cấp huyện." in done.replies[0].answer.render_plain()
    async with core.db.session() as session:
        assert await session.scalar(select(func.count(Subscription.id))) == 1


# --- the shell --------------------------------------------------------------------------------------------------


async def test_the_shell_drives_a_pick_and_a_subscription(db: Database) -> None:
    await load_shipped_if_empty(db)
    printed: list[str] = []
    shell = LocalChat(db, printed.append)
    await shell.type("Sở KH")
    assert "1. Sở Khoa học và Công nghệ" in printed[-1] and "2. Sở Kế hoạch và Đầu tư" in printed[-1]
    await shell.type("2")
    assert "Sở Kế hoạch và Đầu tư (cấp sở, năm 2023)" in printed[-1] and "73,63%" in printed[-1]
    await shell.type("so KH")  # learned for the local chat
    assert "Sở Kế hoạch và Đầu tư (cấp sở" in printed[-1]
    await shell.type("/dangky")
    assert "3. Cấp huyện" in printed[-1]
    await shell.type("3")
    assert "Đã đăng ký: Cấp huyện." in printed[-1]
    await shell.type("/huydangky")
    assert "1. Bỏ: Cấp huyện" in printed[-1]
    await shell.type("1")
    assert "Đã bỏ 1 đăng ký." in printed[-1]
    await shell.type("9")  # no ninth choice: said as a question, answered as one
    assert printed[-1]


async def test_a_genuine_pick_pressed_on_a_message_that_never_offered_it_changes_nothing(core: Conversation) -> None:
    offered = await _ask(core, GROUP, 5, "/hang Sở KH", kind="supergroup")
    payload = offered.choices[0].payload
    event = Pressed(Place(GROUP, "supergroup"), _person(21), payload, 9, "/hang Sở KH", offered=("a1other",))
    outcome = await core.pressed(event)
    assert [type(r) for r in outcome.replies] == [Toast] and await _alias_rows(core) == 0
    pressed_where_offered = Pressed(Place(GROUP, "supergroup"), _person(21), payload, 2, "/hang Sở KH",
                                    offered=tuple(c.payload for c in offered.choices))
    assert isinstance((await core.pressed(pressed_where_offered)).replies[0], Replace)
    assert await _alias_rows(core) == 1


async def test_a_press_is_acknowledged_once_with_the_refusal_or_at_once(core: Conversation) -> None:
    notices: list = []

    async def acknowledge(notice) -> None:
        notices.append(notice)

    welcome = await _ask(core, PRIVATE, PRIVATE, "/start")
    await core.pressed(Pressed(Place(PRIVATE), _person(PRIVATE), welcome.choices[0].payload, 2, None, None, acknowledge))
    await core.pressed(Pressed(Place(PRIVATE), _person(PRIVATE), "a1forged", 2, None, None, acknowledge))
    assert notices[0] is None and word(notices[1]).startswith("Nút này không hợp lệ") and len(notices) == 2


async def test_commands_take_their_arguments_after_a_newline(core: Conversation) -> None:
    outcome = await core.said(Said(Place(PRIVATE), _person(PRIVATE), "/dangky\ncấp sở", 1))
    assert "Đã đăng ký: Cấp sở." in outcome.replies[0].answer.render_plain()


async def test_the_shell_never_presses_choices_of_an_earlier_answer(db: Database) -> None:
    await load_shipped_if_empty(db)
    printed: list[str] = []
    shell = LocalChat(db, printed.append)
    await shell.type("Sở KH")
    await shell.type("thống kê cấp sở")
    await shell.type("2")  # the summary offered no choices: "2" is read as a question, not a pick
    assert "Sở Kế hoạch và Đầu tư (cấp sở" not in printed[-1]
    async with db.session() as session:
        assert await session.scalar(select(func.count(Alias.id))) == 0


async def test_a_remembered_answer_is_sealed_for_each_chat_and_never_changed(core: Conversation) -> None:
    """The answer cache serves the same question in every chat: each chat still gets buttons sealed for itself,
    and sealing one chat's copy leaves the shared answer as it was."""
    here, there = await _ask(core, PRIVATE, PRIVATE, "Sở KH"), await _ask(core, OTHER_PRIVATE, OTHER_PRIVATE, "Sở KH")
    assert [word(c.label) for c in here.choices] == [word(c.label) for c in there.choices]
    assert all(SEAL.open(c.payload, PRIVATE).action for c in here.choices)
    assert not any(SEAL.open(c.payload, PRIVATE).action for c in there.choices)  # sealed for the other chat
    view = await core.view()
    (shared,) = [a for a in core.answers._answers.values() if a is not None and a.kind == "ambiguous"]
    assert shared is not here and shared is not there and all(c.payload == "" for c in shared.choices)
    assert view is await core.view()


async def test_a_new_decision_is_answered_at_once_despite_the_answer_cache(core: Conversation, seed_text: str) -> None:
    assert "17/20" in (await _ask(core, PRIVATE, PRIVATE, "so y te hang may")).render_plain()
    async with core.db.session() as session, session.begin():
        await store_decision(session, parse_bytes(later_decision(seed_text), "qd-2001.txt").decision, actor="test")
    core.catalog.invalidate()
    assert "5/20" in (await _ask(core, PRIVATE, PRIVATE, "so y te hang may")).render_plain()


async def test_one_chart_and_one_export_per_chat_within_the_cooldown(db: Database) -> None:
    from dxcore.conversation.limits import Cooldown

    await load_shipped_if_empty(db)
    now = [0.0]
    core = Conversation(db, Catalog(check_every=0), SEAL, cooldown=Cooldown(10, clock=lambda: now[0]))
    assert (await _ask(core, PRIVATE, 1, "/bieudo cấp huyện")).attachments
    held = await core.said(Said(Place(PRIVATE, "private"), _person(1), "/bieudo cấp sở", message_id=1))
    (again,) = held.replies
    assert not again.answer.attachments and "đợi 10 giây" in again.answer.render_plain()
    assert held.remember is None  # not the answer to "/bieudo cấp sở": asked again later, it must draw the chart
    assert (await _ask(core, PRIVATE, 1, "/xuat")).attachments  # an export is counted apart from charts
    assert (await _ask(core, OTHER_PRIVATE, 2, "/bieudo cấp huyện")).attachments  # other chats are not held
    now[0] = 10.5
    assert (await _ask(core, PRIVATE, 1, "/bieudo cấp huyện")).attachments
    local = Conversation(db, Catalog(check_every=0), SEAL)  # the CLI's core: never held
    assert all([(await _ask(local, PRIVATE, 1, "/bieudo cấp huyện")).attachments for _ in range(3)])


async def test_the_answer_cache_keeps_line_breaks_which_split_a_long_message(core: Conversation) -> None:
    preamble = "Hôm qua lãnh đạo Sở Văn hóa, Thể thao và Du lịch có hỏi mình về kết quả năm nay"
    one_line = await _ask(core, PRIVATE, PRIVATE, f"{preamble} top 3 cấp huyện")
    two_sentences = await _ask(core, OTHER_PRIVATE, OTHER_PRIVATE, f"{preamble}\n\ntop 3 cấp huyện")
    assert two_sentences.kind == "top"
    assert two_sentences.kind != one_line.kind  # the same words, read differently: never one cached answer
