"""A burst against the real bot process: writes from every path at once, plus odd updates.

A real ``python -m bot run`` process (SQLite by default, or ``--database-url``) against the fake
Bot API server and a real Rasa. In one burst, without waiting between updates:

- ``--questions`` questions from as many users (a question record each),
- ``--groups`` groups adding the bot, and their admins tagging them with ``/gan_the`` (registry writes),
- ``--odd`` odd updates (``tests/odd_updates.py``: the fuzz test's kinds, seeded),

then, as soon as the answers arrive, 👍/👎 on every answer and a hand-off on every "unknown"
(record reads and writes). Prints what was lost and counts the bot log's tracebacks,
"database is locked" and error-handler entries — all must be 0.

    .venv/bin/python bench/odd_burst.py [--questions 1000] [--groups 300] [--odd 1500]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broadcasts.models import Group
from nlu.server import LocalRasaServer
from nlu.settings import PROJECT_ROOT, NluSettings
from records.models import QuestionRecord
from storage.engine import create_engine, session_factory
from storage.settings import StorageSettings
from support.models import Ticket
from tests.fake_bot_api import Call, FakeBotAPI
from tests.odd_updates import ADMIN, random_update

QUESTIONS = ["kich hoat vneid muc 2 o dau", "quen mat khau vneid", "nop phat nguoi online", "gia vang hom nay"]
FIRST_USER, FIRST_GROUP = 3_000_000, -1_005_000_000_000


def record_buttons(call: Call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


async def burst(fake: FakeBotAPI, args: argparse.Namespace) -> dict[str, int]:
    rng = random.Random(args.seed)
    users = range(FIRST_USER, FIRST_USER + args.questions)
    groups = [FIRST_GROUP - i for i in range(args.groups)]
    for chat_id in groups:
        fake.set_chat_member_status(chat_id, ADMIN, "administrator")
    started = time.monotonic()
    updates = [fake.make_text_message(u, u, f"{QUESTIONS[u % len(QUESTIONS)]} {u}") for u in users]
    for i, chat_id in enumerate(groups):
        updates.append(fake.make_my_chat_member(chat_id, f"Tổ thôn {i}", "supergroup", "left", "member", ADMIN))
        updates.append(fake.make_text_message(chat_id, ADMIN, f"/gan_the nhan nhãn {i % 7}", chat_type="supergroup"))
    updates += [random_update(rng)(fake) for _ in range(args.odd)]
    rng.shuffle(updates)
    for update in updates:
        fake.push_update(update)
    answers = await fake.wait_for(
        "sendMessage", lambda c: c.ok and (c.chat_id or 0) in users, count=args.questions, timeout=600
    )
    pressed: set[str] = set()
    for answer in answers:
        data = next((d for d in record_buttons(answer) if d.startswith(("f:", "h:"))), None)
        if data is not None:
            assert answer.chat_id is not None and answer.result is not None
            press = fake.make_callback_query(answer.chat_id, answer.chat_id, answer.result["message_id"], data)
            pressed.add(press["callback_query"]["id"])
            fake.push_update(press)
    presses = len(pressed)
    await fake.wait_for(
        "answerCallbackQuery",
        lambda c: c.ok and c.params.get("callback_query_id") in pressed,
        count=presses,
        timeout=600,
    )
    await fake.wait_updates_consumed(timeout=600)
    elapsed = time.monotonic() - started
    return {"updates": len(updates) + presses, "presses": presses, "seconds": round(elapsed)}


async def main_async(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="odd-burst-"))
    database_url = args.database_url
    if database_url is None:
        source = Path(StorageSettings().database_url.split("///", 1)[1])
        shutil.copy(source, workdir / "assistant.db")
        database_url = f"sqlite+aiosqlite:///{workdir / 'assistant.db'}"
    log_path = workdir / "bot.log"
    with LocalRasaServer(NluSettings()) as rasa:
        async with FakeBotAPI() as fake:
            env = fake.child_env(
                database_url,
                RASA_URL=rasa.url,
                RASA_TOKEN=rasa.token,
                ADMIN_USER_IDS=str(ADMIN),
                RATE_LIMIT_BURST="1000000",
                LOG_LEVEL="WARNING",
                PYTHONPATH=str(PROJECT_ROOT),
            )
            with log_path.open("wb") as log:
                bot = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
                try:
                    await fake.wait_for("setMyCommands", count=2, timeout=120)
                    figures = await burst(fake, args)
                finally:
                    bot.terminate()
                    await asyncio.to_thread(bot.wait, 60)  # the fake server must keep answering meanwhile
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        records = await session.scalar(
            select(func.count()).select_from(QuestionRecord).where(QuestionRecord.user_id >= FIRST_USER)
        )
        rated = await session.scalar(
            select(func.count()).select_from(QuestionRecord).where(QuestionRecord.feedback.is_not(None))
        )
        handoffs = await session.scalar(select(func.count()).select_from(Ticket))
        registered = await session.scalar(select(func.count()).select_from(Group).where(Group.chat_id <= FIRST_GROUP))
    await engine.dispose()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    print(f"burst: {figures['updates']} updates in {figures['seconds']} s ({database_url.split(':', 1)[0]})")
    print(f"question records stored: {records} of {args.questions}")
    print(f"feedback + hand-offs stored: {rated} + {handoffs} of {figures['presses']} presses")
    print(f"groups registered: {registered} of {args.groups}")
    problems = {
        "tracebacks": text.count("Traceback"),
        "database is locked": text.count("database is locked"),
        "error handler entries": text.count("error while handling an update"),
    }
    for name, count in problems.items():
        print(f"{name} in the bot log: {count}")
    lost = (args.questions - (records or 0)) + (figures["presses"] - (rated or 0) - (handoffs or 0))
    lost += args.groups - (registered or 0)
    print(f"lost writes: {lost}")
    if lost or any(problems.values()):
        print(f"bot log kept at {log_path}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=300)
    parser.add_argument("--odd", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a copy of the set-up's SQLite database")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
