"""The acknowledgement section of a report within Telegram's limit, the reminder's text, the setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from broadcasts.acknowledgements import Place, Places, Reminder, ReminderState, Totals, reminder_text
from broadcasts.models import Announcement
from broadcasts.reports import AckReport, acknowledgement_text, place_line
from broadcasts.settings import AcknowledgementSettings
from broadcasts.tags import PROVINCES
from markup.telegram_html import html_problems, visible_length
from texts import acknowledgements as say

DUE = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam


def report(
    provinces: int = 3, communes: int = 3, reminder: ReminderState | None = None, **changes: object
) -> AckReport:
    keys = list(PROVINCES)
    values: dict[str, object] = {
        "announcement_id": 7,
        "totals": Totals(groups=120, sent=110, acked=60, waiting=50),
        "provinces": Places([Place(keys[i], None, 40, 37, 20, 17) for i in range(provinces)], provinces + 5),
        "communes": Places(
            [Place(keys[i], f"Xã <Số {i}> & co", 10, 10, 4, 6) for i in range(communes)], communes + 900
        ),
        "reminder": reminder or ReminderState(Reminder.TOO_EARLY, waiting=50, due_at=DUE),
    }
    values.update(changes)
    return AckReport(**values)  # type: ignore[arg-type]


def test_the_section_shows_totals_places_and_when_a_reminder_is_possible() -> None:
    text = acknowledgement_text(report())
    assert "✅ Đã xác nhận: 60 nhóm · ⏳ Chưa xác nhận: 50 nhóm (trong 110 nhóm đã nhận tin)" in text
    assert "• Hà Nội: ✅ 20 · ⏳ 17" in text
    assert "• Xã &lt;Số 0&gt; &amp; co (Hà Nội): ✅ 4 · ⏳ 6" in text  # typed names are escaped
    assert say.MORE_PROVINCES.format(count=5) in text and say.MORE_COMMUNES.format(count=900) in text
    assert "Từ 08:00 02/12 bạn có thể gửi một lời nhắc" in text  # Vietnam time
    assert html_problems(text) == []


def test_the_reminder_line_names_the_button_only_when_there_is_one() -> None:
    allowed = ReminderState(Reminder.ALLOWED, waiting=50, due_at=DUE)
    with_button = acknowledgement_text(report(reminder=allowed), button=True)
    without = acknowledgement_text(report(reminder=allowed), button=False)
    assert say.REMINDER_READY.format(count=50) in with_button
    assert "nút" not in without and "/baocao 7" in without
    sent = acknowledgement_text(report(reminder=ReminderState(Reminder.ALREADY, reminder_id=9)))
    assert say.REMINDER_SENT.format(id=9) in sent
    for quiet in (Reminder.NOBODY, Reminder.NOT_DONE, Reminder.NO_BUTTON):
        assert "🔔" not in acknowledgement_text(report(reminder=ReminderState(quiet)))


@pytest.mark.parametrize("room", [4096, 1500, 700, 300])
def test_places_are_dropped_until_the_section_fits(room: int) -> None:
    long_name = ("Xã " + "Ngọc Lặc Thượng " * 4)[:64]  # tags hold at most 64 characters
    base = report(provinces=10, communes=10)
    big = AckReport(
        7,
        totals=base.totals,
        provinces=base.provinces,
        communes=Places([place._replace(commune=long_name) for place in base.communes.top], 3300),
        reminder=base.reminder,
    )
    full, text = acknowledgement_text(big), acknowledgement_text(big, room=room)
    assert visible_length(text) <= room and "Đã xác nhận: 60" in text
    if visible_length(full) <= room:
        assert text == full
    else:
        assert text.count("\n• ") < full.count("\n• ")
        if "Theo xã/phường" in text:  # communes go first, provinces only when no commune is left
            assert text.count("(nhiều nhóm") == 2 and all(f"• {PROVINCES[k]}:" in text for k in list(PROVINCES)[:10])


def test_a_reminders_report_points_to_the_original() -> None:
    assert acknowledgement_text(AckReport(9, reminder_of=7)) == say.OF_REMINDER.format(original=7)


def test_untagged_places_are_named() -> None:
    assert place_line(Place(None, None, 1, 1, 0, 1), commune=False) == "• Chưa gắn tỉnh: ✅ 0 · ⏳ 1"
    assert place_line(Place("ca_mau", None, 1, 1, 0, 1), commune=True) == "• Chưa gắn xã/phường (Cà Mau): ✅ 0 · ⏳ 1"


def test_the_reminder_puts_its_header_above_the_original_unless_too_long() -> None:
    text = Announcement(kind="text", text="<b>Họp tổ</b> lúc 8h")
    assert reminder_text(text, "HEADER", "SHORT") == "HEADER\n\n<b>Họp tổ</b> lúc 8h"
    long_text = Announcement(kind="text", text="a" * 4090)
    assert reminder_text(long_text, "HEADER", "SHORT") == "SHORT"
    photo = Announcement(kind="photo", text="c" * 1020, file_id="F")  # captions hold 1,024
    assert reminder_text(photo, "HEADER", "SHORT") == "SHORT"
    bare = Announcement(kind="document", text="", file_id="F")
    assert reminder_text(bare, "HEADER", "SHORT") == "HEADER"
    assert visible_length(say.REMINDER_HEADER) < 200 and html_problems(say.REMINDER_TOO_LONG) == []


def test_the_reminder_delay_is_a_validated_setting() -> None:
    def read(**values: object) -> AcknowledgementSettings:
        return AcknowledgementSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]

    assert read().reminder_after == timedelta(hours=24)
    assert read(ack_reminder_after_hours="1.5").reminder_after == timedelta(minutes=90)  # as the environment gives it
    for bad in (-1, 24 * 31, "soon"):
        with pytest.raises(ValidationError):
            read(ack_reminder_after_hours=bad)
