"""What several bot and sender processes share through the database.

- :mod:`coordination.models`: the tables (conversation state, leases, the shared Telegram
  rate budget, per-user rates).
- :mod:`coordination.conversations`: the step and data of multi-step flows, with a version
  that makes a double tap on two processes one write.
- :mod:`coordination.leases`: named leases (one process runs each scheduled job; record-id
  nodes; the one retraining) and the last period of once-a-day jobs.
- :mod:`coordination.userrate`: the per-user answer limit as one GCRA statement on PostgreSQL.
- :mod:`coordination.budget`: one Telegram rate budget for every broadcast sender, granted in
  short windows of slots; a 429 seen by one sender pauses all.
- :mod:`coordination.schedule`: handing a granted window's tokens out evenly on the local clock
  (pure, no database).
Plain code: no Telegram.
"""
