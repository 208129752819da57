"""The support desk in Telegram: opening tickets, relaying both ways, ticket buttons, the sweep,
and attaching support chats to provinces. Each module registers its own handlers."""

from __future__ import annotations

from bot.context import BotApplication
from bot.features.support import admin, buttons, opening, relay, sweep


def register(application: BotApplication) -> None:
    for module in (relay, opening, buttons, admin, sweep):
        module.register(application)
