"""The support desk checked from outside: the real ``python -m bot run`` process against the fake Bot API.

Run 1 (``SUPPORT_CHAT_ID`` set): a member asks something the assistant does not know, taps the
hand-off button; an anonymous ticket must appear in the support chat; a supporter replies to it
and the reply must reach the member; a super-admin sends ``/thongke`` and must get charts.
Run 2 (no support chat): the same question must get no hand-off button and no promise of a person.

Prints one line per check and exits non-zero when any fails.

    .venv/bin/python scripts/blackbox_support_desk.py
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nlu.server import LocalRasaServer
from nlu.settings import PROJECT_ROOT, NluSettings
from storage.settings import StorageSettings
from tests.fake_bot_api import Call, FakeBotAPI

SUPPORT = -1_007_700_000_001
MEMBER = 7_700_001
SUPPORTER = 7_700_002
ADMIN = 7_700_003
QUESTION = "giá vàng hôm nay bao nhiêu một chỉ ạ"
HANDOFF_LABEL = "🙋 Gửi câu hỏi cho người hỗ trợ"
results: list[tuple[str, bool]] = []


def check(name: str, ok: bool) -> None:
    results.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'}  {name}", flush=True)


def labels(call: Call) -> list[tuple[str, str]]:
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


async def ask(fake: FakeBotAPI, chat: int, user: int, text: str, **kwargs: Any) -> Call:
    since = time.monotonic()
    fake.push_update(fake.make_text_message(chat, user, text, **kwargs))
    [call] = await fake.wait_for("sendMessage", lambda c: c.chat_id == chat, since=since, timeout=30)
    return call


async def with_bot(fake: FakeBotAPI, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    since = time.monotonic()
    with log.open("ab") as out:
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    await fake.wait_for("setMyCommands", count=2, since=since, timeout=180)
    return bot


async def stop(bot: subprocess.Popen[bytes]) -> None:
    bot.terminate()
    await asyncio.to_thread(bot.wait, 60)


async def run_with_desk(fake: FakeBotAPI, env: dict[str, str], log: Path) -> None:
    fake.add_chat(SUPPORT, "supergroup", "Nhóm hỗ trợ")
    fake.set_chat_admins(SUPPORT, [ADMIN, fake.bot_id])
    fake.set_chat_member_status(SUPPORT, SUPPORTER, "member")
    fake.add_user(MEMBER, first_name="Bà Năm", username="ba_nam_ha_tinh")
    bot = await with_bot(fake, {**env, "SUPPORT_CHAT_ID": str(SUPPORT)}, log)
    try:
        unknown = await ask(fake, MEMBER, MEMBER, QUESTION)
        handoff = [d for label, d in labels(unknown) if label == HANDOFF_LABEL]
        check("unknown question offers the hand-off button", bool(handoff))
        if not handoff:
            return
        since = time.monotonic()
        fake.push_update(fake.make_callback_query(MEMBER, MEMBER, unknown.result["message_id"], handoff[0]))
        [ticket] = await fake.wait_for("sendMessage", lambda c: c.chat_id == SUPPORT, since=since, timeout=30)
        text = ticket.params["text"]
        check("a ticket appears in SUPPORT_CHAT_ID", "Phiếu #" in text and QUESTION in text)
        check("the ticket is anonymous", "Bà Năm" not in text and "ba_nam" not in text and str(MEMBER) not in text)
        since = time.monotonic()
        reply = fake.make_text_message(
            SUPPORT, SUPPORTER, "Bác xem giá ở tiệm vàng gần nhà nhé", reply_to_message=ticket.result["message_id"]
        )
        fake.push_update(reply)
        [copied] = await fake.wait_for("copyMessage", lambda c: c.chat_id == MEMBER, since=since, timeout=30)
        stored = fake.message_of(copied) or {}
        check("the supporter's reply reaches the member", stored.get("text") == "Bác xem giá ở tiệm vàng gần nhà nhé")
        since = time.monotonic()
        fake.push_update(fake.make_text_message(ADMIN, ADMIN, "/thongke 7"))
        [album] = await fake.wait_for("sendMediaGroup", lambda c: c.chat_id == ADMIN, since=since, timeout=60)
        check("/thongke sends charts to a super-admin", album.ok and len(album.result) >= 1)
    finally:
        await stop(bot)


async def run_without_desk(fake: FakeBotAPI, env: dict[str, str], log: Path) -> None:
    bot = await with_bot(fake, {**env, "SUPPORT_CHAT_ID": ""}, log)
    try:
        member = MEMBER + 100
        unknown = await ask(fake, member, member, QUESTION)
        check("no support chat: no hand-off button", all(label != HANDOFF_LABEL for label, _ in labels(unknown)))
        check("no support chat: no promise of a person", "người hỗ trợ" not in unknown.params["text"])
    finally:
        await stop(bot)


async def main_async() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="blackbox-desk-"))
    source = Path(StorageSettings().database_url.split("///", 1)[1])
    shutil.copy(source, workdir / "assistant.db")
    database_url = f"sqlite+aiosqlite:///{workdir / 'assistant.db'}"
    log = workdir / "bot.log"
    with LocalRasaServer(NluSettings()) as rasa:
        async with FakeBotAPI() as fake:
            env = fake.child_env(
                database_url,
                RASA_URL=rasa.url,
                RASA_TOKEN=rasa.token,
                ADMIN_USER_IDS=str(ADMIN),
                PYTHONPATH=str(PROJECT_ROOT),
            )
            await run_with_desk(fake, env, log)
            await run_without_desk(fake, env, log)
    tracebacks = log.read_text(encoding="utf-8", errors="replace").count("Traceback")
    check("no tracebacks in the bot's log", tracebacks == 0)
    print(f"{sum(ok for _, ok in results)}/{len(results)} checks passed; bot log: {log}")
    return 0 if all(ok for _, ok in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main_async()))
