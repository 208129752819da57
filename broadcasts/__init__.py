"""Announcements to many team groups: the group registry and tags, roles and scope, the outbox.

No Telegram imports: the sender in ``bot/sender`` and the features in ``bot/features`` drive it.
"""
