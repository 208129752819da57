"""Statistics on a seeded SQLite database: every figure of the summary, the CSV and the digest, by hand.

The seed (``seed``) is small enough to count on paper; the expected values below are those
counts, written out, never computed by the code under test. It is also used by
``tests/test_stats_bot.py`` (the same data on PostgreSQL, and through the bot).

Times are Vietnam wall-clock times (UTC+7). "Now" is 10/03/2026 10:00; the 7-day period is
04/03 – 10/03. Records on the edges check the day boundaries: 03/03 23:59 is outside, 04/03
00:00 inside, 04/03 06:59 is still 03/03 in UTC but 04/03 in Vietnam, 10/03 10:30 is after now.
"""

from __future__ import annotations

import csv
import io
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from broadcasts.models import Group, GroupTag
from broadcasts.scope import Scope
from records.models import QuestionRecord
from stats.charts import render_charts
from stats.digest import build_digest, digest_day
from stats.export import days_csv, file_names, topics_csv
from stats.figures import Period, PeriodFigures, StatsRepository, UnansweredQuestion
from stats.summary import duration, percent, summary_html
from storage.engine import create_engine, create_schema, session_factory
from support.models import MemberProvince, Ticket
from texts import stats as texts

VN = timezone(timedelta(hours=7))  # written independently of the code's zoneinfo on purpose
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=VN)
G1, G2, G3 = -1001, -1002, -1003  # Hà Nội + label "vùng cao"; Nghệ An; no tag
U11, U12, U13, U21, U22, U23 = 11, 12, 13, 21, 22, 23  # U11 chose Hà Nội, U12 Cà Mau, the rest nothing
TITLES = {"topic_a": "Chủ đề A", "topic_b": "Chủ đề B <b>", "topic_c": "Chủ đề C"}
_ids = count(1)


def vn(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=VN).astimezone(UTC)


def question(
    at: datetime,
    chat_id: int,
    user_id: int,
    decision: str,
    *,
    topic: str | None = None,
    chosen: str | None = None,
    feedback: int | None = None,
    text: str = "câu hỏi",
) -> QuestionRecord:
    return QuestionRecord(
        id=next(_ids),
        created_at=at,
        chat_type="private" if chat_id > 0 else "supergroup",
        user_id=user_id,
        chat_id=chat_id,
        normalized_text=text,
        decision=decision,
        topic_id=topic,
        candidates=[],
        confidence=0.9,
        latency_ms=10.0,
        nlu_source="rasa",
        feedback=feedback,
        chosen_topic_id=chosen,
    )


def ticket(
    created: datetime,
    user_id: int,
    origin: int,
    province: str | None,
    *,
    responded: datetime | None = None,
    closed: datetime | None = None,
) -> Ticket:
    return Ticket(
        user_id=user_id,
        origin_chat_type="private" if origin > 0 else "supergroup",
        origin_chat_id=origin,
        province=province,
        question="câu hỏi",
        status="closed" if closed else "open",
        close_reason="resolved" if closed else None,
        created_at=created,
        first_response_at=responded,
        closed_at=closed,
    )


