"""The learning loop in Telegram: curators, the ``/hopthu`` inbox, ``/huanluyen`` retraining (and its
schedule), ``/phienban`` versions and rollback. Each module registers its own handlers."""

from __future__ import annotations

from bot.context import BotApplication


def register(application: BotApplication) -> None:
    from bot.features.learning import curators, inbox, training, versions

    for module in (curators, inbox, training, versions):
        module.register(application)
