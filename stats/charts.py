"""The charts of ``/thongke`` as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

pyplot is never imported: it keeps global state (current figure, backend) that is not safe
off the main thread, and the bot renders in a worker thread (``asyncio.to_thread``) so the
event loop keeps answering. Each chart is its own ``Figure`` with its own ``FigureCanvasAgg``;
a lock still lets one rendering run at a time, because matplotlib's font and text caches are
shared by every figure and are not documented as thread-safe.

An empty period draws the chart's title and "no data" instead of axes, never an error.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from broadcasts.tags import PROVINCES
from stats.figures import PeriodFigures
from stats.summary import shorten
from texts import stats as texts

WIDTH_INCHES, HEIGHT_INCHES, DPI = 10.0, 5.6, 100
TOP_TOPICS = 10
TOP_PROVINCES = 15
TITLE_CHARS = 48
COLOURS = {"answered": "#2e7d32", "clarified": "#f9a825", "unknown": "#c62828", "helpful": "#1565c0"}
TICKET_COLOURS = ("#6a1b9a", "#00897b", "#ef6c00")  # opened, closed, median line
_render_lock = threading.Lock()


@dataclass(frozen=True)
class Chart:
    name: str  # file name, ends in .png
    png: bytes


def _figure(title: str, figures: PeriodFigures) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    period = texts.CHART_PERIOD.format(
        first=figures.period.first_day.strftime("%d/%m/%Y"), last=figures.period.last_day.strftime("%d/%m/%Y")
    )
    figure.suptitle(f"{title}\n{period}", fontsize=13)
    return figure, figure.add_subplot()


def _no_data(axes: Axes) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, texts.CHART_NO_DATA, ha="center", va="center", fontsize=14, color="#616161")


def _legend_below(figure: Figure) -> None:
    """One legend row under the axes for every labelled series (never over the data)."""
    figure.legend(loc="lower center", ncol=4, frameon=False)
    figure.subplots_adjust(bottom=0.18)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _day_axis(axes: Axes, figures: PeriodFigures) -> list[int]:
    """Positions 0…n-1 for the days, labelled dd/mm (about ten labels, whatever the period)."""
    positions = list(range(figures.period.day_count))
    step = max(1, math.ceil(len(positions) / 10))
    shown = positions[::step]
    axes.set_xticks(shown, [figures.period.days[i].strftime("%d/%m") for i in shown])
    axes.set_xlim(-0.6, len(positions) - 0.4)
    return positions


def questions_per_day(figures: PeriodFigures) -> bytes:
    figure, axes = _figure(texts.CHART_QUESTIONS_TITLE, figures)
    if figures.questions == 0:
        _no_data(axes)
        return _png(figure)
    positions = _day_axis(axes, figures)
    bottom = [0] * len(positions)
    for name, label in (
        ("answered", texts.CHART_ANSWERED),
        ("clarified", texts.CHART_CLARIFIED),
        ("unknown", texts.CHART_UNKNOWN),
    ):
        values = [int(getattr(day, name)) for day in figures.days]
        axes.bar(positions, values, bottom=bottom, label=label, color=COLOURS[name], width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel(texts.CHART_QUESTIONS_AXIS)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    _legend_below(figure)
    return _png(figure)


def top_topics(figures: PeriodFigures, titles: Mapping[str, str]) -> bytes:
    figure, axes = _figure(texts.CHART_TOPICS_TITLE, figures)
    topics = figures.topics[:TOP_TOPICS]
    if not topics:
        _no_data(axes)
        return _png(figure)
    topics = list(reversed(topics))  # the most asked at the top
    labels = [shorten(titles.get(t.topic_id, t.topic_id), TITLE_CHARS) for t in topics]
    bars = axes.barh(range(len(topics)), [t.questions for t in topics], color=COLOURS["helpful"])
    axes.set_yticks(range(len(topics)), labels)
    axes.bar_label(bars, padding=3)
    axes.set_xlabel(texts.CHART_QUESTIONS_AXIS)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.subplots_adjust(left=0.38)
    return _png(figure)


def _rate(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else math.nan


def rates_over_time(figures: PeriodFigures) -> bytes:
    figure, axes = _figure(texts.CHART_RATES_TITLE, figures)
    if figures.questions == 0:
        _no_data(axes)
        return _png(figure)
    positions = _day_axis(axes, figures)
    unknown = [_rate(day.unknown, day.questions) for day in figures.days]
    helpful = [_rate(day.helpful, day.helpful + day.not_helpful) for day in figures.days]
    axes.plot(positions, unknown, marker="o", color=COLOURS["unknown"], label=texts.CHART_UNKNOWN_RATE)
    axes.plot(positions, helpful, marker="s", color=COLOURS["helpful"], label=texts.CHART_HELPFUL_RATE)
    axes.set_ylim(0, 105)
    axes.set_ylabel(texts.CHART_PERCENT_AXIS)
    axes.grid(alpha=0.3)
    _legend_below(figure)
    return _png(figure)


def tickets_per_day(figures: PeriodFigures) -> bytes:
    figure, axes = _figure(texts.CHART_TICKETS_TITLE, figures)
    if figures.total("tickets_opened") == 0 and figures.total("tickets_closed") == 0:
        _no_data(axes)
        return _png(figure)
    positions = _day_axis(axes, figures)
    opened_colour, closed_colour, median_colour = TICKET_COLOURS
    opened = [d.tickets_opened for d in figures.days]
    closed = [d.tickets_closed for d in figures.days]
    axes.bar([p - 0.2 for p in positions], opened, width=0.4, color=opened_colour, label=texts.CHART_TICKETS_OPENED)
    axes.bar([p + 0.2 for p in positions], closed, width=0.4, color=closed_colour, label=texts.CHART_TICKETS_CLOSED)
    axes.set_ylabel(texts.CHART_TICKETS_AXIS)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    medians = [math.nan if d.median_first_response is None else d.median_first_response for d in figures.days]
    if any(not math.isnan(m) for m in medians):
        minutes = axes.twinx()
        minutes.plot(positions, medians, marker="D", color=median_colour, label=texts.CHART_MEDIAN_RESPONSE)
        minutes.set_ylabel(texts.CHART_MINUTES_AXIS)
        minutes.set_ylim(bottom=0)
    _legend_below(figure)
    return _png(figure)


def by_province(figures: PeriodFigures) -> bytes:
    figure, axes = _figure(texts.CHART_PROVINCES_TITLE, figures)
    known = [p for p in figures.provinces if p.province is not None and p.questions][:TOP_PROVINCES]
    unknown = [p for p in figures.provinces if p.province is None and p.questions]
    shown = list(reversed(known + unknown))  # the most asked at the top, "unknown province" at the bottom
    if not shown:
        _no_data(axes)
        return _png(figure)
    names = [PROVINCES.get(p.province, p.province) if p.province else texts.CHART_UNKNOWN_PROVINCE for p in shown]
    left = [0] * len(shown)
    for name, label in (
        ("answered", texts.CHART_ANSWERED),
        ("clarified", texts.CHART_CLARIFIED),
        ("unknown", texts.CHART_UNKNOWN),
    ):
        values = [int(getattr(p, name)) for p in shown]
        axes.barh(range(len(shown)), values, left=left, color=COLOURS[name], label=label)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(range(len(shown)), names)
    axes.set_xlabel(texts.CHART_QUESTIONS_AXIS)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    _legend_below(figure)
    figure.subplots_adjust(left=0.2)
    return _png(figure)


def render_charts(figures: PeriodFigures, topic_titles: Mapping[str, str]) -> list[Chart]:
    """Every chart of the period, in the order they are sent (blocking: run it in a worker thread)."""
    drawers: Sequence[tuple[str, Callable[[], bytes]]] = (
        ("thongke-cau-hoi.png", lambda: questions_per_day(figures)),
        ("thongke-chu-de.png", lambda: top_topics(figures, topic_titles)),
        ("thongke-ti-le.png", lambda: rates_over_time(figures)),
        ("thongke-phieu.png", lambda: tickets_per_day(figures)),
        ("thongke-tinh.png", lambda: by_province(figures)),
    )
    with _render_lock:
        return [Chart(name, draw()) for name, draw in drawers]
