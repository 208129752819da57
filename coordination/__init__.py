"""What several bot and sender processes share through the database.

- :mod:`coordination.models`: the tables (conversation state, leases, the shared Telegram
  rate budget, per-user rates).
Plain code: no Telegram.
"""
