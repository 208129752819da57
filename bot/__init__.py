"""Telegram wiring and command-line entry points; the only layer that knows both nlu and knowledge."""
