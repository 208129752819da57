"""The support desk in Telegram: opening tickets, relaying both ways, ticket buttons, the sweep,
and attaching support chats to provinces. Each module registers its own handlers.

The modules are imported in :func:`register`, not here: ``bot.features.answers`` needs
``support.availability`` while ``support.opening`` needs ``answers``, and importing the whole
package eagerly would make that a cycle.
"""

from __future__ import annotations

from bot.context import BotApplication


def register(application: BotApplication) -> None:
    from bot.features.support import admin, buttons, opening, relay, sweep

    for module in (relay, opening, buttons, admin, sweep):
        module.register(application)
