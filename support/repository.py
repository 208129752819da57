"""Tickets, support chats and members' provinces in the database; repositories never commit.

Replies find their ticket through stored (chat id, message id) pairs or the forum topic id,
never by reading the text of a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from broadcasts.registry import GroupRepository
from records.repository import mask_phone_numbers
from support.models import (
    CloseReason,
    EventKind,
    MemberProvince,
    MessageRole,
    SupportChat,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)


class SupportChatRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_province(self) -> dict[str, int]:
        rows = await self.session.execute(select(SupportChat.province, SupportChat.chat_id))
        return {province: chat_id for province, chat_id in rows.all()}

    async def attach(self, province: str, chat_id: int, added_by: int, now: datetime) -> None:
        """One chat per province; attaching again moves the province to this chat."""
        row = await self.session.get(SupportChat, province)
        if row is None:
            self.session.add(SupportChat(province=province, chat_id=chat_id, added_by=added_by, added_at=now))
        else:
            row.chat_id, row.added_by, row.added_at = chat_id, added_by, now
        await self.session.flush()

    async def detach(self, chat_id: int) -> list[str]:
        """Detach every province from ``chat_id``; returns the provinces it served."""
        provinces = list(await self.session.scalars(select(SupportChat.province).where(SupportChat.chat_id == chat_id)))
        await self.session.execute(delete(SupportChat).where(SupportChat.chat_id == chat_id))
        return sorted(provinces)

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: its provinces follow the new id."""
        for row in await self.session.scalars(select(SupportChat).where(SupportChat.chat_id == old_chat_id)):
            row.chat_id = new_chat_id


class MemberProvinceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> str | None:
        row = await self.session.get(MemberProvince, user_id)
        return row.province if row else None

    async def set(self, user_id: int, province: str, now: datetime) -> None:
        row = await self.session.get(MemberProvince, user_id)
        if row is None:
            self.session.add(MemberProvince(user_id=user_id, province=province, updated_at=now))
        else:
            row.province, row.updated_at = province, now
        await self.session.flush()


