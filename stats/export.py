"""The CSV export of a period: one file with a row per day, one with a row per topic.

Two files rather than two sections in one: each opens as a clean table in a spreadsheet
and reads with any CSV library. UTF-8 with a byte-order mark (Excel then shows Vietnamese
right) and CRLF line ends, like the broadcast failure CSV. No names or phone numbers: only
counts, topic ids and titles.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from stats.figures import PeriodFigures
from texts import stats as texts


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def minutes_cell(minutes: float | None) -> str:
    """Minutes with one decimal (a dot, as CSV readers expect), empty when unknown."""
    return "" if minutes is None else f"{minutes:.1f}"


def days_csv(figures: PeriodFigures) -> bytes:
    return _csv(
        texts.CSV_DAY_HEADER,
        (
            (
                day.day.isoformat(),
                day.questions,
                day.askers,
                day.answered,
                day.clarified,
                day.unknown,
                day.helpful,
                day.not_helpful,
                day.tickets_opened,
                day.tickets_closed,
                minutes_cell(day.median_first_response),
            )
            for day in figures.days
        ),
    )


def topics_csv(figures: PeriodFigures, titles: Mapping[str, str]) -> bytes:
    return _csv(
        texts.CSV_TOPIC_HEADER,
        (
            (topic.topic_id, titles.get(topic.topic_id, ""), topic.questions, topic.helpful, topic.not_helpful)
            for topic in figures.topics
        ),
    )


def file_names(figures: PeriodFigures) -> tuple[str, str]:
    """The days file's and the topics file's names."""
    period = {"first": figures.period.first_day.isoformat(), "last": figures.period.last_day.isoformat()}
    return texts.CSV_DAYS_FILENAME.format(**period), texts.CSV_TOPICS_FILENAME.format(**period)
