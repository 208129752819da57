"""Telegram's HTML subset as plain code: checking it and measuring its visible length.

Used by knowledge validation (answers must render) and by the compose flow (announcement limits).
"""
