"""Telegram features, one module each; every module registers its own handlers and buttons.

``FEATURES`` is only the order of registration (within one handler group the first matching
handler wins): the compose conversation first, so that its steps take the messages they wait
for; unknown commands and unclaimed buttons last.
"""

from __future__ import annotations

from bot.context import BotApplication
from bot.features import (
    acknowledgements,
    answers,
    compose,
    group_search,
    groups,
    inline,
    learning,
    menu,
    private,
    progress,
    registry,
    reports,
    roles,
    stale,
    stats,
    support,
    tags,
)

FEATURES = (
    compose,
    reports,
    acknowledgements,
    group_search,
    roles,
    registry,
    tags,
    support,
    learning,
    private,
    groups,
    menu,
    answers,
    inline,
    progress,
    stats,
)


def register_all(application: BotApplication) -> None:
    for feature in FEATURES:
        feature.register(application)
    private.register_last(application)
    stale.register(application)