def seed_rows(topics: tuple[str, str, str] = ("topic_a", "topic_b", "topic_c")) -> list[object]:
    """Groups, members' provinces, 15 question records and 8 tickets (see the module docstring).

    ``topics`` names topics A, B and C (the bot test uses real ones, for their titles).
    """
    topic_a, topic_b, topic_c = topics
    groups: list[object] = [
        Group(
            chat_id=G1,
            title="Tổ Hà Nội",
            chat_type="supergroup",
            tags=[
                GroupTag(kind="tinh", key="ha_noi", display="Hà Nội"),
                GroupTag(kind="nhan", key="vung cao", display="vùng cao"),
            ],
        ),
        Group(
            chat_id=G2,
            title="Tổ Nghệ An",
            chat_type="supergroup",
            tags=[GroupTag(kind="tinh", key="nghe_an", display="Nghệ An")],
        ),
        Group(chat_id=G3, title="Tổ chưa gắn thẻ", chat_type="supergroup", tags=[]),
        MemberProvince(user_id=U11, province="ha_noi"),
        MemberProvince(user_id=U12, province="ca_mau"),
    ]
    zalo, wifi = "cách đổi tên zalo", "mật khẩu wifi"
    records: list[object] = [
        question(vn(4, 0), U11, U11, "answer", topic=topic_a, feedback=1),  # r1
        question(vn(4, 6, 59), G1, U21, "answer", topic=topic_a, feedback=-1),  # r2
        question(vn(4, 23, 59), G2, U22, "unknown", text=zalo),  # r3
        question(vn(6, 9), U12, U12, "clarify", chosen=topic_b, feedback=1),  # r4
        question(vn(6, 9, 5), U12, U12, "unknown", text=zalo),  # r5
        question(vn(6, 10), G3, U11, "answer", topic=topic_b),  # r6: untagged group, Hà Nội by the member
        question(vn(9, 12), U13, U13, "unknown", text=wifi),  # r7
        question(vn(9, 12, 30), G1, U23, "answer", topic=topic_a, feedback=1),  # r8
        question(vn(10, 8), G2, U22, "unknown", text=zalo),  # r9
        question(vn(10, 9, 59), G1, U21, "clarify"),  # r10
        question(vn(3, 23, 59), U11, U11, "answer", topic=topic_a),  # r11: before the period
        question(vn(10, 10, 30), U11, U11, "answer", topic=topic_a),  # r12: after now
        question(vn(9, 13), U11, U11, "answer", topic=topic_c),  # r13
        question(vn(9, 14), U12, U12, "unknown", text=wifi),  # r14
        question(vn(9, 15), U13, U13, "unknown", text="wifi <nhà> & quán"),  # r15
    ]
    tickets: list[object] = [
        ticket(vn(4, 8), U11, U11, "ha_noi", responded=vn(4, 8, 30), closed=vn(4, 9)),  # t1: 30 min
        ticket(vn(6, 10), U22, G2, None, responded=vn(6, 11, 30)),  # t2: Nghệ An by its group, 90 min, open
        ticket(vn(6, 11), U13, U13, None, closed=vn(9, 12)),  # t3: never answered, closed
        ticket(vn(1, 8), U11, U11, "ha_noi", responded=vn(1, 9), closed=vn(5, 10)),  # t4: opened before
        ticket(vn(20, 8, month=2), U12, U12, "ca_mau"),  # t5: open since February
        ticket(vn(10, 9), U21, G1, "ha_noi", responded=vn(10, 9, 10)),  # t6: 10 min, open
        ticket(vn(10, 9, 30), U11, U11, "ha_noi", responded=vn(10, 11)),  # t7: answered after now
        ticket(vn(10, 10, 30), U11, U11, "ha_noi"),  # t8: after now
    ]
    return groups + records + tickets


async def seed(session: AsyncSession, topics: tuple[str, str, str] = ("topic_a", "topic_b", "topic_c")) -> None:
    session.add_all(seed_rows(topics))
    await session.flush()


@pytest.fixture(scope="module")
async def stats_engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('stats') / 'stats.db'}")
    await create_schema(engine)
    async with session_factory(engine)() as session, session.begin():
        await seed(session)
    yield engine
    await engine.dispose()


async def figures_of(engine: AsyncEngine, period: Period, scope: Scope) -> PeriodFigures:
    async with session_factory(engine)() as session:
        return await StatsRepository(session).figures(period, scope)


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, for Excel
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the signature and the chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(data[12:29])
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- the whole country, seven days ----------------------------------------------------------------
SUMMARY_EVERYWHERE = {
    "days": 7,
    "first": "04/03/2026",
    "last": "10/03/2026",
    "scope": "toàn quốc",
    "questions": 13,
    "askers": 6,  # 11 12 13 21 22 23
    "answered_pct": "38,5%",  # 5/13
    "clarified_pct": "15,4%",  # 2/13
    "unknown_pct": "46,2%",  # 6/13
    "helpful": 3,
    "not_helpful": 1,
    "opened": 5,  # t1 t2 t3 t6 t7
    "closed": 3,  # t1 t4 t3
    "open_now": 4,  # t2 t5 t6 t7
    "median": "30 phút",  # of 30, 90, 10
}
# r1 r13 (U11 in private), r2 r8 r10 (G1); r6 is U11 but in an untagged group: not in scope.
SUMMARY_HA_NOI = {
    **SUMMARY_EVERYWHERE,
    "scope": "Hà Nội",
    "questions": 5,
    "askers": 3,
    "answered_pct": "80,0%",
    "clarified_pct": "20,0%",
    "unknown_pct": "0,0%",
    "helpful": 2,
    "not_helpful": 1,
    "opened": 3,  # t1 t6 t7
    "closed": 2,  # t1 t4
    "open_now": 2,  # t6 t7
    "median": "20 phút",  # of 30 and 10
}
# The digest sent at 07:00 on 10/03: the 9th (r7 r8 r13 r14 r15; t3 closed), open tickets at 07:00 (t2 t5).
DIGEST_09_03 = texts.DIGEST.format(
    day="09/03/2026",
    questions=5,
    askers=4,
    answered_pct="40,0%",
    clarified_pct="0,0%",
    unknown_pct="60,0%",
    helpful=1,
    not_helpful=0,
    opened=0,
    closed=1,
    open_now=2,
    median="–",
) + texts.DIGEST_UNANSWERED.format(lines="• mật khẩu wifi <i>(2 lần)</i>\n• wifi &lt;nhà&gt; &amp; quán <i>(1 lần)</i>")
# Per day (questions, askers, answered, clarified, unknown, 👍, 👎, tickets opened, closed, median minutes):
EXPECTED_DAYS = [
    ["2026-03-04", "3", "3", "2", "0", "1", "1", "1", "1", "1", "30.0"],  # r1 r2 r3; t1 opened and closed
    ["2026-03-05", "0", "0", "0", "0", "0", "0", "0", "0", "1", ""],  # t4 closed
    ["2026-03-06", "3", "2", "1", "1", "1", "1", "0", "2", "0", "90.0"],  # r4 r5 r6; t2 t3
    ["2026-03-07", "0", "0", "0", "0", "0", "0", "0", "0", "0", ""],
    ["2026-03-08", "0", "0", "0", "0", "0", "0", "0", "0", "0", ""],
    ["2026-03-09", "5", "4", "2", "0", "3", "1", "0", "0", "1", ""],  # r7 r8 r13 r14 r15; t3 closed
    ["2026-03-10", "2", "2", "0", "1", "1", "0", "0", "2", "0", "10.0"],  # r9 r10; t6 (t7 answered after now)
]


