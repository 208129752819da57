"""The HTML summary of ``/thongke`` and the number formats it shares with the digest."""

from __future__ import annotations

import html

from broadcasts.scope import Scope, ScopeKind
from broadcasts.tags import describe_tag
from stats.figures import PeriodFigures
from texts import stats as texts

DATE_FORMAT = "%d/%m/%Y"


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def percent(part: int, whole: int) -> str:
    """``42,9%`` (one decimal, Vietnamese comma); a dash when there is nothing to divide."""
    if whole == 0:
        return texts.NO_VALUE
    return f"{100 * part / whole:.1f}".replace(".", ",") + "%"


def duration(minutes: float | None) -> str:
    """Whole minutes, or hours and minutes from one hour on; a dash when unknown."""
    if minutes is None:
        return texts.NO_VALUE
    if minutes < 1:
        return texts.DURATION_UNDER_MINUTE
    whole = round(minutes)
    if whole < 60:
        return texts.DURATION_MINUTES.format(minutes=whole)
    return texts.DURATION_HOURS.format(hours=whole // 60, minutes=whole % 60)


def scope_description(scope: Scope) -> str:
    """The scope in words, HTML-escaped: "toàn quốc" or the tags as people read them."""
    if scope.kind is ScopeKind.EVERYTHING:
        return texts.STATS_SCOPE_ALL
    return html.escape(", ".join(describe_tag(tag) for tag in sorted(scope.tags)))


def key_numbers(figures: PeriodFigures, open_now: int | None = None) -> dict[str, object]:
    """The figures both the summary and the digest show, formatted; ``open_now`` replaces the period's end count."""
    questions = figures.questions
    return {
        "questions": questions,
        "askers": figures.askers,
        "answered_pct": percent(figures.total("answered"), questions),
        "clarified_pct": percent(figures.total("clarified"), questions),
        "unknown_pct": percent(figures.total("unknown"), questions),
        "helpful": figures.total("helpful"),
        "not_helpful": figures.total("not_helpful"),
        "opened": figures.total("tickets_opened"),
        "closed": figures.total("tickets_closed"),
        "open_now": figures.tickets_open_at_end if open_now is None else open_now,
        "median": duration(figures.median_first_response),
    }


def summary_html(figures: PeriodFigures, scope: Scope) -> str:
    period = figures.period
    return texts.STATS_SUMMARY.format(
        days=period.day_count,
        first=period.first_day.strftime(DATE_FORMAT),
        last=period.last_day.strftime(DATE_FORMAT),
        scope=scope_description(scope),
        **key_numbers(figures),
    )
