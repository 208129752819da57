"""Curated knowledge base: content files, validation, SQLAlchemy models and repository.

Never imports ``telegram`` or ``nlu``; the bot layer joins them.
"""