async def asker_province(session: AsyncSession, user_id: int, chat_id: int, chat_type: str) -> str | None:
    """The province of a question: its group's tag, else the province the member chose."""
    if chat_type != "private":
        group = await GroupRepository(session).by_chat(chat_id)
        if group is not None and group.province:
            return group.province
    return await MemberProvinceRepository(session).get(user_id)


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self.session.get(Ticket, ticket_id)

    async def by_record(self, record_id: int) -> Ticket | None:
        ticket: Ticket | None = await self.session.scalar(select(Ticket).where(Ticket.record_id == record_id))
        return ticket

    async def open(
        self,
        *,
        user_id: int,
        origin_chat_type: str,
        origin_chat_id: int,
        question: str,
        guesses: Sequence[str],
        province: str | None,
        now: datetime,
        record_id: int | None = None,
    ) -> tuple[Ticket, bool]:
        """A new open ticket, or the existing one of the same question record: (ticket, created?)."""
        if record_id is not None:
            existing = await self.by_record(record_id)
            if existing is not None:
                return existing, False
        ticket = Ticket(
            record_id=record_id,
            user_id=user_id,
            origin_chat_type=origin_chat_type,
            origin_chat_id=origin_chat_id,
            province=province,
            question=mask_phone_numbers(question),
            guesses=list(guesses),
            status=TicketStatus.OPEN,
            created_at=now,
        )
        self.session.add(ticket)
        await self.session.flush()
        await self.event(ticket, EventKind.OPENED, now)
        return ticket, True

    async def event(
        self, ticket: Ticket, kind: EventKind, now: datetime, *, actor_id: int | None = None, detail: str | None = None
    ) -> None:
        self.session.add(TicketEvent(ticket_id=ticket.id, kind=kind, actor_id=actor_id, at=now, detail=detail))
        await self.session.flush()

    async def remember(self, ticket: Ticket, role: MessageRole, chat_id: int, message_id: int, now: datetime) -> None:
        """Map a message to the ticket; a message already mapped keeps its ticket."""
        known = await self.session.scalar(
            select(TicketMessage.id).where(TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id)
        )
        if known is None:
            self.session.add(
                TicketMessage(ticket_id=ticket.id, role=role, chat_id=chat_id, message_id=message_id, created_at=now)
            )
            await self.session.flush()

    async def by_message(self, chat_id: int, message_id: int, roles: Sequence[MessageRole]) -> Ticket | None:
        ticket: Ticket | None = await self.session.scalar(
            select(Ticket)
            .join(TicketMessage, TicketMessage.ticket_id == Ticket.id)
            .where(
                TicketMessage.chat_id == chat_id,
                TicketMessage.message_id == message_id,
                TicketMessage.role.in_([str(role) for role in roles]),
            )
        )
        return ticket

    async def by_thread(self, support_chat_id: int, thread_id: int) -> Ticket | None:
        ticket: Ticket | None = await self.session.scalar(
            select(Ticket)
            .where(Ticket.support_chat_id == support_chat_id, Ticket.thread_id == thread_id)
            .order_by(Ticket.id.desc())
            .limit(1)
        )
        return ticket

    async def posted(
        self, ticket: Ticket, support_chat_id: int, header_message_id: int, thread_id: int | None, now: datetime
    ) -> None:
        ticket.support_chat_id, ticket.header_message_id = support_chat_id, header_message_id
        ticket.thread_id = thread_id
        await self.remember(ticket, MessageRole.HEADER, support_chat_id, header_message_id, now)
        await self.event(ticket, EventKind.POSTED, now, detail=str(support_chat_id))

    async def responded(self, ticket: Ticket, kind: EventKind, actor_id: int, now: datetime, detail: str = "") -> None:
        """A supporter's answer reached the member: the first one sets the first-response time."""
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        await self.event(ticket, kind, now, actor_id=actor_id, detail=detail or None)

    async def close(self, ticket: Ticket, reason: CloseReason, actor_id: int | None, now: datetime) -> bool:
        """Close an open ticket; False when it was closed already."""
        if ticket.status == TicketStatus.CLOSED:
            return False
        ticket.status, ticket.close_reason, ticket.closed_at = TicketStatus.CLOSED, reason, now
        await self.event(ticket, EventKind.CLOSED, now, actor_id=actor_id, detail=str(reason))
        return True

    async def rate(self, ticket: Ticket, helpful: bool, now: datetime) -> bool:
        """The member's 👍/👎 on a closed ticket, once; False if already rated or not closed."""
        if ticket.status != TicketStatus.CLOSED or ticket.rating is not None:
            return False
        ticket.rating = 1 if helpful else -1
        await self.event(ticket, EventKind.RATED, now, actor_id=ticket.user_id, detail=str(ticket.rating))
        return True

    async def unposted(self, limit: int = 50) -> list[Ticket]:
        """Open tickets not yet in any support chat (posting failed, or they predate the desk)."""
        query = (
            select(Ticket)
            .where(Ticket.status == TicketStatus.OPEN, Ticket.header_message_id.is_(None))
            .order_by(Ticket.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def due_reminder(self, now: datetime, after: timedelta, limit: int = 50) -> list[Ticket]:
        """Posted, unanswered tickets older than ``after`` that have not been raised again yet."""
        query = (
            select(Ticket)
            .where(
                Ticket.status == TicketStatus.OPEN,
                Ticket.header_message_id.is_not(None),
                Ticket.first_response_at.is_(None),
                Ticket.reminded_at.is_(None),
                Ticket.created_at <= now - after,
            )
            .order_by(Ticket.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def due_hotlines(self, now: datetime, after: timedelta, limit: int = 50) -> list[Ticket]:
        """Open tickets still unanswered after ``after``: the member gets the hotlines, once."""
        query = (
            select(Ticket)
            .where(
                Ticket.status == TicketStatus.OPEN,
                Ticket.first_response_at.is_(None),
                Ticket.hotlines_sent_at.is_(None),
                Ticket.created_at <= now - after,
            )
            .order_by(Ticket.id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def open_count(self) -> int:
        count = await self.session.scalar(select(func.count()).where(Ticket.status == TicketStatus.OPEN))
        return int(count or 0)
