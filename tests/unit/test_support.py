"""The support desk's plain parts: routing, province names, aliases, the directory cache, due tickets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine, create_schema, session_factory
from support.alias import member_alias
from support.directory import SupportDirectory
from support.models import CloseReason, EventKind, MessageRole
from support.repository import MemberProvinceRepository, SupportChatRepository, TicketRepository, asker_province
from support.routing import is_support_chat, province_from_text, route
from tests.conftest import FakeClock

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_route_prefers_the_province_chat_then_the_default() -> None:
    attached = {"nghe_an": -100}
    assert route("nghe_an", attached, -1) == -100
    assert route("hue", attached, -1) == -1
    assert route(None, attached, -1) == -1
    assert route("hue", attached, None) is None
    assert is_support_chat(-100, attached, None) and is_support_chat(-1, {}, -1)
    assert not is_support_chat(-2, attached, -1)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Nghệ An", "nghe_an"),
        ("nghe an", "nghe_an"),
        ("NGHE_AN", "nghe_an"),
        ("tỉnh Lào Cai", "lao_cai"),
        ("Thanh Hoá", "thanh_hoa"),  # the other tone placement
        ("Thanh Hóa", "thanh_hoa"),
        ("TP. Hồ Chí Minh", "ho_chi_minh"),
        ("tphcm", "ho_chi_minh"),
        ("thành phố Huế", "hue"),
        ("Hà Tây", None),  # merged long ago: not one of the 34
        ("", None),
        ("'; drop table", None),
    ],
)
def test_province_names(typed: str, key: str | None) -> None:
    assert province_from_text(typed) == key


def test_aliases_are_stable_short_and_keyed() -> None:
    first = member_alias(123456789, b"secret-a")
    assert first == member_alias(123456789, b"secret-a") and len(first) == 7 and first.startswith("#")
    assert "123456789" not in first
    assert first != member_alias(123456789, b"secret-b")
    assert len({member_alias(i, b"k") for i in range(2000)}) == 2000


@pytest.fixture
async def engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('support') / 'desk.db'}")
    await create_schema(engine)
    yield engine
    await engine.dispose()


async def test_the_directory_caches_until_invalidated_or_stale(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    directory = SupportDirectory(None, sessions, ttl=30, clock=clock)
    assert not await directory.exists() and await directory.route("hue") is None
    async with sessions() as session, session.begin():
        await SupportChatRepository(session).attach("hue", -5, 1, T0)
    assert await directory.route("hue") is None  # cached
    clock.advance(30)
    assert await directory.route("hue") == -5 and await directory.exists()
    async with sessions() as session, session.begin():
        assert await SupportChatRepository(session).detach(-5) == ["hue"]
    directory.invalidate()
    assert await directory.route("hue") is None


async def test_tickets_open_once_per_record_and_fall_due_once(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await MemberProvinceRepository(session).set(11, "hue", T0)
        assert await asker_province(session, 11, 11, "private") == "hue"
        tickets = TicketRepository(session)
        fields = dict(user_id=11, origin_chat_type="private", origin_chat_id=11, guesses=["a"], province="hue")
        ticket, created = await tickets.open(question="gọi 0912 345 678 giúp", now=T0, record_id=5, **fields)  # type: ignore[arg-type]
        again, created_again = await tickets.open(question="x", now=T0, record_id=5, **fields)  # type: ignore[arg-type]
        assert created and not created_again and again.id == ticket.id
        assert "0912" not in ticket.question
        assert [t.id for t in await tickets.unposted()] == [ticket.id]
        await tickets.posted(ticket, -5, 100, None, T0)
        assert await tickets.unposted() == []
        assert await tickets.by_message(-5, 100, (MessageRole.HEADER,)) == ticket
        assert await tickets.by_message(-5, 100, (MessageRole.RELAYED,)) is None

        remind, give_up = timedelta(minutes=30), timedelta(minutes=240)
        assert await tickets.due_reminder(T0 + timedelta(minutes=29), remind) == []
        assert [t.id for t in await tickets.due_reminder(T0 + timedelta(minutes=30), remind)] == [ticket.id]
        ticket.reminded_at = T0 + timedelta(minutes=30)
        await session.flush()
        assert await tickets.due_reminder(T0 + timedelta(minutes=90), remind) == []
        assert [t.id for t in await tickets.due_hotlines(T0 + timedelta(minutes=240), give_up)] == [ticket.id]

        await tickets.responded(ticket, EventKind.REPLY, 99, T0 + timedelta(minutes=5))
        await tickets.responded(ticket, EventKind.REPLY, 99, T0 + timedelta(minutes=50))
        assert ticket.first_response_at == T0 + timedelta(minutes=5)  # the first one counts
        assert await tickets.due_hotlines(T0 + timedelta(days=1), give_up) == []  # answered
        assert not await tickets.rate(ticket, True, T0)  # not closed yet
        assert await tickets.close(ticket, CloseReason.RESOLVED, 99, T0 + timedelta(hours=1))
        assert not await tickets.close(ticket, CloseReason.RESOLVED, 99, T0 + timedelta(hours=2))
        assert await tickets.rate(ticket, False, T0) and not await tickets.rate(ticket, True, T0)
        assert ticket.rating == -1 and await tickets.open_count() == 0