async def test_seven_days_everywhere_summary_and_csv(stats_engine: AsyncEngine) -> None:
    figures = await figures_of(stats_engine, Period.last_days(NOW, 7), Scope.everything())
    assert (figures.period.first_day, figures.period.last_day) == (date(2026, 3, 4), date(2026, 3, 10))
    assert summary_html(figures, Scope.everything()) == texts.STATS_SUMMARY.format(**SUMMARY_EVERYWHERE)
    rows = csv_rows(days_csv(figures))
    assert rows[0] == list(texts.CSV_DAY_HEADER)
    assert rows[1:] == EXPECTED_DAYS
    assert csv_rows(topics_csv(figures, TITLES)) == [
        list(texts.CSV_TOPIC_HEADER),
        ["topic_a", "Chủ đề A", "3", "2", "1"],  # r1 r2 r8
        ["topic_b", "Chủ đề B <b>", "2", "1", "0"],  # r4 (chosen) r6
        ["topic_c", "Chủ đề C", "1", "0", "0"],  # r13
    ]
    assert file_names(figures) == (
        "thongke-2026-03-04-2026-03-10-theo-ngay.csv",
        "thongke-2026-03-04-2026-03-10-theo-chu-de.csv",
    )


async def test_figures_by_province_with_the_unknown_bucket_last(stats_engine: AsyncEngine) -> None:
    figures = await figures_of(stats_engine, Period.last_days(NOW, 7), Scope.everything())
    got = [(p.province, p.questions, p.answered, p.clarified, p.unknown, p.tickets_opened) for p in figures.provinces]
    assert got == [
        ("ha_noi", 6, 5, 1, 0, 3),  # r1 r2 r6 r8 r10 r13; t1 t6 t7
        ("ca_mau", 3, 0, 1, 2, 0),  # r4 r5 r14
        ("nghe_an", 2, 0, 0, 2, 1),  # r3 r9; t2 by its group
        (None, 2, 0, 0, 2, 1),  # r7 r15; t3
    ]


async def test_a_province_scope_sees_its_groups_and_its_members_only(stats_engine: AsyncEngine) -> None:
    scope = Scope.tagged(["tinh:ha_noi"])
    figures = await figures_of(stats_engine, Period.last_days(NOW, 7), scope)
    assert summary_html(figures, scope) == texts.STATS_SUMMARY.format(**SUMMARY_HA_NOI)
    assert [(t.topic_id, t.questions) for t in figures.topics] == [("topic_a", 3), ("topic_c", 1)]


async def test_label_and_member_scopes(stats_engine: AsyncEngine) -> None:
    label = await figures_of(stats_engine, Period.last_days(NOW, 7), Scope.tagged(["nhan:vung cao"]))
    assert (label.questions, label.askers, label.total("tickets_opened"), label.tickets_open_at_end) == (3, 2, 1, 1)
    ca_mau = await figures_of(stats_engine, Period.last_days(NOW, 7), Scope.tagged(["tinh:ca_mau"]))
    assert (ca_mau.questions, ca_mau.total("unknown"), ca_mau.total("tickets_opened"), ca_mau.tickets_open_at_end) == (
        3,
        2,
        0,
        1,  # t5, open since February
    )
    with pytest.raises(ValueError):
        await figures_of(stats_engine, Period.last_days(NOW, 7), Scope.nothing())


