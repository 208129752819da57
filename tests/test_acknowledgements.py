"""Acknowledgements ("✅ Đã nhận") on SQLite and PostgreSQL: taps, figures by place, the CSV, the one reminder.

Every test runs on a new SQLite file and, when ``TEST_DATABASE_URL_PG`` is set, on a new
PostgreSQL database (``tests/pg.py``). The reminder's deliveries are sent by the real sender
against the fake Bot API. The Telegram side is in ``tests/test_acknowledgements_bot.py``.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from broadcasts.acknowledgements import AcknowledgementRepository, Reminder, ReminderRefused, ReminderState, Tap
from broadcasts.announcements import AnnouncementRepository
from broadcasts.migration import migrate_group
from broadcasts.models import Acknowledgement, Announcement, Delivery, DeliveryStatus
from broadcasts.outbox import BroadcastRepository
from broadcasts.registry import GroupRepository
from broadcasts.reports import ReportRepository
from storage.base import as_utc, utc_now
from storage.engine import create_engine, create_schema, session_factory
from tests.fake_bot_api import FakeBotAPI
from tests.pg import backend_url, pg_url  # noqa: F401  (fixtures)
from tests.test_broadcast_sender import running_sender, settings, wait_done
from texts import acknowledgements as say

Sessions = async_sessionmaker[AsyncSession]
SENDER = 4242
DAY = timedelta(hours=24)
HEADER, TOO_LONG = say.REMINDER_HEADER, "🔔 nhắc"


@pytest.fixture
async def sessions(backend_url: str) -> AsyncIterator[Sessions]:  # noqa: F811
    engine = create_engine(backend_url)
    await create_schema(engine)
    yield session_factory(engine)
    await engine.dispose()


async def add_group(
    sessions: Sessions, chat_id: int, province: str | None = None, commune: str | None = None, title: str = ""
) -> int:
    async with sessions() as session, session.begin():
        groups = GroupRepository(session)
        group = await groups.register(chat_id, title or f"Tổ CNSCĐ {chat_id}", "supergroup", False)
        if province:
            await groups.set_province(chat_id, province)
        if commune:
            await groups.set_commune(chat_id, commune)
        return group.id


async def announce(sessions: Sessions, group_ids: list[int], *, ack: bool = True, **fields: Any) -> int:
    values: dict[str, Any] = {"sender_user_id": SENDER, "sender_chat_id": SENDER, "kind": "text", "text": "Họp tổ"}
    async with sessions() as session, session.begin():
        announcement = await BroadcastRepository(session).create_announcement(group_ids=group_ids, **values | fields)
        announcement.ack_button = ack
        return announcement.id


async def set_status(sessions: Sessions, announcement_id: int, status: str, group_ids: list[int]) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.announcement_id == announcement_id, Delivery.group_id.in_(group_ids))
            .values(status=status)
        )


async def finish(sessions: Sessions, announcement_id: int, sent: list[int], failed: Sequence[int] = ()) -> datetime:
    """Deliveries sent/failed as given, then the announcement closed the way the sender closes it."""
    await set_status(sessions, announcement_id, DeliveryStatus.SENT, sent)
    await set_status(sessions, announcement_id, DeliveryStatus.FAILED, list(failed))
    async with sessions() as session, session.begin():
        assert await AnnouncementRepository(session).finish_if_done(announcement_id)
        announcement = await session.get(Announcement, announcement_id)
        assert announcement is not None and announcement.finished_at is not None
        return as_utc(announcement.finished_at)


async def tap(sessions: Sessions, announcement_id: int, chat_id: int, user_id: int, now: datetime | None = None) -> Tap:
    async with sessions() as session, session.begin():
        return await AcknowledgementRepository(session).record_tap(announcement_id, chat_id, user_id, now)


async def acks(sessions: Sessions) -> list[Acknowledgement]:
    async with sessions() as session:
        return list((await session.scalars(select(Acknowledgement).order_by(Acknowledgement.id))).all())


# --- taps ------------------------------------------------------------------------------------------


async def test_a_groups_first_tap_counts_and_later_taps_are_thanked(sessions: Sessions) -> None:
    chats = [-1001000000001, -1001000000002, -1001000000003]
    groups = [await add_group(sessions, chat) for chat in chats]
    announcement = await announce(sessions, groups)
    await finish(sessions, announcement, groups)
    moment = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)

    assert await tap(sessions, announcement, chats[0], 111, moment) is Tap.COUNTED
    assert await tap(sessions, announcement, chats[0], 111) is Tap.ALREADY  # the same member again
    assert await tap(sessions, announcement, chats[0], 222) is Tap.ALREADY  # another member of the group
    assert await tap(sessions, announcement, chats[1], 333) is Tap.COUNTED
    rows = await acks(sessions)
    assert [(r.announcement_id, r.group_id, r.user_id) for r in rows] == [
        (announcement, groups[0], 111),
        (announcement, groups[1], 333),
    ]
    assert as_utc(rows[0].acked_at) == moment  # the first tap's time, not a later one's
    async with sessions() as session:
        totals = await AcknowledgementRepository(session).totals(announcement)
    assert totals == (3, 3, 2, 1)


async def test_concurrent_taps_from_one_group_store_exactly_one_row(sessions: Sessions) -> None:
    chats = [-1001000000011, -1001000000012]
    groups = [await add_group(sessions, chat) for chat in chats]
    announcement = await announce(sessions, groups)
    await finish(sessions, announcement, groups)
    outcomes = await asyncio.gather(*(tap(sessions, announcement, chats[0], 500 + i) for i in range(12)))
    assert sorted(outcomes) == sorted([Tap.COUNTED] + [Tap.ALREADY] * 11)
    rows = await acks(sessions)
    assert len(rows) == 1 and rows[0].group_id == groups[0] and 500 <= rows[0].user_id < 512


async def test_a_group_that_became_a_supergroup_acknowledges_with_its_new_chat_id(sessions: Sessions) -> None:
    old_chat, new_chat = -4_000_001, -1009000000001
    group = await add_group(sessions, old_chat, "ha_noi")
    announcement = await announce(sessions, [group])
    await finish(sessions, announcement, [group])
    async with sessions() as session, session.begin():
        moved = await migrate_group(session, old_chat, new_chat)
    assert moved is not None and moved.id == group

    assert await tap(sessions, announcement, new_chat, 777) is Tap.COUNTED
    assert await tap(sessions, announcement, old_chat, 778) is Tap.ALREADY  # the delivery's old id: the same group
    assert [(r.group_id, r.user_id) for r in await acks(sessions)] == [(group, 777)]


async def test_a_delivery_aimed_at_the_new_chat_counts_for_its_group(sessions: Sessions) -> None:
    """The sender redirected a delivery to the supergroup, which the bot also knows as another row."""
    old_chat, new_chat = -4_000_002, -1009000000002
    group = await add_group(sessions, old_chat)
    await add_group(sessions, new_chat)  # registered by itself, not in the audience
    announcement = await announce(sessions, [group])
    async with sessions() as session, session.begin():
        [delivery] = (await session.scalars(select(Delivery).where(Delivery.announcement_id == announcement))).all()
        await BroadcastRepository(session).redirect(delivery.id, new_chat)
    await finish(sessions, announcement, [group])
    assert await tap(sessions, announcement, new_chat, 779) is Tap.COUNTED
    assert [r.group_id for r in await acks(sessions)] == [group]


async def test_forged_and_stale_taps_store_nothing(sessions: Sessions) -> None:
    inside, outside = -1001000000021, -1001000000022
    group = await add_group(sessions, inside)
    await add_group(sessions, outside)
    with_button = await announce(sessions, [group])
    without_button = await announce(sessions, [group], ack=False)
    scheduled = await announce(sessions, [group], scheduled_at=utc_now() + DAY)
    async with sessions() as session, session.begin():
        assert await AnnouncementRepository(session).cancel(scheduled)  # its delivery was never sent

    assert await tap(sessions, 999_999, inside, 1) is Tap.UNKNOWN
    assert await tap(sessions, without_button, inside, 1) is Tap.UNKNOWN
    assert await tap(sessions, with_button, outside, 1) is Tap.NOT_IN_AUDIENCE  # a group not in the audience
    assert await tap(sessions, with_button, -1001999999999, 1) is Tap.NOT_IN_AUDIENCE  # a chat the bot never saw
    async with sessions() as session, session.begin():
        (await session.get(Announcement, scheduled)).ack_button = True  # type: ignore[union-attr]
    assert await tap(sessions, scheduled, inside, 1) is Tap.NOT_IN_AUDIENCE  # cancelled deliveries sent nothing
    assert await acks(sessions) == []


# --- figures and the CSV ---------------------------------------------------------------------------


async def test_figures_by_province_and_commune_and_the_csv(sessions: Sessions) -> None:
    places = [
        ("ha_noi", "Phường Ba Đình", "Tổ Ba Đình 1"),
        ("ha_noi", "phuong ba dinh", "Tổ Ba Đình 2"),  # the same commune typed differently
        ("ha_noi", "Xã Sóc Sơn", "Tổ Sóc Sơn"),
        ("ha_noi", None, "Tổ Hà Nội chưa gắn xã"),
        ("ca_mau", "Xã Năm Căn", "Tổ Năm Căn 1"),
        ("ca_mau", "Xã Năm Căn", "Tổ Năm Căn 2"),
        ("ca_mau", "Xã Năm Căn", "Tổ Năm Căn 3"),
        (None, None, "Tổ chưa gắn thẻ"),
    ]
    chats = [-1001000000100 - i for i in range(len(places))]
    groups = [
        await add_group(sessions, chat, province, commune, title)
        for chat, (province, commune, title) in zip(chats, places, strict=True)
    ]
    announcement = await announce(sessions, groups)
    await finish(sessions, announcement, groups[:6] + groups[7:], failed=[groups[6]])
    moment = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)  # 00:05 on 2 December in Vietnam
    for index in (0, 2, 4):
        assert await tap(sessions, announcement, chats[index], 9_000 + index, moment) is Tap.COUNTED

    async with sessions() as session:
        repository = AcknowledgementRepository(session)
        totals = await repository.totals(announcement)
        provinces = await repository.by_province(announcement, 10)
        communes = await repository.by_commune(announcement, 10)
        top_commune = await repository.by_commune(announcement, 1)
        data = await ReportRepository(session).acknowledgements_csv(announcement)
        report = await ReportRepository(session).acknowledgements(announcement, utc_now(), DAY, top=2)
    assert totals == (8, 7, 3, 4)  # 8 groups, 7 sent (one failed), 3 acknowledged, 4 sent and waiting
    assert [(p.province, p.groups, p.sent, p.acked, p.waiting) for p in provinces.top] == [
        ("ha_noi", 4, 4, 2, 2),
        ("ca_mau", 3, 2, 1, 1),
        (None, 1, 1, 0, 1),
    ]
    assert provinces.total == 3
    assert [(c.province, c.commune, c.groups, c.acked, c.waiting) for c in communes.top] == [
        ("ca_mau", "Xã Năm Căn", 3, 1, 1),  # as many waiting as Ba Đình, more groups
        ("ha_noi", "Phường Ba Đình", 2, 1, 1),  # two spellings, one commune
        ("ha_noi", None, 1, 0, 1),
        (None, None, 1, 0, 1),
        ("ha_noi", "Xã Sóc Sơn", 1, 1, 0),
    ]
    assert communes.total == 5 and len(top_commune.top) == 1 and top_commune.total == 5
    assert report is not None and report.totals == totals  # the report sums its provinces
    assert (report.provinces.top, report.provinces.total) == (provinces.top[:2], 3)
    assert (report.communes.top, report.communes.total) == (communes.top[:2], 5)
    assert report.reminder.status is Reminder.TOO_EARLY and report.reminder.waiting == 4

    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == say.CSV_HEADER
    by_title = {row[0]: row for row in rows[1:]}
    assert len(by_title) == 8
    assert by_title["Tổ Ba Đình 1"] == [
        "Tổ Ba Đình 1",
        str(chats[0]),
        "Hà Nội",
        "Phường Ba Đình",
        "đã gửi",
        "có",
        "02/12/2026 00:05",
    ]
    assert by_title["Tổ Năm Căn 3"][4:] == ["lỗi", "không", ""]
    assert by_title["Tổ chưa gắn thẻ"][2:] == ["", "", "đã gửi", "không", ""]
    assert [row[0] for row in rows[1:]][-1] == "Tổ chưa gắn thẻ"  # untagged groups last
    assert not any(str(9_000 + index) in data.decode("utf-8-sig") for index in (0, 2, 4))  # no tapper ids


# --- the reminder ----------------------------------------------------------------------------------


async def test_the_reminder_goes_once_to_sent_groups_that_have_not_acknowledged(
    sessions: Sessions, server: FakeBotAPI
) -> None:
    chats = [-1001000000200 - i for i in range(6)]
    groups = [await add_group(sessions, chat) for chat in chats]
    # 0: acknowledged · 1, 2: waiting · 3: failed · 4: waiting but the bot was removed · 5: pending
    announcement = await announce(sessions, groups, text="<b>Lịch tập huấn</b> VNeID")

    async def state(now: datetime) -> Reminder:
        async with sessions() as session:
            return (await AcknowledgementRepository(session).reminder_state(announcement, now, DAY)).status

    assert await state(utc_now() + 2 * DAY) is Reminder.NOT_DONE
    await set_status(sessions, announcement, DeliveryStatus.CANCELLED, [groups[5]])
    finished = await finish(sessions, announcement, [*groups[:3], groups[4]], failed=[groups[3]])
    assert await tap(sessions, announcement, chats[0], 1) is Tap.COUNTED
    async with sessions() as session, session.begin():
        await GroupRepository(session).deactivate(chats[4])
    assert await state(finished + DAY - timedelta(seconds=1)) is Reminder.TOO_EARLY

    async def remind(user: int = SENDER) -> int:
        async with sessions() as session, session.begin():
            reminder = await AcknowledgementRepository(session).create_reminder(
                announcement,
                sender_user_id=user,
                sender_chat_id=user,
                now=finished + DAY,
                after=DAY,
                header=HEADER,
                too_long=TOO_LONG,
            )
            return reminder.id

    with pytest.raises(ReminderRefused) as early:
        async with sessions() as session, session.begin():
            await AcknowledgementRepository(session).create_reminder(
                announcement, sender_user_id=1, sender_chat_id=1, now=finished, after=DAY, header="", too_long=""
            )
    assert early.value.state.status is Reminder.TOO_EARLY and early.value.state.waiting == 2

    # Two presses at once: one reminder, the other press is told it was done already.
    results = await asyncio.gather(remind(), remind(), return_exceptions=True)
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ReminderRefused)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].state.status is Reminder.ALREADY and refused[0].state.reminder_id == made[0]
    with pytest.raises(ReminderRefused):
        await remind()
    reminder_id = made[0]
    assert await state(finished + 2 * DAY) is Reminder.ALREADY

    async with sessions() as session:
        reminder = await session.get(Announcement, reminder_id)
        assert reminder is not None
        assert (reminder.reminder_of, reminder.ack_button, reminder.total) == (announcement, True, 2)
        assert reminder.text.startswith(HEADER) and reminder.text.endswith("<b>Lịch tập huấn</b> VNeID")
        targets = (await session.scalars(select(Delivery.chat_id).where(Delivery.announcement_id == reminder_id))).all()
        assert sorted(targets) == sorted(chats[1:3])
        assert (await AcknowledgementRepository(session).reminder_state(reminder_id, utc_now(), DAY)).status is (
            Reminder.IS_REMINDER
        )
        count = await session.scalar(select(func.count()).select_from(Announcement))
    assert count == 2

    # The sender's delivery loop sends it, one copy to each waiting group and nowhere else.
    async with running_sender(sessions, server, settings()):
        done = await wait_done(sessions, reminder_id)
    assert (done.sent, done.failed) == (2, 0)
    sent_to = sorted(int(c.chat_id) for c in server.calls_of("sendMessage") if c.ok)  # type: ignore[arg-type]
    assert sent_to == sorted(chats[1:3])

    # A tap under the reminder names the original and counts for it.
    assert await tap(sessions, announcement, chats[1], 2) is Tap.COUNTED
    assert await tap(sessions, reminder_id, chats[2], 3) is Tap.COUNTED  # a forged reminder id maps to it too
    assert {r.announcement_id for r in await acks(sessions)} == {announcement}
    assert await state(finished + 3 * DAY) is Reminder.ALREADY


async def test_a_reminder_made_meanwhile_is_caught_by_the_unique_column(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the check cannot see (two transactions past it at once): the insert fails, politely."""
    chats = [-1001000000401, -1001000000402]
    groups = [await add_group(sessions, chat) for chat in chats]
    announcement = await announce(sessions, groups)
    finished = await finish(sessions, announcement, groups)
    arguments: dict[str, Any] = {
        "sender_user_id": SENDER,
        "sender_chat_id": SENDER,
        "now": finished + DAY,
        "after": DAY,
        "header": HEADER,
        "too_long": TOO_LONG,
    }
    async with sessions() as session, session.begin():
        first = (await AcknowledgementRepository(session).create_reminder(announcement, **arguments)).id

    async def blind(self: AcknowledgementRepository, *_: object) -> ReminderState:
        return ReminderState(Reminder.ALLOWED, waiting=2)  # as if the first reminder were not there yet

    monkeypatch.setattr(AcknowledgementRepository, "reminder_state", blind)
    async with sessions() as session, session.begin():
        with pytest.raises(ReminderRefused) as caught:
            await AcknowledgementRepository(session).create_reminder(announcement, **arguments)
        # The savepoint was rolled back; the transaction goes on.
        assert await session.scalar(select(func.count()).select_from(Announcement)) == 2
    assert caught.value.state.status is Reminder.ALREADY and caught.value.state.reminder_id == first
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 4  # 2 + the first reminder's 2


async def test_no_reminder_when_everyone_acknowledged_or_without_the_button(sessions: Sessions) -> None:
    chats = [-1001000000301, -1001000000302]
    groups = [await add_group(sessions, chat) for chat in chats]
    announcement = await announce(sessions, groups)
    plain = await announce(sessions, groups, ack=False)
    finished = await finish(sessions, announcement, groups)
    for chat in chats:
        await tap(sessions, announcement, chat, 1)
    async with sessions() as session:
        repository = AcknowledgementRepository(session)
        assert (await repository.reminder_state(announcement, finished + DAY, DAY)).status is Reminder.NOBODY
        assert (await repository.reminder_state(plain, finished + DAY, DAY)).status is Reminder.NO_BUTTON
        assert (await repository.reminder_state(424_242, finished, DAY)).status is Reminder.NO_BUTTON


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake
