"""Render the example chart of docs/statistics.md from a made-up, seeded database.

    .venv/bin/python scripts/render_example_charts.py            # docs/images/thongke-questions.png
    .venv/bin/python scripts/render_example_charts.py --all DIR  # every chart of /thongke into DIR

The data are invented (a fixed random seed, so the picture only changes when the code does):
30 days of questions in a few provinces' groups and private chats, with feedback and tickets.
Nothing here touches the real database: a temporary SQLite file is made and thrown away.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from broadcasts.models import Group, GroupTag  # noqa: E402
from broadcasts.scope import Scope  # noqa: E402
from records.models import QuestionRecord  # noqa: E402
from stats.charts import render_charts  # noqa: E402
from stats.figures import VIETNAM, Period, StatsRepository  # noqa: E402
from storage.engine import create_engine, create_schema, session_factory  # noqa: E402
from support.models import MemberProvince, Ticket  # noqa: E402

DOC_IMAGE = ROOT / "docs" / "images" / "thongke-questions.png"
NOW = datetime(2026, 3, 31, 18, 0, tzinfo=VIETNAM)
DAYS = 30
TOPICS = {
    "vneid_kich_hoat": "Kích hoạt tài khoản định danh điện tử mức 2",
    "dvc_nop_ho_so": "Nộp hồ sơ trên Cổng dịch vụ công",
    "tmdt_postmart": "Bán hàng trên Postmart",
    "attt_bi_lua": "Bị lừa đảo qua mạng thì làm gì",
    "onetouch_dang_ky": "Đăng ký học trên OneTouch",
}
PROVINCES = ("ha_noi", "nghe_an", "lao_cai", "ca_mau")


def example_rows(rng: random.Random) -> list[object]:
    rows: list[object] = []
    for index, province in enumerate(PROVINCES):
        rows.append(
            Group(
                chat_id=-1000 - index,
                title=f"Tổ {province}",
                chat_type="supergroup",
                tags=[GroupTag(kind="tinh", key=province, display=province)],
            )
        )
    rows += [MemberProvince(user_id=user, province=rng.choice(PROVINCES)) for user in range(1, 80)]
    record_id = 0
    for day in range(DAYS):
        midnight = (NOW - timedelta(days=DAYS - 1 - day)).replace(hour=0, minute=0)
        for _ in range(rng.randint(20, 60) + day):
            record_id += 1
            user = rng.randint(1, 120)
            chat = user if rng.random() < 0.6 else -1000 - rng.randrange(len(PROVINCES))
            decision = rng.choices(("answer", "clarify", "unknown"), weights=(70, 12, 18 - day * 0.3))[0]
            topic = rng.choice(list(TOPICS)) if decision == "answer" else None
            feedback = rng.choices((1, -1, None), weights=(25, 5, 70))[0] if topic else None
            rows.append(
                QuestionRecord(
                    id=record_id,
                    created_at=(midnight + timedelta(minutes=rng.randint(360, 1380))).astimezone(UTC),
                    chat_type="private" if chat > 0 else "supergroup",
                    user_id=user,
                    chat_id=chat,
                    normalized_text="câu hỏi mẫu",
                    decision=decision,
                    topic_id=topic,
                    candidates=[],
                    confidence=0.8,
                    latency_ms=20.0,
                    nlu_source="rasa",
                    feedback=feedback,
                )
            )
        for _ in range(rng.randint(0, 4)):
            opened = (midnight + timedelta(minutes=rng.randint(420, 1200))).astimezone(UTC)
            responded = opened + timedelta(minutes=rng.randint(5, 180))
            closed = responded + timedelta(minutes=rng.randint(10, 600))
            done = closed < NOW.astimezone(UTC)
            rows.append(
                Ticket(
                    user_id=rng.randint(1, 120),
                    origin_chat_type="private",
                    origin_chat_id=1,
                    province=rng.choice(PROVINCES),
                    question="câu hỏi mẫu",
                    status="closed" if done else "open",
                    created_at=opened,
                    first_response_at=responded if responded < NOW.astimezone(UTC) else None,
                    closed_at=closed if done else None,
                )
            )
    return rows


async def render(out_dir: Path | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/example.db")
        await create_schema(engine)
        async with session_factory(engine)() as session, session.begin():
            session.add_all(example_rows(random.Random(7)))
        async with session_factory(engine)() as session:
            figures = await StatsRepository(session).figures(Period.last_days(NOW, DAYS), Scope.everything())
        await engine.dispose()
    charts = render_charts(figures, TOPICS)
    if out_dir is None:
        DOC_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        DOC_IMAGE.write_bytes(charts[0].png)
        print(DOC_IMAGE)
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for chart in charts:
        (out_dir / chart.name).write_bytes(chart.png)
        print(out_dir / chart.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--all", type=Path, metavar="DIR", help="write every chart into DIR instead")
    asyncio.run(render(parser.parse_args().all))


if __name__ == "__main__":
    main()
