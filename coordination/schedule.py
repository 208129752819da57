"""The local half of the shared rate budget: granted windows as tokens, on this process's clock.

Pure (no database, no Telegram): :class:`TokenSchedule` hands out the tokens of granted windows
one every ``spacing`` seconds and drops those too late or inside a pause; :class:`ClockOffset`
turns the database's clock into the local monotonic one. Used by :mod:`coordination.budget`.
"""

from __future__ import annotations

import bisect
import math
from collections import deque

LATE_SECONDS = 0.01  # a token not used within this long after its slot is dropped (the local bucket saves up as much)
OFFSET_SAMPLES = 32  # clock offset: the grant with the shortest round trip among the last ones


class TokenSchedule:
    """Granted tokens on the local clock: window ``i`` has ``count`` tokens at ``start + k·spacing``."""

    def __init__(self, late: float = LATE_SECONDS) -> None:
        self.late = late
        self._windows: list[list[float]] = []  # [next token time, spacing, tokens left], by time
        self.dropped = 0  # tokens never handed out (inside a pause, or too late)

    def __len__(self) -> int:
        return int(sum(window[2] for window in self._windows))

    def add(self, start: float, spacing: float, count: int) -> None:
        if count > 0:
            bisect.insort(self._windows, [start, spacing, float(count)])

    def drop_before(self, moment: float) -> int:
        """Drop every token due before ``moment`` (a pause, or too late to use); how many."""
        dropped = 0
        for window in self._windows:
            first, spacing, left = window
            if first >= moment:
                continue
            # Tokens at first + k·spacing < moment (a hair of float noise is forgiven).
            skip = min(left, math.ceil((moment - first) / spacing - 1e-9)) if spacing > 0 else left
            window[0] = first + skip * spacing
            window[2] = left - skip
            dropped += int(skip)
        self._windows = [window for window in self._windows if window[2] > 0]
        self.dropped += dropped
        return dropped

    def next_at(self, now: float) -> float | None:
        """When the next usable token is due (may be ``<= now``: take it); None: none left."""
        self.drop_before(now - self.late)
        return self._windows[0][0] if self._windows else None

    def take(self) -> None:
        window = self._windows[0]
        window[0] += window[1]
        window[2] -= 1
        if window[2] <= 0:
            self._windows.pop(0)

    def clear(self) -> None:
        self._windows.clear()


class ClockOffset:
    """The database's clock minus the local monotonic clock, from grants (NTP-style).

    A sample is ``db_now - (sent + received) / 2``, wrong by at most half its round trip; the
    sample with the shortest round trip of the last few is used, so a grant that waited for the
    row lock or a slow network does not move our windows.
    """

    def __init__(self, keep: int = OFFSET_SAMPLES) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (round trip, offset)

    def add(self, db_now: float, sent: float, received: float) -> None:
        self._samples.append((received - sent, db_now - (sent + received) / 2))

    def __len__(self) -> int:
        return len(self._samples)

    def local(self, db_time: float) -> float:
        return db_time - min(self._samples)[1]
