"""The typed state every handler shares: ``BotData`` behind PTB's ``ContextTypes``.

``BotData`` is made empty by PTB when the application is built; ``configure`` gives it the
settings, and ``post_init`` (``bot.app``) opens the resources. Handlers read typed attributes
(``context.bot_data.sessions``, ``.answers``, ``.limiter``) instead of string keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from answering.ratelimit import RateLimiter
from answering.runtime import Runtime
from answering.service import AnswerService
from bot.settings import BotSettings
from coordination.conversations import ConversationIndex
from coordination.leases import LeaseKeeper
from knowledge.repository import KnowledgeSnapshot
from learning.publish import ModelPublisher
from learning.settings import LearningSettings
from nlu.settings import NluSettings
from storage.base import utc_now
from storage.settings import StorageSettings
from support.directory import SupportDirectory
from support.settings import SupportSettings

if TYPE_CHECKING:
    from bot.sender.runner import SenderTask


class NotReady(RuntimeError):
    """A handler ran before ``post_init`` opened the resources (or after shutdown)."""


@dataclass
class Open:
    """What ``post_init`` opens and ``post_shutdown`` closes."""

    runtime: Runtime
    answers: AnswerService
    limiter: RateLimiter
    exit_stack: AsyncExitStack
    directory: SupportDirectory
    publisher: ModelPublisher
    # This process's database leases: scheduled jobs, its record-id node, the one retraining.
    leases: LeaseKeeper
    # The per-message look-up of multi-step flows (``/thongbao``) in ``conversation_states``.
    conversations: ConversationIndex
    sender: SenderTask | None = None


@dataclass
class BotData:
    settings: BotSettings | None = None
    nlu_settings: NluSettings | None = None
    storage_settings: StorageSettings | None = None
    support_settings: SupportSettings | None = None
    learning_settings: LearningSettings | None = None
    opened: Open | None = None
    # The time as the desk and the statistics see it; tests put a fake clock here.
    clock: Callable[[], datetime] = utc_now
    # Per process on purpose (a cache): the progress job runs in one process at a time, and a
    # process taking it over edits each message once more at worst.
    # Broadcast progress figures last shown, per announcement: edit only when they change.
    progress_shown: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    # Support chats known to be forums (tickets get their own topic there); a fact about the chat,
    # the same in every process, so a per-process cache.
    forum_chats: dict[int, bool] = field(default_factory=dict)
    # The retraining this process runs now, if any; across processes the "retraining" lease
    # (``bot.features.learning.training``) makes it one at a time.
    retraining: asyncio.Task[None] | None = None

    def configure(
        self,
        settings: BotSettings,
        nlu: NluSettings,
        storage: StorageSettings,
        support: SupportSettings,
        learning: LearningSettings,
    ) -> None:
        self.settings, self.nlu_settings, self.storage_settings = settings, nlu, storage
        self.support_settings, self.learning_settings = support, learning

    @property
    def config(self) -> BotSettings:
        if self.settings is None:
            raise NotReady("the bot settings are not configured")
        return self.settings

    @property
    def support(self) -> SupportSettings:
        if self.support_settings is None:
            raise NotReady("the support settings are not configured")
        return self.support_settings

    @property
    def learning(self) -> LearningSettings:
        if self.learning_settings is None:
            raise NotReady("the learning settings are not configured")
        return self.learning_settings

    @property
    def ready(self) -> Open:
        if self.opened is None:
            raise NotReady("resources are not open (post_init has not run)")
        return self.opened

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.ready.runtime.sessions

    @property
    def answers(self) -> AnswerService:
        return self.ready.answers

    @property
    def knowledge(self) -> KnowledgeSnapshot:
        return self.ready.runtime.knowledge

    @property
    def limiter(self) -> RateLimiter:
        return self.ready.limiter

    @property
    def directory(self) -> SupportDirectory:
        return self.ready.directory

    @property
    def admin_ids(self) -> frozenset[int]:
        return self.config.admin_user_ids


BotContext: TypeAlias = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
BotApplication: TypeAlias = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[BotContext]
]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
