"""Times as broadcasters type and read them: Vietnam time (UTC+7), stored in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from storage.base import as_utc

VIETNAM = timezone(timedelta(hours=7))


def parse_when(text: str, now: datetime) -> datetime | None:
    """``25/12/2026 08:00`` or ``08:00`` (today, Vietnam time) → an aware UTC datetime in the future."""
    text = text.strip()
    local_now = now.astimezone(VIETNAM)
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", text, flags=re.ASCII):
            clock = datetime.strptime(text, "%H:%M")
            moment = local_now.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
        elif re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}", text, flags=re.ASCII):
            moment = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=VIETNAM)
        else:
            return None
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment > local_now else None


def format_moment(moment: datetime | None, pattern: str = "%H:%M %d/%m") -> str:
    """A stored (UTC) time in Vietnam time; "–" for none."""
    return as_utc(moment).astimezone(VIETNAM).strftime(pattern) if moment else "–"