async def test_longer_periods_reach_back(stats_engine: AsyncEngine) -> None:
    figures = await figures_of(stats_engine, Period.last_days(NOW, 30), Scope.everything())
    assert (figures.period.first_day, len(figures.days)) == (date(2026, 2, 9), 30)
    # r11 (03/03 23:59) is in now; t4 (01/03) and t5 (20/02) were opened in the period.
    assert (figures.questions, figures.total("tickets_opened"), figures.total("tickets_closed")) == (14, 7, 3)
    assert figures.median_first_response == 45.0  # of 10, 30, 60 (t4), 90: (30 + 60) / 2


async def test_unanswered_and_the_digest(stats_engine: AsyncEngine) -> None:
    async with session_factory(stats_engine)() as session:
        repository = StatsRepository(session)
        top = await repository.unanswered(Period.last_days(NOW, 7), Scope.everything())
        assert top == [
            UnansweredQuestion("cách đổi tên zalo", 3),
            UnansweredQuestion("mật khẩu wifi", 2),
            UnansweredQuestion("wifi <nhà> & quán", 1),
        ]
        morning = datetime(2026, 3, 10, 7, 0, tzinfo=VN)
        assert digest_day(morning) == date(2026, 3, 9)
        assert digest_day(datetime(2026, 3, 10, 0, 30, tzinfo=VN)) == date(2026, 3, 9)  # 09/03 17:30 UTC
        digest = await build_digest(repository, morning)
    assert digest == DIGEST_09_03


async def test_charts_are_valid_pngs_with_data_and_without(stats_engine: AsyncEngine) -> None:
    full = await figures_of(stats_engine, Period.last_days(NOW, 90), Scope.everything())
    empty = await figures_of(stats_engine, Period.last_days(datetime(2025, 1, 10, tzinfo=VN), 7), Scope.everything())
    assert empty.is_empty and not full.is_empty
    for figures in (full, empty):
        charts = render_charts(figures, TITLES)
        assert [c.name for c in charts] == [
            "thongke-cau-hoi.png",
            "thongke-chu-de.png",
            "thongke-ti-le.png",
            "thongke-phieu.png",
            "thongke-tinh.png",
        ]
        for chart in charts:
            assert png_size(chart.png) == (1000, 560)
            assert len(chart.png) > 5_000  # something was drawn
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow comes with matplotlib
        return
    image = Image.open(io.BytesIO(render_charts(full, TITLES)[0].png))
    image.load()
    assert image.size == (1000, 560)


async def test_an_empty_period_gives_zeros_and_dashes(stats_engine: AsyncEngine) -> None:
    period = Period.last_days(datetime(2025, 1, 10, 12, 0, tzinfo=VN), 7)
    figures = await figures_of(stats_engine, period, Scope.everything())
    assert summary_html(figures, Scope.everything()) == texts.STATS_SUMMARY.format(
        days=7,
        first="04/01/2025",
        last="10/01/2025",
        scope="toàn quốc",
        questions=0,
        askers=0,
        answered_pct="–",
        clarified_pct="–",
        unknown_pct="–",
        helpful=0,
        not_helpful=0,
        opened=0,
        closed=0,
        open_now=0,
        median="–",
    )
    rows = csv_rows(days_csv(figures))
    assert len(rows) == 8 and rows[1] == ["2025-01-04", *["0"] * 9, ""]
    assert csv_rows(topics_csv(figures, TITLES)) == [list(texts.CSV_TOPIC_HEADER)]


def test_number_formats() -> None:
    assert (percent(1, 3), percent(2, 3), percent(0, 5), percent(0, 0)) == ("33,3%", "66,7%", "0,0%", "–")
    assert (duration(None), duration(0.4), duration(59.4), duration(59.6), duration(135)) == (
        "–",
        "dưới 1 phút",
        "59 phút",
        "1 giờ 0 phút",
        "2 giờ 15 phút",
    )


def test_a_day_period_and_its_edges() -> None:
    period = Period.whole_day(date(2026, 3, 9))
    assert period.start == datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    week = Period.last_days(datetime(2026, 3, 9, 23, 30, tzinfo=UTC), 7)  # already the 10th in Vietnam
    assert (week.first_day, week.last_day) == (date(2026, 3, 4), date(2026, 3, 10))
