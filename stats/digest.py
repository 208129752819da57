"""The daily digest for the default support chat: yesterday's figures and what went unanswered.

Only text is built here; ``bot/features/stats.py`` decides when to send it and makes sure a
day's digest goes out once (``post_digest`` there, with ``bot.jobs.once_per_period``).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from broadcasts.scope import Scope
from stats.figures import Period, PeriodFigures, StatsRepository, UnansweredQuestion, vietnam_day
from stats.summary import DATE_FORMAT, key_numbers, shorten
from texts import stats as texts

QUESTION_CHARS = 90


def digest_day(now: datetime) -> date:
    """The Vietnam day a digest sent at ``now`` is about: yesterday."""
    return vietnam_day(now) - timedelta(days=1)


def digest_html(figures: PeriodFigures, unanswered: Sequence[UnansweredQuestion], open_now: int) -> str:
    day = figures.period.first_day.strftime(DATE_FORMAT)
    text = texts.DIGEST.format(day=day, **key_numbers(figures, open_now))
    if unanswered:
        lines = "\n".join(
            texts.DIGEST_UNANSWERED_LINE.format(text=html.escape(shorten(q.text, QUESTION_CHARS)), count=q.count)
            for q in unanswered
        )
        text += texts.DIGEST_UNANSWERED.format(lines=lines)
    return text


async def build_digest(repository: StatsRepository, now: datetime) -> str:
    """Yesterday's digest as of ``now``, over everything (the default support chat serves everyone).

    The day's figures are as the day ended; the open tickets are those still open ``now``.
    """
    period = Period.whole_day(digest_day(now))
    scope = Scope.everything()
    figures = await repository.figures(period, scope)
    unanswered = await repository.unanswered(period, scope)
    return digest_html(figures, unanswered, await repository.open_tickets(scope, now))
