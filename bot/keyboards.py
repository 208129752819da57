"""Inline keyboards; every callback data string comes from ``bot.callback_data``."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import texts
from bot.callback_data import (
    Action,
    ClarifyChoice,
    DomainMenu,
    Feedback,
    Handoff,
    MainMenu,
    MenuTopic,
    RelatedTopic,
    encode,
)
from knowledge.repository import KnowledgeSnapshot


def _button(text: str, action: Action) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=encode(action))


def main_menu(knowledge: KnowledgeSnapshot) -> InlineKeyboardMarkup:
    buttons = [_button(d.short_title, DomainMenu(d.key)) for d in knowledge.domains if d.topic_ids]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def domain_menu(knowledge: KnowledgeSnapshot, domain: str) -> InlineKeyboardMarkup:
    view = next(d for d in knowledge.domains if d.key == domain)
    rows = [[_button(knowledge.topics[t].title, MenuTopic(t))] for t in view.topic_ids]
    rows.append([_button(texts.BUTTON_BACK, MainMenu())])
    return InlineKeyboardMarkup(rows)


def topic_in_menu(domain: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(texts.BUTTON_BACK, DomainMenu(domain)), _button(texts.BUTTON_MENU, MainMenu())]]
    )


def menu_only() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(texts.BUTTON_MENU, MainMenu())]])


def answer(
    record_id: int, related: list[str], knowledge: KnowledgeSnapshot, *, feedback: bool = True
) -> InlineKeyboardMarkup:
    rows = []
    if feedback:
        rows.append(
            [
                _button(texts.BUTTON_HELPFUL, Feedback(record_id, True)),
                _button(texts.BUTTON_NOT_HELPFUL, Feedback(record_id, False)),
            ]
        )
    for topic_id in related[:3]:
        topic = knowledge.topics.get(topic_id)
        if topic is not None:
            rows.append([_button(texts.BUTTON_RELATED.format(title=topic.title), RelatedTopic(topic_id))])
    return InlineKeyboardMarkup(rows)


def clarify(record_id: int, candidates: list[str], knowledge: KnowledgeSnapshot) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(knowledge.topics[t].title, ClarifyChoice(record_id, t))] for t in candidates if t in knowledge.topics]
    )


def unknown(record_id: int, *, handoff: bool = True) -> InlineKeyboardMarkup:
    rows = [[_button(texts.BUTTON_MENU, MainMenu())]]
    if handoff:
        rows.append([_button(texts.BUTTON_HANDOFF, Handoff(record_id))])
    return InlineKeyboardMarkup(rows)
